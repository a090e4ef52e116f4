/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An identity's certificate chain on the token: among the X.509
 * certificates sharing the private key's CKA_ID, the leaf and the
 * intermediates above it, in order (docs/protocol.md section 2.11).
 */
#include "internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Parses exactly len bytes of DER as one certificate, or NULL. */
static X509 *parse(const unsigned char *der, size_t len)
{
    const unsigned char *q = der;
    X509 *x;

    if (der == NULL || len == 0 || len > GP11_IDENTITY_MAX_CERT_LEN)
        return NULL;
    x = d2i_X509(NULL, &q, (long)len);
    if (x != NULL && q != der + len) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* True if x is self-issued and its own key verifies it (a root). */
static bool self_signed(X509 *x)
{
    return X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) ==
               0 &&
           X509_verify(x, X509_get0_pubkey(x)) == 1;
}

/* True if ca's subject is x's issuer, ca may sign certificates and its key
 * verifies x. */
static bool issued_by(X509 *x, X509 *ca)
{
    return X509_check_ca(ca) != 0 &&
           X509_NAME_cmp(X509_get_subject_name(ca), X509_get_issuer_name(x)) ==
               0 &&
           X509_verify(x, X509_get0_pubkey(ca)) == 1;
}

/* True if the big-endian integer v (leading zeros allowed) equals bn. */
static bool bn_equals(const BIGNUM *bn, const unsigned char *v, size_t len)
{
    BIGNUM *k = BN_bin2bn(v, (int)len, NULL);
    bool eq = k != NULL && bn != NULL && BN_cmp(k, bn) == 0;

    BN_free(k);
    return eq;
}

/* True if x's public key is the key pub describes. */
static bool holds_key(X509 *x, const struct gp11_key_pub *pub)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    unsigned char point[160];
    BIGNUM *n = NULL, *e = NULL;
    size_t len = 0;
    bool eq = false;

    if (pk == NULL)
        return false;
    if (pub->type == CKK_EC && EVP_PKEY_base_id(pk) == EVP_PKEY_EC) {
        eq = EVP_PKEY_get_octet_string_param(pk,
                                             OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                             point, sizeof(point), &len) == 1 &&
             len == pub->la && memcmp(point, pub->a, len) == 0;
    } else if (pub->type == CKK_RSA && EVP_PKEY_base_id(pk) == EVP_PKEY_RSA) {
        eq = EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
             EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
             bn_equals(n, pub->a, pub->la) && bn_equals(e, pub->b, pub->lb);
    }
    BN_free(n);
    BN_free(e);
    return eq;
}

uint32_t gp11_identity_pick_chain(unsigned char **ders, const size_t *lens,
                                  size_t n, size_t *leaf, size_t *chain,
                                  size_t *n_chain)
{
    return gp11_identity_pick_chain_key(ders, lens, n, NULL, leaf, chain,
                                        n_chain);
}

uint32_t gp11_identity_pick_chain_key(unsigned char **ders, const size_t *lens,
                                      size_t n, const struct gp11_key_pub *pub,
                                      size_t *leaf, size_t *chain,
                                      size_t *n_chain)
{
    X509 *x[GP11_IDENTITY_MAX_CERTS] = {0};
    bool used[GP11_IDENTITY_MAX_CERTS] = {false};
    uint32_t ret = GP11_OK;
    size_t cur;
    size_t i;

    *leaf = 0;
    *n_chain = 0;
    if (n == 0 || n > GP11_IDENTITY_MAX_CERTS) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "pick_chain needs 1 to %d "
                           "certificates",
                           GP11_IDENTITY_MAX_CERTS);
        goto done;
    }
    if (pub != NULL && !pub->known)
        pub = NULL;
    for (i = 0; i < n; i++)
        x[i] = parse(ders[i], lens[i]);
    if (n == 1 && pub == NULL)
        goto done; /* the only certificate is the leaf, as it always was */
    /* The leaf: the first certificate that is not a CA (the only one
     * may be anything) and holds the key's public key. */
    for (i = 0; i < n; i++)
        if (x[i] != NULL && (n == 1 || X509_check_ca(x[i]) == 0) &&
            (pub == NULL || holds_key(x[i], pub)))
            break;
    if (i == n && pub != NULL) {
        char subject[256] = "?";
        size_t first = 0;

        while (first < n &&
               (x[first] == NULL || (n > 1 && X509_check_ca(x[first]) != 0)))
            first++;
        if (first == n)
            goto done; /* no leaf at all: acquisition reports it */
        X509_NAME_oneline(X509_get_subject_name(x[first]), subject,
                          sizeof(subject));
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "certificate \"%s\"%s does not match key", subject,
                           n > 1 ? " (nor any other sharing the CKA_ID)" : "");
        goto done;
    }
    *leaf = i < n ? i : 0;
    if (x[*leaf] == NULL || n == 1)
        goto done; /* acquisition reports the malformed leaf */
    used[*leaf] = true;
    cur = *leaf;
    while (*n_chain < GP11_IDENTITY_MAX_CHAIN && !self_signed(x[cur])) {
        for (i = 0; i < n; i++)
            if (!used[i] && x[i] != NULL && issued_by(x[cur], x[i]))
                break;
        if (i == n || self_signed(x[i]))
            break; /* the anchor is the peer's to have, not ours to send */
        used[i] = true;
        chain[(*n_chain)++] = i;
        cur = i;
    }
    for (i = 0; i < n; i++)
        if (!used[i])
            GP11_DEBUG("certificate %zu sharing the identity's CKA_ID is "
                       "not part of its chain and is not sent",
                       i);
done:
    for (i = 0; i < n && i < GP11_IDENTITY_MAX_CERTS; i++)
        X509_free(x[i]);
    ERR_clear_error();
    return ret;
}
