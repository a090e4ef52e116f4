/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-message calls of the SSPI face (MakeSignature, VerifySignature,
 * EncryptMessage, DecryptMessage and their Sp* forms): SecBufferDesc
 * layouts translated onto the per-message core's role-tagged spans
 * (core/msg_core.c, docs/msg-core.md), so the tokens are exactly the
 * GSS face's. The caller's buffers are the spans (in place; the spans
 * live on the stack). A non-zero MessageSeqNo is the caller-assigned
 * sequence number of docs/protocol.md 3.5 (docs/sspi.md, "MessageSeqNo").
 */
#include "gp11_sspi.h"

#include "gp11_context.h"
#include "gp11_error.h"
#include "gp11_msg_core.h"
#include "gp11_msgtok.h"

#include <string.h>

/* Most buffers a SecBufferDesc may hold. */
#define MAX_BUFFERS 64
/* The shortest WRAP token: header and the shortest tag. */
#define MIN_WRAP_TOKEN (GP11_MSG_HDR_LEN + 16)

#define BASE(b) ((b)->BufferType & ~SECBUFFER_ATTRMASK)

/* What the caller's buffers become for one call: the message spans in
 * the caller's order, then the token's parts. */
struct span_map {
    struct gp11_span s[MAX_BUFFERS + 2];
    size_t n;
    SecBuffer *token;   /* the SECBUFFER_TOKEN, if any */
    SecBuffer *stream;  /* the SECBUFFER_STREAM, if any */
    SecBuffer *data0;   /* the first DATA buffer that is encrypted */
    size_t data0_at;    /* its span */
    SecBuffer *padding; /* the SECBUFFER_PADDING, if any */
    bool two_data;      /* a second encrypted DATA buffer */
};

/* Checks a message descriptor and the context; the engine's context. */
static SECURITY_STATUS msg_start(struct gp11_sspi_ctx *c, SecBufferDesc *msg,
                                 struct gp11_ctx **ctx)
{
    *ctx = gp11_sspi_engine_ctx(c);
    if (*ctx == NULL)
        return SEC_E_INVALID_HANDLE;
    if (msg == NULL || msg->ulVersion != SECBUFFER_VERSION ||
        msg->cBuffers > MAX_BUFFERS || (msg->cBuffers && msg->pBuffers == NULL))
        return SEC_E_INVALID_PARAMETER;
    return SEC_E_OK;
}

/* The core's sequence number for a MessageSeqNo: 0 = the direction's
 * counter, else the caller's number. */
static struct gp11_mc_seq seq_of(ULONG seqno)
{
    return (struct gp11_mc_seq){seqno != 0, seqno};
}

/* Adds a message span over a SecBuffer (written in place when out). */
static size_t add(struct span_map *m, enum gp11_span_role role, SecBuffer *b,
                  bool out)
{
    m->s[m->n] = (struct gp11_span){role, b->pvBuffer, out ? b->pvBuffer : NULL,
                                    b->cbBuffer};
    return m->n++;
}

/*
 * Maps the message buffers onto spans: sign, every DATA buffer whatever
 * its flags; wrap, DATA encrypted in place, READONLY_WITH_CHECKSUM
 * authenticated only, READONLY left out. Finds the single TOKEN, the
 * PADDING and (wrap) the STREAM; two TOKEN or STREAM buffers are refused.
 */
static SECURITY_STATUS map(SecBufferDesc *msg, bool wrap, struct span_map *m)
{
    m->n = 0;
    m->token = m->stream = m->data0 = m->padding = NULL;
    m->data0_at = 0;
    m->two_data = false;
    for (ULONG i = 0; i < msg->cBuffers; i++) {
        SecBuffer *b = &msg->pBuffers[i];
        ULONG flags = b->BufferType & SECBUFFER_ATTRMASK;

        if (b->cbBuffer && b->pvBuffer == NULL)
            return SEC_E_INVALID_PARAMETER;
        switch (BASE(b)) {
        case SECBUFFER_DATA:
            if (!wrap) {
                add(m, GP11_SPAN_DATA, b, false);
            } else if (flags & SECBUFFER_READONLY) {
                break;
            } else if (flags & SECBUFFER_READONLY_WITH_CHECKSUM) {
                add(m, GP11_SPAN_ASSOC, b, false);
            } else {
                m->two_data |= m->data0 != NULL;
                if (m->data0 == NULL) {
                    m->data0 = b;
                    m->data0_at = m->n;
                }
                add(m, GP11_SPAN_DATA, b, true);
            }
            break;
        case SECBUFFER_TOKEN:
            if (m->token != NULL)
                return SEC_E_INVALID_TOKEN;
            m->token = b;
            break;
        case SECBUFFER_PADDING:
            if (wrap && m->padding == NULL)
                m->padding = b;
            else if (wrap)
                return SEC_E_INVALID_PARAMETER;
            break;
        case SECBUFFER_STREAM:
            if (!wrap || m->stream != NULL)
                return SEC_E_INVALID_TOKEN;
            m->stream = b;
            break;
        default:
            break;
        }
    }
    return SEC_E_OK;
}

/* Adds a token part after the message spans. */
static void add_part(struct span_map *m, enum gp11_span_role role,
                     const void *in, void *out, size_t len)
{
    m->s[m->n++] = (struct gp11_span){role, in, out, len};
}

/* The status of a failed core call. A caller-assigned number that is
 * not above every number used (sender) or not the token's (receiver) is
 * SEC_E_OUT_OF_SEQUENCE (status.c); on the receiving side a token naming
 * a QOP this context cannot run is a token it cannot process
 * (SEC_E_INVALID_TOKEN; QOP_NOT_SUPPORTED is for what the caller asks). */
static SECURITY_STATUS core_status(uint32_t ret, bool receiving)
{
    if (receiving && ret == GP11_ERR_BAD_QOP)
        return SEC_E_INVALID_TOKEN;
    return gp11_sspi_status(ret);
}

/*
 * The status of a verified token by where its number fell in the window
 * (only non-OK under the context's REPLAY/SEQUENCE flags). With an
 * implicit number, any report is SEC_E_OUT_OF_SEQUENCE. With a
 * caller-assigned number (which the core already matched against the
 * token), the caller orders its messages: a gap or an earlier number is
 * its business; a number received before (or below the window, so
 * possibly received) is still a replay.
 */
static SECURITY_STATUS window_status(enum gp11_seq_status w, bool explicit_)
{
    if (w == GP11_SEQ_OK)
        return SEC_E_OK;
    if (explicit_ && (w == GP11_SEQ_GAP || w == GP11_SEQ_UNSEQ))
        return SEC_E_OK;
    return SEC_E_OUT_OF_SEQUENCE;
}

/* The QOP of a sign call: SECQOP_WRAP_NO_ENCRYPT means nothing there. */
static SECURITY_STATUS sign_qop(ULONG fqop, uint32_t *qop)
{
    if (fqop == SECQOP_WRAP_NO_ENCRYPT)
        return SEC_E_QOP_NOT_SUPPORTED;
    *qop = fqop;
    return SEC_E_OK;
}

SECURITY_STATUS gp11_sspi_make_signature(struct gp11_sspi_ctx *c, ULONG fqop,
                                         SecBufferDesc *msg, ULONG seqno)
{
    struct gp11_mc_seq seq = seq_of(seqno);
    struct gp11_ctx *ctx = NULL;
    struct span_map m;
    uint32_t qop = 0, ret;
    SECURITY_STATUS st;
    size_t tag_len, need;

    st = msg_start(c, msg, &ctx);
    if (st == SEC_E_OK)
        st = sign_qop(fqop, &qop);
    if (st == SEC_E_OK)
        st = map(msg, false, &m);
    if (st == SEC_E_OK && (m.token == NULL || m.stream != NULL))
        st = SEC_E_INVALID_TOKEN;
    if (st != SEC_E_OK)
        return st;
    /* The token's size first: too small a buffer consumes nothing. */
    ret = gp11_mc_sizes(ctx, qop, false, &tag_len);
    if (ret != GP11_OK)
        return core_status(ret, false);
    need = GP11_MSG_HDR_LEN + tag_len;
    if (m.token->cbBuffer < need || m.token->pvBuffer == NULL)
        return SEC_E_BUFFER_TOO_SMALL;
    /* A MIC token is one HEADER span: header and tag. */
    add_part(&m, GP11_SPAN_HEADER, NULL, m.token->pvBuffer, need);
    ret = gp11_mc_protect(ctx, GP11_MC_MIC, false, qop, m.s, m.n, &seq);
    if (ret != GP11_OK)
        return core_status(ret, false);
    m.token->cbBuffer = (ULONG)need;
    return SEC_E_OK;
}

SECURITY_STATUS gp11_sspi_verify_signature(struct gp11_sspi_ctx *c,
                                           SecBufferDesc *msg, ULONG seqno,
                                           ULONG *pqop)
{
    struct gp11_mc_result r = {0, false, GP11_SEQ_OK};
    struct gp11_mc_seq seq = seq_of(seqno);
    struct gp11_ctx *ctx = NULL;
    struct span_map m;
    SECURITY_STATUS st;
    uint32_t ret;

    st = msg_start(c, msg, &ctx);
    if (st == SEC_E_OK)
        st = map(msg, false, &m);
    if (st == SEC_E_OK && (m.token == NULL || m.token->cbBuffer == 0))
        st = SEC_E_INVALID_TOKEN;
    if (st != SEC_E_OK)
        return st;
    add_part(&m, GP11_SPAN_HEADER, m.token->pvBuffer, NULL, m.token->cbBuffer);
    ret = gp11_mc_check(ctx, GP11_MC_MIC, m.s, m.n, &seq, &r);
    if (ret != GP11_OK)
        return core_status(ret, true);
    st = window_status(r.window, seq.explicit_);
    if (st == SEC_E_OK && pqop)
        *pqop = r.qop;
    return st;
}

SECURITY_STATUS gp11_sspi_encrypt(struct gp11_sspi_ctx *c, ULONG fqop,
                                  SecBufferDesc *msg, ULONG seqno)
{
    bool conf = fqop != SECQOP_WRAP_NO_ENCRYPT;
    uint32_t qop = conf ? fqop : 0, ret;
    struct gp11_mc_seq seq = seq_of(seqno);
    struct gp11_ctx *ctx = NULL;
    struct span_map m;
    SECURITY_STATUS st;
    size_t tag_len, need;

    st = msg_start(c, msg, &ctx);
    if (st == SEC_E_OK)
        st = map(msg, true, &m);
    if (st == SEC_E_OK && (m.token == NULL || m.stream != NULL))
        st = SEC_E_INVALID_TOKEN;
    if (st != SEC_E_OK)
        return st;
    /* The token's size for this QOP (an unusable QOP fails here, before
     * anything is computed). */
    ret = gp11_mc_sizes(ctx, qop, conf, &tag_len);
    if (ret != GP11_OK)
        return core_status(ret, false);
    need = GP11_MSG_HDR_LEN + tag_len;
    if (m.token->cbBuffer < need || m.token->pvBuffer == NULL)
        return SEC_E_BUFFER_TOO_SMALL;
    /* TOKEN = header and tag (TagFirst): TOKEN || DATA is a WRAP token. */
    add_part(&m, GP11_SPAN_HEADER, NULL, m.token->pvBuffer, need);
    ret = gp11_mc_protect(ctx, GP11_MC_WRAP, conf, qop, m.s, m.n, &seq);
    if (ret != GP11_OK)
        return core_status(ret, false);
    m.token->cbBuffer = (ULONG)need;
    if (m.padding)
        m.padding->cbBuffer = 0; /* no QOP pads */
    return SEC_E_OK;
}

/* Lays a whole token of the STREAM buffer out as spans: its body becomes
 * the first DATA buffer (decrypted in place inside the stream). */
static SECURITY_STATUS stream_spans(struct gp11_ctx *ctx, struct span_map *m,
                                    uint8_t **body_at, size_t *body_len)
{
    const uint8_t *body, *tag;
    uint8_t *tok = m->stream->pvBuffer;
    size_t hdr_len, tag_len;
    uint32_t ret;

    if (m->token != NULL || m->data0 == NULL)
        return SEC_E_INVALID_TOKEN;
    if (m->two_data)
        return SEC_E_INVALID_PARAMETER;
    if (m->stream->cbBuffer < MIN_WRAP_TOKEN)
        return SEC_E_INCOMPLETE_MESSAGE;
    ret = gp11_mc_split(ctx, tok, m->stream->cbBuffer, &hdr_len, &body,
                        body_len, &tag, &tag_len);
    if (ret != GP11_OK)
        return core_status(ret, true);
    *body_at = (uint8_t *)body;
    m->s[m->data0_at] =
        (struct gp11_span){GP11_SPAN_DATA, body, (uint8_t *)body, *body_len};
    add_part(m, GP11_SPAN_HEADER, tok, NULL, hdr_len);
    if (hdr_len == GP11_MSG_HDR_LEN)
        add_part(m, GP11_SPAN_TRAILER, tag, NULL, tag_len);
    return SEC_E_OK;
}

SECURITY_STATUS gp11_sspi_decrypt(struct gp11_sspi_ctx *c, SecBufferDesc *msg,
                                  ULONG seqno, ULONG *pqop)
{
    struct gp11_mc_result r = {0, false, GP11_SEQ_OK};
    struct gp11_mc_seq seq = seq_of(seqno);
    struct gp11_ctx *ctx = NULL;
    uint8_t *body = NULL;
    size_t body_len = 0;
    struct span_map m;
    SECURITY_STATUS st;
    uint32_t ret;

    st = msg_start(c, msg, &ctx);
    if (st == SEC_E_OK)
        st = map(msg, true, &m);
    if (st != SEC_E_OK)
        return st;
    ret = gp11_mc_ready(ctx);
    if (ret != GP11_OK)
        return core_status(ret, true);
    if (m.stream != NULL) {
        st = stream_spans(ctx, &m, &body, &body_len);
        if (st != SEC_E_OK)
            return st;
    } else if (m.token == NULL || m.token->cbBuffer == 0) {
        return SEC_E_INVALID_TOKEN;
    } else {
        add_part(&m, GP11_SPAN_HEADER, m.token->pvBuffer, NULL,
                 m.token->cbBuffer);
    }
    if (m.padding)
        add_part(&m, GP11_SPAN_PADDING, NULL, NULL, m.padding->cbBuffer);
    /* DATA in place: decrypted where it is on the message API, wiped if
     * the message does not verify (docs/sspi.md). */
    ret = gp11_mc_check_consume(ctx, GP11_MC_WRAP, m.s, m.n, &seq, &r);
    if (ret != GP11_OK)
        return core_status(ret, true);
    st = window_status(r.window, seq.explicit_);
    if (st != SEC_E_OK)
        return st;
    if (m.stream != NULL) {
        m.data0->pvBuffer = body;
        m.data0->cbBuffer = (ULONG)body_len;
    }
    if (pqop)
        *pqop = r.sealed ? r.qop : SECQOP_WRAP_NO_ENCRYPT;
    return SEC_E_OK;
}
