/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one table from gss-pkcs11 minor codes to SSPI statuses
 * (docs/sspi.md, "Status codes"). A code not listed falls back on its
 * GSS major status.
 */
#include "gp11_sspi.h"

#include "gp11_error.h"

static const struct {
    uint32_t minor;
    SECURITY_STATUS status;
} status_table[] = {
    {GP11_ERR_NOMEM, SEC_E_INSUFFICIENT_MEMORY},
    {GP11_ERR_INTERNAL, SEC_E_INTERNAL_ERROR},
    {GP11_ERR_BAD_ARG, SEC_E_INVALID_PARAMETER},
    /* the token and the configuration */
    {GP11_ERR_CONFIG_MISSING, SEC_E_NO_CREDENTIALS},
    {GP11_ERR_PIN_MISSING, SEC_E_LOGON_DENIED},
    {GP11_ERR_PIN_LOCKED, SEC_E_LOGON_DENIED},
    {GP11_ERR_PIN_INCORRECT, SEC_E_LOGON_DENIED},
    {GP11_ERR_PIN_FAILED_BEFORE, SEC_E_LOGON_DENIED},
    {GP11_ERR_LOGIN, SEC_E_LOGON_DENIED},
    {GP11_ERR_FORKED, SEC_E_INVALID_HANDLE},
    /* identities */
    {GP11_ERR_IDENTITY_NOT_FOUND, SEC_E_NO_CREDENTIALS},
    {GP11_ERR_IDENTITY_AMBIGUOUS, SEC_E_UNKNOWN_CREDENTIALS},
    {GP11_ERR_CERT_MISSING, SEC_E_NO_CREDENTIALS},
    {GP11_ERR_CERT_INVALID, SEC_E_CERT_UNKNOWN},
    {GP11_ERR_NO_CRED, SEC_E_NO_CREDENTIALS},
    {GP11_ERR_CRED_USAGE, SEC_E_NO_CREDENTIALS},
    {GP11_ERR_NO_IDENTITY_FOR_SERVICE, SEC_E_NO_CREDENTIALS},
    /* context tokens and the handshake */
    {GP11_ERR_TOKEN_MALFORMED, SEC_E_INVALID_TOKEN},
    {GP11_ERR_TOKEN_WRONG_MECH, SEC_E_INVALID_TOKEN},
    {GP11_ERR_TOKEN_UNEXPECTED, SEC_E_INVALID_TOKEN},
    {GP11_ERR_VERSION, SEC_E_INVALID_TOKEN},
    {GP11_ERR_NO_COMMON_PROFILE, SEC_E_ALGORITHM_MISMATCH},
    {GP11_ERR_NO_COMMON_SIGALG, SEC_E_ALGORITHM_MISMATCH},
    {GP11_ERR_GROUP_UNSUPPORTED, SEC_E_ALGORITHM_MISMATCH},
    {GP11_ERR_BAD_BINDINGS, SEC_E_BAD_BINDINGS},
    {GP11_ERR_CERT_UNTRUSTED, SEC_E_UNTRUSTED_ROOT},
    {GP11_ERR_CERT_EXPIRED, SEC_E_CERT_EXPIRED},
    {GP11_ERR_CERT_NOT_YET_VALID, SEC_E_CERT_EXPIRED},
    {GP11_ERR_CERT_HOSTNAME, SEC_E_WRONG_PRINCIPAL},
    {GP11_ERR_CERT_USAGE, SEC_E_CERT_WRONG_USAGE},
    {GP11_ERR_SIGNATURE, SEC_E_INVALID_TOKEN},
    {GP11_ERR_KEY_CONFIRMATION, SEC_E_INVALID_TOKEN},
    {GP11_ERR_ANON_REFUSED, SEC_E_LOGON_DENIED},
    {GP11_ERR_PEER_REFUSED, SEC_E_LOGON_DENIED},
    /* objects */
    {GP11_ERR_NO_CONTEXT, SEC_E_INVALID_HANDLE},
    {GP11_ERR_CONTEXT_EXPIRED, SEC_E_CONTEXT_EXPIRED},
    {GP11_ERR_BAD_NAME, SEC_E_TARGET_UNKNOWN},
    {GP11_ERR_BAD_NAME_TYPE, SEC_E_TARGET_UNKNOWN},
    {GP11_ERR_UNAVAILABLE, SEC_E_UNSUPPORTED_FUNCTION},
    /* per-message protection */
    {GP11_ERR_BAD_TAG, SEC_E_MESSAGE_ALTERED},
    {GP11_ERR_REFLECTED, SEC_E_MESSAGE_ALTERED},
    {GP11_ERR_BAD_QOP, SEC_E_QOP_NOT_SUPPORTED},
    {GP11_ERR_SEQ_EXHAUSTED, SEC_E_CONTEXT_EXPIRED},
    /* a caller-assigned MessageSeqNo: not above every number used
     * (sender, refused before anything is computed) or not the token's
     * (receiver) (docs/sspi.md, "MessageSeqNo") */
    {GP11_ERR_SEQ_REUSED, SEC_E_OUT_OF_SEQUENCE},
    {GP11_ERR_SEQ_MISMATCH, SEC_E_OUT_OF_SEQUENCE},
    /* context export (protocol.md 5): the policy or the KEK refuses it,
     * or the packed context cannot be imported (damaged, of another
     * token or KEK, already imported) */
    {GP11_ERR_EXPORT_FORBIDDEN, SEC_E_CANNOT_PACK},
    {GP11_ERR_BLOB_MALFORMED, SEC_E_INVALID_TOKEN},
    {GP11_ERR_BLOB_FOREIGN, SEC_E_INVALID_TOKEN},
    {GP11_ERR_BLOB_ALTERED, SEC_E_INVALID_TOKEN},
    {GP11_ERR_BLOB_USED, SEC_E_INVALID_TOKEN},
};

SECURITY_STATUS gp11_sspi_status(OM_uint32 major, OM_uint32 minor)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].minor == minor)
            return status_table[i].status;
    switch (GSS_ROUTINE_ERROR(major)) {
    case GSS_S_DEFECTIVE_TOKEN:
        return SEC_E_INVALID_TOKEN;
    case GSS_S_BAD_SIG:
        return SEC_E_MESSAGE_ALTERED;
    case GSS_S_NO_CONTEXT:
        return SEC_E_INVALID_HANDLE;
    case GSS_S_NO_CRED:
        return SEC_E_NO_CREDENTIALS;
    case GSS_S_CONTEXT_EXPIRED:
        return SEC_E_CONTEXT_EXPIRED;
    case GSS_S_BAD_BINDINGS:
        return SEC_E_BAD_BINDINGS;
    case GSS_S_BAD_QOP:
        return SEC_E_QOP_NOT_SUPPORTED;
    case GSS_S_BAD_NAME:
    case GSS_S_BAD_NAMETYPE:
        return SEC_E_TARGET_UNKNOWN;
    case GSS_S_UNAVAILABLE:
        return SEC_E_UNSUPPORTED_FUNCTION;
    case GSS_S_CALL_INACCESSIBLE_READ:
    case GSS_S_CALL_INACCESSIBLE_WRITE:
        return SEC_E_INVALID_PARAMETER;
    default:
        break;
    }
    if (GSS_SUPPLEMENTARY_INFO(major) &
        (GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN |
         GSS_S_GAP_TOKEN))
        return SEC_E_OUT_OF_SEQUENCE;
    return SEC_E_INTERNAL_ERROR;
}
