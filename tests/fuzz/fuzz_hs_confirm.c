/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the context-token framing and the CONFIRM and ERROR
 * decoders (the acceptor's last tokens, protocol.md 2.3 and 2.9). */
#include "fuzz_hs_driver.h"

/* Decodes an inner CONFIRM or ERROR token; one that decodes must
 * re-encode to itself, core and tail written apart as the acceptor does. */
static void decode(const struct gp11_buf *inner)
{
    struct gp11_hs_confirm c;
    struct gp11_hs_error e;
    struct gp11_wbuf w;

    if (gp11_hs_decode_confirm(inner, &c) == GP11_OK) {
        gp11_wr_init(&w);
        if (gp11_hs_encode_confirm(&w, &c) != GP11_OK || w.len != inner->len ||
            memcmp(w.data, inner->data, w.len) != 0)
            abort();
        gp11_wr_free(&w);
    }
    if (gp11_hs_decode_error(inner, &e) == GP11_OK) {
        gp11_wr_init(&w);
        if (gp11_hs_encode_error_core(&w, &e) != GP11_OK || w.len != e.core_len)
            abort();
        if (gp11_hs_encode_error_tail(&w, e.has_mac ? e.mac : NULL) !=
                GP11_OK ||
            w.len != inner->len || memcmp(w.data, inner->data, w.len) != 0)
            abort();
        gp11_wr_free(&w);
    }
}
