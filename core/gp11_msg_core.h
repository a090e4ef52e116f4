/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-message core (docs/msg-core.md, docs/protocol.md 3): MIC and WRAP
 * tokens made and checked over a list of byte spans, each with a role,
 * with an implicit or caller-assigned sequence number. No GSS-API or SSPI
 * types: the GSS face (permsg.c, permsg_iov.c) and the SSPI face translate
 * their buffers onto spans.
 */
#ifndef GP11_MSG_CORE_H
#define GP11_MSG_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp11_msgtok.h"
#include "gp11_qop.h"
#include "gp11_seqwin.h"

struct gp11_ctx;

enum gp11_span_role {
    GP11_SPAN_DATA,    /* encrypted (when sealed) and authenticated */
    GP11_SPAN_ASSOC,   /* authenticated only, not carried */
    GP11_SPAN_HEADER,  /* the token header (and the tag when TagFirst) */
    GP11_SPAN_TRAILER, /* the tag */
    GP11_SPAN_PADDING, /* always 0 bytes: no QOP pads */
};

/*
 * One span. DATA and ASSOC are read at `in`; DATA of a WRAP is written at
 * `out` (ciphertext when sealing, plaintext when opening; may equal `in`).
 * HEADER and TRAILER are written at `out` when protecting and read at
 * `in` when checking. len is the span's exact length.
 */
struct gp11_span {
    enum gp11_span_role role;
    const uint8_t *in;
    uint8_t *out;
    size_t len;
};

enum gp11_mc_kind {
    GP11_MC_MIC,
    GP11_MC_WRAP,
};

/* The sequence number of a message: implicit (the direction's counter)
 * or explicit (the caller's, protocol.md 3.5). After a call, value holds
 * the number used or received. */
struct gp11_mc_seq {
    bool explicit_;
    uint64_t value;
};

/* What a checked token said. */
struct gp11_mc_result {
    uint16_t qop;
    bool sealed;
    enum gp11_seq_status window;
};

/* The usage limits of one QOP key (protocol.md 3.6). */
struct gp11_mc_limits {
    uint64_t messages, blocks, forgeries;
};

/* GP11_OK if the context can protect or check messages now. */
uint32_t gp11_mc_ready(const struct gp11_ctx *ctx);

/* The sizes of a token for a QOP: header (16) and tag. Checks that the
 * QOP is usable for sending (and can seal when conf). */
uint32_t gp11_mc_sizes(struct gp11_ctx *ctx, uint32_t qop, bool conf,
                       size_t *tag_len);

/*
 * Protects a message: writes the header (and tag) into the HEADER and
 * TRAILER spans, and for a sealed WRAP the ciphertext into the DATA spans'
 * `out`. Nothing is consumed (no sequence number, no usage) unless it
 * succeeds. An explicit number not above every number used is
 * GP11_ERR_SEQ_REUSED before anything is computed.
 */
uint32_t gp11_mc_protect(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                         bool conf, uint32_t qop, struct gp11_span *spans,
                         size_t n, struct gp11_mc_seq *seq);

/*
 * Checks a token laid out over HEADER (and TRAILER) spans against the
 * DATA and ASSOC spans; a sealed WRAP's plaintext goes to the DATA spans'
 * `out` only once the tag verified. seq NULL or implicit: any number;
 * explicit: the token's number must equal seq->value.
 */
uint32_t gp11_mc_check(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                       struct gp11_span *spans, size_t n,
                       struct gp11_mc_seq *seq, struct gp11_mc_result *r);

/*
 * gp11_mc_check where the one DATA span's `out` (not its `in`) has room
 * bytes more after its length: with room >= the tag, a sealed message is
 * decrypted straight into it (no copy; zeroed again if the tag does not
 * verify). gss_unwrap gives its fresh output buffer.
 */
uint32_t gp11_mc_check_room(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                            struct gp11_span *spans, size_t n,
                            struct gp11_mc_seq *seq, struct gp11_mc_result *r,
                            size_t room);

/*
 * gp11_mc_check for a face whose one DATA span may lose its input when
 * the check fails (SSPI's DecryptMessage, which decrypts its DATA buffer
 * in place): where the token layer runs the key's message operation for
 * the message, the plaintext goes straight to the span's `out` (no
 * staging, no copy), and on any failure its len bytes are wiped, so that
 * nothing of an unverified message stays there (the ciphertext is gone
 * too). On the 2.40 path and the Init + op fallback, and for a token
 * whose number differs from an explicit seq (refused, DATA kept), the
 * plaintext is staged as in gp11_mc_check and DATA is left alone.
 */
uint32_t gp11_mc_check_consume(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                               struct gp11_span *spans, size_t n,
                               struct gp11_mc_seq *seq,
                               struct gp11_mc_result *r);

/*
 * Finds the parts of a contiguous WRAP token: its header (16 bytes, or
 * 16 + tag when TagFirst), body and tag. The header is parsed and
 * checked; *body_len is the carried message's length.
 */
uint32_t gp11_mc_split(struct gp11_ctx *ctx, const uint8_t *tok, size_t len,
                       size_t *hdr_len, const uint8_t **body, size_t *body_len,
                       const uint8_t **tag, size_t *tag_len);

/*
 * The sequence-number rule of protocol.md 3.5 on a direction's counter
 * (*next = one above the highest number used, 0 at first): the number
 * the message takes into *use, or GP11_ERR_SEQ_REUSED /
 * GP11_ERR_SEQ_EXHAUSTED. Does not advance *next.
 */
uint32_t gp11_mc_seq_take(uint64_t next, const struct gp11_mc_seq *seq,
                          uint64_t *use);

/* The limits of a QOP's keys, the configured [policy] values applied. */
void gp11_mc_limits(const struct gp11_ctx *ctx, const struct gp11_qop *q,
                    struct gp11_mc_limits *out);

/* Blocks a message costs under the limits: ceil(a/16) + ceil(p/16) + 1. */
uint64_t gp11_mc_blocks(size_t auth_len, size_t plain_len);

#endif
