/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validated peer chains, remembered per set of trust anchors (certval.c),
 * so that a peer who sends the same chain again is not validated again
 * (docs/protocol.md 2.11, "Validation cache").
 */
#ifndef GP11_CERTCACHE_H
#define GP11_CERTCACHE_H

#include "gp11_buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#define GP11_CERTCACHE_KEY_LEN 32

struct gp11_certcache;

/* A new, empty cache; NULL when out of memory (the caller then goes
 * without one). */
struct gp11_certcache *gp11_certcache_new(void);

void gp11_certcache_free(struct gp11_certcache *c);

/* The entry key: SHA-256 over the role and every certificate's length and
 * bytes, in order. False when the digest cannot be computed. */
bool gp11_certcache_key(int role, const struct gp11_buf *certs, size_t n,
                        uint8_t key[GP11_CERTCACHE_KEY_LEN]);

/*
 * The leaf of the chain with that key if it was validated at a time at or
 * before now and now is still before the chain's earliest notAfter: a new
 * reference, and *not_after. NULL otherwise (a miss).
 */
X509 *gp11_certcache_get(struct gp11_certcache *c,
                         const uint8_t key[GP11_CERTCACHE_KEY_LEN], time_t now,
                         time_t *not_after);

/* Remembers a chain validated at validated_at (a reference to leaf is
 * taken), replacing the oldest entry when full. */
void gp11_certcache_put(struct gp11_certcache *c,
                        const uint8_t key[GP11_CERTCACHE_KEY_LEN], X509 *leaf,
                        time_t validated_at, time_t not_after);

#endif
