/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attacks on the per-message path through MIT's mechglue (issue 14):
 * replayed and reordered WRAP tokens (gss_unwrap and gss_unwrap_iov),
 * the sequence numbers and IVs of consecutive gss_wrap_iov tokens read
 * off the wire, tampered IOV tokens that must leave the caller's buffers
 * untouched, and the direction byte of the AES-GCM IV.
 *
 * Headers are decoded here from docs/protocol.md 3 (never with the
 * product's parser), and the IV a token implies is computed here from
 * 3.1 and checked in the token itself: the test opens the suite's token,
 * finds the context keys the plugin created (session objects of this
 * process) and asks the token whether the tag verifies under that IV.
 * The keys never leave the token; only a verdict comes back.
 */
#include "gsslib.h"
#include "testlib.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* docs/protocol.md 3: header layout and constants. */
#define HDR_LEN 16
#define TAG_LEN 16
#define TOK_MIC 0x0B01
#define TOK_WRAP 0x0B02
#define F_ACCEPTOR 0x01
#define F_SEALED 0x02
#define F_TAG_FIRST 0x04
#define KIND_MIC 1
#define KIND_WRAP_CLEAR 2
#define KIND_WRAP_SEALED 3

/* An established pair with the given flags, both of which were granted. */
static void pair(struct gl_hs *hs, OM_uint32 flags)
{
    const OM_uint32 window = GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;

    memset(hs, 0, sizeof(*hs));
    hs->target = gl_service("host@localhost");
    hs->req_flags = flags;
    if (!gl_handshake(hs))
        gl_fail("handshake", GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
    /* Otherwise a window test would test nothing. */
    assert_int_equal(hs->iflags & window, flags & window);
    assert_int_equal(hs->aflags & window, flags & window);
}

/* A message of n pseudo-random bytes, varied by salt (caller frees). */
static gss_buffer_desc message(size_t n, unsigned salt)
{
    gss_buffer_desc m = {n, malloc(n ? n : 1)};

    assert_non_null(m.value);
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)m.value)[i] = (uint8_t)(i * 131 + 7 + salt * 29);
    return m;
}

/* A copy of a buffer (caller frees). */
static gss_buffer_desc dup_buf(const gss_buffer_desc *b)
{
    gss_buffer_desc d = {b->length, malloc(b->length ? b->length : 1)};

    assert_non_null(d.value);
    if (b->length)
        memcpy(d.value, b->value, b->length);
    return d;
}

/* The sender and receiver of direction dir (0: initiator -> acceptor). */
static gss_ctx_id_t from(struct gl_hs *hs, int dir)
{
    return dir ? hs->actx : hs->ictx;
}

static gss_ctx_id_t to(struct gl_hs *hs, int dir)
{
    return dir ? hs->ictx : hs->actx;
}

/* ---- the wire, per docs/protocol.md 3 ---------------------------------- */

/* u64 big-endian. */
static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Asserts every header field of a QOP-0 token and returns its SND_SEQ. */
static uint64_t check_header(const gss_buffer_desc *tok, uint16_t tok_id,
                             uint8_t flags)
{
    const uint8_t *b = tok->value;

    assert_true(tok->length >= HDR_LEN + TAG_LEN);
    if (((unsigned)b[0] << 8 | b[1]) != tok_id || b[2] != flags)
        fail_msg("header %02x%02x flags %02x, want %04x flags %02x", b[0], b[1],
                 b[2], tok_id, flags);
    assert_int_equal(b[3], 0xFF);          /* FILLER */
    assert_int_equal(b[4] << 8 | b[5], 0); /* QOP */
    assert_int_equal(b[6], 0);             /* RESERVED */
    assert_int_equal(b[7], 0);
    return be64(b + 8);
}

/* The IV of protocol.md 3.1: direction || kind || 00 00 || u64 SND_SEQ. */
static void doc_iv(uint8_t iv[12], uint8_t dir, uint8_t kind, uint64_t seq)
{
    iv[0] = dir;
    iv[1] = kind;
    iv[2] = iv[3] = 0;
    for (int i = 0; i < 8; i++)
        iv[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* The IV a token's header implies, with direction dir. */
static void implied_iv(const gss_buffer_desc *tok, uint8_t dir, uint8_t iv[12])
{
    const uint8_t *b = tok->value;
    uint8_t kind = b[1] == (TOK_MIC & 0xFF) ? KIND_MIC
                   : (b[2] & F_SEALED) != 0 ? KIND_WRAP_SEALED
                                            : KIND_WRAP_CLEAR;

    doc_iv(iv, dir, kind, be64(b + 8));
}

/* ---- the token as oracle ------------------------------------------------ */

/* The suite's token, opened and logged in once by the test itself. */
static struct gp11_token *oracle_token(void)
{
    static struct gp11_token *tok;

    if (tok == NULL) {
        tok = tl_open();
        tl_assert_err(gp11_token_login(tok), GP11_OK);
    }
    return tok;
}

/*
 * How many of this process's session secret keys with CKA_DECRYPT (the
 * receive keys of the live contexts) verify a QOP-0 token when the
 * AES-GCM IV is the one the token's header implies with direction dir.
 * mic_msg is the message of a MIC token (NULL for WRAP). Inputs per
 * protocol.md 3.1 (version 2): the AAD is the header and the framed
 * message run; a sealed WRAP's run is framed but encrypted.
 */
static int keys_verifying(const gss_buffer_desc *tok,
                          const gss_buffer_desc *mic_msg, uint8_t dir)
{
    struct gp11_token *t = oracle_token();
    const uint8_t *b = tok->value, *aad, *tag, *body;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_TOKEN, &no, sizeof(no)},
                           {CKA_DECRYPT, &yes, sizeof(yes)}};
    struct gp11_object *keys = NULL;
    size_t n_keys = 0, aad_len, body_len, in_len;
    uint8_t iv[12], *in, *out, *a_buf;
    bool mic = b[1] == (TOK_MIC & 0xFF), sealed = b[2] & F_SEALED;
    int ok = 0;

    assert_int_equal(b[4] << 8 | b[5], 0); /* QOP 0: AES-256-GCM */
    body_len = mic ? 0 : tok->length - HDR_LEN - TAG_LEN;
    tag = b + HDR_LEN + (b[2] & F_TAG_FIRST ? 0 : body_len);
    body = b + HDR_LEN + (b[2] & F_TAG_FIRST ? TAG_LEN : 0);
    /* Version 2: A = header || u8 role 01 || u64 length || the bytes
     * (omitted when sealed) for the one data run, none if empty. */
    {
        const uint8_t *run = mic ? mic_msg->value : body;
        size_t run_len = mic ? mic_msg->length : body_len;

        aad_len = HDR_LEN + (run_len ? 9 + (sealed ? 0 : run_len) : 0);
        a_buf = malloc(aad_len);
        assert_non_null(a_buf);
        memcpy(a_buf, b, HDR_LEN);
        if (run_len) {
            a_buf[HDR_LEN] = 1;
            for (int k = 0; k < 8; k++)
                a_buf[HDR_LEN + 1 + k] =
                    (uint8_t)((uint64_t)run_len >> (56 - 8 * k));
            if (!sealed)
                memcpy(a_buf + HDR_LEN + 9, run, run_len);
        }
        aad = a_buf;
    }
    in_len = (sealed ? body_len : 0) + TAG_LEN;
    in = malloc(in_len);
    out = malloc(in_len);
    assert_non_null(in);
    assert_non_null(out);
    if (sealed)
        memcpy(in, body, body_len);
    memcpy(in + in_len - TAG_LEN, tag, TAG_LEN);
    implied_iv(tok, dir, iv);
    tl_assert_err(gp11_object_find(t, tmpl, 3, &keys, &n_keys), GP11_OK);
    assert_true(n_keys >= 2); /* both sides' receive keys at least */
    for (size_t i = 0; i < n_keys; i++)
        ok +=
            gp11_aead_decrypt(t, GP11_AEAD_AES_GCM, &keys[i], iv, aad, aad_len,
                              in, in_len, sealed ? out : NULL) == GP11_OK;
    free(keys);
    free(in);
    free(out);
    free(a_buf);
    return ok;
}

/*
 * Asserts that the token verifies in the token under exactly the IV
 * protocol.md 3.1 gives it (direction dir, its kind, its SND_SEQ), with
 * exactly one key, and under no key with the other direction's IV.
 */
static void assert_doc_iv(const gss_buffer_desc *tok,
                          const gss_buffer_desc *mic_msg, uint8_t dir)
{
    int right = keys_verifying(tok, mic_msg, dir);
    int other = keys_verifying(tok, mic_msg, (uint8_t)!dir);

    if (right != 1 || other != 0)
        fail_msg("token of direction %u, SND_SEQ %llu: %d key(s) verify it "
                 "under the IV of protocol.md 3.1 (want 1), %d under the "
                 "other direction's IV (want 0)",
                 dir, (unsigned long long)be64((uint8_t *)tok->value + 8),
                 right, other);
}

/* ---- IOV helpers -------------------------------------------------------- */

/* gss_wrap_iov of msg with a TRAILER or TagFirst; returns the contiguous
 * token HEADER || DATA || TRAILER (caller frees). */
static gss_buffer_desc wrap_iov(gss_ctx_id_t ctx, int conf, bool trailer,
                                const gss_buffer_desc *msg)
{
    gss_iov_buffer_desc iov[3];
    gss_buffer_desc whole;
    OM_uint32 minor, major;
    int n = trailer ? 3 : 2, conf_state = -1;
    size_t used = 0;

    iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
    iov[0].buffer = (gss_buffer_desc){0, NULL};
    iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[1].buffer = dup_buf(msg);
    iov[2].type = GSS_IOV_BUFFER_TYPE_TRAILER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
    iov[2].buffer = (gss_buffer_desc){0, NULL};
    major = gss_wrap_iov(&minor, ctx, conf, 0, &conf_state, iov, n);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_wrap_iov", major, minor);
    assert_int_equal(conf_state, conf);
    whole.length = 0;
    for (int i = 0; i < n; i++)
        whole.length += iov[i].buffer.length;
    assert_int_equal(whole.length, msg->length + HDR_LEN + TAG_LEN);
    whole.value = malloc(whole.length);
    assert_non_null(whole.value);
    for (int i = 0; i < n; i++) {
        if (iov[i].buffer.length)
            memcpy((uint8_t *)whole.value + used, iov[i].buffer.value,
                   iov[i].buffer.length);
        used += iov[i].buffer.length;
    }
    free(iov[1].buffer.value);
    gss_release_iov_buffer(&minor, iov, n);
    return whole;
}

/* A token cut into fresh HEADER, DATA and (unless tag_first) TRAILER
 * buffers for gss_unwrap_iov, and a copy of what was passed in. */
struct split {
    gss_iov_buffer_desc iov[3];
    gss_buffer_desc passed[3];
    int n;
};

static void split(const gss_buffer_desc *tok, bool tag_first, struct split *s)
{
    const uint8_t *b = tok->value;
    size_t hdr = HDR_LEN + (tag_first ? TAG_LEN : 0);
    size_t body = tok->length - HDR_LEN - TAG_LEN;
    gss_buffer_desc part[3] = {{hdr, (void *)b},
                               {body, (void *)(b + hdr)},
                               {TAG_LEN, (void *)(b + hdr + body)}};
    const OM_uint32 types[3] = {GSS_IOV_BUFFER_TYPE_HEADER,
                                GSS_IOV_BUFFER_TYPE_DATA,
                                GSS_IOV_BUFFER_TYPE_TRAILER};

    s->n = tag_first ? 2 : 3;
    for (int i = 0; i < s->n; i++) {
        s->iov[i].type = types[i];
        s->iov[i].buffer = dup_buf(&part[i]);
        s->passed[i] = dup_buf(&part[i]);
    }
}

/* Asserts every buffer of s is byte for byte what was passed in. */
static void assert_untouched(const struct split *s, const char *what)
{
    for (int i = 0; i < s->n; i++) {
        if (s->iov[i].buffer.length != s->passed[i].length ||
            memcmp(s->iov[i].buffer.value, s->passed[i].value,
                   s->passed[i].length) != 0)
            fail_msg("%s: IOV buffer %d (%s) changed by a failed "
                     "gss_unwrap_iov",
                     what, i,
                     i == 1 ? "DATA"
                     : i    ? "TRAILER"
                            : "HEADER");
    }
}

static void free_split(struct split *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->iov[i].buffer.value);
        free(s->passed[i].value);
    }
}

/* ---- 1. replayed and reordered WRAP tokens ----------------------------- */

enum style { BY_UNWRAP, BY_IOV_SPLIT, BY_IOV_STREAM };
static const char *const style_name[] = {"gss_unwrap", "gss_unwrap_iov",
                                         "gss_unwrap_iov STREAM"};

/* Receives tok with one call style; asserts the message came back, and
 * returns the major status. */
static OM_uint32 receive(gss_ctx_id_t ctx, enum style st,
                         const gss_buffer_desc *tok, const gss_buffer_desc *msg)
{
    gss_buffer_desc out = {0, NULL};
    gss_iov_buffer_desc iov[2];
    OM_uint32 minor, major;
    struct split s;
    int conf = -1;

    switch (st) {
    case BY_UNWRAP:
        major = gss_unwrap(&minor, ctx, (gss_buffer_t)tok, &out, &conf, NULL);
        if (GSS_ERROR(major))
            gl_fail("gss_unwrap", major, minor);
        assert_int_equal(out.length, msg->length);
        assert_memory_equal(out.value, msg->value, msg->length);
        gss_release_buffer(&minor, &out);
        break;
    case BY_IOV_SPLIT:
        split(tok, false, &s);
        major = gss_unwrap_iov(&minor, ctx, &conf, NULL, s.iov, s.n);
        if (GSS_ERROR(major))
            gl_fail("gss_unwrap_iov", major, minor);
        assert_int_equal(s.iov[1].buffer.length, msg->length);
        assert_memory_equal(s.iov[1].buffer.value, msg->value, msg->length);
        free_split(&s);
        break;
    default:
        out = dup_buf(tok);
        iov[0].type = GSS_IOV_BUFFER_TYPE_STREAM;
        iov[0].buffer = out;
        iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
        iov[1].buffer = (gss_buffer_desc){0, NULL};
        major = gss_unwrap_iov(&minor, ctx, &conf, NULL, iov, 2);
        if (GSS_ERROR(major))
            gl_fail("gss_unwrap_iov STREAM", major, minor);
        assert_int_equal(iov[1].buffer.length, msg->length);
        assert_memory_equal(iov[1].buffer.value, msg->value, msg->length);
        free(out.value);
        break;
    }
    assert_int_equal(conf, 1);
    return major;
}

/* Receives and asserts the exact major status (RFC 2743 1.2.3). */
static void expect(gss_ctx_id_t ctx, enum style st, const gss_buffer_desc *tok,
                   const gss_buffer_desc *msg, OM_uint32 want, const char *step)
{
    OM_uint32 got = receive(ctx, st, tok, msg);

    if (got != want)
        fail_msg("%s, %s: major 0x%08x, want 0x%08x", style_name[st], step, got,
                 want);
}

/*
 * Per call style, four new sealed WRAP tokens t0..t3 of one direction:
 * t0, t0 again (replay), t2 (gap), t1 (out of order), t1 again (replay),
 * t3 (in order again). The statuses are protocol.md 3.4's table; without
 * either flag every token is accepted with no supplementary status.
 */
static void replayed_wrap(OM_uint32 flags)
{
    bool replay = flags & GSS_C_REPLAY_FLAG, seq = flags & GSS_C_SEQUENCE_FLAG;
    OM_uint32 dup = replay || seq ? GSS_S_DUPLICATE_TOKEN : GSS_S_COMPLETE;
    OM_uint32 gap = seq ? GSS_S_GAP_TOKEN : GSS_S_COMPLETE;
    OM_uint32 unseq = seq ? GSS_S_UNSEQ_TOKEN : GSS_S_COMPLETE;
    struct gl_hs hs;
    OM_uint32 minor;

    pair(&hs, flags);
    for (int dir = 0; dir < 2; dir++) {
        for (int st = BY_UNWRAP; st <= BY_IOV_STREAM; st++) {
            gss_buffer_desc m[4], t[4];
            gss_ctx_id_t rx = to(&hs, dir);

            for (int i = 0; i < 4; i++) {
                m[i] = message(50 + i, (unsigned)(st * 4 + i));
                assert_int_equal(
                    gss_wrap(&minor, from(&hs, dir), 1, 0, &m[i], NULL, &t[i]),
                    GSS_S_COMPLETE);
            }
            expect(rx, st, &t[0], &m[0], GSS_S_COMPLETE, "first token");
            expect(rx, st, &t[0], &m[0], dup, "first token replayed");
            expect(rx, st, &t[2], &m[2], gap, "third token (gap)");
            expect(rx, st, &t[1], &m[1], unseq, "second token (late)");
            expect(rx, st, &t[1], &m[1], dup, "second token replayed");
            expect(rx, st, &t[3], &m[3], GSS_S_COMPLETE, "fourth token");
            for (int i = 0; i < 4; i++) {
                gss_release_buffer(&minor, &t[i]);
                free(m[i].value);
            }
        }
    }
    gl_hs_release(&hs);
}

static void replayed_wrap_replay_and_sequence(void **state)
{
    (void)state;
    replayed_wrap(GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
}

static void replayed_wrap_replay_only(void **state)
{
    (void)state;
    replayed_wrap(GSS_C_REPLAY_FLAG);
}

static void replayed_wrap_sequence_only(void **state)
{
    (void)state;
    replayed_wrap(GSS_C_SEQUENCE_FLAG);
}

static void replayed_wrap_no_flags(void **state)
{
    (void)state;
    replayed_wrap(0);
}

/* An integrity-only WRAP token replayed through both calls. */
static void replayed_clear_wrap(void **state)
{
    gss_buffer_desc m = message(33, 9), tok, out;
    struct gl_hs hs;
    OM_uint32 minor;
    struct split s;

    (void)state;
    pair(&hs, GSS_C_REPLAY_FLAG);
    assert_int_equal(gss_wrap(&minor, hs.ictx, 0, 0, &m, NULL, &tok),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_unwrap(&minor, hs.actx, &tok, &out, NULL, NULL),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &out);
    assert_int_equal(gss_unwrap(&minor, hs.actx, &tok, &out, NULL, NULL),
                     GSS_S_DUPLICATE_TOKEN);
    gss_release_buffer(&minor, &out);
    split(&tok, false, &s);
    assert_int_equal(gss_unwrap_iov(&minor, hs.actx, NULL, NULL, s.iov, s.n),
                     GSS_S_DUPLICATE_TOKEN);
    free_split(&s);
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&hs);
}

/* ---- 2. consecutive gss_wrap_iov tokens on the wire -------------------- */

/*
 * Two gss_wrap_iov tokens in a row, for each layout and both directions,
 * then a gss_wrap and a gss_get_mic: each takes the next SND_SEQ (read
 * from the header bytes 8..15), so no two share an IV (protocol.md 3.1,
 * computed from the header), each verifies in the token under exactly
 * that IV, and the receiver accepts all of them in order.
 */
static void wrap_iov_advances_sequence(void **state)
{
    struct gl_hs hs;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs, GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    for (int dir = 0; dir < 2; dir++) {
        uint8_t ivs[11][12];
        uint64_t want = 0;
        int n_iv = 0;

        for (int layout = 0; layout < 4; layout++) {
            int conf = layout & 1;
            bool trailer = layout & 2;
            uint8_t flags =
                (uint8_t)((dir ? F_ACCEPTOR : 0) | (conf ? F_SEALED : 0) |
                          (trailer ? 0 : F_TAG_FIRST));
            gss_buffer_desc m[2], t[2];

            for (int i = 0; i < 2; i++) {
                m[i] = message(64 + (size_t)i, (unsigned)(layout * 2 + i));
                t[i] = wrap_iov(from(&hs, dir), conf, trailer, &m[i]);
            }
            for (int i = 0; i < 2; i++) {
                uint64_t got = check_header(&t[i], TOK_WRAP, flags);
                struct split s;

                if (got != want)
                    fail_msg("direction %d, conf %d, %s: gss_wrap_iov token "
                             "%d has SND_SEQ %llu, want %llu",
                             dir, conf, trailer ? "TRAILER" : "TagFirst", i,
                             (unsigned long long)got, (unsigned long long)want);
                want++;
                implied_iv(&t[i], (uint8_t)dir, ivs[n_iv++]);
                assert_doc_iv(&t[i], NULL, (uint8_t)dir);
                split(&t[i], !trailer, &s);
                major = gss_unwrap_iov(&minor, to(&hs, dir), NULL, NULL, s.iov,
                                       s.n);
                if (major != GSS_S_COMPLETE)
                    gl_fail("gss_unwrap_iov of the next token", major, minor);
                assert_memory_equal(s.iov[1].buffer.value, m[i].value,
                                    m[i].length);
                free_split(&s);
            }
            for (int i = 0; i < 2; i++) {
                free(t[i].value);
                free(m[i].value);
            }
        }
        /* gss_wrap and gss_get_mic continue the same counter. */
        for (int i = 0; i < 3; i++) {
            gss_buffer_desc m = message(20, 77), t;
            bool mic = i == 2;
            OM_uint32 got;

            if (mic) {
                major = gss_get_mic(&minor, from(&hs, dir), 0, &m, &t);
                assert_int_equal(major, GSS_S_COMPLETE);
            } else if (i == 0) {
                major = gss_wrap(&minor, from(&hs, dir), 1, 0, &m, NULL, &t);
                assert_int_equal(major, GSS_S_COMPLETE);
            } else {
                t = wrap_iov(from(&hs, dir), 1, true, &m);
            }
            got = (OM_uint32)check_header(
                &t, mic ? TOK_MIC : TOK_WRAP,
                (uint8_t)((dir ? F_ACCEPTOR : 0) | (mic ? 0 : F_SEALED)));
            assert_int_equal(got, want);
            want++;
            implied_iv(&t, (uint8_t)dir, ivs[n_iv++]);
            assert_doc_iv(&t, mic ? &m : NULL, (uint8_t)dir);
            if (mic) {
                assert_int_equal(
                    gss_verify_mic(&minor, to(&hs, dir), &m, &t, NULL),
                    GSS_S_COMPLETE);
                gss_release_buffer(&minor, &t);
            } else {
                gss_buffer_desc out;

                assert_int_equal(
                    gss_unwrap(&minor, to(&hs, dir), &t, &out, NULL, NULL),
                    GSS_S_COMPLETE);
                gss_release_buffer(&minor, &out);
                if (i == 0)
                    gss_release_buffer(&minor, &t);
                else
                    free(t.value);
            }
            free(m.value);
        }
        /* No IV of a direction repeats (the key is the direction's). */
        for (int a = 0; a < n_iv; a++)
            for (int b = a + 1; b < n_iv; b++)
                if (memcmp(ivs[a], ivs[b], 12) == 0)
                    fail_msg("direction %d: tokens %d and %d share an IV", dir,
                             a, b);
    }
    gl_hs_release(&hs);
}

/* ---- 3. tampered IOV tokens --------------------------------------------- */

/* Where a tamper flips a bit: a tag byte, a body byte, the SND_SEQ's
 * last byte, or the Sealed flag. */
enum tamper { T_TAG, T_BODY, T_SEQ, T_SEALED_FLAG, N_TAMPER };
static const char *const tamper_name[] = {"tag byte", "body byte",
                                          "SND_SEQ byte", "Sealed flag"};

/* Flips one bit of a contiguous token (layout from tag_first). */
static void flip(gss_buffer_desc *tok, bool tag_first, enum tamper t)
{
    uint8_t *b = tok->value;
    size_t body = tok->length - HDR_LEN - TAG_LEN;

    switch (t) {
    case T_TAG:
        b[tag_first ? HDR_LEN + 5 : HDR_LEN + body + 5] ^= 0x20;
        break;
    case T_BODY:
        b[HDR_LEN + (tag_first ? TAG_LEN : 0) + body / 2] ^= 0x01;
        break;
    case T_SEQ:
        b[15] ^= 0x01;
        break;
    default:
        b[2] ^= F_SEALED;
        break;
    }
}

/*
 * For a layout (TRAILER, TagFirst, STREAM) and conf: a token t0 tampered
 * four ways and each presented to gss_unwrap_iov must give GSS_S_BAD_MIC
 * and leave every buffer the caller passed byte for byte as it was (no
 * plaintext, no scratch bytes, nothing of an unverified message); then
 * the genuine t0 and t1 are accepted in sequence with no supplementary
 * status (the failures consumed no sequence number).
 */
static void tampered_iov(int conf, int layout)
{
    bool stream = layout == 2, tag_first = layout == 1;
    static const char *const layout_name[] = {"TRAILER", "TagFirst", "STREAM"};
    gss_buffer_desc m[2], t[2];
    struct gl_hs hs;
    OM_uint32 minor, major;
    char what[128];

    pair(&hs, GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    for (int i = 0; i < 2; i++) {
        m[i] = message(200 + (size_t)i, (unsigned)(conf * 8 + layout * 2 + i));
        t[i] = wrap_iov(hs.ictx, conf, !tag_first, &m[i]);
    }
    for (int k = 0; k < N_TAMPER; k++) {
        gss_buffer_desc bad = dup_buf(&t[0]);

        snprintf(what, sizeof(what), "conf %d, %s, %s flipped", conf,
                 layout_name[layout], tamper_name[k]);
        flip(&bad, tag_first, (enum tamper)k);
        if (stream) {
            gss_buffer_desc passed = dup_buf(&bad);
            gss_iov_buffer_desc iov[2] = {
                {GSS_IOV_BUFFER_TYPE_STREAM, bad},
                {GSS_IOV_BUFFER_TYPE_DATA, {0, NULL}}};

            major = gss_unwrap_iov(&minor, hs.actx, NULL, NULL, iov, 2);
            if (major != GSS_S_BAD_MIC)
                fail_msg("%s: major 0x%08x, want GSS_S_BAD_MIC", what, major);
            if (memcmp(bad.value, passed.value, bad.length) != 0)
                fail_msg("%s: the STREAM buffer was changed by a failed "
                         "gss_unwrap_iov",
                         what);
            /* DATA, if it shows anything, shows the bytes passed in. */
            if (iov[1].buffer.length != 0 &&
                (iov[1].buffer.length > bad.length - HDR_LEN - TAG_LEN ||
                 memcmp(iov[1].buffer.value,
                        (uint8_t *)passed.value + HDR_LEN +
                            (tag_first ? TAG_LEN : 0),
                        iov[1].buffer.length) != 0))
                fail_msg("%s: the DATA buffer shows unverified bytes", what);
            free(passed.value);
        } else {
            struct split s;

            split(&bad, tag_first, &s);
            major = gss_unwrap_iov(&minor, hs.actx, NULL, NULL, s.iov, s.n);
            if (major != GSS_S_BAD_MIC)
                fail_msg("%s: major 0x%08x, want GSS_S_BAD_MIC", what, major);
            assert_untouched(&s, what);
            free_split(&s);
        }
        free(bad.value);
    }
    /* The next good tokens, in sequence. */
    for (int i = 0; i < 2; i++) {
        if (stream) {
            gss_buffer_desc copy = dup_buf(&t[i]);
            gss_iov_buffer_desc iov[2] = {
                {GSS_IOV_BUFFER_TYPE_STREAM, copy},
                {GSS_IOV_BUFFER_TYPE_DATA, {0, NULL}}};

            major = gss_unwrap_iov(&minor, hs.actx, NULL, NULL, iov, 2);
            if (major != GSS_S_COMPLETE)
                gl_fail("the genuine token after tampered ones", major, minor);
            assert_int_equal(iov[1].buffer.length, m[i].length);
            assert_memory_equal(iov[1].buffer.value, m[i].value, m[i].length);
            free(copy.value);
        } else {
            struct split s;

            split(&t[i], tag_first, &s);
            major = gss_unwrap_iov(&minor, hs.actx, NULL, NULL, s.iov, s.n);
            if (major != GSS_S_COMPLETE)
                gl_fail("the genuine token after tampered ones", major, minor);
            assert_memory_equal(s.iov[1].buffer.value, m[i].value, m[i].length);
            free_split(&s);
        }
        free(t[i].value);
        free(m[i].value);
    }
    gl_hs_release(&hs);
}

static void tampered_iov_sealed(void **state)
{
    (void)state;
    for (int layout = 0; layout < 3; layout++)
        tampered_iov(1, layout);
}

static void tampered_iov_integrity_only(void **state)
{
    (void)state;
    for (int layout = 0; layout < 3; layout++)
        tampered_iov(0, layout);
}

/* ---- 4. the direction byte of the IV ------------------------------------ */

/*
 * Tokens of both directions with equal SND_SEQ, of every kind (MIC, WRAP
 * clear, WRAP sealed, and the IOV form), must imply different IVs. The IV
 * is not on the wire; the header carries direction (SentByAcceptor),
 * kind (TOK_ID, Sealed) and SND_SEQ, from which protocol.md 3.1 builds
 * it. Two peers built from the same code agree on any IV rule, so a rule
 * without the direction byte round-trips and no gss_* result shows it;
 * what shows it is the token: the receive key of each direction verifies
 * the tag under the IV of the document, and under no other direction's
 * IV. An acceptor token made with direction byte 0 fails that check.
 */
static void iv_carries_direction(void **state)
{
    struct gl_hs hs;
    OM_uint32 minor;

    (void)state;
    pair(&hs, 0);
    for (int kind = 0; kind < 4; kind++) {
        gss_buffer_desc m = message(48, (unsigned)kind), t[2];
        uint8_t iv[2][12];

        for (int dir = 0; dir < 2; dir++) {
            gss_ctx_id_t ctx = from(&hs, dir);
            uint8_t flags = dir ? F_ACCEPTOR : 0;

            if (kind == 0)
                assert_int_equal(gss_get_mic(&minor, ctx, 0, &m, &t[dir]),
                                 GSS_S_COMPLETE);
            else if (kind < 3)
                assert_int_equal(
                    gss_wrap(&minor, ctx, kind == 2, 0, &m, NULL, &t[dir]),
                    GSS_S_COMPLETE);
            else
                t[dir] = wrap_iov(ctx, 1, true, &m);
            if (kind >= 2)
                flags |= F_SEALED;
            assert_int_equal(
                check_header(&t[dir], kind ? TOK_WRAP : TOK_MIC, flags), kind);
            implied_iv(&t[dir], (uint8_t)dir, iv[dir]);
            assert_doc_iv(&t[dir], kind ? NULL : &m, (uint8_t)dir);
        }
        /* Equal SND_SEQ, different IVs. */
        assert_memory_equal((uint8_t *)t[0].value + 8,
                            (uint8_t *)t[1].value + 8, 8);
        assert_memory_not_equal(iv[0], iv[1], 12);
        for (int dir = 0; dir < 2; dir++) {
            if (kind == 3) {
                free(t[dir].value);
            } else {
                gss_buffer_desc out;

                if (kind)
                    assert_int_equal(gss_unwrap(&minor, to(&hs, dir), &t[dir],
                                                &out, NULL, NULL),
                                     GSS_S_COMPLETE);
                else
                    assert_int_equal(
                        gss_verify_mic(&minor, to(&hs, dir), &m, &t[dir], NULL),
                        GSS_S_COMPLETE);
                if (kind)
                    gss_release_buffer(&minor, &out);
                gss_release_buffer(&minor, &t[dir]);
            }
        }
        free(m.value);
    }
    gl_hs_release(&hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replayed_wrap_replay_and_sequence),
        cmocka_unit_test(replayed_wrap_replay_only),
        cmocka_unit_test(replayed_wrap_sequence_only),
        cmocka_unit_test(replayed_wrap_no_flags),
        cmocka_unit_test(replayed_clear_wrap),
        cmocka_unit_test(wrap_iov_advances_sequence),
        cmocka_unit_test(tampered_iov_sealed),
        cmocka_unit_test(tampered_iov_integrity_only),
        cmocka_unit_test(iv_carries_direction),
    };

    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
