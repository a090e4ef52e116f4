/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gss_pseudo_random (RFC 4401, docs/protocol.md 6) through MIT's
 * mechglue on the suite's token: SoftHSM2 runs the kdf-2.40 profile and
 * NSS softoken kdf-3.0-hkdf, so both K_prf derivations are exercised.
 */
#include "gsslib.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void establish_ok(struct gl_hs *hs)
{
    hs->target = gl_service("host@localhost");
    if (!gl_handshake(hs))
        gl_fail(GSS_ERROR(hs->imajor) ? "initiator" : "acceptor",
                GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
}

/* PRF output of len bytes for in (malloc'ed into out). */
static OM_uint32 prf(gss_ctx_id_t ctx, int key, const char *in, size_t len,
                     gss_buffer_t out)
{
    gss_buffer_desc b = {strlen(in), (void *)in};
    OM_uint32 minor, major;

    major = gss_pseudo_random(&minor, ctx, key, &b, (ssize_t)len, out);
    if (major == GSS_S_COMPLETE)
        assert_int_equal(out->length, len);
    return major;
}

static void sides_agree(void **state)
{
    static const size_t lens[] = {1, 31, 32, 33, 64, 1000, 16384, 65536};
    struct gl_hs hs = {0};
    gss_buffer_desc a, b;
    OM_uint32 minor;

    (void)state;
    establish_ok(&hs);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (int key = GSS_C_PRF_KEY_FULL; key <= GSS_C_PRF_KEY_PARTIAL;
             key++) {
            assert_int_equal(prf(hs.ictx, key, "some input", lens[i], &a),
                             GSS_S_COMPLETE);
            assert_int_equal(prf(hs.actx, key, "some input", lens[i], &b),
                             GSS_S_COMPLETE);
            if (memcmp(a.value, b.value, lens[i]) != 0)
                fail_msg("the two sides disagree on %zu bytes (key %d)",
                         lens[i], key);
            gss_release_buffer(&minor, &a);
            gss_release_buffer(&minor, &b);
        }
    }
    gl_hs_release(&hs);
}

/* FULL and PARTIAL name the same key (protocol.md 6). */
static void full_and_partial_are_one_key(void **state)
{
    struct gl_hs hs = {0};
    gss_buffer_desc a, b;
    OM_uint32 minor;

    (void)state;
    establish_ok(&hs);
    assert_int_equal(prf(hs.ictx, GSS_C_PRF_KEY_FULL, "x", 48, &a),
                     GSS_S_COMPLETE);
    assert_int_equal(prf(hs.ictx, GSS_C_PRF_KEY_PARTIAL, "x", 48, &b),
                     GSS_S_COMPLETE);
    assert_memory_equal(a.value, b.value, 48);
    gss_release_buffer(&minor, &a);
    gss_release_buffer(&minor, &b);
    gl_hs_release(&hs);
}

static void inputs_lengths_and_contexts_differ(void **state)
{
    struct gl_hs one = {0}, two = {0};
    gss_buffer_desc a, b, c, d, e, z;
    OM_uint32 minor;
    bool repeats = false;

    (void)state;
    establish_ok(&one);
    establish_ok(&two);
    assert_int_equal(prf(one.ictx, 0, "input A", 64, &a), GSS_S_COMPLETE);
    assert_int_equal(prf(one.ictx, 0, "input B", 64, &b), GSS_S_COMPLETE);
    assert_int_equal(prf(two.ictx, 0, "input A", 64, &c), GSS_S_COMPLETE);
    assert_int_equal(prf(one.ictx, 0, "input A", 32, &d), GSS_S_COMPLETE);
    assert_int_equal(prf(one.ictx, 0, "", 64, &e), GSS_S_COMPLETE);
    assert_int_equal(prf(one.ictx, 0, "input A", 0, &z), GSS_S_COMPLETE);
    assert_memory_not_equal(a.value, b.value, 64);
    assert_memory_not_equal(a.value, c.value, 64);
    assert_memory_not_equal(a.value, e.value, 64);
    /* The length is an input: a short output is no prefix of a long one. */
    assert_memory_not_equal(a.value, d.value, 32);
    /* Blocks differ from each other (the counter is an input). */
    assert_memory_not_equal(a.value, (char *)a.value + 32, 32);
    /* Same input, same context: same output. */
    gss_release_buffer(&minor, &b);
    assert_int_equal(prf(one.ictx, 0, "input A", 64, &b), GSS_S_COMPLETE);
    assert_memory_equal(a.value, b.value, 64);
    for (size_t i = 0; i + 8 <= 64; i += 8)
        repeats |= memcmp((char *)a.value + i, (char *)c.value + i, 8) == 0;
    assert_false(repeats);
    gss_release_buffer(&minor, &a);
    gss_release_buffer(&minor, &b);
    gss_release_buffer(&minor, &c);
    gss_release_buffer(&minor, &d);
    gss_release_buffer(&minor, &e);
    gss_release_buffer(&minor, &z);
    gl_hs_release(&one);
    gl_hs_release(&two);
}

static void bad_arguments(void **state)
{
    struct gl_hs hs = {0};
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER, in = {1, (void *)"x"};
    gss_ctx_id_t none = GSS_C_NO_CONTEXT;
    OM_uint32 major, minor;

    (void)state;
    establish_ok(&hs);
    major = gss_pseudo_random(&minor, hs.ictx, 7, &in, 16, &out);
    assert_int_equal(major, GSS_S_FAILURE);
    major = gss_pseudo_random(&minor, hs.ictx, 0, &in, -1, &out);
    assert_true(GSS_ERROR(major));
    major = gss_pseudo_random(&minor, hs.ictx, 0, &in, (1 << 20) + 1, &out);
    assert_int_equal(major, GSS_S_FAILURE);
    major = gss_pseudo_random(&minor, none, 0, &in, 16, &out);
    assert_true(GSS_ERROR(major));
    /* A long input is consumed whole. */
    {
        size_t n = 100000;
        char *big = malloc(n);
        gss_buffer_desc b1 = {n, big}, o1, o2;

        assert_non_null(big);
        memset(big, 'a', n);
        assert_int_equal(gss_pseudo_random(&minor, hs.ictx, 0, &b1, 32, &o1),
                         GSS_S_COMPLETE);
        big[n - 1] = 'b';
        assert_int_equal(gss_pseudo_random(&minor, hs.actx, 0, &b1, 32, &o2),
                         GSS_S_COMPLETE);
        assert_memory_not_equal(o1.value, o2.value, 32);
        gss_release_buffer(&minor, &o1);
        gss_release_buffer(&minor, &o2);
        free(big);
    }
    gl_hs_release(&hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sides_agree),
        cmocka_unit_test(full_and_partial_are_one_key),
        cmocka_unit_test(inputs_lengths_and_contexts_differ),
        cmocka_unit_test(bad_arguments),
    };

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    return cmocka_run_group_tests_name("prf", tests, NULL, NULL);
}
