/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context establishment through MIT's mechglue on the suite's token:
 * both parties in this process, alice -> host@localhost (and the RSA
 * service), with the token checked after each step.
 */
#include "gsslib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void establish(const char *service, OM_uint32 req)
{
    struct gl_hs hs = {0};
    gss_buffer_desc disp;
    OM_uint32 minor, want;
    gss_OID type;

    hs.target = gl_service(service);
    hs.req_flags = req;
    if (!gl_handshake(&hs))
        gl_fail(GSS_ERROR(hs.imajor) ? "initiator" : "acceptor",
                GSS_ERROR(hs.imajor) ? hs.imajor : hs.amajor,
                GSS_ERROR(hs.imajor) ? hs.iminor : hs.aminor);
    assert_int_equal(hs.legs, 4);
    want = GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG |
           GSS_C_TRANS_FLAG | (req & (GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG));
    assert_int_equal(hs.iflags, want);
    assert_int_equal(hs.aflags, want);
    assert_true(hs.itime > 0 && hs.itime <= 36000);
    assert_true(hs.atime > 0 && hs.atime <= 36000);
    assert_true(gss_oid_equal(hs.amech_out, gl_mech()));
    assert_int_equal(gss_display_name(&minor, hs.src, &disp, &type),
                     GSS_S_COMPLETE);
    assert_int_equal(disp.length, strlen("alice@localhost"));
    assert_memory_equal(disp.value, "alice@localhost", disp.length);
    gss_release_buffer(&minor, &disp);
    gl_hs_release(&hs);
}

static void alice_to_host(void **state)
{
    (void)state;
    establish("host@localhost",
              GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
}

static void alice_to_rsa_service(void **state)
{
    (void)state;
    establish("rsa@localhost", GSS_C_MUTUAL_FLAG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alice_to_host),
        cmocka_unit_test(alice_to_rsa_service),
    };

    if (getenv("GSS_MECH_CONFIG") == NULL || getenv("GSS_PKCS11_CONF") == NULL)
        fail_msg("GSS_MECH_CONFIG / GSS_PKCS11_CONF not set: run via meson");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
