/* SPDX-License-Identifier: Apache-2.0 */
/* The receive sequence window (docs/protocol.md 3.4). */
#ifndef GP11_SEQWIN_H
#define GP11_SEQWIN_H

#include <stdbool.h>
#include <stdint.h>

#include "gp11_flags.h"

/* Where a verified sequence number fell in the window. */
enum gp11_seq_status {
    GP11_SEQ_OK,
    GP11_SEQ_DUPLICATE,
    GP11_SEQ_OLD,
    GP11_SEQ_UNSEQ,
    GP11_SEQ_GAP,
};

struct gp11_seqwin {
    bool replay, sequence; /* GP11_CTX_REPLAY_FLAG, _SEQUENCE_FLAG */
    bool any;              /* a number was recorded */
    uint64_t top;          /* the highest number recorded (if any) */
    uint64_t seen;         /* bit i: top - i was received */
};

/* An empty window checking what the context flags ask. */
void gp11_seqwin_init(struct gp11_seqwin *w, uint32_t flags);

/*
 * Records a sequence number whose token verified and says where it fell:
 * GP11_SEQ_OK, or duplicate, old, unsequenced or gap as the flags ask
 * (RFC 2743 1.2.3). The top of the window is kept as the number itself,
 * so 2^64 - 1 is a top like any other (no wrap).
 */
enum gp11_seq_status gp11_seqwin_check(struct gp11_seqwin *w, uint64_t seq);

#endif
