/* SPDX-License-Identifier: Apache-2.0 */
/* Development CA: certificates for public keys that live in a token. */
#include "devca.h"
#include "gp11_error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define SERIAL_LEN 16
#define CA_MAX_DAYS 36500
#define CA_BACKDATE (-3600L)
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define RSA_MAX_E_BITS 64
#define ATTR_MAX 4096 /* sanity bound on attribute values we parse */
#define DNS_MAX 253
#define EMAIL_MAX 254

struct gp11_devca {
    EVP_PKEY *key;
    X509 *cert;
};

/* The curves we accept for identity keys. */
struct curve {
    int nid;
    const char *label;
    size_t point_len; /* uncompressed point: 1 + 2 * field bytes */
};

static const struct curve curves[] = {
    {NID_X9_62_prime256v1, "P-256", 65},
    {NID_secp384r1, "P-384", 97},
};

/* Records code with a sentence ending in the first queued OpenSSL error. */
static uint32_t ossl_err(uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static uint32_t ossl_err(uint32_t code, const char *fmt, ...)
{
    unsigned long e = ERR_get_error();
    char what[512];
    char why[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (e != 0)
        ERR_error_string_n(e, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "no OpenSSL error detail");
    ERR_clear_error();
    return gp11_err_set(code, "%s: %s", what, why);
}

/* True if s is a DNS name we put in a SAN: LDH labels, optional "*." head. */
static bool valid_dns(const char *s)
{
    size_t len = strlen(s);
    size_t label = 0;
    size_t i;

    if (len == 0 || len > DNS_MAX)
        return false;
    if (strncmp(s, "*.", 2) == 0)
        s += 2;
    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && label == 0)
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0 && s[i - 1] != '-';
}

/* True if s can be the service of a SRVName: 1-63 printable ASCII
 * characters other than space, '.' and '@'. */
static bool valid_service(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '.' || s[i] == '@')
            return false;
    return i > 0 && i <= 63;
}

/* True if s looks like a mail address: printable ASCII, one inner '@'. */
static bool valid_email(const char *s)
{
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    size_t i;

    if (len < 3 || len > EMAIL_MAX || at == NULL || at == s || at[1] == '\0' ||
        strchr(at + 1, '@') != NULL)
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    }
    return true;
}

/* Sets a random positive serial of exactly SERIAL_LEN content bytes. */
static uint32_t set_serial(X509 *x)
{
    unsigned char buf[SERIAL_LEN];
    ASN1_INTEGER *sn = NULL;
    uint32_t ret = GP11_OK;

    if (RAND_bytes(buf, sizeof(buf)) != 1) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot draw a random serial");
        goto done;
    }
    /* Top bit clear keeps it positive, the next one set keeps 16 bytes. */
    buf[0] = (unsigned char)((buf[0] & 0x3f) | 0x40);
    sn = ASN1_INTEGER_new();
    if (sn == NULL || ASN1_STRING_set(sn, buf, sizeof(buf)) != 1 ||
        X509_set_serialNumber(x, sn) != 1) {
        ret = ossl_err(GP11_ERR_NOMEM, "cannot set the serial number");
        goto done;
    }
done:
    ASN1_INTEGER_free(sn);
    return ret;
}

/*
 * Fills version, serial, names, validity (relative to now) and public key.
 * issuer NULL means self-issued.
 */
static uint32_t fill_cert(X509 *x, const char *cn, const X509_NAME *issuer,
                          EVP_PKEY *key, long nb_sec, int na_days, long na_sec)
{
    X509_NAME *subject = NULL;
    time_t now = time(NULL);
    uint32_t ret = GP11_OK;

    if (X509_set_version(x, X509_VERSION_3) != 1) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot set the version");
        goto done;
    }
    ret = set_serial(x);
    if (ret != GP11_OK)
        goto done;
    subject = X509_NAME_new();
    if (subject == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a name");
        goto done;
    }
    if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1) {
        ret = ossl_err(GP11_ERR_BAD_ARG, "cannot use \"%s\" as CN", cn);
        goto done;
    }
    if (X509_set_subject_name(x, subject) != 1 ||
        X509_set_issuer_name(x, issuer != NULL ? issuer : subject) != 1) {
        ret = ossl_err(GP11_ERR_NOMEM, "cannot set the names");
        goto done;
    }
    if (X509_time_adj_ex(X509_getm_notBefore(x), 0, nb_sec, &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), na_days, na_sec, &now) ==
            NULL) {
        ret = ossl_err(GP11_ERR_BAD_ARG, "cannot set the validity period");
        goto done;
    }
    if (X509_set_pubkey(x, key) != 1) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot set the public key");
        goto done;
    }
done:
    X509_NAME_free(subject);
    return ret;
}

/* Adds extension nid built from an OpenSSL configuration-style value. */
static uint32_t add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext;
    uint32_t ret = GP11_OK;

    ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
    if (ext == NULL) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot build the %s extension",
                       OBJ_nid2sn(nid));
        goto done;
    }
    if (X509_add_ext(x, ext, -1) != 1) {
        ret = ossl_err(GP11_ERR_NOMEM, "cannot add the %s extension",
                       OBJ_nid2sn(nid));
        goto done;
    }
done:
    X509_EXTENSION_free(ext);
    return ret;
}

/* Appends a GEN_DNS or GEN_EMAIL general name holding IA5 text s[0..len),
 * or (type GEN_OTHERNAME) an RFC 4985 SRVName of that text. */
static uint32_t push_name(GENERAL_NAMES *gens, int type, const char *s,
                          size_t len)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    ASN1_OBJECT *oid = NULL;
    ASN1_TYPE *val = NULL;
    uint32_t ret = GP11_OK;

    if (gn == NULL || ia5 == NULL || ASN1_STRING_set(ia5, s, (int)len) != 1) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a SAN entry");
        goto done;
    }
    if (type == GEN_OTHERNAME) {
        oid = OBJ_txt2obj(GP11_DEVCA_OID_SRVNAME, 1);
        val = ASN1_TYPE_new();
        if (oid == NULL || val == NULL) {
            ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a SRVName");
            goto done;
        }
        ASN1_TYPE_set(val, V_ASN1_IA5STRING, ia5);
        ia5 = NULL;
        if (GENERAL_NAME_set0_othername(gn, oid, val) != 1) {
            ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a SRVName");
            goto done;
        }
        oid = NULL;
        val = NULL;
    } else {
        GENERAL_NAME_set0_value(gn, type, ia5);
        ia5 = NULL;
    }
    if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a SAN entry");
        goto done;
    }
    gn = NULL;
done:
    ASN1_OBJECT_free(oid);
    ASN1_TYPE_free(val);
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    return ret;
}

/* Adds subjectAltName with the profile's dNSName and rfc822Name. */
static uint32_t add_san(X509 *x, const struct gp11_devca_profile *p)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    uint32_t ret = GP11_OK;

    if (gens == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for the SAN");
        goto done;
    }
    if (p->dns_name != NULL) {
        ret = push_name(gens, GEN_DNS, p->dns_name, strlen(p->dns_name));
        if (ret != GP11_OK)
            goto done;
    }
    if (p->email != NULL) {
        ret = push_name(gens, GEN_EMAIL, p->email,
                        p->email_len != 0 ? p->email_len : strlen(p->email));
        if (ret != GP11_OK)
            goto done;
    }
    if (p->service != NULL) {
        char srv[DNS_MAX + 72];
        int n = snprintf(srv, sizeof(srv), "_%s.%s", p->service,
                         p->srv_host != NULL ? p->srv_host : p->dns_name);

        ret = push_name(gens, GEN_OTHERNAME, srv, (size_t)n);
        if (ret != GP11_OK)
            goto done;
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
                          X509V3_ADD_DEFAULT) != 1) {
        ret = ossl_err(GP11_ERR_INTERNAL,
                       "cannot add the subjectAltName extension");
        goto done;
    }
done:
    GENERAL_NAMES_free(gens);
    return ret;
}

/* Creates path with O_EXCL and mode, then writes key or cert as PEM. */
static uint32_t write_new_pem(const char *path, mode_t mode, EVP_PKEY *key,
                              X509 *cert)
{
    bool created = false;
    FILE *fp = NULL;
    uint32_t ret = GP11_OK;
    int err;
    int fd;
    int ok;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        err = errno;
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "%s %s: %s",
                           err == EEXIST ? "refusing to overwrite"
                                         : "cannot create",
                           path, strerror(err));
        goto done;
    }
    created = true;
    fp = fdopen(fd, "w");
    if (fp == NULL) {
        ret = gp11_err_set(GP11_ERR_INTERNAL, "cannot write %s: %s", path,
                           strerror(errno));
        close(fd);
        goto done;
    }
    if (key != NULL)
        ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
    else
        ok = PEM_write_X509(fp, cert);
    if (ok != 1) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot write %s", path);
        goto done;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        ret = gp11_err_set(GP11_ERR_INTERNAL, "cannot write %s: %s", path,
                           strerror(errno));
        goto done;
    }
done:
    if (fp != NULL && fclose(fp) != 0 && ret == GP11_OK)
        ret = gp11_err_set(GP11_ERR_INTERNAL, "cannot write %s: %s", path,
                           strerror(errno));
    if (ret != GP11_OK && created)
        unlink(path);
    return ret;
}

/* Releases the CA key and certificate. */
void gp11_devca_free(struct gp11_devca *ca)
{
    if (ca == NULL)
        return;
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    free(ca);
}

/* Makes a new P-256 CA and writes its key and certificate (O_EXCL). */
uint32_t gp11_devca_create(const char *cn, int days, const char *key_path,
                           const char *cert_path, struct gp11_devca **out)
{
    struct gp11_devca *ca = NULL;
    bool key_written = false;
    X509V3_CTX v3;
    uint32_t ret = GP11_OK;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || cn == NULL || *cn == '\0' || key_path == NULL ||
        cert_path == NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "devca_create needs a CN, two paths and an output");
        goto done;
    }
    if (days < 1 || days > CA_MAX_DAYS) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "CA validity of %d days is not within 1..%d", days,
                           CA_MAX_DAYS);
        goto done;
    }
    if (strcmp(key_path, cert_path) == 0) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "CA key and certificate cannot share the path %s",
                           key_path);
        goto done;
    }
    ERR_clear_error();
    ca = calloc(1, sizeof(*ca));
    if (ca == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for the CA");
        goto done;
    }
    ca->key = EVP_EC_gen("P-256");
    if (ca->key == NULL) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot generate the CA key");
        goto done;
    }
    ca->cert = X509_new();
    if (ca->cert == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for the CA cert");
        goto done;
    }
    ret = fill_cert(ca->cert, cn, NULL, ca->key, CA_BACKDATE, days, 0);
    if (ret != GP11_OK)
        goto done;
    X509V3_set_ctx(&v3, ca->cert, ca->cert, NULL, NULL, 0);
    ret = add_ext(ca->cert, &v3, NID_basic_constraints,
                  "critical,CA:TRUE,pathlen:0");
    if (ret == GP11_OK)
        ret = add_ext(ca->cert, &v3, NID_key_usage,
                      "critical,keyCertSign,cRLSign");
    if (ret == GP11_OK)
        ret = add_ext(ca->cert, &v3, NID_subject_key_identifier, "hash");
    if (ret == GP11_OK)
        ret = add_ext(ca->cert, &v3, NID_authority_key_identifier,
                      "keyid:always");
    if (ret != GP11_OK)
        goto done;
    if (X509_sign(ca->cert, ca->key, EVP_sha256()) <= 0) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot sign the CA certificate");
        goto done;
    }
    ret = write_new_pem(key_path, 0600, ca->key, NULL);
    if (ret != GP11_OK)
        goto done;
    key_written = true;
    ret = write_new_pem(cert_path, 0644, NULL, ca->cert);
    if (ret != GP11_OK)
        goto done;
    *out = ca;
    ca = NULL;
done:
    if (ret != GP11_OK && key_written)
        unlink(key_path);
    gp11_devca_free(ca);
    return ret;
}

/* PEM passphrase callback that refuses: the dev CA key is not encrypted. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Reads a CA back from its PEM files and checks key and certificate. */
uint32_t gp11_devca_load(const char *key_path, const char *cert_path,
                         struct gp11_devca **out)
{
    struct gp11_devca *ca = NULL;
    FILE *fp = NULL;
    uint32_t ret = GP11_OK;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || key_path == NULL || cert_path == NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "devca_load needs two paths and an output");
        goto done;
    }
    ERR_clear_error();
    ca = calloc(1, sizeof(*ca));
    if (ca == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for the CA");
        goto done;
    }
    fp = fopen(key_path, "re");
    if (fp == NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "cannot open the CA key %s: %s",
                           key_path, strerror(errno));
        goto done;
    }
    ca->key = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
    fclose(fp);
    fp = NULL;
    if (ca->key == NULL) {
        ret = ossl_err(GP11_ERR_BAD_ARG, "no unencrypted PEM private key in %s",
                       key_path);
        goto done;
    }
    if (!EVP_PKEY_is_a(ca->key, "EC") && !EVP_PKEY_is_a(ca->key, "RSA")) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "the CA key in %s is neither EC nor RSA", key_path);
        goto done;
    }
    fp = fopen(cert_path, "re");
    if (fp == NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "cannot open the CA certificate %s: %s", cert_path,
                           strerror(errno));
        goto done;
    }
    ca->cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    fp = NULL;
    if (ca->cert == NULL) {
        ret = ossl_err(GP11_ERR_CERT_INVALID, "no PEM certificate in %s",
                       cert_path);
        goto done;
    }
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        ret = ossl_err(GP11_ERR_CERT_INVALID,
                       "the CA certificate %s does not match the key %s",
                       cert_path, key_path);
        goto done;
    }
    if (X509_check_ca(ca->cert) != 1) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "%s is not a CA certificate (no basicConstraints "
                           "CA:TRUE)",
                           cert_path);
        goto done;
    }
    *out = ca;
    ca = NULL;
done:
    gp11_devca_free(ca);
    return ret;
}

/* Builds a public EVP_PKEY of type name from an OSSL_PARAM_BLD. */
static uint32_t pkey_from_bld(const char *name, OSSL_PARAM_BLD *bld,
                              EVP_PKEY **out)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    uint32_t ret = GP11_OK;

    if (params == NULL) {
        ret = ossl_err(GP11_ERR_NOMEM, "cannot build the %s parameters", name);
        goto done;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        ret = ossl_err(GP11_ERR_BAD_ARG, "not a valid %s public key", name);
        goto done;
    }
    EVP_PKEY_CTX_free(ctx);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL || EVP_PKEY_public_check(ctx) != 1) {
        ret = ossl_err(GP11_ERR_BAD_ARG, "the %s public key fails its check",
                       name);
        goto done;
    }
    *out = pkey;
    pkey = NULL;
done:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return ret;
}

/* Rebuilds an EC public key from CKA_EC_PARAMS and CKA_EC_POINT. */
uint32_t gp11_devca_pubkey_ec(const unsigned char *params, size_t params_len,
                              const unsigned char *point, size_t point_len,
                              EVP_PKEY **out)
{
    const struct curve *c = NULL;
    ASN1_OBJECT *oid = NULL;
    ASN1_OCTET_STRING *os = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    const unsigned char *q;
    const unsigned char *raw;
    uint32_t ret = GP11_OK;
    char txt[128];
    size_t i;
    int nid;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || params == NULL || point == NULL || params_len == 0 ||
        params_len > ATTR_MAX || point_len == 0 || point_len > ATTR_MAX) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "missing or oversized CKA_EC_PARAMS/CKA_EC_POINT");
        goto done;
    }
    ERR_clear_error();
    q = params;
    oid = d2i_ASN1_OBJECT(NULL, &q, (long)params_len);
    if (oid == NULL || q != params + params_len) {
        ERR_clear_error();
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "CKA_EC_PARAMS (%zu bytes) is not one DER curve OID",
                           params_len);
        goto done;
    }
    nid = OBJ_obj2nid(oid);
    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (curves[i].nid == nid)
            c = &curves[i];
    }
    if (c == NULL) {
        if (OBJ_obj2txt(txt, sizeof(txt), oid, 1) <= 0)
            snprintf(txt, sizeof(txt), "(unprintable)");
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "unsupported curve %s: only P-256 and P-384", txt);
        goto done;
    }
    /* A DER wrapping is always longer than the raw point, so no ambiguity. */
    if (point_len == c->point_len) {
        raw = point;
    } else {
        q = point;
        os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)point_len);
        if (os == NULL || q != point + point_len ||
            (size_t)ASN1_STRING_length(os) != c->point_len) {
            ERR_clear_error();
            ret = gp11_err_set(GP11_ERR_BAD_ARG,
                               "CKA_EC_POINT (%zu bytes) is neither a raw %s "
                               "point nor a DER OCTET STRING holding one",
                               point_len, c->label);
            goto done;
        }
        raw = ASN1_STRING_get0_data(os);
    }
    if (raw[0] != POINT_CONVERSION_UNCOMPRESSED) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "CKA_EC_POINT is not an uncompressed point (first "
                           "byte 0x%02x)",
                           raw[0]);
        goto done;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        OBJ_nid2sn(c->nid), 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, raw,
                                         c->point_len) != 1) {
        ret = ossl_err(GP11_ERR_NOMEM, "cannot build the EC parameters");
        goto done;
    }
    ret = pkey_from_bld("EC", bld, out);
done:
    OSSL_PARAM_BLD_free(bld);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(oid);
    return ret;
}

/* Rebuilds an RSA public key from CKA_MODULUS and CKA_PUBLIC_EXPONENT. */
uint32_t gp11_devca_pubkey_rsa(const unsigned char *n, size_t n_len,
                               const unsigned char *e, size_t e_len,
                               EVP_PKEY **out)
{
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *bn_n = NULL;
    BIGNUM *bn_e = NULL;
    uint32_t ret = GP11_OK;
    int bits;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || n == NULL || e == NULL || n_len == 0 ||
        n_len > ATTR_MAX || e_len == 0 || e_len > ATTR_MAX) {
        ret = gp11_err_set(
            GP11_ERR_BAD_ARG,
            "missing or oversized CKA_MODULUS/CKA_PUBLIC_EXPONENT");
        goto done;
    }
    ERR_clear_error();
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    if (bn_n == NULL || bn_e == NULL) {
        ret = ossl_err(GP11_ERR_NOMEM, "cannot read the RSA key");
        goto done;
    }
    bits = BN_num_bits(bn_n);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || !BN_is_odd(bn_n)) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "RSA modulus of %d bits is not an odd number of "
                           "%d..%d bits",
                           bits, RSA_MIN_BITS, RSA_MAX_BITS);
        goto done;
    }
    if (!BN_is_odd(bn_e) || BN_is_one(bn_e) ||
        BN_num_bits(bn_e) > RSA_MAX_E_BITS) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "RSA public exponent is not an odd number in "
                           "3..2^%d",
                           RSA_MAX_E_BITS);
        goto done;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1) {
        ret = ossl_err(GP11_ERR_NOMEM, "cannot build the RSA parameters");
        goto done;
    }
    ret = pkey_from_bld("RSA", bld, out);
done:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return ret;
}

/* Chooses the extendedKeyUsage value for a profile, or NULL for none. */
static const char *eku_value(const struct gp11_devca_profile *p)
{
    if (p->server && p->client)
        return "serverAuth,clientAuth";
    if (p->server)
        return "serverAuth";
    if (p->client)
        return "clientAuth";
    return NULL;
}

/* Issues and signs a v3 end-entity certificate for key; returns DER. */
uint32_t gp11_devca_issue(struct gp11_devca *ca, EVP_PKEY *key,
                          const struct gp11_devca_profile *p,
                          unsigned char **der, size_t *der_len)
{
    unsigned char *buf = NULL;
    unsigned char *w;
    const char *eku;
    X509 *x = NULL;
    X509V3_CTX v3;
    uint32_t ret = GP11_OK;
    bool ec;
    int len;

    if (der != NULL)
        *der = NULL;
    if (der_len != NULL)
        *der_len = 0;
    if (ca == NULL || key == NULL || p == NULL || der == NULL ||
        der_len == NULL || p->cn == NULL || *p->cn == '\0') {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "devca_issue needs a CA, a key, a profile with a "
                           "CN and outputs");
        goto done;
    }
    if (p->not_after <= p->not_before) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "notAfter (%+ld s) is not after notBefore (%+ld s)",
                           p->not_after, p->not_before);
        goto done;
    }
    ec = EVP_PKEY_is_a(key, "EC");
    if (!ec && !EVP_PKEY_is_a(key, "RSA")) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "cannot certify a %s key: only EC and RSA",
                           EVP_PKEY_get0_type_name(key));
        goto done;
    }
    if (p->dns_name != NULL && !valid_dns(p->dns_name)) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "\"%s\" is not a valid DNS name",
                           p->dns_name);
        goto done;
    }
    if (p->service != NULL &&
        (p->dns_name == NULL || !valid_service(p->service) ||
         (p->srv_host != NULL && !valid_dns(p->srv_host)))) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "\"%s\" is not a service a SRVName can bind (1 to "
                           "63 printable characters without '.', '@' or "
                           "space, and a DNS name)",
                           p->service);
        goto done;
    }
    if (p->email != NULL && p->email_len == 0 && !valid_email(p->email)) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "\"%s\" is not a valid mail address", p->email);
        goto done;
    }
    ERR_clear_error();
    x = X509_new();
    if (x == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a certificate");
        goto done;
    }
    ret = fill_cert(x, p->cn, X509_get_subject_name(ca->cert), key,
                    p->not_before, 0, p->not_after);
    if (ret != GP11_OK)
        goto done;
    X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
    ret = add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE");
    if (ret == GP11_OK)
        ret = add_ext(x, &v3, NID_key_usage,
                      ec ? "critical,digitalSignature,keyAgreement"
                         : "critical,digitalSignature");
    if (ret == GP11_OK)
        ret = add_ext(x, &v3, NID_subject_key_identifier, "hash");
    if (ret == GP11_OK)
        ret = add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
    if (ret == GP11_OK && (p->dns_name != NULL || p->email != NULL))
        ret = add_san(x, p); /* with the SRVName, which needs dns_name */
    eku = eku_value(p);
    if (ret == GP11_OK && eku != NULL)
        ret = add_ext(x, &v3, NID_ext_key_usage, eku);
    if (ret != GP11_OK)
        goto done;
    if (X509_sign(x, ca->key, EVP_sha256()) <= 0) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot sign the certificate");
        goto done;
    }
    len = i2d_X509(x, NULL);
    if (len <= 0) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot encode the certificate");
        goto done;
    }
    buf = malloc((size_t)len);
    if (buf == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a certificate");
        goto done;
    }
    w = buf;
    if (i2d_X509(x, &w) != len) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot encode the certificate");
        goto done;
    }
    *der = buf;
    *der_len = (size_t)len;
    buf = NULL;
done:
    free(buf);
    X509_free(x);
    return ret;
}

/* Parses one DER certificate that fills the whole buffer. */
static uint32_t parse_cert(const unsigned char *der, size_t der_len, X509 **out)
{
    const unsigned char *q = der;
    X509 *x = NULL;
    uint32_t ret = GP11_OK;

    if (der == NULL || der_len == 0 || der_len > LONG_MAX) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "no certificate given");
        goto done;
    }
    ERR_clear_error();
    x = d2i_X509(NULL, &q, (long)der_len);
    if (x == NULL) {
        ret =
            ossl_err(GP11_ERR_CERT_INVALID, "cannot parse the DER certificate");
        goto done;
    }
    if (q != der + der_len) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "%zu stray bytes after the DER certificate",
                           (size_t)(der + der_len - q));
        goto done;
    }
    *out = x;
    x = NULL;
done:
    X509_free(x);
    return ret;
}

/* Moves an OpenSSL-allocated i2d result of len bytes into a malloc'ed one. */
static uint32_t copy_der(unsigned char *ossl, int len, const char *what,
                         unsigned char **out, size_t *out_len)
{
    uint32_t ret = GP11_OK;

    if (ossl == NULL || len <= 0) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot encode the %s", what);
        goto done;
    }
    *out = malloc((size_t)len);
    if (*out == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for the %s", what);
        goto done;
    }
    memcpy(*out, ossl, (size_t)len);
    *out_len = (size_t)len;
done:
    OPENSSL_free(ossl);
    return ret;
}

/* Extracts DER subject, issuer and serial for the PKCS#11 attributes. */
uint32_t gp11_devca_cert_fields(const unsigned char *der, size_t der_len,
                                unsigned char **subject, size_t *subject_len,
                                unsigned char **issuer, size_t *issuer_len,
                                unsigned char **serial, size_t *serial_len)
{
    unsigned char *tmp;
    X509 *x = NULL;
    uint32_t ret = GP11_OK;
    int len;

    if (subject == NULL || subject_len == NULL || issuer == NULL ||
        issuer_len == NULL || serial == NULL || serial_len == NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "devca_cert_fields needs all six outputs");
        goto done;
    }
    *subject = *issuer = *serial = NULL;
    *subject_len = *issuer_len = *serial_len = 0;
    ret = parse_cert(der, der_len, &x);
    if (ret != GP11_OK)
        goto done;
    tmp = NULL;
    len = i2d_X509_NAME(X509_get_subject_name(x), &tmp);
    ret = copy_der(tmp, len, "subject name", subject, subject_len);
    if (ret != GP11_OK)
        goto done;
    tmp = NULL;
    len = i2d_X509_NAME(X509_get_issuer_name(x), &tmp);
    ret = copy_der(tmp, len, "issuer name", issuer, issuer_len);
    if (ret != GP11_OK)
        goto done;
    tmp = NULL;
    len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &tmp);
    ret = copy_der(tmp, len, "serial number", serial, serial_len);
    if (ret != GP11_OK)
        goto done;
done:
    if (ret != GP11_OK && subject != NULL && issuer != NULL && serial != NULL) {
        free(*subject);
        free(*issuer);
        free(*serial);
        *subject = *issuer = *serial = NULL;
        *subject_len = *issuer_len = *serial_len = 0;
    }
    X509_free(x);
    return ret;
}

/* Formats the subject and notAfter of a certificate for listings. */
uint32_t gp11_devca_describe(const unsigned char *der, size_t der_len,
                             char *subject, size_t subject_len, char *not_after,
                             size_t not_after_len)
{
    BIO *bio = NULL;
    X509 *x = NULL;
    char *mem = NULL;
    uint32_t ret = GP11_OK;
    struct tm tm;
    long mlen;

    if (subject == NULL || subject_len == 0 || not_after == NULL ||
        not_after_len == 0) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "devca_describe needs two output buffers");
        goto done;
    }
    subject[0] = '\0';
    not_after[0] = '\0';
    ret = parse_cert(der, der_len, &x);
    if (ret != GP11_OK)
        goto done;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL ||
        X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
        ret = ossl_err(GP11_ERR_INTERNAL, "cannot print the subject name");
        goto done;
    }
    mlen = BIO_get_mem_data(bio, &mem);
    if (mlen < 0 || (size_t)mlen >= subject_len) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "the subject needs %ld bytes, the buffer has %zu",
                           mlen + 1, subject_len);
        goto done;
    }
    if (mlen > 0)
        memcpy(subject, mem, (size_t)mlen);
    subject[mlen] = '\0';
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
        ret = ossl_err(GP11_ERR_CERT_INVALID, "cannot read notAfter");
        goto done;
    }
    if (strftime(not_after, not_after_len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "a buffer of %zu bytes is too small for notAfter",
                           not_after_len);
        goto done;
    }
done:
    if (ret != GP11_OK && subject != NULL && subject_len > 0)
        subject[0] = '\0';
    if (ret != GP11_OK && not_after != NULL && not_after_len > 0)
        not_after[0] = '\0';
    BIO_free(bio);
    X509_free(x);
    return ret;
}
