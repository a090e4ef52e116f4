/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one table from the engine's GP11 codes to SSPI statuses
 * (docs/sspi.md, "Status codes"). A code not listed is
 * SEC_E_INTERNAL_ERROR (token layer failures and the like).
 */
#include "gp11_sspi.h"

#include "gp11_error.h"

static const struct {
    uint32_t code;
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
    /* revocation (protocol.md 2.11): a certificate on a CRL is revoked, as
     * Windows says of a revoked smart-card certificate; an expired or
     * missing CRL leaves its status unknown, as Windows says when it
     * cannot reach a CRL */
    {GP11_ERR_CERT_REVOKED, SEC_E_SMARTCARD_CERT_REVOKED},
    {GP11_ERR_CRL_EXPIRED, SEC_E_REVOCATION_OFFLINE_C},
    {GP11_ERR_CRL_MISSING, SEC_E_REVOCATION_OFFLINE_C},
    /* an identity key the token would let out (core/creds.c) */
    {GP11_ERR_IDENTITY_EXPOSED, SEC_E_UNKNOWN_CREDENTIALS},
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
    /* the context's keys lost by the token, a usage limit of protocol.md
     * 3.6 reached; what the engine cannot give */
    {GP11_ERR_STALE_OBJECT, SEC_E_CONTEXT_EXPIRED},
    {GP11_ERR_MSG_LIMIT, SEC_E_CONTEXT_EXPIRED},
    {GP11_ERR_BLOCK_LIMIT, SEC_E_CONTEXT_EXPIRED},
    {GP11_ERR_FORGERY_LIMIT, SEC_E_CONTEXT_EXPIRED},
    {GP11_ERR_NO_LOCALNAME, SEC_E_UNSUPPORTED_FUNCTION},
    {GP11_ERR_KEYS_STAY_IN_TOKEN, SEC_E_UNSUPPORTED_FUNCTION},
};

SECURITY_STATUS gp11_sspi_status(uint32_t code)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].code == code)
            return status_table[i].status;
    return SEC_E_INTERNAL_ERROR;
}
