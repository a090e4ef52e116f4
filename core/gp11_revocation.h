/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Revocation of peer certificates by CRLs ([trust] crls, crl-policy;
 * protocol.md section 2.11). A CRL set is loaded once, shared by reference
 * and never changed afterwards, so checks may run in several threads.
 */
#ifndef GP11_REVOCATION_H
#define GP11_REVOCATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

/* Largest CRL file read, in bytes, and most CRLs in one set. */
#define GP11_CRL_FILE_MAX (16L << 20)
#define GP11_CRL_MAX 4096

/* What a missing or out-of-date CRL means ([trust] crl-policy). */
enum gp11_crl_policy {
    /* Every certificate below the anchor needs a current CRL of its
     * issuer; none, or only an expired one, refuses the chain. */
    GP11_CRL_REQUIRE = 1,
    /* A certificate whose issuer has no CRL is accepted; an expired CRL
     * still revokes what it lists, but its age is not held against the
     * chain. */
    GP11_CRL_IF_PRESENT = 2,
};

/* A set of CRLs with its policy, reference-counted. */
struct gp11_crls;

/*
 * Load the CRLs at path: a file, or a directory whose *.pem, *.crl and
 * *.der regular files are read in name order (not recursive). A file holds
 * PEM "X509 CRL" blocks (other blocks are skipped) or exactly one DER CRL.
 * Every CRL must be a complete CRL (no delta CRL, no issuingDistribution
 * Point, no other critical extension, no critical entry extension) with a
 * nextUpdate. Signatures are checked at use, with the issuer's key from the
 * verified chain. Errors: GP11_ERR_CONFIG_MISSING (unreadable),
 * GP11_ERR_CONFIG_VALUE (no CRL at all, file too large, unsupported CRL),
 * GP11_ERR_CERT_INVALID (malformed CRL).
 */
uint32_t gp11_crls_load(const char *path, enum gp11_crl_policy policy,
                        struct gp11_crls **out);

/* An empty set (no CRL yet), for gp11_crls_add_mem. */
uint32_t gp11_crls_new(enum gp11_crl_policy policy, struct gp11_crls **out);

/*
 * Add the CRLs of one file's contents (len bytes at data, as a file of
 * gp11_crls_load; path names it in messages) to a set not yet shared.
 */
uint32_t gp11_crls_add_mem(struct gp11_crls *c, const uint8_t *data, size_t len,
                           const char *path);

/* A new reference (NULL gives NULL). */
struct gp11_crls *gp11_crls_ref(struct gp11_crls *c);

/* Drops a reference; NULL is allowed. */
void gp11_crls_free(struct gp11_crls *c);

/*
 * Check a verified chain (chain[0] the leaf, the last element the anchor)
 * at now: every certificate but the anchor against the CRL of its issuer
 * (the next element), whose signature must verify with that issuer's key
 * (and whose keyUsage, if present, must allow cRLSign). c NULL: nothing is
 * checked. role ("initiator", "acceptor") is used in messages. Errors:
 * GP11_ERR_CERT_REVOKED, GP11_ERR_CRL_EXPIRED (also a CRL whose
 * thisUpdate is still ahead), GP11_ERR_CRL_MISSING, each naming the
 * certificate and the issuer.
 */
uint32_t gp11_crls_check(const struct gp11_crls *c, STACK_OF(X509) * chain,
                         const char *role, time_t now);

/*
 * The trust of a credential from gss_acquire_cred_from: the anchors per
 * role as gp11_trust_load_roles gives them (a role none of the paths names
 * keeps the configured anchors), with the CRLs at crls (NULL: the
 * configured [trust] crls, if any) under [trust] crl-policy. *out is a
 * new set owned by the caller.
 */
struct gp11_runtime;
struct gp11_trust;
uint32_t gp11_revocation_store_trust(struct gp11_runtime *rt,
                                     const char *anchors,
                                     const char *initiator_anchors,
                                     const char *acceptor_anchors,
                                     const char *crls, struct gp11_trust **out);

#endif
