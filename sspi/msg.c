/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-message calls of the SSPI face (MakeSignature, VerifySignature,
 * EncryptMessage, DecryptMessage and their Sp* forms): SecBufferDesc
 * layouts translated onto the engine's IOV calls (gp11_gss_*_iov beneath
 * provider/gss_spi.c), so the tokens are exactly the GSS face's. The one
 * file to re-point when the span-based per-message core exists.
 * MessageSeqNo must be 0 (the context numbers its messages) until that
 * core carries caller-assigned numbers: SEC_E_UNSUPPORTED_FUNCTION.
 */
#include "gp11_sspi.h"

#include "gp11_msgtok.h"
#include "gp11_permsg.h"

#include <gssapi/gssapi_ext.h>
#include <string.h>

/* Most buffers a SecBufferDesc may hold. */
#define MAX_BUFFERS 64
/* The shortest WRAP token: header and the shortest tag. */
#define MIN_WRAP_TOKEN (GP11_MSG_HDR_LEN + 16)

#define BASE(b) ((b)->BufferType & ~SECBUFFER_ATTRMASK)

/* What the caller's buffers become for one call. */
struct iov_map {
    gss_iov_buffer_desc iov[MAX_BUFFERS];
    SecBuffer *src[MAX_BUFFERS]; /* the caller's buffer behind each */
    int n;
    SecBuffer *token; /* the SECBUFFER_TOKEN, if any */
    int token_at;     /* its index in iov */
    SecBuffer *stream, *data0;
    int stream_at, data0_at;
};

/* Checks a message descriptor and the context. */
static SECURITY_STATUS msg_start(struct gp11_sspi_ctx *c, SecBufferDesc *msg,
                                 ULONG seq, gss_ctx_id_t *g)
{
    *g = gp11_sspi_engine_ctx(c);
    if (*g == GSS_C_NO_CONTEXT)
        return SEC_E_INVALID_HANDLE;
    if (msg == NULL || msg->ulVersion != SECBUFFER_VERSION ||
        msg->cBuffers > MAX_BUFFERS || (msg->cBuffers && msg->pBuffers == NULL))
        return SEC_E_INVALID_PARAMETER;
    if (seq != 0)
        return SEC_E_UNSUPPORTED_FUNCTION;
    return SEC_E_OK;
}

/* Adds one IOV buffer over a SecBuffer. */
static int add(struct iov_map *m, OM_uint32 type, SecBuffer *b)
{
    m->iov[m->n].type = type;
    m->iov[m->n].buffer.length = b->cbBuffer;
    m->iov[m->n].buffer.value = b->pvBuffer;
    m->src[m->n] = b;
    return m->n++;
}

/*
 * Maps the buffers: DATA as data (sign: every DATA buffer whatever its
 * flags; wrap: READONLY_WITH_CHECKSUM authenticated only, READONLY left
 * out), the single TOKEN as token_type, PADDING as padding (wrap), STREAM
 * (unwrap). Two TOKEN or STREAM buffers are refused.
 */
static SECURITY_STATUS map(SecBufferDesc *msg, bool wrap, OM_uint32 token_type,
                           struct iov_map *m)
{
    memset(m, 0, sizeof(*m));
    for (ULONG i = 0; i < msg->cBuffers; i++) {
        SecBuffer *b = &msg->pBuffers[i];
        ULONG flags = b->BufferType & SECBUFFER_ATTRMASK;

        if (b->cbBuffer && b->pvBuffer == NULL)
            return SEC_E_INVALID_PARAMETER;
        switch (BASE(b)) {
        case SECBUFFER_DATA:
            if (!wrap)
                add(m, GSS_IOV_BUFFER_TYPE_DATA, b);
            else if (flags & SECBUFFER_READONLY)
                break;
            else if (flags & SECBUFFER_READONLY_WITH_CHECKSUM)
                add(m, GSS_IOV_BUFFER_TYPE_SIGN_ONLY, b);
            else if (m->data0 == NULL) {
                m->data0 = b;
                m->data0_at = add(m, GSS_IOV_BUFFER_TYPE_DATA, b);
            } else
                add(m, GSS_IOV_BUFFER_TYPE_DATA, b);
            break;
        case SECBUFFER_TOKEN:
            if (m->token != NULL)
                return SEC_E_INVALID_TOKEN;
            m->token = b;
            m->token_at = add(m, token_type, b);
            break;
        case SECBUFFER_PADDING:
            if (wrap)
                add(m, GSS_IOV_BUFFER_TYPE_PADDING, b);
            break;
        case SECBUFFER_STREAM:
            if (!wrap || m->stream != NULL)
                return SEC_E_INVALID_TOKEN;
            m->stream = b;
            m->stream_at = add(m, GSS_IOV_BUFFER_TYPE_STREAM, b);
            break;
        default:
            break;
        }
    }
    return SEC_E_OK;
}

/* Copies the lengths the engine set back to the TOKEN and PADDING. */
static void lengths_back(struct iov_map *m)
{
    for (int k = 0; k < m->n; k++)
        if (BASE(m->src[k]) == SECBUFFER_TOKEN ||
            BASE(m->src[k]) == SECBUFFER_PADDING)
            m->src[k]->cbBuffer = (ULONG)m->iov[k].buffer.length;
}

/* Status of a failed receiving engine call: a sequence problem reported
 * with a good tag is SEC_E_OUT_OF_SEQUENCE; a token naming a QOP this
 * context cannot run is a token it cannot process (SEC_E_INVALID_TOKEN;
 * QOP_NOT_SUPPORTED is for what the caller asks). */
static SECURITY_STATUS msg_status(OM_uint32 major, OM_uint32 minor)
{
    if (GSS_ERROR(major) &&
        gp11_sspi_status(major, minor) == SEC_E_QOP_NOT_SUPPORTED)
        return SEC_E_INVALID_TOKEN;
    if (!GSS_ERROR(major) && (GSS_SUPPLEMENTARY_INFO(major) &
                              (GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN |
                               GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN)))
        return SEC_E_OUT_OF_SEQUENCE;
    if (!GSS_ERROR(major))
        return SEC_E_OK;
    return gp11_sspi_status(major, minor);
}

/* The QOP of a sign call: SECQOP_WRAP_NO_ENCRYPT means nothing there. */
static SECURITY_STATUS sign_qop(ULONG fqop, gss_qop_t *qop)
{
    if (fqop == SECQOP_WRAP_NO_ENCRYPT)
        return SEC_E_QOP_NOT_SUPPORTED;
    *qop = fqop;
    return SEC_E_OK;
}

SECURITY_STATUS gp11_sspi_make_signature(struct gp11_sspi_ctx *c, ULONG fqop,
                                         SecBufferDesc *msg, ULONG seq)
{
    struct iov_map m;
    gss_ctx_id_t g;
    gss_qop_t qop = 0;
    OM_uint32 major, minor = 0;
    SECURITY_STATUS st;
    size_t need;

    st = msg_start(c, msg, seq, &g);
    if (st == SEC_E_OK)
        st = sign_qop(fqop, &qop);
    if (st == SEC_E_OK)
        st = map(msg, false, GSS_IOV_BUFFER_TYPE_MIC_TOKEN, &m);
    if (st == SEC_E_OK && m.token == NULL)
        st = SEC_E_INVALID_TOKEN;
    if (st != SEC_E_OK)
        return st;
    /* The token's size first: too small a buffer consumes nothing. */
    major = gp11_gss_get_mic_iov_length(&minor, g, qop, m.iov, m.n);
    if (GSS_ERROR(major))
        return gp11_sspi_status(major, minor);
    need = m.iov[m.token_at].buffer.length;
    if (m.token->cbBuffer < need)
        return SEC_E_BUFFER_TOO_SMALL;
    map(msg, false, GSS_IOV_BUFFER_TYPE_MIC_TOKEN, &m); /* the caller's sizes */
    major = gp11_gss_get_mic_iov(&minor, g, qop, m.iov, m.n);
    if (GSS_ERROR(major))
        return gp11_sspi_status(major, minor);
    m.token->cbBuffer = (ULONG)m.iov[m.token_at].buffer.length;
    return SEC_E_OK;
}

SECURITY_STATUS gp11_sspi_verify_signature(struct gp11_sspi_ctx *c,
                                           SecBufferDesc *msg, ULONG seq,
                                           ULONG *pqop)
{
    struct iov_map m;
    gss_ctx_id_t g;
    gss_qop_t qop = 0;
    OM_uint32 major, minor = 0;
    SECURITY_STATUS st;

    st = msg_start(c, msg, seq, &g);
    if (st == SEC_E_OK)
        st = map(msg, false, GSS_IOV_BUFFER_TYPE_MIC_TOKEN, &m);
    if (st == SEC_E_OK && (m.token == NULL || m.token->cbBuffer == 0))
        st = SEC_E_INVALID_TOKEN;
    if (st != SEC_E_OK)
        return st;
    major = gp11_gss_verify_mic_iov(&minor, g, &qop, m.iov, m.n);
    st = msg_status(major, minor);
    if (st == SEC_E_OK && pqop)
        *pqop = qop;
    return st;
}

SECURITY_STATUS gp11_sspi_encrypt(struct gp11_sspi_ctx *c, ULONG fqop,
                                  SecBufferDesc *msg, ULONG seq)
{
    bool conf = fqop != SECQOP_WRAP_NO_ENCRYPT;
    gss_qop_t qop = conf ? fqop : 0;
    struct iov_map m;
    gss_ctx_id_t g;
    OM_uint32 major, minor = 0;
    SECURITY_STATUS st;
    size_t need;

    st = msg_start(c, msg, seq, &g);
    if (st == SEC_E_OK)
        st = map(msg, true, GSS_IOV_BUFFER_TYPE_HEADER, &m);
    if (st == SEC_E_OK && (m.token == NULL || m.stream != NULL))
        st = SEC_E_INVALID_TOKEN;
    if (st != SEC_E_OK)
        return st;
    /* The header's size for this QOP (an unusable QOP fails here). */
    major = gp11_gss_wrap_iov_length(&minor, g, conf, qop, NULL, m.iov, m.n);
    if (GSS_ERROR(major))
        return gp11_sspi_status(major, minor);
    need = m.iov[m.token_at].buffer.length;
    if (m.token->cbBuffer < need)
        return SEC_E_BUFFER_TOO_SMALL;
    map(msg, true, GSS_IOV_BUFFER_TYPE_HEADER, &m); /* the caller's sizes */
    major = gp11_gss_wrap_iov(&minor, g, conf, qop, NULL, m.iov, m.n);
    if (GSS_ERROR(major))
        return gp11_sspi_status(major, minor);
    lengths_back(&m);
    return SEC_E_OK;
}

SECURITY_STATUS gp11_sspi_decrypt(struct gp11_sspi_ctx *c, SecBufferDesc *msg,
                                  ULONG seq, ULONG *pqop)
{
    struct iov_map m;
    gss_ctx_id_t g;
    gss_qop_t qop = 0;
    int conf = 0;
    OM_uint32 major, minor = 0;
    SECURITY_STATUS st;

    st = msg_start(c, msg, seq, &g);
    if (st == SEC_E_OK)
        st = map(msg, true, GSS_IOV_BUFFER_TYPE_HEADER, &m);
    if (st != SEC_E_OK)
        return st;
    if (m.stream != NULL) {
        /* One whole token; DATA receives where its plaintext is. */
        if (m.token != NULL || m.data0 == NULL)
            return SEC_E_INVALID_TOKEN;
        if (m.stream->cbBuffer < MIN_WRAP_TOKEN)
            return SEC_E_INCOMPLETE_MESSAGE;
    } else if (m.token == NULL || m.token->cbBuffer == 0) {
        return SEC_E_INVALID_TOKEN;
    }
    major = gp11_gss_unwrap_iov(&minor, g, &conf, &qop, m.iov, m.n);
    st = msg_status(major, minor);
    if (st != SEC_E_OK)
        return st;
    if (m.stream != NULL) {
        m.data0->pvBuffer = m.iov[m.data0_at].buffer.value;
        m.data0->cbBuffer = (ULONG)m.iov[m.data0_at].buffer.length;
    }
    if (pqop)
        *pqop = conf ? qop : SECQOP_WRAP_NO_ENCRYPT;
    return SEC_E_OK;
}
