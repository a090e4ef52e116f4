/* SPDX-License-Identifier: Apache-2.0 */
/* A read-only view of bytes (inside a token, a certificate, ...). */
#ifndef GP11_BUF_H
#define GP11_BUF_H

#include <stddef.h>
#include <stdint.h>

struct gp11_buf {
    const uint8_t *data;
    size_t len;
};

#endif
