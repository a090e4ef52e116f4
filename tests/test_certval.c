/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of trust anchors, peer chain validation and signature checks. */
#include "devca.h"
#include "gp11_certval.h"
#include "gp11_error.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400L

/* Signature algorithm ids of protocol.md 2.5, spelled out independently. */
#define SIGALG_NONE 0
#define SIGALG_P256 1
#define SIGALG_P384 2
#define SIGALG_PSS 3
#define SIG_MAX 2048

/* Keys, CAs and anchors shared by all tests of the group. */
struct state {
    char dir[64];
    char ca_cert[PATH_MAX];  /* devca CA: the configured anchor */
    char ca2_cert[PATH_MAX]; /* a second devca CA, not trusted */
    char root_pem[PATH_MAX]; /* root built here (for the chain tests) */
    char inter_pem[PATH_MAX];
    struct gp11_devca *ca;
    struct gp11_devca *ca2;
    struct gp11_devca *inter_ca; /* devca loaded from the intermediate */
    struct gp11_trust *trust;    /* anchors: ca_cert */
    EVP_PKEY *p256;
    EVP_PKEY *p384;
    EVP_PKEY *rsa3072;
    EVP_PKEY *rsa1024;
    EVP_PKEY *ed25519;
    EVP_PKEY *root_key;
    EVP_PKEY *inter_key;
    X509 *root;
    X509 *inter;
};

/* Writes dir/name into buf. */
static void path_in(const struct state *s, const char *name, char *buf,
                    size_t len)
{
    int n = snprintf(buf, len, "%s/%s", s->dir, name);

    assert_true(n > 0 && (size_t)n < len);
}

/* Writes len bytes of data to a new file at path. */
static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "we");

    assert_non_null(fp);
    if (len > 0)
        assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Writes x as PEM to path (appending when append is set). */
static void write_cert_pem(const char *path, X509 *x, bool append)
{
    FILE *fp = fopen(path, append ? "ae" : "we");

    assert_non_null(fp);
    assert_int_equal(PEM_write_X509(fp, x), 1);
    assert_int_equal(fclose(fp), 0);
}

/* Reads the first PEM certificate of path. */
static X509 *read_cert(const char *path)
{
    FILE *fp = fopen(path, "re");
    X509 *x;

    assert_non_null(fp);
    x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    return x;
}

/* DER of x, malloc'ed. */
static uint8_t *to_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    unsigned char *w;
    int n = i2d_X509(x, NULL);

    assert_true(n > 0);
    der = malloc((size_t)n);
    assert_non_null(der);
    w = der;
    assert_int_equal(i2d_X509(x, &w), n);
    *len = (size_t)n;
    return der;
}

/* nftw callback removing each entry of the scratch directory. */
static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* True if the message of code contains needle. */
static bool msg_has(uint32_t code, const char *needle)
{
    const char *m = gp11_err_message(code);

    if (strstr(m, needle) == NULL) {
        print_error("message \"%s\" lacks \"%s\"\n", m, needle);
        return false;
    }
    return true;
}

/* time_t of an ASN1_TIME. */
static time_t to_time(const ASN1_TIME *a)
{
    struct tm tm;

    assert_int_equal(ASN1_TIME_to_tm(a, &tm), 1);
    return timegm(&tm);
}

/* One extension in OpenSSL configuration syntax. */
struct ext {
    const char *name;
    const char *value;
};

/*
 * Builds a certificate for key signed by issuer_key (self-signed when issuer
 * is NULL), valid from now+nb to now+na seconds, with the extensions given
 * ending with {NULL, NULL}.
 */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, long nb, long na,
                       const struct ext *exts)
{
    static long serial = 1000;
    X509_NAME *name = X509_NAME_new();
    X509 *x = X509_new();
    time_t now = time(NULL);
    X509_EXTENSION *ext;
    X509V3_CTX v3;
    size_t i;

    assert_non_null(name);
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)cn, -1,
                                                -1, 0),
                     1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    assert_int_equal(X509_set_issuer_name(x, issuer != NULL
                                                 ? X509_get_subject_name(issuer)
                                                 : name),
                     1);
    assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), 0, nb, &now));
    assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 0, na, &now));
    assert_int_equal(X509_set_pubkey(x, key), 1);
    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    for (i = 0; exts[i].name != NULL; i++) {
        ext = X509V3_EXT_nconf_nid(NULL, &v3, OBJ_txt2nid(exts[i].name),
                                   exts[i].value);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    return x;
}

/* The extensions of a CA certificate (pathlen 0 or unlimited). */
static const struct ext root_exts[] = {
    {"basicConstraints", "critical,CA:TRUE"},
    {"keyUsage", "critical,keyCertSign,cRLSign"},
    {"subjectKeyIdentifier", "hash"},
    {"authorityKeyIdentifier", "keyid:always"},
    {NULL, NULL},
};
static const struct ext inter_exts[] = {
    {"basicConstraints", "critical,CA:TRUE,pathlen:0"},
    {"keyUsage", "critical,keyCertSign,cRLSign"},
    {"subjectKeyIdentifier", "hash"},
    {"authorityKeyIdentifier", "keyid:always"},
    {NULL, NULL},
};

/* Issues a devca certificate for key; returns its malloc'ed DER. */
static uint8_t *issue(struct gp11_devca *ca, EVP_PKEY *key, const char *cn,
                      const char *dns, bool server, bool client, long nb,
                      long na, size_t *len)
{
    struct gp11_devca_profile p = {
        .cn = cn,
        .dns_name = dns,
        .server = server,
        .client = client,
        .not_before = nb,
        .not_after = na,
    };
    unsigned char *der = NULL;
    uint32_t rc;

    rc = gp11_devca_issue(ca, key, &p, &der, len);
    if (rc != GP11_OK)
        print_error("issue: %s\n", gp11_err_message(rc));
    assert_int_equal(rc, GP11_OK);
    return der;
}

/* gp11_certval_verify of a single DER certificate. */
static uint32_t verify1(struct gp11_trust *t, const uint8_t *der, size_t len,
                        enum gp11_peer_role role, const char *host, X509 **leaf,
                        time_t *na)
{
    struct gp11_buf b = {der, len};

    return gp11_certval_verify(t, &b, 1, role, host, time(NULL), leaf, na);
}

static int group_setup(void **state)
{
    struct state *s = calloc(1, sizeof(*s));
    char key[PATH_MAX];
    char key2[PATH_MAX];
    char ikey[PATH_MAX];
    FILE *fp;
    uint32_t rc;

    if (s == NULL)
        return -1;
    strcpy(s->dir, "/tmp/test_certval.XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        free(s);
        return -1;
    }
    *state = s;
    path_in(s, "ca.key", key, sizeof(key));
    path_in(s, "ca.pem", s->ca_cert, sizeof(s->ca_cert));
    path_in(s, "ca2.key", key2, sizeof(key2));
    path_in(s, "ca2.pem", s->ca2_cert, sizeof(s->ca2_cert));
    rc = gp11_devca_create("certval test CA", 45, key, s->ca_cert, &s->ca);
    if (rc == GP11_OK)
        rc = gp11_devca_create("untrusted CA", 45, key2, s->ca2_cert, &s->ca2);
    if (rc == GP11_OK)
        rc = gp11_trust_load(s->ca_cert, &s->trust);
    if (rc != GP11_OK) {
        fprintf(stderr, "setup: %s\n", gp11_err_message(rc));
        return -1;
    }
    s->p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    s->p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    s->rsa3072 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    s->rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    s->ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    s->root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    s->inter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (s->p256 == NULL || s->p384 == NULL || s->rsa3072 == NULL ||
        s->rsa1024 == NULL || s->ed25519 == NULL || s->root_key == NULL ||
        s->inter_key == NULL)
        return -1;

    /* Root (30 days) -> intermediate (5 days, pathlen 0) -> devca leaves. */
    s->root = make_cert("chain root", s->root_key, NULL, s->root_key, -3600,
                        30 * DAY, root_exts);
    s->inter = make_cert("chain intermediate", s->inter_key, s->root,
                         s->root_key, -3600, 5 * DAY, inter_exts);
    path_in(s, "root.pem", s->root_pem, sizeof(s->root_pem));
    path_in(s, "inter.pem", s->inter_pem, sizeof(s->inter_pem));
    path_in(s, "inter.key", ikey, sizeof(ikey));
    write_cert_pem(s->root_pem, s->root, false);
    write_cert_pem(s->inter_pem, s->inter, false);
    fp = fopen(ikey, "we");
    if (fp == NULL ||
        PEM_write_PrivateKey(fp, s->inter_key, NULL, NULL, 0, NULL, NULL) != 1)
        return -1;
    fclose(fp);
    rc = gp11_devca_load(ikey, s->inter_pem, &s->inter_ca);
    if (rc != GP11_OK) {
        fprintf(stderr, "load intermediate: %s\n", gp11_err_message(rc));
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    struct state *s = *state;

    if (s == NULL)
        return 0;
    gp11_trust_free(s->trust);
    gp11_devca_free(s->ca);
    gp11_devca_free(s->ca2);
    gp11_devca_free(s->inter_ca);
    EVP_PKEY_free(s->p256);
    EVP_PKEY_free(s->p384);
    EVP_PKEY_free(s->rsa3072);
    EVP_PKEY_free(s->rsa1024);
    EVP_PKEY_free(s->ed25519);
    EVP_PKEY_free(s->root_key);
    EVP_PKEY_free(s->inter_key);
    X509_free(s->root);
    X509_free(s->inter);
    nftw(s->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(s);
    return 0;
}

/* ---- chain validation ---- */

static void test_acceptor_ok(void **state)
{
    struct state *s = *state;
    X509 *leaf = NULL;
    time_t na = 0;
    size_t len;
    uint8_t *der = issue(s->ca, s->p256, "server", "localhost", true, false,
                         -60, 10 * DAY, &len);
    X509 *want;
    const unsigned char *q = der;
    uint32_t rc;

    rc = verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, "localhost", &leaf,
                 &na);
    if (rc != GP11_OK)
        print_error("%s\n", gp11_err_message(rc));
    assert_int_equal(rc, GP11_OK);
    assert_non_null(leaf);
    want = d2i_X509(NULL, &q, (long)len);
    assert_non_null(want);
    assert_int_equal(X509_cmp(leaf, want), 0);
    /* The leaf ends before the CA (45 days). */
    assert_int_equal(na, to_time(X509_get0_notAfter(want)));
    assert_int_equal(gp11_cert_sigalg(leaf), SIGALG_P256);
    X509_free(leaf);
    X509_free(want);

    /* Host names compare without case; no host, no name check. */
    assert_int_equal(verify1(s->trust, der, len, GP11_PEER_ACCEPTOR,
                             "LocalHost", NULL, NULL),
                     GP11_OK);
    assert_int_equal(
        verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, NULL, NULL, NULL),
        GP11_OK);
    free(der);
}

static void test_initiator_ok(void **state)
{
    struct state *s = *state;
    X509 *leaf = NULL;
    time_t na = 0;
    size_t len;
    uint8_t *der =
        issue(s->ca, s->p384, "alice", NULL, false, true, -60, 90 * DAY, &len);
    uint32_t rc;

    /* The host is not checked for an initiator. */
    rc = verify1(s->trust, der, len, GP11_PEER_INITIATOR, "elsewhere", &leaf,
                 &na);
    if (rc != GP11_OK)
        print_error("%s\n", gp11_err_message(rc));
    assert_int_equal(rc, GP11_OK);
    assert_non_null(leaf);
    assert_int_equal(gp11_cert_sigalg(leaf), SIGALG_P384);
    /* The CA (45 days) ends before the leaf (90 days). */
    {
        X509 *ca = read_cert(s->ca_cert);

        assert_int_equal(na, to_time(X509_get0_notAfter(ca)));
        X509_free(ca);
    }
    X509_free(leaf);

    /* A certificate with both EKUs serves both roles. */
    free(der);
    der = issue(s->ca, s->rsa3072, "both", "both.example", true, true, -60, DAY,
                &len);
    assert_int_equal(
        verify1(s->trust, der, len, GP11_PEER_INITIATOR, NULL, &leaf, NULL),
        GP11_OK);
    assert_int_equal(gp11_cert_sigalg(leaf), SIGALG_PSS);
    X509_free(leaf);
    assert_int_equal(verify1(s->trust, der, len, GP11_PEER_ACCEPTOR,
                             "both.example", NULL, NULL),
                     GP11_OK);
    free(der);
}

static void test_untrusted_ca(void **state)
{
    struct state *s = *state;
    X509 *leaf = (X509 *)1;
    time_t na = 1;
    size_t len;
    uint8_t *der = issue(s->ca2, s->p256, "mallory", "localhost", true, true,
                         -60, DAY, &len);
    uint32_t rc;

    rc = verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, "localhost", &leaf,
                 &na);
    assert_int_equal(rc, GP11_ERR_CERT_UNTRUSTED);
    assert_null(leaf);
    assert_int_equal(na, 0);
    assert_true(msg_has(rc, "the acceptor's certificate \"CN=mallory\""));
    assert_true(msg_has(rc, "unable to get local issuer certificate"));
    free(der);
}

static void test_expired(void **state)
{
    struct state *s = *state;
    size_t len;
    uint8_t *der =
        issue(s->ca, s->p256, "old", "localhost", true, true, -7200, -60, &len);
    uint32_t rc;

    rc = verify1(s->trust, der, len, GP11_PEER_INITIATOR, NULL, NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_EXPIRED);
    assert_true(msg_has(rc, "the initiator's certificate \"CN=old\""));
    assert_true(msg_has(rc, "expired on 20"));
    assert_true(msg_has(rc, "certificate has expired"));
    free(der);

    /* A valid leaf checked after the CA's end: the CA is named. */
    der = issue(s->ca, s->p256, "fresh", "localhost", true, false, -60, DAY,
                &len);
    {
        struct gp11_buf b = {der, len};

        rc = gp11_certval_verify(s->trust, &b, 1, GP11_PEER_ACCEPTOR, NULL,
                                 time(NULL) + 400 * DAY, NULL, NULL);
    }
    assert_int_equal(rc, GP11_ERR_CERT_EXPIRED);
    assert_true(msg_has(rc, "CN=certval test CA"));
    assert_true(msg_has(rc, "at depth 1 of the acceptor's chain"));
    free(der);
}

static void test_not_yet_valid(void **state)
{
    struct state *s = *state;
    size_t len;
    uint8_t *der = issue(s->ca, s->p256, "future", "localhost", true, false,
                         3600, 2 * DAY, &len);
    uint32_t rc;

    rc = verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, "localhost", NULL,
                 NULL);
    assert_int_equal(rc, GP11_ERR_CERT_NOT_YET_VALID);
    assert_true(msg_has(rc, "\"CN=future\" is not valid before 20"));
    assert_true(msg_has(rc, "certificate is not yet valid"));
    free(der);
}

static void test_wrong_host(void **state)
{
    struct state *s = *state;
    X509 *leaf = (X509 *)1;
    size_t len;
    uint8_t *der = issue(s->ca, s->p256, "srv.example.com", "localhost", true,
                         false, -60, DAY, &len);
    uint32_t rc;

    rc = verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, "other.example", &leaf,
                 NULL);
    assert_int_equal(rc, GP11_ERR_CERT_HOSTNAME);
    assert_null(leaf);
    assert_true(msg_has(rc, "\"CN=srv.example.com\" names DNS:localhost, not "
                            "the target host \"other.example\""));
    /* With a SAN dNSName, the CN is not consulted. */
    rc = verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, "srv.example.com",
                 NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_HOSTNAME);
    free(der);

    /* Without any dNSName, the CN is compared. */
    der = issue(s->ca, s->p256, "srv.example.com", NULL, true, false, -60, DAY,
                &len);
    assert_int_equal(verify1(s->trust, der, len, GP11_PEER_ACCEPTOR,
                             "srv.example.com", NULL, NULL),
                     GP11_OK);
    rc = verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, "www.example.com",
                 NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_HOSTNAME);
    assert_true(msg_has(rc, "no DNS name (its subject CN was compared)"));
    assert_true(msg_has(rc, "\"www.example.com\""));
    free(der);
}

static void test_wildcard_host(void **state)
{
    struct state *s = *state;
    size_t len;
    uint8_t *der = issue(s->ca, s->p256, "wild", "*.example.com", true, false,
                         -60, DAY, &len);

    assert_int_equal(verify1(s->trust, der, len, GP11_PEER_ACCEPTOR,
                             "a.example.com", NULL, NULL),
                     GP11_OK);
    /* One label only, and not the parent domain. */
    assert_int_equal(verify1(s->trust, der, len, GP11_PEER_ACCEPTOR,
                             "b.a.example.com", NULL, NULL),
                     GP11_ERR_CERT_HOSTNAME);
    assert_int_equal(verify1(s->trust, der, len, GP11_PEER_ACCEPTOR,
                             "example.com", NULL, NULL),
                     GP11_ERR_CERT_HOSTNAME);
    free(der);
}

/* A leaf under the test root with the given extensions, as DER. */
static uint8_t *root_leaf(struct state *s, const char *cn,
                          const struct ext *exts, size_t *len)
{
    X509 *x = make_cert(cn, s->p256, s->root, s->root_key, -60, DAY, exts);
    uint8_t *der = to_der(x, len);

    X509_free(x);
    return der;
}

static void test_partial_wildcard(void **state)
{
    static const struct ext exts[] = {
        {"basicConstraints", "critical,CA:FALSE"},
        {"keyUsage", "critical,digitalSignature"},
        {"extendedKeyUsage", "serverAuth"},
        {"subjectKeyIdentifier", "hash"},
        {"authorityKeyIdentifier", "keyid:always"},
        {"subjectAltName", "DNS:w*.example.com"},
        {NULL, NULL},
    };
    struct state *s = *state;
    struct gp11_trust *t = NULL;
    size_t len;
    uint8_t *der = root_leaf(s, "partial", exts, &len);
    uint32_t rc;

    assert_int_equal(gp11_trust_load(s->root_pem, &t), GP11_OK);
    rc =
        verify1(t, der, len, GP11_PEER_ACCEPTOR, "www.example.com", NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_HOSTNAME);
    assert_true(msg_has(rc, "names DNS:w*.example.com, not"));
    gp11_trust_free(t);
    free(der);
}

static void test_strict(void **state)
{
    /* Fine for OpenSSL's default checks, refused by X509_V_FLAG_X509_STRICT
     * (a certificate of a chain without authorityKeyIdentifier). */
    static const struct ext exts[] = {
        {"basicConstraints", "critical,CA:FALSE"},
        {"keyUsage", "critical,digitalSignature"},
        {"extendedKeyUsage", "serverAuth"},
        {"subjectAltName", "DNS:localhost"},
        {NULL, NULL},
    };
    struct state *s = *state;
    struct gp11_trust *t = NULL;
    size_t len;
    uint8_t *der = root_leaf(s, "lax", exts, &len);
    uint32_t rc;

    assert_int_equal(gp11_trust_load(s->root_pem, &t), GP11_OK);
    rc = verify1(t, der, len, GP11_PEER_ACCEPTOR, "localhost", NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_UNTRUSTED);
    assert_true(msg_has(rc, "\"CN=lax\" is not trusted"));
    gp11_trust_free(t);
    free(der);
}

/* ---- the validation cache (core/certcache.c) ---------------------------- */

/* gp11_certval_verify of one certificate at a given time. */
static uint32_t verify_at(struct gp11_trust *t, const uint8_t *der, size_t len,
                          enum gp11_peer_role role, const char *host,
                          time_t now)
{
    struct gp11_buf b = {der, len};

    return gp11_certval_verify(t, &b, 1, role, host, now, NULL, NULL);
}

/* A chain validated (and so cached) is refused once it has expired, and
 * before the time it was validated at (the clock set back) it is
 * validated again: here it is not yet valid then. */
static void test_cache_keeps_validity(void **state)
{
    struct state *s = *state;
    struct gp11_trust *t = NULL;
    time_t now = time(NULL);
    size_t len;
    uint8_t *der = issue(s->ca, s->p256, "cached", "localhost", true, true, -60,
                         DAY, &len);
    uint32_t rc;

    assert_int_equal(gp11_trust_load(s->ca_cert, &t), GP11_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            verify_at(t, der, len, GP11_PEER_ACCEPTOR, "localhost", now),
            GP11_OK);
    rc = verify_at(t, der, len, GP11_PEER_ACCEPTOR, "localhost", now + 2 * DAY);
    assert_int_equal(rc, GP11_ERR_CERT_EXPIRED);
    assert_true(msg_has(rc, "CN=cached"));
    rc = verify_at(t, der, len, GP11_PEER_ACCEPTOR, "localhost", now - 3600);
    assert_int_equal(rc, GP11_ERR_CERT_NOT_YET_VALID);
    /* Still good at now (the refusals did not replace the entry). */
    assert_int_equal(
        verify_at(t, der, len, GP11_PEER_ACCEPTOR, "localhost", now), GP11_OK);
    gp11_trust_free(t);
    free(der);
}

/* What the cache holds was validated for one role: the same chain from
 * the other role, a wrong host, or another certificate with the same
 * subject from an untrusted CA are judged as if it were empty. */
static void test_cache_per_role_host_and_bytes(void **state)
{
    struct state *s = *state;
    struct gp11_trust *t = NULL;
    time_t now = time(NULL);
    size_t len, len2;
    uint8_t *der =
        issue(s->ca, s->p256, "srv", "localhost", true, false, -60, DAY, &len);
    uint8_t *forged = issue(s->ca2, s->p256, "srv", "localhost", true, false,
                            -60, DAY, &len2);
    uint32_t rc;

    assert_int_equal(gp11_trust_load(s->ca_cert, &t), GP11_OK);
    assert_int_equal(
        verify_at(t, der, len, GP11_PEER_ACCEPTOR, "localhost", now), GP11_OK);
    rc = verify_at(t, der, len, GP11_PEER_INITIATOR, NULL, now);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);
    rc = verify_at(t, der, len, GP11_PEER_ACCEPTOR, "other.example", now);
    assert_int_equal(rc, GP11_ERR_CERT_HOSTNAME);
    rc = verify_at(t, forged, len2, GP11_PEER_ACCEPTOR, "localhost", now);
    assert_int_equal(rc, GP11_ERR_CERT_UNTRUSTED);
    gp11_trust_free(t);
    free(der);
    free(forged);
}

/* More chains than the cache holds: every one is still judged right, the
 * replaced ones validated again. */
static void test_cache_replacement(void **state)
{
    struct state *s = *state;
    struct gp11_trust *t = NULL;
    time_t now = time(NULL);
    uint8_t *der[40];
    size_t len[40];
    char cn[16];

    assert_int_equal(gp11_trust_load(s->ca_cert, &t), GP11_OK);
    for (int i = 0; i < 40; i++) {
        snprintf(cn, sizeof(cn), "c%d", i);
        der[i] = issue(s->ca, s->p256, cn, "localhost", false, true, -60,
                       i % 2 ? DAY : 2 * DAY, &len[i]);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 40; i++)
            assert_int_equal(
                verify_at(t, der[i], len[i], GP11_PEER_INITIATOR, NULL, now),
                GP11_OK);
    /* After one day and a half only the longer-lived half is valid. */
    for (int i = 0; i < 40; i++)
        assert_int_equal(verify_at(t, der[i], len[i], GP11_PEER_INITIATOR, NULL,
                                   now + DAY + DAY / 2),
                         i % 2 ? GP11_ERR_CERT_EXPIRED : GP11_OK);
    for (int i = 0; i < 40; i++)
        free(der[i]);
    gp11_trust_free(t);
}

static void test_usage(void **state)
{
    struct state *s = *state;
    size_t len;
    uint8_t *der =
        issue(s->ca, s->p256, "web", "localhost", true, false, -60, DAY, &len);
    uint32_t rc;

    /* A server certificate presented by an initiator. */
    rc = verify1(s->trust, der, len, GP11_PEER_INITIATOR, NULL, NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);
    assert_true(msg_has(rc, "the initiator's certificate \"CN=web\" is not "
                            "valid for an initiator"));
    assert_true(msg_has(rc, "unsuitable certificate purpose"));
    /* Which usage it lacks (issue 13 item 14). */
    assert_true(msg_has(rc, "\"CN=web\" is not valid for an initiator: it "
                            "lacks extendedKeyUsage clientAuth"));
    free(der);

    /* A client certificate presented by an acceptor. */
    der =
        issue(s->ca, s->p256, "bob", "localhost", false, true, -60, DAY, &len);
    rc = verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, "localhost", NULL,
                 NULL);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);
    assert_true(msg_has(rc, "\"CN=bob\" is not valid for an acceptor: it "
                            "lacks extendedKeyUsage serverAuth"));
    free(der);

    /* No extendedKeyUsage at all: refused for both roles. */
    der = issue(s->ca, s->p256, "plain", "localhost", false, false, -60, DAY,
                &len);
    rc = verify1(s->trust, der, len, GP11_PEER_ACCEPTOR, "localhost", NULL,
                 NULL);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);
    assert_true(msg_has(rc, "has no extendedKeyUsage serverAuth"));
    rc = verify1(s->trust, der, len, GP11_PEER_INITIATOR, NULL, NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);
    assert_true(msg_has(rc, "has no extendedKeyUsage clientAuth"));
    free(der);
}

static void test_no_digital_signature(void **state)
{
    static const struct ext exts[] = {
        {"basicConstraints", "critical,CA:FALSE"},
        {"keyUsage", "critical,keyAgreement"},
        {"extendedKeyUsage", "serverAuth,clientAuth"},
        {"subjectKeyIdentifier", "hash"},
        {"authorityKeyIdentifier", "keyid:always"},
        {"subjectAltName", "DNS:localhost"},
        {NULL, NULL},
    };
    struct state *s = *state;
    X509 *leaf =
        make_cert("agree", s->p256, s->root, s->root_key, -60, DAY, exts);
    struct gp11_trust *t = NULL;
    size_t len;
    uint8_t *der = to_der(leaf, &len);
    uint32_t rc;

    assert_int_equal(gp11_trust_load(s->root_pem, &t), GP11_OK);
    /* OpenSSL's SSL purposes accept keyAgreement alone; we do not. */
    rc = verify1(t, der, len, GP11_PEER_ACCEPTOR, "localhost", NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);
    assert_true(msg_has(rc, "has no keyUsage digitalSignature"));
    gp11_trust_free(t);
    X509_free(leaf);
    free(der);
}

static void test_garbage_der(void **state)
{
    struct state *s = *state;
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01, 0x00};
    struct gp11_buf two[2];
    size_t len;
    uint8_t *der =
        issue(s->ca, s->p256, "ok", "localhost", true, true, -60, DAY, &len);
    uint8_t *longer = malloc(len + 1);
    uint32_t rc;

    rc = verify1(s->trust, junk, sizeof(junk), GP11_PEER_ACCEPTOR, NULL, NULL,
                 NULL);
    assert_int_equal(rc, GP11_ERR_CERT_INVALID);
    assert_true(msg_has(rc, "is not a DER X.509 certificate"));
    /* Truncated, and with a trailing byte. */
    assert_int_equal(
        verify1(s->trust, der, len - 1, GP11_PEER_ACCEPTOR, NULL, NULL, NULL),
        GP11_ERR_CERT_INVALID);
    assert_non_null(longer);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(verify1(s->trust, longer, len + 1, GP11_PEER_ACCEPTOR,
                             NULL, NULL, NULL),
                     GP11_ERR_CERT_INVALID);
    assert_int_equal(
        verify1(s->trust, der, 0, GP11_PEER_ACCEPTOR, NULL, NULL, NULL),
        GP11_ERR_CERT_INVALID);
    /* A good leaf followed by a bad intermediate. */
    two[0] = (struct gp11_buf){der, len};
    two[1] = (struct gp11_buf){junk, sizeof(junk)};
    rc = gp11_certval_verify(s->trust, two, 2, GP11_PEER_ACCEPTOR, NULL,
                             time(NULL), NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_INVALID);
    assert_true(msg_has(rc, "certificate 1 of the acceptor's chain"));
    free(longer);
    free(der);
}

static void test_bad_args(void **state)
{
    struct state *s = *state;
    struct gp11_buf many[GP11_CERTVAL_MAX_CHAIN + 1];
    size_t len;
    uint8_t *der =
        issue(s->ca, s->p256, "ok", "localhost", true, true, -60, DAY, &len);
    struct gp11_buf b = {der, len};
    time_t now = time(NULL);
    size_t i;

    assert_int_equal(gp11_certval_verify(NULL, &b, 1, GP11_PEER_ACCEPTOR, NULL,
                                         now, NULL, NULL),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_certval_verify(s->trust, NULL, 1, GP11_PEER_ACCEPTOR,
                                         NULL, now, NULL, NULL),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_certval_verify(s->trust, &b, 0, GP11_PEER_ACCEPTOR,
                                         NULL, now, NULL, NULL),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_certval_verify(s->trust, &b, 1, GP11_PEER_ACCEPTOR,
                                         "", now, NULL, NULL),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_certval_verify(s->trust, &b, 1,
                                         (enum gp11_peer_role)7, NULL, now,
                                         NULL, NULL),
                     GP11_ERR_BAD_ARG);
    for (i = 0; i < GP11_CERTVAL_MAX_CHAIN + 1; i++)
        many[i] = b;
    assert_int_equal(
        gp11_certval_verify(s->trust, many, GP11_CERTVAL_MAX_CHAIN + 1,
                            GP11_PEER_ACCEPTOR, NULL, now, NULL, NULL),
        GP11_ERR_CERT_INVALID);
    assert_true(msg_has(GP11_ERR_CERT_INVALID, "more than the 8 allowed"));
    free(der);
}

static void test_chain_intermediate(void **state)
{
    struct state *s = *state;
    struct gp11_trust *t = NULL;
    struct gp11_buf chain[2];
    X509 *leaf = NULL;
    time_t na = 0;
    size_t len;
    size_t ilen;
    uint8_t *der = issue(s->inter_ca, s->rsa3072, "deep", "deep.example", true,
                         false, -60, 10 * DAY, &len);
    uint8_t *ider = to_der(s->inter, &ilen);
    uint32_t rc;

    chain[0] = (struct gp11_buf){der, len};
    chain[1] = (struct gp11_buf){ider, ilen};
    assert_int_equal(gp11_trust_load(s->root_pem, &t), GP11_OK);
    rc = gp11_certval_verify(t, chain, 2, GP11_PEER_ACCEPTOR, "deep.example",
                             time(NULL), &leaf, &na);
    if (rc != GP11_OK)
        print_error("%s\n", gp11_err_message(rc));
    assert_int_equal(rc, GP11_OK);
    assert_non_null(leaf);
    /* The intermediate (5 days) ends first. */
    assert_int_equal(na, to_time(X509_get0_notAfter(s->inter)));
    X509_free(leaf);

    /* Without the intermediate in the message there is no chain. */
    rc = gp11_certval_verify(t, chain, 1, GP11_PEER_ACCEPTOR, "deep.example",
                             time(NULL), NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_UNTRUSTED);
    assert_true(msg_has(rc, "CN=deep"));

    /* Purpose of the whole chain, for the wrong role. */
    rc = gp11_certval_verify(t, chain, 2, GP11_PEER_INITIATOR, NULL, time(NULL),
                             NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);

    /* The intermediate expires: it is named. */
    rc = gp11_certval_verify(t, chain, 2, GP11_PEER_ACCEPTOR, NULL,
                             time(NULL) + 6 * DAY, NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_EXPIRED);
    assert_true(msg_has(rc, "\"CN=chain intermediate\" at depth 1"));
    gp11_trust_free(t);

    /* The intermediate alone as anchor: partial chains are refused. */
    t = NULL;
    assert_int_equal(gp11_trust_load(s->inter_pem, &t), GP11_OK);
    rc = gp11_certval_verify(t, chain, 2, GP11_PEER_ACCEPTOR, "deep.example",
                             time(NULL), NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_UNTRUSTED);
    gp11_trust_free(t);

    /* The devca anchors do not know this root. */
    rc = gp11_certval_verify(s->trust, chain, 2, GP11_PEER_ACCEPTOR,
                             "deep.example", time(NULL), NULL, NULL);
    assert_int_equal(rc, GP11_ERR_CERT_UNTRUSTED);
    free(der);
    free(ider);
}

/* ---- trust anchors ---- */

static void test_trust_file_two_cas(void **state)
{
    struct state *s = *state;
    struct gp11_trust *t = NULL;
    char both[PATH_MAX];
    X509 *ca2 = read_cert(s->ca2_cert);
    X509 *ca = read_cert(s->ca_cert);
    static const char comment[] = "# a bundle with a comment\n";
    size_t len;
    uint8_t *der = issue(s->ca2, s->p256, "other", "localhost", true, true, -60,
                         DAY, &len);

    path_in(s, "bundle.pem", both, sizeof(both));
    write_file(both, comment, sizeof(comment) - 1);
    write_cert_pem(both, ca, true);
    write_cert_pem(both, ca2, true);
    assert_int_equal(gp11_trust_load(both, &t), GP11_OK);
    assert_int_equal(
        verify1(t, der, len, GP11_PEER_ACCEPTOR, "localhost", NULL, NULL),
        GP11_OK);
    /* A second reference keeps the anchors alive. */
    assert_ptr_equal(gp11_trust_ref(t), t);
    gp11_trust_free(t);
    assert_int_equal(
        verify1(t, der, len, GP11_PEER_INITIATOR, NULL, NULL, NULL), GP11_OK);
    gp11_trust_free(t);
    assert_null(gp11_trust_ref(NULL));
    unlink(both);
    X509_free(ca);
    X509_free(ca2);
    free(der);
}

static void test_trust_dir(void **state)
{
    struct state *s = *state;
    struct gp11_trust *t = (struct gp11_trust *)1;
    char dir[PATH_MAX];
    char path[PATH_MAX + 32];
    X509 *ca2 = read_cert(s->ca2_cert);
    X509 *ca = read_cert(s->ca_cert);
    size_t len;
    size_t dlen;
    uint8_t *ca2_der = to_der(ca2, &dlen);
    uint8_t *d1 =
        issue(s->ca, s->p256, "one", "localhost", true, true, -60, DAY, &len);
    size_t len2;
    uint8_t *d2 =
        issue(s->ca2, s->p256, "two", "localhost", true, true, -60, DAY, &len2);
    uint32_t rc;

    path_in(s, "anchors.d", dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);

    /* An empty directory (and one without matching names) has no anchor. */
    rc = gp11_trust_load(dir, &t);
    assert_int_equal(rc, GP11_ERR_CONFIG_VALUE);
    assert_null(t);
    assert_true(msg_has(rc, dir));
    snprintf(path, sizeof(path), "%s/README", dir);
    write_file(path, "not a cert\n", 11);
    snprintf(path, sizeof(path), "%s/sub.pem", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(gp11_trust_load(dir, &t), GP11_ERR_CONFIG_VALUE);

    /* PEM in a .pem file, DER in an upper-case .CRT file. */
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    write_cert_pem(path, ca, false);
    snprintf(path, sizeof(path), "%s/other.CRT", dir);
    write_file(path, ca2_der, dlen);
    rc = gp11_trust_load(dir, &t);
    if (rc != GP11_OK)
        print_error("%s\n", gp11_err_message(rc));
    assert_int_equal(rc, GP11_OK);
    assert_int_equal(
        verify1(t, d1, len, GP11_PEER_ACCEPTOR, "localhost", NULL, NULL),
        GP11_OK);
    assert_int_equal(
        verify1(t, d2, len2, GP11_PEER_INITIATOR, NULL, NULL, NULL), GP11_OK);
    gp11_trust_free(t);

    /* One bad matching file spoils the directory. */
    snprintf(path, sizeof(path), "%s/zz-broken.pem", dir);
    write_file(path, "hello\n", 6);
    t = NULL;
    rc = gp11_trust_load(dir, &t);
    assert_int_equal(rc, GP11_ERR_CONFIG_VALUE);
    assert_null(t);
    assert_true(msg_has(rc, "zz-broken.pem holds no certificate"));
    free(d1);
    free(d2);
    free(ca2_der);
    X509_free(ca);
    X509_free(ca2);
}

static void test_trust_errors(void **state)
{
    static const char bad_pem[] = "-----BEGIN CERTIFICATE-----\n"
                                  "MIIB!!!notbase64@@@\n"
                                  "-----END CERTIFICATE-----\n";
    static const char bad_der_pem[] = "-----BEGIN CERTIFICATE-----\n"
                                      "MAMCAQE=\n"
                                      "-----END CERTIFICATE-----\n";
    struct state *s = *state;
    struct gp11_trust *t = (struct gp11_trust *)1;
    char path[PATH_MAX];
    EVP_PKEY *k = s->p256;
    FILE *fp;
    uint32_t rc;

    /* Missing path. */
    path_in(s, "missing.pem", path, sizeof(path));
    rc = gp11_trust_load(path, &t);
    assert_int_equal(rc, GP11_ERR_CONFIG_MISSING);
    assert_null(t);
    assert_true(msg_has(rc, path));
    assert_true(msg_has(rc, strerror(ENOENT)));

    /* Empty file. */
    path_in(s, "empty.pem", path, sizeof(path));
    write_file(path, "", 0);
    rc = gp11_trust_load(path, &t);
    assert_int_equal(rc, GP11_ERR_CONFIG_VALUE);
    assert_true(msg_has(rc, "holds no certificate"));

    /* A private key only. */
    path_in(s, "key.pem", path, sizeof(path));
    fp = fopen(path, "we");
    assert_non_null(fp);
    assert_int_equal(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(fp);
    assert_int_equal(gp11_trust_load(path, &t), GP11_ERR_CONFIG_VALUE);

    /* Broken base64, and good base64 that is not a certificate. */
    path_in(s, "bad.pem", path, sizeof(path));
    write_file(path, bad_pem, sizeof(bad_pem) - 1);
    rc = gp11_trust_load(path, &t);
    assert_int_equal(rc, GP11_ERR_CERT_INVALID);
    assert_true(msg_has(rc, "malformed PEM certificate after 0 good ones"));
    path_in(s, "bad2.pem", path, sizeof(path));
    write_file(path, bad_der_pem, sizeof(bad_der_pem) - 1);
    assert_int_equal(gp11_trust_load(path, &t), GP11_ERR_CERT_INVALID);

    /* Not a file: a FIFO does not hang the load. */
    path_in(s, "fifo.pem", path, sizeof(path));
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(gp11_trust_load(path, &t), GP11_ERR_CONFIG_VALUE);

    assert_int_equal(gp11_trust_load(NULL, &t), GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_trust_load(s->ca_cert, NULL), GP11_ERR_BAD_ARG);
    assert_null(t);
    gp11_trust_free(NULL);
}

/* ---- our own certificate ---- */

static void test_check_own(void **state)
{
    struct state *s = *state;
    struct {
        EVP_PKEY *key;
        uint8_t alg;
    } cases[] = {
        {s->p256, SIGALG_P256},
        {s->p384, SIGALG_P384},
        {s->rsa3072, SIGALG_PSS},
    };
    const unsigned char *q;
    time_t na = 0;
    uint8_t alg = 0;
    size_t len;
    uint8_t *der;
    uint32_t rc;
    X509 *x;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        der = issue(s->ca, cases[i].key, "me", NULL, false, true, -60, 3 * DAY,
                    &len);
        rc = gp11_cert_check_own(der, len, time(NULL), &na, &alg);
        if (rc != GP11_OK)
            print_error("%s\n", gp11_err_message(rc));
        assert_int_equal(rc, GP11_OK);
        assert_int_equal(alg, cases[i].alg);
        q = der;
        x = d2i_X509(NULL, &q, (long)len);
        assert_non_null(x);
        assert_int_equal(na, to_time(X509_get0_notAfter(x)));
        assert_int_equal(gp11_cert_sigalg(x), cases[i].alg);
        X509_free(x);
        free(der);
    }
}

static void test_check_own_validity(void **state)
{
    struct state *s = *state;
    time_t na = 1;
    uint8_t alg = 1;
    size_t len;
    uint8_t *der =
        issue(s->ca, s->p256, "stale", NULL, false, true, -7200, -60, &len);
    uint32_t rc;

    rc = gp11_cert_check_own(der, len, time(NULL), &na, &alg);
    assert_int_equal(rc, GP11_ERR_CERT_EXPIRED);
    assert_int_equal(na, 0);
    assert_int_equal(alg, 0);
    assert_true(msg_has(rc, "our certificate \"CN=stale\" expired on 20"));
    /* It was valid two minutes ago. */
    assert_int_equal(gp11_cert_check_own(der, len, time(NULL) - 120, &na, &alg),
                     GP11_OK);
    free(der);

    der = issue(s->ca, s->p256, "early", NULL, false, true, 3600, DAY, &len);
    rc = gp11_cert_check_own(der, len, time(NULL), &na, &alg);
    assert_int_equal(rc, GP11_ERR_CERT_NOT_YET_VALID);
    assert_true(
        msg_has(rc, "our certificate \"CN=early\" is not valid before 20"));
    assert_int_equal(
        gp11_cert_check_own(der, len, time(NULL) + 7200, &na, &alg), GP11_OK);
    free(der);

    rc = gp11_cert_check_own((const uint8_t *)"\x30\x00", 2, time(NULL), &na,
                             &alg);
    assert_int_equal(rc, GP11_ERR_CERT_INVALID);
    assert_int_equal(gp11_cert_check_own(NULL, 0, time(NULL), NULL, NULL),
                     GP11_ERR_CERT_INVALID);
}

static void test_check_own_unsupported(void **state)
{
    static const struct ext exts[] = {
        {"basicConstraints", "critical,CA:FALSE"},
        {"keyUsage", "critical,digitalSignature"},
        {"extendedKeyUsage", "clientAuth"},
        {"subjectKeyIdentifier", "hash"},
        {"authorityKeyIdentifier", "keyid:always"},
        {NULL, NULL},
    };
    struct state *s = *state;
    X509 *ed =
        make_cert("edwards", s->ed25519, s->root, s->root_key, -60, DAY, exts);
    uint8_t alg = 9;
    size_t len;
    uint8_t *der = to_der(ed, &len);
    uint32_t rc;

    rc = gp11_cert_check_own(der, len, time(NULL), NULL, &alg);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);
    assert_int_equal(alg, 0);
    assert_true(msg_has(rc, "\"CN=edwards\" has an unsupported key type"));
    assert_true(msg_has(rc, "ED25519"));
    assert_int_equal(gp11_cert_sigalg(ed), SIGALG_NONE);
    assert_int_equal(gp11_cert_sigalg(NULL), SIGALG_NONE);
    free(der);
    X509_free(ed);

    /* RSA below 2048 bits. */
    der = issue(s->ca, s->rsa1024, "small", NULL, false, true, -60, DAY, &len);
    rc = gp11_cert_check_own(der, len, time(NULL), NULL, &alg);
    assert_int_equal(rc, GP11_ERR_CERT_USAGE);
    assert_true(msg_has(rc, "unsupported key type, RSA 1024-bit"));
    free(der);
}

/* ---- handshake signatures ---- */

/* Signs context || th as sigalg alg would (PSS with salt saltlen). */
static size_t sign(EVP_PKEY *key, uint8_t alg, int saltlen,
                   const uint8_t *context, size_t clen, const uint8_t *th,
                   size_t tlen, uint8_t *out)
{
    const char *md = alg == SIGALG_P384 ? "SHA384" : "SHA256";
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t der[SIG_MAX];
    size_t dlen = sizeof(der);
    const unsigned char *q = der;
    const BIGNUM *r;
    const BIGNUM *sv;
    ECDSA_SIG *es;
    size_t half;

    assert_non_null(mctx);
    assert_int_equal(
        EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, key, NULL), 1);
    if (alg == SIGALG_PSS) {
        assert_int_equal(
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen), 1);
    }
    assert_int_equal(EVP_DigestSignUpdate(mctx, context, clen), 1);
    assert_int_equal(EVP_DigestSignUpdate(mctx, th, tlen), 1);
    assert_int_equal(EVP_DigestSignFinal(mctx, der, &dlen), 1);
    EVP_MD_CTX_free(mctx);
    if (alg == SIGALG_PSS) {
        memcpy(out, der, dlen);
        return dlen;
    }
    /* ECDSA: DER ECDSA-Sig-Value to raw r || s. */
    half = alg == SIGALG_P256 ? 32 : 48;
    es = d2i_ECDSA_SIG(NULL, &q, (long)dlen);
    assert_non_null(es);
    ECDSA_SIG_get0(es, &r, &sv);
    assert_int_equal(BN_bn2binpad(r, out, (int)half), (int)half);
    assert_int_equal(BN_bn2binpad(sv, out + half, (int)half), (int)half);
    ECDSA_SIG_free(es);
    return 2 * half;
}

/* A leaf certificate for key (issued by the devca). */
static X509 *leaf_for(struct state *s, EVP_PKEY *key)
{
    const unsigned char *q;
    size_t len;
    uint8_t *der =
        issue(s->ca, key, "signer", "localhost", true, true, -60, DAY, &len);
    X509 *x;

    q = der;
    x = d2i_X509(NULL, &q, (long)len);
    assert_non_null(x);
    free(der);
    return x;
}

static const uint8_t ctx_label[] = "gss-pkcs11 v1 acceptor signature";
static const uint8_t th_bytes[48] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void test_sig_ok_and_bitflips(void **state)
{
    struct state *s = *state;
    struct {
        EVP_PKEY *key;
        uint8_t alg;
        size_t th_len;
    } cases[] = {
        {s->p256, SIGALG_P256, 32},
        {s->p384, SIGALG_P384, 48},
        {s->rsa3072, SIGALG_PSS, 32},
    };
    uint8_t context[sizeof(ctx_label)];
    uint8_t th[sizeof(th_bytes)];
    uint8_t msg[sizeof(ctx_label) + sizeof(th_bytes)];
    uint8_t sig[SIG_MAX];
    size_t slen;
    uint32_t rc;
    size_t i;
    X509 *x;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        x = leaf_for(s, cases[i].key);
        memcpy(context, ctx_label, sizeof(context));
        memcpy(th, th_bytes, sizeof(th));
        slen = sign(cases[i].key, cases[i].alg, 32, context, sizeof(context),
                    th, cases[i].th_len, sig);
        assert_int_equal(slen, cases[i].alg == SIGALG_P256   ? 64
                               : cases[i].alg == SIGALG_P384 ? 96
                                                             : 384);
        rc = gp11_sig_verify(x, cases[i].alg, context, sizeof(context), th,
                             cases[i].th_len, sig, slen);
        if (rc != GP11_OK)
            print_error("%s\n", gp11_err_message(rc));
        assert_int_equal(rc, GP11_OK);

        /* Only context || th is signed: another split verifies too. */
        memcpy(msg, context, sizeof(context));
        memcpy(msg + sizeof(context), th, cases[i].th_len);
        assert_int_equal(gp11_sig_verify(x, cases[i].alg, msg, 10, msg + 10,
                                         sizeof(context) + cases[i].th_len - 10,
                                         sig, slen),
                         GP11_OK);

        sig[slen / 2] ^= 0x01;
        rc = gp11_sig_verify(x, cases[i].alg, context, sizeof(context), th,
                             cases[i].th_len, sig, slen);
        assert_int_equal(rc, GP11_ERR_SIGNATURE);
        assert_true(msg_has(rc, "handshake signature invalid"));
        sig[slen / 2] ^= 0x01;

        th[cases[i].th_len - 1] ^= 0x80;
        assert_int_equal(gp11_sig_verify(x, cases[i].alg, context,
                                         sizeof(context), th, cases[i].th_len,
                                         sig, slen),
                         GP11_ERR_SIGNATURE);
        th[cases[i].th_len - 1] ^= 0x80;

        context[0] ^= 0x20;
        assert_int_equal(gp11_sig_verify(x, cases[i].alg, context,
                                         sizeof(context), th, cases[i].th_len,
                                         sig, slen),
                         GP11_ERR_SIGNATURE);
        context[0] ^= 0x20;

        /* th one byte shorter. */
        assert_int_equal(gp11_sig_verify(x, cases[i].alg, context,
                                         sizeof(context), th,
                                         cases[i].th_len - 1, sig, slen),
                         GP11_ERR_SIGNATURE);
        /* Restored, it verifies again. */
        assert_int_equal(gp11_sig_verify(x, cases[i].alg, context,
                                         sizeof(context), th, cases[i].th_len,
                                         sig, slen),
                         GP11_OK);
        X509_free(x);
    }
}

static void test_sig_empty_context(void **state)
{
    struct state *s = *state;
    X509 *x = leaf_for(s, s->p256);
    uint8_t sig[SIG_MAX];
    size_t slen;

    slen = sign(s->p256, SIGALG_P256, 0, NULL, 0, th_bytes, 32, sig);
    assert_int_equal(
        gp11_sig_verify(x, SIGALG_P256, NULL, 0, th_bytes, 32, sig, slen),
        GP11_OK);
    X509_free(x);
}

static void test_sig_wrong_length(void **state)
{
    struct state *s = *state;
    X509 *p256 = leaf_for(s, s->p256);
    X509 *rsa = leaf_for(s, s->rsa3072);
    uint8_t sig[SIG_MAX];
    uint8_t zero_r[64];
    size_t slen;
    uint32_t rc;

    slen = sign(s->p256, SIGALG_P256, 0, ctx_label, sizeof(ctx_label), th_bytes,
                32, sig);
    rc = gp11_sig_verify(p256, SIGALG_P256, ctx_label, sizeof(ctx_label),
                         th_bytes, 32, sig, slen - 1);
    assert_int_equal(rc, GP11_ERR_SIGNATURE);
    assert_true(msg_has(rc, "63 bytes where signatures of the peer's EC P-256 "
                            "key have 64"));
    assert_int_equal(gp11_sig_verify(p256, SIGALG_P256, ctx_label,
                                     sizeof(ctx_label), th_bytes, 32, sig,
                                     slen + 1),
                     GP11_ERR_SIGNATURE);
    assert_int_equal(gp11_sig_verify(p256, SIGALG_P256, ctx_label,
                                     sizeof(ctx_label), th_bytes, 32, NULL, 0),
                     GP11_ERR_SIGNATURE);
    /* r = 0 is never valid. */
    memcpy(zero_r, sig, sizeof(zero_r));
    memset(zero_r, 0, 32);
    assert_int_equal(gp11_sig_verify(p256, SIGALG_P256, ctx_label,
                                     sizeof(ctx_label), th_bytes, 32, zero_r,
                                     sizeof(zero_r)),
                     GP11_ERR_SIGNATURE);

    slen = sign(s->rsa3072, SIGALG_PSS, 32, ctx_label, sizeof(ctx_label),
                th_bytes, 32, sig);
    rc = gp11_sig_verify(rsa, SIGALG_PSS, ctx_label, sizeof(ctx_label),
                         th_bytes, 32, sig + 1, slen - 1);
    assert_int_equal(rc, GP11_ERR_SIGNATURE);
    assert_true(msg_has(rc, "383 bytes where signatures of the peer's RSA "
                            "3072-bit key have 384"));
    X509_free(p256);
    X509_free(rsa);
}

static void test_sig_wrong_alg(void **state)
{
    struct state *s = *state;
    X509 *p256 = leaf_for(s, s->p256);
    X509 *p384 = leaf_for(s, s->p384);
    X509 *rsa = leaf_for(s, s->rsa3072);
    uint8_t sig[SIG_MAX];
    size_t slen;
    uint32_t rc;

    slen = sign(s->p256, SIGALG_P256, 0, ctx_label, sizeof(ctx_label), th_bytes,
                32, sig);
    rc = gp11_sig_verify(p256, SIGALG_P384, ctx_label, sizeof(ctx_label),
                         th_bytes, 32, sig, slen);
    assert_int_equal(rc, GP11_ERR_SIGNATURE);
    assert_true(msg_has(rc, "EC P-256 key cannot make signatures of "
                            "algorithm 2"));
    assert_int_equal(gp11_sig_verify(p256, SIGALG_PSS, ctx_label,
                                     sizeof(ctx_label), th_bytes, 32, sig,
                                     slen),
                     GP11_ERR_SIGNATURE);
    assert_int_equal(gp11_sig_verify(p256, 0, ctx_label, sizeof(ctx_label),
                                     th_bytes, 32, sig, slen),
                     GP11_ERR_SIGNATURE);
    assert_int_equal(gp11_sig_verify(p256, 4, ctx_label, sizeof(ctx_label),
                                     th_bytes, 32, sig, slen),
                     GP11_ERR_SIGNATURE);
    /* Right key, wrong holder: a P-256 signature against another leaf. */
    assert_int_equal(gp11_sig_verify(p384, SIGALG_P256, ctx_label,
                                     sizeof(ctx_label), th_bytes, 32, sig,
                                     slen),
                     GP11_ERR_SIGNATURE);
    assert_int_equal(gp11_sig_verify(rsa, SIGALG_P256, ctx_label,
                                     sizeof(ctx_label), th_bytes, 32, sig,
                                     slen),
                     GP11_ERR_SIGNATURE);
    assert_int_equal(gp11_sig_verify(NULL, SIGALG_P256, ctx_label,
                                     sizeof(ctx_label), th_bytes, 32, sig,
                                     slen),
                     GP11_ERR_BAD_ARG);
    X509_free(p256);
    X509_free(p384);
    X509_free(rsa);
}

static void test_sig_pss_salt(void **state)
{
    struct state *s = *state;
    X509 *rsa = leaf_for(s, s->rsa3072);
    uint8_t sig[SIG_MAX];
    size_t slen;
    int salts[] = {20, 0, 64, RSA_PSS_SALTLEN_MAX};
    size_t i;

    for (i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
        slen = sign(s->rsa3072, SIGALG_PSS, salts[i], ctx_label,
                    sizeof(ctx_label), th_bytes, 32, sig);
        assert_int_equal(slen, 384);
        assert_int_equal(gp11_sig_verify(rsa, SIGALG_PSS, ctx_label,
                                         sizeof(ctx_label), th_bytes, 32, sig,
                                         slen),
                         GP11_ERR_SIGNATURE);
    }
    X509_free(rsa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acceptor_ok),
        cmocka_unit_test(test_initiator_ok),
        cmocka_unit_test(test_untrusted_ca),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_not_yet_valid),
        cmocka_unit_test(test_cache_keeps_validity),
        cmocka_unit_test(test_cache_per_role_host_and_bytes),
        cmocka_unit_test(test_cache_replacement),
        cmocka_unit_test(test_wrong_host),
        cmocka_unit_test(test_wildcard_host),
        cmocka_unit_test(test_partial_wildcard),
        cmocka_unit_test(test_strict),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_no_digital_signature),
        cmocka_unit_test(test_garbage_der),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_chain_intermediate),
        cmocka_unit_test(test_trust_file_two_cas),
        cmocka_unit_test(test_trust_dir),
        cmocka_unit_test(test_trust_errors),
        cmocka_unit_test(test_check_own),
        cmocka_unit_test(test_check_own_validity),
        cmocka_unit_test(test_check_own_unsupported),
        cmocka_unit_test(test_sig_ok_and_bitflips),
        cmocka_unit_test(test_sig_empty_context),
        cmocka_unit_test(test_sig_wrong_length),
        cmocka_unit_test(test_sig_wrong_alg),
        cmocka_unit_test(test_sig_pss_salt),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
