/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IOV buffers of a type no call knows (found by tests/fuzz/fuzz_iov.c):
 * the type is the caller's 16-bit value, and gss/permsg_iov.c
 * selected buffers by shifting 1u by it, which is undefined from 32 on
 * (UBSan: "shift exponent 33 is too large"); on x86 the shift wraps, so
 * type 33 was taken for DATA (1) and 43 for SIGN_ONLY (11), and the tag
 * covered bytes the peer never sees. A buffer of an unknown type is
 * neither protected nor changed: the token verifies on a peer that does
 * not have it, and a peer's unknown buffer does not change the check.
 * Through MIT's mechglue, on both tokens.
 */
#include "gsslib.h"
#include "testlib.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Types past SIGN_ONLY and MIC_TOKEN (12); 33 and 43 are 1 and 11 mod 32. */
#define TYPE_33 33u
#define TYPE_43 43u

/* An established pair. */
static void pair(struct gl_hs *hs)
{
    memset(hs, 0, sizeof(*hs));
    hs->target = gl_service("host@localhost");
    hs->req_flags = GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG;
    if (!gl_handshake(hs))
        gl_fail("handshake", GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
}

/* One buffer of a layout. */
static gss_iov_buffer_desc buf(OM_uint32 type, const char *s)
{
    gss_iov_buffer_desc b;

    b.type = type;
    b.buffer.length = s ? strlen(s) : 0;
    b.buffer.value = s ? strdup(s) : NULL;
    if (s)
        assert_non_null(b.buffer.value);
    return b;
}

/* Asserts that b holds exactly s. */
static void assert_holds(const gss_iov_buffer_desc *b, const char *s)
{
    assert_int_equal(b->buffer.length, strlen(s));
    assert_memory_equal(b->buffer.value, s, strlen(s));
}

/* Frees the strdup'ed buffers of a layout (ALLOCATED ones by the
 * mechglue). */
static void release(gss_iov_buffer_desc *iov, int n)
{
    OM_uint32 minor;

    gss_release_iov_buffer(&minor, iov, n);
    for (int i = 0; i < n; i++)
        if (!(iov[i].type & GSS_IOV_BUFFER_FLAG_ALLOCATED))
            free(iov[i].buffer.value);
}

/*
 * Wraps "payload" (with "ad" as SIGN_ONLY when sign_only) on the
 * initiator with an extra buffer of type extra_type at the sender
 * (extra_at_sender) or at the receiver, and unwraps on the acceptor.
 */
static void wrap_unwrap(int conf, bool sign_only, OM_uint32 extra_type,
                        bool extra_at_sender)
{
    gss_iov_buffer_desc w[5], u[5];
    struct gl_hs hs;
    OM_uint32 major, minor;
    int nw = 0, nu = 0, state = -1, extra = -1, rx_extra = -1;

    pair(&hs);
    w[nw++] =
        buf(GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE, NULL);
    if (sign_only)
        w[nw++] = buf(GSS_IOV_BUFFER_TYPE_SIGN_ONLY, "ad");
    w[nw++] = buf(GSS_IOV_BUFFER_TYPE_DATA, "payload");
    if (extra_at_sender) {
        extra = nw;
        w[nw++] = buf(extra_type, "extra");
    }
    w[nw++] =
        buf(GSS_IOV_BUFFER_TYPE_TRAILER | GSS_IOV_BUFFER_FLAG_ALLOCATE, NULL);
    major =
        gss_wrap_iov(&minor, hs.ictx, conf, GSS_C_QOP_DEFAULT, &state, w, nw);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_wrap_iov", major, minor);
    if (extra >= 0)
        assert_holds(&w[extra], "extra"); /* not encrypted, not moved */
    /* The receiver's layout: the wire parts, SIGN_ONLY, maybe the extra. */
    for (int i = 0; i < nw; i++) {
        if (i == extra)
            continue;
        u[nu] = w[i];
        u[nu].type = GSS_IOV_BUFFER_TYPE(w[i].type);
        u[nu].buffer.value = malloc(w[i].buffer.length + 1);
        assert_non_null(u[nu].buffer.value);
        memcpy(u[nu].buffer.value, w[i].buffer.value, w[i].buffer.length);
        if (!extra_at_sender &&
            GSS_IOV_BUFFER_TYPE(w[i].type) == GSS_IOV_BUFFER_TYPE_DATA) {
            rx_extra = ++nu;
            u[nu] = buf(extra_type, "junk at the receiver");
        }
        nu++;
    }
    major = gss_unwrap_iov(&minor, hs.actx, &state, NULL, u, nu);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_unwrap_iov of a token made with an unknown buffer type",
                major, minor);
    assert_int_equal(state, conf);
    for (int i = 0; i < nu; i++)
        if (GSS_IOV_BUFFER_TYPE(u[i].type) == GSS_IOV_BUFFER_TYPE_DATA)
            assert_holds(&u[i], "payload");
    if (rx_extra >= 0)
        assert_holds(&u[rx_extra], "junk at the receiver");
    assert_int_equal(rx_extra >= 0, !extra_at_sender);
    release(w, nw);
    release(u, nu);
    gl_hs_release(&hs);
}

/* Type 33 at the sender, sealed: it was taken for DATA. */
static void unknown_type_sealed(void **state)
{
    (void)state;
    wrap_unwrap(1, false, TYPE_33, true);
}

/* Type 43 at the sender, integrity only: it was taken for SIGN_ONLY. */
static void unknown_type_integrity_only(void **state)
{
    (void)state;
    wrap_unwrap(0, true, TYPE_43, true);
}

/* Type 33 at the receiver only: it was decrypted as part of DATA. */
static void unknown_type_at_receiver(void **state)
{
    (void)state;
    wrap_unwrap(1, true, TYPE_33, false);
}

/* A type with every bit of the 16 set. */
static void largest_type(void **state)
{
    (void)state;
    wrap_unwrap(0, false, 0xffffu, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_type_sealed),
        cmocka_unit_test(unknown_type_integrity_only),
        cmocka_unit_test(unknown_type_at_receiver),
        cmocka_unit_test(largest_type),
    };

    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
