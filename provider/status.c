/* SPDX-License-Identifier: Apache-2.0 */
/* Minor status codes to sentences for gss_display_status. */
#include "gp11_status.h"
#include "gp11_error.h"

#include <stdlib.h>
#include <string.h>

OM_uint32 gp11_display_status(OM_uint32 *minor, OM_uint32 status_value,
                              int status_type, gss_OID mech_type,
                              OM_uint32 *message_context,
                              gss_buffer_t status_string)
{
    const char *msg;
    size_t len;

    (void)mech_type;
    *minor = 0;
    if (status_string == NULL || message_context == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    status_string->length = 0;
    status_string->value = NULL;
    /* Major codes are the mechglue's to display; one message per code. */
    if (status_type != GSS_C_MECH_CODE || *message_context != 0)
        return GSS_S_BAD_STATUS;
    if (gp11_err_generic(status_value) == NULL)
        return GSS_S_BAD_STATUS;
    msg = gp11_err_message(status_value);
    len = strlen(msg);
    status_string->value = malloc(len + 1);
    if (status_string->value == NULL) {
        *minor = GP11_ERR_NOMEM;
        return GSS_S_FAILURE;
    }
    memcpy(status_string->value, msg, len + 1);
    status_string->length = len;
    return GSS_S_COMPLETE;
}
