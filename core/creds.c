/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials: identities on the token and the anchors to judge peers. */
#include "gp11_cred.h"
#include "gp11_log.h"
#include "gp11_revocation.h"

#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Frees what a credential's identity holds (not the struct itself). */
static void cred_id_clear(struct gp11_cred_id *ci)
{
    gp11_identity_free(ci->id);
    gp11_name_free(ci->name);
    free(ci->service);
    free(ci->uri);
    memset(ci, 0, sizeof(*ci));
}

void gp11_cred_free(struct gp11_cred *cred)
{
    if (cred == NULL)
        return;
    for (size_t i = 0; i < cred->n_ids; i++)
        cred_id_clear(&cred->ids[i]);
    free(cred->ids);
    gp11_trust_free(cred->trust); /* always a reference of its own */
    free(cred);
}

/* ---- the identity cache (docs/token-layer.md 6) ----------------------- */
/*
 * An identity resolved on the token (key handle, certificate and chain,
 * the checks of add_identity passed, its name), kept per runtime and keyed
 * by (URI, role, service), so that neither a new credential nor a new
 * context looks it up again. An entry is used while it is valid: same fork
 * generation, same token loss epoch, and not marked stale (a signature
 * with its key handle failed, gp11_idcache_stale); otherwise it is
 * resolved again, once, by the next user. Entries are immutable and
 * reference counted: a user holds its entry while it copies from it.
 */
struct idc_entry {
    struct idc_entry *next;
    atomic_uint refs;
    struct gp11_cred_id ci; /* ci.uri, ci.service: the key */
    unsigned generation;
    unsigned epoch;
    time_t not_before; /* of the certificate; ci.not_after the other end */
    atomic_bool stale;
};

static pthread_mutex_t idc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idc_entry *idc_head; /* protected by idc_lock */
static atomic_ulong idc_resolves;  /* identities resolved on the token */

/* Drops a reference; the last one frees the entry. */
static void idc_put(struct idc_entry *e)
{
    if (e == NULL || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    cred_id_clear(&e->ci);
    free(e);
}

/* True if a and b are both NULL or equal strings. */
static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* True if the entry may be used now. */
static bool idc_valid(const struct idc_entry *e, struct gp11_token *tok)
{
    return e->generation == gp11_fork_generation() &&
           e->epoch == gp11_token_epoch(tok) && !atomic_load(&e->stale);
}

/* The valid entry for the key, referenced, or NULL. */
static struct idc_entry *idc_get(struct gp11_token *tok, const char *uri,
                                 const char *service, bool initiator)
{
    struct idc_entry *e;

    pthread_mutex_lock(&idc_lock);
    for (e = idc_head; e; e = e->next)
        if (e->ci.initiator == initiator && strcmp(e->ci.uri, uri) == 0 &&
            same_str(e->ci.service, service))
            break;
    if (e && idc_valid(e, tok))
        atomic_fetch_add(&e->refs, 1);
    else
        e = NULL;
    pthread_mutex_unlock(&idc_lock);
    return e;
}

/* Enters a resolved identity (a copy of ci), replacing an older entry of
 * the same key. A failure only means it is not cached. */
/* The certificate's notBefore (0 if unreadable: then every use runs the
 * full check, which reports it). */
static time_t cert_not_before(const struct gp11_identity *id)
{
    const unsigned char *p = id->cert_der;
    X509 *x = d2i_X509(NULL, &p, (long)id->cert_len);
    struct tm tm;
    time_t t = 0;

    if (x != NULL && ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1)
        t = timegm(&tm);
    X509_free(x);
    return t;
}

static void idc_put_new(struct gp11_token *tok, const struct gp11_cred_id *ci,
                        unsigned generation, unsigned epoch)
{
    struct idc_entry *e = calloc(1, sizeof(*e)), **pp;

    if (e == NULL)
        return;
    atomic_init(&e->refs, 1);
    e->ci = *ci;
    e->ci.id = gp11_identity_dup(ci->id);
    e->ci.uri = strdup(ci->uri);
    e->ci.service = ci->service ? strdup(ci->service) : NULL;
    e->ci.name = NULL;
    e->generation = generation;
    e->epoch = epoch;
    e->not_before = cert_not_before(ci->id);
    if (e->not_before == 0)
        e->not_before = (time_t)INT64_MAX; /* unreadable: always check */
    if (e->ci.id == NULL || e->ci.uri == NULL ||
        (ci->service && e->ci.service == NULL) ||
        gp11_name_dup(ci->name, &e->ci.name) != GP11_OK) {
        idc_put(e);
        return;
    }
    (void)tok;
    pthread_mutex_lock(&idc_lock);
    for (pp = &idc_head; *pp; pp = &(*pp)->next)
        if ((*pp)->ci.initiator == ci->initiator &&
            strcmp((*pp)->ci.uri, ci->uri) == 0 &&
            same_str((*pp)->ci.service, ci->service)) {
            struct idc_entry *old = *pp;

            e->next = old->next;
            *pp = e;
            idc_put(old);
            e = NULL;
            break;
        }
    if (e) {
        e->next = idc_head;
        idc_head = e;
    }
    pthread_mutex_unlock(&idc_lock);
}

void gp11_idcache_stale(const void *ckaid, size_t len)
{
    pthread_mutex_lock(&idc_lock);
    for (struct idc_entry *e = idc_head; e; e = e->next)
        if (e->ci.id->id_len == len && memcmp(e->ci.id->id, ckaid, len) == 0)
            atomic_store(&e->stale, true);
    pthread_mutex_unlock(&idc_lock);
}

unsigned long gp11_idcache_resolves(void)
{
    return atomic_load(&idc_resolves);
}

/* Fills ci (empty on entry) as a copy of the entry's. */
static uint32_t copy_cred_id(const struct gp11_cred_id *from,
                             struct gp11_cred_id *ci)
{
    *ci = *from;
    ci->id = gp11_identity_dup(from->id);
    ci->uri = strdup(from->uri);
    ci->service = from->service ? strdup(from->service) : NULL;
    ci->name = NULL;
    if (ci->id == NULL || ci->uri == NULL ||
        (from->service && ci->service == NULL) ||
        gp11_name_dup(from->name, &ci->name) != GP11_OK) {
        cred_id_clear(ci);
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    }
    return GP11_OK;
}

/* The name an identity authenticates as: its certificate's for an
 * initiator, the configured service for an acceptor. */
static uint32_t identity_name(const struct gp11_cred_id *ci,
                              const char *user_san, struct gp11_name **out)
{
    const unsigned char *p = ci->id->cert_der;
    X509 *leaf;
    uint32_t ret;

    if (!ci->initiator && ci->service)
        return gp11_name_new(GP11_NAME_HOSTBASED, ci->service, out);
    leaf = d2i_X509(NULL, &p, (long)ci->id->cert_len);
    if (leaf == NULL)
        return gp11_err_set(GP11_ERR_CERT_INVALID,
                            "the certificate of identity '%s' does not parse",
                            ci->id->label);
    ret = gp11_name_from_cert_ex(leaf, false, NULL, true, NULL, user_san, out);
    X509_free(leaf);
    return ret;
}

/* Refuses an identity key that can leave, or once could leave, the token
 * in the clear, unless [policy] allow-extractable-identity = yes. */
static uint32_t check_exposure(const struct gp11_identity *id,
                               const struct gp11_config *cfg)
{
    static const struct {
        unsigned bit;
        const char *what;
    } why[] = {
        {GP11_KEY_EXTRACTABLE, "CKA_EXTRACTABLE is TRUE"},
        {GP11_KEY_NOT_SENSITIVE, "CKA_SENSITIVE is FALSE"},
        {GP11_KEY_WAS_EXTRACTABLE,
         "CKA_NEVER_EXTRACTABLE is FALSE (it was extractable or imported)"},
        {GP11_KEY_WAS_NOT_SENSITIVE,
         "CKA_ALWAYS_SENSITIVE is FALSE (it was once readable or imported)"},
    };

    if (cfg->allow_extractable_identity)
        return GP11_OK;
    for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++)
        if (id->exposed & why[i].bit)
            return gp11_err_set(
                GP11_ERR_IDENTITY_EXPOSED,
                "identity key '%s' on token '%s' is refused: %s, so the key "
                "can leave (or has left) the token; generate it in the token "
                "as sensitive and not extractable, or set [policy] "
                "allow-extractable-identity = yes in %s",
                id->label ? id->label : "", id->token_label, why[i].what,
                cfg->path);
    return GP11_OK;
}

/* Resolves the identity named by uri on the token into ci (empty on
 * entry): key, certificate, chain, every check, its name. */
static uint32_t resolve_identity(struct gp11_runtime *rt, const char *uri,
                                 const char *service, bool initiator,
                                 struct gp11_cred_id *ci)
{
    uint32_t ret;

    ci->initiator = initiator;
    if ((ci->uri = strdup(uri)) == NULL ||
        (service && (ci->service = strdup(service)) == NULL))
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    atomic_fetch_add(&idc_resolves, 1);
    ret = gp11_identity_find(rt->tok, uri, &ci->id);
    if (ret != GP11_OK)
        return ret;
    ret = check_exposure(ci->id, rt->cfg);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_cert_check_own(ci->id->cert_der, ci->id->cert_len, time(NULL),
                              &ci->not_after, &ci->sigalg);
    if (ret == GP11_OK)
        ret = identity_name(ci, rt->cfg->user_name_san, &ci->name);
    return ret;
}

uint32_t gp11_idcache_lookup(struct gp11_runtime *rt, const char *uri,
                             const char *service, bool initiator,
                             struct gp11_cred_id *ci)
{
    struct idc_entry *e = idc_get(rt->tok, uri, service, initiator);
    unsigned generation, epoch;
    uint32_t ret;

    memset(ci, 0, sizeof(*ci));
    if (e != NULL) {
        time_t now = time(NULL);
        bool in_dates = now >= e->not_before && now <= e->ci.not_after;

        ret = copy_cred_id(&e->ci, ci);
        idc_put(e);
        /* The token was not asked; the certificate's dates still are
         * (both bounds inclusive, as gp11_cert_check_own, which says
         * why when they do not hold). */
        if (ret == GP11_OK && !in_dates)
            ret = gp11_cert_check_own(ci->id->cert_der, ci->id->cert_len, now,
                                      &ci->not_after, &ci->sigalg);
        return ret;
    }
    /* Stamped before the look-up: a loss during it makes the entry old. */
    generation = gp11_fork_generation();
    epoch = gp11_token_epoch(rt->tok);
    ret = resolve_identity(rt, uri, service, initiator, ci);
    if (ret == GP11_OK)
        idc_put_new(rt->tok, ci, generation, epoch);
    return ret;
}

/* Adds the identity named by uri to the credential. */
static uint32_t add_identity(struct gp11_cred *cred, const char *uri,
                             const char *service, bool initiator)
{
    struct gp11_cred_id *grown, *ci;
    uint32_t ret;

    grown = realloc(cred->ids, (cred->n_ids + 1) * sizeof(*grown));
    if (grown == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    cred->ids = grown;
    ci = &cred->ids[cred->n_ids];
    ret = gp11_idcache_lookup(cred->rt, uri, service, initiator, ci);
    cred->n_ids++; /* from here on, gp11_cred_free releases it */
    if (ret == GP11_OK && (cred->expiry == 0 || ci->not_after < cred->expiry))
        cred->expiry = ci->not_after;
    return ret;
}

/* "service@host" or "service" of a hostbased name, into buf. */
static const char *service_text(const struct gp11_name *n, char *buf,
                                size_t len)
{
    if (n == NULL || gp11_name_kind(n) != GP11_NAME_HOSTBASED)
        return NULL;
    if (gp11_name_host(n))
        snprintf(buf, len, "%s@%s", gp11_name_service(n), gp11_name_host(n));
    else
        snprintf(buf, len, "%s", gp11_name_service(n));
    return buf;
}

/* Adds the acceptor identities the name (or its absence) calls for. */
static uint32_t add_acceptors(struct gp11_cred *cred,
                              const struct gp11_name *name,
                              const struct gp11_cred_store *store)
{
    const struct gp11_config *cfg = cred->rt->cfg;
    const char *service, *uri;
    char buf[1100];
    uint32_t ret = GP11_OK;

    if (name && gp11_name_kind(name) != GP11_NAME_HOSTBASED)
        return gp11_err_set(GP11_ERR_BAD_NAME_TYPE,
                            "an acceptor credential needs a host-based "
                            "service name, not '%s'",
                            gp11_name_text(name));
    service = service_text(name, buf, sizeof(buf));
    if (store && store->identity)
        return add_identity(cred, store->identity, service, false);
    if (service) {
        uri = gp11_config_acceptor_identity(cfg, service);
        if (uri == NULL)
            return gp11_err_set(GP11_ERR_NO_IDENTITY_FOR_SERVICE,
                                "no [acceptor] section of %s matches the "
                                "service '%s'",
                                cfg->path, service);
        return add_identity(cred, uri, service, false);
    }
    for (size_t i = 0; i < cfg->n_acceptors && ret == GP11_OK; i++)
        ret = add_identity(cred, cfg->acceptors[i].identity,
                           cfg->acceptors[i].service, false);
    if (ret == GP11_OK && cfg->n_acceptors == 0)
        ret = gp11_err_set(GP11_ERR_NO_IDENTITY_FOR_SERVICE,
                           "%s configures no acceptor identity", cfg->path);
    return ret;
}

/* Adds the initiator identity (cred store, else the configuration). */
static uint32_t add_initiator(struct gp11_cred *cred,
                              const struct gp11_cred_store *store)
{
    const char *uri = store && store->identity
                          ? store->identity
                          : cred->rt->cfg->initiator_identity;

    if (uri == NULL)
        return gp11_err_set(GP11_ERR_NO_CRED,
                            "%s configures no initiator identity "
                            "([initiator] identity)",
                            cred->rt->cfg->path);
    return add_identity(cred, uri, NULL, true);
}

uint32_t gp11_cred_acquire(const struct gp11_name *name, int usage,
                           const struct gp11_cred_store *store,
                           struct gp11_cred **out)
{
    struct gp11_cred *cred;
    uint32_t ret;

    cred = calloc(1, sizeof(*cred));
    if (cred == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    cred->usage = usage;
    ret = gp11_runtime_get(&cred->rt);
    if (ret != GP11_OK)
        goto done;
    ret = gp11_runtime_trust(cred->rt, &cred->trust);
    if (ret != GP11_OK)
        goto done;
    if (store && (store->anchors || store->initiator_anchors ||
                  store->acceptor_anchors || store->crls)) {
        /* A role the store does not name keeps the configured anchors;
         * without trust-crls, the configured CRLs apply. */
        gp11_trust_free(cred->trust);
        cred->trust = NULL;
        ret = gp11_revocation_store_trust(
            cred->rt, store->anchors, store->initiator_anchors,
            store->acceptor_anchors, store->crls, &cred->trust);
        cred->own_trust = ret == GP11_OK;
        if (ret != GP11_OK)
            goto done;
    }
    if (usage == GP11_CRED_INITIATE || usage == GP11_CRED_BOTH)
        ret = add_initiator(cred, store);
    if (ret == GP11_OK &&
        (usage == GP11_CRED_ACCEPT || usage == GP11_CRED_BOTH))
        ret = add_acceptors(cred, usage == GP11_CRED_BOTH ? NULL : name, store);
    if (ret != GP11_OK)
        goto done;
    *out = cred;
    cred = NULL;
done:
    gp11_cred_free(cred);
    return ret;
}

const struct gp11_cred_id *gp11_cred_initiator(const struct gp11_cred *cred)
{
    for (size_t i = 0; cred && i < cred->n_ids; i++)
        if (cred->ids[i].initiator)
            return &cred->ids[i];
    return NULL;
}

/* True if "service@host" a matches service-only or full b. */
static bool service_matches(const char *configured, const char *target)
{
    size_t n = strcspn(configured, "@");

    /* The service is case-sensitive, the host is not (docs/names.md). */
    if (configured[n] == '@')
        return strncmp(configured, target, n + 1) == 0 &&
               strcasecmp(configured + n + 1, target + n + 1) == 0;
    return strncmp(configured, target, n) == 0 &&
           (target[n] == '@' || target[n] == '\0');
}

const struct gp11_cred_id *gp11_cred_acceptor(const struct gp11_cred *cred,
                                              const char *target)
{
    const struct gp11_cred_id *only = NULL, *by_service = NULL;
    size_t n_acc = 0;

    for (size_t i = 0; i < cred->n_ids; i++) {
        const struct gp11_cred_id *ci = &cred->ids[i];

        if (ci->initiator)
            continue;
        n_acc++;
        only = ci;
        if (target == NULL || *target == '\0' || ci->service == NULL ||
            !service_matches(ci->service, target))
            continue;
        /* An exact service@host wins over a service-only section. */
        if (strchr(ci->service, '@'))
            return ci;
        if (by_service == NULL)
            by_service = ci;
    }
    if (by_service)
        return by_service;
    /* The initiator named no target: only an unambiguous choice. */
    return (target == NULL || *target == '\0') && n_acc == 1 ? only : NULL;
}

uint32_t gp11_cred_obtain(const struct gp11_name *name, int usage,
                          const struct gp11_cred_store *store,
                          struct gp11_cred **out)
{
    uint32_t ret = gp11_cred_acquire(name, usage, store, out);

    if (ret != GP11_OK)
        gp11_log_failure(
            usage == GP11_CRED_ACCEPT     ? "acceptor credential failed"
            : usage == GP11_CRED_INITIATE ? "initiator credential failed"
                                          : "credential failed",
            ret);
    return ret;
}
