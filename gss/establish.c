/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gss_init_sec_context and gss_accept_sec_context onto the engine's
 * establishment steps (core/gp11_establish.h): arguments, the mechanism
 * OID, channel bindings, names and buffers in; ret_flags, time_rec, the
 * peer's name and major/minor out. The handshake is all the engine's.
 */
#include "gp11_error.h"
#include "gp11_establish.h"
#include "gp11_export.h"
#include "gp11_gss.h"
#include "gp11_hs_msg.h"
#include "gp11_names.h"
#include "gp11_oid.h"

/* The engine's flags and ERROR majors are RFC 2744's values. */
_Static_assert(GP11_CTX_DELEG_FLAG == GSS_C_DELEG_FLAG &&
                   GP11_CTX_MUTUAL_FLAG == GSS_C_MUTUAL_FLAG &&
                   GP11_CTX_REPLAY_FLAG == GSS_C_REPLAY_FLAG &&
                   GP11_CTX_SEQUENCE_FLAG == GSS_C_SEQUENCE_FLAG &&
                   GP11_CTX_CONF_FLAG == GSS_C_CONF_FLAG &&
                   GP11_CTX_INTEG_FLAG == GSS_C_INTEG_FLAG &&
                   GP11_CTX_ANON_FLAG == GSS_C_ANON_FLAG &&
                   GP11_CTX_TRANS_FLAG == GSS_C_TRANS_FLAG,
               "GP11_CTX_*_FLAG are the GSS_C_*_FLAG values");
_Static_assert(GP11_HS_MAJOR_BAD_MECH == GSS_S_BAD_MECH &&
                   GP11_HS_MAJOR_BAD_NAME == GSS_S_BAD_NAME &&
                   GP11_HS_MAJOR_BAD_BINDINGS == GSS_S_BAD_BINDINGS &&
                   GP11_HS_MAJOR_NO_CRED == GSS_S_NO_CRED &&
                   GP11_HS_MAJOR_DEFECTIVE_TOKEN == GSS_S_DEFECTIVE_TOKEN &&
                   GP11_HS_MAJOR_DEFECTIVE_CREDENTIAL ==
                       GSS_S_DEFECTIVE_CREDENTIAL &&
                   GP11_HS_MAJOR_FAILURE == GSS_S_FAILURE,
               "GP11_HS_MAJOR_* are the GSS_S_* values");

/* The engine's view of RFC 2744 channel bindings (NULL: none). */
static const struct gp11_bindings *bindings(gss_channel_bindings_t cb,
                                            struct gp11_bindings *spans)
{
    if (cb == GSS_C_NO_CHANNEL_BINDINGS)
        return NULL;
    spans->initiator_addrtype = cb->initiator_addrtype;
    spans->initiator_address = (struct gp11_buf){cb->initiator_address.value,
                                                 cb->initiator_address.length};
    spans->acceptor_addrtype = cb->acceptor_addrtype;
    spans->acceptor_address = (struct gp11_buf){cb->acceptor_address.value,
                                                cb->acceptor_address.length};
    spans->application_data = (struct gp11_buf){cb->application_data.value,
                                                cb->application_data.length};
    return spans;
}

/* The bytes of an input token (none for GSS_C_NO_BUFFER). */
static struct gp11_buf input_bytes(gss_buffer_t input)
{
    if (input == GSS_C_NO_BUFFER)
        return (struct gp11_buf){NULL, 0};
    return (struct gp11_buf){input->value, input->length};
}

/* Start of both calls: outputs emptied, GSS_S_COMPLETE if they can be
 * written. */
static OM_uint32 est_start(OM_uint32 *minor, gss_ctx_id_t *context,
                           gss_buffer_t output)
{
    if (minor == NULL || context == NULL || output == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    output->length = 0;
    output->value = NULL;
    return GSS_S_COMPLETE;
}

/* The step's outcome in GSS terms; the token goes to output. */
static OM_uint32 est_done(const struct gp11_step *step, gss_OID *mech,
                          gss_buffer_t output, OM_uint32 *ret_flags,
                          OM_uint32 *time_rec)
{
    output->value = step->token;
    output->length = step->token_len;
    if (mech)
        *mech = (gss_OID)gp11_mech_oid();
    if (ret_flags)
        *ret_flags = step->flags;
    if (time_rec)
        *time_rec = step->time_left;
    return step->established ? GSS_S_COMPLETE : GSS_S_CONTINUE_NEEDED;
}

OM_uint32 gp11_gss_init_sec_context(
    OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *context,
    gss_name_t target, gss_OID mech, OM_uint32 req_flags, OM_uint32 time_req,
    gss_channel_bindings_t cb, gss_buffer_t input, gss_OID *actual_mech,
    gss_buffer_t output, OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
    struct gp11_ctx *ctx;
    struct gp11_bindings spans;
    struct gp11_step step;
    struct gp11_buf in = input_bytes(input);
    OM_uint32 major = est_start(minor, context, output);
    uint32_t ret;

    if (major != GSS_S_COMPLETE)
        return major;
    if (mech != GSS_C_NO_OID && !gp11_oid_equal(mech, gp11_mech_oid()))
        return GSS_S_BAD_MECH;
    ctx = (struct gp11_ctx *)*context;
    ret = gp11_ctx_init_step(
        &ctx, (struct gp11_cred *)cred,
        *context == GSS_C_NO_CONTEXT ? gp11_name_from_gss(target) : NULL,
        req_flags, time_req == GSS_C_INDEFINITE ? 0 : time_req,
        bindings(cb, &spans), in.data, in.len, &step);
    *context = (gss_ctx_id_t)ctx;
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    return est_done(&step, actual_mech, output, ret_flags, time_rec);
}

OM_uint32 gp11_gss_accept_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                      gss_cred_id_t cred, gss_buffer_t input,
                                      gss_channel_bindings_t cb,
                                      gss_name_t *src_name, gss_OID *mech,
                                      gss_buffer_t output, OM_uint32 *ret_flags,
                                      OM_uint32 *time_rec,
                                      gss_cred_id_t *delegated)
{
    struct gp11_ctx *ctx;
    struct gp11_name *src = NULL;
    struct gp11_bindings spans;
    struct gp11_step step;
    struct gp11_buf in = input_bytes(input);
    OM_uint32 major = est_start(minor, context, output);
    uint32_t ret;

    if (major != GSS_S_COMPLETE)
        return major;
    if (src_name)
        *src_name = GSS_C_NO_NAME;
    if (delegated)
        *delegated = GSS_C_NO_CREDENTIAL;
    ctx = (struct gp11_ctx *)*context;
    ret = gp11_ctx_accept_step(&ctx, (struct gp11_cred *)cred,
                               bindings(cb, &spans), in.data, in.len, &step);
    *context = (gss_ctx_id_t)ctx;
    if (ret == GP11_OK && step.peer && src_name)
        ret = gp11_name_dup(step.peer, &src);
    if (ret != GP11_OK) {
        /* The ERROR token, if any, tells the initiator why. */
        output->value = step.token;
        output->length = step.token_len;
        return gp11_fail(minor, ret);
    }
    if (src_name)
        *src_name = (gss_name_t)src;
    return est_done(&step, mech, output, ret_flags, time_rec);
}

uint32_t gp11_hs_frame(const struct gp11_buf *inner, gss_buffer_t out)
{
    uint8_t *p = NULL;
    size_t n = 0;
    uint32_t ret;

    if (out == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no buffer for the token");
    ret = gp11_hs_frame_bytes(inner, &p, &n);
    out->value = p;
    out->length = n;
    return ret;
}
