/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: SecBufferDesc layouts (sspi/msg.c) to DecryptMessage
 * and VerifySignature of the SSPI face, on a real SSPI context pair on the
 * SoftHSM2 token (established once at start-up through
 * InitializeSecurityContextA / AcceptSecurityContext). The peer makes a
 * real token per input; the input lays it (or garbage) over a fuzzed
 * buffer list.
 *
 * Input:
 *   u8 op    bit 0 VerifySignature (else DecryptMessage); bit 1 the
 *            acceptor receives (else the initiator); bit 2 canonical: the
 *            harness lays the token out itself (TOKEN + DATA, or STREAM +
 *            DATA with bit 6) and the call must succeed; bits 3-4 the
 *            receiver's MessageSeqNo: 0 none, 1 the token's number, 2 a
 *            fuzzed u32, 3 the token's number + 1; bit 5 the sender
 *            assigns the number explicitly (its last number + 1 + u8);
 *            bit 6 (canonical) stream layout; bit 7 integrity-only wrap
 *   u8 qop   the sender's QOP (value % 7)
 *   u16 mlen the message length (% 1024), then that many bytes (zeros
 *            once the input ends)
 *   u8 step  (bit 5 only) the sender's number is its last + 1 + step % 4
 *   u32 seq  (MessageSeqNo mode 2 only) the receiver's number
 *   (canonical: nothing more is read)
 *   u8 n     number of buffers (n % 9), then n times:
 *            u8 type  bits 0-3 the SecBuffer type; bit 4 READONLY,
 *                     bit 5 READONLY_WITH_CHECKSUM; bit 6 filled from the
 *                     wire (the token, then the message or ciphertext,
 *                     in order); bit 7 a NULL pointer
 *            u16 len  the buffer's length (% 4096); for a filled buffer
 *                     0 means its natural part: a TOKEN first takes the
 *                     token, anything else the rest of the wire
 *            the content of a buffer not filled (zeros past the input)
 *   then edits of the laid-out buffers (u8 buffer, u8 xor, u8 offset)
 *
 * Every buffer is its own allocation of exactly its length (ASan sees any
 * access past it). Invariants: a canonical layout with a matching or no
 * MessageSeqNo succeeds and gives back the message and QOP; a
 * mismatching MessageSeqNo is refused with SEC_E_OUT_OF_SEQUENCE; any
 * call returns one of the documented per-message statuses; a stream's
 * DATA points inside the stream.
 */
#include "fuzz_ctx.h"
#include "fuzz_input.h"

#include "gss-pkcs11/sspi.h"

#define MAX_BUFS 8
#define MAX_LEN 4096
#define MAX_MSG 1024
#define TOK_ROOM (16 + 64)

static CredHandle icred, acred;
static CtxtHandle ictx, actx;
static ULONG last_seq[2]; /* per sender (0 initiator): highest used */

/* Runs an SSPI handshake between the two handles; aborts on failure. */
static void establish(void)
{
    SECURITY_STATUS ist = SEC_I_CONTINUE_NEEDED, ast = SEC_I_CONTINUE_NEEDED;
    uint8_t a[16384], b[16384];
    ULONG in_len = 0, attrs;
    TimeStamp exp;
    bool first_i = true, first_a = true;

    while (ist == SEC_I_CONTINUE_NEEDED) {
        SecBuffer ib = {in_len, SECBUFFER_TOKEN, b},
                  ob = {sizeof(a), SECBUFFER_TOKEN, a};
        SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};

        ist = InitializeSecurityContextA(
            &icred, first_i ? NULL : &ictx,
            first_i ? (SEC_CHAR *)"host@localhost" : NULL,
            ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY |
                ISC_REQ_REPLAY_DETECT,
            0, SECURITY_NATIVE_DREP, first_i ? NULL : &id, 0, &ictx, &od,
            &attrs, &exp);
        first_i = false;
        if (ist != SEC_E_OK && ist != SEC_I_CONTINUE_NEEDED)
            FZ_FAIL("InitializeSecurityContextA: 0x%08x", (unsigned)ist);
        if (ist == SEC_E_OK)
            break;
        ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, a};
        ob = (SecBuffer){sizeof(b), SECBUFFER_TOKEN, b};
        ast = AcceptSecurityContext(&acred, first_a ? NULL : &actx, &id, 0,
                                    SECURITY_NATIVE_DREP, &actx, &od, &attrs,
                                    &exp);
        first_a = false;
        if (ast != SEC_E_OK && ast != SEC_I_CONTINUE_NEEDED)
            FZ_FAIL("AcceptSecurityContext: 0x%08x", (unsigned)ast);
        in_len = ob.cbBuffer;
    }
    if (ast != SEC_E_OK)
        FZ_FAIL("the acceptor did not complete");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    SECURITY_STATUS st;

    (void)argc;
    (void)argv;
    fz_token_setup(); /* exit 77 without the token */
    st = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)GSS_PKCS11_SSP_NAME,
                                   SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                   &icred, NULL);
    if (st == SEC_E_OK)
        st = AcquireCredentialsHandleA(
            (SEC_CHAR *)"host@localhost", (SEC_CHAR *)GSS_PKCS11_SSP_NAME,
            SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &acred, NULL);
    if (st != SEC_E_OK)
        FZ_FAIL("AcquireCredentialsHandleA: 0x%08x", (unsigned)st);
    establish();
    return 0;
}

/* The statuses a receiving per-message call may give. */
static bool allowed(SECURITY_STATUS st)
{
    switch (st) {
    case SEC_E_OK:
    case SEC_E_INVALID_TOKEN:
    case SEC_E_MESSAGE_ALTERED:
    case SEC_E_OUT_OF_SEQUENCE:
    case SEC_E_INVALID_PARAMETER:
    case SEC_E_INCOMPLETE_MESSAGE:
        return true;
    default:
        return false;
    }
}

/* The big-endian SND_SEQ of a token (low 32 bits, as MessageSeqNo). */
static ULONG tok_seq(const uint8_t *t)
{
    return (ULONG)t[12] << 24 | (ULONG)t[13] << 16 | (ULONG)t[14] << 8 | t[15];
}

/* A token by the sender: wire = token || (ciphertext or message). */
struct wire {
    uint8_t buf[TOK_ROOM + MAX_MSG];
    size_t tok_len, len;
    ULONG seq;
    bool made;
};

static void make_token(CtxtHandle *h, int sender, bool mic, bool integ,
                       ULONG qop, bool explicit_, uint8_t step,
                       const uint8_t *msg, size_t mlen, struct wire *w)
{
    uint8_t tok[TOK_ROOM], *data = fz_dup(msg, mlen);
    SecBuffer b[2];
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    ULONG seqno = explicit_ ? last_seq[sender] + 1 + step : 0;
    SECURITY_STATUS st;

    b[0] = (SecBuffer){(ULONG)mlen, SECBUFFER_DATA, data};
    b[1] = (SecBuffer){sizeof(tok), SECBUFFER_TOKEN, tok};
    if (mic) {
        st = MakeSignature(h, qop, &d, seqno);
    } else {
        b[0] = (SecBuffer){sizeof(tok), SECBUFFER_TOKEN, tok};
        b[1] = (SecBuffer){(ULONG)mlen, SECBUFFER_DATA, data};
        st = EncryptMessage(h, integ ? SECQOP_WRAP_NO_ENCRYPT : qop, &d, seqno);
    }
    w->made = st == SEC_E_OK;
    if (st != SEC_E_OK && st != SEC_E_QOP_NOT_SUPPORTED)
        FZ_FAIL("making a token: 0x%08x", (unsigned)st);
    if (w->made) {
        SecBuffer *t = mic ? &b[1] : &b[0];

        w->tok_len = t->cbBuffer;
        memcpy(w->buf, tok, w->tok_len);
        if (mlen)
            memcpy(w->buf + w->tok_len, mic ? msg : data, mlen);
        w->len = w->tok_len + mlen;
        w->seq = tok_seq(tok);
        if (w->seq > last_seq[sender])
            last_seq[sender] = w->seq;
    }
    free(data);
}

/* The canonical layout: the call must succeed (or, with a mismatching
 * MessageSeqNo, be refused as out of sequence). */
static void canonical(CtxtHandle *h, bool mic, bool stream, struct wire *w,
                      const uint8_t *msg, size_t mlen, ULONG seqno,
                      bool mismatch, ULONG want_qop)
{
    uint8_t *all = fz_dup(w->buf, w->len);
    SecBuffer b[2];
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    ULONG qop = 0;
    SECURITY_STATUS st;
    const uint8_t *out;

    if (mic) {
        b[0] = (SecBuffer){(ULONG)mlen, SECBUFFER_DATA, all + w->tok_len};
        b[1] = (SecBuffer){(ULONG)w->tok_len, SECBUFFER_TOKEN, all};
        st = VerifySignature(h, &d, seqno, &qop);
        out = all + w->tok_len;
    } else if (stream) {
        b[0] = (SecBuffer){(ULONG)w->len, SECBUFFER_STREAM, all};
        b[1] = (SecBuffer){0, SECBUFFER_DATA, NULL};
        st = DecryptMessage(h, &d, seqno, &qop);
        out = b[1].pvBuffer;
        if (st == SEC_E_OK && b[1].cbBuffer != mlen)
            FZ_FAIL("stream DATA has %u bytes, not %zu",
                    (unsigned)b[1].cbBuffer, mlen);
    } else {
        b[0] = (SecBuffer){(ULONG)w->tok_len, SECBUFFER_TOKEN, all};
        b[1] = (SecBuffer){(ULONG)mlen, SECBUFFER_DATA, all + w->tok_len};
        st = DecryptMessage(h, &d, seqno, &qop);
        out = all + w->tok_len;
    }
    if (mismatch && st != SEC_E_OUT_OF_SEQUENCE)
        FZ_FAIL("a token under another number: 0x%08x", (unsigned)st);
    if (!mismatch && st != SEC_E_OK)
        FZ_FAIL("a real token in the canonical layout: 0x%08x", (unsigned)st);
    if (st == SEC_E_OK && mlen && memcmp(out, msg, mlen) != 0)
        FZ_FAIL("the message came back changed");
    if (st == SEC_E_OK && qop != want_qop)
        FZ_FAIL("QOP %u reported, %u used", (unsigned)qop, (unsigned)want_qop);
    free(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    uint8_t op = fz_u8(&in), step = 0;
    bool mic = op & 1, recv_acc = op & 2, canon = op & 4;
    bool explicit_ = op & 0x20, stream = op & 0x40, integ = !mic && (op & 0x80);
    int seqmode = (op >> 3) & 3;
    ULONG qop = fz_u8(&in) % 7, seqno = 0, got_qop = 0;
    size_t mlen = fz_u16(&in) % MAX_MSG, got, used = 0;
    CtxtHandle *sender = recv_acc ? &ictx : &actx;
    CtxtHandle *receiver = recv_acc ? &actx : &ictx;
    uint8_t *msg = calloc(mlen ? mlen : 1, 1), *bufs[MAX_BUFS] = {0};
    const uint8_t *p = fz_bytes(&in, mlen, &got);
    SecBuffer b[MAX_BUFS];
    SecBufferDesc d = {SECBUFFER_VERSION, 0, b};
    static struct wire w;
    SECURITY_STATUS st;

    if (msg == NULL)
        abort();
    if (got)
        memcpy(msg, p, got);
    if (explicit_)
        step = (uint8_t)(fz_u8(&in) & 3);
    make_token(sender, recv_acc ? 0 : 1, mic, integ, qop, explicit_, step, msg,
               mlen, &w);
    if (!w.made)
        goto done; /* a QOP this token pair cannot run */
    if (seqmode == 1)
        seqno = w.seq;
    else if (seqmode == 2)
        seqno = (ULONG)fz_u16(&in) << 16 | fz_u16(&in);
    else if (seqmode == 3)
        seqno = w.seq + 1;
    if (canon) {
        canonical(receiver, mic, stream, &w, msg, mlen, seqno,
                  seqno != 0 && seqno != w.seq,
                  mic     ? qop
                  : integ ? SECQOP_WRAP_NO_ENCRYPT
                          : qop);
        goto done;
    }
    d.cBuffers = fz_u8(&in) % (MAX_BUFS + 1);
    for (ULONG i = 0; i < d.cBuffers; i++) {
        uint8_t t = fz_u8(&in);
        size_t len = fz_u16(&in) % MAX_LEN;
        ULONG type = (t & 15) | (t & 0x10 ? SECBUFFER_READONLY : 0) |
                     (t & 0x20 ? SECBUFFER_READONLY_WITH_CHECKSUM : 0);

        if ((t & 0x40) && len == 0)
            len = (t & 15) == SECBUFFER_TOKEN && used == 0 ? w.tok_len
                                                           : w.len - used;
        bufs[i] = calloc(len ? len : 1, 1);
        if (bufs[i] == NULL)
            abort();
        if (t & 0x40) {
            size_t k = len < w.len - used ? len : w.len - used;

            memcpy(bufs[i], w.buf + used, k);
            used += k;
        } else {
            p = fz_bytes(&in, len, &got);
            if (got)
                memcpy(bufs[i], p, got);
        }
        b[i] = (SecBuffer){(ULONG)len, type, t & 0x80 ? NULL : bufs[i]};
    }
    /* The rest edits the buffers' bytes: tampering after the layout. */
    while (in.left >= 3 && d.cBuffers > 0) {
        ULONG i = fz_u8(&in) % d.cBuffers;
        uint8_t x = fz_u8(&in), off = fz_u8(&in);

        if (b[i].cbBuffer && b[i].pvBuffer)
            ((uint8_t *)b[i].pvBuffer)[off % b[i].cbBuffer] ^= x;
    }
    st = mic ? VerifySignature(receiver, &d, seqno, &got_qop)
             : DecryptMessage(receiver, &d, seqno, &got_qop);
    if (!allowed(st))
        FZ_FAIL("status 0x%08x from a receiving call", (unsigned)st);
    /* A stream's DATA must view the inside of the stream. */
    for (ULONG i = 0; st == SEC_E_OK && !mic && i < d.cBuffers; i++) {
        if ((b[i].BufferType & ~SECBUFFER_ATTRMASK) != SECBUFFER_STREAM)
            continue;
        for (ULONG k = 0; k < d.cBuffers; k++) {
            const uint8_t *v = b[k].pvBuffer, *s = bufs[i];

            if ((b[k].BufferType & ~SECBUFFER_ATTRMASK) != SECBUFFER_DATA ||
                v == NULL || v == bufs[k])
                continue;
            if (v < s || v + b[k].cbBuffer > s + b[i].cbBuffer)
                FZ_FAIL("stream DATA outside the stream");
        }
    }
done:
    for (int i = 0; i < MAX_BUFS; i++)
        free(bufs[i]);
    free(msg);
    return 0;
}
