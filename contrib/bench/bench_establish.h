/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gp11-bench's establishment table and network-HSM mode (issue 11 items 1
 * and 5), in bench_establish.c: the token is put behind
 * tests/latency_module.c, which counts every PKCS#11 call, times it and
 * adds a delay per call.
 */
#ifndef GP11_BENCH_ESTABLISH_H
#define GP11_BENCH_ESTABLISH_H

#include <gssapi/gssapi.h>
#include <stdbool.h>

/*
 * Puts the latency module in front of the token named by GSS_PKCS11_CONF
 * (a copy of that file whose module is the latency module, which loads
 * the configured one), with delay_us per call. Must run before the first
 * GSS-API call. GP11_LATENCY_MODULE_PATH names the module (default:
 * ../tests/latency_module.so next to the program). False with a message
 * on stderr if it cannot.
 */
bool gp11_bench_latency_setup(long delay_us);

/*
 * The establishment table: the first context pair of the process (cold),
 * then the median of n warm ones, for each target (initiator and acceptor
 * in this process, default credentials): token calls per side, the
 * destructions, time inside the token and wall time. Markdown on stdout.
 * False on a failed establishment.
 */
bool gp11_bench_establish_table(gss_OID mech, unsigned n);

/* Token calls of one get_mic, verify_mic, wrap and unwrap on the pair (a
 * Markdown table). */
void gp11_bench_msg_calls(gss_ctx_id_t ictx, gss_ctx_id_t actx);

#endif
