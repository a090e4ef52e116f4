/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context establishment, the engine's entry points (docs/protocol.md 2):
 * one call per handshake token, bytes in and bytes out, GP11 codes. The
 * faces translate onto them: gss/establish.c (the GSS-API's init and
 * accept calls) and sspi/engine.c (InitializeSecurityContextA,
 * AcceptSecurityContext).
 */
#ifndef GP11_ESTABLISH_H
#define GP11_ESTABLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp11_buf.h"
#include "gp11_context.h"
#include "gp11_cred.h"
#include "gp11_name.h"

/* Length of the channel-bindings hash (protocol.md 2.7). */
#define GP11_CB_HASH_LEN 32

/*
 * Channel bindings as byte spans: RFC 2744's channel bindings and SSPI's
 * SEC_CHANNEL_BINDINGS carry the same five fields. The views
 * are the caller's; nothing is copied.
 */
struct gp11_bindings {
    uint32_t initiator_addrtype;
    struct gp11_buf initiator_address;
    uint32_t acceptor_addrtype;
    struct gp11_buf acceptor_address;
    struct gp11_buf application_data;
};

/* cb_hash of protocol.md 2.7 over cb (32 zero bytes when cb is NULL: no
 * bindings); an error, never a zero hash, when hashing fails. */
uint32_t gp11_ctx_cb_hash(const struct gp11_bindings *cb,
                          uint8_t out[GP11_CB_HASH_LEN]);

/* What one establishment step gives the face. */
struct gp11_step {
    /* The token to send (malloc'ed, free() frees it), or NULL: after a
     * successful step the next handshake token, after a refused INIT or
     * FINISH the acceptor's ERROR token (protocol.md 2.9). */
    uint8_t *token;
    size_t token_len;
    bool established;
    /* GP11_CTX_*_FLAG: granted (the initiator reports its request until
     * the context is established). */
    uint32_t flags;
    uint32_t time_left; /* seconds, 0 until established */
    /* The acceptor's peer once established: borrowed, it lives with the
     * context (gp11_name_dup to keep it). NULL otherwise. */
    const struct gp11_name *peer;
};

/* Frees the step's token and empties it. */
void gp11_step_clear(struct gp11_step *step);

/*
 * One initiator call. *ctx NULL: a new context with its INIT token; cred
 * (NULL: the default initiator identity), target, req_flags
 * (GP11_CTX_*_FLAG), lifetime_req (seconds, 0 for no request) and cb
 * (NULL: none) are used. Later calls: in/in_len is the acceptor's token
 * and the other arguments are ignored. *step is filled in every case.
 *
 * A failed step frees the context (*ctx = NULL) and any token (RFC 2744
 * 5.19) and logs the failure; a stray call on an established context
 * fails and leaves it intact.
 */
uint32_t gp11_ctx_init_step(struct gp11_ctx **ctx, struct gp11_cred *cred,
                            const struct gp11_name *target, uint32_t req_flags,
                            uint32_t lifetime_req,
                            const struct gp11_bindings *cb, const uint8_t *in,
                            size_t in_len, struct gp11_step *step);

/*
 * One acceptor call: in/in_len is the initiator's token. *ctx NULL: a new
 * context (cred NULL: the identity the initiator names, among every
 * acceptor identity; cb NULL: no bindings); later calls ignore cred and
 * cb. A failed step frees the context (*ctx = NULL, RFC 2744 5.1) and
 * logs the failure, but keeps the ERROR token in step->token when the
 * initiator is to be told; a stray call on an established context fails
 * and leaves it intact.
 */
uint32_t gp11_ctx_accept_step(struct gp11_ctx **ctx, struct gp11_cred *cred,
                              const struct gp11_bindings *cb, const uint8_t *in,
                              size_t in_len, struct gp11_step *step);

#endif
