/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the development CA used by `gssp11 setup-dev`. */
#include "devca.h"
#include "gp11_error.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
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
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CA_CN "gss-pkcs11 test CA"
#define CA_DAYS 45

/* The group's scratch directory and its CA, shared by all tests. */
struct state {
    char dir[64];
    char key_path[PATH_MAX];
    char cert_path[PATH_MAX];
    struct gp11_devca *ca;
    X509 *ca_cert;    /* read back from cert_path */
    EVP_PKEY *ca_key; /* read back from key_path */
};

/* Writes dir/name into buf. */
static void path_in(const struct state *s, const char *name, char *buf,
                    size_t len)
{
    int n = snprintf(buf, len, "%s/%s", s->dir, name);

    assert_true(n > 0 && (size_t)n < len);
}

/* Reads a whole file into a malloc'ed buffer; NULL if it cannot. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "re");
    char *buf = NULL;
    long size;

    if (fp == NULL)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 &&
        fseek(fp, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf != NULL && fread(buf, 1, (size_t)size, fp) != (size_t)size) {
            free(buf);
            buf = NULL;
        } else if (buf != NULL) {
            buf[size] = '\0';
            *len = (size_t)size;
        }
    }
    fclose(fp);
    return buf;
}

/* Writes len bytes of data to a new file at path. */
static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "we");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
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

/* Reads the unencrypted PEM private key of path. */
static EVP_PKEY *read_key(const char *path)
{
    FILE *fp = fopen(path, "re");
    EVP_PKEY *k;

    assert_non_null(fp);
    k = PEM_read_PrivateKey(fp, NULL, NULL, (void *)"");
    fclose(fp);
    assert_non_null(k);
    return k;
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

static int group_setup(void **state)
{
    struct state *s = calloc(1, sizeof(*s));
    uint32_t rc;

    if (s == NULL)
        return -1;
    strcpy(s->dir, "/tmp/test_devca.XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        free(s);
        return -1;
    }
    *state = s;
    snprintf(s->key_path, sizeof(s->key_path), "%s/ca.key", s->dir);
    snprintf(s->cert_path, sizeof(s->cert_path), "%s/ca.crt", s->dir);
    rc = gp11_devca_create(CA_CN, CA_DAYS, s->key_path, s->cert_path, &s->ca);
    if (rc != GP11_OK) {
        fprintf(stderr, "create: %s\n", gp11_err_message(rc));
        nftw(s->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(s);
        *state = NULL;
        return -1;
    }
    s->ca_cert = read_cert(s->cert_path);
    s->ca_key = read_key(s->key_path);
    return 0;
}

static int group_teardown(void **state)
{
    struct state *s = *state;

    if (s == NULL)
        return 0;
    gp11_devca_free(s->ca);
    X509_free(s->ca_cert);
    EVP_PKEY_free(s->ca_key);
    nftw(s->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(s);
    return 0;
}

/* True if message of code contains needle. */
static bool msg_has(uint32_t code, const char *needle)
{
    const char *m = gp11_err_message(code);

    if (strstr(m, needle) == NULL) {
        print_error("message \"%s\" lacks \"%s\"\n", m, needle);
        return false;
    }
    return true;
}

/* Seconds from now to t (an ASN1_TIME), within a day's precision. */
static long secs_from_now(const ASN1_TIME *t)
{
    int days;
    int secs;

    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, t), 1);
    return (long)days * 86400 + secs;
}

/* Issues a certificate and parses it. */
static X509 *issue(struct gp11_devca *ca, EVP_PKEY *key,
                   const struct gp11_devca_profile *p)
{
    unsigned char *der = NULL;
    const unsigned char *q;
    size_t len = 0;
    uint32_t rc;
    X509 *x;

    rc = gp11_devca_issue(ca, key, p, &der, &len);
    if (rc != GP11_OK)
        print_error("issue: %s\n", gp11_err_message(rc));
    assert_int_equal(rc, GP11_OK);
    assert_non_null(der);
    q = der;
    x = d2i_X509(NULL, &q, (long)len);
    assert_non_null(x);
    assert_ptr_equal(q, der + len);
    free(der);
    return x;
}

/* X509_verify_cert of leaf against ca (strict); returns the error code. */
static int chain_verify(X509 *ca, X509 *leaf, int purpose)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int err;
    int rc;

    assert_non_null(st);
    assert_non_null(ctx);
    assert_int_equal(X509_STORE_add_cert(st, ca), 1);
    assert_int_equal(X509_STORE_set_flags(st, X509_V_FLAG_X509_STRICT), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, NULL), 1);
    if (purpose != 0)
        assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
    rc = X509_verify_cert(ctx);
    err = X509_STORE_CTX_get_error(ctx);
    assert_true(rc == 1 ? err == X509_V_OK : err != X509_V_OK);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return err;
}

/* The text of the CN of name. */
static void get_cn(const X509_NAME *name, char *buf, int len)
{
    assert_true(X509_NAME_get_text_by_NID(name, NID_commonName, buf, len) > 0);
}

/* Whether extension nid of x is present and critical (-1 if absent). */
static int ext_critical(const X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);

    if (i < 0)
        return -1;
    return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void test_ca_files(void **state)
{
    struct state *s = *state;
    struct stat st;
    char cn[128];
    long nb;
    long na;

    assert_int_equal(stat(s->key_path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(s->cert_path, &st), 0);
    assert_true(S_ISREG(st.st_mode));

    /* The certificate is a self-signed v3 CA with the given CN. */
    assert_int_equal(X509_get_version(s->ca_cert), X509_VERSION_3);
    get_cn(X509_get_subject_name(s->ca_cert), cn, sizeof(cn));
    assert_string_equal(cn, CA_CN);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(s->ca_cert),
                                   X509_get_issuer_name(s->ca_cert)),
                     0);
    assert_int_equal(X509_check_private_key(s->ca_cert, s->ca_key), 1);
    assert_int_equal(X509_verify(s->ca_cert, s->ca_key), 1);
    assert_int_equal(X509_check_ca(s->ca_cert), 1);
    assert_int_equal(ext_critical(s->ca_cert, NID_basic_constraints), 1);
    assert_int_equal(ext_critical(s->ca_cert, NID_key_usage), 1);
    assert_true(X509_get_key_usage(s->ca_cert) & KU_KEY_CERT_SIGN);
    assert_non_null(X509_get0_subject_key_id(s->ca_cert));
    assert_true(EVP_PKEY_is_a(s->ca_key, "EC"));
    assert_int_equal(EVP_PKEY_get_bits(s->ca_key), 256);

    /* Valid from one hour ago for CA_DAYS days. */
    nb = secs_from_now(X509_get0_notBefore(s->ca_cert));
    na = secs_from_now(X509_get0_notAfter(s->ca_cert));
    assert_true(nb <= -3600 + 5 && nb >= -3600 - 5);
    assert_true(na <= CA_DAYS * 86400L + 5 && na >= CA_DAYS * 86400L - 5);

    /* It verifies as its own trust anchor, strictly. */
    assert_int_equal(chain_verify(s->ca_cert, s->ca_cert, 0), X509_V_OK);
}

static void test_create_refuses_overwrite(void **state)
{
    struct state *s = *state;
    struct gp11_devca *ca = (struct gp11_devca *)1;
    char other_key[PATH_MAX];
    char *before;
    char *after;
    size_t blen = 0;
    size_t alen = 0;
    uint32_t rc;

    before = slurp(s->key_path, &blen);
    assert_non_null(before);
    rc = gp11_devca_create("again", 1, s->key_path, s->cert_path, &ca);
    assert_int_equal(rc, GP11_ERR_BAD_ARG);
    assert_null(ca);
    assert_true(msg_has(rc, "refusing to overwrite"));
    assert_true(msg_has(rc, s->key_path));
    assert_true(msg_has(rc, strerror(EEXIST)));
    after = slurp(s->key_path, &alen);
    assert_non_null(after);
    assert_int_equal(alen, blen);
    assert_memory_equal(after, before, blen);
    free(after);
    free(before);

    /* The certificate exists: the new key file is removed again. */
    path_in(s, "other.key", other_key, sizeof(other_key));
    rc = gp11_devca_create("again", 1, other_key, s->cert_path, &ca);
    assert_int_equal(rc, GP11_ERR_BAD_ARG);
    assert_true(msg_has(rc, s->cert_path));
    assert_int_equal(access(other_key, F_OK), -1);
    assert_int_equal(errno, ENOENT);

    /* One path for both files. */
    rc = gp11_devca_create("again", 1, other_key, other_key, &ca);
    assert_int_equal(rc, GP11_ERR_BAD_ARG);
    assert_int_equal(access(other_key, F_OK), -1);
}

static void test_create_bad_args(void **state)
{
    struct state *s = *state;
    struct gp11_devca *ca = NULL;
    char k[PATH_MAX];
    char c[PATH_MAX];

    path_in(s, "bad.key", k, sizeof(k));
    path_in(s, "bad.crt", c, sizeof(c));
    assert_int_equal(gp11_devca_create("x", 0, k, c, &ca), GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_create("x", 36501, k, c, &ca),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_create("", 1, k, c, &ca), GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_create(NULL, 1, k, c, &ca), GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_create("x", 1, NULL, c, &ca), GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_create("x", 1, k, c, NULL), GP11_ERR_BAD_ARG);
    assert_null(ca);
    /* A CN longer than X.520 allows (64) is refused before any file. */
    assert_int_equal(gp11_devca_create("0123456789012345678901234567890123456"
                                       "789012345678901234567890123456789",
                                       1, k, c, &ca),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(access(k, F_OK), -1);
    assert_int_equal(access(c, F_OK), -1);
    /* A directory that does not exist: path and strerror in the message. */
    path_in(s, "nodir/ca.key", k, sizeof(k));
    path_in(s, "nodir/ca.crt", c, sizeof(c));
    assert_int_equal(gp11_devca_create("x", 1, k, c, &ca), GP11_ERR_BAD_ARG);
    assert_true(msg_has(GP11_ERR_BAD_ARG, k));
    assert_true(msg_has(GP11_ERR_BAD_ARG, strerror(ENOENT)));
}

/* Generates a throwaway key of the given algorithm and curve/size. */
static EVP_PKEY *gen_key(const char *alg, const char *curve)
{
    EVP_PKEY *k;

    if (strcmp(alg, "EC") == 0)
        k = EVP_EC_gen(curve);
    else if (strcmp(alg, "RSA") == 0)
        k = EVP_RSA_gen((unsigned int)atoi(curve));
    else
        k = EVP_PKEY_Q_keygen(NULL, NULL, alg);
    assert_non_null(k);
    return k;
}

static void test_load(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {
        .cn = "loaded", .not_before = -60, .not_after = 3600};
    struct gp11_devca *ca = NULL;
    struct gp11_devca *ca2 = NULL;
    char k2[PATH_MAX];
    char c2[PATH_MAX];
    EVP_PKEY *key;
    X509 *x;
    uint32_t rc;

    rc = gp11_devca_load(s->key_path, s->cert_path, &ca);
    assert_int_equal(rc, GP11_OK);
    assert_non_null(ca);
    key = gen_key("EC", "P-256");
    x = issue(ca, key, &p);
    assert_int_equal(X509_verify(x, s->ca_key), 1);
    assert_int_equal(chain_verify(s->ca_cert, x, 0), X509_V_OK);
    X509_free(x);
    gp11_devca_free(ca);
    ca = NULL;

    /* A key that does not belong to the certificate. */
    path_in(s, "ca2.key", k2, sizeof(k2));
    path_in(s, "ca2.crt", c2, sizeof(c2));
    assert_int_equal(gp11_devca_create("CA two", 1, k2, c2, &ca2), GP11_OK);
    rc = gp11_devca_load(k2, s->cert_path, &ca);
    assert_int_equal(rc, GP11_ERR_CERT_INVALID);
    assert_null(ca);
    assert_true(msg_has(rc, "does not match"));
    assert_true(msg_has(rc, "mismatch")); /* OpenSSL's reason */

    /* Missing files. */
    path_in(s, "missing.key", k2, sizeof(k2));
    rc = gp11_devca_load(k2, s->cert_path, &ca);
    assert_int_equal(rc, GP11_ERR_BAD_ARG);
    assert_true(msg_has(rc, k2));
    assert_true(msg_has(rc, strerror(ENOENT)));
    rc = gp11_devca_load(s->key_path, k2, &ca);
    assert_int_equal(rc, GP11_ERR_BAD_ARG);
    assert_true(msg_has(rc, k2));

    /* A certificate file holding no certificate; a key file no key. */
    path_in(s, "junk.pem", k2, sizeof(k2));
    write_file(k2, "not PEM\n", 8);
    assert_int_equal(gp11_devca_load(s->key_path, k2, &ca),
                     GP11_ERR_CERT_INVALID);
    assert_int_equal(gp11_devca_load(k2, s->cert_path, &ca), GP11_ERR_BAD_ARG);
    assert_null(ca);
    gp11_devca_free(ca2);
    EVP_PKEY_free(key);
}

static void test_load_refuses_leaf(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {
        .cn = "leaf", .not_before = -60, .not_after = 3600};
    struct gp11_devca *ca = NULL;
    char k[PATH_MAX];
    char c[PATH_MAX];
    EVP_PKEY *key = gen_key("EC", "P-256");
    X509 *x = issue(s->ca, key, &p);
    FILE *fp;

    /* A matching key and certificate, but the certificate is no CA. */
    path_in(s, "leaf.key", k, sizeof(k));
    path_in(s, "leaf.crt", c, sizeof(c));
    fp = fopen(k, "we");
    assert_non_null(fp);
    assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL),
                     1);
    fclose(fp);
    fp = fopen(c, "we");
    assert_non_null(fp);
    assert_int_equal(PEM_write_X509(fp, x), 1);
    fclose(fp);
    assert_int_equal(gp11_devca_load(k, c, &ca), GP11_ERR_CERT_INVALID);
    assert_true(msg_has(GP11_ERR_CERT_INVALID, "not a CA"));
    assert_null(ca);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* CKA_EC_PARAMS for a curve NID: the DER of its OID. */
static size_t curve_params(int nid, unsigned char *buf, size_t cap)
{
    ASN1_OBJECT *o = OBJ_nid2obj(nid);
    unsigned char *w = buf;
    int len;

    assert_non_null(o);
    len = i2d_ASN1_OBJECT(o, NULL);
    assert_true(len > 0 && (size_t)len <= cap);
    assert_int_equal(i2d_ASN1_OBJECT(o, &w), len);
    return (size_t)len;
}

/* The curve OID DER and the raw uncompressed point of an EC key. */
static void ec_attrs(EVP_PKEY *k, unsigned char *params, size_t *params_len,
                     unsigned char *point, size_t *point_len)
{
    char group[64];
    size_t glen = 0;
    int nid;

    assert_int_equal(
        EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &glen),
        1);
    nid = OBJ_txt2nid(group);
    assert_int_not_equal(nid, NID_undef);
    *params_len = curve_params(nid, params, 32);
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                        point, 256, point_len),
        1);
    assert_int_equal(point[0], 0x04);
}

/* Wraps data in a DER OCTET STRING, as SoftHSM2 returns CKA_EC_POINT. */
static size_t der_wrap(const unsigned char *data, size_t len,
                       unsigned char *out, size_t cap)
{
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    unsigned char *w = out;
    int n;

    assert_non_null(os);
    assert_int_equal(ASN1_OCTET_STRING_set(os, data, (int)len), 1);
    n = i2d_ASN1_OCTET_STRING(os, NULL);
    assert_true(n > 0 && (size_t)n <= cap);
    assert_int_equal(i2d_ASN1_OCTET_STRING(os, &w), n);
    ASN1_OCTET_STRING_free(os);
    return (size_t)n;
}

/* Rebuilds an EC key of curve from both point encodings; compares. */
static void check_ec(const char *curve, int bits)
{
    unsigned char params[32];
    unsigned char point[256];
    unsigned char wrapped[300];
    size_t plen = 0;
    size_t ptlen = 0;
    size_t wlen;
    EVP_PKEY *orig = gen_key("EC", curve);
    EVP_PKEY *k = NULL;
    uint32_t rc;

    ec_attrs(orig, params, &plen, point, &ptlen);
    assert_int_equal(ptlen, 1 + 2 * ((size_t)bits / 8));

    rc = gp11_devca_pubkey_ec(params, plen, point, ptlen, &k);
    assert_int_equal(rc, GP11_OK);
    assert_non_null(k);
    assert_int_equal(EVP_PKEY_eq(k, orig), 1);
    assert_int_equal(EVP_PKEY_get_bits(k), bits);
    EVP_PKEY_free(k);
    k = NULL;

    wlen = der_wrap(point, ptlen, wrapped, sizeof(wrapped));
    assert_int_equal(wlen, ptlen + 2);
    rc = gp11_devca_pubkey_ec(params, plen, wrapped, wlen, &k);
    assert_int_equal(rc, GP11_OK);
    assert_int_equal(EVP_PKEY_eq(k, orig), 1);
    EVP_PKEY_free(k);

    /* A different key of the same curve is not equal (the check can fail). */
    k = gen_key("EC", curve);
    assert_int_not_equal(EVP_PKEY_eq(k, orig), 1);
    EVP_PKEY_free(k);
    EVP_PKEY_free(orig);
}

static void test_ec_p256(void **state)
{
    (void)state;
    check_ec("P-256", 256);
}

static void test_ec_p384(void **state)
{
    (void)state;
    check_ec("P-384", 384);
}

static void test_ec_rejects_curves(void **state)
{
    static const int bad[] = {NID_secp521r1, NID_secp256k1,
                              NID_X9_62_prime192v1, NID_rsaEncryption};
    static const unsigned char der_null[] = {0x05, 0x00};
    unsigned char params[32];
    unsigned char point[256];
    size_t plen = 0;
    size_t ptlen = 0;
    EVP_PKEY *orig = gen_key("EC", "P-256");
    EVP_PKEY *k = NULL;
    size_t i;
    uint32_t rc;

    (void)state;
    ec_attrs(orig, params, &plen, point, &ptlen);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char other[32];
        size_t olen = curve_params(bad[i], other, sizeof(other));

        rc = gp11_devca_pubkey_ec(other, olen, point, ptlen, &k);
        assert_int_equal(rc, GP11_ERR_BAD_ARG);
        assert_null(k);
    }
    assert_true(msg_has(GP11_ERR_BAD_ARG, "unsupported curve"));

    /* A secp521r1 key with its own point is refused as well. */
    EVP_PKEY_free(orig);
    orig = gen_key("EC", "P-521");
    ec_attrs(orig, params, &plen, point, &ptlen);
    rc = gp11_devca_pubkey_ec(params, plen, point, ptlen, &k);
    assert_int_equal(rc, GP11_ERR_BAD_ARG);
    assert_true(msg_has(rc, "1.3.132.0.35"));
    assert_null(k);
    EVP_PKEY_free(orig);

    /* Params that are not one OID. */
    orig = gen_key("EC", "P-256");
    ec_attrs(orig, params, &plen, point, &ptlen);
    assert_int_equal(
        gp11_devca_pubkey_ec(der_null, sizeof(der_null), point, ptlen, &k),
        GP11_ERR_BAD_ARG);
    params[plen] = 0x00; /* trailing byte */
    assert_int_equal(gp11_devca_pubkey_ec(params, plen + 1, point, ptlen, &k),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_pubkey_ec(params, plen - 1, point, ptlen, &k),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_pubkey_ec(params, 0, point, ptlen, &k),
                     GP11_ERR_BAD_ARG);
    /* The unmodified params still work: the rejections were the changes. */
    assert_int_equal(gp11_devca_pubkey_ec(params, plen, point, ptlen, &k),
                     GP11_OK);
    EVP_PKEY_free(k);
    EVP_PKEY_free(orig);
}

/* Expects pubkey_ec to refuse point (len bytes) with the P-256 params. */
static void refuse_point(const unsigned char *params, size_t plen,
                         const unsigned char *pt, size_t len)
{
    EVP_PKEY *k = NULL;

    assert_int_equal(gp11_devca_pubkey_ec(params, plen, pt, len, &k),
                     GP11_ERR_BAD_ARG);
    assert_null(k);
}

static void test_ec_rejects_points(void **state)
{
    unsigned char params[32];
    unsigned char point[256];
    unsigned char bad[300];
    unsigned char wrapped[300];
    size_t plen = 0;
    size_t ptlen = 0;
    size_t wlen;
    EVP_PKEY *orig = gen_key("EC", "P-256");
    EVP_PKEY *p384 = gen_key("EC", "P-384");
    unsigned char p384pt[256];
    unsigned char p384params[32];
    size_t p384len = 0;
    size_t p384plen = 0;
    size_t i;

    (void)state;
    ec_attrs(orig, params, &plen, point, &ptlen);
    ec_attrs(p384, p384params, &p384plen, p384pt, &p384len);
    wlen = der_wrap(point, ptlen, wrapped, sizeof(wrapped));

    /* Truncated: raw and DER. */
    refuse_point(params, plen, point, ptlen - 1);
    refuse_point(params, plen, wrapped, wlen - 1);
    /* DER whose inner length is one short (and so is the whole). */
    wlen = der_wrap(point, ptlen - 1, bad, sizeof(bad));
    refuse_point(params, plen, bad, wlen);
    /* Wrong prefix: compressed (0x02) and hybrid (0x06), raw and in DER. */
    memcpy(bad, point, ptlen);
    bad[0] = 0x02;
    refuse_point(params, plen, bad, ptlen);
    bad[0] = 0x06;
    refuse_point(params, plen, bad, ptlen);
    /* A consistent hybrid encoding (OpenSSL itself would take it). */
    bad[0] = (unsigned char)(0x06 | (point[ptlen - 1] & 1));
    refuse_point(params, plen, bad, ptlen);
    wlen = der_wrap(bad, ptlen, wrapped, sizeof(wrapped));
    refuse_point(params, plen, wrapped, wlen);
    /* A real compressed point (33 bytes). */
    bad[0] = (unsigned char)(0x02 | (point[ptlen - 1] & 1));
    memcpy(bad + 1, point + 1, 32);
    refuse_point(params, plen, bad, 33);
    /* Garbage DER: a SEQUENCE, a wrong tag, a length running past the end. */
    wlen = der_wrap(point, ptlen, wrapped, sizeof(wrapped));
    wrapped[0] = 0x30;
    refuse_point(params, plen, wrapped, wlen);
    wrapped[0] = 0x03;
    refuse_point(params, plen, wrapped, wlen);
    wrapped[0] = 0x04;
    wrapped[1] = 0x7f;
    refuse_point(params, plen, wrapped, wlen);
    for (i = 0; i < sizeof(bad); i++)
        bad[i] = (unsigned char)(i * 37 + 11);
    refuse_point(params, plen, bad, ptlen + 2);
    /* Right shape, but not on the curve. */
    memcpy(bad, point, ptlen);
    bad[ptlen - 1] ^= 0x01;
    refuse_point(params, plen, bad, ptlen);
    /* The point at infinity encoded as all-zero coordinates. */
    memset(bad + 1, 0, ptlen - 1);
    refuse_point(params, plen, bad, ptlen);
    /* A P-384 point with P-256 params, and the other way round. */
    refuse_point(params, plen, p384pt, p384len);
    refuse_point(p384params, p384plen, point, ptlen);
    /* Trailing byte after a DER wrapping. */
    wlen = der_wrap(point, ptlen, wrapped, sizeof(wrapped));
    wrapped[wlen] = 0x00;
    refuse_point(params, plen, wrapped, wlen + 1);
    refuse_point(params, plen, point, 0);

    EVP_PKEY_free(p384);
    EVP_PKEY_free(orig);
}

/* Big-endian bytes of a BIGNUM key parameter of k. */
static size_t bn_param(EVP_PKEY *k, const char *name, unsigned char *buf,
                       size_t cap)
{
    BIGNUM *bn = NULL;
    int len;

    assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
    len = BN_num_bytes(bn);
    assert_true(len > 0 && (size_t)len <= cap);
    assert_int_equal(BN_bn2bin(bn, buf), len);
    BN_free(bn);
    return (size_t)len;
}

static void test_rsa(void **state)
{
    static const unsigned char e3[] = {0x03};
    static const unsigned char e_even[] = {0x01, 0x00, 0x00};
    static const unsigned char e_one[] = {0x01};
    unsigned char n[600];
    unsigned char e[16];
    unsigned char padded[601];
    size_t nlen;
    size_t elen;
    EVP_PKEY *orig = gen_key("RSA", "2048");
    EVP_PKEY *small = gen_key("RSA", "1024");
    EVP_PKEY *k = NULL;

    (void)state;
    nlen = bn_param(orig, OSSL_PKEY_PARAM_RSA_N, n, sizeof(n));
    elen = bn_param(orig, OSSL_PKEY_PARAM_RSA_E, e, sizeof(e));
    assert_int_equal(nlen, 256);
    assert_int_equal(gp11_devca_pubkey_rsa(n, nlen, e, elen, &k), GP11_OK);
    assert_non_null(k);
    assert_true(EVP_PKEY_is_a(k, "RSA"));
    assert_int_equal(EVP_PKEY_eq(k, orig), 1);
    EVP_PKEY_free(k);
    k = NULL;

    /* A leading zero byte (some tokens send one) changes nothing. */
    padded[0] = 0;
    memcpy(padded + 1, n, nlen);
    assert_int_equal(gp11_devca_pubkey_rsa(padded, nlen + 1, e, elen, &k),
                     GP11_OK);
    assert_int_equal(EVP_PKEY_eq(k, orig), 1);
    EVP_PKEY_free(k);
    k = NULL;

    /* Another exponent gives another key. */
    assert_int_equal(gp11_devca_pubkey_rsa(n, nlen, e3, sizeof(e3), &k),
                     GP11_OK);
    assert_int_not_equal(EVP_PKEY_eq(k, orig), 1);
    EVP_PKEY_free(k);
    k = NULL;

    /* Refused: even or unit exponent, even modulus, short modulus. */
    assert_int_equal(gp11_devca_pubkey_rsa(n, nlen, e_even, sizeof(e_even), &k),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_pubkey_rsa(n, nlen, e_one, sizeof(e_one), &k),
                     GP11_ERR_BAD_ARG);
    n[nlen - 1] ^= 1;
    assert_int_equal(gp11_devca_pubkey_rsa(n, nlen, e, elen, &k),
                     GP11_ERR_BAD_ARG);
    n[nlen - 1] ^= 1;
    assert_int_equal(gp11_devca_pubkey_rsa(n, 0, e, elen, &k),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_devca_pubkey_rsa(n, nlen, e, 0, &k),
                     GP11_ERR_BAD_ARG);
    nlen = bn_param(small, OSSL_PKEY_PARAM_RSA_N, n, sizeof(n));
    assert_int_equal(gp11_devca_pubkey_rsa(n, nlen, e, elen, &k),
                     GP11_ERR_BAD_ARG);
    assert_true(msg_has(GP11_ERR_BAD_ARG, "1024 bits"));
    assert_null(k);
    EVP_PKEY_free(small);
    EVP_PKEY_free(orig);
}

/* Checks what every issued certificate must carry. */
static void check_common(struct state *s, X509 *x, EVP_PKEY *key,
                         const char *cn)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    const ASN1_OCTET_STRING *ca_ski = X509_get0_subject_key_id(s->ca_cert);
    unsigned char *sn_der = NULL;
    BIGNUM *bn;
    char buf[128];
    int len;

    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    get_cn(X509_get_subject_name(x), buf, sizeof(buf));
    assert_string_equal(buf, cn);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
                                   X509_get_subject_name(s->ca_cert)),
                     0);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);

    /* Signed by the CA key, with SHA-256. */
    assert_int_equal(X509_verify(x, s->ca_key), 1);
    assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);

    /* Serial: positive, 16 content bytes (DER 02 10 ...). */
    assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
    bn = ASN1_INTEGER_to_BN(sn, NULL);
    assert_non_null(bn);
    assert_false(BN_is_negative(bn));
    assert_int_equal(BN_num_bytes(bn), 16);
    BN_free(bn);
    len = i2d_ASN1_INTEGER(sn, &sn_der);
    assert_int_equal(len, 18);
    assert_int_equal(sn_der[0], 0x02);
    assert_int_equal(sn_der[1], 16);
    assert_true(sn_der[2] > 0 && sn_der[2] < 0x80);
    OPENSSL_free(sn_der);

    /* basicConstraints critical CA:FALSE; keyUsage critical. */
    assert_int_equal(ext_critical(x, NID_basic_constraints), 1);
    assert_int_equal(X509_check_ca(x), 0);
    assert_int_equal(ext_critical(x, NID_key_usage), 1);

    /* SKI present; AKI is the CA's SKI. */
    assert_non_null(X509_get0_subject_key_id(x));
    assert_non_null(aki);
    assert_non_null(ca_ski);
    assert_int_equal(ASN1_OCTET_STRING_cmp(aki, ca_ski), 0);
}

/* The dNSName and rfc822Name of the SAN (NULL when absent). */
static void get_san(X509 *x, char *dns, char *email, size_t cap)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int i;

    dns[0] = email[0] = '\0';
    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *str;
        char *dst;

        if (gn->type == GEN_DNS) {
            str = gn->d.dNSName;
            dst = dns;
        } else if (gn->type == GEN_EMAIL) {
            str = gn->d.rfc822Name;
            dst = email;
        } else {
            fail_msg("unexpected SAN type %d", gn->type);
            return;
        }
        assert_true((size_t)ASN1_STRING_length(str) < cap);
        memcpy(dst, ASN1_STRING_get0_data(str),
               (size_t)ASN1_STRING_length(str));
        dst[ASN1_STRING_length(str)] = '\0';
    }
    GENERAL_NAMES_free(gens);
}

static void test_issue_server(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {.cn = "host.example.test",
                                   .dns_name = "host.example.test",
                                   .server = true,
                                   .not_before = -3600,
                                   .not_after = 86400};
    EVP_PKEY *key = gen_key("EC", "P-256");
    X509 *x = issue(s->ca, key, &p);
    char dns[256];
    char email[256];
    long nb;
    long na;

    check_common(s, x, key, "host.example.test");
    assert_int_equal(X509_get_key_usage(x),
                     KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
    get_san(x, dns, email, sizeof(dns));
    assert_string_equal(dns, "host.example.test");
    assert_string_equal(email, "");
    assert_int_equal(X509_check_host(x, "host.example.test", 0, 0, NULL), 1);
    assert_int_not_equal(X509_check_host(x, "other.example.test", 0, 0, NULL),
                         1);
    nb = secs_from_now(X509_get0_notBefore(x));
    na = secs_from_now(X509_get0_notAfter(x));
    assert_true(nb >= -3605 && nb <= -3595);
    assert_true(na >= 86395 && na <= 86405);

    assert_int_equal(chain_verify(s->ca_cert, x, X509_PURPOSE_SSL_SERVER),
                     X509_V_OK);
    assert_int_equal(chain_verify(s->ca_cert, x, X509_PURPOSE_SSL_CLIENT),
                     X509_V_ERR_INVALID_PURPOSE);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void test_issue_client_email(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {.cn = "alice",
                                   .email = "alice@example.test",
                                   .client = true,
                                   .not_before = -60,
                                   .not_after = 3600};
    EVP_PKEY *key = gen_key("EC", "P-384");
    X509 *x = issue(s->ca, key, &p);
    char dns[256];
    char email[256];

    check_common(s, x, key, "alice");
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
    get_san(x, dns, email, sizeof(dns));
    assert_string_equal(email, "alice@example.test");
    assert_string_equal(dns, "");
    assert_int_equal(X509_check_email(x, "alice@example.test", 0, 0), 1);
    assert_int_equal(chain_verify(s->ca_cert, x, X509_PURPOSE_SSL_CLIENT),
                     X509_V_OK);
    assert_int_equal(chain_verify(s->ca_cert, x, X509_PURPOSE_SSL_SERVER),
                     X509_V_ERR_INVALID_PURPOSE);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void test_issue_both_and_none(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {.cn = "both",
                                   .dns_name = "*.example.test",
                                   .email = "both@example.test",
                                   .server = true,
                                   .client = true,
                                   .not_before = -60,
                                   .not_after = 3600};
    EVP_PKEY *key = gen_key("EC", "P-256");
    X509 *x = issue(s->ca, key, &p);
    char dns[256];
    char email[256];

    check_common(s, x, key, "both");
    assert_int_equal(X509_get_extended_key_usage(x),
                     XKU_SSL_SERVER | XKU_SSL_CLIENT);
    get_san(x, dns, email, sizeof(dns));
    assert_string_equal(dns, "*.example.test");
    assert_string_equal(email, "both@example.test");
    assert_int_equal(chain_verify(s->ca_cert, x, X509_PURPOSE_SSL_SERVER),
                     X509_V_OK);
    assert_int_equal(chain_verify(s->ca_cert, x, X509_PURPOSE_SSL_CLIENT),
                     X509_V_OK);
    X509_free(x);

    /* No EKU and no SAN when the profile asks for neither. */
    p.dns_name = p.email = NULL;
    p.server = p.client = false;
    x = issue(s->ca, key, &p);
    check_common(s, x, key, "both");
    assert_int_equal(ext_critical(x, NID_ext_key_usage), -1);
    assert_int_equal(ext_critical(x, NID_subject_alt_name), -1);
    assert_int_equal(chain_verify(s->ca_cert, x, 0), X509_V_OK);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void test_issue_rsa(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {
        .cn = "rsa-user", .client = true, .not_before = -60, .not_after = 60};
    EVP_PKEY *key = gen_key("RSA", "2048");
    X509 *x = issue(s->ca, key, &p);

    check_common(s, x, key, "rsa-user");
    assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
    assert_int_equal(chain_verify(s->ca_cert, x, X509_PURPOSE_SSL_CLIENT),
                     X509_V_OK);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void test_issue_serials_differ(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {
        .cn = "twice", .not_before = -60, .not_after = 60};
    EVP_PKEY *key = gen_key("EC", "P-256");
    X509 *a = issue(s->ca, key, &p);
    X509 *b = issue(s->ca, key, &p);

    assert_int_not_equal(
        ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)),
        0);
    X509_free(a);
    X509_free(b);
    EVP_PKEY_free(key);
}

static void test_issue_expired(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {
        .cn = "old", .client = true, .not_before = -7200, .not_after = -60};
    EVP_PKEY *key = gen_key("EC", "P-256");
    X509 *x = issue(s->ca, key, &p);

    /* The signature is fine; only the validity period is over. */
    assert_int_equal(X509_verify(x, s->ca_key), 1);
    assert_true(X509_cmp_current_time(X509_get0_notAfter(x)) < 0);
    assert_int_equal(chain_verify(s->ca_cert, x, 0),
                     X509_V_ERR_CERT_HAS_EXPIRED);
    X509_free(x);

    /* And one that is not valid yet. */
    p.not_before = 3600;
    p.not_after = 7200;
    x = issue(s->ca, key, &p);
    assert_int_equal(chain_verify(s->ca_cert, x, 0),
                     X509_V_ERR_CERT_NOT_YET_VALID);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void test_issue_other_ca_fails_chain(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile p = {
        .cn = "stranger", .not_before = -60, .not_after = 3600};
    struct gp11_devca *ca2 = NULL;
    char k2[PATH_MAX];
    char c2[PATH_MAX];
    EVP_PKEY *key = gen_key("EC", "P-256");
    X509 *x;
    int err;

    path_in(s, "ca3.key", k2, sizeof(k2));
    path_in(s, "ca3.crt", c2, sizeof(c2));
    assert_int_equal(gp11_devca_create(CA_CN, 1, k2, c2, &ca2), GP11_OK);
    x = issue(ca2, key, &p);
    /* Same issuer name, other key: signature and chain both fail. */
    assert_int_not_equal(X509_verify(x, s->ca_key), 1);
    err = chain_verify(s->ca_cert, x, 0);
    assert_int_not_equal(err, X509_V_OK);
    X509_free(x);
    gp11_devca_free(ca2);
    EVP_PKEY_free(key);
}

/* Expects issue to refuse profile p for key. */
static void refuse_issue(struct gp11_devca *ca, EVP_PKEY *key,
                         const struct gp11_devca_profile *p)
{
    unsigned char *der = (unsigned char *)1;
    size_t len = 1;

    assert_int_equal(gp11_devca_issue(ca, key, p, &der, &len),
                     GP11_ERR_BAD_ARG);
    assert_null(der);
    assert_int_equal(len, 0);
}

static void test_issue_bad_profile(void **state)
{
    struct state *s = *state;
    struct gp11_devca_profile good = {
        .cn = "ok", .not_before = -60, .not_after = 60};
    struct gp11_devca_profile p;
    EVP_PKEY *key = gen_key("EC", "P-256");
    EVP_PKEY *ed = gen_key("ED25519", NULL);
    unsigned char *der = NULL;
    size_t len = 0;
    static const char *const bad_dns[] = {
        "",        "a b.test", "a,DNS:evil.test", "-a.test",
        "a-.test", "a..test",  ".a.test",         "a.test.",
        "*",       "a.*.test", "a\n.test"};
    static const char *const bad_email[] = {"",   "no-at", "@x.test",
                                            "a@", "a@b@c", "a b@c.test"};
    size_t i;

    p = good;
    assert_int_equal(gp11_devca_issue(s->ca, key, &p, &der, &len), GP11_OK);
    free(der);

    p = good;
    p.cn = NULL;
    refuse_issue(s->ca, key, &p);
    p.cn = "";
    refuse_issue(s->ca, key, &p);
    p.cn = "01234567890123456789012345678901234567890123456789012345678901234";
    refuse_issue(s->ca, key, &p);
    p = good;
    p.not_after = p.not_before;
    refuse_issue(s->ca, key, &p);
    p = good;
    for (i = 0; i < sizeof(bad_dns) / sizeof(bad_dns[0]); i++) {
        p.dns_name = bad_dns[i];
        refuse_issue(s->ca, key, &p);
    }
    p = good;
    for (i = 0; i < sizeof(bad_email) / sizeof(bad_email[0]); i++) {
        p.email = bad_email[i];
        refuse_issue(s->ca, key, &p);
    }
    /* Only EC and RSA keys are certified. */
    refuse_issue(s->ca, ed, &good);
    assert_true(msg_has(GP11_ERR_BAD_ARG, "ED25519"));
    refuse_issue(NULL, key, &good);
    refuse_issue(s->ca, NULL, &good);
    refuse_issue(s->ca, key, NULL);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(key);
}

/* Issues a certificate and returns its DER (malloc'ed). */
static unsigned char *issue_der(struct gp11_devca *ca, const char *cn,
                                long not_after, size_t *len)
{
    struct gp11_devca_profile p = {
        .cn = cn, .not_before = -60, .not_after = not_after};
    EVP_PKEY *key = gen_key("EC", "P-256");
    unsigned char *der = NULL;

    assert_int_equal(gp11_devca_issue(ca, key, &p, &der, len), GP11_OK);
    EVP_PKEY_free(key);
    return der;
}

static void test_cert_fields(void **state)
{
    struct state *s = *state;
    unsigned char *subj = NULL;
    unsigned char *iss = NULL;
    unsigned char *ser = NULL;
    unsigned char *want = NULL;
    unsigned char *der;
    unsigned char *longer;
    const unsigned char *q;
    size_t slen = 0;
    size_t ilen = 0;
    size_t serlen = 0;
    size_t len = 0;
    X509 *x;
    X509_NAME *name;
    char cn[64];
    int wlen;

    der = issue_der(s->ca, "bob", 3600, &len);
    assert_int_equal(gp11_devca_cert_fields(der, len, &subj, &slen, &iss, &ilen,
                                            &ser, &serlen),
                     GP11_OK);
    q = der;
    x = d2i_X509(NULL, &q, (long)len);
    assert_non_null(x);

    wlen = i2d_X509_NAME(X509_get_subject_name(x), &want);
    assert_int_equal(slen, wlen);
    assert_memory_equal(subj, want, slen);
    OPENSSL_free(want);
    want = NULL;
    wlen = i2d_X509_NAME(X509_get_issuer_name(x), &want);
    assert_int_equal(ilen, wlen);
    assert_memory_equal(iss, want, ilen);
    OPENSSL_free(want);
    want = NULL;
    wlen = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &want);
    assert_int_equal(serlen, wlen);
    assert_memory_equal(ser, want, serlen);
    OPENSSL_free(want);
    want = NULL;

    /* The issuer is the CA's subject; the subject decodes to CN=bob. */
    wlen = i2d_X509_NAME(X509_get_subject_name(s->ca_cert), &want);
    assert_int_equal(ilen, wlen);
    assert_memory_equal(iss, want, ilen);
    OPENSSL_free(want);
    assert_false(slen == ilen && memcmp(subj, iss, slen) == 0);
    q = subj;
    name = d2i_X509_NAME(NULL, &q, (long)slen);
    assert_non_null(name);
    get_cn(name, cn, sizeof(cn));
    assert_string_equal(cn, "bob");
    X509_NAME_free(name);
    assert_int_equal(ser[0], 0x02);
    assert_int_equal(serlen, 18);
    free(subj);
    free(iss);
    free(ser);
    X509_free(x);

    /* Garbage, truncation and trailing bytes are refused. */
    assert_int_equal(gp11_devca_cert_fields(der, len - 1, &subj, &slen, &iss,
                                            &ilen, &ser, &serlen),
                     GP11_ERR_CERT_INVALID);
    assert_null(subj);
    assert_null(iss);
    assert_null(ser);
    longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(gp11_devca_cert_fields(longer, len + 1, &subj, &slen, &iss,
                                            &ilen, &ser, &serlen),
                     GP11_ERR_CERT_INVALID);
    assert_true(msg_has(GP11_ERR_CERT_INVALID, "stray"));
    memset(longer, 0x5a, len);
    assert_int_equal(gp11_devca_cert_fields(longer, len, &subj, &slen, &iss,
                                            &ilen, &ser, &serlen),
                     GP11_ERR_CERT_INVALID);
    assert_int_equal(gp11_devca_cert_fields(NULL, 0, &subj, &slen, &iss, &ilen,
                                            &ser, &serlen),
                     GP11_ERR_BAD_ARG);
    assert_null(subj);
    free(longer);
    free(der);
}

static void test_describe(void **state)
{
    struct state *s = *state;
    char subject[128];
    char not_after[64];
    char tiny[6];
    unsigned char *der;
    size_t len = 0;
    struct tm tm;
    char *end;
    time_t want;
    time_t got;

    want = time(NULL) + 86400 * 10;
    der = issue_der(s->ca, "alice", 86400 * 10, &len);
    assert_int_equal(gp11_devca_describe(der, len, subject, sizeof(subject),
                                         not_after, sizeof(not_after)),
                     GP11_OK);
    assert_string_equal(subject, "CN=alice");
    memset(&tm, 0, sizeof(tm));
    end = strptime(not_after, "%Y-%m-%d %H:%M:%S", &tm);
    assert_non_null(end);
    assert_string_equal(end, " UTC");
    assert_int_equal(strlen(not_after), strlen("2027-11-22 10:00:00 UTC"));
    got = timegm(&tm);
    assert_true(got >= want - 5 && got <= want + 5);

    /* Buffers too small are refused and left empty. */
    assert_int_equal(gp11_devca_describe(der, len, tiny, sizeof(tiny),
                                         not_after, sizeof(not_after)),
                     GP11_ERR_BAD_ARG);
    assert_string_equal(tiny, "");
    assert_string_equal(not_after, "");
    assert_int_equal(gp11_devca_describe(der, len, subject, sizeof(subject),
                                         tiny, sizeof(tiny)),
                     GP11_ERR_BAD_ARG);
    assert_string_equal(subject, "");
    /* Exactly large enough: "CN=alice" and its NUL. */
    assert_int_equal(
        gp11_devca_describe(der, len, subject, 9, not_after, sizeof(not_after)),
        GP11_OK);
    assert_string_equal(subject, "CN=alice");
    /* Not a certificate. */
    assert_int_equal(gp11_devca_describe(der, len - 1, subject, sizeof(subject),
                                         not_after, sizeof(not_after)),
                     GP11_ERR_CERT_INVALID);
    free(der);

    /* RFC 2253 escaping of a comma; UTF-8 passes through. */
    der = issue_der(s->ca, "Doe, J\xc3\xb6rg", 60, &len);
    assert_int_equal(gp11_devca_describe(der, len, subject, sizeof(subject),
                                         not_after, sizeof(not_after)),
                     GP11_OK);
    assert_string_equal(subject, "CN=Doe\\, J\xc3\xb6rg");
    free(der);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca_files),
        cmocka_unit_test(test_create_refuses_overwrite),
        cmocka_unit_test(test_create_bad_args),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_refuses_leaf),
        cmocka_unit_test(test_ec_p256),
        cmocka_unit_test(test_ec_p384),
        cmocka_unit_test(test_ec_rejects_curves),
        cmocka_unit_test(test_ec_rejects_points),
        cmocka_unit_test(test_rsa),
        cmocka_unit_test(test_issue_server),
        cmocka_unit_test(test_issue_client_email),
        cmocka_unit_test(test_issue_both_and_none),
        cmocka_unit_test(test_issue_rsa),
        cmocka_unit_test(test_issue_serials_differ),
        cmocka_unit_test(test_issue_expired),
        cmocka_unit_test(test_issue_other_ca_fails_chain),
        cmocka_unit_test(test_issue_bad_profile),
        cmocka_unit_test(test_cert_fields),
        cmocka_unit_test(test_describe),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
