/* SPDX-License-Identifier: Apache-2.0 */
/* Minor codes: generic sentences and the per-thread detailed message. */
#include "gp11_error.h"
#include "gp11_debug.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DETAIL_MAX 1024
#define RECENT 8

/*
 * The sentences of this thread's last RECENT failures, newest at `next-1`:
 * an application displays a minor status after other calls may have
 * failed too (the initiator's and the acceptor's, say), so the detail of
 * each of the last few codes is kept, not just the last one.
 */
static _Thread_local struct {
    uint32_t code;
    CK_RV rv;
    char detail[DETAIL_MAX];
} recent[RECENT];
static _Thread_local unsigned next;
static _Thread_local CK_RV last_rv;

static const char *const generic[] = {
    [GP11_ERR_NOMEM - GP11_ERR_BASE] = "out of memory",
    [GP11_ERR_INTERNAL - GP11_ERR_BASE] = "internal error in gss-pkcs11",
    [GP11_ERR_BAD_ARG - GP11_ERR_BASE] = "invalid argument",
    [GP11_ERR_CONFIG_MISSING - GP11_ERR_BASE] =
        "the gss-pkcs11 configuration file cannot be read",
    [GP11_ERR_CONFIG_SYNTAX - GP11_ERR_BASE] =
        "syntax error in the gss-pkcs11 configuration file",
    [GP11_ERR_CONFIG_VALUE - GP11_ERR_BASE] =
        "invalid value in the gss-pkcs11 configuration file",
    [GP11_ERR_MODULE_LOAD - GP11_ERR_BASE] =
        "the PKCS#11 module cannot be loaded",
    [GP11_ERR_MODULE_INIT - GP11_ERR_BASE] =
        "the PKCS#11 module failed to initialise",
    [GP11_ERR_BAD_URI - GP11_ERR_BASE] = "malformed PKCS#11 URI",
    [GP11_ERR_TOKEN_NOT_FOUND - GP11_ERR_BASE] =
        "no token matches the configured PKCS#11 URI",
    [GP11_ERR_TOKEN_AMBIGUOUS - GP11_ERR_BASE] =
        "more than one token matches the configured PKCS#11 URI",
    [GP11_ERR_TOKEN_NOT_INITIALIZED - GP11_ERR_BASE] =
        "the token is not initialised",
    [GP11_ERR_PIN_SOURCE - GP11_ERR_BASE] = "the PIN source cannot be read",
    [GP11_ERR_PIN_MISSING - GP11_ERR_BASE] =
        "the token needs a PIN and none is configured",
    [GP11_ERR_PIN_LOCKED - GP11_ERR_BASE] = "the token's user PIN is locked",
    [GP11_ERR_PIN_FINAL_TRY - GP11_ERR_BASE] =
        "the next wrong PIN would lock the token; refusing to try",
    [GP11_ERR_PIN_INCORRECT - GP11_ERR_BASE] =
        "the token rejected the PIN (CKR_PIN_INCORRECT)",
    [GP11_ERR_PIN_FAILED_BEFORE - GP11_ERR_BASE] =
        "this PIN was rejected before and is not tried again",
    [GP11_ERR_LOGIN - GP11_ERR_BASE] = "login to the token failed",
    [GP11_ERR_SESSION - GP11_ERR_BASE] = "cannot open a session on the token",
    [GP11_ERR_SESSION_EXHAUSTED - GP11_ERR_BASE] =
        "the token has no free session",
    [GP11_ERR_FORKED - GP11_ERR_BASE] =
        "the object was created before fork() and cannot be used in the child",
    [GP11_ERR_STALE_OBJECT - GP11_ERR_BASE] =
        "a token object is no longer valid",
    [GP11_ERR_TOKEN_REFUSED - GP11_ERR_BASE] = "the token refused an operation",
    [GP11_ERR_MECH_UNSUPPORTED - GP11_ERR_BASE] =
        "the token does not support a required mechanism",
    [GP11_ERR_BAD_TEMPLATE - GP11_ERR_BASE] =
        "a key template lacks explicit CKA_SENSITIVE and CKA_EXTRACTABLE",
    [GP11_ERR_IDENTITY_NOT_FOUND - GP11_ERR_BASE] =
        "no private key matches the identity URI",
    [GP11_ERR_IDENTITY_AMBIGUOUS - GP11_ERR_BASE] =
        "more than one private key matches the identity URI",
    [GP11_ERR_CERT_MISSING - GP11_ERR_BASE] =
        "the identity's private key has no certificate with the same CKA_ID",
    [GP11_ERR_CERT_INVALID - GP11_ERR_BASE] = "the certificate is invalid",
    [GP11_ERR_QUIRK_UNKNOWN - GP11_ERR_BASE] = "unknown token quirk",
    [GP11_ERR_TOKEN_MALFORMED - GP11_ERR_BASE] =
        "the context token is malformed",
    [GP11_ERR_TOKEN_WRONG_MECH - GP11_ERR_BASE] =
        "the token belongs to another GSS-API mechanism",
    [GP11_ERR_TOKEN_UNEXPECTED - GP11_ERR_BASE] =
        "the token is from another step of the handshake",
    [GP11_ERR_VERSION - GP11_ERR_BASE] =
        "the peer speaks no protocol version this side supports",
    [GP11_ERR_NO_COMMON_PROFILE - GP11_ERR_BASE] =
        "the two tokens share no key-derivation profile",
    [GP11_ERR_NO_COMMON_SIGALG - GP11_ERR_BASE] =
        "the peer cannot verify this side's signature algorithm",
    [GP11_ERR_GROUP_UNSUPPORTED - GP11_ERR_BASE] =
        "the token does not support the peer's ECDH group",
    [GP11_ERR_BAD_BINDINGS - GP11_ERR_BASE] =
        "the channel bindings of the two sides differ",
    [GP11_ERR_CERT_UNTRUSTED - GP11_ERR_BASE] =
        "the peer's certificate is not issued by a trusted CA",
    [GP11_ERR_CERT_EXPIRED - GP11_ERR_BASE] = "a certificate has expired",
    [GP11_ERR_CERT_NOT_YET_VALID - GP11_ERR_BASE] =
        "a certificate is not yet valid",
    [GP11_ERR_CERT_HOSTNAME - GP11_ERR_BASE] =
        "the acceptor's certificate does not name the target host",
    [GP11_ERR_CERT_USAGE - GP11_ERR_BASE] =
        "the certificate is not valid for this use (key or extended key "
        "usage)",
    [GP11_ERR_SIGNATURE - GP11_ERR_BASE] = "the handshake signature is invalid",
    [GP11_ERR_KEY_CONFIRMATION - GP11_ERR_BASE] =
        "key confirmation failed: the peers derived different keys",
    [GP11_ERR_ANON_REFUSED - GP11_ERR_BASE] =
        "anonymous initiators are not allowed by the acceptor's policy",
    [GP11_ERR_PEER_REFUSED - GP11_ERR_BASE] =
        "the acceptor refused the context",
    [GP11_ERR_NO_CONTEXT - GP11_ERR_BASE] = "no established security context",
    [GP11_ERR_CONTEXT_EXPIRED - GP11_ERR_BASE] =
        "the security context has expired",
    [GP11_ERR_NO_CRED - GP11_ERR_BASE] = "no usable credential",
    [GP11_ERR_CRED_USAGE - GP11_ERR_BASE] =
        "the credential cannot be used this way (initiate/accept)",
    [GP11_ERR_NO_IDENTITY_FOR_SERVICE - GP11_ERR_BASE] =
        "no acceptor identity is configured for the service",
    [GP11_ERR_BAD_NAME - GP11_ERR_BASE] = "malformed name",
    [GP11_ERR_BAD_NAME_TYPE - GP11_ERR_BASE] = "unsupported name type",
    [GP11_ERR_NO_LOCALNAME - GP11_ERR_BASE] =
        "the name has no local account name",
    [GP11_ERR_UNAVAILABLE - GP11_ERR_BASE] =
        "this call is not supported by gss-pkcs11",
    [GP11_ERR_BAD_TAG - GP11_ERR_BASE] =
        "the message's integrity tag does not verify",
    [GP11_ERR_REFLECTED - GP11_ERR_BASE] =
        "the token was sent by this side of the context (reflected)",
    [GP11_ERR_BAD_QOP - GP11_ERR_BASE] =
        "the QOP is unknown or cannot be used with this context",
    [GP11_ERR_SEQ_EXHAUSTED - GP11_ERR_BASE] =
        "the context's sequence numbers are exhausted",
    [GP11_ERR_IV_CHANGED - GP11_ERR_BASE] =
        "the token replaced the AES-GCM IV with its own",
    [GP11_ERR_KEYS_STAY_IN_TOKEN - GP11_ERR_BASE] =
        "key material was asked for: context keys never leave the token",
    [GP11_ERR_MSG_LIMIT - GP11_ERR_BASE] =
        "a key of the context reached its message limit",
    [GP11_ERR_BLOCK_LIMIT - GP11_ERR_BASE] =
        "a key of the context reached its cipher-block limit",
    [GP11_ERR_FORGERY_LIMIT - GP11_ERR_BASE] =
        "a key of the context reached its limit of failed verifications",
    [GP11_ERR_SEQ_REUSED - GP11_ERR_BASE] =
        "the sequence number is not above every number already used",
    [GP11_ERR_SEQ_MISMATCH - GP11_ERR_BASE] =
        "the token's sequence number is not the one expected",
    [GP11_ERR_CERT_REVOKED - GP11_ERR_BASE] =
        "certificate revoked: a certificate of the peer's chain is on its "
        "issuer's CRL",
    [GP11_ERR_CRL_EXPIRED - GP11_ERR_BASE] =
        "CRL expired: the issuer's newest CRL is past its nextUpdate",
    [GP11_ERR_CRL_MISSING - GP11_ERR_BASE] =
        "no CRL for the issuer of a certificate of the peer's chain",
    [GP11_ERR_EXPORT_FORBIDDEN - GP11_ERR_BASE] =
        "context export is not allowed (policy allow-export, or no export "
        "KEK on the token)",
    [GP11_ERR_BLOB_MALFORMED - GP11_ERR_BASE] =
        "the exported context is truncated, malformed or of another version",
    [GP11_ERR_BLOB_FOREIGN - GP11_ERR_BASE] =
        "the exported context was made on another token or under another KEK",
    [GP11_ERR_BLOB_ALTERED - GP11_ERR_BASE] =
        "the exported context was altered (its MAC does not verify)",
    [GP11_ERR_BLOB_USED - GP11_ERR_BASE] =
        "the exported context was already imported (or its one-time key is "
        "gone)",
    [GP11_ERR_IDENTITY_EXPOSED - GP11_ERR_BASE] =
        "the identity's private key is, or was, extractable or not "
        "sensitive",
};

const char *gp11_err_generic(uint32_t code)
{
    if (code <= GP11_ERR_BASE || code >= GP11_ERR_LAST)
        return NULL;
    return generic[code - GP11_ERR_BASE];
}

/*
 * Stores the sentence for this thread (not yet logged); returns it. A
 * sentence is one line of text: control characters that came in with a
 * file name or a value (a newline, an escape sequence) are shown as '?'.
 */
static char *record(uint32_t code, CK_RV rv, const char *fmt, va_list ap)
{
    unsigned i = next++ % RECENT;

    recent[i].code = code;
    recent[i].rv = rv;
    last_rv = rv;
    vsnprintf(recent[i].detail, DETAIL_MAX, fmt, ap);
    for (char *c = recent[i].detail; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return recent[i].detail;
}

/* Logs the recorded sentence once, under the failing function's name. */
static void log_detail(const char *func, uint32_t code, const char *detail)
{
    gp11_debug_init();
    if (gp11_debug_on)
        gp11_debug_write(func, "error 0x%08x: %s", code, detail);
}

uint32_t gp11_err_set_at(const char *func, uint32_t code, const char *fmt, ...)
{
    va_list ap;

    char *detail;

    va_start(ap, fmt);
    detail = record(code, CKR_OK, fmt, ap);
    va_end(ap);
    log_detail(func, code, detail);
    return code;
}

uint32_t gp11_err_ck_at(const char *func, uint32_t code, CK_RV rv,
                        const char *call, const char *fmt, ...)
{
    const char *name = gp11_ckr_name(rv);
    char unknown[32], *detail;
    size_t len;
    va_list ap;

    va_start(ap, fmt);
    detail = record(code, rv, fmt, ap);
    va_end(ap);
    if (name == NULL) {
        snprintf(unknown, sizeof(unknown), "CKR_0x%08lx", (unsigned long)rv);
        name = unknown;
    }
    len = strlen(detail);
    snprintf(detail + len, DETAIL_MAX - len, ": %s returned %s", call, name);
    log_detail(func, code, detail);
    return code;
}

const char *gp11_err_message(uint32_t code)
{
    const char *g;

    /* The newest recorded sentence for this code, if any. */
    for (unsigned k = 1; k <= RECENT && k <= next; k++) {
        unsigned i = (next - k) % RECENT;

        if (recent[i].code == code && recent[i].detail[0] != '\0')
            return recent[i].detail;
    }
    g = gp11_err_generic(code);
    return g ? g : "unknown gss-pkcs11 error";
}

CK_RV gp11_err_last_rv(void)
{
    return last_rv;
}

void gp11_err_clear(void)
{
    memset(recent, 0, sizeof(recent));
    next = 0;
    last_rv = CKR_OK;
}
