/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials: references to identities on the token (private key and
 * certificate), never key bytes, plus the trust anchors to check peers.
 * The engine's credentials, no GSS-API type; gss/gp11_creds.h adds the
 * gss_* credential calls.
 */
#ifndef GP11_CRED_H
#define GP11_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gp11_name.h"
#include "gp11_runtime.h"

/* What a credential is for: the values of gss_cred_usage_t (RFC 2744;
 * gss/creds.c checks them). */
enum {
    GP11_CRED_BOTH = 0,
    GP11_CRED_INITIATE = 1,
    GP11_CRED_ACCEPT = 2,
};

/* One identity a credential may use. */
struct gp11_cred_id {
    struct gp11_identity *id;
    char *service;          /* acceptor service ("host@localhost") or NULL */
    struct gp11_name *name; /* the name this identity authenticates as */
    uint8_t sigalg;         /* protocol.md 2.5 */
    time_t not_after;       /* of its certificate */
    bool initiator;         /* usable to initiate (else to accept) */
    char *uri;              /* the identity URI it was resolved from */
};

struct gp11_cred {
    struct gp11_runtime *rt;
    int usage; /* GP11_CRED_* */
    struct gp11_cred_id *ids;
    size_t n_ids;
    struct gp11_trust *trust; /* a reference: the runtime's, or the store's */
    bool own_trust;           /* trust comes from the cred store */
    time_t expiry;            /* earliest certificate expiry */
};

/* Overrides of the configuration (gss_acquire_cred_from cred store). */
struct gp11_cred_store {
    const char *identity;          /* "pkcs11-identity": PKCS#11 URI */
    const char *anchors;           /* "trust-anchors": PEM file or directory */
    const char *initiator_anchors; /* "initiator-anchors": client certs */
    const char *acceptor_anchors;  /* "acceptor-anchors": server certs */
    const char *crls;              /* "trust-crls": CRL file or directory */
};

/*
 * Acquire: initiator identity from the configuration; acceptor identity
 * for the service of name, or every configured acceptor identity when
 * name is NULL. Certificates outside their validity are refused.
 */
uint32_t gp11_cred_acquire(const struct gp11_name *name, int usage,
                           const struct gp11_cred_store *store,
                           struct gp11_cred **out);
void gp11_cred_free(struct gp11_cred *cred);

/* gp11_cred_acquire for a face's acquire call: a failure is also
 * logged, naming the usage. */
uint32_t gp11_cred_obtain(const struct gp11_name *name, int usage,
                          const struct gp11_cred_store *store,
                          struct gp11_cred **out);

/*
 * The identity cache (docs/token-layer.md 6): fills ci (its own copy; the
 * caller frees its members) with the identity uri names in this role,
 * from the cache when its entry is valid (no token call), else resolved on
 * the token with every check of a credential and entered. A cached
 * certificate's dates are checked again on every use.
 */
uint32_t gp11_idcache_lookup(struct gp11_runtime *rt, const char *uri,
                             const char *service, bool initiator,
                             struct gp11_cred_id *ci);

/* Marks every cached identity whose key has this CKA_ID to be resolved
 * again by its next user (its key handle failed or was found again). */
void gp11_idcache_stale(const void *ckaid, size_t len);

/* How many identities were resolved on the token so far (tests). */
unsigned long gp11_idcache_resolves(void);

/* The identity to initiate with (NULL if the credential has none). */
const struct gp11_cred_id *gp11_cred_initiator(const struct gp11_cred *cred);

/* The acceptor identity for a target "service@host" (or "" when the
 * initiator named none): exact service@host, else service, else the only
 * acceptor identity. NULL if none fits. */
const struct gp11_cred_id *gp11_cred_acceptor(const struct gp11_cred *cred,
                                              const char *target);

#endif
