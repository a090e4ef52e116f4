/* SPDX-License-Identifier: Apache-2.0 */
/* The receive sequence window: 64 entries below the highest seen. */
#include "gp11_seqwin.h"

#define WINDOW 64

void gp11_seqwin_init(struct gp11_seqwin *w, OM_uint32 flags)
{
    w->replay = (flags & GSS_C_REPLAY_FLAG) != 0;
    w->sequence = (flags & GSS_C_SEQUENCE_FLAG) != 0;
    w->next = 0;
    w->seen = 0;
}

/* Moves the window forward so that seq is the newest entry. */
static void advance(struct gp11_seqwin *w, uint64_t seq)
{
    uint64_t shift = seq - w->next + 1;

    w->seen = shift >= WINDOW ? 0 : w->seen << shift;
    w->seen |= 1;
    w->next = seq + 1;
}

OM_uint32 gp11_seqwin_check(struct gp11_seqwin *w, uint64_t seq)
{
    uint64_t offset;

    if (!w->replay && !w->sequence)
        return GSS_S_COMPLETE;
    if (seq >= w->next) {
        bool gap = seq > w->next;

        advance(w, seq);
        return gap && w->sequence ? GSS_S_GAP_TOKEN : GSS_S_COMPLETE;
    }
    offset = w->next - 1 - seq;
    if (offset >= WINDOW)
        return GSS_S_OLD_TOKEN;
    if (w->seen & (UINT64_C(1) << offset))
        return GSS_S_DUPLICATE_TOKEN;
    w->seen |= UINT64_C(1) << offset;
    return w->sequence ? GSS_S_UNSEQ_TOKEN : GSS_S_COMPLETE;
}
