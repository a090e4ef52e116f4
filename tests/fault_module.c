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
 * and the token-loss faults described further down (logout=N,
 * reinsert=N, removed), which may also come from a file.
 * It never replaces the token: every operation runs on the real one.
 */
#include "p11_passthru.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ---- token loss: logout, re-insertion, removal (issue 10) ------------- */
/*
 * These faults are read on every call from GP11_FAULT and from the first
 * line of the file named by GP11_FAULT_FILE (so a test, or another
 * process, triggers them by writing that file):
 *   logout=N    once for each new N: C_Logout on the real token, behind
 *               the application's back (all its sessions become public)
 *   reinsert=N  once for each new N: C_CloseAllSessions on every slot of
 *               the real token, as a removal and re-insertion between two
 *               calls would (session objects die, the user is logged out)
 *   removed     while set, the token is absent: the first call that sees
 *               it closes every session of the real token; calls on a
 *               session return CKR_DEVICE_REMOVED, calls on the slot
 *               CKR_TOKEN_NOT_PRESENT, C_GetSlotList(present) lists none
 * gp11_fault_sessions() tells how many sessions are open through this
 * module (tests count leaks with it).
 * The wrappers forward to the list as it was before loss_install, so
 * faults wrapped earlier still apply.
 */
static CK_FUNCTION_LIST loss_next;
static atomic_long loss_last_logout, loss_last_reinsert;
static atomic_int loss_was_removed;

EXPORT long gp11_fault_sessions(void);

long gp11_fault_sessions(void)
{
    return atomic_load(&open_sessions);
}

/* True if spec names the fault; *arg gets the number after '='. */
static int loss_match(const char *spec, const char *name, long *arg)
{
    size_t n = strlen(name);

    while (spec && *spec) {
        if (strncmp(spec, name, n) == 0 &&
            (spec[n] == '\0' || spec[n] == ',' || spec[n] == '=' ||
             spec[n] == '\n')) {
            if (arg)
                *arg = spec[n] == '=' ? strtol(spec + n + 1, NULL, 10) : 0;
            return 1;
        }
        spec = strpbrk(spec, ",\n");
        if (spec)
            spec++;
    }
    return 0;
}

/* True if GP11_FAULT or the GP11_FAULT_FILE file names the fault. */
static int loss_fault(const char *name, long *arg)
{
    const char *path = getenv("GP11_FAULT_FILE");
    char buf[256];
    ssize_t n = 0;
    int fd;

    if (loss_match(getenv("GP11_FAULT"), name, arg))
        return 1;
    if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return loss_match(buf, name, arg);
}

/* Closes every session of the real token, on every slot with a token. */
static void loss_close_all(void)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;

    if (target->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
        return;
    for (CK_ULONG i = 0; i < n; i++)
        target->C_CloseAllSessions(slots[i]);
    atomic_store(&open_sessions, 0);
}

/* Logs the application out of every token, through a session of its own. */
static void loss_logout(void)
{
    CK_SLOT_ID slots[16];
    CK_SESSION_HANDLE s;
    CK_ULONG n = 16;

    if (target->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
        return;
    for (CK_ULONG i = 0; i < n; i++) {
        if (target->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL,
                                  &s) != CKR_OK)
            continue;
        target->C_Logout(s);
        target->C_CloseSession(s);
    }
}

/* Performs the one-shot faults once per new number; true while removed. */
static int loss_removed(void)
{
    long n = 0;
    int removed;

    if (loss_fault("logout", &n) && atomic_exchange(&loss_last_logout, n) != n)
        loss_logout();
    if (loss_fault("reinsert", &n) &&
        atomic_exchange(&loss_last_reinsert, n) != n)
        loss_close_all();
    removed = loss_fault("removed", NULL);
    if (atomic_exchange(&loss_was_removed, removed) != removed && removed)
        loss_close_all();
    return removed;
}

/* A wrapper for a call on a session: CKR_DEVICE_REMOVED while removed. */
#define LOSS_SESSION_CALL(fn, params, args)                                    \
    static CK_RV loss_##fn params                                              \
    {                                                                          \
        if (loss_removed())                                                    \
            return CKR_DEVICE_REMOVED;                                         \
        return loss_next.C_##fn args;                                          \
    }
/* A wrapper for a call on a slot: CKR_TOKEN_NOT_PRESENT while removed. */
#define LOSS_SLOT_CALL(fn, params, args)                                       \
    static CK_RV loss_##fn params                                              \
    {                                                                          \
        if (loss_removed())                                                    \
            return CKR_TOKEN_NOT_PRESENT;                                      \
        return loss_next.C_##fn args;                                          \
    }

LOSS_SLOT_CALL(GetTokenInfo, (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info),
               (slot, info))
LOSS_SLOT_CALL(GetMechanismList,
               (CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
                CK_ULONG_PTR count),
               (slot, list, count))
LOSS_SLOT_CALL(GetMechanismInfo,
               (CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                CK_MECHANISM_INFO_PTR info),
               (slot, type, info))
LOSS_SLOT_CALL(OpenSession,
               (CK_SLOT_ID slot, CK_FLAGS flags, void *app, CK_NOTIFY notify,
                CK_SESSION_HANDLE_PTR s),
               (slot, flags, app, notify, s))
LOSS_SLOT_CALL(CloseAllSessions, (CK_SLOT_ID slot), (slot))
LOSS_SESSION_CALL(CloseSession, (CK_SESSION_HANDLE s), (s))
LOSS_SESSION_CALL(GetSessionInfo, (CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR i),
                  (s, i))
LOSS_SESSION_CALL(Login,
                  (CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin,
                   CK_ULONG len),
                  (s, u, pin, len))
LOSS_SESSION_CALL(Logout, (CK_SESSION_HANDLE s), (s))
LOSS_SESSION_CALL(InitPIN,
                  (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR pin, CK_ULONG len),
                  (s, pin, len))
LOSS_SESSION_CALL(CreateObject,
                  (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                   CK_OBJECT_HANDLE_PTR o),
                  (s, t, n, o))
LOSS_SESSION_CALL(DestroyObject, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o),
                  (s, o))
LOSS_SESSION_CALL(GetAttributeValue,
                  (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t,
                   CK_ULONG n),
                  (s, o, t, n))
LOSS_SESSION_CALL(FindObjectsInit,
                  (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n),
                  (s, t, n))
LOSS_SESSION_CALL(FindObjects,
                  (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR o, CK_ULONG max,
                   CK_ULONG_PTR n),
                  (s, o, max, n))
LOSS_SESSION_CALL(FindObjectsFinal, (CK_SESSION_HANDLE s), (s))
LOSS_SESSION_CALL(EncryptInit,
                  (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k),
                  (s, m, k))
LOSS_SESSION_CALL(Encrypt,
                  (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len,
                   CK_BYTE_PTR out, CK_ULONG_PTR out_len),
                  (s, in, in_len, out, out_len))
LOSS_SESSION_CALL(DecryptInit,
                  (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k),
                  (s, m, k))
LOSS_SESSION_CALL(Decrypt,
                  (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len,
                   CK_BYTE_PTR out, CK_ULONG_PTR out_len),
                  (s, in, in_len, out, out_len))
LOSS_SESSION_CALL(SignInit,
                  (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k),
                  (s, m, k))
LOSS_SESSION_CALL(Sign,
                  (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len,
                   CK_BYTE_PTR sig, CK_ULONG_PTR sig_len),
                  (s, in, in_len, sig, sig_len))
LOSS_SESSION_CALL(SignUpdate,
                  (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len),
                  (s, in, in_len))
LOSS_SESSION_CALL(SignFinal,
                  (CK_SESSION_HANDLE s, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len),
                  (s, sig, sig_len))
LOSS_SESSION_CALL(VerifyInit,
                  (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k),
                  (s, m, k))
LOSS_SESSION_CALL(Verify,
                  (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len,
                   CK_BYTE_PTR sig, CK_ULONG sig_len),
                  (s, in, in_len, sig, sig_len))
LOSS_SESSION_CALL(GenerateKey,
                  (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t,
                   CK_ULONG n, CK_OBJECT_HANDLE_PTR k),
                  (s, m, t, n, k))
LOSS_SESSION_CALL(GenerateKeyPair,
                  (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt,
                   CK_ULONG pn, CK_ATTRIBUTE_PTR st, CK_ULONG sn,
                   CK_OBJECT_HANDLE_PTR pk, CK_OBJECT_HANDLE_PTR sk),
                  (s, m, pt, pn, st, sn, pk, sk))
LOSS_SESSION_CALL(DeriveKey,
                  (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE b,
                   CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k),
                  (s, m, b, t, n, k))
LOSS_SESSION_CALL(GenerateRandom,
                  (CK_SESSION_HANDLE s, CK_BYTE_PTR buf, CK_ULONG len),
                  (s, buf, len))

/* While removed, no slot has a token. */
static CK_RV loss_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list,
                              CK_ULONG_PTR count)
{
    if (loss_removed() && present) {
        *count = 0;
        return CKR_OK;
    }
    return loss_next.C_GetSlotList(present, list, count);
}

/* While removed, the slot reports no token present. */
static CK_RV loss_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
    CK_RV rv = loss_next.C_GetSlotInfo(slot, info);

    if (rv == CKR_OK && loss_removed())
        info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
    return rv;
}

/* Puts the token-loss wrappers in front of what list holds now. */
static void loss_install(CK_FUNCTION_LIST *list)
{
    loss_next = *list;
#define LOSS_SET(fn) list->C_##fn = loss_##fn
    LOSS_SET(GetSlotList);
    LOSS_SET(GetSlotInfo);
    LOSS_SET(GetTokenInfo);
    LOSS_SET(GetMechanismList);
    LOSS_SET(GetMechanismInfo);
    LOSS_SET(OpenSession);
    LOSS_SET(CloseAllSessions);
    LOSS_SET(CloseSession);
    LOSS_SET(GetSessionInfo);
    LOSS_SET(Login);
    LOSS_SET(Logout);
    LOSS_SET(InitPIN);
    LOSS_SET(CreateObject);
    LOSS_SET(DestroyObject);
    LOSS_SET(GetAttributeValue);
    LOSS_SET(FindObjectsInit);
    LOSS_SET(FindObjects);
    LOSS_SET(FindObjectsFinal);
    LOSS_SET(EncryptInit);
    LOSS_SET(Encrypt);
    LOSS_SET(DecryptInit);
    LOSS_SET(Decrypt);
    LOSS_SET(SignInit);
    LOSS_SET(Sign);
    LOSS_SET(SignUpdate);
    LOSS_SET(SignFinal);
    LOSS_SET(VerifyInit);
    LOSS_SET(Verify);
    LOSS_SET(GenerateKey);
    LOSS_SET(GenerateKeyPair);
    LOSS_SET(DeriveKey);
    LOSS_SET(GenerateRandom);
#undef LOSS_SET
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    static struct p11_target real;

    if (target == NULL) {
        if (p11_passthru_load("GP11_FAULT_TARGET", &real) != 0)
            return CKR_GENERAL_ERROR;
        target = real.list;
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
        /* Keep last: the token-loss faults wrap everything above. */
        loss_install(&wrapped);
    }
    *list = &wrapped;
    return CKR_OK;
}
