/* SPDX-License-Identifier: Apache-2.0 */
/* Debug log to the file named by GSS_PKCS11_DEBUG; never secrets. */
#ifndef GP11_DEBUG_H
#define GP11_DEBUG_H

#include <stdbool.h>

/* True once the debug file is open; cheap to test on hot paths. */
extern bool gp11_debug_on;

/* Open the debug file if GSS_PKCS11_DEBUG is set (once per process). */
void gp11_debug_init(void);

/* Append one line (prefixed with time, pid and thread) to the log. */
void gp11_debug_write(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define GP11_DEBUG(...)                                                        \
    do {                                                                       \
        if (gp11_debug_on)                                                     \
            gp11_debug_write(__func__, __VA_ARGS__);                           \
    } while (0)

#endif
