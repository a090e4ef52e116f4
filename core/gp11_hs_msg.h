/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context-establishment tokens (docs/protocol.md sections 1 and 2): the
 * RFC 2743 section 3.1 framing and the INIT, ACCEPT, FINISH, CONFIRM and
 * ERROR inner tokens (protocol version 2). Decoding checks structure only
 * (lengths, known values, the rules below); whether a value matches what was
 * offered is the caller's job.
 */
#ifndef GP11_HS_MSG_H
#define GP11_HS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp11_buf.h"
#include "gp11_wire.h"

#define GP11_HS_NONCE_LEN 32
#define GP11_HS_HASH_LEN 32
#define GP11_HS_MAC_LEN 16
#define GP11_HS_MAX_CERTS 4
#define GP11_HS_MAX_LIST 16
/* The only protocol version spoken (docs/protocol.md 2.1). */
#define GP11_HS_VERSION 2

enum {
    GP11_TOK_INIT = 0x0A01,
    GP11_TOK_ACCEPT = 0x0A02,
    GP11_TOK_FINISH = 0x0A03,
    GP11_TOK_CONFIRM = 0x0A04,
    GP11_TOK_ERROR = 0x0A7F
};

enum { GP11_GROUP_P256 = 1, GP11_GROUP_P384 = 2 };

enum {
    GP11_SIGALG_NONE = 0,
    GP11_SIGALG_ECDSA_P256_SHA256 = 1,
    GP11_SIGALG_ECDSA_P384_SHA384 = 2,
    GP11_SIGALG_RSA_PSS_SHA256 = 3
};

enum { GP11_PROFILE_KDF_240 = 1, GP11_PROFILE_KDF_30_HKDF = 2 };

struct gp11_hs_init {
    uint8_t version_min, version_max;
    uint32_t req_flags;
    uint8_t profiles[GP11_HS_MAX_LIST];
    size_t n_profiles;
    uint8_t sigalgs[GP11_HS_MAX_LIST];
    size_t n_sigalgs;
    uint8_t group;
    struct gp11_buf eph;
    uint8_t nonce[GP11_HS_NONCE_LEN];
    uint8_t cb_hash[GP11_HS_HASH_LEN];
    struct gp11_buf target;
    uint32_t lifetime_req;
    uint32_t caps;
};

struct gp11_hs_accept {
    uint8_t version, profile, sigalg, group;
    uint32_t ret_flags;
    struct gp11_buf eph;
    uint8_t nonce[GP11_HS_NONCE_LEN];
    uint32_t lifetime, caps;
    struct gp11_buf certs[GP11_HS_MAX_CERTS];
    size_t n_certs;
    /* bytes of the inner token (from TOK_ID) that form the core */
    size_t core_len;
    struct gp11_buf sig;
    uint8_t mac[GP11_HS_MAC_LEN];
};

struct gp11_hs_finish {
    uint8_t sigalg;
    struct gp11_buf certs[GP11_HS_MAX_CERTS];
    size_t n_certs;
    /* bytes of the inner token (from TOK_ID) that form the core */
    size_t core_len;
    struct gp11_buf sig;
    uint8_t mac[GP11_HS_MAC_LEN];
};

struct gp11_hs_confirm {
    uint8_t mac[GP11_HS_MAC_LEN];
};

/* The major field of ERROR (protocol.md 2.3, 2.9): RFC 2744 routine
 * errors, their values on the wire; gss/establish.c checks that they are
 * the GSS_S_* values. */
#define GP11_HS_MAJOR_BAD_MECH 0x00010000u
#define GP11_HS_MAJOR_BAD_NAME 0x00020000u
#define GP11_HS_MAJOR_BAD_BINDINGS 0x00040000u
#define GP11_HS_MAJOR_NO_CRED 0x00070000u
#define GP11_HS_MAJOR_DEFECTIVE_TOKEN 0x00090000u
#define GP11_HS_MAJOR_DEFECTIVE_CREDENTIAL 0x000a0000u
#define GP11_HS_MAJOR_FAILURE 0x000d0000u

struct gp11_hs_error {
    uint32_t major; /* GP11_HS_MAJOR_* */
    uint32_t reason;
    /* bytes of the inner token (from TOK_ID) that form the core: 10 */
    size_t core_len;
    /* mac_e: present only in an ERROR that answers FINISH (2.9) */
    bool has_mac;
    uint8_t mac[GP11_HS_MAC_LEN];
};

/* Uncompressed point length of a group: 65, 97, or 0 if unknown. */
size_t gp11_point_len(uint8_t group);

/*
 * Checks the framing of a context token: 0x60, a DER length (short or
 * minimal long form, at most 4 length bytes) equal to the bytes that
 * follow, 0x06, the OID length and an OID equal to gp11_mech_oid(). Sets
 * *inner to the bytes after the OID (a view into token).
 * GP11_ERR_TOKEN_MALFORMED for broken framing, GP11_ERR_TOKEN_WRONG_MECH
 * for a well-formed token of another mechanism.
 */
uint32_t gp11_hs_unframe(const void *token, size_t len, struct gp11_buf *inner);

/* Wraps an inner token into a malloc'ed framed token (free() frees it),
 * *out_len bytes. */
uint32_t gp11_hs_frame_bytes(const struct gp11_buf *inner, uint8_t **out,
                             size_t *out_len);

/* TOK_ID of an inner token, 0 if it is shorter than 2 bytes. */
uint16_t gp11_hs_tok_id(const struct gp11_buf *inner);

/*
 * Decoders of an inner token (from TOK_ID). Views point into inner. A
 * TOK_ID of another message gives GP11_ERR_TOKEN_UNEXPECTED; every
 * structural fault GP11_ERR_TOKEN_MALFORMED with a sentence naming the
 * field and its offset. On failure *m is all zero.
 */
uint32_t gp11_hs_decode_init(const struct gp11_buf *inner,
                             struct gp11_hs_init *m);
uint32_t gp11_hs_decode_accept(const struct gp11_buf *inner,
                               struct gp11_hs_accept *m);
uint32_t gp11_hs_decode_finish(const struct gp11_buf *inner,
                               struct gp11_hs_finish *m);
uint32_t gp11_hs_decode_confirm(const struct gp11_buf *inner,
                                struct gp11_hs_confirm *m);
uint32_t gp11_hs_decode_error(const struct gp11_buf *inner,
                              struct gp11_hs_error *m);

/*
 * Encoders append an inner token to w. They refuse (GP11_ERR_BAD_ARG),
 * writing nothing, a message that breaks a rule the decoders check. ACCEPT
 * and FINISH are written in two steps: the core (hashed and signed), then
 * gp11_hs_encode_tail(); the tail checks only lengths, so the caller keeps
 * sig empty exactly when FINISH is anonymous (and never empty in ACCEPT).
 */
uint32_t gp11_hs_encode_init(struct gp11_wbuf *w, const struct gp11_hs_init *m);
uint32_t gp11_hs_encode_accept_core(struct gp11_wbuf *w,
                                    const struct gp11_hs_accept *m);
uint32_t gp11_hs_encode_finish_core(struct gp11_wbuf *w,
                                    const struct gp11_hs_finish *m);
/* Appends opaque16 sig and the 16-byte mac (ACCEPT and FINISH tails). */
uint32_t gp11_hs_encode_tail(struct gp11_wbuf *w, const struct gp11_buf *sig,
                             const uint8_t mac[GP11_HS_MAC_LEN]);
uint32_t gp11_hs_encode_confirm(struct gp11_wbuf *w,
                                const struct gp11_hs_confirm *m);
/* ERROR is written in two steps too: the core (TOK_ID, major, reason),
 * then gp11_hs_encode_error_tail() with the MAC or without (NULL). */
uint32_t gp11_hs_encode_error_core(struct gp11_wbuf *w,
                                   const struct gp11_hs_error *m);
uint32_t gp11_hs_encode_error_tail(struct gp11_wbuf *w,
                                   const uint8_t *mac /* NULL: none */);
/* Core and tail in one: with m->mac when m->has_mac. */
uint32_t gp11_hs_encode_error(struct gp11_wbuf *w,
                              const struct gp11_hs_error *m);

#endif
