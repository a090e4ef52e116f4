/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the context-token framing and the ACCEPT decoder. */
#include "fuzz_hs_driver.h"

/* Decodes an inner ACCEPT token; one that decodes must re-encode to itself. */
static void decode(const struct gp11_buf *inner)
{
    struct gp11_hs_accept m;
    struct gp11_wbuf w;

    if (gp11_hs_decode_accept(inner, &m) != GP11_OK)
        return;
    gp11_wr_init(&w);
    if (gp11_hs_encode_accept_core(&w, &m) != GP11_OK || w.len != m.core_len)
        abort();
    if (gp11_hs_encode_tail(&w, &m.sig, m.mac) != GP11_OK ||
        w.len != inner->len || memcmp(w.data, inner->data, w.len) != 0)
        abort();
    gp11_wr_free(&w);
}
