/* SPDX-License-Identifier: Apache-2.0 */
/* gssp11: the gss-pkcs11 administration tool. */
#ifndef GSSP11_H
#define GSSP11_H

#include <stdint.h>

/* Each command: argc/argv start at the command name; returns exit code. */
int gssp11_cmd_setup_dev(int argc, char **argv);
int gssp11_cmd_info(int argc, char **argv);
int gssp11_cmd_qop(int argc, char **argv);
int gssp11_cmd_kek(int argc, char **argv);
int gssp11_cmd_check(int argc, char **argv);
int gssp11_cmd_identity(int argc, char **argv);

/* Prints "gssp11: <message of code>" on stderr and returns 1. */
int gssp11_fail(uint32_t code);

/* Prints "gssp11: <formatted>" on stderr and returns 1. */
int gssp11_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
