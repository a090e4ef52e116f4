/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gss_pseudo_random (RFC 4401) in the token, docs/protocol.md 6:
 * SP 800-108 counter mode with HMAC-SHA-256 under the context's K_prf,
 * one C_Sign per 32 output bytes.
 */
#include "gp11_export.h"
#include "gp11_gss.h"

#include <gssapi/gssapi_ext.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 32

/* Output block i of the PRF into out (BLOCK bytes). */
static uint32_t prf_block(struct gp11_token *tok, const struct gp11_object *key,
                          uint32_t i, uint32_t bits, const gss_buffer_t in,
                          uint8_t out[BLOCK])
{
    static const char label[] = GP11_PRF_LABEL;
    uint8_t fixed[4 + sizeof(label) + 4];
    size_t n = 0, mac_len = BLOCK;
    uint32_t ret;

    fixed[n++] = (uint8_t)(i >> 24);
    fixed[n++] = (uint8_t)(i >> 16);
    fixed[n++] = (uint8_t)(i >> 8);
    fixed[n++] = (uint8_t)i;
    memcpy(fixed + n, label, sizeof(label)); /* with its NUL (0x00) */
    n += sizeof(label);
    fixed[n++] = (uint8_t)(bits >> 24);
    fixed[n++] = (uint8_t)(bits >> 16);
    fixed[n++] = (uint8_t)(bits >> 8);
    fixed[n++] = (uint8_t)bits;
    ret = gp11_mac(tok, CKM_SHA256_HMAC, key, fixed, n, in ? in->value : NULL,
                   in ? in->length : 0, out, &mac_len);
    if (ret == GP11_OK && mac_len != BLOCK)
        ret = gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                           "HMAC-SHA-256 gave %zu bytes", mac_len);
    return ret;
}

OM_uint32 gp11_gss_pseudo_random(OM_uint32 *minor, gss_ctx_id_t context,
                                 int prf_key, const gss_buffer_t prf_in,
                                 ssize_t desired_output_len,
                                 gss_buffer_t prf_out)
{
    OM_uint32 major = gp11_out_start(minor, prf_out);
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    uint8_t block[BLOCK];
    uint8_t *out = NULL;
    size_t len, done = 0;
    uint32_t ret;

    if (major != GSS_S_COMPLETE)
        return major;
    ret = gp11_ctx_usable(ctx);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    /* One key serves both: K_prf comes from both sides' contributions,
     * and RFC 4401 lets FULL and PARTIAL name the same key. */
    if (prf_key != GSS_C_PRF_KEY_FULL && prf_key != GSS_C_PRF_KEY_PARTIAL)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_BAD_ARG,
                                             "unknown prf_key %d", prf_key));
    if (desired_output_len < 0 || desired_output_len > GP11_PRF_MAX)
        return gp11_fail(minor,
                         gp11_err_set(GP11_ERR_BAD_ARG,
                                      "gss_pseudo_random gives 0 to %u bytes, "
                                      "not %zd",
                                      GP11_PRF_MAX, desired_output_len));
    if (prf_in != GSS_C_NO_BUFFER && prf_in->length && prf_in->value == NULL)
        return GSS_S_CALL_INACCESSIBLE_READ;
    if (gp11_ctx_time_left(ctx) == 0)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_CONTEXT_EXPIRED,
                                             "the security context expired"));
    if (!ctx->keys.have_prf)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NO_CONTEXT,
                                             "the context has no PRF key"));
    len = (size_t)desired_output_len;
    if (len == 0)
        return GSS_S_COMPLETE; /* prf_out stays {0, NULL} */
    out = malloc(len);
    if (out == NULL)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    for (uint32_t i = 1; done < len; i++) {
        size_t take = len - done < BLOCK ? len - done : BLOCK;

        ret = prf_block(ctx->rt->tok, &ctx->keys.prf, i, (uint32_t)len * 8,
                        prf_in, block);
        if (ret != GP11_OK) {
            gp11_wipe(out, len);
            free(out);
            return gp11_fail(
                minor, gp11_object_lost(ctx->rt->tok, &ctx->keys.prf, ret));
        }
        memcpy(out + done, block, take);
        done += take;
    }
    gp11_wipe(block, sizeof(block));
    prf_out->value = out;
    prf_out->length = len;
    return GSS_S_COMPLETE;
}
