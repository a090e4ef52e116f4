/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate chains and revocation through the mechglue (issue 9 item 6,
 * protocol.md 2.11), on the material of tests/setup-revocation.sh. One
 * group per configuration (argv[1]):
 *   chain              chain.conf: no CRLs; "chained" is issued by an
 *                      intermediate that only its token holds, so it is
 *                      accepted only if it sends the intermediate; the
 *                      trust-crls cred store key
 *   require            crl-require.conf: current CRLs, crl-policy require
 *   expired-require    every CRL past its nextUpdate, require
 *   expired-ifpresent  the same CRLs, if-present
 *   missing-default    no CRL for the intermediate int1, policy not set
 *   missing-ifpresent  the same CRLs, if-present
 */
#include "gsslib.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a handshake that must complete, as initiator identity ident (NULL:
 * the configured one) to service. */
static void establish_ok(const char *ident, const char *service,
                         const char *crls)
{
    gss_key_value_element_desc kv[2];
    gss_key_value_set_desc store = {0, kv};
    struct gl_hs hs = {0};
    char uri[512];
    OM_uint32 major, minor;

    if (ident != NULL) {
        snprintf(uri, sizeof(uri), "%s;object=%s;type=private",
                 tl_config()->token_uri, ident);
        kv[store.count].key = "pkcs11-identity";
        kv[store.count++].value = uri;
    }
    if (crls != NULL) {
        kv[store.count].key = "trust-crls";
        kv[store.count++].value = crls;
    }
    if (store.count > 0) {
        major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                      GSS_C_INITIATE, &store, &hs.icred, NULL,
                                      NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_acquire_cred_from", major, minor);
    }
    hs.target = gl_service(service);
    if (!gl_handshake(&hs))
        gl_fail(GSS_ERROR(hs.imajor) ? "initiator" : "acceptor",
                GSS_ERROR(hs.imajor) ? hs.imajor : hs.amajor,
                GSS_ERROR(hs.imajor) ? hs.iminor : hs.aminor);
    gl_hs_release(&hs);
}

/* Asserts the minor status displays text containing each of want (up to
 * two, the second may be NULL). */
static void assert_minor_says(OM_uint32 minor, const char *want,
                              const char *want2)
{
    char text[2048];

    gl_minor_text(minor, text, sizeof(text));
    if (strstr(text, want) == NULL ||
        (want2 != NULL && strstr(text, want2) == NULL))
        fail_msg("minor status says '%s', want '%s'%s%s", text, want,
                 want2 ? " and " : "", want2 ? want2 : "");
}

/*
 * A handshake one side must refuse: the initiator (ident, NULL for the
 * configured one; crls for the trust-crls store key) to service. by_acceptor
 * says which side refuses; its major must be GSS_S_DEFECTIVE_CREDENTIAL and
 * its minor must say want (and want2).
 */
static void refused(const char *ident, const char *service, const char *crls,
                    bool by_acceptor, const char *want, const char *want2)
{
    gss_key_value_element_desc kv[2];
    gss_key_value_set_desc store = {0, kv};
    struct gl_hs hs = {0};
    char uri[512];
    OM_uint32 major, minor;

    if (ident != NULL) {
        snprintf(uri, sizeof(uri), "%s;object=%s;type=private",
                 tl_config()->token_uri, ident);
        kv[store.count].key = "pkcs11-identity";
        kv[store.count++].value = uri;
    }
    if (crls != NULL) {
        kv[store.count].key = "trust-crls";
        kv[store.count++].value = crls;
    }
    if (store.count > 0) {
        major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                      GSS_C_INITIATE, &store, &hs.icred, NULL,
                                      NULL);
        if (major != GSS_S_COMPLETE)
            gl_fail("gss_acquire_cred_from", major, minor);
    }
    hs.target = gl_service(service);
    assert_false(gl_handshake(&hs));
    if (by_acceptor) {
        assert_int_equal(hs.amajor, GSS_S_DEFECTIVE_CREDENTIAL);
        assert_minor_says(hs.aminor, want, want2);
    } else {
        assert_int_equal(hs.imajor, GSS_S_DEFECTIVE_CREDENTIAL);
        assert_minor_says(hs.iminor, want, want2);
    }
    gl_hs_release(&hs);
}

/* The CRL directory pki/crl/NAME of this suite's environment. */
static const char *crl_dir(const char *name)
{
    static char path[4096];
    const char *pki = getenv("GP11_PKI_DIR");

    if (pki == NULL)
        fail_msg("GP11_PKI_DIR is not set: run via meson test");
    snprintf(path, sizeof(path), "%s/crl/%s", pki, name);
    return path;
}

/* ---- chain ---------------------------------------------------------- */

/* The acceptor's intermediate is only on its token: it must be sent. */
static void chained_acceptor(void **state)
{
    (void)state;
    establish_ok(NULL, "chained@localhost", NULL);
}

/* The same for an initiator, checked by the acceptor. */
static void chained_initiator(void **state)
{
    (void)state;
    establish_ok("chained", "host@localhost", NULL);
}

/* Without CRLs in the configuration a revoked identity gets through... */
static void no_crls_no_revocation(void **state)
{
    (void)state;
    establish_ok(NULL, "revoked@localhost", NULL);
}

/* ...but a credential with the trust-crls store key checks them. */
static void cred_store_crls(void **state)
{
    (void)state;
    refused(NULL, "revoked@localhost", crl_dir("current"), false,
            "certificate revoked", "revoked@localhost");
    refused(NULL, "subrevoked@localhost", crl_dir("current"), false,
            "certificate revoked", "revoked intermediate CA");
    establish_ok(NULL, "chained@localhost", crl_dir("current"));
}

/* ---- require -------------------------------------------------------- */

static void good_chains_pass(void **state)
{
    (void)state;
    establish_ok(NULL, "host@localhost", NULL);
    establish_ok(NULL, "chained@localhost", NULL);
    establish_ok("chained", "host@localhost", NULL);
}

/* A revoked acceptor is refused by the initiator (despite a newer CRL in
 * its CA's name that is not signed by the CA). */
static void revoked_acceptor(void **state)
{
    (void)state;
    refused(NULL, "revoked@localhost", NULL, false, "certificate revoked",
            "revoked@localhost");
}

/* A revoked initiator is refused by the acceptor. */
static void revoked_initiator(void **state)
{
    (void)state;
    refused("revoked", "host@localhost", NULL, true, "certificate revoked",
            "revoked@localhost");
}

/* A leaf whose intermediate is revoked, on either side. */
static void revoked_intermediate(void **state)
{
    (void)state;
    refused(NULL, "subrevoked@localhost", NULL, false, "certificate revoked",
            "revoked intermediate CA\" at depth 1");
    refused("subrevoked", "host@localhost", NULL, true, "certificate revoked",
            "revoked intermediate CA\" at depth 1");
}

/* ---- expired-require / expired-ifpresent ---------------------------- */

static void expired_crl_refused(void **state)
{
    (void)state;
    refused(NULL, "host@localhost", NULL, false, "CRL expired",
            "crl-policy require");
    refused(NULL, "chained@localhost", NULL, false, "CRL expired", NULL);
}

static void expired_crl_tolerated(void **state)
{
    (void)state;
    establish_ok(NULL, "host@localhost", NULL);
    establish_ok(NULL, "chained@localhost", NULL);
    establish_ok("chained", "host@localhost", NULL);
}

/* An expired CRL still revokes what it lists. */
static void expired_crl_still_revokes(void **state)
{
    (void)state;
    refused(NULL, "revoked@localhost", NULL, false, "certificate revoked",
            NULL);
    refused("subrevoked", "host@localhost", NULL, true, "certificate revoked",
            NULL);
}

/* ---- missing-default / missing-ifpresent ---------------------------- */

/* No policy set means require: int1 has no CRL. */
static void missing_crl_refused(void **state)
{
    (void)state;
    establish_ok(NULL, "host@localhost", NULL);
    refused(NULL, "chained@localhost", NULL, false, "no CRL for issuer",
            "chain test intermediate CA");
    refused("chained", "host@localhost", NULL, true, "no CRL for issuer",
            "chain test intermediate CA");
}

static void missing_crl_tolerated(void **state)
{
    (void)state;
    establish_ok(NULL, "chained@localhost", NULL);
    establish_ok("chained", "host@localhost", NULL);
    refused(NULL, "revoked@localhost", NULL, false, "certificate revoked",
            NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest chain[] = {
        cmocka_unit_test(chained_acceptor),
        cmocka_unit_test(chained_initiator),
        cmocka_unit_test(no_crls_no_revocation),
        cmocka_unit_test(cred_store_crls),
    };
    const struct CMUnitTest require[] = {
        cmocka_unit_test(good_chains_pass),
        cmocka_unit_test(revoked_acceptor),
        cmocka_unit_test(revoked_initiator),
        cmocka_unit_test(revoked_intermediate),
    };
    const struct CMUnitTest expired_require[] = {
        cmocka_unit_test(expired_crl_refused),
    };
    const struct CMUnitTest expired_ifpresent[] = {
        cmocka_unit_test(expired_crl_tolerated),
        cmocka_unit_test(expired_crl_still_revokes),
    };
    const struct CMUnitTest missing_default[] = {
        cmocka_unit_test(missing_crl_refused),
    };
    const struct CMUnitTest missing_ifpresent[] = {
        cmocka_unit_test(missing_crl_tolerated),
    };
    const char *group = argc > 1 ? argv[1] : "chain";

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
#define GROUP(name, tests)                                                     \
    if (strcmp(group, name) == 0)                                              \
    return cmocka_run_group_tests_name(name, tests, NULL, NULL)
    GROUP("chain", chain);
    GROUP("require", require);
    GROUP("expired-require", expired_require);
    GROUP("expired-ifpresent", expired_ifpresent);
    GROUP("missing-default", missing_default);
    GROUP("missing-ifpresent", missing_ifpresent);
    fprintf(stderr, "unknown group %s\n", group);
    return 2;
}
