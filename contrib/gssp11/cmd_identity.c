/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gssp11 identity: the production path of an identity (admin-guide.md 5):
 * "new" generates the key pair in the token and writes a CSR with the
 * role's profile, "import-cert" checks the CA's certificate against the key,
 * the role and the anchors and stores it, "list" shows what is there.
 */
#include "devca.h"
#include "gp11_buf.h"
#include "gp11_certval.h"
#include "gp11_config.h"
#include "gp11_names.h"
#include "gp11_pkcs11.h"
#include "gssp11.h"

#include <getopt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* CKA_APPLICATION of the data object that keeps a key's request. */
/* CKA_SUBJECT OU of keys made by gssp11 identity new, naming the role. */
#define REQ_OU_SERVICE "gssp11 identity: service"
#define REQ_OU_USER "gssp11 identity: user"
#define ID_LEN 16

/* The role an identity is made for, and its names. */
struct role {
    bool service;   /* acceptor (--service S@H), else initiator (--user U) */
    char name[256]; /* S (service) or U (user) */
    char host[256]; /* H (service only) */
};

static void identity_usage(FILE *f)
{
    fprintf(f,
            "Usage: gssp11 identity new --label L (--service S@H | --user U)\n"
            "                       [--key ec-p256|ec-p384|rsa-3072] "
            "[--out FILE]\n"
            "       gssp11 identity import-cert --label L CERT.pem "
            "[CHAIN.pem]\n"
            "       gssp11 identity list\n\n"
            "new generates a key pair inside the token (sensitive, never "
            "extractable,\nsign-only) and writes a PEM certificate request "
            "with the role's profile\n(keyUsage digitalSignature; serverAuth, "
            "dNSName H and SRVName _S.H for a\nservice; clientAuth and "
            "rfc822Name U for a user) to FILE or standard output.\n"
            "import-cert checks that the CA's certificate holds the key's "
            "public key,\nsuits the role and chains to the configured anchors, "
            "then stores it and the\nchain's CA certificates with the key's "
            "CKA_ID. list shows every identity\nwith its role, subject, SANs, "
            "expiry and what is wrong with it.\n\n"
            "  -c, --config FILE  configuration file\n"
            "  -l, --label L      CKA_LABEL of the key pair\n"
            "  -s, --service S@H  an acceptor identity for service S on host "
            "H\n"
            "  -u, --user U       an initiator identity for user U "
            "(user@domain)\n"
            "  -k, --key TYPE     ec-p256 (default), ec-p384 or rsa-3072\n"
            "  -o, --out FILE     where new writes the request\n"
            "  -h, --help         this text\n");
}

/* Opens and logs in to the token of a configuration. */
static uint32_t open_token(const struct gp11_config *cfg,
                           struct gp11_token **tok)
{
    struct gp11_token_opts o = {0};
    uint32_t ret;

    o.module = cfg->module;
    o.init_params = cfg->init_params;
    o.uri = cfg->token_uri;
    o.pin_source = cfg->pin_source;
    o.quirks = cfg->quirks;
    ret = gp11_token_open(&o, tok);
    if (ret == GP11_OK)
        ret = gp11_token_login(*tok);
    return ret;
}

/* The otherName OID of [policy] user-name-san, NULL for rfc822Name. */
static const char *user_san_oid(const struct gp11_config *cfg)
{
    const char *v = cfg->user_name_san;

    if (v == NULL || strcasecmp(v, "rfc822Name") == 0)
        return NULL;
    if (strcasecmp(v, "upn") == 0)
        return "1.3.6.1.4.1.311.20.2.3";
    return v;
}

/* Parses "S@H" or "U" into a role. */
static uint32_t parse_role(const char *service, const char *user,
                           struct role *r)
{
    const char *at;

    memset(r, 0, sizeof(*r));
    if ((service == NULL) == (user == NULL))
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "give exactly one of --service S@H and --user U");
    if (service != NULL) {
        at = strchr(service, '@');
        if (at == NULL || at == service || at[1] == '\0' ||
            strchr(at + 1, '@') != NULL ||
            (size_t)(at - service) >= sizeof(r->name) ||
            strlen(at + 1) >= sizeof(r->host))
            return gp11_err_set(GP11_ERR_BAD_ARG,
                                "--service wants SERVICE@HOST, not '%s'",
                                service);
        r->service = true;
        memcpy(r->name, service, (size_t)(at - service));
        strcpy(r->host, at + 1);
        return GP11_OK;
    }
    if (user[0] == '\0' || strlen(user) >= sizeof(r->name))
        return gp11_err_set(GP11_ERR_BAD_ARG, "--user wants a user name");
    strcpy(r->name, user);
    return GP11_OK;
}

/* Finds the objects of class cls with the label (and CKA_ID if given). */
static uint32_t find_by(struct gp11_token *tok, CK_OBJECT_CLASS cls,
                        const char *label, const void *id, size_t id_len,
                        struct gp11_object **out, size_t *n)
{
    CK_ATTRIBUTE t[3] = {{CKA_CLASS, &cls, sizeof(cls)}};
    CK_ULONG count = 1;

    if (label != NULL)
        t[count++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label, strlen(label)};
    if (id != NULL)
        t[count++] = (CK_ATTRIBUTE){CKA_ID, (void *)id, id_len};
    return gp11_object_find(tok, t, count, out, n);
}

/* The private key labelled label (exactly one) and its CKA_ID. */
static uint32_t find_key(struct gp11_token *tok, const char *label,
                         struct gp11_object *key, void **id, CK_ULONG *id_len)
{
    struct gp11_object *found = NULL;
    size_t n = 0;
    uint32_t ret = find_by(tok, CKO_PRIVATE_KEY, label, NULL, 0, &found, &n);

    if (ret != GP11_OK)
        return ret;
    if (n != 1) {
        free(found);
        return gp11_err_set(n ? GP11_ERR_IDENTITY_AMBIGUOUS
                              : GP11_ERR_IDENTITY_NOT_FOUND,
                            "%zu private keys are labelled \"%s\" on the "
                            "token (want one)",
                            n, label);
    }
    *key = found[0];
    free(found);
    return gp11_object_get_attr(tok, key, CKA_ID, id, id_len);
}

/* The public key object sharing the CKA_ID, as an OpenSSL key. */
static uint32_t key_public(struct gp11_token *tok, const char *label,
                           const void *id, size_t id_len, EVP_PKEY **out)
{
    struct gp11_object *found = NULL;
    void *a = NULL, *b = NULL;
    CK_ULONG la = 0, lb = 0;
    CK_KEY_TYPE *kt = NULL;
    CK_ULONG ktl = 0;
    size_t n = 0;
    uint32_t ret = find_by(tok, CKO_PUBLIC_KEY, NULL, id, id_len, &found, &n);

    if (ret == GP11_OK && n == 0)
        ret = gp11_err_set(GP11_ERR_IDENTITY_NOT_FOUND,
                           "key \"%s\" has no public key object with its "
                           "CKA_ID",
                           label);
    if (ret == GP11_OK)
        ret = gp11_object_get_attr(tok, &found[0], CKA_KEY_TYPE, (void **)&kt,
                                   &ktl);
    if (ret == GP11_OK && *kt == CKK_EC) {
        ret = gp11_object_get_attr(tok, &found[0], CKA_EC_PARAMS, &a, &la);
        if (ret == GP11_OK)
            ret = gp11_object_get_attr(tok, &found[0], CKA_EC_POINT, &b, &lb);
        if (ret == GP11_OK)
            ret = gp11_devca_pubkey_ec(a, la, b, lb, out);
    } else if (ret == GP11_OK) {
        ret = gp11_object_get_attr(tok, &found[0], CKA_MODULUS, &a, &la);
        if (ret == GP11_OK)
            ret = gp11_object_get_attr(tok, &found[0], CKA_PUBLIC_EXPONENT, &b,
                                       &lb);
        if (ret == GP11_OK)
            ret = gp11_devca_pubkey_rsa(a, la, b, lb, out);
    }
    free(kt);
    free(a);
    free(b);
    free(found);
    return ret;
}

/* Generates the key pair in the token: token objects, sign-only. */
static uint32_t generate(struct gp11_token *tok, const char *label,
                         const char *type, const unsigned char *id,
                         const unsigned char *subj, int subj_len,
                         struct gp11_object *pub, struct gp11_object *priv)
{
    /* DER of the prime256v1 and secp384r1 OIDs. */
    static const unsigned char p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
    static const unsigned char p384[] = {0x06, 0x05, 0x2b, 0x81,
                                         0x04, 0x00, 0x22};
    static const unsigned char f4[] = {0x01, 0x00, 0x01};
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG bits = 3072;
    bool rsa = strcmp(type, "rsa-3072") == 0;
    CK_MECHANISM ec = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_MECHANISM rsam = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_t[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_VERIFY, &yes, sizeof(yes)},
        {CKA_ID, (void *)id, ID_LEN},
        {CKA_LABEL, (void *)label, strlen(label)},
        {CKA_SUBJECT, (void *)subj, (CK_ULONG)subj_len},
        rsa ? (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)}
        : strcmp(type, "ec-p384") == 0
            ? (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)p384, sizeof(p384)}
            : (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
        {CKA_PUBLIC_EXPONENT, (void *)f4, sizeof(f4)},
    };
    CK_ATTRIBUTE priv_t[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_SIGN, &yes, sizeof(yes)},
        {CKA_DERIVE, &no, sizeof(no)},
        {CKA_ID, (void *)id, ID_LEN},
        {CKA_LABEL, (void *)label, strlen(label)},
        {CKA_SUBJECT, (void *)subj, (CK_ULONG)subj_len},
        {CKA_DECRYPT, &no, sizeof(no)},
        {CKA_UNWRAP, &no, sizeof(no)},
    };

    return gp11_object_generate_pair(tok, rsa ? &rsam : &ec, pub_t, rsa ? 7 : 6,
                                     priv_t, rsa ? 11 : 9, pub, priv);
}

/* Adds a GENERAL_NAME of type to gens: an IA5String, or for GEN_OTHERNAME
 * an otherName of type oid holding a string of str_type (the RFC 4985
 * SRVName: IA5String; a user name otherName such as the UPN: UTF8String). */
static bool push_name(GENERAL_NAMES *gens, int type, const char *oid_txt,
                      int str_type, const char *s)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *v = ASN1_STRING_type_new(
        type == GEN_OTHERNAME ? str_type : V_ASN1_IA5STRING);
    ASN1_TYPE *any = NULL;

    if (g == NULL || v == NULL || !ASN1_STRING_set(v, s, (int)strlen(s)))
        goto fail;
    if (type == GEN_OTHERNAME) {
        ASN1_OBJECT *oid = OBJ_txt2obj(oid_txt, 1);

        any = ASN1_TYPE_new();
        if (oid == NULL || any == NULL) {
            ASN1_OBJECT_free(oid);
            goto fail;
        }
        ASN1_TYPE_set(any, str_type, v);
        v = NULL;
        if (!GENERAL_NAME_set0_othername(g, oid, any)) {
            ASN1_OBJECT_free(oid);
            goto fail;
        }
        any = NULL;
    } else {
        GENERAL_NAME_set0_value(g, type, v);
        v = NULL;
    }
    if (!sk_GENERAL_NAME_push(gens, g))
        goto fail;
    return true;
fail:
    ASN1_TYPE_free(any);
    ASN1_STRING_free(v);
    GENERAL_NAME_free(g);
    return false;
}

/* The role's profile as requested extensions (devca.c issues the same). */
static bool add_profile(X509_REQ *req, const struct role *r,
                        const char *user_san)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    X509_EXTENSION *e;
    char srv[520];
    bool ok = false;

    if (exts == NULL || gens == NULL)
        goto done;
    e = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
                            "critical,digitalSignature");
    if (e == NULL || !sk_X509_EXTENSION_push(exts, e))
        goto done;
    e = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage,
                            r->service ? "serverAuth" : "clientAuth");
    if (e == NULL || !sk_X509_EXTENSION_push(exts, e))
        goto done;
    if (r->service) {
        snprintf(srv, sizeof(srv), "_%s.%s", r->name, r->host);
        if (!push_name(gens, GEN_DNS, NULL, 0, r->host) ||
            !push_name(gens, GEN_OTHERNAME, GP11_OID_SRVNAME, V_ASN1_IA5STRING,
                       srv))
            goto done;
    } else if (user_san != NULL) {
        /* [policy] user-name-san: the otherName the peers read. */
        if (!push_name(gens, GEN_OTHERNAME, user_san, V_ASN1_UTF8STRING,
                       r->name))
            goto done;
    } else if (!push_name(gens, GEN_EMAIL, NULL, 0, r->name)) {
        goto done;
    }
    e = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    if (e == NULL || !sk_X509_EXTENSION_push(exts, e))
        goto done;
    ok = X509_REQ_add_extensions(req, exts) == 1;
done:
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok;
}

/* Signs the request's TBS part with the token key (C_Sign). */
static uint32_t sign_request(struct gp11_token *tok, struct gp11_object *key,
                             EVP_PKEY *pub, X509_REQ *req)
{
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_MECHANISM rsa = {CKM_SHA256_RSA_PKCS, NULL, 0};
    bool is_rsa = EVP_PKEY_base_id(pub) == EVP_PKEY_RSA;
    bool p384 = !is_rsa && EVP_PKEY_get_bits(pub) == 384;
    unsigned char *tbs = NULL, md[64], sig[1024], *der = NULL;
    unsigned int md_len = 0;
    size_t sig_len = sizeof(sig), half;
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_BIT_STRING *bits = ASN1_BIT_STRING_new();
    ECDSA_SIG *es = NULL;
    uint32_t ret = GP11_OK;
    int tbs_len, der_len = 0;

    tbs_len = i2d_re_X509_REQ_tbs(req, &tbs);
    if (tbs_len <= 0 || alg == NULL || bits == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "cannot encode the request");
        goto done;
    }
    if (is_rsa) {
        ret = gp11_sign(tok, &rsa, key, tbs, (size_t)tbs_len, sig, &sig_len);
        if (ret != GP11_OK)
            goto done;
        X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256WithRSAEncryption),
                        V_ASN1_NULL, NULL);
        der = OPENSSL_memdup(sig, sig_len);
        der_len = (int)sig_len;
    } else {
        if (!EVP_Digest(tbs, (size_t)tbs_len, md, &md_len,
                        p384 ? EVP_sha384() : EVP_sha256(), NULL)) {
            ret = gp11_err_set(GP11_ERR_INTERNAL, "cannot hash the request");
            goto done;
        }
        ret = gp11_sign(tok, &ecdsa, key, md, md_len, sig, &sig_len);
        if (ret != GP11_OK)
            goto done;
        half = sig_len / 2;
        es = ECDSA_SIG_new();
        if (es == NULL ||
            !ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL),
                            BN_bin2bn(sig + half, (int)half, NULL))) {
            ret = gp11_err_set(GP11_ERR_NOMEM, "cannot encode the signature");
            goto done;
        }
        der_len = i2d_ECDSA_SIG(es, &der);
        X509_ALGOR_set0(
            alg,
            OBJ_nid2obj(p384 ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA256),
            V_ASN1_UNDEF, NULL);
    }
    if (der == NULL || der_len <= 0 ||
        !ASN1_BIT_STRING_set(bits, der, der_len)) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "cannot encode the signature");
        goto done;
    }
    bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
    if (!X509_REQ_set1_signature_algo(req, alg)) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "cannot set the algorithm");
        goto done;
    }
    X509_REQ_set0_signature(req, bits);
    bits = NULL;
    /* A request the token signed wrongly must never leave. */
    if (X509_REQ_verify(req, pub) != 1)
        ret = gp11_err_set(GP11_ERR_SIGNATURE,
                           "the token's signature of the request does not "
                           "verify with its public key");
done:
    OPENSSL_free(tbs);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    X509_ALGOR_free(alg);
    ASN1_BIT_STRING_free(bits);
    return ret;
}

/* Builds the PEM request for the key pair; *pem is malloc'ed. */
static uint32_t make_request(struct gp11_token *tok, struct gp11_object *priv,
                             EVP_PKEY *pub, const struct role *r,
                             const char *user_san, unsigned char **der,
                             int *der_len)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *subj = X509_NAME_new();
    char cn[520];
    uint32_t ret;

    if (r->service)
        snprintf(cn, sizeof(cn), "%s@%s", r->name, r->host);
    else
        snprintf(cn, sizeof(cn), "%s", r->name);
    if (req == NULL || subj == NULL || !X509_REQ_set_version(req, 0) ||
        !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_REQ_set_subject_name(req, subj) ||
        !X509_REQ_set_pubkey(req, pub) || !add_profile(req, r, user_san)) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "cannot build the request");
        goto done;
    }
    ret = sign_request(tok, priv, pub, req);
    if (ret == GP11_OK) {
        *der = NULL;
        *der_len = i2d_X509_REQ(req, der);
        if (*der_len <= 0)
            ret = gp11_err_set(GP11_ERR_NOMEM, "cannot encode the request");
    }
done:
    X509_NAME_free(subj);
    X509_REQ_free(req);
    return ret;
}

/*
 * The request's record, kept in CKA_SUBJECT of both keys (NSS's softoken
 * refuses token data objects): the DER of "CN=<S@H or U>, OU=<REQ_OU_*>",
 * so that import-cert and list know the role asked for.
 */
static uint32_t role_subject(const struct role *r, unsigned char **der,
                             int *len)
{
    X509_NAME *n = X509_NAME_new();
    char cn[520];
    const char *ou = r->service ? REQ_OU_SERVICE : REQ_OU_USER;

    if (r->service)
        snprintf(cn, sizeof(cn), "%s@%s", r->name, r->host);
    else
        snprintf(cn, sizeof(cn), "%s", r->name);
    *der = NULL;
    *len = 0;
    if (n != NULL &&
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) &&
        X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
                                   (const unsigned char *)ou, -1, -1, 0))
        *len = i2d_X509_NAME(n, der);
    X509_NAME_free(n);
    if (*len <= 0)
        return gp11_err_set(GP11_ERR_NOMEM, "cannot encode the subject");
    return GP11_OK;
}

/* Writes the request as PEM to path (or standard output). */
static uint32_t write_request(const char *path, const unsigned char *der,
                              int len)
{
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, len);
    FILE *f = path ? fopen(path, "w") : stdout;
    uint32_t ret = GP11_OK;

    if (req == NULL || f == NULL || PEM_write_X509_REQ(f, req) != 1)
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "cannot write the request to %s",
                           path ? path : "standard output");
    if (f != NULL && f != stdout && fclose(f) != 0 && ret == GP11_OK)
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "cannot write %s", path);
    X509_REQ_free(req);
    return ret;
}

/* gssp11 identity new. */
static uint32_t cmd_new(struct gp11_token *tok, const char *label,
                        const struct role *r, const char *type,
                        const char *user_san, const char *out)
{
    struct gp11_object *found = NULL, pub, priv;
    struct gssp11_progress progress = {0};
    unsigned char id[ID_LEN], *der = NULL, *subj = NULL;
    EVP_PKEY *key = NULL;
    size_t n = 0;
    int der_len = 0, subj_len = 0;
    uint32_t ret;

    if (strcmp(type, "ec-p256") && strcmp(type, "ec-p384") &&
        strcmp(type, "rsa-3072"))
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "--key is ec-p256, ec-p384 or rsa-3072, not '%s'",
                            type);
    ret = find_by(tok, CKO_PRIVATE_KEY, label, NULL, 0, &found, &n);
    free(found);
    if (ret == GP11_OK && n > 0)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "a private key labelled \"%s\" is already on the "
                            "token",
                            label);
    if (ret == GP11_OK)
        ret = gp11_random(tok, id, sizeof(id));
    if (ret == GP11_OK)
        ret = role_subject(r, &subj, &subj_len);
    /* On a terminal: the key pair (seconds for RSA), then the request. */
    gssp11_progress_start(&progress, "identity new", 2);
    gssp11_progress_step(&progress, "key pair %s (%s)", label, type);
    if (ret == GP11_OK)
        ret = generate(tok, label, type, id, subj, subj_len, &pub, &priv);
    if (ret != GP11_OK)
        goto done;
    ret = key_public(tok, label, id, sizeof(id), &key);
    gssp11_progress_step(&progress, "certificate request %s", out);
    if (ret == GP11_OK)
        ret = make_request(tok, &priv, key, r, user_san, &der, &der_len);
    if (ret == GP11_OK)
        ret = write_request(out, der, der_len);
    /* No key pair without its request: a second try may use the label. */
    if (ret != GP11_OK) {
        gp11_object_destroy(tok, &priv);
        gp11_object_destroy(tok, &pub);
    }
done:
    gssp11_progress_end(&progress);
    OPENSSL_free(der);
    OPENSSL_free(subj);
    EVP_PKEY_free(key);
    return ret;
}

/* The role asked for by identity new (the key's CKA_SUBJECT); false if
 * the key was not made so. */
static bool stored_role(struct gp11_token *tok, struct gp11_object *key,
                        struct role *r)
{
    char cn[520] = "", ou[64] = "";
    const unsigned char *p;
    X509_NAME *n = NULL;
    void *der = NULL;
    CK_ULONG len = 0;
    bool ok = false;
    char *at;

    memset(r, 0, sizeof(*r));
    if (gp11_object_get_attr(tok, key, CKA_SUBJECT, &der, &len) != GP11_OK ||
        len == 0)
        goto done;
    p = der;
    n = d2i_X509_NAME(NULL, &p, (long)len);
    if (n == NULL ||
        X509_NAME_get_text_by_NID(n, NID_commonName, cn, sizeof(cn)) <= 0 ||
        X509_NAME_get_text_by_NID(n, NID_organizationalUnitName, ou,
                                  sizeof(ou)) <= 0)
        goto done;
    if (strcmp(ou, REQ_OU_SERVICE) == 0) {
        at = strchr(cn, '@');
        if (at == NULL || (size_t)(at - cn) >= sizeof(r->name) ||
            strlen(at + 1) >= sizeof(r->host))
            goto done;
        r->service = true;
        memcpy(r->name, cn, (size_t)(at - cn));
        strcpy(r->host, at + 1);
        ok = true;
    } else if (strcmp(ou, REQ_OU_USER) == 0 && strlen(cn) < sizeof(r->name)) {
        strcpy(r->name, cn);
        ok = true;
    }
done:
    if (!ok)
        memset(r, 0, sizeof(*r));
    X509_NAME_free(n);
    free(der);
    return ok;
}

/* The role a certificate's EKU makes it fit (for keys without request). */
static bool cert_role(X509 *x, struct role *r)
{
    GENERAL_NAMES *gens;
    uint32_t xku = X509_get_extended_key_usage(x);

    memset(r, 0, sizeof(*r));
    r->service = (xku & XKU_SSL_SERVER) != 0;
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        ASN1_OBJECT *oid;
        ASN1_TYPE *v;

        if (g->type == GEN_EMAIL && !r->service)
            snprintf(r->name, sizeof(r->name), "%.*s",
                     ASN1_STRING_length(g->d.rfc822Name),
                     (const char *)ASN1_STRING_get0_data(g->d.rfc822Name));
        else if (g->type == GEN_OTHERNAME && r->service &&
                 GENERAL_NAME_get0_otherName(g, &oid, &v) &&
                 OBJ_obj2nid(oid) == NID_SRVName &&
                 v->type == V_ASN1_IA5STRING) {
            const char *s =
                (const char *)ASN1_STRING_get0_data(v->value.ia5string);
            const char *dot = strchr(s, '.');

            if (s[0] == '_' && dot && (size_t)(dot - s - 1) < sizeof(r->name) &&
                strlen(dot + 1) < sizeof(r->host)) {
                memcpy(r->name, s + 1, (size_t)(dot - s - 1));
                strcpy(r->host, dot + 1);
            }
        }
    }
    GENERAL_NAMES_free(gens);
    return r->name[0] != '\0';
}

/* The subject of x as one line, into buf. */
static const char *subject_of(X509 *x, char *buf, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    buf[0] = '\0';
    if (b != NULL && X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
                                        XN_FLAG_RFC2253) >= 0) {
        n = BIO_read(b, buf, (int)len - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
    return buf;
}

/*
 * The checks of import-cert and list, in this order: the certificate holds
 * the key's public key; its profile suits the role (keyUsage, EKU, dNSName
 * and SRVName of a service, rfc822Name of a user); it chains to the
 * anchors of its role (core/certval.c, as a peer would judge it).
 */
static uint32_t check_cert(const struct gp11_config *cfg, const char *label,
                           EVP_PKEY *key, const struct role *r, X509 *leaf,
                           X509 **chain, size_t n_chain)
{
    struct gp11_buf bufs[GP11_CERTVAL_MAX_CHAIN];
    unsigned char *ders[GP11_CERTVAL_MAX_CHAIN] = {0};
    struct gp11_trust *trust = NULL;
    char subj[256];
    size_t n = 0;
    uint32_t ret = GP11_OK;
    int len;

    subject_of(leaf, subj, sizeof(subj));
    if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1)
        return gp11_err_set(GP11_ERR_CERT_INVALID,
                            "certificate \"%s\" does not match key \"%s\" "
                            "(it holds another public key)",
                            subj, label);
    if (!(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
        return gp11_err_set(GP11_ERR_CERT_USAGE,
                            "certificate \"%s\" lacks keyUsage "
                            "digitalSignature",
                            subj);
    if (!(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) ||
        !(X509_get_extended_key_usage(leaf) &
          (r->service ? XKU_SSL_SERVER : XKU_SSL_CLIENT)))
        return gp11_err_set(GP11_ERR_CERT_USAGE,
                            "certificate \"%s\" lacks extendedKeyUsage %s, "
                            "which the %s identity \"%s\" needs",
                            subj, r->service ? "serverAuth" : "clientAuth",
                            r->service ? "service" : "user", label);
    if (r->service) {
        if (X509_check_host(leaf, r->host, 0,
                            X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                            NULL) != 1)
            return gp11_err_set(GP11_ERR_CERT_HOSTNAME,
                                "certificate \"%s\" lacks the dNSName %s", subj,
                                r->host);
        ret = gp11_certval_service(leaf, r->name, r->host);
        if (ret != GP11_OK)
            return ret;
    } else {
        /* The user name the peers will read (docs/names.md). */
        struct gp11_name *nm = NULL;
        const char *san = user_san_oid(cfg);
        bool same = gp11_name_from_cert_ex(leaf, false, NULL, false, NULL, san,
                                           &nm) == GP11_OK &&
                    gp11_name_kind(nm) == GP11_NAME_USER &&
                    strcmp(gp11_name_text(nm), r->name) == 0;

        gp11_name_free(nm);
        if (!same)
            return gp11_err_set(
                GP11_ERR_CERT_HOSTNAME, "certificate \"%s\" lacks the %s %s",
                subj, san ? "user name otherName" : "rfc822Name", r->name);
    }
    ret = gp11_trust_load_roles(cfg->trust_anchors, cfg->initiator_anchors,
                                cfg->acceptor_anchors, NULL, &trust);
    if (ret == GP11_OK && trust == NULL)
        ret = gp11_err_set(GP11_ERR_CERT_UNTRUSTED,
                           "no trust anchors are configured ([trust] anchors "
                           "in %s)",
                           cfg->path);
    if (ret != GP11_OK)
        goto done;
    for (size_t i = 0; i <= n_chain && n < GP11_CERTVAL_MAX_CHAIN; i++) {
        X509 *x = i == 0 ? leaf : chain[i - 1];

        /* Roots are the anchors' business, never sent (pkcs11/chain.c). */
        if (i > 0 && (X509_get_extension_flags(x) & EXFLAG_SS))
            continue;
        ders[n] = NULL;
        len = i2d_X509(x, &ders[n]);
        if (len <= 0) {
            ret = gp11_err_set(GP11_ERR_CERT_INVALID, "cannot encode");
            goto done;
        }
        bufs[n].data = ders[n];
        bufs[n].len = (size_t)len;
        n++;
    }
    ret = gp11_certval_verify(
        trust, bufs, n, r->service ? GP11_PEER_ACCEPTOR : GP11_PEER_INITIATOR,
        r->service ? r->host : NULL, time(NULL), NULL, NULL);
done:
    for (size_t i = 0; i < n; i++)
        OPENSSL_free(ders[i]);
    gp11_trust_free(trust);
    return ret;
}

/* Reads every certificate of a PEM file (at most max). */
static uint32_t read_pem_certs(const char *path, X509 **out, size_t max,
                               size_t *n)
{
    FILE *f = fopen(path, "r");
    X509 *x;

    *n = 0;
    if (f == NULL)
        return gp11_err_set(GP11_ERR_CONFIG_MISSING, "cannot read %s", path);
    while (*n < max && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        out[(*n)++] = x;
    fclose(f);
    if (*n == 0)
        return gp11_err_set(GP11_ERR_CERT_INVALID,
                            "%s holds no PEM certificate", path);
    return GP11_OK;
}

/* Stores one certificate with the key's CKA_ID and label. */
static uint32_t store_cert(struct gp11_token *tok, const char *label,
                           const void *id, size_t id_len, X509 *x)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
    size_t ls, li, lr;
    struct gp11_object obj;
    int len = i2d_X509(x, &der);
    uint32_t ret;

    if (len <= 0)
        return gp11_err_set(GP11_ERR_CERT_INVALID, "cannot encode");
    ret = gp11_devca_cert_fields(der, (size_t)len, &subj, &ls, &iss, &li, &ser,
                                 &lr);
    if (ret == GP11_OK) {
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_CERTIFICATE_TYPE, &x509, sizeof(x509)},
            {CKA_TOKEN, &yes, sizeof(yes)},
            {CKA_PRIVATE, &no, sizeof(no)},
            {CKA_ID, (void *)id, id_len},
            {CKA_LABEL, (void *)label, strlen(label)},
            {CKA_SUBJECT, subj, ls},
            {CKA_ISSUER, iss, li},
            {CKA_SERIAL_NUMBER, ser, lr},
            {CKA_VALUE, der, (CK_ULONG)len},
        };
        ret = gp11_object_create(tok, t, sizeof(t) / sizeof(t[0]), &obj);
    }
    OPENSSL_free(der);
    free(subj);
    free(iss);
    free(ser);
    return ret;
}

/* gssp11 identity import-cert. */
static uint32_t cmd_import(const struct gp11_config *cfg,
                           struct gp11_token *tok, const char *label,
                           const char *cert_path, const char *chain_path)
{
    X509 *leaf[1] = {NULL}, *chain[GP11_CERTVAL_MAX_CHAIN] = {0};
    struct gp11_object *certs = NULL, key;
    size_t n_leaf = 0, n_chain = 0, n_certs = 0, stored = 0;
    EVP_PKEY *pub = NULL;
    void *id = NULL;
    CK_ULONG id_len = 0;
    struct role r;
    uint32_t ret;

    ret = find_key(tok, label, &key, &id, &id_len);
    if (ret == GP11_OK)
        ret = key_public(tok, label, id, id_len, &pub);
    if (ret == GP11_OK)
        ret = read_pem_certs(cert_path, leaf, 1, &n_leaf);
    if (ret == GP11_OK && chain_path != NULL)
        ret = read_pem_certs(chain_path, chain, GP11_CERTVAL_MAX_CHAIN - 1,
                             &n_chain);
    if (ret != GP11_OK)
        goto done;
    if (!stored_role(tok, &key, &r) && !cert_role(leaf[0], &r)) {
        ret = gp11_err_set(GP11_ERR_CERT_USAGE,
                           "key \"%s\" was not made by gssp11 identity new "
                           "and the certificate names no service or user",
                           label);
        goto done;
    }
    ret = check_cert(cfg, label, pub, &r, leaf[0], chain, n_chain);
    if (ret != GP11_OK)
        goto done;
    ret = find_by(tok, CKO_CERTIFICATE, NULL, id, id_len, &certs, &n_certs);
    if (ret == GP11_OK && n_certs > 0)
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "key \"%s\" already has %zu certificate(s) with its "
                           "CKA_ID; delete them first",
                           label, n_certs);
    if (ret == GP11_OK)
        ret = store_cert(tok, label, id, id_len, leaf[0]);
    /* The CA certificates below the root, labelled L-ca, L-ca2, ... (NSS
     * wants one subject per label); roots are the peers' anchors, never
     * sent (pkcs11/chain.c), so they are not stored. */
    for (size_t i = 0; ret == GP11_OK && i < n_chain; i++) {
        char ca_label[300];

        if (X509_get_extension_flags(chain[i]) & EXFLAG_SS)
            continue;
        if (stored == 0)
            snprintf(ca_label, sizeof(ca_label), "%s-ca", label);
        else
            snprintf(ca_label, sizeof(ca_label), "%s-ca%zu", label, stored + 1);
        ret = store_cert(tok, ca_label, id, id_len, chain[i]);
        stored++;
    }
    if (ret == GP11_OK)
        printf("stored the certificate of \"%s\" and %zu CA certificate(s)\n",
               label, stored);
done:
    X509_free(leaf[0]);
    for (size_t i = 0; i < n_chain; i++)
        X509_free(chain[i]);
    EVP_PKEY_free(pub);
    free(certs);
    free(id);
    return ret;
}

/* Prints the SANs of x on one line. */
static void print_sans(X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    const char *sep = "";

    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        ASN1_OBJECT *oid;
        ASN1_TYPE *v;

        if (g->type == GEN_DNS || g->type == GEN_EMAIL)
            printf("%s%s:%.*s", sep, g->type == GEN_DNS ? "DNS" : "email",
                   ASN1_STRING_length(g->d.ia5),
                   (const char *)ASN1_STRING_get0_data(g->d.ia5));
        else if (g->type == GEN_OTHERNAME &&
                 GENERAL_NAME_get0_otherName(g, &oid, &v) &&
                 OBJ_obj2nid(oid) == NID_SRVName && v->type == V_ASN1_IA5STRING)
            printf("%sSRVName:%.*s", sep,
                   ASN1_STRING_length(v->value.ia5string),
                   (const char *)ASN1_STRING_get0_data(v->value.ia5string));
        else
            printf("%s(other)", sep);
        sep = ", ";
    }
    printf("%s\n", *sep ? "" : "none");
    GENERAL_NAMES_free(gens);
}

/* One identity of list: role, subject, SANs, expiry, problems. */
static unsigned list_one(const struct gp11_config *cfg, struct gp11_token *tok,
                         struct gp11_object *key)
{
    struct gp11_object *certs = NULL;
    char *label = NULL, subj[256];
    void *id = NULL, *der = NULL;
    CK_ULONG id_len = 0, len = 0, ll = 0;
    CK_BBOOL *b = NULL;
    CK_ULONG bl = 0;
    X509 *leaf = NULL, *chain[GP11_CERTVAL_MAX_CHAIN] = {0};
    size_t n_certs = 0, n_chain = 0;
    EVP_PKEY *pub = NULL;
    struct role r;
    bool have_req;
    unsigned bad = 0;
    uint32_t ret;

    if (gp11_object_get_attr(tok, key, CKA_LABEL, (void **)&label, &ll) !=
            GP11_OK ||
        gp11_object_get_attr(tok, key, CKA_ID, &id, &id_len) != GP11_OK) {
        free(label);
        return 0; /* not an identity key of ours to judge */
    }
    {
        char *l = realloc(label, ll + 1);

        if (l == NULL)
            goto done;
        label = l;
        label[ll] = '\0';
    }
    have_req = stored_role(tok, key, &r);
    find_by(tok, CKO_CERTIFICATE, NULL, id, id_len, &certs, &n_certs);
    for (size_t i = 0; i < n_certs; i++) {
        const unsigned char *p;
        X509 *x;

        if (gp11_object_get_attr(tok, &certs[i], CKA_VALUE, &der, &len) !=
            GP11_OK)
            continue;
        p = der;
        x = d2i_X509(NULL, &p, (long)len);
        free(der);
        der = NULL;
        if (x == NULL)
            continue;
        if (leaf == NULL && !(X509_check_ca(x) > 0 && n_certs > 1))
            leaf = x;
        else if (n_chain < GP11_CERTVAL_MAX_CHAIN - 1)
            chain[n_chain++] = x;
        else
            X509_free(x);
    }
    if (!have_req && leaf != NULL)
        cert_role(leaf, &r);
    printf("%s\n  role:     ", label);
    if (r.name[0] == '\0')
        printf("unknown\n");
    else if (r.service)
        printf("service %s@%s (acceptor)\n", r.name, r.host);
    else
        printf("user %s (initiator)\n", r.name);
    if (leaf != NULL) {
        char expiry[64] = "";
        const ASN1_TIME *na = X509_get0_notAfter(leaf);
        struct tm tm;

        if (ASN1_TIME_to_tm(na, &tm))
            strftime(expiry, sizeof(expiry), "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("  subject:  %s\n  SANs:     ",
               subject_of(leaf, subj, sizeof(subj)));
        print_sans(leaf);
        printf("  expires:  %s\n", expiry);
    }
    printf("  status:   ");
    if (gp11_object_get_attr(tok, key, CKA_EXTRACTABLE, (void **)&b, &bl) ==
            GP11_OK &&
        bl == 1 && *b) {
        printf("key is extractable (CKA_EXTRACTABLE=TRUE); ");
        bad++;
    }
    free(b);
    b = NULL;
    if (gp11_object_get_attr(tok, key, CKA_SENSITIVE, (void **)&b, &bl) ==
            GP11_OK &&
        bl == 1 && !*b) {
        printf("key is not sensitive (CKA_SENSITIVE=FALSE); ");
        bad++;
    }
    if (leaf == NULL) {
        printf("no certificate%s\n",
               have_req ? " (made by identity new; import-cert the CA's answer)"
                        : "");
        bad++;
        goto done;
    }
    ret = key_public(tok, label, id, id_len, &pub);
    if (ret == GP11_OK && r.name[0] == '\0')
        ret = gp11_err_set(GP11_ERR_CERT_USAGE,
                           "the certificate names no service or user");
    if (ret == GP11_OK)
        ret = check_cert(cfg, label, pub, &r, leaf, chain, n_chain);
    if (ret == GP11_OK) {
        printf(bad ? "certificate ok\n" : "ok\n");
    } else {
        printf("%s\n", gp11_err_message(ret));
        bad++;
    }
done:
    X509_free(leaf);
    for (size_t i = 0; i < n_chain; i++)
        X509_free(chain[i]);
    EVP_PKEY_free(pub);
    free(b);
    free(certs);
    free(label);
    free(id);
    return bad ? 1 : 0;
}

/* gssp11 identity list: every private key on the token. */
static uint32_t cmd_list(const struct gp11_config *cfg, struct gp11_token *tok,
                         unsigned *bad)
{
    struct gp11_object *keys = NULL;
    size_t n = 0;
    uint32_t ret = find_by(tok, CKO_PRIVATE_KEY, NULL, NULL, 0, &keys, &n);

    if (ret != GP11_OK)
        return ret;
    printf("Identities on the token: %zu\n", n);
    for (size_t i = 0; i < n; i++)
        *bad += list_one(cfg, tok, &keys[i]);
    free(keys);
    return GP11_OK;
}

int gssp11_cmd_identity(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"label", required_argument, 0, 'l'},
                                         {"service", required_argument, 0, 's'},
                                         {"user", required_argument, 0, 'u'},
                                         {"key", required_argument, 0, 'k'},
                                         {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = NULL, *label = NULL, *service = NULL, *user = NULL;
    const char *type = "ec-p256", *out = NULL, *verb;
    struct gp11_config *cfg = NULL;
    struct gp11_token *tok = NULL;
    struct role r;
    unsigned bad = 0;
    uint32_t ret;
    int c;

    if (argc >= 2 && argv[1][0] != '-') {
        verb = argv[1];
        argc--;
        argv++;
    } else {
        verb = NULL;
    }
    while ((c = getopt_long(argc, argv, "c:l:s:u:k:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'l':
            label = optarg;
            break;
        case 's':
            service = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 'k':
            type = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            identity_usage(stdout);
            return 0;
        default:
            identity_usage(stderr);
            return 2;
        }
    }
    if (verb == NULL ||
        (strcmp(verb, "new") && strcmp(verb, "import-cert") &&
         strcmp(verb, "list")) ||
        (strcmp(verb, "list") && label == NULL) ||
        (strcmp(verb, "import-cert") == 0 &&
         (optind >= argc || argc - optind > 2)) ||
        (strcmp(verb, "import-cert") && optind != argc)) {
        identity_usage(stderr);
        return 2;
    }
    if (strcmp(verb, "new") == 0) {
        ret = parse_role(service, user, &r);
        if (ret != GP11_OK)
            return gssp11_fail(ret);
    }
    ret = gp11_config_load(path, &cfg);
    if (ret == GP11_OK)
        ret = open_token(cfg, &tok);
    if (ret == GP11_OK && strcmp(verb, "new") == 0)
        ret = cmd_new(tok, label, &r, type, user_san_oid(cfg), out);
    else if (ret == GP11_OK && strcmp(verb, "import-cert") == 0)
        ret = cmd_import(cfg, tok, label, argv[optind],
                         argc - optind == 2 ? argv[optind + 1] : NULL);
    else if (ret == GP11_OK)
        ret = cmd_list(cfg, tok, &bad);
    gp11_token_close(tok);
    gp11_config_free(cfg);
    if (ret != GP11_OK)
        return gssp11_fail(ret);
    return bad ? 1 : 0;
}
