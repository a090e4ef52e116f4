/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-message protection (docs/protocol.md 3): MIC and WRAP tokens made
 * and checked by the token with the context's direction keys. One token
 * operation per message; the only allocation is the output buffer.
 */
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_msgtok.h"
#include "gp11_permsg.h"

#include <stdlib.h>
#include <string.h>

/* GP11_OK if the context can protect or check messages now. */
uint32_t gp11_pm_ready(const struct gp11_ctx *ctx)
{
    uint32_t ret = gp11_ctx_usable(ctx);

    if (ret == GP11_OK && gp11_ctx_time_left(ctx) == 0)
        ret = gp11_err_set(GP11_ERR_CONTEXT_EXPIRED,
                           "the security context expired");
    return ret;
}

/* The QOPs this context can use (protocol.md 3.3). */
uint32_t gp11_pm_check_qop(gss_qop_t qop)
{
    if (qop != QOP_DEFAULT)
        return gp11_err_set(GP11_ERR_BAD_QOP,
                            "QOP %u is not known to gss-pkcs11 (known: 0, "
                            "AES-256-GCM)",
                            (unsigned)qop);
    return GP11_OK;
}

/* Takes the next send sequence number; the caller commits or not. */
static uint32_t next_seq(struct gp11_ctx *ctx, uint64_t *seq)
{
    if (ctx->send_seq == UINT64_MAX)
        return gp11_err_set(GP11_ERR_SEQ_EXHAUSTED,
                            "the context has used all 2^64 sequence numbers; "
                            "establish a new one");
    *seq = ctx->send_seq;
    return GP11_OK;
}

/* Builds a token: header, then the GCM output under the send key.
 * clear != NULL copies it between header and tag (WRAP, not sealed). */
static uint32_t seal(struct gp11_ctx *ctx, uint16_t tok_id,
                     enum gp11_iv_kind kind, const gss_buffer_t msg,
                     gss_buffer_t out)
{
    struct gp11_msg_hdr h = {tok_id, 0, QOP_DEFAULT, 0};
    bool sealed = kind == GP11_IV_WRAP_SEALED;
    size_t body = kind == GP11_IV_MIC ? 0 : msg->length;
    uint8_t iv[GP11_GCM_IV_LEN], *tok;
    uint32_t ret;

    if (msg->length > SIZE_MAX - OVERHEAD)
        return gp11_err_set(GP11_ERR_BAD_ARG, "message too long");
    tok = malloc(OVERHEAD + body);
    if (tok == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&ctx->msg_lock);
    ret = next_seq(ctx, &h.seq);
    if (ret != GP11_OK)
        goto done;
    h.flags = (ctx->initiator ? 0 : GP11_FLAG_SENT_BY_ACCEPTOR) |
              (sealed ? GP11_FLAG_SEALED : 0);
    gp11_msg_hdr_write(tok, &h);
    gp11_msg_iv(iv, !ctx->initiator, kind, h.seq);
    if (sealed)
        ret = gp11_aead_encrypt(
            ctx->rt->tok, GP11_AEAD_AES_GCM, &ctx->keys.send, iv, tok,
            GP11_MSG_HDR_LEN, msg->value, msg->length, tok + GP11_MSG_HDR_LEN);
    else
        ret = gp11_aead_encrypt(ctx->rt->tok, GP11_AEAD_AES_GCM,
                                &ctx->keys.send, iv, msg->value, msg->length,
                                tok, 0, tok + GP11_MSG_HDR_LEN + body);
    if (ret == GP11_OK) {
        if (kind == GP11_IV_WRAP_CLEAR && body)
            memcpy(tok + GP11_MSG_HDR_LEN, msg->value, body);
        ctx->send_seq++; /* only once the token exists */
        out->value = tok;
        out->length = OVERHEAD + body;
        tok = NULL;
    }
done:
    pthread_mutex_unlock(&ctx->msg_lock);
    free(tok);
    return ret;
}

/* Records a verified sequence number; returns the supplementary bits. */
OM_uint32 gp11_pm_window(struct gp11_ctx *ctx, uint64_t seq)
{
    OM_uint32 sup;

    pthread_mutex_lock(&ctx->msg_lock);
    sup = gp11_seqwin_check(&ctx->recv, seq);
    pthread_mutex_unlock(&ctx->msg_lock);
    return sup;
}

OM_uint32 gp11_gss_get_mic(OM_uint32 *minor, gss_ctx_id_t context,
                           gss_qop_t qop, gss_buffer_t message,
                           gss_buffer_t token)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    uint32_t ret;

    if (minor == NULL || token == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    token->length = 0;
    token->value = NULL;
    if (message == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = gp11_pm_ready(ctx);
    if (ret == GP11_OK)
        ret = gp11_pm_check_qop(qop);
    if (ret == GP11_OK)
        ret = seal(ctx, GP11_TOK_MIC, GP11_IV_MIC, message, token);
    return ret == GP11_OK ? GSS_S_COMPLETE : gp11_fail(minor, ret);
}

OM_uint32 gp11_gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                        gss_qop_t qop, gss_buffer_t in, int *conf_state,
                        gss_buffer_t out)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    uint32_t ret;

    if (minor == NULL || out == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    out->length = 0;
    out->value = NULL;
    if (in == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = gp11_pm_ready(ctx);
    if (ret == GP11_OK)
        ret = gp11_pm_check_qop(qop);
    if (ret == GP11_OK)
        ret = seal(ctx, GP11_TOK_WRAP,
                   conf ? GP11_IV_WRAP_SEALED : GP11_IV_WRAP_CLEAR, in, out);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    if (conf_state)
        *conf_state = conf != 0;
    return GSS_S_COMPLETE;
}

/* Maps a tag failure to the call's own major status. */
OM_uint32 gp11_pm_check_failed(OM_uint32 *minor, uint32_t ret, OM_uint32 bad)
{
    *minor = ret;
    if (ret == GP11_ERR_BAD_TAG || ret == GP11_ERR_REFLECTED)
        return bad;
    return gp11_major_for(ret);
}

OM_uint32 gp11_gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t context,
                              gss_buffer_t message, gss_buffer_t token,
                              gss_qop_t *qop)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    uint8_t iv[GP11_GCM_IV_LEN];
    struct gp11_msg_hdr h;
    uint32_t ret;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (message == GSS_C_NO_BUFFER || token == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = gp11_pm_ready(ctx);
    if (ret == GP11_OK)
        ret = gp11_msg_hdr_parse(token->value, token->length, GP11_TOK_MIC,
                                 GP11_GCM_TAG_LEN, ctx->initiator, &h);
    if (ret == GP11_OK && token->length != OVERHEAD)
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the MIC token has %zu bytes, not %d", token->length,
                           OVERHEAD);
    if (ret == GP11_OK && h.qop != QOP_DEFAULT)
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the MIC token names unknown QOP %u", h.qop);
    if (ret == GP11_OK) {
        gp11_msg_iv(iv, ctx->initiator, GP11_IV_MIC, h.seq);
        ret =
            gp11_aead_decrypt(ctx->rt->tok, GP11_AEAD_AES_GCM, &ctx->keys.recv,
                              iv, message->value, message->length,
                              (const uint8_t *)token->value + GP11_MSG_HDR_LEN,
                              GP11_GCM_TAG_LEN, NULL);
    }
    if (ret != GP11_OK)
        return gp11_pm_check_failed(minor, ret, GSS_S_BAD_SIG);
    if (qop)
        *qop = h.qop;
    return GSS_S_COMPLETE | gp11_pm_window(ctx, h.seq);
}

uint32_t gp11_pm_open_sealed(struct gp11_ctx *ctx, const uint8_t *iv,
                             const uint8_t *hdr, const uint8_t *ct, size_t len,
                             const uint8_t *tag, uint8_t *out)
{
    uint8_t *joined = NULL;
    uint32_t ret;

    /* The token wants ciphertext || tag in one piece. */
    if (tag == ct + len)
        return gp11_aead_decrypt(ctx->rt->tok, GP11_AEAD_AES_GCM,
                                 &ctx->keys.recv, iv, hdr, GP11_MSG_HDR_LEN, ct,
                                 len + GP11_GCM_TAG_LEN, out);
    joined = malloc(len + GP11_GCM_TAG_LEN);
    if (joined == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    memcpy(joined, ct, len);
    memcpy(joined + len, tag, GP11_GCM_TAG_LEN);
    ret = gp11_aead_decrypt(ctx->rt->tok, GP11_AEAD_AES_GCM, &ctx->keys.recv,
                            iv, hdr, GP11_MSG_HDR_LEN, joined,
                            len + GP11_GCM_TAG_LEN, out);
    free(joined);
    return ret;
}

/* Checks and opens a WRAP token into a new buffer. */
static uint32_t open_wrap(struct gp11_ctx *ctx, const gss_buffer_t in,
                          struct gp11_msg_hdr *h, gss_buffer_t out)
{
    const uint8_t *tok = in->value, *tag, *data;
    uint8_t iv[GP11_GCM_IV_LEN];
    size_t body;
    uint8_t *msg;
    uint32_t ret;
    bool sealed;

    ret = gp11_msg_hdr_parse(tok, in->length, GP11_TOK_WRAP, GP11_GCM_TAG_LEN,
                             ctx->initiator, h);
    if (ret == GP11_OK && h->qop != QOP_DEFAULT)
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the WRAP token names unknown QOP %u", h->qop);
    if (ret != GP11_OK)
        return ret;
    sealed = h->flags & GP11_FLAG_SEALED;
    body = in->length - OVERHEAD;
    tag = h->flags & GP11_FLAG_TAG_FIRST ? tok + GP11_MSG_HDR_LEN
                                         : tok + GP11_MSG_HDR_LEN + body;
    data = h->flags & GP11_FLAG_TAG_FIRST ? tok + OVERHEAD
                                          : tok + GP11_MSG_HDR_LEN;
    msg = malloc(body + GP11_GCM_TAG_LEN); /* room gp11_gcm_decrypt needs */
    if (msg == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    gp11_msg_iv(iv, ctx->initiator,
                sealed ? GP11_IV_WRAP_SEALED : GP11_IV_WRAP_CLEAR, h->seq);
    if (sealed)
        ret = gp11_pm_open_sealed(ctx, iv, tok, data, body, tag, msg);
    else
        ret =
            gp11_aead_decrypt(ctx->rt->tok, GP11_AEAD_AES_GCM, &ctx->keys.recv,
                              iv, data, body, tag, GP11_GCM_TAG_LEN, NULL);
    if (ret == GP11_OK && !sealed)
        memcpy(msg, data, body);
    if (ret != GP11_OK) {
        /* Nothing of an unverified message is released. */
        gp11_wipe(msg, body + GP11_GCM_TAG_LEN);
        free(msg);
        return ret;
    }
    out->value = msg;
    out->length = body;
    return GP11_OK;
}

OM_uint32 gp11_gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context,
                          gss_buffer_t in, gss_buffer_t out, int *conf_state,
                          gss_qop_t *qop)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct gp11_msg_hdr h;
    uint32_t ret;

    if (minor == NULL || out == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    out->length = 0;
    out->value = NULL;
    if (in == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = gp11_pm_ready(ctx);
    if (ret == GP11_OK)
        ret = open_wrap(ctx, in, &h, out);
    if (ret != GP11_OK)
        return gp11_pm_check_failed(minor, ret, GSS_S_BAD_MIC);
    if (conf_state)
        *conf_state = (h.flags & GP11_FLAG_SEALED) != 0;
    if (qop)
        *qop = h.qop;
    return GSS_S_COMPLETE | gp11_pm_window(ctx, h.seq);
}

OM_uint32 gp11_gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t context,
                                   int conf, gss_qop_t qop,
                                   OM_uint32 req_output_size,
                                   OM_uint32 *max_input_size)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    uint32_t ret;

    (void)conf; /* sealed or not, the overhead is the same */
    if (minor == NULL || max_input_size == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    ret = gp11_pm_ready(ctx);
    if (ret == GP11_OK)
        ret = gp11_pm_check_qop(qop);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    *max_input_size =
        req_output_size > OVERHEAD ? req_output_size - OVERHEAD : 0;
    return GSS_S_COMPLETE;
}
