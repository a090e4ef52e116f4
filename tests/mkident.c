/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test set-up helper: adds an identity to a development token, its key
 * pair generated in the token and its certificate issued by the
 * environment's CA or by a second, untrusted CA.
 *
 *   mkident [OPTIONS] ENV_DIR LABEL ID CN DNS NOT_BEFORE NOT_AFTER
 *           [OTHER_CA_DIR [CA_DAYS]]
 *
 * DNS "-" means no dNSName. When CN is "service@host" and there is a DNS
 * name, the certificate binds that service with the SRVName
 * "_service.DNS" (docs/protocol.md 2.10). Options (docs/names.md rules):
 *   --email ADDR      a SAN rfc822Name
 *   --email-nul ADDR  a SAN rfc822Name of ADDR followed by a NUL byte
 *   --service SVC     bind SVC instead of the CN's service
 *   --no-service      no SRVName
 *   --srv-host HOST   the SRVName's host instead of DNS
 *   --eku server|client|both   extendedKeyUsage (default both)
 *   --extractable     the private key is CKA_EXTRACTABLE = TRUE
 *   --not-sensitive   the private key is CKA_SENSITIVE = FALSE
 *   --foreign-cert    the certificate holds another (software) key
 *   --also-foreign-cert  store such a certificate first, then the right one
 *
 * NOT_BEFORE and NOT_AFTER are seconds relative to now. CA_DAYS is the
 * validity of the second CA when this call creates it (default 365), so
 * that a CA can expire before the certificates it issues.
 */
#include "devca.h"
#include "gp11_config.h"
#include "gp11_pkcs11.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const unsigned char p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x03, 0x01, 0x07};

/* Generates the key pair and returns its public key. */
static bool key_extractable, key_not_sensitive;

static uint32_t make_key(struct gp11_token *tok, const char *label, CK_BYTE id,
                         EVP_PKEY **pub_key)
{
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL ext = key_extractable ? CK_TRUE : CK_FALSE;
    CK_BBOOL sens = key_not_sensitive ? CK_FALSE : CK_TRUE;
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_TOKEN, &yes, 1},
                         {CKA_VERIFY, &yes, 1},
                         {CKA_ID, &id, 1},
                         {CKA_LABEL, (void *)label, strlen(label)},
                         {CKA_EC_PARAMS, (void *)p256, sizeof(p256)}};
    CK_ATTRIBUTE kt[] = {{CKA_TOKEN, &yes, 1},
                         {CKA_PRIVATE, &yes, 1},
                         {CKA_SENSITIVE, &sens, 1},
                         {CKA_EXTRACTABLE, &ext, 1},
                         {CKA_SIGN, &yes, 1},
                         {CKA_ID, &id, 1},
                         {CKA_LABEL, (void *)label, strlen(label)}};
    struct gp11_object pub, priv;
    void *params = NULL, *point = NULL;
    CK_ULONG lp = 0, lq = 0;
    uint32_t ret;

    ret = gp11_object_generate_pair(tok, &m, pt, 5, kt, 7, &pub, &priv);
    if (ret == GP11_OK)
        ret = gp11_object_get_attr(tok, &pub, CKA_EC_PARAMS, &params, &lp);
    if (ret == GP11_OK)
        ret = gp11_object_get_attr(tok, &pub, CKA_EC_POINT, &point, &lq);
    if (ret == GP11_OK)
        ret = gp11_devca_pubkey_ec(params, lp, point, lq, pub_key);
    free(params);
    free(point);
    return ret;
}

/* Stores the certificate next to the key. */
static uint32_t store_cert(struct gp11_token *tok, const char *label,
                           CK_BYTE id, const unsigned char *der, size_t len)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_BBOOL yes = CK_TRUE;
    unsigned char *subj = NULL, *iss = NULL, *ser = NULL;
    size_t ls, li, lr;
    struct gp11_object obj;
    uint32_t ret;

    ret = gp11_devca_cert_fields(der, len, &subj, &ls, &iss, &li, &ser, &lr);
    if (ret == GP11_OK) {
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                            {CKA_CERTIFICATE_TYPE, &x509, sizeof(x509)},
                            {CKA_TOKEN, &yes, 1},
                            {CKA_ID, &id, 1},
                            {CKA_LABEL, (void *)label, strlen(label)},
                            {CKA_SUBJECT, subj, ls},
                            {CKA_ISSUER, iss, li},
                            {CKA_SERIAL_NUMBER, ser, lr},
                            {CKA_VALUE, (void *)der, len}};
        ret = gp11_object_create(tok, t, 9, &obj);
    }
    free(subj);
    free(iss);
    free(ser);
    return ret;
}

/* The CA to issue with: the environment's, or a new untrusted one. */
static uint32_t open_ca(const char *env, const char *other, int days,
                        struct gp11_devca **ca)
{
    char key[4096], pem[4096], cn[160];
    const char *base;

    if (other) {
        snprintf(key, sizeof(key), "%s/ca.key", other);
        snprintf(pem, sizeof(pem), "%s/ca.pem", other);
        /* Each such CA gets its own subject (trust.conf holds several). */
        base = strrchr(other, '/');
        base = base != NULL ? base + 1 : other;
        snprintf(cn, sizeof(cn), "%s (%s)",
                 days == 365 ? "untrusted test CA" : "short-lived test CA",
                 base);
        if (access(key, F_OK) != 0)
            return gp11_devca_create(cn, days, key, pem, ca);
    } else {
        snprintf(key, sizeof(key), "%s/ca/ca.key", env);
        snprintf(pem, sizeof(pem), "%s/ca/ca.pem", env);
    }
    return gp11_devca_load(key, pem, ca);
}

int main(int argc, char **argv)
{
    struct gp11_devca_profile prof = {0};
    struct gp11_token_opts o = {0};
    struct gp11_config *cfg = NULL;
    struct gp11_token *tok = NULL;
    struct gp11_devca *ca = NULL;
    EVP_PKEY *key = NULL;
    unsigned char *der = NULL;
    size_t len = 0;
    const char *service = NULL, *at;
    bool no_service = false, foreign = false, also_foreign = false;
    bool no_cert = false;
    EVP_PKEY *other = NULL;
    char path[4096];
    char svc[64];
    uint32_t ret;
    CK_BYTE id;

    prof.server = prof.client = true;
    while (argc > 2 && strncmp(argv[1], "--", 2) == 0) {
        if (strcmp(argv[1], "--email") == 0) {
            prof.email = argv[2];
        } else if (strcmp(argv[1], "--email-nul") == 0) {
            prof.email = argv[2];
            prof.email_len = strlen(argv[2]) + 1; /* with its NUL */
        } else if (strcmp(argv[1], "--service") == 0) {
            service = argv[2];
        } else if (strcmp(argv[1], "--srv-host") == 0) {
            prof.srv_host = argv[2];
        } else if (strcmp(argv[1], "--eku") == 0) {
            prof.server = strcmp(argv[2], "client") != 0;
            prof.client = strcmp(argv[2], "server") != 0;
        } else if (strcmp(argv[1], "--no-service") == 0) {
            no_service = true;
            argc++, argv--; /* takes no value */
        } else if (strcmp(argv[1], "--extractable") == 0) {
            key_extractable = true;
            argc++, argv--;
        } else if (strcmp(argv[1], "--not-sensitive") == 0) {
            key_not_sensitive = true;
            argc++, argv--;
        } else if (strcmp(argv[1], "--foreign-cert") == 0) {
            foreign = true;
            argc++, argv--;
        } else if (strcmp(argv[1], "--no-cert") == 0) {
            no_cert = true; /* a key alone (gssp11 check) */
            argc++, argv--;
        } else if (strcmp(argv[1], "--also-foreign-cert") == 0) {
            also_foreign = true;
            argc++, argv--;
        } else {
            break;
        }
        argc -= 2;
        argv += 2;
    }
    if (argc < 8 || argc > 10) {
        fprintf(stderr, "usage: mkident [OPTIONS] ENV LABEL ID CN DNS "
                        "NOT_BEFORE NOT_AFTER [OTHER_CA_DIR [CA_DAYS]]\n");
        return 2;
    }
    id = (CK_BYTE)atoi(argv[3]);
    prof.cn = argv[4];
    prof.dns_name = strcmp(argv[5], "-") != 0 ? argv[5] : NULL;
    at = strchr(prof.cn, '@');
    if (service == NULL && at != NULL && (size_t)(at - prof.cn) < sizeof(svc)) {
        snprintf(svc, sizeof(svc), "%.*s", (int)(at - prof.cn), prof.cn);
        service = svc;
    }
    if (!no_service && prof.dns_name != NULL)
        prof.service = service;
    prof.not_before = atol(argv[6]);
    prof.not_after = atol(argv[7]);
    snprintf(path, sizeof(path), "%s/gss-pkcs11.conf", argv[1]);
    ret = gp11_config_load(path, &cfg);
    if (ret == GP11_OK) {
        o.module = cfg->module;
        o.init_params = cfg->init_params;
        o.uri = cfg->token_uri;
        o.pin_source = cfg->pin_source;
        ret = gp11_token_open(&o, &tok);
    }
    if (ret == GP11_OK)
        ret = gp11_token_login(tok);
    if (ret == GP11_OK)
        ret = open_ca(argv[1], argc >= 9 ? argv[8] : NULL,
                      argc == 10 ? atoi(argv[9]) : 365, &ca);
    if (ret == GP11_OK)
        ret = make_key(tok, argv[2], id, &key);
    /* A certificate of another key under this key's CKA_ID. */
    if (ret == GP11_OK && (foreign || also_foreign) &&
        (other = EVP_EC_gen("P-256")) == NULL)
        ret = gp11_err_set(GP11_ERR_INTERNAL, "EVP_EC_gen failed");
    if (ret == GP11_OK && (foreign || also_foreign))
        ret = gp11_devca_issue(ca, other, &prof, &der, &len);
    if (ret == GP11_OK && (foreign || also_foreign))
        ret = store_cert(tok, argv[2], id, der, len);
    if (ret == GP11_OK && !foreign && !no_cert) {
        free(der);
        der = NULL;
        ret = gp11_devca_issue(ca, key, &prof, &der, &len);
        if (ret == GP11_OK)
            ret = store_cert(tok, argv[2], id, der, len);
    }
    EVP_PKEY_free(other);
    if (ret != GP11_OK)
        fprintf(stderr, "mkident: %s\n", gp11_err_message(ret));
    free(der);
    EVP_PKEY_free(key);
    gp11_devca_free(ca);
    gp11_token_close(tok);
    gp11_config_free(cfg);
    return ret == GP11_OK ? 0 : 1;
}
