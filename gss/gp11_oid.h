/* SPDX-License-Identifier: Apache-2.0 */
/* The mechanism OID as the GSS-API's gss_OID_desc, and OID comparison
 * (the bytes are the core's, core/gp11_mech_oid.h). */
#ifndef GP11_OID_H
#define GP11_OID_H

#include <stdbool.h>

#include <gssapi/gssapi.h>

#include "gp11_mech_oid.h"

/* The mechanism OID (gp11_mech_oid_der) as a gss_OID_desc; NULL if the
 * configured text is not a valid OID (a build mistake). */
const gss_OID_desc *gp11_mech_oid(void);

/* True if both OIDs have the same content bytes (or both are NULL). */
bool gp11_oid_equal(const gss_OID_desc *a, const gss_OID_desc *b);

#endif
