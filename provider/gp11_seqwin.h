/* SPDX-License-Identifier: Apache-2.0 */
/* The receive sequence window (docs/protocol.md 3.4). */
#ifndef GP11_SEQWIN_H
#define GP11_SEQWIN_H

#include <stdbool.h>
#include <stdint.h>

#include <gssapi/gssapi.h>

struct gp11_seqwin {
    bool replay, sequence; /* GSS_C_REPLAY_FLAG, GSS_C_SEQUENCE_FLAG */
    uint64_t next;         /* the sequence number expected next */
    uint64_t seen;         /* bit i: next - 1 - i was received */
};

void gp11_seqwin_init(struct gp11_seqwin *w, OM_uint32 flags);

/*
 * Records a sequence number whose token verified and returns the RFC 2743
 * supplementary status for it (GSS_S_COMPLETE, or GSS_S_DUPLICATE_TOKEN,
 * GSS_S_OLD_TOKEN, GSS_S_UNSEQ_TOKEN, GSS_S_GAP_TOKEN as the flags ask).
 */
OM_uint32 gp11_seqwin_check(struct gp11_seqwin *w, uint64_t seq);

#endif
