/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seed 000's contract for gss_get_mic, written against GNU GSS's <gss.h>
 * (libgss-dev) and linked to MIT's mechglue, which loads our plugin: an
 * application written for GNU GSS's documentation, run on gss-pkcs11.
 *
 * Checks: MICs of zero-length messages (required "to support secure
 * framing"), GSS_S_BAD_QOP for a QOP the mechanism does not offer,
 * GSS_S_NO_CONTEXT for a handle that names no context, and
 * GSS_S_CONTEXT_EXPIRED once the context's lifetime has passed.
 * Nothing here includes MIT's headers: the types and status macros are
 * GNU GSS's, so a layout or value disagreement would show.
 *
 * Environment (meson): GSS_MECH_CONFIG, GSS_PKCS11_CONF, SOFTHSM2_CONF,
 * GP11_TEST_SKIP_FILE. Exit 0 pass, 1 fail, 77 skip file.
 */
#include <gss.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

/* The mechanism OID (docs/protocol.md section 1). */
static gss_OID_desc mech_oid = {
    33, "\x2a\x86\x48\x86\xf7\x14\x01\xbe\x40\x93\x7a\x85\x3b\x83\xa3\x79"
        "\x83\x99\x76\x81\x97\x2e\x82\xd5\x2a\x85\xe9\x85\x5c\x86\xf5\xbc"
        "\x49"};

/* One check: prints what failed, with the statuses. */
static void expect(int ok, const char *what, OM_uint32 major, OM_uint32 minor)
{
    if (ok)
        return;
    failures++;
    fprintf(stderr, "FAIL: %s (major 0x%x, minor 0x%x)\n", what,
            (unsigned)major, (unsigned)minor);
}

/* Establishes a context pair in this process; lifetime in seconds. */
static int establish(OM_uint32 lifetime, gss_ctx_id_t *ini, gss_ctx_id_t *acc)
{
    OM_uint32 major, minor, imaj = GSS_S_CONTINUE_NEEDED, amaj = 0;
    gss_buffer_desc svc = {14, "host@localhost"}, in = {0, NULL};
    gss_buffer_desc out = {0, NULL};
    gss_name_t target = GSS_C_NO_NAME;
    gss_cred_id_t acred = GSS_C_NO_CREDENTIAL;
    gss_OID_set_desc mechs = {1, &mech_oid};
    int legs = 0, ok = 0;

    *ini = *acc = GSS_C_NO_CONTEXT;
    major = gss_import_name(&minor, &svc, GSS_C_NT_HOSTBASED_SERVICE, &target);
    expect(major == GSS_S_COMPLETE, "gss_import_name", major, minor);
    major = gss_acquire_cred(&minor, target, 0, &mechs, GSS_C_ACCEPT, &acred,
                             NULL, NULL);
    expect(major == GSS_S_COMPLETE, "gss_acquire_cred (acceptor)", major,
           minor);
    while (major == GSS_S_COMPLETE && legs++ < 8) {
        imaj = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, ini, target,
                                    &mech_oid, GSS_C_MUTUAL_FLAG, lifetime,
                                    GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out,
                                    NULL, NULL);
        gss_release_buffer(&minor, &in);
        if (GSS_ERROR(imaj) || out.length == 0)
            break;
        amaj = gss_accept_sec_context(&minor, acc, acred, &out,
                                      GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL,
                                      &in, NULL, NULL, NULL);
        gss_release_buffer(&minor, &out);
        if (GSS_ERROR(amaj) || (imaj == GSS_S_COMPLETE && in.length == 0))
            break;
    }
    ok = imaj == GSS_S_COMPLETE && amaj == GSS_S_COMPLETE;
    expect(ok, "context establishment", imaj, amaj);
    gss_release_buffer(&minor, &in);
    gss_release_cred(&minor, &acred);
    gss_release_name(&minor, &target);
    return ok;
}

/* Zero-length messages, a bad QOP and no context (seed 000). */
static void check_contract(gss_ctx_id_t ini, gss_ctx_id_t acc)
{
    OM_uint32 major, minor;
    gss_buffer_desc empty = {0, NULL}, mic = {0, NULL}, msg = {3, "abc"};
    gss_qop_t qop = 99;

    major = gss_get_mic(&minor, ini, GSS_C_QOP_DEFAULT, &empty, &mic);
    expect(major == GSS_S_COMPLETE && mic.length > 0,
           "gss_get_mic of a zero-length message", major, minor);
    major = gss_verify_mic(&minor, acc, &empty, &mic, &qop);
    expect(major == GSS_S_COMPLETE && qop == 0,
           "gss_verify_mic of a zero-length message", major, minor);
    expect(gss_verify_mic(&minor, acc, &msg, &mic, NULL) == GSS_S_BAD_SIG,
           "a zero-length message's MIC does not verify another", 0, minor);
    gss_release_buffer(&minor, &mic);

    major = gss_get_mic(&minor, ini, 0x7777, &msg, &mic);
    expect(GSS_ROUTINE_ERROR(major) == GSS_S_BAD_QOP && mic.length == 0,
           "gss_get_mic with an unknown QOP: GSS_S_BAD_QOP", major, minor);

    major = gss_get_mic(&minor, GSS_C_NO_CONTEXT, 0, &msg, &mic);
    expect(GSS_ROUTINE_ERROR(major) == GSS_S_NO_CONTEXT,
           "gss_get_mic without a context: GSS_S_NO_CONTEXT", major, minor);
}

/* A context whose lifetime has passed: GSS_S_CONTEXT_EXPIRED. */
static void check_expiry(void)
{
    OM_uint32 major, minor, left = 99;
    gss_ctx_id_t ini, acc;
    gss_buffer_desc mic = {0, NULL}, msg = {3, "abc"};

    if (!establish(1, &ini, &acc))
        return;
    major = gss_context_time(&minor, ini, &left);
    expect(major == GSS_S_COMPLETE && left <= 1,
           "a context asked for 1 s gets at most 1 s", major, left);
    sleep(2);
    major = gss_get_mic(&minor, ini, 0, &msg, &mic);
    expect(GSS_ROUTINE_ERROR(major) == GSS_S_CONTEXT_EXPIRED && mic.length == 0,
           "gss_get_mic after the lifetime: GSS_S_CONTEXT_EXPIRED", major,
           minor);
    gss_delete_sec_context(&minor, &ini, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &acc, GSS_C_NO_BUFFER);
}

int main(void)
{
    const char *skip = getenv("GP11_TEST_SKIP_FILE");
    gss_ctx_id_t ini, acc;
    OM_uint32 minor;

    if (skip && access(skip, F_OK) == 0)
        return 77;
    if (establish(GSS_C_INDEFINITE, &ini, &acc)) {
        check_contract(ini, acc);
        gss_delete_sec_context(&minor, &ini, GSS_C_NO_BUFFER);
        gss_delete_sec_context(&minor, &acc, GSS_C_NO_BUFFER);
    }
    check_expiry();
    printf("gnugss: %d failures\n", failures);
    return failures ? 1 : 0;
}
