/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context export in the token (docs/protocol.md 5): the key-encryption
 * key (KEK) that wraps context keys and never leaves the token, the key
 * wrapping itself, and the one-time MAC key of each exported blob.
 */
#ifndef GP11_KEK_H
#define GP11_KEK_H

#include "gp11_pkcs11.h"

/* Default CKA_LABEL of the KEK ([policy] export-kek). */
#define GP11_KEK_DEFAULT_LABEL "gss-pkcs11 export KEK"
/* CKA_LABEL of every one-time blob key. */
#define GP11_ONETIME_LABEL "gss-pkcs11 export blob"
#define GP11_KEK_ID_LEN 16
#define GP11_ONETIME_ID_LEN 16
/* The token wraps every context key with RFC 3394 AES key wrap: all of
 * them are 32 bytes (a multiple of 8), and it is the one wrapping both
 * tokens do alike (docs/token-layer.md). */
#define GP11_WRAP_MECH CKM_AES_KEY_WRAP
/* A wrapped 32-byte key: 8 bytes of integrity check value more. */
#define GP11_WRAPPED_MAX 64

/* The KEK as found on the token. */
struct gp11_kek {
    struct gp11_object obj;
    uint8_t id[GP11_KEK_ID_LEN]; /* its CKA_ID */
    bool trusted;                /* CKA_TRUSTED is TRUE */
};

/* What context keys are made for (gp11_kek_set_policy). */
enum gp11_export_policy {
    GP11_EXPORT_KEYS = 1,   /* context keys are CKA_EXTRACTABLE */
    GP11_EXPORT_TRUSTED = 2 /* ... and CKA_WRAP_WITH_TRUSTED */
};

/* Sets / reads the policy context keys are made with (0 by default). */
void gp11_kek_set_policy(struct gp11_token *tok, unsigned policy);
unsigned gp11_kek_policy(const struct gp11_token *tok);

/*
 * Finds the KEK labelled label: exactly one secret key with that label,
 * a CKA_ID of GP11_KEK_ID_LEN bytes, CKA_WRAP and CKA_UNWRAP, and
 * neither CKA_DECRYPT nor CKA_EXTRACTABLE (GP11_ERR_BAD_TEMPLATE names
 * the attribute otherwise); GP11_ERR_IDENTITY_NOT_FOUND when none.
 */
uint32_t gp11_kek_find(struct gp11_token *tok, const char *label,
                       struct gp11_kek *out);

/*
 * Generates a persistent KEK labelled label: AES-256, CKA_WRAP and
 * CKA_UNWRAP only, sensitive, not extractable, private, an unwrap
 * template that keeps unwrapped keys sensitive session objects, a random
 * CKA_ID, and CKA_TRUSTED where the token lets the user set it
 * (*trusted says). A KEK with that label already present is refused.
 */
uint32_t gp11_kek_create(struct gp11_token *tok, const char *label,
                         bool *trusted);

/* C_WrapKey of key under the KEK; *len in: room, out: length. */
uint32_t gp11_kek_wrap(struct gp11_token *tok, const struct gp11_kek *kek,
                       const struct gp11_object *key, uint8_t *out,
                       size_t *len);

/* C_UnwrapKey into a session object with template tmpl. */
uint32_t gp11_kek_unwrap(struct gp11_token *tok, const struct gp11_kek *kek,
                         const uint8_t *wrapped, size_t len, CK_ATTRIBUTE *tmpl,
                         CK_ULONG count, struct gp11_object *out);

/*
 * Generates the one-time key of one export: a persistent HMAC-SHA-256
 * key (sign/verify only, sensitive, not extractable, private) with a
 * random CKA_ID written to id.
 */
uint32_t gp11_onetime_create(struct gp11_token *tok,
                             uint8_t id[GP11_ONETIME_ID_LEN],
                             struct gp11_object *out);

/* Finds the one-time key with CKA_ID id; GP11_ERR_IDENTITY_NOT_FOUND when
 * there is none (never made here, or already used). */
uint32_t gp11_onetime_find(struct gp11_token *tok,
                           const uint8_t id[GP11_ONETIME_ID_LEN],
                           struct gp11_object *out);

#endif
