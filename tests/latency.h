/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The functions tests/latency_module.c exports for the tests and
 * contrib/bench (look them up with dlsym in the module the mechanism
 * loaded: dlopen(path, RTLD_NOW | RTLD_NOLOAD)).
 */
#ifndef GP11_LATENCY_H
#define GP11_LATENCY_H

#include <stddef.h>

#define GP11_LATENCY_EXPORT __attribute__((visibility("default")))

/* Copies the calls and the nanoseconds spent inside the real module (the
 * delay excluded) of every function, in function-list order, into c[] and
 * ns[] (either may be NULL), at most max entries; returns how many
 * functions there are. */
GP11_LATENCY_EXPORT size_t gp11_latency_snapshot(unsigned long *c,
                                                 unsigned long long *ns,
                                                 size_t max);
/* The name of function i ("C_Sign"), NULL past the last. */
GP11_LATENCY_EXPORT const char *gp11_latency_name(size_t i);
/* Sets (or reads) the delay per call in microseconds. */
GP11_LATENCY_EXPORT void gp11_latency_set_us(long us);
GP11_LATENCY_EXPORT long gp11_latency_get_us(void);
/* Zeroes every count. */
GP11_LATENCY_EXPORT void gp11_latency_reset(void);
/* Writes "C_Name calls ns" for every function called; 0 on success. */
GP11_LATENCY_EXPORT int gp11_latency_dump(const char *path);

typedef size_t (*gp11_latency_snapshot_fn)(unsigned long *,
                                           unsigned long long *, size_t);
typedef const char *(*gp11_latency_name_fn)(size_t);
typedef void (*gp11_latency_set_us_fn)(long);
typedef void (*gp11_latency_reset_fn)(void);

#endif
