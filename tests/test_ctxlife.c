/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A context ends no later than any certificate its peer proved itself
 * with: the whole verified chain, anchor included, not only the leaf.
 * Runs with short.conf (tests/setup-tokens.sh): the identity "short"
 * (short@localhost, acceptor and, through a cred store, initiator) has a
 * leaf valid for 60 days from a CA valid for 7, which is among the
 * anchors, and the policy grants up to 30 days; so the CA is the first
 * certificate to expire and the only thing that can end the context
 * before the grant does.
 */
#include "gsslib.h"
#include "testlib.h"

#include <libgen.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds from now to the certificate's notAfter (negative if past). */
static long remaining(X509 *x, const char *what)
{
    int days = 0, secs = 0;

    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
        fail_msg("cannot read the notAfter of %s", what);
    return (long)days * 86400 + secs;
}

/* The certificate stored on the token under label (CKA_VALUE). */
static X509 *token_cert(const char *label)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, (void *)label, strlen(label)}};
    static struct gp11_token *tok; /* kept open: never finalise under the
                                    * plugin */
    struct gp11_object *objs = NULL;
    const unsigned char *p;
    void *der = NULL;
    CK_ULONG len = 0;
    size_t n = 0;
    X509 *x;

    if (tok == NULL)
        tok = tl_open();
    tl_assert_err(gp11_object_find(tok, t, 2, &objs, &n), GP11_OK);
    if (n != 1)
        fail_msg("%zu certificates labelled '%s' on the token (did the "
                 "setup suite run?)",
                 n, label);
    tl_assert_err(gp11_object_get_attr(tok, &objs[0], CKA_VALUE, &der, &len),
                  GP11_OK);
    p = der;
    x = d2i_X509(NULL, &p, (long)len);
    assert_non_null(x);
    free(der);
    free(objs);
    return x;
}

/* The short-lived CA's certificate, beside the suite's configuration. */
static X509 *short_ca(void)
{
    char conf[4096], path[4096 + 32];
    FILE *f;
    X509 *x;

    snprintf(conf, sizeof(conf), "%s", getenv("GSS_PKCS11_CONF"));
    snprintf(path, sizeof(path), "%s/shortca/ca.pem", dirname(conf));
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s (did the setup suite run?)", path);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

/* The least remaining life in short@localhost's chain (leaf and CA);
 * checks the fixture is what this test relies on. */
static long chain_remaining(void)
{
    X509 *leaf = token_cert("short"), *ca = short_ca();
    long leaf_left = remaining(leaf, "the short leaf");
    long ca_left = remaining(ca, "the short-lived CA");

    X509_free(leaf);
    X509_free(ca);
    print_message("short@localhost: leaf %ld s left, its CA %ld s left\n",
                  leaf_left, ca_left);
    if (ca_left <= 3600)
        fail_msg("the short-lived test CA expires in %ld s: the fixture is "
                 "too old, run the setup suite again",
                 ca_left);
    /* The CA must expire before the leaf, and before the 30-day grant. */
    assert_true(ca_left < leaf_left);
    assert_true(ca_left < 30L * 86400 - 3600);
    return ca_left < leaf_left ? ca_left : leaf_left;
}

/* Runs the handshake; fails the test if it fails. */
static void establish(struct gl_hs *hs, const char *service)
{
    hs->target = gl_service(service);
    if (!gl_handshake(hs))
        gl_fail(GSS_ERROR(hs->imajor) ? "initiator" : "acceptor",
                GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
}

/* Asserts a context ends with the chain: within a minute of its
 * remaining life (computed before the handshake) and never after it. */
static void assert_capped(const char *side, gss_ctx_id_t ctx, OM_uint32 at_est,
                          long chain_left)
{
    OM_uint32 minor, t = 0, life = 0;

    print_message("%s: %u s at establishment, chain %ld s\n", side, at_est,
                  chain_left);
    if ((long)at_est > chain_left || (long)at_est < chain_left - 60)
        fail_msg("%s: lifetime %u s at establishment, but the peer's chain "
                 "ends in %ld s",
                 side, at_est, chain_left);
    assert_int_equal(gss_context_time(&minor, ctx, &t), GSS_S_COMPLETE);
    if ((long)t > chain_left)
        fail_msg("%s: gss_context_time %u s, the peer's chain ends in %ld s",
                 side, t, chain_left);
    assert_int_equal(gss_inquire_context(&minor, ctx, NULL, NULL, &life, NULL,
                                         NULL, NULL, NULL),
                     GSS_S_COMPLETE);
    if ((long)life > chain_left)
        fail_msg("%s: gss_inquire_context lifetime %u s, the peer's chain "
                 "ends in %ld s",
                 side, life, chain_left);
}

static void initiator_ends_with_the_acceptors_chain(void **state)
{
    long left = chain_remaining();
    struct gl_hs hs = {0};

    (void)state;
    /* alice (a 10-year CA) to short@localhost (a 7-day CA). */
    establish(&hs, "short@localhost");
    /* The acceptor granted what its leaf and the policy allow, more than
     * its CA does: only the initiator's chain check can cut it down. */
    print_message("acceptor (alice's chain is long): %u s\n", hs.atime);
    assert_true((long)hs.atime > left + 3600);
    assert_capped("initiator", hs.ictx, hs.itime, left);
    gl_hs_release(&hs);
}

static void acceptor_ends_with_the_initiators_chain(void **state)
{
    gss_key_value_element_desc kv[1];
    gss_key_value_set_desc store = {1, kv};
    long left = chain_remaining();
    struct gl_hs hs = {0};
    char uri[512];
    OM_uint32 minor;

    (void)state;
    /* short (a 7-day CA) as the initiator, to host@localhost. */
    snprintf(uri, sizeof(uri), "%s;object=short;type=private",
             tl_config()->token_uri);
    kv[0].key = "pkcs11-identity";
    kv[0].value = uri;
    assert_int_equal(gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0,
                                           gl_mech_set(), GSS_C_INITIATE,
                                           &store, &hs.icred, NULL, NULL),
                     GSS_S_COMPLETE);
    establish(&hs, "host@localhost");
    /* The initiator's own chain does not cap its side (it checks only
     * its own leaf): shown, not asserted. */
    print_message("initiator (its own CA ends in %ld s): %u s\n", left,
                  hs.itime);
    assert_capped("acceptor", hs.actx, hs.atime, left);
    gl_hs_release(&hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(initiator_ends_with_the_acceptors_chain),
        cmocka_unit_test(acceptor_ends_with_the_initiators_chain),
    };

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
