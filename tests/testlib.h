/* SPDX-License-Identifier: Apache-2.0 */
/* Shared set-up of the token tests: the environment made by setup-tokens. */
#ifndef GP11_TESTLIB_H
#define GP11_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gp11_config.h"
#include "gp11_pkcs11.h"

/* Exit status meson reads as "skipped". */
#define TL_SKIP 77

/*
 * The configuration of this suite's token (GSS_PKCS11_CONF). Exits 77 if
 * setup-tokens recorded that the token's package is not installed, and
 * fails loudly if the environment is missing for any other reason.
 */
struct gp11_config *tl_config(void);

/* "softhsm" or "nss": the token of this suite (GP11_TEST_TOKEN). */
const char *tl_kind(void);

/* Token options from the configuration. */
void tl_opts(const struct gp11_config *cfg, struct gp11_token_opts *o);

/* Opens the suite's token and asserts success. */
struct gp11_token *tl_open(void);

/* Asserts ret == want, printing the recorded message on mismatch. */
#define tl_assert_err(ret, want)                                               \
    tl_assert_err_at((ret), (want), __FILE__, __LINE__)
void tl_assert_err_at(uint32_t ret, uint32_t want, const char *file, int line);

/* Asserts the last recorded message for code contains text. */
void tl_assert_msg(uint32_t code, const char *text);

/* Session secret keys this process holds on the suite's token; asserts
 * each one's CKA_VALUE is sensitive. */
size_t tl_session_secret_keys(void);

/* Counts lines containing needle in a file (the debug log). */
int tl_count_lines(const char *path, const char *needle);

/* GP11_TEST_TIME_SCALE (1 to 100, default 1; the valgrind setup sets 4):
 * timing tests multiply their lifetimes and waits by it, so that a slow
 * run keeps the margins. */
unsigned tl_time_scale(void);

#endif
