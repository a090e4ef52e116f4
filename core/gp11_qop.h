/* SPDX-License-Identifier: Apache-2.0 */
/* QOP values and the token mechanism each selects (docs/protocol.md 3.3). */
#ifndef GP11_QOP_H
#define GP11_QOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp11_pkcs11.h"

struct gp11_ctx;

enum gp11_qop_kind {
    GP11_QOP_AEAD, /* MIC and WRAP, sealed or not */
    GP11_QOP_MAC,  /* MIC and WRAP without confidentiality */
};

struct gp11_qop {
    uint16_t value;
    const char *name;
    enum gp11_qop_kind kind;
    enum gp11_aead aead;    /* GP11_QOP_AEAD */
    CK_MECHANISM_TYPE mech; /* the token mechanism */
    CK_KEY_TYPE key_type;
    size_t key_len;
    size_t tag_len;
    uint32_t cap;              /* capability bit both tokens need */
    enum gp11_feature feature; /* the feature behind cap */
};

/* The QOP table entry for a value, NULL if unknown. */
const struct gp11_qop *gp11_qop_find(uint32_t value);

/* The whole table; *n receives its length. */
const struct gp11_qop *gp11_qop_table(size_t *n);

/*
 * The QOP for a call on this context: known, and both tokens able to run
 * it (own and peer capability bits), else GP11_ERR_BAD_QOP naming why.
 */
uint32_t gp11_qop_usable(const struct gp11_ctx *ctx, uint32_t value,
                         const struct gp11_qop **out);

/*
 * The key of a QOP for one direction (send or receive): the context keys
 * for QOP 0, else derived in the token from the context's QOP
 * key-derivation key on first use. Caller holds ctx->msg_lock.
 */
uint32_t gp11_qop_key(struct gp11_ctx *ctx, const struct gp11_qop *q, bool send,
                      const struct gp11_object **key);

/* Destroys the derived QOP keys of a context. */
void gp11_qop_keys_destroy(struct gp11_ctx *ctx);

#endif
