/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key schedule of docs/protocol.md 2.4, run inside the token: ECDH
 * with the peer's ephemeral point, then four AES-256 keys bound to the
 * transcript hash by the negotiated profile.
 */
#ifndef GP11_KEYSCHED_H
#define GP11_KEYSCHED_H

#include "gp11_pkcs11.h"

#define GP11_TH_LEN 32
#define GP11_MAC_LEN 16

/* A context's keys, from this side's point of view. */
struct gp11_keys {
    struct gp11_object send;      /* K_i2a for the initiator, else K_a2i */
    struct gp11_object recv;      /* the other direction */
    struct gp11_object conf_own;  /* K_conf of this side */
    struct gp11_object conf_peer; /* K_conf of the peer */
    struct gp11_object kdk;       /* derive-only key for non-default QOPs */
    struct gp11_object prf;       /* K_prf of gss_pseudo_random (prf.c) */
    bool have_traffic, have_conf, have_kdk, have_prf;
    uint8_t profile; /* how kdk derives (protocol.md 2.4) */
};

/* DER of the named-curve OID of a group (NULL if unknown). */
const uint8_t *gp11_group_curve(uint8_t group, size_t *len);

/*
 * ECDH between our ephemeral private key and the peer's point, then the
 * four keys of the profile, bound to th, and (with_kdk) the derive-only
 * key of the non-default QOPs. Every key carries CKA_ALLOWED_MECHANISMS
 * naming its one mechanism. The ephemeral key and every derive-capable
 * intermediate are destroyed before returning, success or not; if the
 * token refuses to destroy one of them, the derivation fails
 * (GP11_ERR_TOKEN_REFUSED naming it) and the derived keys are destroyed.
 * On failure no derived key is left behind.
 */
uint32_t gp11_ks_derive(struct gp11_token *tok, uint8_t profile, uint8_t group,
                        struct gp11_object *eph_priv, const uint8_t *peer_point,
                        size_t point_len, const uint8_t th[GP11_TH_LEN],
                        bool initiator, bool with_kdk, struct gp11_keys *keys);

/* AES-CMAC in the token of label || "\0"... as protocol.md writes it:
 * mac = CMAC(key, label || h). */
uint32_t gp11_ks_mac(struct gp11_token *tok, const struct gp11_object *key,
                     const char *label, const uint8_t h[GP11_TH_LEN],
                     uint8_t mac[GP11_MAC_LEN]);

/* Recomputes a peer's MAC and compares it in constant time. */
uint32_t gp11_ks_mac_check(struct gp11_token *tok,
                           const struct gp11_object *key, const char *label,
                           const uint8_t h[GP11_TH_LEN],
                           const uint8_t mac[GP11_MAC_LEN]);

/*
 * Derives a QOP key from the context's key-derivation key: label names the
 * QOP and direction; the key gets type, length, exactly one use and
 * exactly one mechanism, mech (CKA_ALLOWED_MECHANISMS).
 */
uint32_t gp11_ks_derive_qop(struct gp11_token *tok,
                            const struct gp11_keys *keys, const char *label,
                            CK_KEY_TYPE type, size_t len, CK_MECHANISM_TYPE mech,
                            bool encrypt, bool mac, bool decrypt,
                            struct gp11_object *out);

/*
 * Destroys the confirmation keys (the handshake is over). Every key is
 * tried; the first failure is returned and each one is written to the
 * debug log. A key the token refused to destroy is a session object: it
 * goes at the latest with its session (protocol.md 2.4).
 */
uint32_t gp11_keys_drop_conf(struct gp11_token *tok, struct gp11_keys *keys);

/* Destroys every key of the context; failures as gp11_keys_drop_conf. */
uint32_t gp11_keys_destroy(struct gp11_token *tok, struct gp11_keys *keys);

#endif
