/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QOP table (docs/protocol.md 3.3): which token mechanism a QOP value
 * selects, whether both tokens can run it, and its keys, derived in the
 * token on first use from the context's QOP key-derivation key.
 */
#include "gp11_qop.h"
#include "gp11_algs.h"
#include "gp11_context.h"

#include <stdio.h>

static const struct gp11_qop table[] = {
    {0, "AES-256-GCM", GP11_QOP_AEAD, GP11_AEAD_AES_GCM, CKM_AES_GCM, CKK_AES,
     32, 16, GP11_CAP_AES_GCM, GP11_F_AES_GCM},
    {1, "HMAC-SHA-256", GP11_QOP_MAC, GP11_AEAD_AES_GCM, CKM_SHA256_HMAC,
     CKK_GENERIC_SECRET, 32, 32, GP11_CAP_HMAC_SHA256, GP11_F_HMAC_SHA256},
    {2, "HMAC-SHA-384", GP11_QOP_MAC, GP11_AEAD_AES_GCM, CKM_SHA384_HMAC,
     CKK_GENERIC_SECRET, 48, 48, GP11_CAP_HMAC_SHA384, GP11_F_HMAC_SHA384},
    {3, "HMAC-SHA-512", GP11_QOP_MAC, GP11_AEAD_AES_GCM, CKM_SHA512_HMAC,
     CKK_GENERIC_SECRET, 64, 64, GP11_CAP_HMAC_SHA512, GP11_F_HMAC_SHA512},
    {4, "AES-CMAC", GP11_QOP_MAC, GP11_AEAD_AES_GCM, CKM_AES_CMAC, CKK_AES, 32,
     16, GP11_CAP_AES_CMAC, GP11_F_AES_CMAC},
    {5, "AES-128-GCM", GP11_QOP_AEAD, GP11_AEAD_AES_GCM, CKM_AES_GCM, CKK_AES,
     16, 16, GP11_CAP_AES_GCM, GP11_F_AES_GCM},
    {6, "ChaCha20-Poly1305", GP11_QOP_AEAD, GP11_AEAD_CHACHA20_POLY1305,
     CKM_CHACHA20_POLY1305, CKK_CHACHA20, 32, 16, GP11_CAP_CHACHA20_POLY1305,
     GP11_F_CHACHA20_POLY1305},
};

#define N_QOPS (sizeof(table) / sizeof(table[0]))

const struct gp11_qop *gp11_qop_table(size_t *n)
{
    *n = N_QOPS;
    return table;
}

const struct gp11_qop *gp11_qop_find(uint32_t value)
{
    return value < N_QOPS ? &table[value] : NULL;
}

uint32_t gp11_qop_usable(const struct gp11_ctx *ctx, uint32_t value,
                         const struct gp11_qop **out)
{
    const struct gp11_qop *q = gp11_qop_find(value);

    if (q == NULL)
        return gp11_err_set(GP11_ERR_BAD_QOP,
                            "QOP %u is not known to gss-pkcs11 (see gssp11 "
                            "qop)",
                            (unsigned)value);
    if (q->value != 0 && !ctx->keys.have_kdk)
        return gp11_err_set(GP11_ERR_BAD_QOP,
                            "QOP %u (%s) is disabled by extra-qops = no in "
                            "%s",
                            q->value, q->name, ctx->rt->cfg->path);
    if (q->value != 0 && !(ctx->peer_caps & GP11_CAP_EXTRA_QOPS))
        return gp11_err_set(GP11_ERR_BAD_QOP,
                            "QOP %u (%s) is disabled on the peer "
                            "(extra-qops = no)",
                            q->value, q->name);
    if (!(ctx->rt->msg_caps & q->cap))
        return gp11_err_set(GP11_ERR_BAD_QOP,
                            "QOP %u (%s) needs %s, which this token lacks",
                            q->value, q->name, gp11_feature_name(q->feature));
    if (!(ctx->peer_caps & q->cap))
        return gp11_err_set(GP11_ERR_BAD_QOP,
                            "QOP %u (%s) needs %s, which the peer's token "
                            "lacks",
                            q->value, q->name, gp11_feature_name(q->feature));
    *out = q;
    return GP11_OK;
}

uint32_t gp11_qop_key(struct gp11_ctx *ctx, const struct gp11_qop *q, bool send,
                      const struct gp11_object **key)
{
    int dir = send ? 0 : 1;
    bool i2a = send == ctx->initiator;
    char label[32];
    uint32_t ret;

    if (q->value == 0) {
        *key = send ? &ctx->keys.send : &ctx->keys.recv;
        return GP11_OK;
    }
    if (!ctx->have_qop_key[q->value][dir]) {
        snprintf(label, sizeof(label), "qop %u %s", q->value,
                 i2a ? "i2a" : "a2i");
        ret = gp11_ks_derive_qop(
            ctx->rt->tok, &ctx->keys, label, q->key_type, q->key_len, q->mech,
            send && q->kind == GP11_QOP_AEAD, q->kind == GP11_QOP_MAC,
            !send && q->kind == GP11_QOP_AEAD, &ctx->qop_keys[q->value][dir]);
        if (ret != GP11_OK)
            return ret;
        ctx->have_qop_key[q->value][dir] = true;
    }
    *key = &ctx->qop_keys[q->value][dir];
    return GP11_OK;
}

void gp11_qop_keys_destroy(struct gp11_ctx *ctx)
{
    for (size_t q = 0; q < N_QOPS; q++) {
        for (int dir = 0; dir < 2; dir++) {
            if (!ctx->have_qop_key[q][dir])
                continue;
            gp11_object_destroy(ctx->rt->tok, &ctx->qop_keys[q][dir]);
            ctx->have_qop_key[q][dir] = false;
        }
    }
}
