/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gss_export_sec_context / gss_import_sec_context(_by_mech): gss_buffer_t
 * and gss_ctx_id_t onto the engine's gp11_ctx_export / gp11_ctx_import
 * (core/ctx_export.c, docs/protocol.md 5).
 */
#include "gp11_export.h"
#include "gp11_gss.h"
#include "gp11_gss_export.h"
#include "gp11_oid.h"

_Static_assert(GP11_CTX_TRANS_FLAG == GSS_C_TRANS_FLAG,
               "the engine's export flag is GSS_C_TRANS_FLAG");

OM_uint32 gp11_gss_export_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                      gss_buffer_t token)
{
    OM_uint32 major = gp11_out_start(minor, token);
    uint8_t *blob;
    size_t len;
    uint32_t ret;

    if (major != GSS_S_COMPLETE)
        return major;
    if (context == NULL)
        return GSS_S_CALL_INACCESSIBLE_READ | GSS_S_NO_CONTEXT;
    ret = gp11_ctx_export((struct gp11_ctx *)*context, &blob, &len);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    token->value = blob;
    token->length = len;
    *context = GSS_C_NO_CONTEXT;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_import_sec_context(OM_uint32 *minor, gss_buffer_t token,
                                      gss_ctx_id_t *context)
{
    struct gp11_ctx *ctx = NULL;
    uint32_t ret;

    if (minor == NULL || context == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    *context = GSS_C_NO_CONTEXT;
    ret = gp11_ctx_import(token == GSS_C_NO_BUFFER ? NULL : token->value,
                          token == GSS_C_NO_BUFFER ? 0 : token->length, &ctx);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    *context = (gss_ctx_id_t)ctx;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_import_sec_context_by_mech(OM_uint32 *minor, gss_OID mech,
                                              gss_buffer_t token,
                                              gss_ctx_id_t *context)
{
    if (mech != GSS_C_NO_OID && !gp11_oid_equal(mech, gp11_mech_oid())) {
        if (minor)
            *minor = 0;
        return GSS_S_BAD_MECH;
    }
    return gp11_gss_import_sec_context(minor, token, context);
}
