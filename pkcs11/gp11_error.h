/* SPDX-License-Identifier: Apache-2.0 */
/* Minor status codes of gss-pkcs11 and the per-thread error detail. */
#ifndef GP11_ERROR_H
#define GP11_ERROR_H

#include <stdint.h>
#include <p11-kit/pkcs11.h>

/*
 * Every failure inside gss-pkcs11 is one of these codes; the GSS layer
 * returns it as the minor status. The base keeps our codes apart from
 * errno values and other mechanisms' codes in the mechglue's minor map.
 */
#define GP11_ERR_BASE 0x67700000u

enum gp11_err {
    GP11_OK = 0,
    GP11_ERR_NOMEM = GP11_ERR_BASE + 1,
    GP11_ERR_INTERNAL,
    GP11_ERR_BAD_ARG,
    GP11_ERR_CONFIG_MISSING,
    GP11_ERR_CONFIG_SYNTAX,
    GP11_ERR_CONFIG_VALUE,
    GP11_ERR_MODULE_LOAD,
    GP11_ERR_MODULE_INIT,
    GP11_ERR_BAD_URI,
    GP11_ERR_TOKEN_NOT_FOUND,
    GP11_ERR_TOKEN_AMBIGUOUS,
    GP11_ERR_TOKEN_NOT_INITIALIZED,
    GP11_ERR_PIN_SOURCE,
    GP11_ERR_PIN_MISSING,
    GP11_ERR_PIN_LOCKED,
    GP11_ERR_PIN_FINAL_TRY,
    GP11_ERR_PIN_INCORRECT,
    GP11_ERR_PIN_FAILED_BEFORE,
    GP11_ERR_LOGIN,
    GP11_ERR_SESSION,
    GP11_ERR_SESSION_EXHAUSTED,
    GP11_ERR_FORKED,
    GP11_ERR_STALE_OBJECT,
    GP11_ERR_TOKEN_REFUSED,
    GP11_ERR_MECH_UNSUPPORTED,
    GP11_ERR_BAD_TEMPLATE,
    GP11_ERR_IDENTITY_NOT_FOUND,
    GP11_ERR_IDENTITY_AMBIGUOUS,
    GP11_ERR_CERT_MISSING,
    GP11_ERR_CERT_INVALID,
    GP11_ERR_QUIRK_UNKNOWN,
    /* context tokens and the handshake */
    GP11_ERR_TOKEN_MALFORMED,
    GP11_ERR_TOKEN_WRONG_MECH,
    GP11_ERR_TOKEN_UNEXPECTED,
    GP11_ERR_VERSION,
    GP11_ERR_NO_COMMON_PROFILE,
    GP11_ERR_NO_COMMON_SIGALG,
    GP11_ERR_GROUP_UNSUPPORTED,
    GP11_ERR_BAD_BINDINGS,
    GP11_ERR_CERT_UNTRUSTED,
    GP11_ERR_CERT_EXPIRED,
    GP11_ERR_CERT_NOT_YET_VALID,
    GP11_ERR_CERT_HOSTNAME,
    GP11_ERR_CERT_USAGE,
    GP11_ERR_SIGNATURE,
    GP11_ERR_KEY_CONFIRMATION,
    GP11_ERR_ANON_REFUSED,
    GP11_ERR_PEER_REFUSED,
    /* GSS objects */
    GP11_ERR_NO_CONTEXT,
    GP11_ERR_CONTEXT_EXPIRED,
    GP11_ERR_NO_CRED,
    GP11_ERR_CRED_USAGE,
    GP11_ERR_NO_IDENTITY_FOR_SERVICE,
    GP11_ERR_BAD_NAME,
    GP11_ERR_BAD_NAME_TYPE,
    GP11_ERR_NO_LOCALNAME,
    GP11_ERR_UNAVAILABLE,
    /* per-message protection */
    GP11_ERR_BAD_TAG,
    GP11_ERR_REFLECTED,
    GP11_ERR_BAD_QOP,
    GP11_ERR_SEQ_EXHAUSTED,
    GP11_ERR_IV_CHANGED,
    GP11_ERR_KEYS_STAY_IN_TOKEN,
    GP11_ERR_MSG_LIMIT,
    GP11_ERR_BLOCK_LIMIT,
    GP11_ERR_FORGERY_LIMIT,
    GP11_ERR_SEQ_REUSED,
    GP11_ERR_SEQ_MISMATCH,
    /* revocation (core/revocation.c) */
    GP11_ERR_CERT_REVOKED,
    GP11_ERR_CRL_EXPIRED,
    GP11_ERR_CRL_MISSING,
    /* context export (docs/protocol.md 5) */
    GP11_ERR_EXPORT_FORBIDDEN,
    GP11_ERR_BLOB_MALFORMED,
    GP11_ERR_BLOB_FOREIGN,
    GP11_ERR_BLOB_ALTERED,
    GP11_ERR_BLOB_USED,
    /* identity key protection (core/creds.c) */
    GP11_ERR_IDENTITY_EXPOSED,
    GP11_ERR_LAST /* keep last */
};

/* Record a failure with a detailed sentence; returns code. The debug log
 * line names the function that failed. */
#define gp11_err_set(code, ...) gp11_err_set_at(__func__, code, __VA_ARGS__)
uint32_t gp11_err_set_at(const char *func, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Record a failure of a PKCS#11 call: the sentence gets
 * ": <call> returned CKR_..." appended. Returns code.
 */
#define gp11_err_ck(code, rv, call, ...)                                       \
    gp11_err_ck_at(__func__, code, rv, call, __VA_ARGS__)
uint32_t gp11_err_ck_at(const char *func, uint32_t code, CK_RV rv,
                        const char *call, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * The sentence for code: the newest detail this thread recorded for it
 * among its last few failures, else the generic sentence. Never NULL.
 */
const char *gp11_err_message(uint32_t code);

/* The generic sentence for code, or NULL if code is not ours. */
const char *gp11_err_generic(uint32_t code);

/* The CK_RV recorded with the last gp11_err_ck() of this thread. */
CK_RV gp11_err_last_rv(void);

/* Forget this thread's recorded detail. */
void gp11_err_clear(void);

/* Name of a CKR_* value ("CKR_PIN_INCORRECT"), or NULL if unknown. */
const char *gp11_ckr_name(CK_RV rv);

/* Name of a CKM_* value ("CKM_AES_GCM"), or NULL if unknown. */
const char *gp11_ckm_name(CK_MECHANISM_TYPE mech);

#endif
