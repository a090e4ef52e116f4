/* SPDX-License-Identifier: Apache-2.0 */
/* Minor status codes to sentences for gss_display_status. */
#include "gp11_status.h"
#include "gp11_error.h"
#include "gp11_gss.h"

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

OM_uint32 gp11_major_for(uint32_t minor)
{
    switch (minor) {
    case GP11_OK:
        return GSS_S_COMPLETE;
    case GP11_ERR_TOKEN_MALFORMED:
    case GP11_ERR_TOKEN_UNEXPECTED:
    case GP11_ERR_VERSION:
    case GP11_ERR_SIGNATURE:
    case GP11_ERR_KEY_CONFIRMATION:
        return GSS_S_DEFECTIVE_TOKEN;
    case GP11_ERR_TOKEN_WRONG_MECH:
        return GSS_S_BAD_MECH;
    case GP11_ERR_BAD_BINDINGS:
        return GSS_S_BAD_BINDINGS;
    case GP11_ERR_CERT_EXPIRED:
        return GSS_S_CREDENTIALS_EXPIRED;
    case GP11_ERR_CERT_UNTRUSTED:
    case GP11_ERR_CERT_NOT_YET_VALID:
    case GP11_ERR_CERT_HOSTNAME:
    case GP11_ERR_CERT_USAGE:
    case GP11_ERR_CERT_INVALID:
        return GSS_S_DEFECTIVE_CREDENTIAL;
    case GP11_ERR_NO_CRED:
    case GP11_ERR_CRED_USAGE:
    case GP11_ERR_NO_IDENTITY_FOR_SERVICE:
    case GP11_ERR_IDENTITY_NOT_FOUND:
    case GP11_ERR_IDENTITY_AMBIGUOUS:
    case GP11_ERR_CERT_MISSING:
        return GSS_S_NO_CRED;
    case GP11_ERR_BAD_NAME:
        return GSS_S_BAD_NAME;
    case GP11_ERR_BAD_NAME_TYPE:
        return GSS_S_BAD_NAMETYPE;
    case GP11_ERR_NO_CONTEXT:
    case GP11_ERR_FORKED:
        return GSS_S_NO_CONTEXT;
    case GP11_ERR_CONTEXT_EXPIRED:
    case GP11_ERR_STALE_OBJECT: /* the token lost the context's keys */
        return GSS_S_CONTEXT_EXPIRED;
    case GP11_ERR_UNAVAILABLE:
    case GP11_ERR_NO_LOCALNAME:
        return GSS_S_UNAVAILABLE;
    case GP11_ERR_BAD_QOP:
        return GSS_S_BAD_QOP;
    case GP11_ERR_SEQ_EXHAUSTED:
        return GSS_S_CONTEXT_EXPIRED;
    case GP11_ERR_BAD_TAG:
    case GP11_ERR_REFLECTED:
        return GSS_S_BAD_SIG;
    default:
        return GSS_S_FAILURE;
    }
}
