/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the MIC/WRAP token header parser (docs/protocol.md 3)
 * with every token kind, tag length and direction; a header that parses
 * must write back to the same 16 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "gp11_error.h"
#include "gp11_msgtok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ids[] = {GP11_TOK_MIC, GP11_TOK_WRAP};
    static const size_t tags[] = {0, 16, 32, 48, 64};
    struct gp11_msg_hdr h;
    uint8_t again[GP11_MSG_HDR_LEN];

    for (size_t i = 0; i < 2; i++) {
        for (size_t t = 0; t < 5; t++) {
            for (int acc = 0; acc < 2; acc++) {
                if (gp11_msg_hdr_parse(data, size, ids[i], tags[t], acc, &h) !=
                    GP11_OK)
                    continue;
                gp11_msg_hdr_write(again, &h);
                if (memcmp(again, data, GP11_MSG_HDR_LEN) != 0)
                    abort();
            }
        }
    }
    gp11_err_clear();
    return 0;
}
