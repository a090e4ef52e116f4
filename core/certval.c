/* SPDX-License-Identifier: Apache-2.0 */
/* Trust anchors, peer chain validation and handshake signature checks. */
#include "gp11_certval.h"
#include "gp11_certcache.h"
#include "gp11_file.h"
#include "gp11_debug.h"
#include "gp11_error.h"
#include "gp11_revocation.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define ANCHOR_FILE_MAX (16L << 20) /* bytes per anchors file */
#define SUBJECT_MAX 256             /* printed subject, with its NUL */
#define NAMES_MAX 320               /* printed list of dNSNames */
#define WHO_MAX (SUBJECT_MAX + 64)
#define TIME_MAX 40
#define PSS_SALT_LEN 32

/* Signature algorithm ids of protocol.md 2.5 (GP11_SIGALG_* elsewhere). */
enum {
    SIG_NONE = 0,
    SIG_P256 = 1,    /* ECDSA P-256 with SHA-256 */
    SIG_P384 = 2,    /* ECDSA P-384 with SHA-384 */
    SIG_RSA_PSS = 3, /* RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 */
};

struct gp11_trust {
    atomic_uint refs;
    /* Indexed by enum gp11_peer_role: [GP11_PEER_ACCEPTOR] judges server
     * certificates (acceptor-anchors), [GP11_PEER_INITIATOR] client ones
     * (initiator-anchors); both may be the same store; NULL: none. */
    X509_STORE *store[2];
    size_t n_anchors; /* certificates added (duplicates included) */
    /* Revocation (gp11_revocation.h), NULL when not configured. */
    struct gp11_crls *crls;
    /* Chains validated with these anchors (certcache.c); NULL: none. */
    struct gp11_certcache *cache;
};

/* Records code with the sentence fmt, then OpenSSL's first queued reason. */
static uint32_t ossl_fail(uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static uint32_t ossl_fail(uint32_t code, const char *fmt, ...)
{
    unsigned long e = ERR_get_error();
    const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    ERR_clear_error();
    return gp11_err_set(code, "%s: %s", what,
                        why != NULL ? why : "no OpenSSL error detail");
}

/* Marks a shortened string by ending it with "...". */
static void mark_cut(char *buf)
{
    size_t n = strlen(buf);

    if (n >= 3)
        memcpy(buf + n - 3, "...", 4);
}

/* Copies n bytes of untrusted text to buf, '?' for anything not printable. */
static void printable(char *buf, size_t len, const unsigned char *s, size_t n)
{
    size_t i;

    if (len == 0)
        return;
    for (i = 0; i < n && i + 1 < len; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    buf[i] = '\0';
    if (i < n)
        mark_cut(buf);
}

/* Writes the subject of x (RFC 2253, escaped, maybe shortened) to buf. */
static void subject_str(X509 *x, char *buf, size_t len)
{
    char tmp[SUBJECT_MAX];
    BIO *bio = NULL;
    int pending;
    int n;

    snprintf(buf, len, "(unknown subject)");
    if (x == NULL)
        goto done;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
                                          XN_FLAG_RFC2253) < 0)
        goto done;
    pending = BIO_pending(bio);
    if (pending <= 0) {
        snprintf(buf, len, "(empty subject)");
        goto done;
    }
    n = BIO_read(bio, tmp, (int)sizeof(tmp));
    if (n <= 0)
        goto done;
    printable(buf, len, (const unsigned char *)tmp, (size_t)n);
    if (pending > n)
        mark_cut(buf);
done:
    BIO_free(bio);
    ERR_clear_error();
}

/* Converts an ASN1_TIME to time_t; false if it is malformed. */
static bool asn1_to_time(const ASN1_TIME *a, time_t *out)
{
    struct tm tm;
    bool ok = false;

    if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
        goto done;
    *out = timegm(&tm);
    ok = true;
done:
    return ok;
}

/* Formats t as "2027-11-22 10:00:00 UTC". */
static void time_str(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, len, "(time %lld)", (long long)t);
}

/* Parses exactly len bytes of DER as one certificate; NULL if they are not. */
static X509 *parse_der(const uint8_t *der, size_t len)
{
    const unsigned char *q = der;
    X509 *x = NULL;

    if (der == NULL || len == 0 || len > LONG_MAX)
        goto done;
    x = d2i_X509(NULL, &q, (long)len);
    if (x != NULL && q != der + len) {
        X509_free(x);
        x = NULL;
    }
done:
    return x;
}

/* The sigalg of pkey; desc gets a short description of the key. */
static uint8_t key_sigalg(const EVP_PKEY *pkey, char *desc, size_t desc_len)
{
    uint8_t alg = SIG_NONE;
    const char *type;
    char group[80];
    int bits;
    int nid;

    snprintf(desc, desc_len, "undecodable");
    if (pkey == NULL)
        goto done;
    if (EVP_PKEY_is_a(pkey, "EC")) {
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1) {
            snprintf(desc, desc_len, "EC (explicit curve parameters)");
            goto done;
        }
        nid = OBJ_txt2nid(group);
        if (nid == NID_undef)
            nid = EC_curve_nist2nid(group);
        if (nid == NID_X9_62_prime256v1) {
            snprintf(desc, desc_len, "EC P-256");
            alg = SIG_P256;
        } else if (nid == NID_secp384r1) {
            snprintf(desc, desc_len, "EC P-384");
            alg = SIG_P384;
        } else {
            snprintf(desc, desc_len, "EC %s", group);
        }
    } else if (EVP_PKEY_is_a(pkey, "RSA")) {
        bits = EVP_PKEY_get_bits(pkey);
        snprintf(desc, desc_len, "RSA %d-bit", bits);
        if (bits >= GP11_CERTVAL_RSA_MIN_BITS &&
            bits <= GP11_CERTVAL_RSA_MAX_BITS)
            alg = SIG_RSA_PSS;
    } else {
        type = EVP_PKEY_get0_type_name(pkey);
        snprintf(desc, desc_len, "%s", type != NULL ? type : "unknown");
    }
done:
    ERR_clear_error();
    return alg;
}

/* PEM passphrase callback that refuses: anchors are never encrypted. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Adds one certificate to the store and counts it. */
static uint32_t add_anchor(X509_STORE *st, X509 *x, const char *path,
                           size_t *count)
{
    uint32_t ret = GP11_OK;

    if (X509_STORE_add_cert(st, x) != 1) {
        ret = ossl_fail(GP11_ERR_NOMEM, "cannot add an anchor from %s", path);
        goto done;
    }
    (*count)++;
done:
    return ret;
}

/* Adds the certificates of one anchors file (PEM blocks or one DER). */
static uint32_t add_anchor_file(X509_STORE *st, const char *path, size_t *count)
{
    uint8_t *data = NULL;
    size_t found = 0;
    BIO *bio = NULL;
    X509 *x = NULL;
    uint32_t ret;
    unsigned long e;
    size_t len = 0;

    ret = gp11_file_read(path, "trust anchors file", ANCHOR_FILE_MAX, &data,
                         &len);
    if (ret != GP11_OK)
        goto done;
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    ERR_clear_error();
    /* Blocks other than CERTIFICATE (keys, CRLs) are skipped by OpenSSL. */
    for (;;) {
        x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
        if (x == NULL) {
            e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                break;
            }
            ret = ossl_fail(GP11_ERR_CERT_INVALID,
                            "the trust anchors file %s has a malformed PEM "
                            "certificate after %zu good ones",
                            path, found);
            goto done;
        }
        ret = add_anchor(st, x, path, &found);
        if (ret != GP11_OK)
            goto done;
        X509_free(x);
        x = NULL;
    }
    if (found == 0) {
        x = parse_der(data, len);
        if (x == NULL) {
            ERR_clear_error();
            ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                               "the trust anchors file %s holds no "
                               "certificate (PEM or DER)",
                               path);
            goto done;
        }
        ret = add_anchor(st, x, path, &found);
        if (ret != GP11_OK)
            goto done;
    }
    GP11_DEBUG("%zu trust anchor(s) from %s", found, path);
    *count += found;
done:
    X509_free(x);
    BIO_free(bio);
    free(data);
    return ret;
}

/* scandir filter: names ending in .pem or .crt, in any case. */
static int anchor_name(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return n > 4 && (strcasecmp(d->d_name + n - 4, ".pem") == 0 ||
                     strcasecmp(d->d_name + n - 4, ".crt") == 0);
}

/* Adds every *.pem / *.crt regular file of dir, in name order. */
static uint32_t add_anchor_dir(X509_STORE *st, const char *dir, size_t *count)
{
    struct dirent **names = NULL;
    char path[PATH_MAX];
    uint32_t ret = GP11_OK;
    struct stat sb;
    int n;
    int i;

    n = scandir(dir, &names, anchor_name, alphasort);
    if (n < 0) {
        ret = gp11_err_set(GP11_ERR_CONFIG_MISSING,
                           "cannot read the trust anchors directory %s: %s",
                           dir, strerror(errno));
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >=
            (int)sizeof(path)) {
            ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                               "a path in the trust anchors directory %s is "
                               "too long",
                               dir);
            goto done;
        }
        if (stat(path, &sb) != 0) {
            ret = gp11_err_set(GP11_ERR_CONFIG_MISSING,
                               "cannot read the trust anchors file %s: %s",
                               path, strerror(errno));
            goto done;
        }
        if (!S_ISREG(sb.st_mode)) {
            GP11_DEBUG("skipping %s: not a regular file", path);
            continue;
        }
        ret = add_anchor_file(st, path, count);
        if (ret != GP11_OK)
            goto done;
    }
done:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ret;
}

/* Takes one more reference to the anchors. */
struct gp11_trust *gp11_trust_ref(struct gp11_trust *t)
{
    if (t != NULL)
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

/* Drops a reference; the last one releases the anchors. */
void gp11_trust_free(struct gp11_trust *t)
{
    if (t == NULL)
        return;
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    X509_STORE_free(t->store[0]);
    X509_STORE_free(t->store[1]);
    gp11_crls_free(t->crls);
    gp11_certcache_free(t->cache);
    free(t);
}

/* Gives t (not yet shared) its CRLs; takes a new reference to crls. */
void gp11_trust_set_crls(struct gp11_trust *t, struct gp11_crls *crls)
{
    if (t == NULL)
        return;
    gp11_crls_free(t->crls);
    t->crls = gp11_crls_ref(crls);
}

/* An empty set of anchors with one reference and its validation cache. */
static struct gp11_trust *trust_new(void)
{
    struct gp11_trust *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    atomic_init(&t->refs, 1);
    t->cache = gp11_certcache_new(); /* without one, nothing is cached */
    return t;
}

/* Loads the anchors of a PEM/DER file or of a directory of such files. */
uint32_t gp11_trust_load(const char *path, struct gp11_trust **out)
{
    struct gp11_trust *t = NULL;
    uint32_t ret = GP11_OK;
    struct stat sb;
    bool dir;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || *path == '\0' || out == NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "trust_load needs a path and an output");
        goto done;
    }
    ERR_clear_error();
    if (stat(path, &sb) != 0) {
        ret = gp11_err_set(GP11_ERR_CONFIG_MISSING,
                           "cannot read the trust anchors %s: %s", path,
                           strerror(errno));
        goto done;
    }
    dir = S_ISDIR(sb.st_mode);
    t = trust_new();
    if (t == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for trust anchors");
        goto done;
    }
    t->store[0] = X509_STORE_new();
    if (t->store[0] == NULL || X509_STORE_up_ref(t->store[0]) != 1) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for trust anchors");
        goto done;
    }
    t->store[1] = t->store[0];
    if (dir)
        ret = add_anchor_dir(t->store[0], path, &t->n_anchors);
    else
        ret = add_anchor_file(t->store[0], path, &t->n_anchors);
    if (ret != GP11_OK)
        goto done;
    if (t->n_anchors == 0) {
        ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                           "the trust anchors directory %s has no *.pem or "
                           "*.crt certificate file",
                           path);
        goto done;
    }
    GP11_DEBUG("%zu trust anchor(s) loaded from %s", t->n_anchors, path);
    *out = t;
    t = NULL;
done:
    gp11_trust_free(t);
    ERR_clear_error();
    return ret;
}

/* The store of role r: loaded from path (reusing *prev_path's store when
 * it is the same path), else the fallback's, else none. */
static uint32_t role_store(struct gp11_trust *t, int r, const char *path,
                           const char *prev_path, struct gp11_trust *fallback)
{
    struct gp11_trust *one = NULL;
    uint32_t ret = GP11_OK;
    X509_STORE *st = NULL;

    if (path != NULL && prev_path != NULL && strcmp(path, prev_path) == 0)
        st = t->store[1 - r];
    else if (path != NULL) {
        ret = gp11_trust_load(path, &one);
        if (ret != GP11_OK)
            goto done;
        st = one->store[0];
        t->n_anchors += one->n_anchors;
    } else if (fallback != NULL)
        st = fallback->store[r];
    if (st != NULL && X509_STORE_up_ref(st) != 1) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for trust anchors");
        goto done;
    }
    t->store[r] = st;
done:
    gp11_trust_free(one);
    return ret;
}

/* Anchors per role: the role's own path, else both, else the fallback's. */
uint32_t gp11_trust_load_roles(const char *both, const char *initiator_anchors,
                               const char *acceptor_anchors,
                               struct gp11_trust *fallback,
                               struct gp11_trust **out)
{
    const char *acc = acceptor_anchors != NULL ? acceptor_anchors : both;
    const char *ini = initiator_anchors != NULL ? initiator_anchors : both;
    struct gp11_trust *t = NULL;
    uint32_t ret = GP11_OK;

    if (out == NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "trust_load_roles: no output");
        goto done;
    }
    *out = NULL;
    t = trust_new();
    if (t == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for trust anchors");
        goto done;
    }
    ret = role_store(t, GP11_PEER_ACCEPTOR, acc, NULL, fallback);
    if (ret == GP11_OK)
        ret = role_store(t, GP11_PEER_INITIATOR, ini, acc, fallback);
    if (ret != GP11_OK)
        goto done;
    if (t->store[0] != NULL || t->store[1] != NULL) {
        *out = t;
        t = NULL;
    }
done:
    gp11_trust_free(t);
    return ret;
}

/* The name of a peer role for messages. */
static const char *role_name(enum gp11_peer_role role)
{
    return role == GP11_PEER_ACCEPTOR ? "acceptor" : "initiator";
}

/* Describes a certificate of the chain at depth: 'the acceptor's ...'. */
static void who_str(X509 *x, int depth, enum gp11_peer_role role, char *buf,
                    size_t len)
{
    char subject[SUBJECT_MAX];

    subject_str(x, subject, sizeof(subject));
    if (depth <= 0)
        snprintf(buf, len, "the %s's certificate \"%s\"", role_name(role),
                 subject);
    else
        snprintf(buf, len,
                 "the certificate \"%s\" at depth %d of the %s's chain",
                 subject, depth, role_name(role));
}

/* Which usage x lacks for the role at this depth (OpenSSL's purpose
 * check: the leaf's EKU and keyUsage, a CA's basicConstraints, keyUsage
 * keyCertSign and EKU), into buf. */
static void missing_usage(X509 *x, int depth, enum gp11_peer_role role,
                          char *buf, size_t len)
{
    const char *eku = role == GP11_PEER_ACCEPTOR ? "serverAuth" : "clientAuth";
    uint32_t want =
        role == GP11_PEER_ACCEPTOR ? XKU_SSL_SERVER : XKU_SSL_CLIENT;
    uint32_t flags = X509_get_extension_flags(x);
    uint32_t ku = X509_get_key_usage(x);

    if ((flags & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(x) & want))
        snprintf(buf, len, "it lacks extendedKeyUsage %s%s", eku,
                 depth > 0 ? " (an extendedKeyUsage on a CA limits what "
                             "its certificates may be used for)"
                           : "");
    else if (depth > 0 && X509_check_ca(x) == 0)
        snprintf(buf, len, "it lacks basicConstraints CA:TRUE");
    else if (depth > 0 && (flags & EXFLAG_KUSAGE) && !(ku & KU_KEY_CERT_SIGN))
        snprintf(buf, len, "it lacks keyUsage keyCertSign");
    else if (depth == 0 && (flags & EXFLAG_KUSAGE) &&
             !(ku & KU_DIGITAL_SIGNATURE))
        snprintf(buf, len, "it lacks keyUsage digitalSignature");
    else if (flags & EXFLAG_NSCERT)
        snprintf(buf, len, "its Netscape certificate type excludes an %s",
                 role == GP11_PEER_ACCEPTOR ? "SSL server" : "SSL client");
    else
        snprintf(buf, len,
                 "its keyUsage or extendedKeyUsage does not allow "
                 "an %s",
                 role == GP11_PEER_ACCEPTOR ? "acceptor" : "initiator");
}

/* Turns a failed X509_verify_cert into our code and a sentence. */
static uint32_t verify_error(int err, int depth, X509 *x,
                             enum gp11_peer_role role)
{
    const char *why = X509_verify_cert_error_string(err);
    char when[TIME_MAX];
    char who[WHO_MAX];
    uint32_t ret;
    time_t t;

    who_str(x, depth, role, who, sizeof(who));
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        if (!asn1_to_time(X509_get0_notAfter(x), &t))
            snprintf(when, sizeof(when), "(unreadable date)");
        else
            time_str(t, when, sizeof(when));
        ret = gp11_err_set(GP11_ERR_CERT_EXPIRED, "%s expired on %s (%s)", who,
                           when, why);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        if (!asn1_to_time(X509_get0_notBefore(x), &t))
            snprintf(when, sizeof(when), "(unreadable date)");
        else
            time_str(t, when, sizeof(when));
        ret = gp11_err_set(GP11_ERR_CERT_NOT_YET_VALID,
                           "%s is not valid before %s (%s)", who, when, why);
        break;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE: {
        char lacks[256];

        missing_usage(x, depth, role, lacks, sizeof(lacks));
        ret = gp11_err_set(GP11_ERR_CERT_USAGE,
                           "%s is not valid for an %s: %s (%s)", who,
                           role_name(role), lacks, why);
        break;
    }
    case X509_V_ERR_OUT_OF_MEM:
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory verifying %s", who);
        break;
    case X509_V_OK:
        ret = gp11_err_set(GP11_ERR_INTERNAL,
                           "verification of %s failed without a reason", who);
        break;
    default:
        ret = gp11_err_set(GP11_ERR_CERT_UNTRUSTED, "%s is not trusted: %s",
                           who, why);
        break;
    }
    return ret;
}

/*
 * Runs X509_verify_cert on leaf with the message's intermediates; on
 * success *earliest is the earliest notAfter of the verified chain.
 */
static uint32_t run_verify(struct gp11_trust *t, X509 *leaf,
                           STACK_OF(X509) * untrusted, enum gp11_peer_role role,
                           time_t now, time_t *earliest)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) * chain;
    X509_VERIFY_PARAM *param;
    uint32_t ret = GP11_OK;
    X509 *x;
    time_t na;
    int i;

    if (t->store[role] == NULL) {
        ret = gp11_err_set(GP11_ERR_CERT_UNTRUSTED,
                           "no trust anchors for %s certificates are "
                           "configured ([trust] %s-anchors or anchors)",
                           role_name(role), role_name(role));
        goto done;
    }
    if (ctx == NULL ||
        X509_STORE_CTX_init(ctx, t->store[role], leaf, untrusted) != 1) {
        ret = ossl_fail(GP11_ERR_NOMEM, "cannot set up certificate checks");
        goto done;
    }
    param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(param, now);
    X509_VERIFY_PARAM_set_depth(param, GP11_CERTVAL_MAX_CHAIN);
    if (X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT) != 1 ||
        X509_STORE_CTX_set_purpose(ctx, role == GP11_PEER_ACCEPTOR
                                            ? X509_PURPOSE_SSL_SERVER
                                            : X509_PURPOSE_SSL_CLIENT) != 1) {
        ret = ossl_fail(GP11_ERR_INTERNAL, "cannot set the check parameters");
        goto done;
    }
    if (X509_verify_cert(ctx) != 1) {
        x = X509_STORE_CTX_get_current_cert(ctx);
        ret = verify_error(X509_STORE_CTX_get_error(ctx),
                           X509_STORE_CTX_get_error_depth(ctx),
                           x != NULL ? x : leaf, role);
        goto done;
    }
    chain = X509_STORE_CTX_get0_chain(ctx);
    ret = gp11_crls_check(t->crls, chain, role_name(role), now);
    if (ret != GP11_OK)
        goto done;
    for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        x = sk_X509_value(chain, i);
        if (!asn1_to_time(X509_get0_notAfter(x), &na)) {
            ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                               "a certificate of the %s's chain has an "
                               "unreadable notAfter",
                               role_name(role));
            goto done;
        }
        if (i == 0 || na < *earliest)
            *earliest = na;
    }
done:
    X509_STORE_CTX_free(ctx);
    return ret;
}

/* The leaf's own extensions: keyUsage digitalSignature, the role's EKU. */
static uint32_t check_leaf_usage(X509 *leaf, enum gp11_peer_role role)
{
    uint32_t flags = X509_get_extension_flags(leaf);
    uint32_t need =
        role == GP11_PEER_ACCEPTOR ? XKU_SSL_SERVER : XKU_SSL_CLIENT;
    uint32_t ret = GP11_OK;
    char who[WHO_MAX];

    if ((flags & EXFLAG_KUSAGE) == 0 ||
        (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) == 0) {
        who_str(leaf, 0, role, who, sizeof(who));
        ret = gp11_err_set(GP11_ERR_CERT_USAGE,
                           "%s has no keyUsage digitalSignature", who);
        goto done;
    }
    if ((flags & EXFLAG_XKUSAGE) == 0 ||
        (X509_get_extended_key_usage(leaf) & need) == 0) {
        who_str(leaf, 0, role, who, sizeof(who));
        ret = gp11_err_set(
            GP11_ERR_CERT_USAGE,
            "%s has no extendedKeyUsage %s, which an %s needs", who,
            role == GP11_PEER_ACCEPTOR ? "serverAuth" : "clientAuth",
            role_name(role));
        goto done;
    }
done:
    return ret;
}

/* Appends s to buf (size len, used so far *used); false once it is full. */
static bool append(char *buf, size_t len, size_t *used, const char *s)
{
    size_t n = strlen(s);
    bool ok = *used + n < len;

    if (!ok)
        n = len - 1 - *used;
    memcpy(buf + *used, s, n);
    *used += n;
    buf[*used] = '\0';
    return ok;
}

/* Lists the leaf's SAN dNSNames ("DNS:a, DNS:b") for a message. */
static void dns_names(X509 *leaf, char *buf, size_t len)
{
    GENERAL_NAMES *gens;
    const GENERAL_NAME *gn;
    char one[NAMES_MAX];
    size_t used = 0;
    bool full = false;
    bool any = false;
    int i;

    buf[0] = '\0';
    gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && !full; i++) {
        gn = sk_GENERAL_NAME_value(gens, i);
        if (gn->type != GEN_DNS)
            continue;
        printable(one, sizeof(one), ASN1_STRING_get0_data(gn->d.dNSName),
                  (size_t)ASN1_STRING_length(gn->d.dNSName));
        full = !append(buf, len, &used, any ? ", DNS:" : "DNS:") ||
               !append(buf, len, &used, one);
        any = true;
    }
    if (full)
        mark_cut(buf);
    if (!any)
        snprintf(buf, len, "no DNS name (its subject CN was compared)");
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
}

/* Matches host against the acceptor's leaf (X509_check_host semantics). */
static uint32_t check_host(X509 *leaf, const char *host)
{
    char names[NAMES_MAX];
    char shown[SUBJECT_MAX];
    char who[WHO_MAX];
    uint32_t ret = GP11_OK;
    int rc;

    rc = X509_check_host(leaf, host, strlen(host),
                         X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
    if (rc == 1)
        goto done;
    if (rc == -1) {
        ret = ossl_fail(GP11_ERR_NOMEM, "cannot match the host name");
        goto done;
    }
    who_str(leaf, 0, GP11_PEER_ACCEPTOR, who, sizeof(who));
    dns_names(leaf, names, sizeof(names));
    printable(shown, sizeof(shown), (const unsigned char *)host, strlen(host));
    ret = gp11_err_set(GP11_ERR_CERT_HOSTNAME,
                       "%s names %s, not the target host \"%s\"", who, names,
                       shown);
done:
    ERR_clear_error();
    return ret;
}

/* True if the SRVName v[0..n) is "_" service "." host (host without case). */
static bool srv_matches(const unsigned char *v, size_t n, const char *service,
                        const char *host)
{
    size_t sl = strlen(service), hl = strlen(host);

    return n == 1 + sl + 1 + hl && v[0] == '_' &&
           memcmp(v + 1, service, sl) == 0 && v[1 + sl] == '.' &&
           memchr(v, '\0', n) == NULL &&
           strncasecmp((const char *)v + 2 + sl, host, hl) == 0;
}

/* The leaf's RFC 4985 SRVName entries matched against _service.host. */
uint32_t gp11_certval_service(X509 *leaf, const char *service, const char *host)
{
    GENERAL_NAMES *gens = NULL;
    const GENERAL_NAME *gn;
    ASN1_OBJECT *srv = NULL;
    const ASN1_TYPE *v;
    char names[NAMES_MAX], one[NAMES_MAX], who[WHO_MAX];
    char shown[SUBJECT_MAX];
    uint32_t ret = GP11_OK;
    size_t used = 0;
    bool any = false;
    int i;

    if (leaf == NULL || service == NULL || host == NULL || *service == '\0' ||
        *host == '\0') {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "certval_service needs a certificate, a service "
                           "and a host");
        goto done;
    }
    srv = OBJ_txt2obj(GP11_OID_SRVNAME, 1);
    if (srv == NULL) {
        ret = ossl_fail(GP11_ERR_NOMEM, "cannot make the SRVName OID");
        goto done;
    }
    names[0] = '\0';
    gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        gn = sk_GENERAL_NAME_value(gens, i);
        if (gn->type != GEN_OTHERNAME ||
            OBJ_cmp(gn->d.otherName->type_id, srv) != 0)
            continue;
        v = gn->d.otherName->value;
        if (v == NULL || v->type != V_ASN1_IA5STRING)
            continue;
        if (srv_matches(ASN1_STRING_get0_data(v->value.ia5string),
                        (size_t)ASN1_STRING_length(v->value.ia5string), service,
                        host))
            goto done;
        printable(one, sizeof(one), ASN1_STRING_get0_data(v->value.ia5string),
                  (size_t)ASN1_STRING_length(v->value.ia5string));
        append(names, sizeof(names), &used, any ? ", " : "");
        append(names, sizeof(names), &used, one);
        any = true;
    }
    who_str(leaf, 0, GP11_PEER_ACCEPTOR, who, sizeof(who));
    snprintf(one, sizeof(one), "_%s.%s", service, host);
    printable(shown, sizeof(shown), (const unsigned char *)one, strlen(one));
    ret = gp11_err_set(GP11_ERR_CERT_HOSTNAME,
                       "%s binds %s%s, not the target service (SRVName "
                       "\"%s\")",
                       who, any ? "the services " : "no service",
                       any ? names : "", shown);
done:
    GENERAL_NAMES_free(gens);
    ASN1_OBJECT_free(srv);
    ERR_clear_error();
    return ret;
}

/* Parses and validates a peer's chain and its leaf's usage at now: the
 * leaf (*leaf_out) and the chain's earliest notAfter. */
static uint32_t validate_chain(struct gp11_trust *t,
                               const struct gp11_buf *certs, size_t n_certs,
                               enum gp11_peer_role role, time_t now,
                               X509 **leaf_out, time_t *earliest)
{
    STACK_OF(X509) *untrusted = NULL;
    uint32_t ret = GP11_OK;
    X509 *leaf = NULL;
    X509 *x = NULL;
    size_t i;

    ERR_clear_error();
    leaf = parse_der(certs[0].data, certs[0].len);
    if (leaf == NULL) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "the %s's certificate (%zu bytes) is not a DER "
                           "X.509 certificate",
                           role_name(role), certs[0].len);
        goto done;
    }
    untrusted = sk_X509_new_null();
    if (untrusted == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a chain");
        goto done;
    }
    for (i = 1; i < n_certs; i++) {
        x = parse_der(certs[i].data, certs[i].len);
        if (x == NULL) {
            ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                               "certificate %zu of the %s's chain (%zu "
                               "bytes) is not a DER X.509 certificate",
                               i, role_name(role), certs[i].len);
            goto done;
        }
        if (sk_X509_push(untrusted, x) <= 0) {
            ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for a chain");
            goto done;
        }
        x = NULL;
    }
    ret = run_verify(t, leaf, untrusted, role, now, earliest);
    if (ret == GP11_OK)
        ret = check_leaf_usage(leaf, role);
    if (ret == GP11_OK) {
        *leaf_out = leaf;
        leaf = NULL;
    }
done:
    X509_free(x);
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    ERR_clear_error();
    return ret;
}

/*
 * Validates a peer's chain, usage and (acceptor) host name at now. A
 * chain these anchors validated before, still within its validity, is
 * taken from their cache (not when CRLs apply: certcache.c); the host is
 * checked every time.
 */
uint32_t gp11_certval_verify(struct gp11_trust *t, const struct gp11_buf *certs,
                             size_t n_certs, enum gp11_peer_role role,
                             const char *host, time_t now, X509 **leaf_out,
                             time_t *not_after)
{
    uint8_t key[GP11_CERTCACHE_KEY_LEN];
    char subject[SUBJECT_MAX];
    uint32_t ret = GP11_OK;
    time_t earliest = 0;
    bool cacheable, cached = false;
    X509 *leaf = NULL;

    if (leaf_out != NULL)
        *leaf_out = NULL;
    if (not_after != NULL)
        *not_after = 0;
    if (t == NULL || certs == NULL || n_certs == 0 ||
        (role != GP11_PEER_ACCEPTOR && role != GP11_PEER_INITIATOR) ||
        (host != NULL && *host == '\0')) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "certval_verify needs anchors, at least one "
                           "certificate, a role and a non-empty host or NULL");
        goto done;
    }
    if (n_certs > GP11_CERTVAL_MAX_CHAIN) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "the %s sent %zu certificates, more than the %d "
                           "allowed",
                           role_name(role), n_certs, GP11_CERTVAL_MAX_CHAIN);
        goto done;
    }
    cacheable = t->cache != NULL && t->crls == NULL &&
                gp11_certcache_key((int)role, certs, n_certs, key);
    if (cacheable)
        leaf = gp11_certcache_get(t->cache, key, now, &earliest);
    cached = leaf != NULL;
    if (!cached) {
        ret = validate_chain(t, certs, n_certs, role, now, &leaf, &earliest);
        if (ret != GP11_OK)
            goto done;
        if (cacheable)
            gp11_certcache_put(t->cache, key, leaf, now, earliest);
    }
    if (role == GP11_PEER_ACCEPTOR && host != NULL) {
        ret = check_host(leaf, host);
        if (ret != GP11_OK)
            goto done;
    }
    if (gp11_debug_on) {
        subject_str(leaf, subject, sizeof(subject));
        GP11_DEBUG("%s certificate \"%s\" verified (%zu in the message%s)",
                   role_name(role), subject, n_certs,
                   cached ? ", validated before" : "");
    }
    if (not_after != NULL)
        *not_after = earliest;
    if (leaf_out != NULL) {
        *leaf_out = leaf;
        leaf = NULL;
    }
done:
    X509_free(leaf);
    ERR_clear_error();
    return ret;
}

/* Checks our own certificate at acquisition: validity and key type. */
uint32_t gp11_cert_check_own(const uint8_t *der, size_t len, time_t now,
                             time_t *not_after, uint8_t *sigalg)
{
    char subject[SUBJECT_MAX];
    char when[TIME_MAX];
    char desc[96];
    uint32_t ret = GP11_OK;
    X509 *x = NULL;
    time_t nb;
    time_t na;
    uint8_t alg;

    if (not_after != NULL)
        *not_after = 0;
    if (sigalg != NULL)
        *sigalg = SIG_NONE;
    if (der == NULL && len != 0) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "cert_check_own: no DER");
        goto done;
    }
    ERR_clear_error();
    x = parse_der(der, len);
    if (x == NULL) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "our certificate (%zu bytes) is not a DER X.509 "
                           "certificate",
                           len);
        goto done;
    }
    subject_str(x, subject, sizeof(subject));
    if (!asn1_to_time(X509_get0_notBefore(x), &nb) ||
        !asn1_to_time(X509_get0_notAfter(x), &na)) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "our certificate \"%s\" has an unreadable validity "
                           "period",
                           subject);
        goto done;
    }
    /* Both bounds are inclusive (RFC 5280 4.1.2.5), as in OpenSSL. */
    if (now < nb) {
        time_str(nb, when, sizeof(when));
        ret = gp11_err_set(GP11_ERR_CERT_NOT_YET_VALID,
                           "our certificate \"%s\" is not valid before %s",
                           subject, when);
        goto done;
    }
    if (now > na) {
        time_str(na, when, sizeof(when));
        ret =
            gp11_err_set(GP11_ERR_CERT_EXPIRED,
                         "our certificate \"%s\" expired on %s", subject, when);
        goto done;
    }
    alg = key_sigalg(X509_get0_pubkey(x), desc, sizeof(desc));
    if (alg == SIG_NONE) {
        ret = gp11_err_set(GP11_ERR_CERT_USAGE,
                           "our certificate \"%s\" has an unsupported key "
                           "type, %s (supported: EC P-256, EC P-384, RSA of "
                           "%d to %d bits)",
                           subject, desc, GP11_CERTVAL_RSA_MIN_BITS,
                           GP11_CERTVAL_RSA_MAX_BITS);
        goto done;
    }
    if (not_after != NULL)
        *not_after = na;
    if (sigalg != NULL)
        *sigalg = alg;
done:
    X509_free(x);
    ERR_clear_error();
    return ret;
}

/* The sigalg of a peer's leaf, SIG_NONE if unsupported. */
uint8_t gp11_cert_sigalg(X509 *leaf)
{
    char desc[96];

    if (leaf == NULL)
        return SIG_NONE;
    return key_sigalg(X509_get0_pubkey(leaf), desc, sizeof(desc));
}

/* Encodes raw r || s (2 * half bytes) as a DER ECDSA-Sig-Value. */
static uint32_t ecdsa_der(const uint8_t *raw, size_t half, uint8_t **der,
                          size_t *der_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(raw + half, (int)half, NULL);
    unsigned char *out = NULL;
    uint32_t ret = GP11_OK;
    int n;

    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        ret = ossl_fail(GP11_ERR_NOMEM, "cannot hold an ECDSA signature");
        goto done;
    }
    r = NULL; /* owned by es now */
    s = NULL;
    n = i2d_ECDSA_SIG(es, &out);
    if (n <= 0) {
        ret = ossl_fail(GP11_ERR_NOMEM, "cannot encode an ECDSA signature");
        goto done;
    }
    *der = out;
    *der_len = (size_t)n;
done:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return ret;
}

/* Verifies a handshake signature over context || th with the leaf's key. */
uint32_t gp11_sig_verify(X509 *leaf, uint8_t sigalg, const uint8_t *context,
                         size_t context_len, const uint8_t *th, size_t th_len,
                         const uint8_t *sig, size_t sig_len)
{
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *mctx = NULL;
    uint8_t *der = NULL;
    const uint8_t *vsig = sig;
    size_t vlen = sig_len;
    uint32_t ret = GP11_OK;
    const char *md;
    EVP_PKEY *pkey;
    char desc[96];
    size_t want;
    uint8_t have;

    if (leaf == NULL || (sig == NULL && sig_len != 0) ||
        (context == NULL && context_len != 0) || (th == NULL && th_len != 0)) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "sig_verify needs a certificate and its inputs");
        goto done;
    }
    ERR_clear_error();
    pkey = X509_get0_pubkey(leaf);
    have = key_sigalg(pkey, desc, sizeof(desc));
    if (sigalg == SIG_NONE || have != sigalg) {
        ret = gp11_err_set(GP11_ERR_SIGNATURE,
                           "handshake signature invalid: the peer's %s key "
                           "cannot make signatures of algorithm %u",
                           desc, (unsigned)sigalg);
        goto done;
    }
    md = sigalg == SIG_P384 ? "SHA384" : "SHA256";
    if (sigalg == SIG_RSA_PSS)
        want = (size_t)EVP_PKEY_get_size(pkey);
    else
        want = sigalg == SIG_P256 ? 64 : 96;
    if (sig_len != want) {
        ret = gp11_err_set(GP11_ERR_SIGNATURE,
                           "handshake signature invalid: %zu bytes where "
                           "signatures of the peer's %s key have %zu",
                           sig_len, desc, want);
        goto done;
    }
    if (sigalg != SIG_RSA_PSS) {
        ret = ecdsa_der(sig, want / 2, &der, &vlen);
        if (ret != GP11_OK)
            goto done;
        vsig = der;
    }
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL ||
        EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, pkey, NULL) != 1) {
        ret = ossl_fail(GP11_ERR_SIGNATURE,
                        "handshake signature invalid: cannot start a %s "
                        "verification",
                        md);
        goto done;
    }
    if (sigalg == SIG_RSA_PSS &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PSS_SALT_LEN) != 1)) {
        ret = ossl_fail(GP11_ERR_SIGNATURE,
                        "handshake signature invalid: cannot set up RSA-PSS");
        goto done;
    }
    if ((context_len != 0 &&
         EVP_DigestVerifyUpdate(mctx, context, context_len) != 1) ||
        (th_len != 0 && EVP_DigestVerifyUpdate(mctx, th, th_len) != 1)) {
        ret = ossl_fail(GP11_ERR_SIGNATURE,
                        "handshake signature invalid: cannot hash the "
                        "transcript");
        goto done;
    }
    if (EVP_DigestVerifyFinal(mctx, vsig, vlen) != 1) {
        ret = gp11_err_set(GP11_ERR_SIGNATURE,
                           "handshake signature invalid: it does not verify "
                           "with the peer's %s key",
                           desc);
        goto done;
    }
done:
    OPENSSL_free(der);
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    return ret;
}
