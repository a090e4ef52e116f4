/* SPDX-License-Identifier: Apache-2.0 */
/* Failure causes to syslog for the administrator (core/log.c). */
#ifndef GP11_LOG_H
#define GP11_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* [log] syslog of the configuration just parsed (default on). */
void gp11_log_configure(bool on);

/* True if failures go to syslog. */
bool gp11_log_enabled(void);

/*
 * Logs "WHAT: <the recorded sentence of code> (minor 0x...)" to syslog,
 * facility LOG_AUTHPRIV, severity LOG_WARNING, ident "gss-pkcs11", unless
 * [log] syslog = no. Called once per refused context (each side) and per
 * failed credential acquisition; errno and the recorded error are kept.
 */
void gp11_log_failure(const char *what, uint32_t code);

#endif
