/* SPDX-License-Identifier: Apache-2.0 */
/* Minor status codes to sentences for gss_display_status. */
#include "gp11_status.h"
#include "gp11_error.h"
#include "gp11_gss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 2744 routine errors, by GSS_ROUTINE_ERROR() >> 16. */
static const char *const routine_text[] = {
    [1] = "an unsupported mechanism was requested",
    [2] = "an invalid name was supplied",
    [3] = "a supplied name was of an unsupported type",
    [4] = "incorrect channel bindings were supplied",
    [5] = "an invalid status code was supplied",
    [6] = "a token had an invalid integrity check (MIC)",
    [7] = "no credentials were supplied, or they are unavailable",
    [8] = "no security context has been established",
    [9] = "a token was invalid",
    [10] = "a credential was invalid",
    [11] = "the referenced credentials have expired",
    [12] = "the security context has expired",
    [13] = "the call failed (the minor status says why)",
    [14] = "the requested quality of protection cannot be provided",
    [15] = "the operation is forbidden by local security policy",
    [16] = "the operation or option is not available",
    [17] = "the credential already holds an element for this mechanism",
    [18] = "the name is not a mechanism name",
};

/* Calling errors, by GSS_CALLING_ERROR() >> 24. */
static const char *const calling_text[] = {
    [1] = "a required input parameter could not be read",
    [2] = "a required output parameter could not be written",
    [3] = "a parameter was malformed",
};

/* Supplementary status bits, by bit number above GSS_C_SUPPLEMENTARY_OFFSET. */
static const char *const supplementary_text[] = {
    [0] = "the call must be continued with the peer's next token",
    [1] = "the token is a duplicate of an earlier one",
    [2] = "the token is too old to be checked for duplicates",
    [3] = "a later token has already been processed (out of sequence)",
    [4] = "one or more earlier tokens were skipped (not received)",
};

/* Appends "; " (unless first) and text to buf at *used. */
static void append(char *buf, size_t size, size_t *used, const char *text)
{
    int n =
        snprintf(buf + *used, size - *used, "%s%s", *used ? "; " : "", text);

    if (n > 0)
        *used = *used + (size_t)n < size ? *used + (size_t)n : size - 1;
}

/* One sentence for a whole major status: every part of it. */
static void major_sentence(OM_uint32 status, char *buf, size_t size)
{
    OM_uint32 calling = GSS_CALLING_ERROR(status) >> GSS_C_CALLING_ERROR_OFFSET;
    OM_uint32 routine = GSS_ROUTINE_ERROR(status) >> GSS_C_ROUTINE_ERROR_OFFSET;
    OM_uint32 supp = GSS_SUPPLEMENTARY_INFO(status);
    size_t used = 0;
    char tmp[64];

    buf[0] = '\0';
    if (status == GSS_S_COMPLETE) {
        append(buf, size, &used, "the call completed successfully");
        return;
    }
    if (calling != 0)
        append(buf, size, &used, calling_text[calling]);
    if (routine != 0) {
        if (routine < sizeof(routine_text) / sizeof(routine_text[0])) {
            append(buf, size, &used, routine_text[routine]);
        } else {
            snprintf(tmp, sizeof(tmp), "unknown routine error %u", routine);
            append(buf, size, &used, tmp);
        }
    }
    for (unsigned b = 0; b < 16; b++) {
        if (!(supp & (1u << b)))
            continue;
        if (b < sizeof(supplementary_text) / sizeof(supplementary_text[0])) {
            append(buf, size, &used, supplementary_text[b]);
        } else {
            snprintf(tmp, sizeof(tmp), "unknown supplementary status bit %u",
                     b);
            append(buf, size, &used, tmp);
        }
    }
    if (routine == 0 && calling == 0 && supp != 0)
        append(buf, size, &used, "otherwise the call completed");
}

/*
 * RFC 2744 gss_display_status, one message per status: any message
 * context the caller passes is a fresh call (Heimdal passes an
 * uninitialised one) and 0 comes back. Minor 0 (which comes with a
 * supplementary status, and which MIT's mechglue maps and hands back)
 * has a sentence too; a minor code not ours is GSS_S_BAD_STATUS.
 */
OM_uint32 gp11_display_status(OM_uint32 *minor, OM_uint32 status_value,
                              int status_type, gss_OID mech_type,
                              OM_uint32 *message_context,
                              gss_buffer_t status_string)
{
    char major_buf[1024];
    const char *msg;
    size_t len;

    (void)mech_type;
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (message_context != NULL)
        *message_context = 0;
    if (status_string == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    status_string->length = 0;
    status_string->value = NULL;
    if (status_type == GSS_C_GSS_CODE) {
        major_sentence(status_value, major_buf, sizeof(major_buf));
        msg = major_buf;
    } else if (status_type != GSS_C_MECH_CODE) {
        return GSS_S_BAD_STATUS;
    } else if (status_value == 0) {
        msg = "gss-pkcs11 reported no error (minor status 0)";
    } else if (gp11_err_generic(status_value) == NULL) {
        return GSS_S_BAD_STATUS;
    } else {
        msg = gp11_err_message(status_value);
    }
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
    case GP11_ERR_BLOB_MALFORMED:
    case GP11_ERR_BLOB_FOREIGN:
    case GP11_ERR_BLOB_ALTERED:
    case GP11_ERR_BLOB_USED:
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
    case GP11_ERR_CERT_REVOKED:
    case GP11_ERR_CRL_EXPIRED:
    case GP11_ERR_CRL_MISSING:
    case GP11_ERR_IDENTITY_EXPOSED:
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
    /* MIT's gss_export_sec_context drops the minor of an UNAVAILABLE
     * (it tries its own export then); UNAUTHORIZED says "forbidden by
     * local security policy", which is the case. */
    case GP11_ERR_EXPORT_FORBIDDEN:
        return GSS_S_UNAUTHORIZED;
    case GP11_ERR_UNAVAILABLE:
    case GP11_ERR_NO_LOCALNAME:
    case GP11_ERR_KEYS_STAY_IN_TOKEN:
        return GSS_S_UNAVAILABLE;
    case GP11_ERR_BAD_QOP:
        return GSS_S_BAD_QOP;
    case GP11_ERR_SEQ_EXHAUSTED:
    case GP11_ERR_MSG_LIMIT:
    case GP11_ERR_BLOCK_LIMIT:
    case GP11_ERR_FORGERY_LIMIT:
        return GSS_S_CONTEXT_EXPIRED;
    case GP11_ERR_BAD_TAG:
    case GP11_ERR_REFLECTED:
        return GSS_S_BAD_SIG;
    default:
        return GSS_S_FAILURE;
    }
}
