/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test set-up helper for chains and revocation (tests/setup-revocation.sh):
 *
 *   mkpki root DIR CN              a root CA (no path length limit)
 *   mkpki inter PARENT DIR CN      an intermediate CA issued by PARENT
 *   mkpki store ENV LABEL ID FILE  put the CA certificate FILE (PEM) on
 *                                  ENV's token with CKA_ID ID, beside the
 *                                  identity of that CKA_ID
 *   mkpki crl CADIR OUT THIS NEXT ENV [WHAT...]
 *   mkpki forgecrl CADIR OUT THIS NEXT ENV [WHAT...]
 *                                  a CRL of CADIR's CA (forgecrl: with its
 *                                  issuer name but signed by a fresh key),
 *                                  thisUpdate/nextUpdate THIS/NEXT seconds
 *                                  from now, revoking each WHAT: a PEM file
 *                                  (a path with '/') or the label of a
 *                                  certificate on ENV's token. OUT ending in
 *                                  .der is written as DER, else PEM.
 *
 * A CA directory holds ca.key and ca.pem (P-256), as tests/mkident.c's
 * OTHER_CA_DIR, so mkident can issue identities from any of them.
 */
#include "gp11_config.h"
#include "gp11_pkcs11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Prints OpenSSL's error and what failed; returns 1. */
static int die(const char *what)
{
    fprintf(stderr, "mkpki: %s\n", what);
    ERR_print_errors_fp(stderr);
    return 1;
}

/* Adds one v3 extension given in openssl.cnf syntax. */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *e;
    int ok;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (e == NULL)
        return 0;
    ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

/* Loads DIR/ca.key and DIR/ca.pem. */
static int load_ca(const char *dir, EVP_PKEY **key, X509 **cert)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/ca.key", dir);
    f = fopen(path, "r");
    *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    f = fopen(path, "r");
    *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return *key != NULL && *cert != NULL;
}

/* Writes DIR/ca.key and DIR/ca.pem. */
static int save_ca(const char *dir, EVP_PKEY *key, X509 *cert)
{
    char path[4096];
    FILE *f;
    int ok;

    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/ca.key", dir);
    f = fopen(path, "w");
    ok = f != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (f)
        fclose(f);
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    f = fopen(path, "w");
    ok = ok && f != NULL && PEM_write_X509(f, cert);
    if (f)
        fclose(f);
    return ok;
}

/* Issues a CA certificate for a new key (self-signed when parent is NULL). */
static int make_ca(const char *parent, const char *dir, const char *cn)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    EVP_PKEY *pkey = NULL;
    X509 *pcert = NULL;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok = 0;

    if (key == NULL || x == NULL || name == NULL)
        goto done;
    if (parent != NULL && !load_ca(parent, &pkey, &pcert))
        goto done;
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ok = X509_set_version(x, X509_VERSION_3) &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
         X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0) &&
         X509_set_subject_name(x, name) &&
         X509_set_issuer_name(x, pcert ? X509_get_subject_name(pcert) : name) &&
         X509_gmtime_adj(X509_getm_notBefore(x), -7200) &&
         X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) &&
         X509_set_pubkey(x, key) &&
         add_ext(x, pcert ? pcert : x, NID_basic_constraints,
                 parent ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE") &&
         add_ext(x, pcert ? pcert : x, NID_key_usage,
                 "critical,keyCertSign,cRLSign") &&
         add_ext(x, pcert ? pcert : x, NID_subject_key_identifier, "hash") &&
         add_ext(x, pcert ? pcert : x, NID_authority_key_identifier,
                 "keyid:always") &&
         X509_sign(x, pkey ? pkey : key, EVP_sha256()) > 0 &&
         save_ca(dir, key, x);
done:
    BN_free(bn);
    X509_NAME_free(name);
    X509_free(x);
    X509_free(pcert);
    EVP_PKEY_free(pkey);
    EVP_PKEY_free(key);
    return ok ? 0 : die("cannot make the CA");
}

/* Opens and logs in to the token of the environment ENV. */
static uint32_t open_env(const char *env, struct gp11_config **cfg,
                         struct gp11_token **tok)
{
    struct gp11_token_opts o = {0};
    char path[4096];
    uint32_t ret;

    snprintf(path, sizeof(path), "%s/gss-pkcs11.conf", env);
    ret = gp11_config_load(path, cfg);
    if (ret == GP11_OK) {
        o.module = (*cfg)->module;
        o.init_params = (*cfg)->init_params;
        o.uri = (*cfg)->token_uri;
        o.pin_source = (*cfg)->pin_source;
        ret = gp11_token_open(&o, tok);
    }
    if (ret == GP11_OK)
        ret = gp11_token_login(*tok);
    return ret;
}

/* Stores a CA certificate on the token with the identity's CKA_ID. */
static int store(const char *env, const char *label, CK_BYTE id,
                 const char *file)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_BBOOL yes = CK_TRUE;
    struct gp11_config *cfg = NULL;
    struct gp11_token *tok = NULL;
    unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
    int ld, ls, li, lr;
    struct gp11_object obj;
    FILE *f = fopen(file, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    uint32_t ret;
    char lab[256];

    if (f)
        fclose(f);
    if (x == NULL)
        return die("cannot read the certificate to store");
    snprintf(lab, sizeof(lab), "%s-ca", label);
    ld = i2d_X509(x, &der);
    ls = i2d_X509_NAME(X509_get_subject_name(x), &subj);
    li = i2d_X509_NAME(X509_get_issuer_name(x), &iss);
    lr = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &ser);
    ret = open_env(env, &cfg, &tok);
    if (ret == GP11_OK) {
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                            {CKA_CERTIFICATE_TYPE, &x509, sizeof(x509)},
                            {CKA_TOKEN, &yes, 1},
                            {CKA_ID, &id, 1},
                            {CKA_LABEL, lab, strlen(lab)},
                            {CKA_SUBJECT, subj, (CK_ULONG)ls},
                            {CKA_ISSUER, iss, (CK_ULONG)li},
                            {CKA_SERIAL_NUMBER, ser, (CK_ULONG)lr},
                            {CKA_VALUE, der, (CK_ULONG)ld}};
        ret = gp11_object_create(tok, t, 9, &obj);
    }
    if (ret != GP11_OK)
        fprintf(stderr, "mkpki: %s\n", gp11_err_message(ret));
    OPENSSL_free(der);
    OPENSSL_free(subj);
    OPENSSL_free(iss);
    OPENSSL_free(ser);
    X509_free(x);
    gp11_token_close(tok);
    gp11_config_free(cfg);
    return ret == GP11_OK ? 0 : 1;
}

/* The certificate labelled label on the token, or a PEM file. */
static X509 *revoked_cert(struct gp11_token *tok, const char *what)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    struct gp11_object *objs = NULL;
    const unsigned char *q;
    size_t n = 0;
    CK_ULONG len = 0;
    void *v = NULL;
    X509 *x = NULL;
    FILE *f;

    if (strchr(what, '/') != NULL) {
        f = fopen(what, "r");
        x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        return x;
    }
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, (void *)what, strlen(what)}};
    if (gp11_object_find(tok, t, 2, &objs, &n) == GP11_OK && n == 1 &&
        gp11_object_get_attr(tok, &objs[0], CKA_VALUE, &v, &len) == GP11_OK) {
        q = v;
        x = d2i_X509(NULL, &q, (long)len);
    }
    free(v);
    free(objs);
    return x;
}

/* Writes a CRL of the CA in cadir (forged: signed by a fresh key). */
static int crl(int argc, char **argv, int forged)
{
    struct gp11_config *cfg = NULL;
    struct gp11_token *tok = NULL;
    EVP_PKEY *key = NULL, *fake = NULL;
    X509 *ca = NULL, *x;
    X509_CRL *c = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_TIME *rt = ASN1_TIME_new();
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    const char *out = argv[3];
    size_t olen = strlen(out);
    long this_off = atol(argv[4]), next_off = atol(argv[5]);
    int ok = 0;
    FILE *f = NULL;

    if (c == NULL || t == NULL || rt == NULL || num == NULL ||
        !load_ca(argv[2], &key, &ca))
        goto done;
    if (argc > 7 && open_env(argv[6], &cfg, &tok) != GP11_OK)
        goto done;
    if (forged) {
        fake = EVP_EC_gen("P-256");
        EVP_PKEY_free(key);
        key = fake;
    }
    ok = X509_CRL_set_version(c, 1) &&
         X509_CRL_set_issuer_name(c, X509_get_subject_name(ca)) &&
         X509_gmtime_adj(t, this_off) && X509_CRL_set1_lastUpdate(c, t) &&
         X509_gmtime_adj(t, next_off) && X509_CRL_set1_nextUpdate(c, t) &&
         ASN1_INTEGER_set(num, (long)time(NULL)) &&
         X509_CRL_add1_ext_i2d(c, NID_crl_number, num, 0, 0) == 1;
    for (int i = 7; ok && i < argc; i++) {
        X509_REVOKED *r = X509_REVOKED_new();

        x = revoked_cert(tok, argv[i]);
        ok = r != NULL && x != NULL &&
             X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(x)) &&
             X509_gmtime_adj(rt, this_off - 60) &&
             X509_REVOKED_set_revocationDate(r, rt) &&
             X509_CRL_add0_revoked(c, r);
        if (!ok) {
            fprintf(stderr, "mkpki: cannot revoke %s\n", argv[i]);
            X509_REVOKED_free(r);
        }
        X509_free(x);
    }
    ok = ok && X509_CRL_sort(c) && X509_CRL_sign(c, key, EVP_sha256()) > 0;
    f = ok ? fopen(out, "w") : NULL;
    ok = f != NULL && (olen > 4 && strcmp(out + olen - 4, ".der") == 0
                           ? i2d_X509_CRL_fp(f, c)
                           : PEM_write_X509_CRL(f, c));
done:
    if (f)
        fclose(f);
    ASN1_INTEGER_free(num);
    ASN1_TIME_free(t);
    ASN1_TIME_free(rt);
    X509_CRL_free(c);
    X509_free(ca);
    EVP_PKEY_free(key);
    gp11_token_close(tok);
    gp11_config_free(cfg);
    return ok ? 0 : die("cannot make the CRL");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "root") == 0)
        return make_ca(NULL, argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "inter") == 0)
        return make_ca(argv[2], argv[3], argv[4]);
    if (argc == 6 && strcmp(argv[1], "store") == 0)
        return store(argv[2], argv[3], (CK_BYTE)atoi(argv[4]), argv[5]);
    if (argc >= 7 && strcmp(argv[1], "crl") == 0)
        return crl(argc, argv, 0);
    if (argc >= 7 && strcmp(argv[1], "forgecrl") == 0)
        return crl(argc, argv, 1);
    fprintf(stderr, "usage: mkpki root DIR CN | inter PARENT DIR CN | store "
                    "ENV LABEL ID FILE | crl|forgecrl CADIR OUT THIS NEXT "
                    "ENV [WHAT...]\n");
    return 2;
}
