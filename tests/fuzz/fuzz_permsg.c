/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the whole receive path of per-message tokens on real
 * contexts (gp11_gss_verify_mic, gp11_gss_unwrap, gp11_gss_unwrap_iov and
 * gp11_gss_verify_mic_iov), with the keys in the SoftHSM2 token. Two
 * context pairs are established once at start-up, one with replay and
 * sequence detection and one without.
 *
 * Input:
 *   u8 op    bits 0-1 the receiving call: 0 verify_mic, 1 unwrap,
 *            2 unwrap_iov with a STREAM buffer, 3 unwrap_iov with
 *            HEADER/DATA/TRAILER; bit 2 a real token (else the input's);
 *            bit 3 the acceptor sends (else the initiator); bit 4 sealed;
 *            bit 5 deliver twice; bit 6 DATA buffer with ALLOCATE (STREAM)
 *            or verify_mic_iov (MIC); bit 7 the pair without replay and
 *            sequence detection
 *   u8 qop   the sender's QOP (real tokens); for the input's tokens laid
 *            out over HEADER/DATA/TRAILER: bits 0-2 the tag length
 *            (0, 16, 32, 48, 64), bit 3 tag in the header
 *   u64 seq  (real tokens) the sender's next sequence number
 *   u16 len, message
 *   the rest: the token (the input's), or edits (u16 offset, u8 xor) to
 *            the real token, applied to token || message for MIC tokens
 *
 * The receiver's window is reset before each input, so an input means the
 * same thing whatever ran before.
 *
 * Invariants: a real token that no edit changed verifies, gives back the
 * message, the QOP and the confidentiality state; delivered twice to a
 * pair with replay detection, the second is a duplicate; an edited token
 * that still verifies gives back exactly the message that was sent (a
 * changed message never verifies).
 */
#include "fuzz_ctx.h"
#include "fuzz_input.h"
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_error.h"
#include "gp11_permsg.h"
#include "gp11_qop.h"

#define PAIR_FLAGS (GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG)

static gss_ctx_id_t ini[2], acc[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_token_setup();
    fz_establish(fz_target_ec,
                 PAIR_FLAGS | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG, &ini[0],
                 &acc[0]);
    fz_establish(fz_target_ec, PAIR_FLAGS, &ini[1], &acc[1]);
    return 0;
}

/* What one delivery gave. */
struct result {
    OM_uint32 major, minor;
    gss_buffer_desc msg; /* unwrapped message, malloc'ed (or NULL) */
    int conf;
    gss_qop_t qop;
};

/* Tag length of a header's QOP (16 if unknown). */
static size_t tag_len_of(const uint8_t *tok, size_t len)
{
    const struct gp11_qop *q;

    if (len < 16)
        return 16;
    q = gp11_qop_find((uint32_t)tok[4] << 8 | tok[5]);
    return q != NULL ? q->tag_len : 16;
}

/* unwrap_iov over a STREAM buffer holding a copy of the token. */
static void unwrap_stream(gss_ctx_id_t rx, const uint8_t *tok, size_t len,
                          bool allocate, struct result *r)
{
    gss_iov_buffer_desc iov[2];
    uint8_t *copy = fz_dup(tok, len);

    iov[0].type = GSS_IOV_BUFFER_TYPE_STREAM;
    iov[0].buffer = (gss_buffer_desc){len, copy};
    iov[1].type = GSS_IOV_BUFFER_TYPE_DATA |
                  (allocate ? GSS_IOV_BUFFER_FLAG_ALLOCATE : 0);
    iov[1].buffer = (gss_buffer_desc){0, NULL};
    r->major = gp11_gss_unwrap_iov(&r->minor, rx, &r->conf, &r->qop, iov, 2);
    if (r->major == GSS_S_COMPLETE ||
        (!GSS_ERROR(r->major) && iov[1].buffer.length <= len))
        r->msg = (gss_buffer_desc){
            iov[1].buffer.length,
            fz_dup(iov[1].buffer.value, iov[1].buffer.length)};
    if (iov[1].type & GSS_IOV_BUFFER_FLAG_ALLOCATED)
        free(iov[1].buffer.value);
    free(copy);
}

/* unwrap_iov over HEADER, DATA and TRAILER buffers cut from the token. */
static void unwrap_split(gss_ctx_id_t rx, const uint8_t *tok, size_t len,
                         size_t tag, bool tag_first, struct result *r)
{
    size_t hlen = 16 + (tag_first ? tag : 0), tlen = tag_first ? 0 : tag;
    uint8_t *h, *d, *t;
    gss_iov_buffer_desc iov[3];
    size_t dlen;

    if (len < hlen + tlen) {
        r->major = GSS_S_DEFECTIVE_TOKEN;
        return;
    }
    dlen = len - hlen - tlen;
    h = fz_dup(tok, hlen);
    d = fz_dup(tok + hlen, dlen);
    t = fz_dup(tok + hlen + dlen, tlen);
    iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
    iov[0].buffer = (gss_buffer_desc){hlen, h};
    iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[1].buffer = (gss_buffer_desc){dlen, d};
    iov[2].type = GSS_IOV_BUFFER_TYPE_TRAILER;
    iov[2].buffer = (gss_buffer_desc){tlen, t};
    r->major = gp11_gss_unwrap_iov(&r->minor, rx, &r->conf, &r->qop, iov,
                                   tag_first ? 2 : 3);
    if (r->major == GSS_S_COMPLETE || !GSS_ERROR(r->major))
        r->msg = (gss_buffer_desc){dlen, fz_dup(d, dlen)};
    free(h);
    free(d);
    free(t);
}

/* verify_mic_iov with the message split in two DATA buffers. */
static void verify_mic_iov(gss_ctx_id_t rx, const uint8_t *msg, size_t mlen,
                           const uint8_t *tok, size_t len, struct result *r)
{
    uint8_t *m = fz_dup(msg, mlen), *t = fz_dup(tok, len);
    gss_iov_buffer_desc iov[3];
    size_t half = mlen / 2;

    iov[0].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[0].buffer = (gss_buffer_desc){half, m};
    iov[1].type = GSS_IOV_BUFFER_TYPE_MIC_TOKEN;
    iov[1].buffer = (gss_buffer_desc){len, t};
    iov[2].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[2].buffer = (gss_buffer_desc){mlen - half, m + half};
    r->major = gp11_gss_verify_mic_iov(&r->minor, rx, &r->qop, iov, 3);
    free(m);
    free(t);
}

/* Delivers one token to the receiver with the chosen call. */
static void deliver(gss_ctx_id_t rx, unsigned op, uint8_t qop_byte,
                    const uint8_t *msg, size_t mlen, const uint8_t *tok,
                    size_t len, struct result *r)
{
    static const size_t tags[8] = {0, 16, 32, 48, 64, 16, 16, 16};
    gss_buffer_desc m = {mlen, fz_dup(msg, mlen)};
    gss_buffer_desc t = {len, fz_dup(tok, len)};
    bool real = op & 4;
    size_t tag;

    memset(r, 0, sizeof(*r));
    r->conf = -1;
    switch (op & 3) {
    case 0:
        if (op & 0x40)
            verify_mic_iov(rx, msg, mlen, tok, len, r);
        else
            r->major = gp11_gss_verify_mic(&r->minor, rx, &m, &t, &r->qop);
        break;
    case 1:
        r->major =
            gp11_gss_unwrap(&r->minor, rx, &t, &r->msg, &r->conf, &r->qop);
        break;
    case 2:
        unwrap_stream(rx, tok, len, op & 0x40, r);
        break;
    default:
        tag = real ? tag_len_of(tok, len) : tags[qop_byte & 7];
        unwrap_split(rx, tok, len, tag, !real && (qop_byte & 8), r);
        break;
    }
    free(m.value);
    free(t.value);
}

/* Makes a real token of the kind the receiving call takes; false if the
 * sender refused (an unusable QOP, sequence numbers used up). */
static bool make_token(gss_ctx_id_t tx, unsigned op, gss_qop_t qop,
                       const uint8_t *msg, size_t mlen, gss_buffer_t tok)
{
    gss_buffer_desc m = {mlen, (void *)msg};
    OM_uint32 minor, major;
    int conf = (op & 0x10) != 0;

    if ((op & 3) == 0)
        major = gp11_gss_get_mic(&minor, tx, qop, &m, tok);
    else
        major = gp11_gss_wrap(&minor, tx, conf, qop, &m, NULL, tok);
    return major == GSS_S_COMPLETE;
}

/* Checks one delivery of a real token against what was sent. */
static void check(unsigned op, gss_qop_t qop, bool changed, bool msg_changed,
                  const uint8_t *msg, size_t mlen, const struct result *r)
{
    bool is_mic = (op & 3) == 0;

    if (GSS_ERROR(r->major)) {
        if (!changed)
            FZ_FAIL("a real token (op 0x%02x, QOP %u) failed: 0x%x %s", op,
                    (unsigned)qop, r->major, gp11_err_message(r->minor));
        return;
    }
    if (is_mic && msg_changed)
        FZ_FAIL("a MIC verified over a changed message");
    if (!is_mic && (r->msg.length != mlen ||
                    (mlen && memcmp(r->msg.value, msg, mlen) != 0)))
        FZ_FAIL("a %s token verified and gave another message (%zu bytes, "
                "%zu sent)",
                changed ? "changed" : "real", r->msg.length, mlen);
    if (!changed && r->qop != qop)
        FZ_FAIL("QOP %u reported for a token of QOP %u", (unsigned)r->qop,
                (unsigned)qop);
    if (!changed && !is_mic && r->conf != -1 && r->conf != ((op & 0x10) != 0))
        FZ_FAIL("conf_state %d for a token sealed %d", r->conf,
                (op & 0x10) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    unsigned op = fz_u8(&in);
    uint8_t qop_byte = fz_u8(&in);
    unsigned pair = op >> 7;
    bool from_acc = op & 8, real = op & 4;
    gss_ctx_id_t tx = from_acc ? acc[pair] : ini[pair];
    gss_ctx_id_t rx = from_acc ? ini[pair] : acc[pair];
    struct gp11_ctx *txc = (struct gp11_ctx *)tx, *rxc = (struct gp11_ctx *)rx;
    gss_buffer_desc tok = {0, NULL};
    struct result r1, r2;
    const uint8_t *msg, *raw;
    uint8_t *joined = NULL, *edited_msg = NULL;
    uint64_t seq = 0, saved_seq = txc->send_seq;
    size_t mlen, len;
    bool changed = false, msg_changed = false;

    if (real)
        seq = fz_u64(&in);
    msg = fz_piece16(&in, &mlen);
    gp11_seqwin_init(&rxc->recv, rxc->flags);
    if (real) {
        txc->send_seq = seq;
        if (!make_token(tx, op, qop_byte & 7, msg, mlen, &tok))
            goto done;
        if ((op & 3) == 0) {
            /* Edits reach the message as well as the MIC token. */
            joined = malloc(tok.length + mlen);
            if (joined == NULL)
                abort();
            memcpy(joined, tok.value, tok.length);
            if (mlen)
                memcpy(joined + tok.length, msg, mlen);
            changed = fz_edit(&in, joined, tok.length + mlen);
            memcpy(tok.value, joined, tok.length);
            edited_msg = joined + tok.length;
            msg_changed = mlen && memcmp(edited_msg, msg, mlen) != 0;
        } else {
            changed = fz_edit(&in, tok.value, tok.length);
        }
        deliver(rx, op, qop_byte, edited_msg ? edited_msg : msg, mlen,
                tok.value, tok.length, &r1);
        check(op, qop_byte & 7, changed, msg_changed, msg, mlen, &r1);
    } else {
        raw = fz_rest(&in, &len);
        deliver(rx, op, qop_byte, msg, mlen, raw, len, &r1);
    }
    if (op & 0x20) {
        if (real)
            deliver(rx, op, qop_byte, edited_msg ? edited_msg : msg, mlen,
                    tok.value, tok.length, &r2);
        else
            deliver(rx, op, qop_byte, msg, mlen, raw, len, &r2);
        if (!GSS_ERROR(r1.major) && pair == 0 && !GSS_ERROR(r2.major) &&
            !(r2.major & GSS_S_DUPLICATE_TOKEN))
            FZ_FAIL("a token delivered twice was not a duplicate (0x%x)",
                    r2.major);
        free(r2.msg.value);
    }
    free(r1.msg.value);
done:
    txc->send_seq = saved_seq;
    free(tok.value);
    free(joined);
    gp11_err_clear();
    return 0;
}
