/* SPDX-License-Identifier: Apache-2.0 */
/* gss_pseudo_random (RFC 4401): arguments onto core/prf.c's gp11_ctx_prf. */
#include "gp11_export.h"
#include "gp11_gss_export.h"
#include "gp11_gss.h"

#include <gssapi/gssapi_ext.h>
#include <stdlib.h>

OM_uint32 gp11_gss_pseudo_random(OM_uint32 *minor, gss_ctx_id_t context,
                                 int prf_key, const gss_buffer_t prf_in,
                                 ssize_t desired_output_len,
                                 gss_buffer_t prf_out)
{
    OM_uint32 major = gp11_out_start(minor, prf_out);
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    const uint8_t *in = NULL;
    size_t in_len = 0, len;
    uint8_t *out = NULL;
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
    if (prf_in != GSS_C_NO_BUFFER && prf_in->length) {
        if (prf_in->value == NULL)
            return GSS_S_CALL_INACCESSIBLE_READ;
        in = prf_in->value;
        in_len = prf_in->length;
    }
    len = (size_t)desired_output_len;
    /* 0 bytes: no buffer, but the core still checks the context. */
    if (len > 0 && (out = malloc(len)) == NULL)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    ret = gp11_ctx_prf(ctx, in, in_len, out, len);
    if (ret != GP11_OK) {
        free(out);
        return gp11_fail(minor, ret);
    }
    prf_out->value = out; /* {0, NULL} for 0 bytes */
    prf_out->length = len;
    return GSS_S_COMPLETE;
}
