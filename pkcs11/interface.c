/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One wrapper per C_* function: checks that the module provides the
 * function, calls it, and logs the call with its result to the debug log.
 * Arguments that may carry secrets (PINs) are never logged.
 */
#include "internal.h"

/* The calling thread's last failed call (recover.c names it). */
static _Thread_local const char *fail_call;
static _Thread_local CK_RV fail_rv;
/* PKCS#11 calls made by the calling thread (gp11_ck_calls). */
static _Thread_local unsigned long n_calls;

unsigned long gp11_ck_calls(void)
{
    return n_calls;
}

void gp11_ck_last_failure(const char **call, CK_RV *rv)
{
    *call = fail_call;
    *rv = fail_rv;
}

/* Logs "C_Name -> CKR_..." when debugging is on; returns rv. */
static CK_RV logged(const char *fn, CK_RV rv)
{
    n_calls++;
    if (rv != CKR_OK) {
        fail_call = fn;
        fail_rv = rv;
    }
    if (gp11_debug_on) {
        const char *name = gp11_ckr_name(rv);

        if (name)
            gp11_debug_write(fn, "-> %s", name);
        else
            gp11_debug_write(fn, "-> CKR_0x%08lx", (unsigned long)rv);
    }
    return rv;
}

/* Calls m->fns->C_<fn>(args) if present, logging the result. */
#define CALL(fn, ...)                                                          \
    (m->fns->C_##fn == NULL ? logged("C_" #fn, CKR_FUNCTION_NOT_SUPPORTED)     \
                            : logged("C_" #fn, m->fns->C_##fn(__VA_ARGS__)))

/* Calls the module's PKCS#11 3.0 m->fns3->C_<fn>(args), logging it. */
#define CALL3(fn, ...)                                                         \
    (m->fns3 == NULL || m->fns3->C_##fn == NULL                                \
         ? logged("C_" #fn, CKR_FUNCTION_NOT_SUPPORTED)                        \
         : logged("C_" #fn, m->fns3->C_##fn(__VA_ARGS__)))

/* NSS softoken reports the CKF_MESSAGE_* flags only through its 3.0 list. */
CK_RV gp11_ck_GetMechanismInfo30(struct gp11_module *m, CK_SLOT_ID slot,
                                 CK_MECHANISM_TYPE type,
                                 CK_MECHANISM_INFO *info)
{
    if (m->fns3 == NULL || m->fns3->v2.C_GetMechanismInfo == NULL)
        return logged("C_GetMechanismInfo", CKR_FUNCTION_NOT_SUPPORTED);
    return logged("C_GetMechanismInfo",
                  m->fns3->v2.C_GetMechanismInfo(slot, type, info));
}

CK_RV gp11_ck_MessageEncryptInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                                 CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    return CALL3(MessageEncryptInit, s, mech, key);
}

CK_RV gp11_ck_EncryptMessage(struct gp11_module *m, CK_SESSION_HANDLE s,
                             void *param, CK_ULONG plen, CK_BYTE *aad,
                             CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len,
                             CK_BYTE *out, CK_ULONG *out_len)
{
    return CALL3(EncryptMessage, s, param, plen, aad, aad_len, in, in_len, out,
                 out_len);
}

CK_RV gp11_ck_MessageEncryptFinal(struct gp11_module *m, CK_SESSION_HANDLE s)
{
    return CALL3(MessageEncryptFinal, s);
}

CK_RV gp11_ck_MessageDecryptInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                                 CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    return CALL3(MessageDecryptInit, s, mech, key);
}

CK_RV gp11_ck_DecryptMessage(struct gp11_module *m, CK_SESSION_HANDLE s,
                             void *param, CK_ULONG plen, CK_BYTE *aad,
                             CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len,
                             CK_BYTE *out, CK_ULONG *out_len)
{
    return CALL3(DecryptMessage, s, param, plen, aad, aad_len, in, in_len, out,
                 out_len);
}

CK_RV gp11_ck_MessageDecryptFinal(struct gp11_module *m, CK_SESSION_HANDLE s)
{
    return CALL3(MessageDecryptFinal, s);
}

CK_RV gp11_ck_GetInfo(struct gp11_module *m, CK_INFO *info)
{
    return CALL(GetInfo, info);
}

CK_RV gp11_ck_GetSlotList(struct gp11_module *m, CK_BBOOL present,
                          CK_SLOT_ID *list, CK_ULONG *count)
{
    return CALL(GetSlotList, present, list, count);
}

CK_RV gp11_ck_GetSlotInfo(struct gp11_module *m, CK_SLOT_ID slot,
                          CK_SLOT_INFO *info)
{
    return CALL(GetSlotInfo, slot, info);
}

CK_RV gp11_ck_GetTokenInfo(struct gp11_module *m, CK_SLOT_ID slot,
                           CK_TOKEN_INFO *info)
{
    return CALL(GetTokenInfo, slot, info);
}

CK_RV gp11_ck_GetMechanismList(struct gp11_module *m, CK_SLOT_ID slot,
                               CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
    return CALL(GetMechanismList, slot, list, count);
}

CK_RV gp11_ck_GetMechanismInfo(struct gp11_module *m, CK_SLOT_ID slot,
                               CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
    return CALL(GetMechanismInfo, slot, type, info);
}

CK_RV gp11_ck_InitToken(struct gp11_module *m, CK_SLOT_ID slot,
                        CK_UTF8CHAR *pin, CK_ULONG pin_len, CK_UTF8CHAR *label)
{
    return CALL(InitToken, slot, pin, pin_len, label);
}

CK_RV gp11_ck_InitPIN(struct gp11_module *m, CK_SESSION_HANDLE s,
                      CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
    return CALL(InitPIN, s, pin, pin_len);
}

CK_RV gp11_ck_OpenSession(struct gp11_module *m, CK_SLOT_ID slot,
                          CK_FLAGS flags, CK_SESSION_HANDLE *s)
{
    return CALL(OpenSession, slot, flags, NULL, NULL, s);
}

CK_RV gp11_ck_CloseSession(struct gp11_module *m, CK_SESSION_HANDLE s)
{
    return CALL(CloseSession, s);
}

CK_RV gp11_ck_GetSessionInfo(struct gp11_module *m, CK_SESSION_HANDLE s,
                             CK_SESSION_INFO *info)
{
    return CALL(GetSessionInfo, s, info);
}

CK_RV gp11_ck_Login(struct gp11_module *m, CK_SESSION_HANDLE s,
                    CK_USER_TYPE user, CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
    return CALL(Login, s, user, pin, pin_len);
}

CK_RV gp11_ck_Logout(struct gp11_module *m, CK_SESSION_HANDLE s)
{
    return CALL(Logout, s);
}

CK_RV gp11_ck_CreateObject(struct gp11_module *m, CK_SESSION_HANDLE s,
                           CK_ATTRIBUTE *tmpl, CK_ULONG count,
                           CK_OBJECT_HANDLE *obj)
{
    return CALL(CreateObject, s, tmpl, count, obj);
}

CK_RV gp11_ck_DestroyObject(struct gp11_module *m, CK_SESSION_HANDLE s,
                            CK_OBJECT_HANDLE obj)
{
    return CALL(DestroyObject, s, obj);
}

CK_RV gp11_ck_GetAttributeValue(struct gp11_module *m, CK_SESSION_HANDLE s,
                                CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *tmpl,
                                CK_ULONG count)
{
    return CALL(GetAttributeValue, s, obj, tmpl, count);
}

CK_RV gp11_ck_FindObjectsInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                              CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
    return CALL(FindObjectsInit, s, tmpl, count);
}

CK_RV gp11_ck_FindObjects(struct gp11_module *m, CK_SESSION_HANDLE s,
                          CK_OBJECT_HANDLE *objs, CK_ULONG max, CK_ULONG *count)
{
    return CALL(FindObjects, s, objs, max, count);
}

CK_RV gp11_ck_FindObjectsFinal(struct gp11_module *m, CK_SESSION_HANDLE s)
{
    return CALL(FindObjectsFinal, s);
}

CK_RV gp11_ck_GenerateKey(struct gp11_module *m, CK_SESSION_HANDLE s,
                          CK_MECHANISM *mech, CK_ATTRIBUTE *tmpl,
                          CK_ULONG count, CK_OBJECT_HANDLE *key)
{
    return CALL(GenerateKey, s, mech, tmpl, count, key);
}

CK_RV gp11_ck_GenerateKeyPair(struct gp11_module *m, CK_SESSION_HANDLE s,
                              CK_MECHANISM *mech, CK_ATTRIBUTE *pub,
                              CK_ULONG pub_count, CK_ATTRIBUTE *priv,
                              CK_ULONG priv_count, CK_OBJECT_HANDLE *pub_obj,
                              CK_OBJECT_HANDLE *priv_obj)
{
    return CALL(GenerateKeyPair, s, mech, pub, pub_count, priv, priv_count,
                pub_obj, priv_obj);
}

CK_RV gp11_ck_DeriveKey(struct gp11_module *m, CK_SESSION_HANDLE s,
                        CK_MECHANISM *mech, CK_OBJECT_HANDLE base,
                        CK_ATTRIBUTE *tmpl, CK_ULONG count,
                        CK_OBJECT_HANDLE *key)
{
    return CALL(DeriveKey, s, mech, base, tmpl, count, key);
}

CK_RV gp11_ck_SignInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                       CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    return CALL(SignInit, s, mech, key);
}

CK_RV gp11_ck_Sign(struct gp11_module *m, CK_SESSION_HANDLE s, CK_BYTE *data,
                   CK_ULONG len, CK_BYTE *sig, CK_ULONG *sig_len)
{
    return CALL(Sign, s, data, len, sig, sig_len);
}

CK_RV gp11_ck_GenerateRandom(struct gp11_module *m, CK_SESSION_HANDLE s,
                             CK_BYTE *buf, CK_ULONG len)
{
    return CALL(GenerateRandom, s, buf, len);
}

CK_RV gp11_ck_EncryptInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                          CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    return CALL(EncryptInit, s, mech, key);
}

CK_RV gp11_ck_Encrypt(struct gp11_module *m, CK_SESSION_HANDLE s, CK_BYTE *in,
                      CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len)
{
    return CALL(Encrypt, s, in, in_len, out, out_len);
}

CK_RV gp11_ck_DecryptInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                          CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    return CALL(DecryptInit, s, mech, key);
}

CK_RV gp11_ck_Decrypt(struct gp11_module *m, CK_SESSION_HANDLE s, CK_BYTE *in,
                      CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len)
{
    return CALL(Decrypt, s, in, in_len, out, out_len);
}

CK_RV gp11_ck_SignUpdate(struct gp11_module *m, CK_SESSION_HANDLE s,
                         CK_BYTE *part, CK_ULONG len)
{
    return CALL(SignUpdate, s, part, len);
}

CK_RV gp11_ck_SignFinal(struct gp11_module *m, CK_SESSION_HANDLE s,
                        CK_BYTE *sig, CK_ULONG *sig_len)
{
    return CALL(SignFinal, s, sig, sig_len);
}

CK_RV gp11_ck_WrapKey(struct gp11_module *m, CK_SESSION_HANDLE s,
                      CK_MECHANISM *mech, CK_OBJECT_HANDLE wrapping,
                      CK_OBJECT_HANDLE key, CK_BYTE *out, CK_ULONG *out_len)
{
    return CALL(WrapKey, s, mech, wrapping, key, out, out_len);
}

CK_RV gp11_ck_UnwrapKey(struct gp11_module *m, CK_SESSION_HANDLE s,
                        CK_MECHANISM *mech, CK_OBJECT_HANDLE unwrapping,
                        CK_BYTE *in, CK_ULONG in_len, CK_ATTRIBUTE *tmpl,
                        CK_ULONG count, CK_OBJECT_HANDLE *key)
{
    return CALL(UnwrapKey, s, mech, unwrapping, in, in_len, tmpl, count, key);
}
