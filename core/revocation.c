/* SPDX-License-Identifier: Apache-2.0 */
/* CRLs: loading [trust] crls and checking a verified chain against them. */
#include "gp11_revocation.h"
#include "gp11_file.h"
#include "gp11_debug.h"
#include "gp11_error.h"
#include "gp11_runtime.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define NAME_MAX_SHOWN 256
#define TIME_MAX 40

struct gp11_crls {
    atomic_uint refs;
    enum gp11_crl_policy policy;
    X509_CRL **crl;
    size_t n;
    size_t cap;
};

struct gp11_crls *gp11_crls_ref(struct gp11_crls *c)
{
    if (c != NULL)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void gp11_crls_free(struct gp11_crls *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (size_t i = 0; i < c->n; i++)
        X509_CRL_free(c->crl[i]);
    free(c->crl);
    free(c);
}

/* Writes name (RFC 2253, printable ASCII only, maybe shortened) to buf. */
static void name_str(const X509_NAME *name, char *buf, size_t len)
{
    char tmp[NAME_MAX_SHOWN];
    BIO *bio = BIO_new(BIO_s_mem());
    int n = 0;

    snprintf(buf, len, "(unknown name)");
    if (bio != NULL && name != NULL &&
        X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_read(bio, tmp, (int)sizeof(tmp) - 1);
    if (n > 0) {
        for (int i = 0; i < n; i++)
            if (tmp[i] < 0x20 || tmp[i] > 0x7e)
                tmp[i] = '?';
        tmp[n] = '\0';
        snprintf(buf, len, "%s", tmp);
    }
    BIO_free(bio);
    ERR_clear_error();
}

/* Formats an ASN1_TIME as "2027-11-22 10:00:00 UTC". */
static void asn1_time_str(const ASN1_TIME *a, char *buf, size_t len)
{
    struct tm tm;

    if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1 ||
        strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, len, "(unreadable date)");
    ERR_clear_error();
}

/* True when a is after t (a NULL or unreadable a counts as after). */
static bool time_after(const ASN1_TIME *a, time_t t)
{
    return a == NULL || X509_cmp_time(a, &t) >= 0;
}

/* Refuses a CRL that is not a complete CRL with a nextUpdate. */
static uint32_t check_crl_form(X509_CRL *crl, const char *path)
{
    const STACK_OF(X509_REVOKED) * revs;
    const X509_EXTENSION *ext;
    char issuer[NAME_MAX_SHOWN];
    uint32_t ret = GP11_OK;
    int nid;
    int i;

    name_str(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
    if (X509_CRL_get0_nextUpdate(crl) == NULL) {
        ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                           "the CRL of \"%s\" in %s has no nextUpdate", issuer,
                           path);
        goto done;
    }
    for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
        ext = X509_CRL_get_ext(crl, i);
        nid = OBJ_obj2nid(X509_EXTENSION_get_object((X509_EXTENSION *)ext));
        if (nid == NID_delta_crl) {
            ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                               "the CRL of \"%s\" in %s is a delta CRL; only "
                               "complete CRLs are supported",
                               issuer, path);
            goto done;
        }
        if (nid == NID_issuing_distribution_point ||
            X509_EXTENSION_get_critical(ext)) {
            ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                               "the CRL of \"%s\" in %s has a %s extension "
                               "(%s); only complete CRLs without scope are "
                               "supported",
                               issuer, path,
                               X509_EXTENSION_get_critical(ext) ? "critical"
                                                                : "scoping",
                               nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
            goto done;
        }
    }
    revs = X509_CRL_get_REVOKED(crl);
    for (i = 0; revs != NULL && i < sk_X509_REVOKED_num(revs); i++) {
        const X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
        const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(r);

        for (int j = 0; exts != NULL && j < sk_X509_EXTENSION_num(exts); j++)
            if (X509_EXTENSION_get_critical(sk_X509_EXTENSION_value(exts, j))) {
                ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                                   "the CRL of \"%s\" in %s has an entry "
                                   "with a critical extension (indirect "
                                   "CRLs are not supported)",
                                   issuer, path);
                goto done;
            }
    }
done:
    return ret;
}

/* Appends crl to the set after checking its form; takes ownership. */
static uint32_t add_crl(struct gp11_crls *c, X509_CRL *crl, const char *path)
{
    X509_CRL **grown;
    uint32_t ret;

    ret = check_crl_form(crl, path);
    if (ret != GP11_OK)
        goto fail;
    if (c->n >= GP11_CRL_MAX) {
        ret =
            gp11_err_set(GP11_ERR_CONFIG_VALUE,
                         "more than %d CRLs in the [trust] crls", GP11_CRL_MAX);
        goto fail;
    }
    if (c->n == c->cap) {
        grown = realloc(c->crl, (c->cap ? c->cap * 2 : 8) * sizeof(*grown));
        if (grown == NULL) {
            ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory for CRLs");
            goto fail;
        }
        c->crl = grown;
        c->cap = c->cap ? c->cap * 2 : 8;
    }
    /* The first lookup sorts the CRL's entries (under OpenSSL's lock);
     * doing it here keeps that write out of the shared, checking phase. */
    {
        ASN1_INTEGER *zero = ASN1_INTEGER_new();
        X509_REVOKED *unused = NULL;

        if (zero != NULL)
            (void)X509_CRL_get0_by_serial(crl, &unused, zero);
        ASN1_INTEGER_free(zero);
    }
    c->crl[c->n++] = crl;
    return GP11_OK;
fail:
    X509_CRL_free(crl);
    return ret;
}

/* PEM passphrase callback that refuses. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

uint32_t gp11_crls_add_mem(struct gp11_crls *c, const uint8_t *data, size_t len,
                           const char *path)
{
    const unsigned char *q;
    size_t found = 0;
    X509_CRL *crl;
    BIO *bio = NULL;
    uint32_t ret = GP11_OK;
    unsigned long e;

    ERR_clear_error();
    if (len > (size_t)GP11_CRL_FILE_MAX) {
        ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                           "the CRL file %s is larger than %ld MiB", path,
                           GP11_CRL_FILE_MAX >> 20);
        goto done;
    }
    if (len > 0 && data[0] == 0x30) { /* a DER SEQUENCE */
        q = data;
        crl = d2i_X509_CRL(NULL, &q, (long)len);
        if (crl == NULL || q != data + len) {
            X509_CRL_free(crl);
            ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                               "the CRL file %s is not one DER CRL", path);
            goto done;
        }
        ret = add_crl(c, crl, path);
        goto done;
    }
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    for (;;) {
        crl = PEM_read_bio_X509_CRL(bio, NULL, no_passphrase, NULL);
        if (crl == NULL) {
            e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                break;
            ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                               "the CRL file %s has a malformed PEM CRL after "
                               "%zu good ones",
                               path, found);
            goto done;
        }
        ret = add_crl(c, crl, path);
        if (ret != GP11_OK)
            goto done;
        found++;
    }
    if (found == 0)
        ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                           "the CRL file %s holds no PEM \"X509 CRL\" block "
                           "and is not a DER CRL",
                           path);
done:
    BIO_free(bio);
    ERR_clear_error();
    return ret;
}

/* Adds the CRLs of one file: PEM "X509 CRL" blocks or one DER CRL. */
static uint32_t add_crl_file(struct gp11_crls *c, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    uint32_t ret;

    ret = gp11_file_read(path, "CRL file", GP11_CRL_FILE_MAX, &data, &len);
    if (ret == GP11_OK)
        ret = gp11_crls_add_mem(c, data, len, path);
    free(data);
    return ret;
}

/* True for names ending in .pem, .crl or .der (any case). */
static bool crl_name(const char *name)
{
    size_t n = strlen(name);

    return n > 4 && name[0] != '.' &&
           (strcasecmp(name + n - 4, ".pem") == 0 ||
            strcasecmp(name + n - 4, ".crl") == 0 ||
            strcasecmp(name + n - 4, ".der") == 0);
}

/* Adds the CRL files of a directory, in name order. */
static uint32_t add_crl_dir(struct gp11_crls *c, const char *dir)
{
    struct dirent **ents = NULL;
    char path[PATH_MAX];
    struct stat sb;
    uint32_t ret = GP11_OK;
    int n;
    int i;

    n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return gp11_err_set(GP11_ERR_CONFIG_MISSING,
                            "cannot list the CRL directory %s: %s", dir,
                            strerror(errno));
    for (i = 0; i < n && ret == GP11_OK; i++) {
        if (!crl_name(ents[i]->d_name))
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
                             ents[i]->d_name) >= sizeof(path) ||
            stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        ret = add_crl_file(c, path);
    }
    for (i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return ret;
}

uint32_t gp11_crls_new(enum gp11_crl_policy policy, struct gp11_crls **out)
{
    struct gp11_crls *c;

    *out = NULL;
    if (policy != GP11_CRL_REQUIRE && policy != GP11_CRL_IF_PRESENT)
        return gp11_err_set(GP11_ERR_BAD_ARG, "unknown CRL policy %d",
                            (int)policy);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory for CRLs");
    atomic_init(&c->refs, 1);
    c->policy = policy;
    *out = c;
    return GP11_OK;
}

uint32_t gp11_crls_load(const char *path, enum gp11_crl_policy policy,
                        struct gp11_crls **out)
{
    struct gp11_crls *c = NULL;
    struct stat sb;
    uint32_t ret;

    if (path == NULL || out == NULL ||
        (policy != GP11_CRL_REQUIRE && policy != GP11_CRL_IF_PRESENT))
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "crls_load needs a path, a policy and an output");
    *out = NULL;
    if (stat(path, &sb) != 0)
        return gp11_err_set(GP11_ERR_CONFIG_MISSING,
                            "cannot read the CRLs %s: %s", path,
                            strerror(errno));
    ret = gp11_crls_new(policy, &c);
    if (ret != GP11_OK)
        return ret;
    ret = S_ISDIR(sb.st_mode) ? add_crl_dir(c, path) : add_crl_file(c, path);
    if (ret == GP11_OK && c->n == 0)
        ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                           "the CRL directory %s has no *.pem, *.crl or *.der "
                           "CRL file",
                           path);
    if (ret != GP11_OK)
        goto done;
    GP11_DEBUG("%zu CRL(s) loaded from %s (crl-policy %s)", c->n, path,
               policy == GP11_CRL_REQUIRE ? "require" : "if-present");
    *out = c;
    c = NULL;
done:
    gp11_crls_free(c);
    return ret;
}

/*
 * The newest CRL of issuer (by thisUpdate, not in the future) signed by its
 * key; NULL if there is none. *seen counts CRLs naming the issuer.
 */
static X509_CRL *find_crl(const struct gp11_crls *c, X509 *cert, X509 *issuer,
                          time_t now, size_t *seen, size_t *future)
{
    const X509_NAME *want = X509_get_issuer_name(cert);
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    X509_CRL *best = NULL;
    X509_CRL *crl;
    uint32_t flags = X509_get_extension_flags(issuer);

    *seen = 0;
    *future = 0;
    /* An issuer whose keyUsage lacks cRLSign signs no CRL we accept. */
    if (key == NULL || ((flags & EXFLAG_KUSAGE) != 0 &&
                        (X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0))
        goto done;
    for (size_t i = 0; i < c->n; i++) {
        crl = c->crl[i];
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), want) != 0)
            continue;
        (*seen)++;
        if (X509_CRL_verify(crl, key) != 1)
            continue;
        if (time_after(X509_CRL_get0_lastUpdate(crl), now)) {
            (*future)++;
            continue;
        }
        if (best == NULL ||
            ASN1_TIME_compare(X509_CRL_get0_lastUpdate(crl),
                              X509_CRL_get0_lastUpdate(best)) > 0)
            best = crl;
    }
done:
    ERR_clear_error();
    return best;
}

/* The reason code of a revoked entry as text ("" when absent). */
static const char *reason_str(const X509_REVOKED *rev)
{
    ASN1_ENUMERATED *e;
    const char *s = "";
    long r;

    e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    if (e == NULL)
        goto done;
    r = ASN1_ENUMERATED_get(e);
    switch (r) {
    case 1:
        s = ", reason keyCompromise";
        break;
    case 2:
        s = ", reason cACompromise";
        break;
    case 3:
        s = ", reason affiliationChanged";
        break;
    case 4:
        s = ", reason superseded";
        break;
    case 5:
        s = ", reason cessationOfOperation";
        break;
    case 6:
        s = ", reason certificateHold";
        break;
    case 9:
        s = ", reason privilegeWithdrawn";
        break;
    default:
        s = ", reason unspecified";
        break;
    }
    ASN1_ENUMERATED_free(e);
done:
    ERR_clear_error();
    return s;
}

/* Checks one certificate (depth in the chain) against its issuer's CRL. */
static uint32_t check_one(const struct gp11_crls *c, X509 *cert, X509 *issuer,
                          int depth, const char *role, time_t now)
{
    char subject[NAME_MAX_SHOWN];
    char iss[NAME_MAX_SHOWN];
    char when[TIME_MAX];
    char who[NAME_MAX_SHOWN + 96];
    X509_REVOKED *rev = NULL;
    uint32_t ret = GP11_OK;
    size_t seen;
    size_t future;
    X509_CRL *crl;
    bool current;

    name_str(X509_get_subject_name(cert), subject, sizeof(subject));
    name_str(X509_get_issuer_name(cert), iss, sizeof(iss));
    if (depth == 0)
        snprintf(who, sizeof(who), "the %s's certificate \"%s\"", role,
                 subject);
    else
        snprintf(who, sizeof(who),
                 "the CA certificate \"%s\" at depth %d of the %s's chain",
                 subject, depth, role);
    crl = find_crl(c, cert, issuer, now, &seen, &future);
    if (crl == NULL) {
        if (c->policy == GP11_CRL_IF_PRESENT)
            goto done;
        if (future != 0)
            ret = gp11_err_set(GP11_ERR_CRL_EXPIRED,
                               "the only CRL for issuer \"%s\" of %s is not "
                               "valid yet (its thisUpdate is ahead; "
                               "crl-policy require)",
                               iss, who);
        else
            ret = gp11_err_set(GP11_ERR_CRL_MISSING,
                               "no CRL for issuer \"%s\" of %s (%zu CRL(s) "
                               "name the issuer, none signed by its key; "
                               "[trust] crls, crl-policy require)",
                               iss, who, seen);
        goto done;
    }
    current = time_after(X509_CRL_get0_nextUpdate(crl), now);
    if (!current && c->policy == GP11_CRL_REQUIRE) {
        asn1_time_str(X509_CRL_get0_nextUpdate(crl), when, sizeof(when));
        ret = gp11_err_set(GP11_ERR_CRL_EXPIRED,
                           "CRL expired: the newest CRL of \"%s\", needed for "
                           "%s, was due for renewal on %s (crl-policy "
                           "require)",
                           iss, who, when);
        goto done;
    }
    if (X509_CRL_get0_by_cert(crl, &rev, cert) == 1) {
        asn1_time_str(X509_REVOKED_get0_revocationDate(rev), when,
                      sizeof(when));
        ret = gp11_err_set(GP11_ERR_CERT_REVOKED,
                           "certificate revoked: %s was revoked on %s%s "
                           "(CRL of \"%s\")",
                           who, when, reason_str(rev), iss);
        goto done;
    }
    if (!current)
        GP11_DEBUG("the CRL of \"%s\" is out of date; %s accepted under "
                   "crl-policy if-present",
                   iss, who);
done:
    ERR_clear_error();
    return ret;
}

uint32_t gp11_crls_check(const struct gp11_crls *c, STACK_OF(X509) * chain,
                         const char *role, time_t now)
{
    uint32_t ret = GP11_OK;
    int n;

    if (c == NULL)
        goto done;
    n = chain != NULL ? sk_X509_num(chain) : 0;
    if (n < 1) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "crls_check needs a chain");
        goto done;
    }
    /* The last certificate is the anchor, trusted as configured. */
    for (int i = 0; i + 1 < n; i++) {
        ret = check_one(c, sk_X509_value(chain, i), sk_X509_value(chain, i + 1),
                        i, role, now);
        if (ret != GP11_OK)
            goto done;
    }
done:
    return ret;
}

uint32_t gp11_revocation_store_trust(struct gp11_runtime *rt,
                                     const char *anchors,
                                     const char *initiator_anchors,
                                     const char *acceptor_anchors,
                                     const char *crls, struct gp11_trust **out)
{
    struct gp11_crls *own = NULL;
    struct gp11_trust *t = NULL, *base = NULL;
    uint32_t ret;

    *out = NULL;
    /* The runtime's anchors as they are now (they may be reloaded). */
    ret = gp11_runtime_trust(rt, &base);
    if (ret == GP11_OK)
        ret = gp11_trust_load_roles(anchors, initiator_anchors,
                                    acceptor_anchors, base, &t);
    gp11_trust_free(base);
    if (ret == GP11_OK && t == NULL) {
        ret = gp11_err_set(GP11_ERR_CONFIG_VALUE,
                           "trust-crls needs trust anchors (the "
                           "trust-anchors store key or [trust] anchors)");
        goto done;
    }
    if (ret == GP11_OK && crls != NULL)
        ret = gp11_crls_load(crls,
                             rt->cfg->crl_policy != 0 ? rt->cfg->crl_policy
                                                      : GP11_CRL_REQUIRE,
                             &own);
    if (ret != GP11_OK)
        goto done;
    gp11_trust_set_crls(t, crls != NULL ? own : rt->crls);
    *out = t;
    t = NULL;
done:
    gp11_crls_free(own);
    gp11_trust_free(t);
    return ret;
}
