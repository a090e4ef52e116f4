/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GSS-API face of per-message protection (docs/protocol.md 3):
 * gss_get_mic, gss_verify_mic, gss_wrap, gss_unwrap and
 * gss_wrap_size_limit translated onto the per-message core
 * (core/msg_core.c). The only allocation is the output buffer.
 */
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_msg_core.h"
#include "gp11_msgtok.h"
#include "gp11_permsg.h"

#include <stdlib.h>
#include <string.h>

/* Longest tag of any QOP (HMAC-SHA-512). */
#define MAX_TAG 64

OM_uint32 gp11_pm_window_status(enum gp11_seq_status s)
{
    switch (s) {
    case GP11_SEQ_DUPLICATE:
        return GSS_S_DUPLICATE_TOKEN;
    case GP11_SEQ_OLD:
        return GSS_S_OLD_TOKEN;
    case GP11_SEQ_UNSEQ:
        return GSS_S_UNSEQ_TOKEN;
    case GP11_SEQ_GAP:
        return GSS_S_GAP_TOKEN;
    case GP11_SEQ_OK:
        break;
    }
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_pm_check_failed(OM_uint32 *minor, uint32_t ret, OM_uint32 bad)
{
    *minor = ret;
    if (ret == GP11_ERR_BAD_TAG || ret == GP11_ERR_REFLECTED)
        return bad;
    /* A token naming a QOP we cannot check is defective, not a bad QOP
     * request of ours. */
    if (ret == GP11_ERR_BAD_QOP)
        return GSS_S_DEFECTIVE_TOKEN;
    return gp11_major_for(ret);
}

/* Makes a MIC or WRAP token of msg in one new buffer. */
static uint32_t seal(struct gp11_ctx *ctx, gss_qop_t qop,
                     enum gp11_mc_kind kind, bool conf, const gss_buffer_t msg,
                     gss_buffer_t out)
{
    size_t body = kind == GP11_MC_MIC ? 0 : msg->length, tag_len, len;
    struct gp11_span s[3];
    uint8_t *tok;
    uint32_t ret;

    ret = gp11_mc_sizes(ctx, qop, conf, &tag_len);
    if (ret != GP11_OK)
        return ret;
    if (msg->length > SIZE_MAX / 2 - GP11_MSG_HDR_LEN - MAX_TAG)
        return gp11_err_set(GP11_ERR_BAD_ARG, "message too long");
    len = GP11_MSG_HDR_LEN + body + tag_len;
    tok = malloc(len);
    if (tok == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    /* A MIC token is one HEADER span holding header and tag; a WRAP token
     * is header, message (carried or sealed in place) and trailer. */
    s[0] = (struct gp11_span){
        GP11_SPAN_DATA, msg->value,
        kind == GP11_MC_MIC ? NULL : tok + GP11_MSG_HDR_LEN, msg->length};
    if (kind == GP11_MC_MIC) {
        s[1] = (struct gp11_span){GP11_SPAN_HEADER, NULL, tok, len};
        ret = gp11_mc_protect(ctx, kind, false, qop, s, 2, NULL);
    } else {
        s[1] =
            (struct gp11_span){GP11_SPAN_HEADER, NULL, tok, GP11_MSG_HDR_LEN};
        s[2] = (struct gp11_span){GP11_SPAN_TRAILER, NULL,
                                  tok + GP11_MSG_HDR_LEN + body, tag_len};
        ret = gp11_mc_protect(ctx, kind, conf, qop, s, 3, NULL);
    }
    if (ret != GP11_OK) {
        free(tok);
        return ret;
    }
    out->value = tok;
    out->length = len;
    return GP11_OK;
}

OM_uint32 gp11_gss_get_mic(OM_uint32 *minor, gss_ctx_id_t context,
                           gss_qop_t qop, gss_buffer_t message,
                           gss_buffer_t token)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    uint32_t ret;

    if (gp11_out_start(minor, token) != GSS_S_COMPLETE)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (message == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = seal(ctx, qop, GP11_MC_MIC, false, message, token);
    return ret == GP11_OK ? GSS_S_COMPLETE : gp11_fail(minor, ret);
}

OM_uint32 gp11_gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                        gss_qop_t qop, gss_buffer_t in, int *conf_state,
                        gss_buffer_t out)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    uint32_t ret;

    if (gp11_out_start(minor, out) != GSS_S_COMPLETE)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (in == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = seal(ctx, qop, GP11_MC_WRAP, conf != 0, in, out);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    if (conf_state)
        *conf_state = conf != 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t context,
                              gss_buffer_t message, gss_buffer_t token,
                              gss_qop_t *qop)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct gp11_mc_result r = {0, false, GP11_SEQ_OK};
    struct gp11_span s[2];
    uint32_t ret;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (message == GSS_C_NO_BUFFER || token == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    s[0] = (struct gp11_span){GP11_SPAN_DATA, message->value, NULL,
                              message->length};
    s[1] =
        (struct gp11_span){GP11_SPAN_HEADER, token->value, NULL, token->length};
    ret = gp11_mc_check(ctx, GP11_MC_MIC, s, 2, NULL, &r);
    if (ret != GP11_OK)
        return gp11_pm_check_failed(minor, ret, GSS_S_BAD_SIG);
    if (qop)
        *qop = r.qop;
    return GSS_S_COMPLETE | gp11_pm_window_status(r.window);
}

/* Checks and opens a WRAP token into a new buffer. */
static uint32_t open_wrap(struct gp11_ctx *ctx, const gss_buffer_t in,
                          struct gp11_mc_result *r, gss_buffer_t out)
{
    const uint8_t *tok = in->value, *body, *tag;
    size_t hdr_len, body_len, tag_len, n = 2;
    struct gp11_span s[3];
    uint8_t *msg;
    uint32_t ret;

    ret = gp11_mc_ready(ctx);
    if (ret == GP11_OK)
        ret = gp11_mc_split(ctx, tok, in->length, &hdr_len, &body, &body_len,
                            &tag, &tag_len);
    if (ret != GP11_OK)
        return ret;
    /* Room for the tag too: the token decrypts straight into it. */
    msg = malloc(body_len + tag_len);
    if (msg == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    s[0] = (struct gp11_span){GP11_SPAN_HEADER, tok, NULL, hdr_len};
    s[1] = (struct gp11_span){GP11_SPAN_DATA, body, msg, body_len};
    if (hdr_len == GP11_MSG_HDR_LEN)
        s[n++] = (struct gp11_span){GP11_SPAN_TRAILER, tag, NULL, tag_len};
    ret = gp11_mc_check_room(ctx, GP11_MC_WRAP, s, n, NULL, r, tag_len);
    if (ret != GP11_OK || body_len == 0) {
        /* {0, NULL}: gss_release_buffer frees no buffer of length 0. The
         * core wrote nothing of an unverified message. */
        free(msg);
        msg = NULL;
    }
    if (ret != GP11_OK)
        return ret;
    out->value = msg;
    out->length = body_len;
    return GP11_OK;
}

OM_uint32 gp11_gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context,
                          gss_buffer_t in, gss_buffer_t out, int *conf_state,
                          gss_qop_t *qop)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct gp11_mc_result r = {0, false, GP11_SEQ_OK};
    uint32_t ret;

    if (gp11_out_start(minor, out) != GSS_S_COMPLETE)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (in == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = open_wrap(ctx, in, &r, out);
    if (ret != GP11_OK)
        return gp11_pm_check_failed(minor, ret, GSS_S_BAD_MIC);
    if (conf_state)
        *conf_state = r.sealed;
    if (qop)
        *qop = r.qop;
    return GSS_S_COMPLETE | gp11_pm_window_status(r.window);
}

OM_uint32 gp11_gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t context,
                                   int conf, gss_qop_t qop,
                                   OM_uint32 req_output_size,
                                   OM_uint32 *max_input_size)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    size_t overhead, tag_len;
    uint32_t ret;

    if (minor == NULL || max_input_size == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    ret = gp11_mc_sizes(ctx, qop, conf != 0, &tag_len);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    /* Sealed or not, a token is header + message + tag. */
    overhead = GP11_MSG_HDR_LEN + tag_len;
    *max_input_size =
        req_output_size > overhead ? req_output_size - (OM_uint32)overhead : 0;
    return GSS_S_COMPLETE;
}
