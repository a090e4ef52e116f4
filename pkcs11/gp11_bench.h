/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The raw side of contrib/bench/gp11-bench: the same AES-256-GCM work the
 * per-message tokens make the token do (docs/protocol.md 3), done directly
 * on one borrowed session, so that the mechglue path can be compared with
 * what the token alone costs. Not used by the mechanism itself.
 */
#ifndef GP11_BENCH_H
#define GP11_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "gp11_pkcs11.h"

/* The four operations, as the token sees them for one message. */
enum gp11_bench_op {
    GP11_BENCH_MIC = 0,    /* encrypt of nothing, AAD A (below) */
    GP11_BENCH_VERIFY = 1, /* decrypt of a 16-byte tag, AAD A */
    GP11_BENCH_WRAP = 2,   /* encrypt of the message, AAD A of a sealed token */
    GP11_BENCH_UNWRAP = 3, /* decrypt of message || tag, the same AAD */
};

/* The AAD is the authenticated string A of docs/protocol.md 3.1 for one
 * data run: the 16-byte header, then (for a message of at least one byte)
 * ROLE and LENGTH (9 bytes), then the message itself in a MIC. So the
 * token authenticates exactly as many bytes as for the mechanism's
 * tokens; GP11_BENCH_MODE_MSG_AAD restores the older, shorter AAD. */

/* CKA_PRIVATE of the benchmark key. */
enum gp11_bench_private {
    GP11_BENCH_PRIVATE_DEFAULT = -1, /* not in the template, as keysched.c */
    GP11_BENCH_PRIVATE_FALSE = 0,
    GP11_BENCH_PRIVATE_TRUE = 1,
};

/*
 * Generate an AES-256 session key in the token (CKM_AES_KEY_GEN) with the
 * template core/keysched.c gives context keys (CKA_TOKEN, SIGN,
 * VERIFY, DERIVE, EXTRACTABLE FALSE, SENSITIVE TRUE, CKA_PRIVATE left to
 * the token), except that it may both encrypt and decrypt.
 */
uint32_t gp11_bench_key(struct gp11_token *tok, struct gp11_object *key);

/* gp11_bench_key with CKA_PRIVATE chosen (for comparisons). */
uint32_t gp11_bench_key_ex(struct gp11_token *tok, enum gp11_bench_private priv,
                           struct gp11_object *key);

/* CKA_PRIVATE of a key as the token reports it: 1, 0, or -1 unknown. */
int gp11_bench_key_private(struct gp11_token *tok,
                           const struct gp11_object *key);

/*
 * Count the AES secret keys visible on the token by CKA_PRIVATE (they
 * include session keys of other users of the module in this process, such
 * as the context keys of the mechanism when it shares the module).
 */
uint32_t gp11_bench_count_aes_keys(struct gp11_token *tok, size_t *priv,
                                   size_t *pub);

/*
 * Run op on messages of size bytes for about seconds: one session borrowed
 * for the whole run, then Init + operation in a loop, each with a fresh
 * output buffer as the GSS-API forces (GP11_BENCH_MODE_ALLOC). The inputs of
 * the decrypting operations are made once beforehand by an encryption. *ops
 * receives the number of operations done.
 */
uint32_t gp11_bench_gcm(struct gp11_token *tok, const struct gp11_object *key,
                        int op, size_t size, double seconds, uint64_t *ops);

/*
 * gp11_bench_gcm with a start hook: ready(arg), when not NULL, is called
 * once everything is prepared and just before the timed loop (threads use
 * it as a barrier). *elapsed receives the measured time of the loop, in
 * seconds.
 */
uint32_t gp11_bench_gcm_ex(struct gp11_token *tok,
                           const struct gp11_object *key, int op, size_t size,
                           double seconds, void (*ready)(void *), void *arg,
                           uint64_t *ops, double *elapsed);

/* How the raw side drives the token (bits). */
enum gp11_bench_mode {
    /* A fresh output buffer per call (the token or message the GSS-API
     * returns), freed after it: the default of gp11_bench_gcm_ex. */
    GP11_BENCH_MODE_ALLOC = 1u << 0,
    /* PKCS#11 3.0: C_Message*Init once, one C_EncryptMessage /
     * C_DecryptMessage per operation (GP11_ERR_MECH_UNSUPPORTED on a
     * token without it); else C_EncryptInit + C_Encrypt per operation. */
    GP11_BENCH_MODE_MSGAPI = 1u << 1,
    /* The AAD of the benchmark before 2026-12-02: the message alone in a
     * MIC, a 16-byte header in a WRAP (25 bytes fewer than the tokens
     * authenticate; for comparisons with older figures). */
    GP11_BENCH_MODE_MSG_AAD = 1u << 2,
};

/* gp11_bench_gcm_ex with the pattern chosen (mode: GP11_BENCH_MODE_*). */
uint32_t gp11_bench_gcm_mode(struct gp11_token *tok,
                             const struct gp11_object *key, int op, size_t size,
                             double seconds, unsigned mode,
                             void (*ready)(void *), void *arg, uint64_t *ops,
                             double *elapsed);

#endif
