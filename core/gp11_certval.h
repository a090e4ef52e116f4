/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peer certificates: trust anchors, chain validation, our own certificate's
 * checks at acquisition, and verification of handshake signatures
 * (protocol.md sections 2.5 and 2.9, steps 5 and 6).
 */
#ifndef GP11_CERTVAL_H
#define GP11_CERTVAL_H

#include "gp11_buf.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

/*
 * Signature algorithm ids are those of protocol.md section 2.5 (1 ECDSA
 * P-256/SHA-256, 2 ECDSA P-384/SHA-384, 3 RSA-PSS/SHA-256, 0 none); the
 * provider names them GP11_SIGALG_* in gp11_hs_msg.h.
 */

/* Most certificates a peer may send (leaf plus intermediates). */
#define GP11_CERTVAL_MAX_CHAIN 8

/* RSA modulus sizes accepted for sigalg 3. */
#define GP11_CERTVAL_RSA_MIN_BITS 2048
#define GP11_CERTVAL_RSA_MAX_BITS 16384

/*
 * A set of trust anchors (an X509_STORE), reference-counted; verification
 * with one set may run in several threads at once.
 */
struct gp11_trust;

/*
 * Load trust anchors from path: a file, or a directory whose *.pem and *.crt
 * entries (suffix compared without case, regular files only, not recursive)
 * are read in name order; c_rehash links are neither needed nor used. Each
 * file holds one or more PEM "CERTIFICATE" blocks (other PEM blocks are
 * skipped) or exactly one DER certificate. Errors: GP11_ERR_CONFIG_MISSING
 * when path or a file cannot be read, GP11_ERR_CERT_INVALID for a malformed
 * certificate, GP11_ERR_CONFIG_VALUE for a file without a certificate, a
 * file over 16 MiB, or no anchor at all. The system's CA store is never used.
 */
uint32_t gp11_trust_load(const char *path, struct gp11_trust **out);

/*
 * Anchors per role (docs/protocol.md 2.10): server certificates (the peer
 * is the acceptor) are judged by acceptor_anchors, client certificates by
 * initiator_anchors; a role whose path is NULL uses both, and when that is
 * NULL too the fallback's anchors of that role (fallback may be NULL). A
 * role may end with no anchors: its peers are then refused
 * (GP11_ERR_CERT_UNTRUSTED). *out is NULL, with GP11_OK, when neither role
 * has anchors. Errors as gp11_trust_load.
 */
uint32_t gp11_trust_load_roles(const char *both, const char *initiator_anchors,
                               const char *acceptor_anchors,
                               struct gp11_trust *fallback,
                               struct gp11_trust **out);

/* A new reference to t (NULL gives NULL); release it with gp11_trust_free. */
struct gp11_trust *gp11_trust_ref(struct gp11_trust *t);

/* Drop a reference; the last one frees the anchors. NULL is allowed. */
void gp11_trust_free(struct gp11_trust *t);

/*
 * Attach CRLs to anchors before they are shared (gp11_revocation.h): every
 * chain gp11_certval_verify accepts is then checked against them, leaf and
 * intermediates (GP11_ERR_CERT_REVOKED, GP11_ERR_CRL_EXPIRED,
 * GP11_ERR_CRL_MISSING). crls NULL detaches; a reference is taken.
 */
struct gp11_crls;
void gp11_trust_set_crls(struct gp11_trust *t, struct gp11_crls *crls);

/* The role of the peer whose chain is validated. */
enum gp11_peer_role {
    GP11_PEER_ACCEPTOR, /* its leaf needs serverAuth */
    GP11_PEER_INITIATOR /* its leaf needs clientAuth */
};

/*
 * Validate a peer's chain at time now: certs[0] is the leaf, the others are
 * intermediates (DER, at most GP11_CERTVAL_MAX_CHAIN in all). The chain
 * must end at a self-signed certificate of t (no partial chains; only the
 * anchors and the certificates given here are used) and pass OpenSSL's
 * X509_V_FLAG_X509_STRICT checks, the validity of every certificate, and the
 * SSL server (acceptor) or SSL client (initiator) purpose. The leaf must
 * also carry keyUsage with digitalSignature and extendedKeyUsage with
 * serverAuth (acceptor) or clientAuth (initiator): unlike OpenSSL's
 * purposes, a leaf without these extensions is refused.
 *
 * When role is GP11_PEER_ACCEPTOR and host is not NULL, host (a DNS name)
 * is matched with X509_check_host and X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS:
 * against the SAN dNSNames; only when there is none, against the subject
 * CNs; "*" only as a whole leftmost label ("*.example.com"). IP addresses
 * are not matched against iPAddress entries.
 *
 * On success *leaf_out (if not NULL) gets a new reference to the leaf and
 * *not_after (if not NULL) the earliest notAfter of the verified chain,
 * anchor included. Errors (sentence naming the certificate's subject and
 * OpenSSL's reason): GP11_ERR_CERT_INVALID (not DER, too many
 * certificates), GP11_ERR_CERT_UNTRUSTED, GP11_ERR_CERT_EXPIRED,
 * GP11_ERR_CERT_NOT_YET_VALID, GP11_ERR_CERT_USAGE, GP11_ERR_CERT_HOSTNAME.
 */
uint32_t gp11_certval_verify(struct gp11_trust *t, const struct gp11_buf *certs,
                             size_t n_certs, enum gp11_peer_role role,
                             const char *host, time_t now, X509 **leaf_out,
                             time_t *not_after);

/* RFC 4985 id-on-dnsSRV, the otherName type of SRVName. */
#define GP11_OID_SRVNAME "1.3.6.1.5.5.7.8.7"

/*
 * Service binding (docs/protocol.md 2.10): GP11_OK if the acceptor's leaf
 * has a subjectAltName otherName SRVName (IA5String) equal to
 * "_" service "." host, the service compared byte for byte (services are
 * case-sensitive, docs/names.md), the host without regard to ASCII case,
 * no wildcard; else GP11_ERR_CERT_HOSTNAME naming the SRVNames it has.
 * The leaf must already be validated (gp11_certval_verify with host).
 */
uint32_t gp11_certval_service(X509 *leaf, const char *service,
                              const char *host);

/*
 * Check our own certificate (DER) at credential acquisition: parsable, valid
 * at now (GP11_ERR_CERT_EXPIRED / GP11_ERR_CERT_NOT_YET_VALID naming the
 * subject and the date), and a key of a supported sigalg
 * (GP11_ERR_CERT_USAGE otherwise). Returns its notAfter and the sigalg.
 */
uint32_t gp11_cert_check_own(const uint8_t *der, size_t len, time_t now,
                             time_t *not_after, uint8_t *sigalg);

/* The sigalg a leaf's key signs with; 0 if unsupported. */
uint8_t gp11_cert_sigalg(X509 *leaf);

/*
 * Verify a handshake signature over context || th with the leaf's public key
 * (hash SHA-256 for sigalg 1 and 3, SHA-384 for 2). ECDSA signatures are raw
 * r || s (64 or 96 bytes); RSA-PSS ones are as long as the modulus, with
 * MGF1 of the same hash and a salt of exactly 32 bytes. A key that does not
 * match sigalg, a wrong length or a bad signature is GP11_ERR_SIGNATURE.
 */
uint32_t gp11_sig_verify(X509 *leaf, uint8_t sigalg, const uint8_t *context,
                         size_t context_len, const uint8_t *th, size_t th_len,
                         const uint8_t *sig, size_t sig_len);

#endif
