/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small development CA for `gssp11 setup-dev`: the identity key pairs are
 * generated inside the token, and this CA (whose key is an ordinary PEM file)
 * issues X.509 certificates for their public keys.
 */
#ifndef GP11_DEVCA_H
#define GP11_DEVCA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* The CA key and the CA certificate. */
struct gp11_devca;

/*
 * Create a new CA (EC P-256 key, self-signed certificate with the given CN,
 * valid from now-1h to now+days) and write key_path (mode 0600) and
 * cert_path (PEM). Both files are created with O_EXCL: an existing file is
 * never overwritten.
 */
uint32_t gp11_devca_create(const char *cn, int days, const char *key_path,
                           const char *cert_path, struct gp11_devca **out);

/* Load an existing CA from its PEM files (key and certificate must match). */
uint32_t gp11_devca_load(const char *key_path, const char *cert_path,
                         struct gp11_devca **out);

/* Free a CA; NULL is allowed. */
void gp11_devca_free(struct gp11_devca *ca);

/*
 * Public key from PKCS#11 attributes: CKA_EC_PARAMS (DER of the named-curve
 * OID; P-256 and P-384 only) and CKA_EC_POINT (a DER OCTET STRING wrapping
 * the uncompressed point, or the raw 0x04||X||Y point).
 */
uint32_t gp11_devca_pubkey_ec(const unsigned char *params, size_t params_len,
                              const unsigned char *point, size_t point_len,
                              EVP_PKEY **out);

/*
 * Public key from CKA_MODULUS / CKA_PUBLIC_EXPONENT (big-endian); the
 * modulus must have 2048 to 16384 bits.
 */
uint32_t gp11_devca_pubkey_rsa(const unsigned char *n, size_t n_len,
                               const unsigned char *e, size_t e_len,
                               EVP_PKEY **out);

/* What an issued certificate says. */
struct gp11_devca_profile {
    const char *cn;       /* subject CN, required */
    const char *dns_name; /* SAN dNSName or NULL */
    const char *email;    /* SAN rfc822Name or NULL */
    bool server;          /* EKU serverAuth */
    bool client;          /* EKU clientAuth */
    long not_before;      /* seconds relative to now (e.g. -3600) */
    long not_after;       /* seconds relative to now (< 0: already expired) */
    /* SAN otherName SRVName (RFC 4985) "_service.dns_name", binding the
     * acceptor's service (docs/protocol.md 2.10); needs dns_name. */
    const char *service;
    /* Tests only: a non-zero email_len makes the rfc822Name these raw
     * bytes of email, unchecked (they may hold a NUL). */
    size_t email_len;
    /* Tests only: the host of the SRVName when not dns_name. */
    const char *srv_host;
};

/* RFC 4985 id-on-dnsSRV. */
#define GP11_DEVCA_OID_SRVNAME "1.3.6.1.5.5.7.8.7"

/*
 * Issue a certificate for key (EC or RSA): v3, random positive 16-byte
 * serial, keyUsage critical digitalSignature (plus keyAgreement for EC),
 * basicConstraints critical CA:FALSE, SKI/AKI, SAN (dNSName, rfc822Name,
 * SRVName) and EKU as the profile
 * says, signed with SHA-256. *der is malloc'ed (release with free()).
 */
uint32_t gp11_devca_issue(struct gp11_devca *ca, EVP_PKEY *key,
                          const struct gp11_devca_profile *p,
                          unsigned char **der, size_t *der_len);

/*
 * DER encodings of the subject name, issuer name and serial number of a
 * certificate, for CKA_SUBJECT / CKA_ISSUER / CKA_SERIAL_NUMBER. Each output
 * is malloc'ed; on failure all outputs are NULL.
 */
uint32_t gp11_devca_cert_fields(const unsigned char *der, size_t der_len,
                                unsigned char **subject, size_t *subject_len,
                                unsigned char **issuer, size_t *issuer_len,
                                unsigned char **serial, size_t *serial_len);

/*
 * Human-readable subject ("CN=alice", RFC 2253 order) and notAfter
 * ("2027-11-22 10:00:00 UTC") for listings, NUL-terminated in the caller's
 * buffers. A buffer too small is GP11_ERR_BAD_ARG.
 */
uint32_t gp11_devca_describe(const unsigned char *der, size_t der_len,
                             char *subject, size_t subject_len, char *not_after,
                             size_t not_after_len);

#endif
