/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A PKCS#11 module for the PIN-file fuzz target only: one slot with one
 * token that requires a login, and nothing else. It answers exactly the
 * calls gp11_token_open and gp11_token_login make, and records the PIN
 * every C_Login receives, so that the target can check that the PIN the
 * token layer presents is the one the file holds. A PIN that starts with
 * 'X' is refused (CKR_PIN_INCORRECT), to exercise the rejected-PIN path.
 */
#include <p11-kit/pkcs11.h>
#include <stdatomic.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

#define STUB_SLOT 7
#define PIN_ROOM 4096

static atomic_ulong logins;
static unsigned char last_pin[PIN_ROOM];
static unsigned long last_len;
static atomic_ulong open_sessions;
static atomic_ulong next_session = 1;

/* Copies s into a blank-padded PKCS#11 text field of n bytes. */
static void pad(CK_UTF8CHAR *field, size_t n, const char *s)
{
    size_t len = strlen(s);

    memset(field, ' ', n);
    memcpy(field, s, len < n ? len : n);
}

static CK_RV stub_Initialize(CK_VOID_PTR args)
{
    (void)args;
    return CKR_OK;
}

static CK_RV stub_Finalize(CK_VOID_PTR reserved)
{
    (void)reserved;
    return CKR_OK;
}

static CK_RV stub_GetInfo(CK_INFO_PTR info)
{
    memset(info, 0, sizeof(*info));
    info->cryptokiVersion.major = 2;
    info->cryptokiVersion.minor = 40;
    pad(info->manufacturerID, sizeof(info->manufacturerID), "gss-pkcs11 tests");
    pad(info->libraryDescription, sizeof(info->libraryDescription),
        "PIN fuzz stub");
    return CKR_OK;
}

static CK_RV stub_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list,
                              CK_ULONG_PTR count)
{
    (void)present;
    if (list != NULL) {
        if (*count < 1) {
            *count = 1;
            return CKR_BUFFER_TOO_SMALL;
        }
        list[0] = STUB_SLOT;
    }
    *count = 1;
    return CKR_OK;
}

static CK_RV stub_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
    if (slot != STUB_SLOT)
        return CKR_SLOT_ID_INVALID;
    memset(info, 0, sizeof(*info));
    pad(info->slotDescription, sizeof(info->slotDescription), "stub slot");
    pad(info->manufacturerID, sizeof(info->manufacturerID), "gss-pkcs11 tests");
    info->flags = CKF_TOKEN_PRESENT;
    return CKR_OK;
}

static CK_RV stub_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    if (slot != STUB_SLOT)
        return CKR_SLOT_ID_INVALID;
    memset(info, 0, sizeof(*info));
    pad(info->label, sizeof(info->label), "gp11-fuzz-stub");
    pad(info->manufacturerID, sizeof(info->manufacturerID), "gss-pkcs11 tests");
    pad(info->model, sizeof(info->model), "pin stub");
    pad(info->serialNumber, sizeof(info->serialNumber), "0001");
    info->flags =
        CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
    info->ulMaxSessionCount = 16;
    info->ulMaxPinLen = 255;
    info->ulMinPinLen = 0;
    return CKR_OK;
}

static CK_RV stub_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *app,
                              CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s)
{
    (void)flags;
    (void)app;
    (void)notify;
    if (slot != STUB_SLOT)
        return CKR_SLOT_ID_INVALID;
    *s = atomic_fetch_add(&next_session, 1);
    atomic_fetch_add(&open_sessions, 1);
    return CKR_OK;
}

static CK_RV stub_CloseSession(CK_SESSION_HANDLE s)
{
    (void)s;
    atomic_fetch_sub(&open_sessions, 1);
    return CKR_OK;
}

/* Never logged in: every login call of the token layer reaches C_Login. */
static CK_RV stub_GetSessionInfo(CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR info)
{
    (void)s;
    memset(info, 0, sizeof(*info));
    info->slotID = STUB_SLOT;
    info->state = CKS_RW_PUBLIC_SESSION;
    info->flags = CKF_RW_SESSION | CKF_SERIAL_SESSION;
    return CKR_OK;
}

static CK_RV stub_Login(CK_SESSION_HANDLE s, CK_USER_TYPE user,
                        CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    (void)s;
    if (user != CKU_USER)
        return CKR_USER_TYPE_INVALID;
    if (len > PIN_ROOM || (pin == NULL && len != 0))
        return CKR_ARGUMENTS_BAD;
    if (len)
        memcpy(last_pin, pin, len);
    last_len = len;
    atomic_fetch_add(&logins, 1);
    return len > 0 && pin[0] == 'X' ? CKR_PIN_INCORRECT : CKR_OK;
}

static CK_RV stub_CloseAllSessions(CK_SLOT_ID slot)
{
    (void)slot;
    atomic_store(&open_sessions, 0);
    return CKR_OK;
}

static CK_RV stub_Logout(CK_SESSION_HANDLE s)
{
    (void)s;
    return CKR_OK;
}

/* What the last C_Login received, and how many C_Login calls there were. */
EXPORT unsigned long gp11_stub_last_pin(const unsigned char **pin,
                                        unsigned long *len);

unsigned long gp11_stub_last_pin(const unsigned char **pin, unsigned long *len)
{
    *pin = last_pin;
    *len = last_len;
    return atomic_load(&logins);
}

/* Sessions open now (the target checks that none is left behind). */
EXPORT unsigned long gp11_stub_open_sessions(void);

unsigned long gp11_stub_open_sessions(void)
{
    return atomic_load(&open_sessions);
}

static CK_FUNCTION_LIST functions = {
    .version = {2, 40},
    .C_Initialize = stub_Initialize,
    .C_Finalize = stub_Finalize,
    .C_GetInfo = stub_GetInfo,
    .C_GetSlotList = stub_GetSlotList,
    .C_GetSlotInfo = stub_GetSlotInfo,
    .C_GetTokenInfo = stub_GetTokenInfo,
    .C_OpenSession = stub_OpenSession,
    .C_CloseSession = stub_CloseSession,
    .C_CloseAllSessions = stub_CloseAllSessions,
    .C_GetSessionInfo = stub_GetSessionInfo,
    .C_Login = stub_Login,
    .C_Logout = stub_Logout,
};

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    functions.C_GetFunctionList = C_GetFunctionList;
    *list = &functions;
    return CKR_OK;
}
