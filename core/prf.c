/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The context's pseudo-random function in the token, docs/protocol.md 6:
 * SP 800-108 counter mode with HMAC-SHA-256 under the context's K_prf,
 * one C_Sign per 32 output bytes. The GSS face's gss_pseudo_random is
 * gss/prf.c.
 */
#include "gp11_export.h"
#include "gp11_error.h"

#include <string.h>

#define BLOCK 32

/* Output block i of the PRF into out (BLOCK bytes). */
static uint32_t prf_block(struct gp11_token *tok, const struct gp11_object *key,
                          uint32_t i, uint32_t bits, const uint8_t *in,
                          size_t in_len, uint8_t out[BLOCK])
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
    ret = gp11_mac(tok, CKM_SHA256_HMAC, key, fixed, n, in, in_len, out,
                   &mac_len);
    if (ret == GP11_OK && mac_len != BLOCK)
        ret = gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                           "HMAC-SHA-256 gave %zu bytes", mac_len);
    return ret;
}

uint32_t gp11_ctx_prf(struct gp11_ctx *ctx, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t len)
{
    uint8_t block[BLOCK];
    size_t done = 0;
    uint32_t ret;

    ret = gp11_ctx_usable(ctx);
    if (ret != GP11_OK)
        return ret;
    if (len > GP11_PRF_MAX)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "the pseudo-random function gives 0 to %u bytes, "
                            "not %zu",
                            GP11_PRF_MAX, len);
    if (gp11_ctx_time_left(ctx) == 0)
        return gp11_err_set(GP11_ERR_CONTEXT_EXPIRED,
                            "the security context expired");
    if (!ctx->keys.have_prf)
        return gp11_err_set(GP11_ERR_NO_CONTEXT, "the context has no PRF key");
    for (uint32_t i = 1; done < len; i++) {
        size_t take = len - done < BLOCK ? len - done : BLOCK;

        ret = prf_block(ctx->rt->tok, &ctx->keys.prf, i, (uint32_t)len * 8, in,
                        in_len, block);
        if (ret != GP11_OK) {
            gp11_wipe(out, len);
            ret = gp11_object_lost(ctx->rt->tok, &ctx->keys.prf, ret);
            goto done;
        }
        memcpy(out + done, block, take);
        done += take;
    }
done:
    gp11_wipe(block, sizeof(block));
    return ret;
}
