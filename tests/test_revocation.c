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
 * Built with GP11_TEST_SSPI (test_revocation_sspi_*), the groups sspi-*
 * run the refusals through the SSPI face on both sides and check the
 * SEC_E_* status of the side that refuses (docs/sspi.md, "Statuses").
 */
#include "gsslib.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GP11_TEST_SSPI
#include <gss-pkcs11/sspi.h>
#endif

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

#ifdef GP11_TEST_SSPI
/* ---- sspi-*: the same refusals through the SSPI face ---------------- */

/* One side of an SSPI handshake. */
struct sp_side {
    CredHandle cred;
    bool have_cred;
    CtxtHandle ctx;
    bool have_ctx;
    SECURITY_STATUS st;
};

/* One InitializeSecurityContextA (in NULL: the first) or
 * AcceptSecurityContext call, caller's buffers; *out_len the token made. */
static SECURITY_STATUS sp_step(struct sp_side *s, bool initiator,
                               const char *target, const uint8_t *in,
                               size_t in_len, uint8_t *out, size_t *out_len)
{
    SecBuffer ib = {(ULONG)in_len, SECBUFFER_TOKEN, (void *)in};
    SecBuffer ob = {(ULONG)*out_len, SECBUFFER_TOKEN, out};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    CredHandle *cred = s->have_cred ? &s->cred : NULL;
    CtxtHandle *ctx = s->have_ctx ? &s->ctx : NULL;
    ULONG attrs = 0;

    if (initiator)
        s->st = InitializeSecurityContextA(
            cred, ctx, ctx ? NULL : (SEC_CHAR *)target, ISC_REQ_MUTUAL_AUTH, 0,
            SECURITY_NATIVE_DREP, in ? &id : NULL, 0, &s->ctx, &od, &attrs,
            NULL);
    else
        s->st = AcceptSecurityContext(cred, ctx, &id, ASC_REQ_MUTUAL_AUTH,
                                      SECURITY_NATIVE_DREP, &s->ctx, &od,
                                      &attrs, NULL);
    if (s->st == SEC_E_OK || s->st == SEC_I_CONTINUE_NEEDED)
        s->have_ctx = true;
    *out_len = ob.cbBuffer;
    return s->st;
}

/*
 * An SSPI handshake that one side must refuse: initiator identity ident
 * (NULL: the configured one) to target; the refusing side (by_acceptor)
 * must return want, and the other side must not complete.
 */
static void sspi_refused(const char *ident, const char *target,
                         bool by_acceptor, SECURITY_STATUS want)
{
    struct sp_side i = {0}, a = {0};
    uint8_t t1[16384], t2[16384];
    size_t l1 = sizeof(t1), l2;
    char uri[512];
    TimeStamp exp;
    int legs = 0;

    if (ident != NULL) {
        snprintf(uri, sizeof(uri), "%s;object=%s;type=private",
                 tl_config()->token_uri, ident);
        assert_int_equal(
            AcquireCredentialsHandleA(uri, (SEC_CHAR *)GSS_PKCS11_SSP_NAME,
                                      SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
                                      NULL, &i.cred, &exp),
            SEC_E_OK);
        i.have_cred = true;
    }
    /* INIT, ACCEPT, FINISH, CONFIRM until a side stops. */
    sp_step(&i, true, target, NULL, 0, t1, &l1);
    while (legs++ < 4 && i.st == SEC_I_CONTINUE_NEEDED) {
        l2 = sizeof(t2);
        if (sp_step(&a, false, NULL, t1, l1, t2, &l2) != SEC_E_OK &&
            a.st != SEC_I_CONTINUE_NEEDED)
            break;
        if (l2 == 0)
            break;
        l1 = sizeof(t1);
        sp_step(&i, true, NULL, t2, l2, t1, &l1);
    }
    if (by_acceptor) {
        if (a.st != want)
            fail_msg("AcceptSecurityContext: 0x%08x, want 0x%08x",
                     (unsigned)a.st, (unsigned)want);
        assert_int_not_equal(i.st, SEC_E_OK);
    } else {
        if (i.st != want)
            fail_msg("InitializeSecurityContextA: 0x%08x, want 0x%08x",
                     (unsigned)i.st, (unsigned)want);
        assert_int_not_equal(a.st, SEC_E_OK);
    }
    if (i.have_ctx)
        DeleteSecurityContext(&i.ctx);
    if (a.have_ctx)
        DeleteSecurityContext(&a.ctx);
    if (i.have_cred)
        FreeCredentialsHandle(&i.cred);
}

/* A revoked certificate, leaf or intermediate, on either side. */
static void sspi_revoked(void **state)
{
    (void)state;
    sspi_refused(NULL, "revoked@localhost", false,
                 SEC_E_SMARTCARD_CERT_REVOKED);
    sspi_refused("revoked", "host@localhost", true,
                 SEC_E_SMARTCARD_CERT_REVOKED);
    sspi_refused("subrevoked", "host@localhost", true,
                 SEC_E_SMARTCARD_CERT_REVOKED);
}

/* An expired CRL under crl-policy require: revocation status unknown. */
static void sspi_expired_crl(void **state)
{
    (void)state;
    sspi_refused(NULL, "host@localhost", false, SEC_E_REVOCATION_OFFLINE_C);
}

/* No CRL for the issuer: revocation status unknown, on either side. */
static void sspi_missing_crl(void **state)
{
    (void)state;
    sspi_refused(NULL, "chained@localhost", false, SEC_E_REVOCATION_OFFLINE_C);
    sspi_refused("chained", "host@localhost", true, SEC_E_REVOCATION_OFFLINE_C);
}
#endif

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
#ifdef GP11_TEST_SSPI
    {
        const struct CMUnitTest sspi_require[] = {
            cmocka_unit_test(sspi_revoked),
        };
        const struct CMUnitTest sspi_expired[] = {
            cmocka_unit_test(sspi_expired_crl),
        };
        const struct CMUnitTest sspi_missing[] = {
            cmocka_unit_test(sspi_missing_crl),
        };

        GROUP("sspi-require", sspi_require);
        GROUP("sspi-expired-require", sspi_expired);
        GROUP("sspi-missing-default", sspi_missing);
    }
#endif
    fprintf(stderr, "unknown group %s\n", group);
    return 2;
}
