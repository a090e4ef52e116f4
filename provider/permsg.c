/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-message protection (docs/protocol.md 3): MIC and WRAP tokens made
 * and checked by the token with the context's direction keys, the QOP
 * choosing the mechanism. One token operation per message; the only
 * allocation is the output buffer.
 */
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_msgtok.h"
#include "gp11_permsg.h"

#include <stdlib.h>
#include <string.h>

/* Longest tag of any QOP (HMAC-SHA-512). */
#define MAX_TAG 64

uint32_t gp11_pm_ready(const struct gp11_ctx *ctx)
{
    uint32_t ret = gp11_ctx_usable(ctx);

    if (ret == GP11_OK && gp11_ctx_time_left(ctx) == 0)
        ret = gp11_err_set(GP11_ERR_CONTEXT_EXPIRED,
                           "the security context expired");
    return ret;
}

uint32_t gp11_pm_qop_key(struct gp11_ctx *ctx, uint32_t value, bool send,
                         const struct gp11_qop **q,
                         const struct gp11_object **key)
{
    uint32_t ret = gp11_qop_usable(ctx, value, q);

    if (ret != GP11_OK)
        return ret;
    /* QOP 0's keys are fixed once the context is established. */
    if (value == 0)
        return gp11_qop_key(ctx, *q, send, key);
    pthread_mutex_lock(&ctx->msg_lock);
    ret = gp11_qop_key(ctx, *q, send, key);
    pthread_mutex_unlock(&ctx->msg_lock);
    return ret;
}

OM_uint32 gp11_pm_window(struct gp11_ctx *ctx, uint64_t seq)
{
    OM_uint32 sup;

    pthread_mutex_lock(&ctx->msg_lock);
    sup = gp11_seqwin_check(&ctx->recv, seq);
    pthread_mutex_unlock(&ctx->msg_lock);
    return sup;
}

/* The tag: AEAD over (aad, in) into out, or a MAC over hdr || aad. */
uint32_t gp11_pm_make_tag(struct gp11_ctx *ctx, const struct gp11_qop *q,
                          const struct gp11_object *key, const uint8_t *iv,
                          const uint8_t *hdr, const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t in_len,
                          uint8_t *out)
{
    size_t mac_len = q->tag_len;
    uint32_t ret;

    if (q->kind == GP11_QOP_AEAD)
        ret = gp11_aead_encrypt(ctx->rt->tok, q->aead, key, iv, aad, aad_len,
                                in, in_len, out);
    else /* MAC QOPs authenticate the header and the message (aad). */
        ret = gp11_mac(ctx->rt->tok, q->mech, key, hdr, GP11_MSG_HDR_LEN, aad,
                       aad_len, out, &mac_len);
    /* A key that died with its session: the context is over (never
     * retried, docs/token-layer.md 12). */
    return gp11_object_lost(ctx->rt->tok, key, ret);
}

/* Builds a MIC or WRAP token (sealed or not) in one new buffer. */
static uint32_t seal(struct gp11_ctx *ctx, const struct gp11_qop *q,
                     const struct gp11_object *key, uint16_t tok_id,
                     enum gp11_iv_kind kind, const gss_buffer_t msg,
                     gss_buffer_t out)
{
    struct gp11_msg_hdr h = {tok_id, 0, q->value, 0};
    bool sealed = kind == GP11_IV_WRAP_SEALED;
    size_t body = kind == GP11_IV_MIC ? 0 : msg->length;
    size_t len = GP11_MSG_HDR_LEN + body + q->tag_len;
    uint8_t iv[GP11_GCM_IV_LEN], *tok;
    uint32_t ret;

    if (msg->length > SIZE_MAX - GP11_MSG_HDR_LEN - MAX_TAG)
        return gp11_err_set(GP11_ERR_BAD_ARG, "message too long");
    tok = malloc(len);
    if (tok == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&ctx->msg_lock);
    h.seq = ctx->send_seq;
    ret = h.seq == UINT64_MAX
              ? gp11_err_set(GP11_ERR_SEQ_EXHAUSTED,
                             "the context has used all 2^64 sequence "
                             "numbers; establish a new one")
              : GP11_OK;
    if (ret != GP11_OK)
        goto done;
    h.flags = (ctx->initiator ? 0 : GP11_FLAG_SENT_BY_ACCEPTOR) |
              (sealed ? GP11_FLAG_SEALED : 0);
    gp11_msg_hdr_write(tok, &h);
    gp11_msg_iv(iv, !ctx->initiator, kind, h.seq);
    if (sealed)
        ret = gp11_pm_make_tag(ctx, q, key, iv, tok, tok, GP11_MSG_HDR_LEN,
                               msg->value, msg->length, tok + GP11_MSG_HDR_LEN);
    else
        ret = gp11_pm_make_tag(ctx, q, key, iv, tok, msg->value, msg->length,
                               tok, 0, tok + GP11_MSG_HDR_LEN + body);
    if (ret == GP11_OK) {
        if (kind == GP11_IV_WRAP_CLEAR && body)
            memcpy(tok + GP11_MSG_HDR_LEN, msg->value, body);
        ctx->send_seq++; /* only once the token exists */
        out->value = tok;
        out->length = len;
        tok = NULL;
    }
done:
    pthread_mutex_unlock(&ctx->msg_lock);
    free(tok);
    return ret;
}

/* Common start of get_mic / wrap: context, QOP, its send key. */
uint32_t gp11_pm_prepare_send(struct gp11_ctx *ctx, gss_qop_t qop, bool conf,
                              const struct gp11_qop **q,
                              const struct gp11_object **key)
{
    uint32_t ret = gp11_pm_ready(ctx);

    if (ret == GP11_OK)
        ret = gp11_pm_qop_key(ctx, qop, true, q, key);
    if (ret == GP11_OK && conf && (*q)->kind == GP11_QOP_MAC)
        ret = gp11_err_set(GP11_ERR_BAD_QOP,
                           "QOP %u (%s) protects integrity only: use it with "
                           "conf_req_flag 0",
                           (*q)->value, (*q)->name);
    return ret;
}

OM_uint32 gp11_gss_get_mic(OM_uint32 *minor, gss_ctx_id_t context,
                           gss_qop_t qop, gss_buffer_t message,
                           gss_buffer_t token)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    const struct gp11_object *key;
    const struct gp11_qop *q;
    uint32_t ret;

    if (gp11_out_start(minor, token) != GSS_S_COMPLETE)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (message == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = gp11_pm_prepare_send(ctx, qop, false, &q, &key);
    if (ret == GP11_OK)
        ret = seal(ctx, q, key, GP11_TOK_MIC, GP11_IV_MIC, message, token);
    return ret == GP11_OK ? GSS_S_COMPLETE : gp11_fail(minor, ret);
}

OM_uint32 gp11_gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                        gss_qop_t qop, gss_buffer_t in, int *conf_state,
                        gss_buffer_t out)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    const struct gp11_object *key;
    const struct gp11_qop *q;
    uint32_t ret;

    if (gp11_out_start(minor, out) != GSS_S_COMPLETE)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (in == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    ret = gp11_pm_prepare_send(ctx, qop, conf != 0, &q, &key);
    if (ret == GP11_OK)
        ret = seal(ctx, q, key, GP11_TOK_WRAP,
                   conf ? GP11_IV_WRAP_SEALED : GP11_IV_WRAP_CLEAR, in, out);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    if (conf_state)
        *conf_state = conf != 0;
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

uint32_t gp11_pm_check_tag(struct gp11_ctx *ctx, const struct gp11_qop *q,
                           const struct gp11_object *key, const uint8_t *iv,
                           const uint8_t *hdr, const uint8_t *data, size_t len,
                           const uint8_t *tag)
{
    uint8_t want[MAX_TAG];
    size_t mac_len = sizeof(want);
    uint32_t ret;

    if (q->kind == GP11_QOP_AEAD)
        return gp11_object_lost(ctx->rt->tok, key,
                                gp11_aead_decrypt(ctx->rt->tok, q->aead, key,
                                                  iv, data, len, tag,
                                                  q->tag_len, NULL));
    ret = gp11_mac(ctx->rt->tok, q->mech, key, hdr, GP11_MSG_HDR_LEN, data, len,
                   want, &mac_len);
    ret = gp11_object_lost(ctx->rt->tok, key, ret);
    if (ret == GP11_OK &&
        (mac_len != q->tag_len || !gp11_ct_equal(want, tag, q->tag_len)))
        ret = gp11_err_set(GP11_ERR_BAD_TAG,
                           "the message was altered or is not from this "
                           "context: its %s does not verify",
                           q->name);
    return ret;
}

/* Parses a token's header and finds its QOP and receive key. */
static uint32_t parse_received(struct gp11_ctx *ctx, const uint8_t *tok,
                               size_t len, uint16_t tok_id,
                               struct gp11_msg_hdr *h,
                               const struct gp11_qop **q,
                               const struct gp11_object **key)
{
    uint32_t ret;

    ret = gp11_msg_hdr_parse(tok, len, tok_id, 0, ctx->initiator, h);
    if (ret == GP11_OK)
        ret = gp11_pm_qop_key(ctx, h->qop, false, q, key);
    if (ret == GP11_OK && len < GP11_MSG_HDR_LEN + (*q)->tag_len)
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the token has %zu bytes, fewer than its header "
                           "and %zu-byte tag",
                           len, (*q)->tag_len);
    if (ret == GP11_OK && (*q)->kind == GP11_QOP_MAC &&
        (h->flags & GP11_FLAG_SEALED))
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the token claims confidentiality with the "
                           "integrity-only QOP %u",
                           h->qop);
    return ret;
}

OM_uint32 gp11_gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t context,
                              gss_buffer_t message, gss_buffer_t token,
                              gss_qop_t *qop)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    const struct gp11_object *key = NULL;
    const struct gp11_qop *q = NULL;
    uint8_t iv[GP11_GCM_IV_LEN];
    const uint8_t *tok;
    struct gp11_msg_hdr h;
    uint32_t ret;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (message == GSS_C_NO_BUFFER || token == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_READ;
    tok = token->value;
    ret = gp11_pm_ready(ctx);
    if (ret == GP11_OK)
        ret =
            parse_received(ctx, tok, token->length, GP11_TOK_MIC, &h, &q, &key);
    if (ret == GP11_OK && token->length != GP11_MSG_HDR_LEN + q->tag_len)
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the MIC token has %zu bytes, not %zu",
                           token->length, GP11_MSG_HDR_LEN + q->tag_len);
    if (ret == GP11_OK) {
        gp11_msg_iv(iv, ctx->initiator, GP11_IV_MIC, h.seq);
        ret = gp11_pm_check_tag(ctx, q, key, iv, tok, message->value,
                                message->length, tok + GP11_MSG_HDR_LEN);
    }
    if (ret != GP11_OK)
        return gp11_pm_check_failed(minor, ret, GSS_S_BAD_SIG);
    if (qop)
        *qop = h.qop;
    return GSS_S_COMPLETE | gp11_pm_window(ctx, h.seq);
}

uint32_t gp11_pm_open_sealed(struct gp11_ctx *ctx, const struct gp11_qop *q,
                             const struct gp11_object *key, const uint8_t *iv,
                             const uint8_t *hdr, const uint8_t *ct, size_t len,
                             const uint8_t *tag, uint8_t *out)
{
    uint8_t *joined = NULL;
    uint32_t ret;

    /* The token wants ciphertext || tag in one piece. */
    if (tag == ct + len)
        return gp11_object_lost(ctx->rt->tok, key,
                                gp11_aead_decrypt(ctx->rt->tok, q->aead, key,
                                                  iv, hdr, GP11_MSG_HDR_LEN, ct,
                                                  len + q->tag_len, out));
    joined = malloc(len + q->tag_len);
    if (joined == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    memcpy(joined, ct, len);
    memcpy(joined + len, tag, q->tag_len);
    ret = gp11_aead_decrypt(ctx->rt->tok, q->aead, key, iv, hdr,
                            GP11_MSG_HDR_LEN, joined, len + q->tag_len, out);
    free(joined);
    return gp11_object_lost(ctx->rt->tok, key, ret);
}

/* Checks and opens a WRAP token into a new buffer. */
static uint32_t open_wrap(struct gp11_ctx *ctx, const gss_buffer_t in,
                          struct gp11_msg_hdr *h, gss_buffer_t out)
{
    const uint8_t *tok = in->value, *tag, *data;
    const struct gp11_object *key;
    const struct gp11_qop *q;
    uint8_t iv[GP11_GCM_IV_LEN];
    size_t body;
    uint8_t *msg;
    uint32_t ret;
    bool sealed, first;

    ret = parse_received(ctx, tok, in->length, GP11_TOK_WRAP, h, &q, &key);
    if (ret != GP11_OK)
        return ret;
    sealed = h->flags & GP11_FLAG_SEALED;
    first = h->flags & GP11_FLAG_TAG_FIRST;
    body = in->length - GP11_MSG_HDR_LEN - q->tag_len;
    tag = tok + GP11_MSG_HDR_LEN + (first ? 0 : body);
    data = tok + GP11_MSG_HDR_LEN + (first ? q->tag_len : 0);
    msg = malloc(body + q->tag_len); /* the room AEAD decryption needs */
    if (msg == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    gp11_msg_iv(iv, ctx->initiator,
                sealed ? GP11_IV_WRAP_SEALED : GP11_IV_WRAP_CLEAR, h->seq);
    if (sealed)
        ret = gp11_pm_open_sealed(ctx, q, key, iv, tok, data, body, tag, msg);
    else
        ret = gp11_pm_check_tag(ctx, q, key, iv, tok, data, body, tag);
    if (ret == GP11_OK && !sealed)
        memcpy(msg, data, body);
    if (ret != GP11_OK) {
        /* Nothing of an unverified message is released. */
        gp11_wipe(msg, body + q->tag_len);
        free(msg);
        return ret;
    }
    if (body == 0) {
        /* {0, NULL}: gss_release_buffer frees no buffer of length 0. */
        free(msg);
        msg = NULL;
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

    if (gp11_out_start(minor, out) != GSS_S_COMPLETE)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
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
    const struct gp11_object *key;
    const struct gp11_qop *q;
    size_t overhead;
    uint32_t ret;

    if (minor == NULL || max_input_size == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    ret = gp11_pm_prepare_send(ctx, qop, conf != 0, &q, &key);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    /* Sealed or not, a token is header + message + tag. */
    overhead = GP11_MSG_HDR_LEN + q->tag_len;
    *max_input_size =
        req_output_size > overhead ? req_output_size - (OM_uint32)overhead : 0;
    return GSS_S_COMPLETE;
}
