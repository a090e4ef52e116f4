/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-message protection through MIT's mechglue on the suite's token:
 * round trips, tampering, reflection, other contexts, QOPs, sizes and the
 * sequence window with each flag combination.
 */
#include "gsslib.h"
#include "testlib.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* An established pair with the given flags. */
static void pair(struct gl_hs *hs, OM_uint32 flags)
{
    memset(hs, 0, sizeof(*hs));
    hs->target = gl_service("host@localhost");
    hs->req_flags = flags;
    if (!gl_handshake(hs))
        gl_fail("handshake", GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
}

/* A message of n pseudo-random bytes (caller frees). */
static gss_buffer_desc message(size_t n)
{
    gss_buffer_desc m = {n, malloc(n ? n : 1)};

    for (size_t i = 0; i < n; i++)
        ((unsigned char *)m.value)[i] = (unsigned char)(i * 131 + 7);
    return m;
}

static const size_t sizes[] = {0, 1, 15, 16, 17, 4096, 1 << 20};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static void mic_round_trips(void **state)
{
    struct gl_hs hs;
    OM_uint32 minor, major;
    gss_qop_t qop = 99;

    (void)state;
    pair(&hs, 0);
    for (size_t i = 0; i < N_SIZES; i++) {
        gss_buffer_desc m = message(sizes[i]), tok;

        /* Both directions. */
        for (int dir = 0; dir < 2; dir++) {
            gss_ctx_id_t from = dir ? hs.actx : hs.ictx;
            gss_ctx_id_t to = dir ? hs.ictx : hs.actx;

            major = gss_get_mic(&minor, from, GSS_C_QOP_DEFAULT, &m, &tok);
            if (major != GSS_S_COMPLETE)
                gl_fail("gss_get_mic", major, minor);
            assert_int_equal(tok.length, 32);
            major = gss_verify_mic(&minor, to, &m, &tok, &qop);
            if (major != GSS_S_COMPLETE)
                gl_fail("gss_verify_mic", major, minor);
            assert_int_equal(qop, 0);
            gss_release_buffer(&minor, &tok);
        }
        free(m.value);
    }
    gl_hs_release(&hs);
}

static void wrap_round_trips(void **state)
{
    struct gl_hs hs;
    OM_uint32 minor, major, limit = 0;
    int conf_state;

    (void)state;
    pair(&hs, 0);
    for (int conf = 0; conf < 2; conf++) {
        for (size_t i = 0; i < N_SIZES; i++) {
            gss_buffer_desc m = message(sizes[i]), tok, back;

            major = gss_wrap(&minor, hs.ictx, conf, GSS_C_QOP_DEFAULT, &m,
                             &conf_state, &tok);
            if (major != GSS_S_COMPLETE)
                gl_fail("gss_wrap", major, minor);
            assert_int_equal(conf_state, conf);
            assert_int_equal(tok.length, m.length + 32);
            /* Sealed: the message is not in the token in clear. */
            if (conf && m.length >= 16)
                assert_memory_not_equal((char *)tok.value + 16, m.value, 16);
            /* wrap_size_limit is exact for this size. */
            assert_int_equal(gss_wrap_size_limit(&minor, hs.ictx, conf, 0,
                                                 (OM_uint32)tok.length, &limit),
                             GSS_S_COMPLETE);
            assert_int_equal(limit, m.length);
            major = gss_unwrap(&minor, hs.actx, &tok, &back, &conf_state, NULL);
            if (major != GSS_S_COMPLETE)
                gl_fail("gss_unwrap", major, minor);
            assert_int_equal(conf_state, conf);
            assert_int_equal(back.length, m.length);
            if (m.length)
                assert_memory_equal(back.value, m.value, m.length);
            gss_release_buffer(&minor, &tok);
            gss_release_buffer(&minor, &back);
            free(m.value);
        }
    }
    gl_hs_release(&hs);
}

static void version1_names(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(100), tok, back;
    OM_uint32 minor;
    int conf = 0, qop = -1;

    (void)state;
    pair(&hs, 0);
    assert_int_equal(gss_sign(&minor, hs.ictx, 0, &m, &tok), GSS_S_COMPLETE);
    assert_int_equal(gss_verify(&minor, hs.actx, &m, &tok, &qop),
                     GSS_S_COMPLETE);
    assert_int_equal(qop, 0);
    gss_release_buffer(&minor, &tok);
    assert_int_equal(gss_seal(&minor, hs.actx, 1, 0, &m, &conf, &tok),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_unseal(&minor, hs.ictx, &tok, &back, &conf, &qop),
                     GSS_S_COMPLETE);
    assert_true(conf);
    assert_int_equal(back.length, m.length);
    gss_release_buffer(&minor, &tok);
    gss_release_buffer(&minor, &back);
    free(m.value);
    gl_hs_release(&hs);
}

static void unknown_qop_is_refused_before_sending(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(10), tok = {0, NULL};
    OM_uint32 minor, limit;

    (void)state;
    pair(&hs, 0);
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 77, &m, &tok), GSS_S_BAD_QOP);
    assert_int_equal(tok.length, 0);
    assert_int_equal(gss_wrap(&minor, hs.ictx, 1, 77, &m, NULL, &tok),
                     GSS_S_BAD_QOP);
    assert_int_equal(gss_wrap_size_limit(&minor, hs.ictx, 1, 77, 1000, &limit),
                     GSS_S_BAD_QOP);
    /* Nothing was sent: the next token still has sequence number 0. */
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 0, &m, &tok), GSS_S_COMPLETE);
    assert_int_equal(((unsigned char *)tok.value)[15], 0);
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&hs);
}

/* Flips each byte of a token in turn; every flip must fail. */
static void flip_every_byte(bool wrap, int conf)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(40), tok, back;
    OM_uint32 minor, major, bad = wrap ? GSS_S_BAD_MIC : GSS_S_BAD_SIG;

    pair(&hs, GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    if (wrap)
        major = gss_wrap(&minor, hs.ictx, conf, 0, &m, NULL, &tok);
    else
        major = gss_get_mic(&minor, hs.ictx, 0, &m, &tok);
    assert_int_equal(major, GSS_S_COMPLETE);
    for (size_t i = 0; i < tok.length; i++) {
        ((unsigned char *)tok.value)[i] ^= 0x10;
        if (wrap)
            major = gss_unwrap(&minor, hs.actx, &tok, &back, NULL, NULL);
        else
            major = gss_verify_mic(&minor, hs.actx, &m, &tok, NULL);
        if (major != bad && major != GSS_S_DEFECTIVE_TOKEN)
            fail_msg("byte %zu flipped: major 0x%x", i, major);
        ((unsigned char *)tok.value)[i] ^= 0x10;
    }
    /* Truncated at every length (the mechglue itself refuses length 0). */
    for (size_t len = 1; len < tok.length; len++) {
        gss_buffer_desc t = {len, tok.value};

        if (wrap)
            major = gss_unwrap(&minor, hs.actx, &t, &back, NULL, NULL);
        else
            major = gss_verify_mic(&minor, hs.actx, &m, &t, NULL);
        assert_true(major == bad || major == GSS_S_DEFECTIVE_TOKEN);
    }
    /* The untouched token still verifies once: nothing consumed seq 0. */
    if (wrap) {
        assert_int_equal(gss_unwrap(&minor, hs.actx, &tok, &back, NULL, NULL),
                         GSS_S_COMPLETE);
        gss_release_buffer(&minor, &back);
    } else {
        assert_int_equal(gss_verify_mic(&minor, hs.actx, &m, &tok, NULL),
                         GSS_S_COMPLETE);
    }
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&hs);
}

static void tampered_mic(void **state)
{
    (void)state;
    flip_every_byte(false, 0);
}

static void tampered_wrap(void **state)
{
    (void)state;
    flip_every_byte(true, 1);
    flip_every_byte(true, 0);
}

static void modified_message_fails_mic(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(64), tok;
    OM_uint32 minor;

    (void)state;
    pair(&hs, 0);
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 0, &m, &tok), GSS_S_COMPLETE);
    ((unsigned char *)m.value)[63] ^= 1;
    assert_int_equal(gss_verify_mic(&minor, hs.actx, &m, &tok, NULL),
                     GSS_S_BAD_SIG);
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&hs);
}

static void reflected_and_foreign_tokens(void **state)
{
    struct gl_hs a, b;
    gss_buffer_desc m = message(20), tok, back;
    OM_uint32 minor, major;
    char text[512];

    (void)state;
    pair(&a, 0);
    pair(&b, 0);
    /* Back to its sender. */
    assert_int_equal(gss_wrap(&minor, a.ictx, 1, 0, &m, NULL, &tok),
                     GSS_S_COMPLETE);
    major = gss_unwrap(&minor, a.ictx, &tok, &back, NULL, NULL);
    assert_int_equal(major, GSS_S_BAD_MIC);
    gl_minor_text(minor, text, sizeof(text));
    assert_non_null(strstr(text, "reflected"));
    /* To another context's acceptor. */
    assert_int_equal(gss_unwrap(&minor, b.actx, &tok, &back, NULL, NULL),
                     GSS_S_BAD_MIC);
    gss_release_buffer(&minor, &tok);
    assert_int_equal(gss_get_mic(&minor, a.ictx, 0, &m, &tok), GSS_S_COMPLETE);
    assert_int_equal(gss_verify_mic(&minor, b.actx, &m, &tok, NULL),
                     GSS_S_BAD_SIG);
    assert_int_equal(gss_verify_mic(&minor, a.ictx, &m, &tok, NULL),
                     GSS_S_BAD_SIG);
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&a);
    gl_hs_release(&b);
}

/* Asserts the minor text says first that the message was altered, then
 * the detail. */
static void says_altered(OM_uint32 minor, const char *detail)
{
    static const char altered[] =
        "the message was altered or is not from this context";
    char text[1024];
    const char *a, *d;

    gl_minor_text(minor, text, sizeof(text));
    a = strstr(text, altered);
    d = strstr(text, detail);
    if (a != text || d == NULL)
        fail_msg("minor text '%s' does not begin with '%s' then give '%s'",
                 text, altered, detail);
}

/* The decrypting call the sentence names: C_DecryptMessage on the NSS
 * softoken, whose PKCS#11 3.0 message API the probe chooses (issue 11),
 * C_Decrypt on SoftHSM2. */
static const char *decrypt_detail(void)
{
    const char *kind = getenv("GP11_TEST_TOKEN");

    return kind && strcmp(kind, "nss") == 0 ? "C_DecryptMessage returned CKR_"
                                            : "C_Decrypt returned CKR_";
}

/* A tampered message, sealed or not, AEAD or MAC: the GSS major says
 * which check failed, the minor text why in the application's terms. */
static void tampered_message_is_explained(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(40), tok, back;
    OM_uint32 minor;

    (void)state;
    pair(&hs, 0);
    assert_int_equal(gss_wrap(&minor, hs.ictx, 1, 0, &m, NULL, &tok),
                     GSS_S_COMPLETE);
    ((unsigned char *)tok.value)[20] ^= 1;
    assert_int_equal(gss_unwrap(&minor, hs.actx, &tok, &back, NULL, NULL),
                     GSS_S_BAD_MIC);
    says_altered(minor, decrypt_detail());
    gss_release_buffer(&minor, &tok);
    /* The default MIC (GMAC, through C_Decrypt). */
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 0, &m, &tok), GSS_S_COMPLETE);
    ((unsigned char *)m.value)[3] ^= 1;
    assert_int_equal(gss_verify_mic(&minor, hs.actx, &m, &tok, NULL),
                     GSS_S_BAD_SIG);
    says_altered(minor, decrypt_detail());
    gss_release_buffer(&minor, &tok);
    /* A MAC QOP (HMAC-SHA-256), compared by the mechanism. */
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 1, &m, &tok), GSS_S_COMPLETE);
    ((unsigned char *)m.value)[3] ^= 1;
    assert_int_equal(gss_verify_mic(&minor, hs.actx, &m, &tok, NULL),
                     GSS_S_BAD_SIG);
    says_altered(minor, "HMAC-SHA-256");
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&hs);
}

/* Makes n MIC tokens from the initiator. */
static void mics(struct gl_hs *hs, gss_buffer_desc *m, gss_buffer_desc *t,
                 int n)
{
    OM_uint32 minor;

    for (int i = 0; i < n; i++)
        assert_int_equal(gss_get_mic(&minor, hs->ictx, 0, m, &t[i]),
                         GSS_S_COMPLETE);
}

/* Verifies token i at the acceptor and returns the major status. */
static OM_uint32 verify(struct gl_hs *hs, gss_buffer_desc *m,
                        gss_buffer_desc *t)
{
    OM_uint32 minor;

    return gss_verify_mic(&minor, hs->actx, m, t, NULL);
}

static void sequence_window(OM_uint32 flags)
{
    bool replay = flags & GSS_C_REPLAY_FLAG;
    bool seq = flags & GSS_C_SEQUENCE_FLAG;
    gss_buffer_desc m = message(8), t[80];
    struct gl_hs hs;
    OM_uint32 minor;

    pair(&hs, flags);
    mics(&hs, &m, t, 80);
    assert_int_equal(verify(&hs, &m, &t[0]), GSS_S_COMPLETE);
    /* Replayed. */
    assert_int_equal(verify(&hs, &m, &t[0]),
                     replay || seq ? GSS_S_DUPLICATE_TOKEN : GSS_S_COMPLETE);
    /* A gap: 1 and 2 skipped. */
    assert_int_equal(verify(&hs, &m, &t[3]),
                     seq ? GSS_S_GAP_TOKEN : GSS_S_COMPLETE);
    /* Out of order but new. */
    assert_int_equal(verify(&hs, &m, &t[1]),
                     seq ? GSS_S_UNSEQ_TOKEN : GSS_S_COMPLETE);
    assert_int_equal(verify(&hs, &m, &t[1]),
                     replay || seq ? GSS_S_DUPLICATE_TOKEN : GSS_S_COMPLETE);
    /* Move far ahead: 2 falls out of the 64-entry window. */
    assert_int_equal(verify(&hs, &m, &t[79]),
                     seq ? GSS_S_GAP_TOKEN : GSS_S_COMPLETE);
    assert_int_equal(verify(&hs, &m, &t[2]),
                     replay || seq ? GSS_S_OLD_TOKEN : GSS_S_COMPLETE);
    assert_int_equal(verify(&hs, &m, &t[20]),
                     seq ? GSS_S_UNSEQ_TOKEN : GSS_S_COMPLETE);
    /* A bad token does not move the window. */
    ((unsigned char *)t[78].value)[20] ^= 1;
    assert_int_equal(verify(&hs, &m, &t[78]), GSS_S_BAD_SIG);
    ((unsigned char *)t[78].value)[20] ^= 1;
    assert_int_equal(verify(&hs, &m, &t[78]),
                     seq ? GSS_S_UNSEQ_TOKEN : GSS_S_COMPLETE);
    for (int i = 0; i < 80; i++)
        gss_release_buffer(&minor, &t[i]);
    free(m.value);
    gl_hs_release(&hs);
}

static void window_replay_and_sequence(void **state)
{
    (void)state;
    sequence_window(GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
}

static void window_replay_only(void **state)
{
    (void)state;
    sequence_window(GSS_C_REPLAY_FLAG);
}

static void window_sequence_only(void **state)
{
    (void)state;
    sequence_window(GSS_C_SEQUENCE_FLAG);
}

static void window_off(void **state)
{
    (void)state;
    sequence_window(0);
}

static void expired_context_refuses(void **state)
{
    struct gl_hs hs = {0};
    gss_buffer_desc m = message(8), tok, back;
    OM_uint32 minor;
    unsigned scale = tl_time_scale();

    (void)state;
    hs.target = gl_service("host@localhost");
    hs.time_req = scale;
    assert_true(gl_handshake(&hs));
    assert_int_equal(gss_wrap(&minor, hs.ictx, 1, 0, &m, NULL, &tok),
                     GSS_S_COMPLETE);
    sleep(2 * scale);
    assert_int_equal(gss_unwrap(&minor, hs.actx, &tok, &back, NULL, NULL),
                     GSS_S_CONTEXT_EXPIRED);
    gss_release_buffer(&minor, &tok);
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 0, &m, &tok),
                     GSS_S_CONTEXT_EXPIRED);
    free(m.value);
    gl_hs_release(&hs);
}

/* Concatenates the IOV buffers of the given types (caller frees). */
static gss_buffer_desc concat(gss_iov_buffer_desc *iov, int n)
{
    gss_buffer_desc out = {0, NULL};
    size_t used = 0;

    for (int i = 0; i < n; i++)
        out.length += iov[i].buffer.length;
    out.value = malloc(out.length ? out.length : 1);
    for (int i = 0; i < n; i++) {
        if (iov[i].buffer.length == 0)
            continue; /* an empty buffer may be {0, NULL} */
        memcpy((char *)out.value + used, iov[i].buffer.value,
               iov[i].buffer.length);
        used += iov[i].buffer.length;
    }
    return out;
}

static void iov_with_and_without_trailer(void **state)
{
    struct gl_hs hs;
    OM_uint32 minor, major;
    int conf_state = -1;

    (void)state;
    pair(&hs, 0);
    for (int trailer = 0; trailer < 2; trailer++) {
        for (int conf = 0; conf < 2; conf++) {
            gss_buffer_desc m = message(1000), d1, d2, whole, back;
            gss_iov_buffer_desc iov[4];
            int n = trailer ? 4 : 3;

            d1 = (gss_buffer_desc){600, malloc(600)};
            d2 = (gss_buffer_desc){400, malloc(400)};
            memcpy(d1.value, m.value, 600);
            memcpy(d2.value, (char *)m.value + 600, 400);
            iov[0].type =
                GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
            iov[1] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_DATA, d1};
            iov[2] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_DATA, d2};
            iov[3].type =
                GSS_IOV_BUFFER_TYPE_TRAILER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
            major = gss_wrap_iov(&minor, hs.ictx, conf, 0, &conf_state, iov, n);
            if (major != GSS_S_COMPLETE)
                gl_fail("gss_wrap_iov", major, minor);
            assert_int_equal(conf_state, conf);
            assert_int_equal(iov[0].buffer.length, trailer ? 16 : 32);
            if (conf)
                assert_memory_not_equal(d1.value, m.value, 16);
            /* The concatenation is a token gss_unwrap accepts. */
            whole = concat(iov, n);
            major =
                gss_unwrap(&minor, hs.actx, &whole, &back, &conf_state, NULL);
            if (major != GSS_S_COMPLETE)
                gl_fail("gss_unwrap of an IOV token", major, minor);
            assert_int_equal(back.length, 1000);
            assert_memory_equal(back.value, m.value, 1000);
            gss_release_buffer(&minor, &back);
            free(whole.value);
            gss_release_iov_buffer(&minor, iov, n);
            free(d1.value);
            free(d2.value);
            free(m.value);
        }
    }
    gl_hs_release(&hs);
}

static void iov_sign_only_and_in_place_unwrap(void **state)
{
    struct gl_hs hs;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs, 0);
    for (int conf = 0; conf < 2; conf++) {
        gss_buffer_desc m = message(300), sign = message(50);
        gss_iov_buffer_desc iov[4];

        iov[0] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_SIGN_ONLY, sign};
        iov[1].type = GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
        iov[2] =
            (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_DATA, {300, malloc(300)}};
        memcpy(iov[2].buffer.value, m.value, 300);
        iov[3].type =
            GSS_IOV_BUFFER_TYPE_TRAILER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
        assert_int_equal(gss_wrap_iov(&minor, hs.actx, conf, 0, NULL, iov, 4),
                         GSS_S_COMPLETE);
        /* In place, with the same SIGN_ONLY data. */
        major = gss_unwrap_iov(&minor, hs.ictx, NULL, NULL, iov, 4);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_unwrap_iov", major, minor);
        assert_memory_equal(iov[2].buffer.value, m.value, 300);
        /* Another message (into newly allocated HEADER and TRAILER), then
         * a changed SIGN_ONLY buffer: refused. */
        gss_release_iov_buffer(&minor, iov, 4);
        assert_int_equal(gss_wrap_iov(&minor, hs.actx, conf, 0, NULL, iov, 4),
                         GSS_S_COMPLETE);
        ((unsigned char *)sign.value)[7] ^= 1;
        assert_int_equal(gss_unwrap_iov(&minor, hs.ictx, NULL, NULL, iov, 4),
                         GSS_S_BAD_MIC);
        gss_release_iov_buffer(&minor, iov, 4);
        free(iov[2].buffer.value);
        free(sign.value);
        free(m.value);
    }
    gl_hs_release(&hs);
}

static void iov_stream_and_lengths(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(77), tok;
    gss_iov_buffer_desc iov[3], len_iov[4];
    OM_uint32 minor, major;

    (void)state;
    pair(&hs, 0);
    len_iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
    len_iov[1] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_DATA, m};
    len_iov[2].type = GSS_IOV_BUFFER_TYPE_PADDING;
    len_iov[3].type = GSS_IOV_BUFFER_TYPE_TRAILER;
    assert_int_equal(
        gss_wrap_iov_length(&minor, hs.ictx, 1, 0, NULL, len_iov, 4),
        GSS_S_COMPLETE);
    assert_int_equal(len_iov[0].buffer.length, 16);
    assert_int_equal(len_iov[2].buffer.length, 0);
    assert_int_equal(len_iov[3].buffer.length, 16);
    assert_int_equal(
        gss_wrap_iov_length(&minor, hs.ictx, 1, 0, NULL, len_iov, 2),
        GSS_S_COMPLETE);
    assert_int_equal(len_iov[0].buffer.length, 32);
    /* A gss_wrap token opened as a STREAM, copy and in place. */
    for (int alloc = 0; alloc < 2; alloc++) {
        assert_int_equal(gss_wrap(&minor, hs.ictx, 1, 0, &m, NULL, &tok),
                         GSS_S_COMPLETE);
        iov[0] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_STREAM, tok};
        iov[1].type = GSS_IOV_BUFFER_TYPE_DATA |
                      (alloc ? GSS_IOV_BUFFER_FLAG_ALLOCATE : 0);
        iov[1].buffer = (gss_buffer_desc){0, NULL};
        major = gss_unwrap_iov(&minor, hs.actx, NULL, NULL, iov, 2);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_unwrap_iov STREAM", major, minor);
        assert_int_equal(iov[1].buffer.length, 77);
        assert_memory_equal(iov[1].buffer.value, m.value, 77);
        gss_release_iov_buffer(&minor, iov + 1, 1);
        gss_release_buffer(&minor, &tok);
    }
    free(m.value);
    gl_hs_release(&hs);
}

static void mic_iov_and_aead(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(90), assoc = message(10), whole, tok, back;
    gss_buffer_desc back_assoc = {0, NULL};
    gss_iov_buffer_desc iov[3];
    OM_uint32 minor, major;
    int conf = 0;

    (void)state;
    pair(&hs, 0);
    iov[0] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_SIGN_ONLY, assoc};
    iov[1] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_DATA, m};
    iov[2].type = GSS_IOV_BUFFER_TYPE_MIC_TOKEN;
    assert_int_equal(gss_get_mic_iov_length(&minor, hs.ictx, 0, iov, 3),
                     GSS_S_COMPLETE);
    assert_int_equal(iov[2].buffer.length, 32);
    iov[2].type |= GSS_IOV_BUFFER_FLAG_ALLOCATE;
    assert_int_equal(gss_get_mic_iov(&minor, hs.ictx, 0, iov, 3),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_verify_mic_iov(&minor, hs.actx, NULL, iov, 3),
                     GSS_S_COMPLETE);
    /* The MIC covers SIGN_ONLY then DATA: the same as a plain MIC. */
    whole = concat(iov, 2);
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 0, &whole, &tok),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_verify_mic(&minor, hs.actx, &whole, &tok, NULL),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &tok);
    free(whole.value);
    gss_release_iov_buffer(&minor, iov, 3);
    /* AEAD: the mechglue builds it on the IOV calls. */
    major = gss_wrap_aead(&minor, hs.ictx, 1, 0, &assoc, &m, &conf, &tok);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_wrap_aead", major, minor);
    assert_true(conf);
    major = gss_unwrap_aead(&minor, hs.actx, &tok, &assoc, &back, &conf, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_unwrap_aead", major, minor);
    assert_int_equal(back.length, m.length);
    assert_memory_equal(back.value, m.value, m.length);
    gss_release_buffer(&minor, &back);
    gss_release_buffer(&minor, &tok);
    /* Other associated data: refused. */
    major = gss_wrap_aead(&minor, hs.ictx, 1, 0, &assoc, &m, &conf, &tok);
    back_assoc = message(10);
    ((unsigned char *)back_assoc.value)[0] ^= 1;
    assert_int_equal(
        gss_unwrap_aead(&minor, hs.actx, &tok, &back_assoc, &back, &conf, NULL),
        GSS_S_BAD_MIC);
    gss_release_buffer(&minor, &tok);
    free(back_assoc.value);
    free(assoc.value);
    free(m.value);
    gl_hs_release(&hs);
}

/*
 * Empty outputs are {0, NULL}: MIT's gss_release_buffer (and so
 * gss_release_iov_buffer, even for a buffer flagged ALLOCATED) frees
 * only a buffer whose length is not 0, so memory behind a zero length
 * is lost to the application.
 */
static void empty_outputs_hold_no_memory(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc empty = {0, NULL}, tok, back;
    gss_iov_buffer_desc iov[4];
    OM_uint32 minor, major;
    int conf_state;

    (void)state;
    pair(&hs, 0);
    for (int conf = 0; conf < 2; conf++) {
        /* gss_unwrap of an empty message. */
        major = gss_wrap(&minor, hs.ictx, conf, 0, &empty, NULL, &tok);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_wrap of an empty message", major, minor);
        back = (gss_buffer_desc){99, (void *)&back};
        major = gss_unwrap(&minor, hs.actx, &tok, &back, &conf_state, NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_unwrap of an empty message", major, minor);
        assert_int_equal(back.length, 0);
        assert_null(back.value);
        /* The same token as a STREAM into an allocated DATA buffer. */
        iov[0] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_STREAM, tok};
        iov[1].type = GSS_IOV_BUFFER_TYPE_DATA | GSS_IOV_BUFFER_FLAG_ALLOCATE;
        iov[1].buffer = (gss_buffer_desc){0, NULL};
        major = gss_unwrap_iov(&minor, hs.ictx, NULL, NULL, iov, 2);
        assert_int_equal(major, GSS_S_BAD_MIC); /* reflected */
        gss_release_buffer(&minor, &tok);
        /* gss_unwrap_aead, which the mechglue builds that way. */
        major =
            gss_wrap_aead(&minor, hs.ictx, conf, 0, &empty, &empty, NULL, &tok);
        assert_int_equal(major, GSS_S_COMPLETE);
        back = (gss_buffer_desc){99, (void *)&back};
        major =
            gss_unwrap_aead(&minor, hs.actx, &tok, &empty, &back, NULL, NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_unwrap_aead of an empty message", major, minor);
        assert_int_equal(back.length, 0);
        assert_null(back.value);
        gss_release_buffer(&minor, &tok);
        /* An allocated PADDING buffer: no QOP pads. */
        iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
        iov[0].buffer = (gss_buffer_desc){0, NULL};
        iov[1] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_DATA, {0, NULL}};
        iov[2].type =
            GSS_IOV_BUFFER_TYPE_PADDING | GSS_IOV_BUFFER_FLAG_ALLOCATE;
        iov[2].buffer = (gss_buffer_desc){0, NULL};
        iov[3].type =
            GSS_IOV_BUFFER_TYPE_TRAILER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
        iov[3].buffer = (gss_buffer_desc){0, NULL};
        major = gss_wrap_iov(&minor, hs.ictx, conf, 0, NULL, iov, 4);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_wrap_iov with PADDING", major, minor);
        assert_int_equal(iov[2].buffer.length, 0);
        assert_null(iov[2].buffer.value);
        assert_int_equal(iov[0].buffer.length, 16);
        assert_int_equal(iov[3].buffer.length, 16);
        /* ... and the token opens as a STREAM into an allocated DATA. */
        tok = concat(iov, 4);
        gss_release_iov_buffer(&minor, iov, 4);
        iov[0] = (gss_iov_buffer_desc){GSS_IOV_BUFFER_TYPE_STREAM, tok};
        iov[1].type = GSS_IOV_BUFFER_TYPE_DATA | GSS_IOV_BUFFER_FLAG_ALLOCATE;
        iov[1].buffer = (gss_buffer_desc){0, NULL};
        major = gss_unwrap_iov(&minor, hs.actx, NULL, NULL, iov, 2);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_unwrap_iov STREAM of an empty message", major, minor);
        assert_int_equal(iov[1].buffer.length, 0);
        assert_null(iov[1].buffer.value);
        gss_release_iov_buffer(&minor, iov + 1, 1);
        free(tok.value);
    }
    gl_hs_release(&hs);
}

/* Round trips of every QOP the token offers; the others refused. */
static void every_qop(void **state)
{
    bool nss = strcmp(tl_kind(), "nss") == 0;
    struct gl_hs hs;
    OM_uint32 minor, major, limit;
    size_t before;

    (void)state;
    pair(&hs, 0);
    before = tl_session_secret_keys();
    for (gss_qop_t qop = 0; qop <= 7; qop++) {
        bool have = qop <= 5 || (qop == 6 && nss);
        bool mac_only = qop >= 1 && qop <= 4;
        gss_buffer_desc m = message(1000), tok, back;
        gss_qop_t got = 99;
        int conf = -1;

        major = gss_get_mic(&minor, hs.ictx, qop, &m, &tok);
        if (!have) {
            assert_int_equal(major, GSS_S_BAD_QOP);
            free(m.value);
            continue;
        }
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_get_mic with a QOP", major, minor);
        assert_int_equal(gss_verify_mic(&minor, hs.actx, &m, &tok, &got),
                         GSS_S_COMPLETE);
        assert_int_equal(got, qop);
        ((unsigned char *)m.value)[5] ^= 1;
        assert_int_equal(gss_verify_mic(&minor, hs.actx, &m, &tok, NULL),
                         GSS_S_BAD_SIG);
        ((unsigned char *)m.value)[5] ^= 1;
        gss_release_buffer(&minor, &tok);
        for (int c = 0; c < 2; c++) {
            major = gss_wrap(&minor, hs.actx, c, qop, &m, &conf, &tok);
            if (c && mac_only) {
                assert_int_equal(major, GSS_S_BAD_QOP);
                continue;
            }
            assert_int_equal(major, GSS_S_COMPLETE);
            assert_int_equal(gss_wrap_size_limit(&minor, hs.actx, c, qop,
                                                 (OM_uint32)tok.length, &limit),
                             GSS_S_COMPLETE);
            assert_int_equal(limit, m.length);
            assert_int_equal(
                gss_unwrap(&minor, hs.ictx, &tok, &back, &conf, &got),
                GSS_S_COMPLETE);
            assert_int_equal(got, qop);
            assert_int_equal(conf, c);
            assert_memory_equal(back.value, m.value, m.length);
            gss_release_buffer(&minor, &back);
            ((unsigned char *)tok.value)[tok.length - 1] ^= 1;
            assert_int_equal(
                gss_unwrap(&minor, hs.ictx, &tok, &back, NULL, NULL),
                GSS_S_BAD_MIC);
            gss_release_buffer(&minor, &tok);
        }
        free(m.value);
    }
    /* Keys of the non-default QOPs were made in the token, sensitive:
     * two per QOP used (one per direction and side). */
    assert_int_equal(tl_session_secret_keys(), before + 2 * 2 * (nss ? 6 : 5));
    gl_hs_release(&hs);
}

/* Contexts used from several threads at once share the session pool. */
#define THREADS 4
#define ROUNDS 200

static void *thread_traffic(void *arg)
{
    struct gl_hs *hs = arg;
    gss_buffer_desc m = message(512), tok, back;
    OM_uint32 minor;
    intptr_t bad = 0;

    for (int i = 0; i < ROUNDS; i++) {
        if (gss_wrap(&minor, hs->ictx, 1, 0, &m, NULL, &tok) !=
                GSS_S_COMPLETE ||
            gss_unwrap(&minor, hs->actx, &tok, &back, NULL, NULL) !=
                GSS_S_COMPLETE) {
            bad++;
            continue;
        }
        bad += back.length != m.length ||
               memcmp(back.value, m.value, m.length) != 0;
        gss_release_buffer(&minor, &tok);
        gss_release_buffer(&minor, &back);
    }
    free(m.value);
    return (void *)bad;
}

static void contexts_in_parallel_threads(void **state)
{
    struct gl_hs hs[THREADS];
    pthread_t t[THREADS];
    void *bad;

    (void)state;
    for (int i = 0; i < THREADS; i++)
        pair(&hs[i], GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_traffic, &hs[i]),
                         0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], &bad);
        assert_int_equal((intptr_t)bad, 0);
    }
    for (int i = 0; i < THREADS; i++)
        gl_hs_release(&hs[i]);
}

/* A context is never used in a forked child (both copies would reuse
 * sequence numbers, hence nonces); the parent carries on. */
static void forked_child_is_refused(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(16), tok;
    OM_uint32 minor;
    int status = -1;
    pid_t pid;

    (void)state;
    pair(&hs, 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char text[512];

        if (gss_wrap(&minor, hs.ictx, 1, 0, &m, NULL, &tok) != GSS_S_NO_CONTEXT)
            _exit(1);
        gl_minor_text(minor, text, sizeof(text));
        _exit(strstr(text, "fork()") ? 0 : 2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(gss_wrap(&minor, hs.ictx, 1, 0, &m, NULL, &tok),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&hs);
}

/* extra-qops = no: no derive-capable key, only QOP 0. */
static void extra_qops_disabled(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(10), tok;
    OM_uint32 minor;
    char text[512];

    (void)state;
    pair(&hs, 0);
    /* Three keys per side (send, receive, K_prf): no QOP key-derivation
     * key. */
    assert_int_equal(tl_session_secret_keys(), 6);
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 1, &m, &tok), GSS_S_BAD_QOP);
    gl_minor_text(minor, text, sizeof(text));
    assert_non_null(strstr(text, "extra-qops = no"));
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 0, &m, &tok), GSS_S_COMPLETE);
    assert_int_equal(gss_verify_mic(&minor, hs.actx, &m, &tok, NULL),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&hs);
}

/* The tag length of a QOP (protocol.md 3.3). */
static size_t qop_tag_len(gss_qop_t qop)
{
    return qop == 1 ? 32 : qop == 2 ? 48 : qop == 3 ? 64 : 16;
}

/* The QOPs this pair of tokens can run (ChaCha20-Poly1305: NSS only). */
static bool qop_available(gss_qop_t qop)
{
    return qop <= 5 || (qop == 6 && strcmp(tl_kind(), "nss") == 0);
}

/*
 * Issue 9 item 4: an unsealed AEAD token authenticates where the
 * associated data ends. gss_wrap_aead(conf 0, assoc "AD:", data
 * "XYZpayload") carries "XYZpayload"; the same token with 3 bytes moved
 * from the data to the associated data ("AD:XYZ", "payload") is refused,
 * for every QOP.
 */
static void aead_boundary_is_authenticated(void **state)
{
    struct gl_hs hs;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs, 0);
    for (gss_qop_t qop = 0; qop <= 6; qop++) {
        gss_buffer_desc assoc = {3, "AD:"}, data = {10, "XYZpayload"};
        gss_buffer_desc moved_assoc = {6, "AD:XYZ"}, tok, moved;
        gss_buffer_desc back = {0, NULL}; /* not set on failure */
        size_t tag = qop_tag_len(qop);
        int conf = -1;

        if (!qop_available(qop))
            continue;
        major =
            gss_wrap_aead(&minor, hs.ictx, 0, qop, &assoc, &data, &conf, &tok);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_wrap_aead", major, minor);
        assert_int_equal(conf, 0);
        /* header || "XYZpayload" || tag: the data is carried in clear. */
        assert_int_equal(tok.length, 16 + 10 + tag);
        assert_memory_equal((uint8_t *)tok.value + 16, "XYZpayload", 10);
        moved.length = tok.length - 3;
        moved.value = malloc(moved.length);
        assert_non_null(moved.value);
        memcpy(moved.value, tok.value, 16);
        memcpy((uint8_t *)moved.value + 16, (uint8_t *)tok.value + 19, 7 + tag);
        major = gss_unwrap_aead(&minor, hs.actx, &moved, &moved_assoc, &back,
                                &conf, NULL);
        if (major != GSS_S_BAD_MIC)
            fail_msg("QOP %u: the token with 3 bytes moved into the "
                     "associated data gave major 0x%x, not GSS_S_BAD_MIC",
                     (unsigned)qop, major);
        gss_release_buffer(&minor, &back);
        /* The token as sent still opens with its own associated data. */
        major =
            gss_unwrap_aead(&minor, hs.actx, &tok, &assoc, &back, &conf, NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_unwrap_aead", major, minor);
        assert_int_equal(back.length, 10);
        assert_memory_equal(back.value, "XYZpayload", 10);
        gss_release_buffer(&minor, &back);
        free(moved.value);
        gss_release_buffer(&minor, &tok);
    }
    gl_hs_release(&hs);
}

/* Re-encodes a WRAP token with TagFirst flipped and the tag moved to
 * where the flipped flag puts it (caller frees). */
static gss_buffer_desc flip_tag_first(const gss_buffer_desc *tok, size_t tag)
{
    const uint8_t *b = tok->value;
    size_t body = tok->length - 16 - tag;
    bool first = b[2] & 0x04;
    gss_buffer_desc out = {tok->length, malloc(tok->length)};
    uint8_t *o = out.value;

    assert_non_null(o);
    memcpy(o, b, 16);
    o[2] ^= 0x04;
    if (first) { /* header || tag || body -> header || body || tag */
        memcpy(o + 16, b + 16 + tag, body);
        memcpy(o + 16 + body, b + 16, tag);
    } else { /* header || body || tag -> header || tag || body */
        memcpy(o + 16, b + 16 + body, tag);
        memcpy(o + 16 + tag, b + 16, body);
    }
    return out;
}

/*
 * Issue 9 item 5: the header is authenticated in every token kind, so
 * a WRAP token re-encoded with TagFirst flipped and its tag moved (a
 * second encoding of one message) is refused: from gss_wrap (tag last)
 * and from gss_wrap_iov without TRAILER (tag first), sealed or not, every
 * QOP.
 */
static void tag_first_flip_is_refused(void **state)
{
    struct gl_hs hs;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs, 0);
    for (gss_qop_t qop = 0; qop <= 6; qop++) {
        size_t tag = qop_tag_len(qop);

        if (!qop_available(qop))
            continue;
        for (int c = 0; c < 2; c++) {
            gss_buffer_desc m = message(50), tok, flipped;
            gss_buffer_desc back = {0, NULL};
            gss_iov_buffer_desc iov[2];

            if (c && qop >= 1 && qop <= 4) {
                free(m.value);
                continue; /* MAC QOPs never seal */
            }
            for (int layout = 0; layout < 2; layout++) {
                if (layout == 0) {
                    major = gss_wrap(&minor, hs.ictx, c, qop, &m, NULL, &tok);
                    if (major != GSS_S_COMPLETE)
                        gl_fail("gss_wrap", major, minor);
                } else {
                    gss_buffer_desc copy = message(50);

                    iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER |
                                  GSS_IOV_BUFFER_FLAG_ALLOCATE;
                    iov[0].buffer = (gss_buffer_desc){0, NULL};
                    iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
                    iov[1].buffer = copy;
                    major = gss_wrap_iov(&minor, hs.ictx, c, qop, NULL, iov, 2);
                    if (major != GSS_S_COMPLETE)
                        gl_fail("gss_wrap_iov", major, minor);
                    tok = concat(iov, 2);
                    assert_true(((uint8_t *)tok.value)[2] & 0x04);
                    gss_release_iov_buffer(&minor, iov, 2);
                    free(copy.value);
                }
                flipped = flip_tag_first(&tok, tag);
                major =
                    gss_unwrap(&minor, hs.actx, &flipped, &back, NULL, NULL);
                if (major != GSS_S_BAD_MIC)
                    fail_msg("QOP %u, conf %d, %s: the token with TagFirst "
                             "flipped and its tag moved gave major 0x%x, "
                             "not GSS_S_BAD_MIC",
                             (unsigned)qop, c,
                             layout ? "tag first" : "tag last", major);
                gss_release_buffer(&minor, &back);
                major = gss_unwrap(&minor, hs.actx, &tok, &back, NULL, NULL);
                if (major != GSS_S_COMPLETE)
                    gl_fail("gss_unwrap of the token as sent", major, minor);
                assert_int_equal(back.length, m.length);
                assert_memory_equal(back.value, m.value, m.length);
                gss_release_buffer(&minor, &back);
                free(flipped.value);
                if (layout == 0)
                    gss_release_buffer(&minor, &tok);
                else
                    free(tok.value);
            }
            free(m.value);
        }
    }
    gl_hs_release(&hs);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest noqop_tests[] = {
        cmocka_unit_test(extra_qops_disabled),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mic_round_trips),
        cmocka_unit_test(wrap_round_trips),
        cmocka_unit_test(version1_names),
        cmocka_unit_test(unknown_qop_is_refused_before_sending),
        cmocka_unit_test(tampered_mic),
        cmocka_unit_test(tampered_wrap),
        cmocka_unit_test(modified_message_fails_mic),
        cmocka_unit_test(reflected_and_foreign_tokens),
        cmocka_unit_test(tampered_message_is_explained),
        cmocka_unit_test(window_replay_and_sequence),
        cmocka_unit_test(window_replay_only),
        cmocka_unit_test(window_sequence_only),
        cmocka_unit_test(window_off),
        cmocka_unit_test(expired_context_refuses),
        cmocka_unit_test(iov_with_and_without_trailer),
        cmocka_unit_test(iov_sign_only_and_in_place_unwrap),
        cmocka_unit_test(iov_stream_and_lengths),
        cmocka_unit_test(mic_iov_and_aead),
        cmocka_unit_test(empty_outputs_hold_no_memory),
        cmocka_unit_test(every_qop),
        cmocka_unit_test(forked_child_is_refused),
        cmocka_unit_test(contexts_in_parallel_threads),
        cmocka_unit_test(aead_boundary_is_authenticated),
        cmocka_unit_test(tag_first_flip_is_refused),
    };

    tl_config();
    if (argc > 1 && strcmp(argv[1], "noqop") == 0)
        return cmocka_run_group_tests_name("noqop", noqop_tests, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
