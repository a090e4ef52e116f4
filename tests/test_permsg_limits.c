/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Usage limits per key (docs/protocol.md 3.6, issue 9 item 7) through
 * MIT's mechglue, with the low limits of limits.conf:
 * aead-message-limit = 4, aead-block-limit = 40, forgery-limit = 2.
 * Each limit expires the context on the sending and on the receiving
 * side with GSS_S_CONTEXT_EXPIRED and a minor naming the limit.
 */
#include "gsslib.h"
#include "testlib.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An established pair without replay or sequence flags. */
static void pair(struct gl_hs *hs)
{
    memset(hs, 0, sizeof(*hs));
    hs->target = gl_service("host@localhost");
    if (!gl_handshake(hs))
        gl_fail("handshake", GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
}

/* A message of n bytes (caller frees). */
static gss_buffer_desc message(size_t n)
{
    gss_buffer_desc m = {n, malloc(n ? n : 1)};

    for (size_t i = 0; i < n; i++)
        ((unsigned char *)m.value)[i] = (unsigned char)(i * 131 + 7);
    return m;
}

/* Asserts an expired context whose minor status text contains what. */
static void assert_expired(const char *call, OM_uint32 major, OM_uint32 minor,
                           const char *what)
{
    char text[512];

    if (major != GSS_S_CONTEXT_EXPIRED)
        fail_msg("%s: major 0x%x, not GSS_S_CONTEXT_EXPIRED", call, major);
    gl_minor_text(minor, text, sizeof(text));
    if (strstr(text, what) == NULL)
        fail_msg("%s: the minor status \"%s\" does not say \"%s\"", call, text,
                 what);
}

/*
 * 1-byte MICs cost 3 blocks each (A = 26 bytes): the message limit (4)
 * comes first. The sender's 5th MIC is refused; the receiver verifies the
 * 4 and refuses a 5th verification (of a token it verified before: no
 * window here, so only the limit can refuse it); then the receiving
 * context refuses to send too.
 */
static void message_limit_both_sides(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(1), tok[5], t;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs);
    for (int i = 0; i < 4; i++) {
        major = gss_get_mic(&minor, hs.ictx, 0, &m, &tok[i]);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_get_mic under the limit", major, minor);
    }
    major = gss_get_mic(&minor, hs.ictx, 0, &m, &tok[4]);
    assert_expired("5th gss_get_mic", major, minor, "limit of 4 messages");
    assert_int_equal(tok[4].length, 0);
    /* Expired for good, and for every call of the context. */
    major = gss_wrap(&minor, hs.ictx, 1, 0, &m, NULL, &t);
    assert_expired("gss_wrap after the limit", major, minor, "messages");
    for (int i = 0; i < 4; i++) {
        major = gss_verify_mic(&minor, hs.actx, &m, &tok[i], NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_verify_mic under the limit", major, minor);
    }
    major = gss_verify_mic(&minor, hs.actx, &m, &tok[0], NULL);
    assert_expired("5th gss_verify_mic", major, minor, "limit of 4 messages");
    major = gss_get_mic(&minor, hs.actx, 0, &m, &t);
    assert_expired("the receiver's gss_get_mic", major, minor, "messages");
    for (int i = 0; i < 4; i++)
        gss_release_buffer(&minor, &tok[i]);
    free(m.value);
    gl_hs_release(&hs);
}

/*
 * Sealed 200-byte WRAPs cost 16 blocks each (A = 25 bytes: 2, plaintext:
 * 13, and 1): the block limit (40) comes at the 3rd message, before the
 * message limit.
 */
static void block_limit_both_sides(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(200), tok[3], back;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs);
    for (int i = 0; i < 2; i++) {
        major = gss_wrap(&minor, hs.ictx, 1, 0, &m, NULL, &tok[i]);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_wrap under the limit", major, minor);
    }
    major = gss_wrap(&minor, hs.ictx, 1, 0, &m, NULL, &tok[2]);
    assert_expired("3rd gss_wrap", major, minor, "limit of 40 cipher blocks");
    for (int i = 0; i < 2; i++) {
        major = gss_unwrap(&minor, hs.actx, &tok[i], &back, NULL, NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_unwrap under the limit", major, minor);
        assert_memory_equal(back.value, m.value, m.length);
        gss_release_buffer(&minor, &back);
    }
    major = gss_unwrap(&minor, hs.actx, &tok[0], &back, NULL, NULL);
    assert_expired("3rd gss_unwrap", major, minor, "limit of 40 cipher blocks");
    assert_int_equal(back.length, 0);
    for (int i = 0; i < 2; i++)
        gss_release_buffer(&minor, &tok[i]);
    free(m.value);
    gl_hs_release(&hs);
}

/*
 * Two tags that do not verify (each reported as GSS_S_BAD_SIG) reach the
 * forgery limit: the receiving context then refuses a valid token and
 * refuses to send; the sending context, which saw no forgery, goes on.
 */
static void forgery_limit(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc m = message(20), tok, bad, t;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs);
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 0, &m, &tok), GSS_S_COMPLETE);
    bad.length = tok.length;
    bad.value = malloc(bad.length);
    assert_non_null(bad.value);
    memcpy(bad.value, tok.value, tok.length);
    ((uint8_t *)bad.value)[bad.length - 1] ^= 1;
    for (int i = 0; i < 2; i++)
        assert_int_equal(gss_verify_mic(&minor, hs.actx, &m, &bad, NULL),
                         GSS_S_BAD_SIG);
    major = gss_verify_mic(&minor, hs.actx, &m, &tok, NULL);
    assert_expired("gss_verify_mic after 2 forgeries", major, minor,
                   "failed verifications");
    major = gss_wrap(&minor, hs.actx, 1, 0, &m, NULL, &t);
    assert_expired("the receiver's gss_wrap", major, minor,
                   "failed verifications");
    assert_int_equal(gss_get_mic(&minor, hs.ictx, 0, &m, &t), GSS_S_COMPLETE);
    gss_release_buffer(&minor, &t);
    free(bad.value);
    gss_release_buffer(&minor, &tok);
    free(m.value);
    gl_hs_release(&hs);
}

/*
 * Limits count per key: QOP 0 and QOP 5 (AES-128-GCM) each have their
 * own 4 messages, and the HMAC QOP 1 has no message limit (protocol.md
 * 3.6), so 3 + 4 + 6 + 1 messages pass, and the 5th of QOP 0 expires the
 * context.
 */
static void limits_are_per_key(void **state)
{
    static const gss_qop_t order[] = {0, 0, 0, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 0};
    struct gl_hs hs;
    gss_buffer_desc m = message(1), tok;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        major = gss_get_mic(&minor, hs.ictx, order[i], &m, &tok);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_get_mic under the per-key limits", major, minor);
        major = gss_verify_mic(&minor, hs.actx, &m, &tok, NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_verify_mic under the per-key limits", major, minor);
        gss_release_buffer(&minor, &tok);
    }
    major = gss_get_mic(&minor, hs.ictx, 0, &m, &tok);
    assert_expired("5th QOP-0 gss_get_mic", major, minor,
                   "QOP 0 reached its limit of 4 messages");
    free(m.value);
    gl_hs_release(&hs);
}

/* The IOV and AEAD calls count as the buffer calls do: 4 AEAD messages,
 * then the 5th is refused on both sides. */
static void aead_calls_are_limited(void **state)
{
    struct gl_hs hs;
    gss_buffer_desc assoc = {2, "ad"}, m = message(1), tok[4], t, back;
    OM_uint32 minor, major;

    (void)state;
    pair(&hs);
    for (int i = 0; i < 4; i++) {
        major = gss_wrap_aead(&minor, hs.ictx, 1, 0, &assoc, &m, NULL, &tok[i]);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_wrap_aead under the limit", major, minor);
    }
    major = gss_wrap_aead(&minor, hs.ictx, 1, 0, &assoc, &m, NULL, &t);
    assert_expired("5th gss_wrap_aead", major, minor, "limit of 4 messages");
    for (int i = 0; i < 4; i++) {
        major = gss_unwrap_aead(&minor, hs.actx, &tok[i], &assoc, &back, NULL,
                                NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_unwrap_aead under the limit", major, minor);
        gss_release_buffer(&minor, &back);
    }
    major =
        gss_unwrap_aead(&minor, hs.actx, &tok[3], &assoc, &back, NULL, NULL);
    assert_expired("5th gss_unwrap_aead", major, minor, "limit of 4 messages");
    for (int i = 0; i < 4; i++)
        gss_release_buffer(&minor, &tok[i]);
    free(m.value);
    gl_hs_release(&hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_limit_both_sides),
        cmocka_unit_test(block_limit_both_sides),
        cmocka_unit_test(forgery_limit),
        cmocka_unit_test(limits_are_per_key),
        cmocka_unit_test(aead_calls_are_limited),
    };

    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
