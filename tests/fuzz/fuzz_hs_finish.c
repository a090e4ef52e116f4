/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the context-token framing and the FINISH decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gp11_error.h"
#include "gp11_hs_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes an inner FINISH token; one that decodes must re-encode to itself. */
static void decode(const struct gp11_buf *inner)
{
    struct gp11_hs_finish m;
    struct gp11_wbuf w;

    if (gp11_hs_decode_finish(inner, &m) != GP11_OK)
        return;
    gp11_wr_init(&w);
    if (gp11_hs_encode_finish_core(&w, &m) != GP11_OK || w.len != m.core_len)
        abort();
    if (gp11_hs_encode_tail(&w, &m.sig, m.mac) != GP11_OK ||
        w.len != inner->len || memcmp(w.data, inner->data, w.len) != 0)
        abort();
    gp11_wr_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gp11_buf inner;
    gss_buffer_desc again;

    /*
     * The input as a peer sends it: framed. Framing is canonical, so a
     * token that unframes must frame back to the same bytes.
     */
    if (gp11_hs_unframe(data, size, &inner) == GP11_OK) {
        if (gp11_hs_frame(&inner, &again) != GP11_OK || again.length != size ||
            memcmp(again.value, data, size) != 0)
            abort();
        free(again.value);
        decode(&inner);
    }
    /*
     * The input as an inner token, so that mutations which change the
     * length still reach the decoder.
     */
    inner.data = data;
    inner.len = size;
    decode(&inner);
    gp11_err_clear();
    return 0;
}
