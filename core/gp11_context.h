/* SPDX-License-Identifier: Apache-2.0 */
/* Security contexts: state, handshake (docs/protocol.md 2) and queries. */
#ifndef GP11_CONTEXT_H
#define GP11_CONTEXT_H

#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include "gp11_cred.h"
#include "gp11_flags.h"
#include "gp11_keysched.h"
#include "gp11_name.h"
#include "gp11_seqwin.h"
#include "gp11_wire.h"

#define GP11_MAX_QOPS 8

enum gp11_ctx_state {
    GP11_CTX_NEW,
    GP11_CTX_INIT_SENT,   /* initiator: INIT sent, ACCEPT expected */
    GP11_CTX_ACCEPT_SENT, /* acceptor: ACCEPT sent, FINISH expected */
    GP11_CTX_FINISH_SENT, /* initiator: FINISH sent, CONFIRM expected */
    GP11_CTX_ESTABLISHED,
};

struct gp11_ctx {
    enum gp11_ctx_state state;
    bool initiator;
    pid_t pid;           /* a context is never used in a forked child: */
    unsigned generation; /* the fork generation it was made in */
    struct gp11_runtime *rt;
    uint8_t profile, group;
    uint32_t req_flags, flags;
    time_t expiry;
    struct gp11_object eph;
    bool have_eph;
    uint8_t eph_point[97];
    size_t eph_len;
    struct gp11_keys keys;
    struct gp11_wbuf transcript; /* inner tokens, as hashed */
    size_t accept_end;           /* transcript length after the whole ACCEPT */
    uint8_t cb_hash[32];
    uint32_t peer_caps;
    /* Our identity: its key object and a copy of what the handshake
     * needs, so the credential may be released meanwhile. */
    struct gp11_object id_key;
    uint8_t *id_ckaid; /* its CKA_ID, to find it again after token loss */
    size_t id_ckaid_len;
    bool anonymous;
    uint8_t sigalg;
    uint8_t *cert_der;
    size_t cert_len;
    uint8_t *chain_der[GP11_IDENTITY_MAX_CHAIN]; /* intermediates, sent */
    size_t chain_len[GP11_IDENTITY_MAX_CHAIN];
    size_t n_chain;
    time_t own_not_after;
    struct gp11_name *own_name, *peer_name;
    char *target; /* "service@host" the initiator asked for */
    char *target_service, *target_host;
    struct gp11_trust *trust;     /* borrowed from the runtime */
    struct gp11_trust *own_trust; /* a reference: the runtime's or a store's */
    /* Per-message state, protected by msg_lock. */
    pthread_mutex_t msg_lock;
    uint64_t send_seq;
    struct gp11_seqwin recv;
    /* Keys of non-default QOPs, [qop][0 send, 1 receive], made on first
     * use (core/qop.c); msg_lock protects them. */
    struct gp11_object qop_keys[GP11_MAX_QOPS][2];
    bool have_qop_key[GP11_MAX_QOPS][2];
    /* Usage of each QOP key, [qop][0 send, 1 receive], against the limits
     * of protocol.md 3.6 (core/msg_core.c); msg_lock protects them. */
    struct {
        uint64_t messages, blocks, forgeries;
    } usage[GP11_MAX_QOPS][2];
    uint32_t msg_expired; /* the limit that expired the context, or 0 */
    uint16_t msg_expired_qop;
    /* msg_core's reusable buffers, so that no message mallocs: the send
     * side's (ciphertext of TOKEN-first seals, long AADs) under msg_lock;
     * the receive side's under stage_lock, taken with trylock (a second
     * thread checking on the same context allocates instead). */
    uint8_t *stage_send, *stage_recv;
    size_t stage_send_cap, stage_recv_cap;
    pthread_mutex_t stage_lock;
};

/* ---- context.c: common parts ------------------------------------------ */

uint32_t gp11_ctx_new(bool initiator, struct gp11_ctx **out);
void gp11_ctx_free(struct gp11_ctx *ctx);

/*
 * The certificate list this side sends (protocol.md 2.11): the leaf, then
 * its intermediates from the token, into certs (GP11_HS_MAX_CERTS slots,
 * borrowed from ctx). Returns the count, 1 to 1 + GP11_IDENTITY_MAX_CHAIN.
 */
size_t gp11_ctx_certs(const struct gp11_ctx *ctx, struct gp11_buf *certs);

/* Takes what the context needs from a credential identity. */
uint32_t gp11_ctx_set_identity(struct gp11_ctx *ctx,
                               const struct gp11_cred *cred,
                               const struct gp11_cred_id *ci);

/* SHA-256 of the transcript so far. */
uint32_t gp11_ctx_th(const struct gp11_ctx *ctx, uint8_t th[GP11_TH_LEN]);

/* SHA-256 of th || sig (what the finished MACs cover). */
void gp11_ctx_fin_hash(const uint8_t th[GP11_TH_LEN],
                       const struct gp11_buf *sig, uint8_t out[GP11_TH_LEN]);

/* Signs context || th with our identity key (protocol.md 2.5). */
uint32_t gp11_ctx_sign(struct gp11_ctx *ctx, const char *context,
                       const uint8_t th[GP11_TH_LEN], uint8_t *sig,
                       size_t *sig_len);

/* H(INIT || ACCEPT || ERROR core), what the MAC of an ERROR that answers
 * FINISH covers (protocol.md 2.9). */
uint32_t gp11_ctx_error_hash(const struct gp11_ctx *ctx,
                             const struct gp11_buf *error_core,
                             uint8_t out[GP11_TH_LEN]);

/* GP11_OK unless ctx was made before a fork() of this process
 * (GP11_ERR_FORKED). */
uint32_t gp11_ctx_same_process(const struct gp11_ctx *ctx);

/* GP11_OK if the context may be used in this process and is open. */
uint32_t gp11_ctx_usable(const struct gp11_ctx *ctx);

/* Seconds left, 0 if expired. */
uint32_t gp11_ctx_time_left(const struct gp11_ctx *ctx);

/* The seconds left of a usable context in *left; GP11_ERR_CONTEXT_EXPIRED
 * when none are (*left 0 on any failure). */
uint32_t gp11_ctx_lifetime(const struct gp11_ctx *ctx, uint32_t *left);

/* Frames an inner token into *out (malloc'ed, *out_len bytes). */
uint32_t gp11_ctx_output(const struct gp11_wbuf *inner, uint8_t **out,
                         size_t *out_len);

/* Labels of protocol.md 2.2, 2.3 and 2.9, with their terminating NUL. */
#define GP11_SIG_ACCEPTOR "gss-pkcs11 v2 acceptor"
#define GP11_SIG_INITIATOR "gss-pkcs11 v2 initiator"
#define GP11_FIN_ACCEPTOR "gss-pkcs11 v2 acceptor finished"
#define GP11_FIN_INITIATOR "gss-pkcs11 v2 initiator finished"
#define GP11_CONFIRM_ACCEPTOR "gss-pkcs11 v2 acceptor confirmed"
#define GP11_ERROR_ACCEPTOR "gss-pkcs11 v2 acceptor refused"

#endif
