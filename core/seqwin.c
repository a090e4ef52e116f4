/* SPDX-License-Identifier: Apache-2.0 */
/* The receive sequence window: 64 entries at and below the highest seen. */
#include "gp11_seqwin.h"

#define WINDOW 64

void gp11_seqwin_init(struct gp11_seqwin *w, uint32_t flags)
{
    w->replay = (flags & GP11_CTX_REPLAY_FLAG) != 0;
    w->sequence = (flags & GP11_CTX_SEQUENCE_FLAG) != 0;
    w->any = false;
    w->top = 0;
    w->seen = 0;
}

/* Moves the window up so that seq (above the top) is the newest entry. */
static void advance(struct gp11_seqwin *w, uint64_t seq)
{
    uint64_t shift = w->any ? seq - w->top : WINDOW;

    w->seen = shift >= WINDOW ? 0 : w->seen << shift;
    w->seen |= 1;
    w->top = seq;
    w->any = true;
}

enum gp11_seq_status gp11_seqwin_check(struct gp11_seqwin *w, uint64_t seq)
{
    uint64_t offset;

    if (!w->replay && !w->sequence)
        return GP11_SEQ_OK;
    if (!w->any || seq > w->top) {
        /* The expected next is top + 1 (0 at first); compared without
         * computing top + 1, which wraps at 2^64 - 1. */
        bool gap = w->any ? seq - w->top > 1 : seq > 0;

        advance(w, seq);
        return gap && w->sequence ? GP11_SEQ_GAP : GP11_SEQ_OK;
    }
    offset = w->top - seq;
    if (offset >= WINDOW)
        return GP11_SEQ_OLD;
    if (w->seen & (UINT64_C(1) << offset))
        return GP11_SEQ_DUPLICATE;
    w->seen |= UINT64_C(1) << offset;
    return w->sequence ? GP11_SEQ_UNSEQ : GP11_SEQ_OK;
}
