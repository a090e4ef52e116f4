/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GSS-API calls on an established or half-established context:
 * gss_delete_sec_context, gss_context_time, gss_inquire_context and
 * gss_process_context_token, over core/context.c's struct gp11_ctx.
 */
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_names.h"
#include "gp11_oid.h"

OM_uint32 gp11_gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                      gss_buffer_t output)
{
    if (minor)
        *minor = 0;
    if (output) {
        output->length = 0;
        output->value = NULL;
    }
    if (context == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (*context == GSS_C_NO_CONTEXT)
        return GSS_S_NO_CONTEXT;
    gp11_ctx_free((struct gp11_ctx *)*context);
    *context = GSS_C_NO_CONTEXT;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_context_time(OM_uint32 *minor, gss_ctx_id_t context,
                                OM_uint32 *time_rec)
{
    uint32_t left, ret = gp11_ctx_lifetime((struct gp11_ctx *)context, &left);

    if (time_rec)
        *time_rec = left;
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    *minor = 0;
    return GSS_S_COMPLETE;
}

/* Duplicates a name for output (GSS_C_NO_NAME for none). */
static uint32_t name_out(const struct gp11_name *n, gss_name_t *out)
{
    struct gp11_name *copy = NULL;
    uint32_t ret = GP11_OK;

    if (out == NULL)
        return GP11_OK;
    if (n)
        ret = gp11_name_dup(n, &copy);
    *out = (gss_name_t)copy;
    return ret;
}

OM_uint32 gp11_gss_inquire_context(OM_uint32 *minor, gss_ctx_id_t context,
                                   gss_name_t *src, gss_name_t *targ,
                                   OM_uint32 *lifetime, gss_OID *mech,
                                   OM_uint32 *flags, int *locally_initiated,
                                   int *open)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    const struct gp11_name *s, *t;
    uint32_t ret;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (ctx == NULL)
        return gp11_fail(
            minor, gp11_err_set(GP11_ERR_NO_CONTEXT, "no security context"));
    /* In a forked child the context is the parent's: it reports nothing
     * that would suggest it can still be used. */
    ret = gp11_ctx_same_process(ctx);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    s = ctx->initiator ? ctx->own_name : ctx->peer_name;
    t = ctx->initiator ? ctx->peer_name : ctx->own_name;
    ret = name_out(s, src);
    if (ret == GP11_OK)
        ret = name_out(t, targ);
    if (ret != GP11_OK) {
        if (src)
            gp11_gss_release_name(minor, src);
        return gp11_fail(minor, ret);
    }
    if (lifetime)
        *lifetime =
            ctx->state == GP11_CTX_ESTABLISHED ? gp11_ctx_time_left(ctx) : 0;
    if (mech)
        *mech = (gss_OID)gp11_mech_oid();
    if (flags)
        *flags =
            ctx->state == GP11_CTX_ESTABLISHED ? ctx->flags : ctx->req_flags;
    if (locally_initiated)
        *locally_initiated = ctx->initiator;
    if (open)
        *open = ctx->state == GP11_CTX_ESTABLISHED;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_process_context_token(OM_uint32 *minor, gss_ctx_id_t context,
                                         gss_buffer_t token)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;

    (void)token;
    if (ctx == NULL)
        return gp11_fail(
            minor, gp11_err_set(GP11_ERR_NO_CONTEXT, "no security context"));
    /* The protocol has no context-level tokens after establishment. */
    return gp11_fail(minor, gp11_err_set(GP11_ERR_TOKEN_UNEXPECTED,
                                         "gss-pkcs11 defines no context "
                                         "tokens after establishment"));
}
