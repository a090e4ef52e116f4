/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IOV forms of per-message protection (docs/protocol.md 3): the same
 * tokens as gss_wrap / gss_get_mic, laid out over the caller's buffers.
 * The mechglue builds gss_wrap_aead / gss_unwrap_aead on these.
 */
#include "gp11_gss.h"
#include "gp11_permsg.h"

#include <gssapi/gssapi_ext.h>
#include <stdlib.h>
#include <string.h>

#define TYPE(b) GSS_IOV_BUFFER_TYPE((b)->type)

/* The only buffer of a type, NULL if none; *dup set if several. */
static gss_iov_buffer_t find(gss_iov_buffer_desc *iov, int n, OM_uint32 type,
                             bool *dup)
{
    gss_iov_buffer_t found = NULL;

    for (int i = 0; i < n; i++) {
        if (TYPE(&iov[i]) != type)
            continue;
        if (found)
            *dup = true;
        found = &iov[i];
    }
    return found;
}

/* True if b's type has its bit in mask. Types are the caller's 16-bit
 * values: one of 32 or more has no bit (and must not be shifted by). */
static bool in_mask(const gss_iov_buffer_desc *b, unsigned mask)
{
    OM_uint32 t = TYPE(b);

    return t < 32 && (mask & (1u << t)) != 0;
}

/* Sum of the lengths of the buffers whose type bit is in mask. */
static size_t total(const gss_iov_buffer_desc *iov, int n, unsigned mask)
{
    size_t len = 0;

    for (int i = 0; i < n; i++)
        if (in_mask(&iov[i], mask))
            len += iov[i].buffer.length;
    return len;
}

/* Concatenates prefix and the masked buffers, in order, into *out. */
static uint32_t gather(const gss_iov_buffer_desc *iov, int n, unsigned mask,
                       const uint8_t *prefix, size_t prefix_len, uint8_t **out,
                       size_t *len)
{
    size_t used = prefix_len;

    *len = prefix_len + total(iov, n, mask);
    *out = malloc(*len ? *len : 1);
    if (*out == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    if (prefix_len)
        memcpy(*out, prefix, prefix_len);
    for (int i = 0; i < n; i++) {
        if (!in_mask(&iov[i], mask) || iov[i].buffer.length == 0)
            continue;
        memcpy(*out + used, iov[i].buffer.value, iov[i].buffer.length);
        used += iov[i].buffer.length;
    }
    return GP11_OK;
}

/* Writes src back over the DATA buffers, in order. */
static void scatter(gss_iov_buffer_desc *iov, int n, const uint8_t *src)
{
    for (int i = 0; i < n; i++) {
        if (TYPE(&iov[i]) != GSS_IOV_BUFFER_TYPE_DATA ||
            iov[i].buffer.length == 0)
            continue;
        memcpy(iov[i].buffer.value, src, iov[i].buffer.length);
        src += iov[i].buffer.length;
    }
}

/* Gives b exactly len bytes: allocated if asked (none for 0 bytes, as
 * gss_release_iov_buffer frees no buffer of length 0), else the caller's
 * room must suffice. */
static uint32_t fit(gss_iov_buffer_t b, size_t len)
{
    if ((b->type & GSS_IOV_BUFFER_FLAG_ALLOCATE) && len == 0) {
        b->buffer.value = NULL;
    } else if (b->type & GSS_IOV_BUFFER_FLAG_ALLOCATE) {
        b->buffer.value = malloc(len);
        if (b->buffer.value == NULL)
            return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        b->type |= GSS_IOV_BUFFER_FLAG_ALLOCATED;
    } else if (b->buffer.length < len || (len && b->buffer.value == NULL)) {
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "an IOV buffer of %zu bytes cannot hold %zu",
                            b->buffer.length, len);
    }
    b->buffer.length = len;
    return GP11_OK;
}

#define BIT(t) (1u << GSS_IOV_BUFFER_TYPE_##t)

/* Start of every IOV call: a minor status to write and a buffer list. */
static OM_uint32 iov_start(OM_uint32 *minor, gss_iov_buffer_desc *iov, int n)
{
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (iov == NULL || n < 0)
        return GSS_S_CALL_INACCESSIBLE_READ;
    return GSS_S_COMPLETE;
}

/* What a wrap_iov call works with: the QOP, its send key, and the header
 * (with the tag when there is no trailer), trailer and padding buffers. */
struct layout {
    const struct gp11_qop *q;
    const struct gp11_object *key;
    gss_iov_buffer_t header, trailer, padding;
};

static uint32_t wrap_layout(gss_iov_buffer_desc *iov, int n, struct layout *l)
{
    bool dup = false;

    l->header = find(iov, n, GSS_IOV_BUFFER_TYPE_HEADER, &dup);
    l->trailer = find(iov, n, GSS_IOV_BUFFER_TYPE_TRAILER, &dup);
    l->padding = find(iov, n, GSS_IOV_BUFFER_TYPE_PADDING, &dup);
    if (dup || l->header == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "gss_wrap_iov needs exactly one HEADER buffer "
                            "and at most one TRAILER and PADDING");
    return GP11_OK;
}

/* Checks a wrap_iov call: context, QOP (and its key), buffers. */
static uint32_t wrap_prepare(struct gp11_ctx *ctx, gss_qop_t qop, int conf,
                             gss_iov_buffer_desc *iov, int n, struct layout *l)
{
    uint32_t ret = gp11_pm_prepare_send(ctx, qop, conf != 0, &l->q, &l->key);

    return ret == GP11_OK ? wrap_layout(iov, n, l) : ret;
}

/* Bytes of the HEADER buffer: the tag joins it when there is no TRAILER. */
static size_t header_len(const struct layout *l)
{
    return GP11_MSG_HDR_LEN + (l->trailer ? 0 : l->q->tag_len);
}

/* Makes the token into the layout's buffers, under msg_lock. */
static uint32_t wrap_locked(struct gp11_ctx *ctx, bool sealed,
                            gss_iov_buffer_desc *iov, int n,
                            const struct layout *l)
{
    const struct gp11_qop *q = l->q;
    const struct gp11_object *key = l->key;
    struct gp11_msg_hdr h = {GP11_TOK_WRAP, 0, q->value, ctx->send_seq};
    uint8_t *hdr = l->header->buffer.value, *aad = NULL, *pt = NULL;
    uint8_t *ct = NULL, iv[GP11_GCM_IV_LEN];
    uint8_t *tag =
        l->trailer ? l->trailer->buffer.value : hdr + GP11_MSG_HDR_LEN;
    size_t aad_len, pt_len = 0;
    uint32_t ret;

    if (ctx->send_seq == UINT64_MAX)
        return gp11_err_set(GP11_ERR_SEQ_EXHAUSTED,
                            "the context has used all its sequence numbers");
    h.flags = (ctx->initiator ? 0 : GP11_FLAG_SENT_BY_ACCEPTOR) |
              (sealed ? GP11_FLAG_SEALED : 0) |
              (l->trailer ? 0 : GP11_FLAG_TAG_FIRST);
    gp11_msg_hdr_write(hdr, &h);
    gp11_msg_iv(iv, !ctx->initiator,
                sealed ? GP11_IV_WRAP_SEALED : GP11_IV_WRAP_CLEAR, h.seq);
    if (sealed)
        ret = gather(iov, n, BIT(SIGN_ONLY), hdr, GP11_MSG_HDR_LEN, &aad,
                     &aad_len);
    else
        ret =
            gather(iov, n, BIT(DATA) | BIT(SIGN_ONLY), NULL, 0, &aad, &aad_len);
    if (ret == GP11_OK && sealed)
        ret = gather(iov, n, BIT(DATA), NULL, 0, &pt, &pt_len);
    if (ret == GP11_OK && (ct = malloc(pt_len + q->tag_len)) == NULL)
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    if (ret == GP11_OK)
        ret = gp11_pm_make_tag(ctx, q, key, iv, hdr, aad, aad_len,
                               sealed ? pt : hdr, pt_len, ct);
    if (ret == GP11_OK) {
        if (sealed)
            scatter(iov, n, ct);
        memcpy(tag, ct + pt_len, q->tag_len);
        ctx->send_seq++;
    }
    if (pt)
        gp11_wipe(pt, pt_len);
    free(pt);
    free(aad);
    free(ct);
    return ret;
}

OM_uint32 gp11_gss_wrap_iov(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                            gss_qop_t qop, int *conf_state,
                            gss_iov_buffer_desc *iov, int n)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct layout l;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = wrap_prepare(ctx, qop, conf, iov, n, &l);
    if (ret == GP11_OK)
        ret = fit(l.header, header_len(&l));
    if (ret == GP11_OK && l.trailer)
        ret = fit(l.trailer, l.q->tag_len);
    if (ret == GP11_OK && l.padding)
        ret = fit(l.padding, 0); /* no QOP needs padding */
    if (ret == GP11_OK) {
        pthread_mutex_lock(&ctx->msg_lock);
        ret = wrap_locked(ctx, conf != 0, iov, n, &l);
        pthread_mutex_unlock(&ctx->msg_lock);
    }
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    if (conf_state)
        *conf_state = conf != 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_wrap_iov_length(OM_uint32 *minor, gss_ctx_id_t context,
                                   int conf, gss_qop_t qop, int *conf_state,
                                   gss_iov_buffer_desc *iov, int n)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct layout l;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = wrap_prepare(ctx, qop, conf, iov, n, &l);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    l.header->buffer.length = header_len(&l);
    if (l.trailer)
        l.trailer->buffer.length = l.q->tag_len;
    if (l.padding)
        l.padding->buffer.length = 0;
    if (conf_state)
        *conf_state = conf != 0;
    return GSS_S_COMPLETE;
}

/* Verifies (and decrypts in place) a token laid out over HEADER, DATA and
 * TRAILER buffers (or a STREAM's body), the tag given. */
static uint32_t unwrap_buffers(struct gp11_ctx *ctx, const struct gp11_qop *q,
                               const struct gp11_object *key,
                               gss_iov_buffer_desc *iov, int n,
                               const struct gp11_msg_hdr *h, const uint8_t *hdr,
                               const uint8_t *tag)
{
    bool sealed = h->flags & GP11_FLAG_SEALED;
    uint8_t iv[GP11_GCM_IV_LEN], *aad = NULL, *ct = NULL, *pt = NULL;
    size_t aad_len, ct_len;
    uint32_t ret;

    gp11_msg_iv(iv, ctx->initiator,
                sealed ? GP11_IV_WRAP_SEALED : GP11_IV_WRAP_CLEAR, h->seq);
    if (!sealed) {
        ret =
            gather(iov, n, BIT(DATA) | BIT(SIGN_ONLY), NULL, 0, &aad, &aad_len);
        if (ret == GP11_OK)
            ret = gp11_pm_check_tag(ctx, q, key, iv, hdr, aad, aad_len, tag);
        free(aad);
        return ret;
    }
    ret = gather(iov, n, BIT(SIGN_ONLY), hdr, GP11_MSG_HDR_LEN, &aad, &aad_len);
    if (ret == GP11_OK)
        ret = gather(iov, n, BIT(DATA), NULL, 0, &ct, &ct_len);
    if (ret == GP11_OK && (pt = malloc(ct_len + q->tag_len)) == NULL)
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    if (ret == GP11_OK) {
        uint8_t *joined = realloc(ct, ct_len + q->tag_len);

        if (joined == NULL) {
            ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        } else {
            ct = joined;
            memcpy(ct + ct_len, tag, q->tag_len);
            ret = gp11_aead_decrypt(ctx->rt->tok, q->aead, key, iv, aad,
                                    aad_len, ct, ct_len + q->tag_len, pt);
            ret = gp11_object_lost(ctx->rt->tok, key, ret);
        }
    }
    if (ret == GP11_OK)
        scatter(iov, n, pt); /* only once the tag verified */
    if (pt)
        gp11_wipe(pt, ct_len + q->tag_len);
    free(pt);
    free(ct);
    free(aad);
    return ret;
}

/* Parses a received header and finds the QOP and its receive key. */
static uint32_t received_qop(struct gp11_ctx *ctx, const uint8_t *hdr,
                             size_t len, struct gp11_msg_hdr *h,
                             const struct gp11_qop **q,
                             const struct gp11_object **key)
{
    uint32_t ret =
        gp11_msg_hdr_parse(hdr, len, GP11_TOK_WRAP, 0, ctx->initiator, h);

    if (ret == GP11_OK)
        ret = gp11_pm_qop_key(ctx, h->qop, false, q, key);
    if (ret == GP11_OK && (*q)->kind == GP11_QOP_MAC &&
        (h->flags & GP11_FLAG_SEALED))
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the token claims confidentiality with the "
                           "integrity-only QOP %u",
                           h->qop);
    return ret;
}

/* Unwraps STREAM into the DATA buffer (pointing into the stream, or a copy
 * when the caller asks to allocate). */
static uint32_t unwrap_stream(struct gp11_ctx *ctx, gss_iov_buffer_desc *iov,
                              int n, gss_iov_buffer_t stream,
                              struct gp11_msg_hdr *h)
{
    uint8_t *tok = stream->buffer.value, *tag, *body;
    const struct gp11_object *key;
    const struct gp11_qop *q;
    bool dup = false, first;
    gss_iov_buffer_t data = find(iov, n, GSS_IOV_BUFFER_TYPE_DATA, &dup);
    size_t len;
    uint32_t ret;

    if (data == NULL || dup)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "with a STREAM buffer, exactly one DATA buffer "
                            "receives the message");
    ret = received_qop(ctx, tok, stream->buffer.length, h, &q, &key);
    if (ret == GP11_OK && stream->buffer.length < GP11_MSG_HDR_LEN + q->tag_len)
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the WRAP token is shorter than its header and "
                           "tag");
    if (ret != GP11_OK)
        return ret;
    len = stream->buffer.length - GP11_MSG_HDR_LEN - q->tag_len;
    first = h->flags & GP11_FLAG_TAG_FIRST;
    tag = tok + GP11_MSG_HDR_LEN + (first ? 0 : len);
    body = tok + GP11_MSG_HDR_LEN + (first ? q->tag_len : 0);
    /* The DATA buffer views the body, which is decrypted in place. */
    data->buffer.value = body;
    data->buffer.length = len;
    ret = unwrap_buffers(ctx, q, key, iov, n, h, tok, tag);
    if (ret == GP11_OK && (data->type & GSS_IOV_BUFFER_FLAG_ALLOCATE) &&
        len == 0) {
        data->buffer.value = NULL; /* {0, NULL}, as fit() gives */
    } else if (ret == GP11_OK && (data->type & GSS_IOV_BUFFER_FLAG_ALLOCATE)) {
        uint8_t *copy = malloc(len);

        if (copy == NULL)
            return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        memcpy(copy, body, len);
        data->buffer.value = copy;
        data->type |= GSS_IOV_BUFFER_FLAG_ALLOCATED;
    }
    if (ret != GP11_OK) {
        data->buffer.value = NULL;
        data->buffer.length = 0;
    }
    return ret;
}

/* Unwraps a token laid out over HEADER, DATA and TRAILER buffers. */
static uint32_t unwrap_split(struct gp11_ctx *ctx, gss_iov_buffer_desc *iov,
                             int n, struct gp11_msg_hdr *h)
{
    bool dup = false;
    gss_iov_buffer_t header = find(iov, n, GSS_IOV_BUFFER_TYPE_HEADER, &dup);
    gss_iov_buffer_t trailer = find(iov, n, GSS_IOV_BUFFER_TYPE_TRAILER, &dup);
    const struct gp11_object *key;
    const struct gp11_qop *q;
    size_t want;
    uint8_t *hdr, *tag;
    uint32_t ret;

    if (header == NULL || dup)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "gss_unwrap_iov needs a STREAM or exactly one "
                            "HEADER buffer");
    hdr = header->buffer.value;
    ret = received_qop(ctx, hdr, header->buffer.length, h, &q, &key);
    if (ret != GP11_OK)
        return ret;
    want = GP11_MSG_HDR_LEN + (h->flags & GP11_FLAG_TAG_FIRST ? q->tag_len : 0);
    tag = h->flags & GP11_FLAG_TAG_FIRST
              ? hdr + GP11_MSG_HDR_LEN
              : (trailer ? trailer->buffer.value : NULL);
    if (header->buffer.length != want || tag == NULL ||
        (!(h->flags & GP11_FLAG_TAG_FIRST) &&
         trailer->buffer.length != q->tag_len))
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the WRAP token's header or trailer has the "
                            "wrong length");
    return unwrap_buffers(ctx, q, key, iov, n, h, hdr, tag);
}

OM_uint32 gp11_gss_unwrap_iov(OM_uint32 *minor, gss_ctx_id_t context,
                              int *conf_state, gss_qop_t *qop,
                              gss_iov_buffer_desc *iov, int n)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    bool dup = false;
    gss_iov_buffer_t stream;
    struct gp11_msg_hdr h;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = gp11_pm_ready(ctx);
    stream = find(iov, n, GSS_IOV_BUFFER_TYPE_STREAM, &dup);
    if (ret == GP11_OK && dup)
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "more than one STREAM buffer");
    if (ret == GP11_OK)
        ret = stream ? unwrap_stream(ctx, iov, n, stream, &h)
                     : unwrap_split(ctx, iov, n, &h);
    if (ret != GP11_OK)
        return gp11_pm_check_failed(minor, ret, GSS_S_BAD_MIC);
    if (conf_state)
        *conf_state = (h.flags & GP11_FLAG_SEALED) != 0;
    if (qop)
        *qop = h.qop;
    return GSS_S_COMPLETE | gp11_pm_window(ctx, h.seq);
}

/* The MIC_TOKEN buffer of an IOV list. */
static uint32_t mic_buffer(gss_iov_buffer_desc *iov, int n,
                           gss_iov_buffer_t *out)
{
    bool dup = false;

    *out = find(iov, n, GSS_IOV_BUFFER_TYPE_MIC_TOKEN, &dup);
    if (*out == NULL || dup)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "exactly one MIC_TOKEN buffer is needed");
    return GP11_OK;
}

OM_uint32 gp11_gss_get_mic_iov(OM_uint32 *minor, gss_ctx_id_t context,
                               gss_qop_t qop, gss_iov_buffer_desc *iov, int n)
{
    gss_buffer_desc msg = {0, NULL}, tok = {0, NULL};
    const struct gp11_object *key;
    const struct gp11_qop *q;
    gss_iov_buffer_t mic;
    uint8_t *joined = NULL;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = mic_buffer(iov, n, &mic);
    /* Room first: a sequence number is spent only on a token delivered. */
    if (ret == GP11_OK)
        ret = gp11_pm_prepare_send((struct gp11_ctx *)context, qop, false, &q,
                                   &key);
    if (ret == GP11_OK)
        ret = fit(mic, GP11_MSG_HDR_LEN + q->tag_len);
    if (ret == GP11_OK)
        ret = gather(iov, n, BIT(DATA) | BIT(SIGN_ONLY), NULL, 0, &joined,
                     &msg.length);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    msg.value = joined;
    major = gp11_gss_get_mic(minor, context, qop, &msg, &tok);
    free(joined);
    if (GSS_ERROR(major))
        return major;
    memcpy(mic->buffer.value, tok.value, tok.length);
    free(tok.value);
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_get_mic_iov_length(OM_uint32 *minor, gss_ctx_id_t context,
                                      gss_qop_t qop, gss_iov_buffer_desc *iov,
                                      int n)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    const struct gp11_object *key;
    const struct gp11_qop *q;
    gss_iov_buffer_t mic;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = gp11_pm_prepare_send(ctx, qop, false, &q, &key);
    if (ret == GP11_OK)
        ret = mic_buffer(iov, n, &mic);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    mic->buffer.length = GP11_MSG_HDR_LEN + q->tag_len;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_verify_mic_iov(OM_uint32 *minor, gss_ctx_id_t context,
                                  gss_qop_t *qop, gss_iov_buffer_desc *iov,
                                  int n)
{
    gss_buffer_desc msg = {0, NULL};
    gss_iov_buffer_t mic;
    uint8_t *joined = NULL;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = mic_buffer(iov, n, &mic);
    if (ret == GP11_OK)
        ret = gather(iov, n, BIT(DATA) | BIT(SIGN_ONLY), NULL, 0, &joined,
                     &msg.length);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    msg.value = joined;
    major = gp11_gss_verify_mic(minor, context, &msg, &mic->buffer, qop);
    free(joined);
    return major;
}
