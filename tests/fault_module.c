/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A PKCS#11 module for fault injection only: it forwards every call to a
 * real token (GP11_FAULT_TARGET, e.g. SoftHSM2) and injects the faults
 * named in GP11_FAULT (read on every call, comma separated):
 *   pin-locked        C_GetTokenInfo reports CKF_USER_PIN_LOCKED
 *   pin-final-try     C_GetTokenInfo reports CKF_USER_PIN_FINAL_TRY
 *   session-limit=N   C_OpenSession fails with CKR_SESSION_COUNT when N
 *                     sessions are open
 *   open-delay-ms=N   C_OpenSession takes N ms longer (widens the window in
 *                     which several threads open sessions at once)
 *   init-fail         C_Initialize fails with CKR_DEVICE_ERROR
 *   fail-CALL=RV      CALL returns RV (a number; 0x30 is CKR_DEVICE_ERROR).
 *                     CALL is encrypt-init, decrypt-init, sign-init or
 *                     generate-key-pair (the token is not called), or
 *                     encrypt (the real C_Encrypt runs first and so ends
 *                     the operation, as the standard says an error does)
 *   stuck-encrypt=RV  C_Encrypt returns RV without calling the token: the
 *                     operation stays active, as SoftHSM2 leaves it after
 *                     CKR_ARGUMENTS_BAD
 * gp11_fault_open_sessions() is the number of sessions opened and not
 * closed through this module.
 * It never replaces the token: every operation runs on the real one.
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

static CK_FUNCTION_LIST *target;
static CK_FUNCTION_LIST wrapped;
static atomic_long open_sessions;

/* True if GP11_FAULT names the fault; *arg gets "=N" when present. */
static int fault(const char *name, long *arg)
{
    const char *spec = getenv("GP11_FAULT");
    size_t n = strlen(name);

    while (spec && *spec) {
        if (strncmp(spec, name, n) == 0 &&
            (spec[n] == '\0' || spec[n] == ',' || spec[n] == '=')) {
            if (arg)
                *arg = spec[n] == '=' ? strtol(spec + n + 1, NULL, 0) : 0;
            return 1;
        }
        spec = strchr(spec, ',');
        if (spec)
            spec++;
    }
    return 0;
}

static CK_RV fault_Initialize(CK_VOID_PTR args)
{
    if (fault("init-fail", NULL))
        return CKR_DEVICE_ERROR;
    return target->C_Initialize(args);
}

static CK_RV fault_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    CK_RV rv = target->C_GetTokenInfo(slot, info);

    if (rv == CKR_OK && fault("pin-locked", NULL))
        info->flags |= CKF_USER_PIN_LOCKED;
    if (rv == CKR_OK && fault("pin-final-try", NULL))
        info->flags |= CKF_USER_PIN_FINAL_TRY;
    return rv;
}

static CK_RV fault_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *app,
                               CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s)
{
    long limit = 0, delay = 0;
    int limited = fault("session-limit", &limit);
    CK_RV rv;

    if (fault("open-delay-ms", &delay) && delay > 0)
        nanosleep(&(struct timespec){delay / 1000, (delay % 1000) * 1000000L},
                  NULL);

    /* Reserve a place first, so concurrent openers cannot overshoot. */
    if (atomic_fetch_add(&open_sessions, 1) >= limit && limited) {
        atomic_fetch_sub(&open_sessions, 1);
        return CKR_SESSION_COUNT;
    }
    rv = target->C_OpenSession(slot, flags, app, notify, s);
    if (rv != CKR_OK)
        atomic_fetch_sub(&open_sessions, 1);
    return rv;
}

static CK_RV fault_CloseSession(CK_SESSION_HANDLE s)
{
    CK_RV rv = target->C_CloseSession(s);

    if (rv == CKR_OK)
        atomic_fetch_sub(&open_sessions, 1);
    return rv;
}

/* The CK_RV a fail-CALL (or stuck-CALL) fault asks for; CKR_OK if none. */
static CK_RV injected(const char *name)
{
    long rv = 0;

    return fault(name, &rv) ? (CK_RV)rv : CKR_OK;
}

static CK_RV fault_EncryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
                               CK_OBJECT_HANDLE key)
{
    CK_RV rv = injected("fail-encrypt-init");

    return rv != CKR_OK ? rv : target->C_EncryptInit(s, m, key);
}

static CK_RV fault_Encrypt(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG len,
                           CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    CK_RV stuck = injected("stuck-encrypt");
    CK_RV rv;

    if (stuck != CKR_OK)
        return stuck;
    rv = target->C_Encrypt(s, in, len, out, out_len);
    if (rv == CKR_OK && out != NULL && injected("fail-encrypt") != CKR_OK)
        rv = injected("fail-encrypt");
    return rv;
}

static CK_RV fault_DecryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
                               CK_OBJECT_HANDLE key)
{
    CK_RV rv = injected("fail-decrypt-init");

    return rv != CKR_OK ? rv : target->C_DecryptInit(s, m, key);
}

static CK_RV fault_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
                            CK_OBJECT_HANDLE key)
{
    CK_RV rv = injected("fail-sign-init");

    return rv != CKR_OK ? rv : target->C_SignInit(s, m, key);
}

static CK_RV fault_GenerateKeyPair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
                                   CK_ATTRIBUTE_PTR pub, CK_ULONG n_pub,
                                   CK_ATTRIBUTE_PTR priv, CK_ULONG n_priv,
                                   CK_OBJECT_HANDLE_PTR h_pub,
                                   CK_OBJECT_HANDLE_PTR h_priv)
{
    CK_RV rv = injected("fail-generate-key-pair");

    if (rv != CKR_OK)
        return rv;
    return target->C_GenerateKeyPair(s, m, pub, n_pub, priv, n_priv, h_pub,
                                     h_priv);
}

EXPORT long gp11_fault_open_sessions(void);

long gp11_fault_open_sessions(void)
{
    return atomic_load(&open_sessions);
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    const char *path = getenv("GP11_FAULT_TARGET");
    CK_C_GetFunctionList get;
    void *dl;

    if (target == NULL) {
        if (path == NULL || (dl = dlopen(path, RTLD_NOW)) == NULL)
            return CKR_GENERAL_ERROR;
        get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
        if (get == NULL || get(&target) != CKR_OK)
            return CKR_GENERAL_ERROR;
        wrapped = *target;
        wrapped.C_Initialize = fault_Initialize;
        wrapped.C_GetTokenInfo = fault_GetTokenInfo;
        wrapped.C_OpenSession = fault_OpenSession;
        wrapped.C_CloseSession = fault_CloseSession;
        wrapped.C_EncryptInit = fault_EncryptInit;
        wrapped.C_Encrypt = fault_Encrypt;
        wrapped.C_DecryptInit = fault_DecryptInit;
        wrapped.C_SignInit = fault_SignInit;
        wrapped.C_GenerateKeyPair = fault_GenerateKeyPair;
    }
    *list = &wrapped;
    return CKR_OK;
}
