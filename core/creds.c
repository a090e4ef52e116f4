/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials: identities on the token and the anchors to judge peers. */
#include "gp11_creds.h"
#include "gp11_names.h"
#include "gp11_gss.h"
#include "gp11_log.h"
#include "gp11_oid.h"
#include "gp11_revocation.h"

#include <gssapi/gssapi_ext.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STORE_IDENTITY "pkcs11-identity"
#define STORE_ANCHORS "trust-anchors"
#define STORE_INITIATOR_ANCHORS "initiator-anchors"
#define STORE_ACCEPTOR_ANCHORS "acceptor-anchors"
#define STORE_CRLS "trust-crls"

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

uint32_t gp11_cred_acquire(const struct gp11_name *name, gss_cred_usage_t usage,
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
    if (usage == GSS_C_INITIATE || usage == GSS_C_BOTH)
        ret = add_initiator(cred, store);
    if (ret == GP11_OK && (usage == GSS_C_ACCEPT || usage == GSS_C_BOTH))
        ret = add_acceptors(cred, usage == GSS_C_BOTH ? NULL : name, store);
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

/* Reads our keys from a cred store; other mechanisms' keys are theirs. */
static void parse_store(gss_const_key_value_set_t kv,
                        struct gp11_cred_store *store)
{
    memset(store, 0, sizeof(*store));
    for (OM_uint32 i = 0; kv && i < kv->count; i++) {
        if (strcmp(kv->elements[i].key, STORE_IDENTITY) == 0)
            store->identity = kv->elements[i].value;
        else if (strcmp(kv->elements[i].key, STORE_ANCHORS) == 0)
            store->anchors = kv->elements[i].value;
        else if (strcmp(kv->elements[i].key, STORE_INITIATOR_ANCHORS) == 0)
            store->initiator_anchors = kv->elements[i].value;
        else if (strcmp(kv->elements[i].key, STORE_ACCEPTOR_ANCHORS) == 0)
            store->acceptor_anchors = kv->elements[i].value;
        else if (strcmp(kv->elements[i].key, STORE_CRLS) == 0)
            store->crls = kv->elements[i].value;
    }
}

/* True if the set is empty/absent or names our mechanism. */
static bool mech_requested(gss_OID_set mechs)
{
    if (mechs == GSS_C_NO_OID_SET)
        return true;
    for (size_t i = 0; i < mechs->count; i++)
        if (gp11_oid_equal(&mechs->elements[i], gp11_mech_oid()))
            return true;
    return false;
}

/* Seconds until t, 0 if past. */
static OM_uint32 seconds_until(time_t t)
{
    time_t now = time(NULL);

    return t > now ? (OM_uint32)(t - now) : 0;
}

OM_uint32 gp11_gss_acquire_cred_from(OM_uint32 *minor, gss_name_t name,
                                     OM_uint32 time_req, gss_OID_set mechs,
                                     gss_cred_usage_t usage,
                                     gss_const_key_value_set_t kv,
                                     gss_cred_id_t *cred_out,
                                     gss_OID_set *actual, OM_uint32 *time_rec)
{
    const gss_OID_desc *mech = gp11_mech_oid();
    struct gp11_cred_store store;
    struct gp11_cred *cred = NULL;
    uint32_t ret;

    (void)time_req; /* lifetime follows the certificates */
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (cred_out == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *cred_out = GSS_C_NO_CREDENTIAL;
    if (!mech_requested(mechs))
        return GSS_S_BAD_MECH;
    if (usage != GSS_C_INITIATE && usage != GSS_C_ACCEPT && usage != GSS_C_BOTH)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_BAD_ARG,
                                             "unknown credential usage %d",
                                             (int)usage));
    parse_store(kv, &store);
    ret = gp11_cred_acquire(gp11_name_from_gss(name), usage, &store, &cred);
    if (ret != GP11_OK) {
        gp11_log_failure(usage == GSS_C_ACCEPT ? "acceptor credential failed"
                         : usage == GSS_C_INITIATE
                             ? "initiator credential failed"
                             : "credential failed",
                         ret);
        return gp11_fail(minor, ret);
    }
    if (actual && (*actual = gp11_oid_set_new(&mech, 1)) == GSS_C_NO_OID_SET) {
        gp11_cred_free(cred);
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    }
    if (time_rec)
        *time_rec = seconds_until(cred->expiry);
    *cred_out = (gss_cred_id_t)cred;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_acquire_cred(OM_uint32 *minor, gss_name_t name,
                                OM_uint32 time_req, gss_OID_set mechs,
                                gss_cred_usage_t usage, gss_cred_id_t *cred,
                                gss_OID_set *actual, OM_uint32 *time_rec)
{
    return gp11_gss_acquire_cred_from(minor, name, time_req, mechs, usage,
                                      GSS_C_NO_CRED_STORE, cred, actual,
                                      time_rec);
}

OM_uint32 gp11_gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred)
{
    if (minor)
        *minor = 0;
    if (cred == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    gp11_cred_free((struct gp11_cred *)*cred);
    *cred = GSS_C_NO_CREDENTIAL;
    return GSS_S_COMPLETE;
}

/* The credential to inquire: the given one, or a fresh default. */
static uint32_t cred_for_inquiry(gss_cred_id_t in, struct gp11_cred **cred,
                                 bool *temporary)
{
    *temporary = in == GSS_C_NO_CREDENTIAL;
    if (!*temporary) {
        *cred = (struct gp11_cred *)in;
        return GP11_OK;
    }
    return gp11_cred_acquire(NULL, GSS_C_INITIATE, NULL, cred);
}

OM_uint32 gp11_gss_inquire_cred_by_mech(OM_uint32 *minor, gss_cred_id_t in,
                                        gss_OID mech, gss_name_t *name,
                                        OM_uint32 *init_lifetime,
                                        OM_uint32 *accept_lifetime,
                                        gss_cred_usage_t *usage)
{
    struct gp11_cred *cred = NULL;
    struct gp11_name *copy = NULL;
    OM_uint32 life;
    bool temporary;
    uint32_t ret;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (mech != GSS_C_NO_OID && !gp11_oid_equal(mech, gp11_mech_oid()))
        return GSS_S_BAD_MECH;
    ret = cred_for_inquiry(in, &cred, &temporary);
    if (ret == GP11_OK && name && cred->n_ids > 0)
        ret = gp11_name_dup(cred->ids[0].name, &copy);
    if (ret != GP11_OK) {
        if (temporary)
            gp11_cred_free(cred);
        return gp11_fail(minor, ret);
    }
    life = seconds_until(cred->expiry);
    if (name)
        *name = (gss_name_t)copy;
    if (init_lifetime)
        *init_lifetime = cred->usage != GSS_C_ACCEPT ? life : 0;
    if (accept_lifetime)
        *accept_lifetime = cred->usage != GSS_C_INITIATE ? life : 0;
    if (usage)
        *usage = cred->usage;
    if (temporary)
        gp11_cred_free(cred);
    return life ? GSS_S_COMPLETE : GSS_S_CREDENTIALS_EXPIRED;
}

OM_uint32 gp11_gss_inquire_cred(OM_uint32 *minor, gss_cred_id_t in,
                                gss_name_t *name, OM_uint32 *lifetime,
                                gss_cred_usage_t *usage, gss_OID_set *mechs)
{
    const gss_OID_desc *mech = gp11_mech_oid();
    OM_uint32 major, il = 0, al = 0;
    gss_cred_usage_t u = GSS_C_BOTH;

    major = gp11_gss_inquire_cred_by_mech(minor, in, GSS_C_NO_OID, name, &il,
                                          &al, &u);
    if (GSS_ERROR(major))
        return major;
    if (lifetime)
        *lifetime = u == GSS_C_ACCEPT ? al : il;
    if (usage)
        *usage = u;
    if (mechs && (*mechs = gp11_oid_set_new(&mech, 1)) == GSS_C_NO_OID_SET) {
        if (name)
            gp11_gss_release_name(minor, name);
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    }
    return major;
}

/*
 * RFC 2743 2.1.4 for a mechanism with one element per credential: from
 * the default (GSS_C_NO_CREDENTIAL) a new credential of ours, like
 * gss_acquire_cred; a credential of ours already holds our element, so
 * GSS_S_DUPLICATE_ELEMENT. Heimdal's mechglue calls this; MIT's never
 * does (its gss_add_cred acquires through the mechanism instead).
 */
OM_uint32 gp11_gss_add_cred(OM_uint32 *minor, gss_cred_id_t in, gss_name_t name,
                            gss_OID mech, gss_cred_usage_t usage,
                            OM_uint32 itime_req, OM_uint32 atime_req,
                            gss_cred_id_t *out, gss_OID_set *actual,
                            OM_uint32 *itime, OM_uint32 *atime)
{
    OM_uint32 major, life = 0;

    (void)itime_req, (void)atime_req; /* lifetime follows the certificates */
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (out)
        *out = GSS_C_NO_CREDENTIAL;
    if (actual)
        *actual = GSS_C_NO_OID_SET;
    if (itime)
        *itime = 0;
    if (atime)
        *atime = 0;
    if (mech != GSS_C_NO_OID && !gp11_oid_equal(mech, gp11_mech_oid()))
        return GSS_S_BAD_MECH;
    if (in != GSS_C_NO_CREDENTIAL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "add_cred: the credential already holds its "
                              "gss-pkcs11 element");
        return GSS_S_DUPLICATE_ELEMENT;
    }
    if (out == NULL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "add_cred: no output credential, and the "
                              "default credential cannot be modified");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    major = gp11_gss_acquire_cred(minor, name, 0, GSS_C_NO_OID_SET, usage, out,
                                  actual, &life);
    if (GSS_ERROR(major))
        return major;
    if (itime && usage != GSS_C_ACCEPT)
        *itime = life;
    if (atime && usage != GSS_C_INITIATE)
        *atime = life;
    return major;
}
