/* SPDX-License-Identifier: Apache-2.0 */
/* gss_display_status for gss-pkcs11 minor codes. */
#ifndef GP11_STATUS_H
#define GP11_STATUS_H

#include <gssapi/gssapi.h>

/* Turns one of our minor codes into its sentence (RFC 2744 semantics). */
OM_uint32 gp11_display_status(OM_uint32 *minor, OM_uint32 status_value,
                              int status_type, gss_OID mech_type,
                              OM_uint32 *message_context,
                              gss_buffer_t status_string);

#endif
