/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The only file that defines exported gss_* names: one-line trampolines
 * into gp11_* functions. Internal code never calls a gss_* name, which
 * would bind to the application's mechglue (symbol interposition).
 */
#include "gp11_status.h"

#define GP11_EXPORT __attribute__((visibility("default")))

GP11_EXPORT OM_uint32 gss_display_status(OM_uint32 *minor,
                                         OM_uint32 status_value,
                                         int status_type, gss_OID mech_type,
                                         OM_uint32 *message_context,
                                         gss_buffer_t status_string);

OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status_value,
                             int status_type, gss_OID mech_type,
                             OM_uint32 *message_context,
                             gss_buffer_t status_string)
{
    return gp11_display_status(minor, status_value, status_type, mech_type,
                               message_context, status_string);
}
