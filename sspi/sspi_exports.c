/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The only file that defines exported SSPI names (sspi.map exports
 * exactly these): InitSecurityInterfaceA's table, the functions in it,
 * and SpUserModeInitialize's SECPKG_USER_FUNCTION_TABLE. Each looks its
 * handle up in the handle table (handles.c) and calls into engine.c or
 * msg.c; internal code never calls these names.
 */
#include "gp11_sspi.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

#define PKG_COMMENT                                                            \
    "GSS-API mechanism whose context keys stay in a PKCS#11 token"
#define PKG_CAPS                                                               \
    (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION |    \
     SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR |                 \
     SECPKG_FLAG_GSS_COMPATIBLE | SECPKG_FLAG_MUTUAL_AUTH)
#define PKG_MAX_TOKEN 65535u

/* One malloc'ed SecPkgInfoA with its strings behind it. */
static SECURITY_STATUS pkg_info(PSecPkgInfoA *out)
{
    size_t nlen = sizeof(GSS_PKCS11_SSP_NAME), clen = sizeof(PKG_COMMENT);
    SecPkgInfoA *p = malloc(sizeof(*p) + nlen + clen);

    if (p == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    p->fCapabilities = PKG_CAPS;
    p->wVersion = 1;
    p->wRPCID = SECPKG_ID_NONE;
    p->cbMaxToken = PKG_MAX_TOKEN;
    p->Name = (char *)(p + 1);
    p->Comment = p->Name + nlen;
    memcpy(p->Name, GSS_PKCS11_SSP_NAME, nlen);
    memcpy(p->Comment, PKG_COMMENT, clen);
    *out = p;
    return SEC_E_OK;
}

EXPORT SECURITY_STATUS SEC_ENTRY
EnumerateSecurityPackagesA(ULONG *pcPackages, PSecPkgInfoA *ppPackageInfo)
{
    SECURITY_STATUS st;

    if (pcPackages == NULL || ppPackageInfo == NULL)
        return SEC_E_INVALID_PARAMETER;
    st = pkg_info(ppPackageInfo);
    *pcPackages = st == SEC_E_OK ? 1 : 0;
    return st;
}

EXPORT SECURITY_STATUS SEC_ENTRY
QuerySecurityPackageInfoA(SEC_CHAR *pszPackageName, PSecPkgInfoA *ppPackageInfo)
{
    if (ppPackageInfo == NULL)
        return SEC_E_INVALID_PARAMETER;
    if (pszPackageName == NULL ||
        strcmp(pszPackageName, GSS_PKCS11_SSP_NAME) != 0)
        return SEC_E_SECPKG_NOT_FOUND;
    return pkg_info(ppPackageInfo);
}

EXPORT SECURITY_STATUS SEC_ENTRY FreeContextBuffer(void *pvContextBuffer)
{
    free(pvContextBuffer);
    return SEC_E_OK;
}

EXPORT SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleA(
    SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage, ULONG fCredentialUse,
    void *pvLogonID, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
    void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry)
{
    (void)pvLogonID, (void)pGetKeyFn, (void)pvGetKeyArgument;
    return gp11_sspi_acquire(pszPrincipal, pszPackage, fCredentialUse,
                             pAuthData, phCredential, ptsExpiry);
}

EXPORT SECURITY_STATUS SEC_ENTRY FreeCredentialsHandle(PCredHandle phCredential)
{
    return gp11_sspi_free_cred(phCredential);
}

EXPORT SECURITY_STATUS SEC_ENTRY InitializeSecurityContextA(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName,
    ULONG fContextReq, ULONG Reserved1, ULONG TargetDataRep,
    PSecBufferDesc pInput, ULONG Reserved2, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry)
{
    (void)Reserved1, (void)Reserved2;
    return gp11_sspi_init(phCredential, phContext, pszTargetName, fContextReq,
                          TargetDataRep, pInput, phNewContext, pOutput,
                          pfContextAttr, ptsExpiry);
}

EXPORT SECURITY_STATUS SEC_ENTRY AcceptSecurityContext(
    PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
    ULONG fContextReq, ULONG TargetDataRep, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsTimeStamp)
{
    return gp11_sspi_accept(phCredential, phContext, pInput, fContextReq,
                            TargetDataRep, phNewContext, pOutput, pfContextAttr,
                            ptsTimeStamp);
}

EXPORT SECURITY_STATUS SEC_ENTRY DeleteSecurityContext(PCtxtHandle phContext)
{
    return gp11_sspi_delete(phContext);
}

/* Runs one call on a held, locked context. */
#define WITH_CTX(c, call)                                                      \
    do {                                                                       \
        SECURITY_STATUS st_;                                                   \
        if ((c) == NULL)                                                       \
            return SEC_E_INVALID_HANDLE;                                       \
        pthread_mutex_lock(&(c)->lock);                                        \
        st_ = (call);                                                          \
        pthread_mutex_unlock(&(c)->lock);                                      \
        gp11_sspi_put(c);                                                      \
        return st_;                                                            \
    } while (0)

EXPORT SECURITY_STATUS SEC_ENTRY QueryContextAttributesA(PCtxtHandle phContext,
                                                         ULONG ulAttribute,
                                                         void *pBuffer)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get(GP11_SSPI_CTX, phContext);

    WITH_CTX(c, gp11_sspi_query(c, ulAttribute, pBuffer));
}

EXPORT SECURITY_STATUS SEC_ENTRY MakeSignature(PCtxtHandle phContext,
                                               ULONG fQOP,
                                               PSecBufferDesc pMessage,
                                               ULONG MessageSeqNo)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get(GP11_SSPI_CTX, phContext);

    WITH_CTX(c, gp11_sspi_make_signature(c, fQOP, pMessage, MessageSeqNo));
}

EXPORT SECURITY_STATUS SEC_ENTRY VerifySignature(PCtxtHandle phContext,
                                                 PSecBufferDesc pMessage,
                                                 ULONG MessageSeqNo,
                                                 PULONG pfQOP)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get(GP11_SSPI_CTX, phContext);

    WITH_CTX(c, gp11_sspi_verify_signature(c, pMessage, MessageSeqNo, pfQOP));
}

EXPORT SECURITY_STATUS SEC_ENTRY EncryptMessage(PCtxtHandle phContext,
                                                ULONG fQOP,
                                                PSecBufferDesc pMessage,
                                                ULONG MessageSeqNo)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get(GP11_SSPI_CTX, phContext);

    WITH_CTX(c, gp11_sspi_encrypt(c, fQOP, pMessage, MessageSeqNo));
}

EXPORT SECURITY_STATUS SEC_ENTRY DecryptMessage(PCtxtHandle phContext,
                                                PSecBufferDesc pMessage,
                                                ULONG MessageSeqNo,
                                                PULONG pfQOP)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get(GP11_SSPI_CTX, phContext);

    WITH_CTX(c, gp11_sspi_decrypt(c, pMessage, MessageSeqNo, pfQOP));
}

EXPORT SECURITY_STATUS SEC_ENTRY
ExportSecurityContext(PCtxtHandle phContext, ULONG fFlags,
                      PSecBuffer pPackedContext, HANDLE *pToken)
{
    return gp11_sspi_export(phContext, fFlags, pPackedContext, pToken);
}

EXPORT SECURITY_STATUS SEC_ENTRY
ImportSecurityContextA(SEC_CHAR *pszPackage, PSecBuffer pPackedContext,
                       HANDLE pToken, PCtxtHandle phContext)
{
    (void)pToken; /* no impersonation token: identities live on the token */
    return gp11_sspi_import(pszPackage, pPackedContext, phContext);
}

static SecurityFunctionTableA function_table = {
    .dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION,
    .EnumerateSecurityPackagesA = EnumerateSecurityPackagesA,
    .AcquireCredentialsHandleA = AcquireCredentialsHandleA,
    .FreeCredentialsHandle = FreeCredentialsHandle,
    .InitializeSecurityContextA = InitializeSecurityContextA,
    .AcceptSecurityContext = AcceptSecurityContext,
    .DeleteSecurityContext = DeleteSecurityContext,
    .QueryContextAttributesA = QueryContextAttributesA,
    .MakeSignature = MakeSignature,
    .VerifySignature = VerifySignature,
    .FreeContextBuffer = FreeContextBuffer,
    .QuerySecurityPackageInfoA = QuerySecurityPackageInfoA,
    .ExportSecurityContext = ExportSecurityContext,
    .ImportSecurityContextA = ImportSecurityContextA,
    .EncryptMessage = EncryptMessage,
    .DecryptMessage = DecryptMessage,
};

EXPORT PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA(void)
{
    return &function_table;
}

/* ---- the SSP/AP user-mode table: contexts by LSA_SEC_HANDLE -------------- */

static NTSTATUS SEC_ENTRY sp_make_signature(LSA_SEC_HANDLE h, ULONG qop,
                                            PSecBufferDesc msg, ULONG seq)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get_lsa(h);

    WITH_CTX(c, gp11_sspi_make_signature(c, qop, msg, seq));
}

static NTSTATUS SEC_ENTRY sp_verify_signature(LSA_SEC_HANDLE h,
                                              PSecBufferDesc msg, ULONG seq,
                                              PULONG qop)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get_lsa(h);

    WITH_CTX(c, gp11_sspi_verify_signature(c, msg, seq, qop));
}

static NTSTATUS SEC_ENTRY sp_seal_message(LSA_SEC_HANDLE h, ULONG qop,
                                          PSecBufferDesc msg, ULONG seq)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get_lsa(h);

    WITH_CTX(c, gp11_sspi_encrypt(c, qop, msg, seq));
}

static NTSTATUS SEC_ENTRY sp_unseal_message(LSA_SEC_HANDLE h,
                                            PSecBufferDesc msg, ULONG seq,
                                            PULONG qop)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get_lsa(h);

    WITH_CTX(c, gp11_sspi_decrypt(c, msg, seq, qop));
}

static NTSTATUS SEC_ENTRY sp_query_context_attributes(LSA_SEC_HANDLE h,
                                                      ULONG attr, PVOID buf)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get_lsa(h);

    WITH_CTX(c, gp11_sspi_query(c, attr, buf));
}

static NTSTATUS SEC_ENTRY sp_delete_context(LSA_SEC_HANDLE h)
{
    CtxtHandle ch = {h, (ULONG_PTR)GP11_SSPI_CTX};

    return gp11_sspi_delete(&ch);
}

static NTSTATUS SEC_ENTRY sp_export_context(LSA_SEC_HANDLE h, ULONG flags,
                                            PSecBuffer packed, PHANDLE token)
{
    CtxtHandle ch = {h, (ULONG_PTR)GP11_SSPI_CTX};

    return gp11_sspi_export(&ch, flags, packed, token);
}

/* SpImportSecurityContext: the package is ours by construction; the new
 * context's LSA_SEC_HANDLE is its CtxtHandle's dwLower. */
static NTSTATUS SEC_ENTRY sp_import_context(PSecBuffer packed, HANDLE token,
                                            PLSA_SEC_HANDLE out)
{
    CtxtHandle ch = {0, 0};
    NTSTATUS st;

    (void)token; /* no impersonation token: identities live on the token */
    if (out == NULL)
        return SEC_E_INVALID_PARAMETER;
    *out = 0;
    st = gp11_sspi_import(GSS_PKCS11_SSP_NAME, packed, &ch);
    if (st == SEC_E_OK)
        *out = ch.dwLower;
    return st;
}

static SECPKG_USER_FUNCTION_TABLE user_table = {
    .MakeSignature = sp_make_signature,
    .VerifySignature = sp_verify_signature,
    .SealMessage = sp_seal_message,
    .UnsealMessage = sp_unseal_message,
    .QueryContextAttributes = sp_query_context_attributes,
    .DeleteUserModeContext = sp_delete_context,
    .ExportContext = sp_export_context,
    .ImportContext = sp_import_context,
};

EXPORT NTSTATUS SEC_ENTRY
SpUserModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                     PSECPKG_USER_FUNCTION_TABLE *ppTables, PULONG pcTables)
{
    if (PackageVersion == NULL || ppTables == NULL || pcTables == NULL)
        return SEC_E_INVALID_PARAMETER;
    if (LsaVersion != SECPKG_INTERFACE_VERSION)
        return SEC_E_UNSUPPORTED_FUNCTION;
    *PackageVersion = SECPKG_INTERFACE_VERSION;
    *ppTables = &user_table;
    *pcTables = 1;
    return SEC_E_OK;
}
