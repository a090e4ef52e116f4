/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the token layer: wiping, comparing, hashing. */
#include "internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

void gp11_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}

bool gp11_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void gp11_sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;

    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32);
}

bool gp11_rv_session_gone(CK_RV rv)
{
    switch (rv) {
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
        return true;
    default:
        return false;
    }
}

bool gp11_rv_session_suspect(CK_RV rv)
{
    switch (rv) {
    /* An operation may still be active: the standard keeps it after
     * CKR_BUFFER_TOO_SMALL, and SoftHSM2 after CKR_ARGUMENTS_BAD. */
    case CKR_BUFFER_TOO_SMALL:
    case CKR_OPERATION_ACTIVE:
    case CKR_ARGUMENTS_BAD:
    /* The token failed; the session is in an unknown state, and still
     * open until closed (dropping it leaked one session per error). */
    case CKR_DEVICE_ERROR:
        return true;
    default:
        return false;
    }
}

void gp11_wipe_str(char *s)
{
    if (s != NULL)
        gp11_wipe(s, strlen(s));
}

/* Appends n bytes to out (bounded), keeping room for the terminator. */
static void append(char *out, size_t len, size_t *o, const char *p, size_t n)
{
    if (n > len - 1 - *o)
        n = len - 1 - *o;
    memcpy(out + *o, p, n);
    *o += n;
}

void gp11_uri_redact(const char *uri, char *out, size_t len)
{
    const char *p = uri;
    size_t o = 0, n;

    if (len == 0)
        return;
    if (strncmp(p, "pkcs11:", 7) == 0) {
        append(out, len, &o, p, 7);
        p += 7;
    }
    /* Each round: one attribute, then its separator (;, ? or &). */
    while (*p) {
        n = strcspn(p, ";?&");
        if (strncmp(p, "pin-value=", 10) == 0 ||
            strncmp(p, "pin-source=", 11) == 0)
            append(out, len, &o, "pin-***", 7);
        else
            append(out, len, &o, p, n);
        p += n;
        if (*p)
            append(out, len, &o, p++, 1);
    }
    out[o] = '\0';
}
