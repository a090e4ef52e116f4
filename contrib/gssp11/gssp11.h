/* SPDX-License-Identifier: Apache-2.0 */
/* gssp11: the gss-pkcs11 administration tool. */
#ifndef GSSP11_H
#define GSSP11_H

#include <stdbool.h>
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

/*
 * Progress of a long command (progress.c): shown on stderr only when
 * stderr is a terminal, else nothing is written. start, then one step
 * per item (the line shows "what [done/total] item"), then end, which
 * erases the line.
 */
struct gssp11_progress {
    bool on; /* stderr is a terminal */
    const char *what;
    unsigned done, total;
};

void gssp11_progress_start(struct gssp11_progress *p, const char *what,
                           unsigned total);
void gssp11_progress_step(struct gssp11_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Erases a shown progress line (before printing a result line). */
void gssp11_progress_clear(void);
void gssp11_progress_end(struct gssp11_progress *p);

#endif
