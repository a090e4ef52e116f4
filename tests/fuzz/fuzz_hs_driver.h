/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The common body of the handshake fuzz targets: each target supplies
 * only decode(), which decodes an inner token and checks that whatever
 * decodes re-encodes to the same bytes.
 */
#ifndef GP11_FUZZ_HS_DRIVER_H
#define GP11_FUZZ_HS_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gp11_error.h"
#include "gp11_gss.h"
#include "gp11_hs_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's decoder of one inner token. */
static void decode(const struct gp11_buf *inner);

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

#endif
