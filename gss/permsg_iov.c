/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IOV forms of per-message protection (docs/protocol.md 3): the same
 * tokens as gss_wrap / gss_get_mic, laid out over the caller's buffers.
 * The mechglue builds gss_wrap_aead / gss_unwrap_aead on these. Each call
 * translates the buffer list onto the core's spans (gp11_msg_core.h):
 * DATA -> data, SIGN_ONLY -> associated, HEADER, TRAILER, PADDING and
 * MIC_TOKEN -> the token's parts, every other type ignored.
 */
#include "gp11_gss.h"
#include "gp11_msg_core.h"
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

/* The spans of an IOV list, in its order: on the stack for short lists. */
struct spans {
    struct gp11_span *s, stack[16];
    size_t n;
};

/* Room for n spans. */
static uint32_t spans_init(struct spans *sp, int n)
{
    sp->n = 0;
    sp->s = sp->stack;
    if ((size_t)n > sizeof(sp->stack) / sizeof(sp->stack[0]) &&
        (sp->s = calloc((size_t)n, sizeof(*sp->s))) == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    return GP11_OK;
}

static void spans_free(struct spans *sp)
{
    if (sp->s != sp->stack)
        free(sp->s);
}

/* Adds the message buffers (DATA in place, SIGN_ONLY) and, when sending,
 * the HEADER, TRAILER and PADDING buffers as the token's parts. */
static void add_buffers(struct spans *sp, gss_iov_buffer_desc *iov, int n,
                        bool send, bool message_only)
{
    for (int i = 0; i < n; i++) {
        gss_iov_buffer_t b = &iov[i];
        struct gp11_span *s = &sp->s[sp->n];

        switch (TYPE(b)) {
        case GSS_IOV_BUFFER_TYPE_DATA:
            *s = (struct gp11_span){GP11_SPAN_DATA, b->buffer.value,
                                    b->buffer.value, b->buffer.length};
            break;
        case GSS_IOV_BUFFER_TYPE_SIGN_ONLY:
            *s = (struct gp11_span){GP11_SPAN_ASSOC, b->buffer.value, NULL,
                                    b->buffer.length};
            break;
        case GSS_IOV_BUFFER_TYPE_HEADER:
        case GSS_IOV_BUFFER_TYPE_TRAILER:
        case GSS_IOV_BUFFER_TYPE_PADDING:
            if (message_only)
                continue;
            *s = (struct gp11_span){
                TYPE(b) == GSS_IOV_BUFFER_TYPE_HEADER    ? GP11_SPAN_HEADER
                : TYPE(b) == GSS_IOV_BUFFER_TYPE_TRAILER ? GP11_SPAN_TRAILER
                                                         : GP11_SPAN_PADDING,
                send ? NULL : b->buffer.value, send ? b->buffer.value : NULL,
                b->buffer.length};
            break;
        default:
            continue;
        }
        sp->n++;
    }
}

/* The HEADER, TRAILER and PADDING buffers of a wrap_iov call. */
struct layout {
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

/* The tag joins the HEADER buffer when there is no TRAILER (TagFirst). */
static size_t header_len(const struct layout *l, size_t tag_len)
{
    return GP11_MSG_HDR_LEN + (l->trailer ? 0 : tag_len);
}

OM_uint32 gp11_gss_wrap_iov(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                            gss_qop_t qop, int *conf_state,
                            gss_iov_buffer_desc *iov, int n)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct spans sp = {0};
    struct layout l;
    size_t tag_len;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = gp11_mc_sizes(ctx, qop, conf != 0, &tag_len);
    if (ret == GP11_OK)
        ret = wrap_layout(iov, n, &l);
    if (ret == GP11_OK)
        ret = fit(l.header, header_len(&l, tag_len));
    if (ret == GP11_OK && l.trailer)
        ret = fit(l.trailer, tag_len);
    if (ret == GP11_OK && l.padding)
        ret = fit(l.padding, 0); /* no QOP needs padding */
    if (ret == GP11_OK)
        ret = spans_init(&sp, n);
    if (ret == GP11_OK) {
        add_buffers(&sp, iov, n, true, false);
        ret = gp11_mc_protect(ctx, GP11_MC_WRAP, conf != 0, qop, sp.s, sp.n,
                              NULL);
    }
    spans_free(&sp);
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
    size_t tag_len;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = gp11_mc_sizes(ctx, qop, conf != 0, &tag_len);
    if (ret == GP11_OK)
        ret = wrap_layout(iov, n, &l);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    l.header->buffer.length = header_len(&l, tag_len);
    if (l.trailer)
        l.trailer->buffer.length = tag_len;
    if (l.padding)
        l.padding->buffer.length = 0;
    if (conf_state)
        *conf_state = conf != 0;
    return GSS_S_COMPLETE;
}

/* Unwraps STREAM into the DATA buffer (pointing into the stream, or a copy
 * when the caller asks to allocate). */
static uint32_t unwrap_stream(struct gp11_ctx *ctx, gss_iov_buffer_desc *iov,
                              int n, gss_iov_buffer_t stream,
                              struct gp11_mc_result *r)
{
    uint8_t *tok = stream->buffer.value;
    const uint8_t *body, *tag;
    size_t hdr_len, len, tag_len;
    bool dup = false;
    gss_iov_buffer_t data = find(iov, n, GSS_IOV_BUFFER_TYPE_DATA, &dup);
    struct spans sp = {0};
    uint32_t ret;

    if (data == NULL || dup)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "with a STREAM buffer, exactly one DATA buffer "
                            "receives the message");
    ret = gp11_mc_split(ctx, tok, stream->buffer.length, &hdr_len, &body, &len,
                        &tag, &tag_len);
    if (ret == GP11_OK)
        ret = spans_init(&sp, n + 2);
    if (ret != GP11_OK)
        return ret;
    /* The DATA buffer views the body, which is decrypted in place. */
    data->buffer.value = (uint8_t *)body;
    data->buffer.length = len;
    sp.s[sp.n++] = (struct gp11_span){GP11_SPAN_HEADER, tok, NULL, hdr_len};
    if (hdr_len == GP11_MSG_HDR_LEN)
        sp.s[sp.n++] =
            (struct gp11_span){GP11_SPAN_TRAILER, tag, NULL, tag_len};
    add_buffers(&sp, iov, n, false, true);
    ret = gp11_mc_check(ctx, GP11_MC_WRAP, sp.s, sp.n, NULL, r);
    spans_free(&sp);
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
                             int n, struct gp11_mc_result *r)
{
    bool dup = false;
    struct spans sp = {0};
    uint32_t ret;

    find(iov, n, GSS_IOV_BUFFER_TYPE_TRAILER, &dup);
    if (find(iov, n, GSS_IOV_BUFFER_TYPE_HEADER, &dup) == NULL || dup)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "gss_unwrap_iov needs a STREAM or exactly one "
                            "HEADER buffer");
    ret = spans_init(&sp, n);
    if (ret != GP11_OK)
        return ret;
    add_buffers(&sp, iov, n, false, false);
    ret = gp11_mc_check(ctx, GP11_MC_WRAP, sp.s, sp.n, NULL, r);
    spans_free(&sp);
    return ret;
}

OM_uint32 gp11_gss_unwrap_iov(OM_uint32 *minor, gss_ctx_id_t context,
                              int *conf_state, gss_qop_t *qop,
                              gss_iov_buffer_desc *iov, int n)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct gp11_mc_result r = {0, false, GP11_SEQ_OK};
    bool dup = false;
    gss_iov_buffer_t stream;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = gp11_mc_ready(ctx);
    stream = find(iov, n, GSS_IOV_BUFFER_TYPE_STREAM, &dup);
    if (ret == GP11_OK && dup)
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "more than one STREAM buffer");
    if (ret == GP11_OK)
        ret = stream ? unwrap_stream(ctx, iov, n, stream, &r)
                     : unwrap_split(ctx, iov, n, &r);
    if (ret != GP11_OK)
        return gp11_pm_check_failed(minor, ret, GSS_S_BAD_MIC);
    if (conf_state)
        *conf_state = r.sealed;
    if (qop)
        *qop = r.qop;
    return GSS_S_COMPLETE | gp11_pm_window_status(r.window);
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
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct spans sp = {0};
    gss_iov_buffer_t mic;
    size_t tag_len;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = mic_buffer(iov, n, &mic);
    /* Room first: a sequence number is spent only on a token delivered. */
    if (ret == GP11_OK)
        ret = gp11_mc_sizes(ctx, qop, false, &tag_len);
    if (ret == GP11_OK)
        ret = fit(mic, GP11_MSG_HDR_LEN + tag_len);
    if (ret == GP11_OK)
        ret = spans_init(&sp, n + 1);
    if (ret == GP11_OK) {
        add_buffers(&sp, iov, n, true, true);
        sp.s[sp.n++] = (struct gp11_span){
            GP11_SPAN_HEADER, NULL, mic->buffer.value, mic->buffer.length};
        ret = gp11_mc_protect(ctx, GP11_MC_MIC, false, qop, sp.s, sp.n, NULL);
    }
    spans_free(&sp);
    return ret == GP11_OK ? GSS_S_COMPLETE : gp11_fail(minor, ret);
}

OM_uint32 gp11_gss_get_mic_iov_length(OM_uint32 *minor, gss_ctx_id_t context,
                                      gss_qop_t qop, gss_iov_buffer_desc *iov,
                                      int n)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    gss_iov_buffer_t mic;
    size_t tag_len;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = gp11_mc_sizes(ctx, qop, false, &tag_len);
    if (ret == GP11_OK)
        ret = mic_buffer(iov, n, &mic);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    mic->buffer.length = GP11_MSG_HDR_LEN + tag_len;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_verify_mic_iov(OM_uint32 *minor, gss_ctx_id_t context,
                                  gss_qop_t *qop, gss_iov_buffer_desc *iov,
                                  int n)
{
    struct gp11_ctx *ctx = (struct gp11_ctx *)context;
    struct gp11_mc_result r = {0, false, GP11_SEQ_OK};
    struct spans sp = {0};
    gss_iov_buffer_t mic;
    OM_uint32 major;
    uint32_t ret;

    major = iov_start(minor, iov, n);
    if (major != GSS_S_COMPLETE)
        return major;
    ret = mic_buffer(iov, n, &mic);
    if (ret == GP11_OK)
        ret = spans_init(&sp, n + 1);
    if (ret == GP11_OK) {
        add_buffers(&sp, iov, n, false, true);
        sp.s[sp.n++] = (struct gp11_span){GP11_SPAN_HEADER, mic->buffer.value,
                                          NULL, mic->buffer.length};
        ret = gp11_mc_check(ctx, GP11_MC_MIC, sp.s, sp.n, NULL, &r);
    }
    spans_free(&sp);
    if (ret != GP11_OK)
        return gp11_pm_check_failed(minor, ret, GSS_S_BAD_SIG);
    if (qop)
        *qop = r.qop;
    return GSS_S_COMPLETE | gp11_pm_window_status(r.window);
}
