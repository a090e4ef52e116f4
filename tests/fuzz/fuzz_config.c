/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the configuration parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "gp11_config.h"
#include "gp11_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gp11_config *cfg = NULL;

    if (gp11_config_parse("/fuzz/gss-pkcs11.conf", (const char *)data, size,
                          &cfg) == GP11_OK)
        gp11_config_free(cfg);
    gp11_err_clear();
    return 0;
}
