/* SPDX-License-Identifier: Apache-2.0 */
/* The mechanism OID as bytes, and the dotted-text OID encoder. */
#ifndef GP11_MECH_OID_H
#define GP11_MECH_OID_H

#include <stddef.h>
#include <stdint.h>

#include "gp11_buf.h"

/* Room for the DER content bytes of the mechanism OID. */
#define GP11_OID_MAX_LEN 128

/*
 * The mechanism OID (GP11_MECH_OID of gp11_build_config.h) as DER content
 * bytes, computed once. NULL if the configured text is not a valid dotted
 * OID of at most GP11_OID_MAX_LEN content bytes (a build mistake).
 */
const struct gp11_buf *gp11_mech_oid_der(void);

/*
 * Encodes a dotted OID ("1.2.840...") as DER content bytes into out.
 * Returns the length, or 0 if the text is not a valid OID (fewer than two
 * arcs, first arc above 2, second above 39 under 0 or 1, empty arc,
 * leading zero, arc above 2^64-1) or does not fit in size bytes.
 */
size_t gp11_oid_from_dotted(const char *text, uint8_t *out, size_t size);

#endif
