/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CRL loader of core/revocation.c: the forms it refuses (delta,
 * scoped, without nextUpdate, malformed, none at all) with the sentence
 * an administrator sees. Chains against CRLs are tested through the
 * mechglue in test_revocation.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gp11_error.h"
#include "gp11_revocation.h"

static EVP_PKEY *key;

/* A CRL of "CN=test CA" with the given nextUpdate and extension. */
static X509_CRL *make_crl(bool next_update, int nid, const char *value)
{
    X509_CRL *crl = X509_CRL_new();
    X509_NAME *name = X509_NAME_new();
    ASN1_TIME *t = ASN1_TIME_new();
    X509V3_CTX v3;
    X509_EXTENSION *e;

    assert_non_null(crl);
    assert_int_equal(
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)"test CA", -1, -1, 0),
        1);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, name), 1);
    assert_non_null(X509_gmtime_adj(t, -3600));
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
    if (next_update) {
        assert_non_null(X509_gmtime_adj(t, 86400));
        assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
    }
    if (nid == NID_crl_number || nid == NID_delta_crl) {
        ASN1_INTEGER *num = ASN1_INTEGER_new();

        assert_int_equal(ASN1_INTEGER_set(num, 1), 1);
        assert_int_equal(X509_CRL_add1_ext_i2d(
                             crl, nid, num, strcmp(value, "critical") == 0, 0),
                         1);
        ASN1_INTEGER_free(num);
    } else if (nid != NID_undef) {
        X509V3_set_ctx(&v3, NULL, NULL, NULL, crl, 0);
        e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
        assert_non_null(e);
        assert_int_equal(X509_CRL_add_ext(crl, e, -1), 1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    X509_NAME_free(name);
    return crl;
}

/* Adds crl (as DER) to a new set; expects code and a sentence with want. */
static void expect_add(X509_CRL *crl, uint32_t code, const char *want)
{
    struct gp11_crls *c = NULL;
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);

    assert_true(n > 0);
    assert_int_equal(gp11_crls_new(GP11_CRL_REQUIRE, &c), GP11_OK);
    assert_int_equal(gp11_crls_add_mem(c, der, (size_t)n, "test.der"), code);
    if (want != NULL && strstr(gp11_err_message(code), want) == NULL)
        fail_msg("'%s' does not say '%s'", gp11_err_message(code), want);
    gp11_crls_free(c);
    OPENSSL_free(der);
    X509_CRL_free(crl);
}

static void complete_crl_accepted(void **state)
{
    (void)state;
    expect_add(make_crl(true, NID_crl_number, ""), GP11_OK, NULL);
}

static void crl_without_next_update_refused(void **state)
{
    (void)state;
    expect_add(make_crl(false, NID_undef, NULL), GP11_ERR_CONFIG_VALUE,
               "the CRL of \"CN=test CA\" in test.der has no nextUpdate");
}

static void delta_crl_refused(void **state)
{
    (void)state;
    expect_add(make_crl(true, NID_delta_crl, "critical"), GP11_ERR_CONFIG_VALUE,
               "is a delta CRL");
}

static void scoped_crl_refused(void **state)
{
    (void)state;
    expect_add(make_crl(true, NID_issuing_distribution_point,
                        "critical,onlyuser:TRUE"),
               GP11_ERR_CONFIG_VALUE, "only complete CRLs without scope");
}

static void malformed_and_empty_inputs(void **state)
{
    static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nMAA=\n"
                              "-----END CERTIFICATE-----\n";
    static const char bad[] = "-----BEGIN X509 CRL-----\nMAA=\n"
                              "-----END X509 CRL-----\n";
    struct gp11_crls *c = NULL;

    (void)state;
    assert_int_equal(gp11_crls_new(GP11_CRL_IF_PRESENT, &c), GP11_OK);
    assert_int_equal(gp11_crls_add_mem(c, der, sizeof(der), "a.der"),
                     GP11_ERR_CERT_INVALID);
    assert_int_equal(
        gp11_crls_add_mem(c, (const uint8_t *)pem, strlen(pem), "b.pem"),
        GP11_ERR_CONFIG_VALUE);
    assert_non_null(strstr(gp11_err_message(GP11_ERR_CONFIG_VALUE),
                           "holds no PEM \"X509 CRL\" block"));
    assert_int_equal(
        gp11_crls_add_mem(c, (const uint8_t *)bad, strlen(bad), "c.pem"),
        GP11_ERR_CERT_INVALID);
    gp11_crls_free(c);
    assert_int_equal(gp11_crls_new((enum gp11_crl_policy)7, &c),
                     GP11_ERR_BAD_ARG);
}

/* A directory without CRL files, and one whose only CRL file is good. */
static void directory_loading(void **state)
{
    char dir[] = "/tmp/test_crl-XXXXXX";
    char path[64];
    struct gp11_crls *c = NULL;
    X509_CRL *crl;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(gp11_crls_load(dir, GP11_CRL_REQUIRE, &c),
                     GP11_ERR_CONFIG_VALUE);
    assert_null(c);
    snprintf(path, sizeof(path), "%s/ignored.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a CRL\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/ca.crl", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    crl = make_crl(true, NID_undef, NULL);
    assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
    X509_CRL_free(crl);
    fclose(f);
    assert_int_equal(gp11_crls_load(dir, GP11_CRL_REQUIRE, &c), GP11_OK);
    assert_int_equal(gp11_crls_check(NULL, NULL, "acceptor", 0), GP11_OK);
    gp11_crls_free(c);
    unlink(path);
    snprintf(path, sizeof(path), "%s/ignored.txt", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(complete_crl_accepted),
        cmocka_unit_test(crl_without_next_update_refused),
        cmocka_unit_test(delta_crl_refused),
        cmocka_unit_test(scoped_crl_refused),
        cmocka_unit_test(malformed_and_empty_inputs),
        cmocka_unit_test(directory_loading),
    };
    int rc;

    key = EVP_EC_gen("P-256");
    if (key == NULL)
        return 1;
    rc = cmocka_run_group_tests_name("crl", tests, NULL, NULL);
    EVP_PKEY_free(key);
    return rc;
}
