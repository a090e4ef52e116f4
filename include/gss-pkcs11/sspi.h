/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SSPI face of gss-pkcs11 (libgss-pkcs11-sspi.so.0, pkg-config
 * gss-pkcs11-sspi; docs/sspi.md). Self-contained: the types have WinPR's
 * layout on LP64 Linux (<winpr/sspi.h> of libwinpr2-dev, checked by the
 * test sspi-abi), the constants Windows' values, and the function table
 * Windows' slot order. Do not include it together with <winpr/sspi.h> in
 * one translation unit: both define the same names. C and C++.
 */
#ifndef GSS_PKCS11_SSPI_H
#define GSS_PKCS11_SSPI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- base types (WinPR's wtypes.h on LP64) ------------------------------ */

typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG;
typedef uint16_t USHORT;
typedef unsigned char UCHAR, *PUCHAR;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef void *HANDLE, *PHANDLE, *PVOID;
typedef char SEC_CHAR;
typedef LONG SECURITY_STATUS;
typedef LONG NTSTATUS;

#define SEC_ENTRY

/* 64-bit time in two halves; gss-pkcs11 writes Windows FILETIME values
 * (100 ns units since 1601-01-01 UTC). */
typedef struct _SECURITY_INTEGER {
    uint32_t LowPart;
    int32_t HighPart;
} SECURITY_INTEGER, *PSECURITY_INTEGER;
typedef SECURITY_INTEGER TimeStamp, *PTimeStamp;

typedef struct _SecHandle {
    ULONG_PTR dwLower;
    ULONG_PTR dwUpper;
} SecHandle, *PSecHandle;
typedef SecHandle CredHandle, *PCredHandle;
typedef SecHandle CtxtHandle, *PCtxtHandle;

#define SecInvalidateHandle(x)                                                 \
    ((PSecHandle)(x))->dwLower = ((PSecHandle)(x))->dwUpper =                  \
        ((ULONG_PTR)((intptr_t)-1))
#define SecIsValidHandle(x)                                                    \
    ((((PSecHandle)(x))->dwLower != ((ULONG_PTR)((intptr_t)-1))) &&            \
     (((PSecHandle)(x))->dwUpper != ((ULONG_PTR)((intptr_t)-1))))

typedef struct _SecBuffer {
    ULONG cbBuffer;
    ULONG BufferType;
    void *pvBuffer;
} SecBuffer, *PSecBuffer;

typedef struct _SecBufferDesc {
    ULONG ulVersion;
    ULONG cBuffers;
    PSecBuffer pBuffers;
} SecBufferDesc, *PSecBufferDesc;

typedef struct _SecPkgInfoA {
    uint32_t fCapabilities;
    uint16_t wVersion;
    uint16_t wRPCID;
    uint32_t cbMaxToken;
    SEC_CHAR *Name;
    SEC_CHAR *Comment;
} SecPkgInfoA, *PSecPkgInfoA;

typedef struct _SEC_CHANNEL_BINDINGS {
    uint32_t dwInitiatorAddrType;
    uint32_t cbInitiatorLength;
    uint32_t dwInitiatorOffset;
    uint32_t dwAcceptorAddrType;
    uint32_t cbAcceptorLength;
    uint32_t dwAcceptorOffset;
    uint32_t cbApplicationDataLength;
    uint32_t dwApplicationDataOffset;
} SEC_CHANNEL_BINDINGS, *PSEC_CHANNEL_BINDINGS;

typedef struct _SecPkgContext_Sizes {
    uint32_t cbMaxToken;
    uint32_t cbMaxSignature;
    uint32_t cbBlockSize;
    uint32_t cbSecurityTrailer;
} SecPkgContext_Sizes, *PSecPkgContext_Sizes;

typedef struct _SecPkgContext_StreamSizes {
    uint32_t cbHeader;
    uint32_t cbTrailer;
    uint32_t cbMaximumMessage;
    uint32_t cBuffers;
    uint32_t cbBlockSize;
} SecPkgContext_StreamSizes, *PSecPkgContext_StreamSizes;

typedef struct _SecPkgContext_NamesA {
    SEC_CHAR *sUserName;
} SecPkgContext_NamesA, *PSecPkgContext_NamesA;
/* WinPR's name for the same structure. */
typedef SecPkgContext_NamesA SecPkgContext_Names;

typedef struct _SecPkgContext_Lifespan {
    TimeStamp tsStart;
    TimeStamp tsExpiry;
} SecPkgContext_Lifespan, *PSecPkgContext_Lifespan;

typedef struct _SecPkgContext_Flags {
    uint32_t Flags;
} SecPkgContext_Flags, *PSecPkgContext_Flags;

typedef struct _SecPkgContext_SessionKey {
    uint32_t SessionKeyLength;
    unsigned char *SessionKey;
} SecPkgContext_SessionKey, *PSecPkgContext_SessionKey;

/* ---- constants (Windows' values) ----------------------------------------- */

/* The package name to pass to AcquireCredentialsHandleA. */
#define GSS_PKCS11_SSP_NAME "gss-pkcs11"

#define SECBUFFER_VERSION 0
#define SECBUFFER_EMPTY 0
#define SECBUFFER_DATA 1
#define SECBUFFER_TOKEN 2
#define SECBUFFER_PADDING 9
#define SECBUFFER_STREAM 10
#define SECBUFFER_CHANNEL_BINDINGS 14
#define SECBUFFER_ATTRMASK 0xF0000000
#define SECBUFFER_READONLY 0x80000000
#define SECBUFFER_READONLY_WITH_CHECKSUM 0x10000000

#define SECQOP_WRAP_NO_ENCRYPT 0x80000001

#define SECPKG_CRED_INBOUND 0x00000001
#define SECPKG_CRED_OUTBOUND 0x00000002
#define SECPKG_CRED_BOTH 0x00000003

#define SECURITY_NATIVE_DREP 0x00000010
#define SECURITY_NETWORK_DREP 0x00000000

#define SECPKG_ATTR_SIZES 0
#define SECPKG_ATTR_NAMES 1
#define SECPKG_ATTR_LIFESPAN 2
#define SECPKG_ATTR_STREAM_SIZES 4
#define SECPKG_ATTR_SESSION_KEY 9
#define SECPKG_ATTR_FLAGS 14

/* ExportSecurityContext fFlags (Windows' sspi.h). */
#define SECPKG_CONTEXT_EXPORT_RESET_NEW 0x00000001
#define SECPKG_CONTEXT_EXPORT_DELETE_OLD 0x00000002
#define SECPKG_CONTEXT_EXPORT_TO_KERNEL 0x00000004

#define SECPKG_FLAG_INTEGRITY 0x00000001
#define SECPKG_FLAG_PRIVACY 0x00000002
#define SECPKG_FLAG_CONNECTION 0x00000010
#define SECPKG_FLAG_MULTI_REQUIRED 0x00000020
#define SECPKG_FLAG_EXTENDED_ERROR 0x00000080
#define SECPKG_FLAG_STREAM 0x00000400
#define SECPKG_FLAG_GSS_COMPATIBLE 0x00001000
#define SECPKG_FLAG_MUTUAL_AUTH 0x00010000
#define SECPKG_FLAG_READONLY_WITH_CHECKSUM 0x00040000
#define SECPKG_ID_NONE 0xFFFF

#define ISC_REQ_DELEGATE 0x00000001
#define ISC_REQ_MUTUAL_AUTH 0x00000002
#define ISC_REQ_REPLAY_DETECT 0x00000004
#define ISC_REQ_SEQUENCE_DETECT 0x00000008
#define ISC_REQ_CONFIDENTIALITY 0x00000010
#define ISC_REQ_USE_SESSION_KEY 0x00000020
#define ISC_REQ_ALLOCATE_MEMORY 0x00000100
#define ISC_REQ_DATAGRAM 0x00000400
#define ISC_REQ_CONNECTION 0x00000800
#define ISC_REQ_EXTENDED_ERROR 0x00004000
#define ISC_REQ_STREAM 0x00008000
#define ISC_REQ_INTEGRITY 0x00010000
#define ISC_REQ_NULL_SESSION 0x00040000

#define ISC_RET_DELEGATE 0x00000001
#define ISC_RET_MUTUAL_AUTH 0x00000002
#define ISC_RET_REPLAY_DETECT 0x00000004
#define ISC_RET_SEQUENCE_DETECT 0x00000008
#define ISC_RET_CONFIDENTIALITY 0x00000010
#define ISC_RET_USE_SESSION_KEY 0x00000020
#define ISC_RET_ALLOCATED_MEMORY 0x00000100
#define ISC_RET_DATAGRAM 0x00000400
#define ISC_RET_CONNECTION 0x00000800
#define ISC_RET_EXTENDED_ERROR 0x00004000
#define ISC_RET_STREAM 0x00008000
#define ISC_RET_INTEGRITY 0x00010000
#define ISC_RET_NULL_SESSION 0x00040000

#define ASC_REQ_DELEGATE 0x00000001
#define ASC_REQ_MUTUAL_AUTH 0x00000002
#define ASC_REQ_REPLAY_DETECT 0x00000004
#define ASC_REQ_SEQUENCE_DETECT 0x00000008
#define ASC_REQ_CONFIDENTIALITY 0x00000010
#define ASC_REQ_USE_SESSION_KEY 0x00000020
#define ASC_REQ_ALLOCATE_MEMORY 0x00000100
#define ASC_REQ_DATAGRAM 0x00000400
#define ASC_REQ_CONNECTION 0x00000800
#define ASC_REQ_EXTENDED_ERROR 0x00008000
#define ASC_REQ_STREAM 0x00010000
#define ASC_REQ_INTEGRITY 0x00020000
#define ASC_REQ_ALLOW_NULL_SESSION 0x00100000

#define ASC_RET_DELEGATE 0x00000001
#define ASC_RET_MUTUAL_AUTH 0x00000002
#define ASC_RET_REPLAY_DETECT 0x00000004
#define ASC_RET_SEQUENCE_DETECT 0x00000008
#define ASC_RET_CONFIDENTIALITY 0x00000010
#define ASC_RET_USE_SESSION_KEY 0x00000020
#define ASC_RET_ALLOCATED_MEMORY 0x00000100
#define ASC_RET_DATAGRAM 0x00000400
#define ASC_RET_CONNECTION 0x00000800
#define ASC_RET_EXTENDED_ERROR 0x00008000
#define ASC_RET_STREAM 0x00010000
#define ASC_RET_INTEGRITY 0x00020000
#define ASC_RET_NULL_SESSION 0x00100000

/* Status values gss-pkcs11 returns (docs/sspi.md, "Status codes"). */
#define SEC_E_OK ((SECURITY_STATUS)0x00000000L)
#define SEC_E_INSUFFICIENT_MEMORY ((SECURITY_STATUS)0x80090300L)
#define SEC_E_INVALID_HANDLE ((SECURITY_STATUS)0x80090301L)
#define SEC_E_UNSUPPORTED_FUNCTION ((SECURITY_STATUS)0x80090302L)
#define SEC_E_TARGET_UNKNOWN ((SECURITY_STATUS)0x80090303L)
#define SEC_E_INTERNAL_ERROR ((SECURITY_STATUS)0x80090304L)
#define SEC_E_SECPKG_NOT_FOUND ((SECURITY_STATUS)0x80090305L)
#define SEC_E_INVALID_TOKEN ((SECURITY_STATUS)0x80090308L)
#define SEC_E_CANNOT_PACK ((SECURITY_STATUS)0x80090309L)
#define SEC_E_QOP_NOT_SUPPORTED ((SECURITY_STATUS)0x8009030AL)
#define SEC_E_LOGON_DENIED ((SECURITY_STATUS)0x8009030CL)
#define SEC_E_UNKNOWN_CREDENTIALS ((SECURITY_STATUS)0x8009030DL)
#define SEC_E_NO_CREDENTIALS ((SECURITY_STATUS)0x8009030EL)
#define SEC_E_MESSAGE_ALTERED ((SECURITY_STATUS)0x8009030FL)
#define SEC_E_OUT_OF_SEQUENCE ((SECURITY_STATUS)0x80090310L)
#define SEC_E_NO_AUTHENTICATING_AUTHORITY ((SECURITY_STATUS)0x80090311L)
#define SEC_E_CONTEXT_EXPIRED ((SECURITY_STATUS)0x80090317L)
#define SEC_E_INCOMPLETE_MESSAGE ((SECURITY_STATUS)0x80090318L)
#define SEC_E_BUFFER_TOO_SMALL ((SECURITY_STATUS)0x80090321L)
#define SEC_E_WRONG_PRINCIPAL ((SECURITY_STATUS)0x80090322L)
#define SEC_E_UNTRUSTED_ROOT ((SECURITY_STATUS)0x80090325L)
#define SEC_E_ILLEGAL_MESSAGE ((SECURITY_STATUS)0x80090326L)
#define SEC_E_CERT_UNKNOWN ((SECURITY_STATUS)0x80090327L)
#define SEC_E_CERT_EXPIRED ((SECURITY_STATUS)0x80090328L)
#define SEC_E_ALGORITHM_MISMATCH ((SECURITY_STATUS)0x80090331L)
#define SEC_E_BAD_BINDINGS ((SECURITY_STATUS)0x80090346L)
#define SEC_E_CERT_WRONG_USAGE ((SECURITY_STATUS)0x80090349L)
#define SEC_E_SMARTCARD_CERT_REVOKED ((SECURITY_STATUS)0x80090351L)
#define SEC_E_REVOCATION_OFFLINE_C ((SECURITY_STATUS)0x80090353L)
#define SEC_E_INVALID_PARAMETER ((SECURITY_STATUS)0x8009035DL)
#define SEC_I_CONTINUE_NEEDED ((SECURITY_STATUS)0x00090312L)

/* ---- the SecurityFunctionTableA (Windows' slot order) ---------------------
 */

typedef void(SEC_ENTRY *SEC_GET_KEY_FN)(void *Arg, void *Principal,
                                        uint32_t KeyVer, void **Key,
                                        SECURITY_STATUS *pStatus);

typedef SECURITY_STATUS(SEC_ENTRY *ENUMERATE_SECURITY_PACKAGES_FN_A)(
    ULONG *pcPackages, PSecPkgInfoA *ppPackageInfo);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_FN_A)(
    PCredHandle phCredential, ULONG ulAttribute, void *pBuffer);
typedef SECURITY_STATUS(SEC_ENTRY *ACQUIRE_CREDENTIALS_HANDLE_FN_A)(
    SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage, ULONG fCredentialUse,
    void *pvLogonID, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
    void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);
typedef SECURITY_STATUS(SEC_ENTRY *FREE_CREDENTIALS_HANDLE_FN)(
    PCredHandle phCredential);
typedef SECURITY_STATUS(SEC_ENTRY *INITIALIZE_SECURITY_CONTEXT_FN_A)(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName,
    ULONG fContextReq, ULONG Reserved1, ULONG TargetDataRep,
    PSecBufferDesc pInput, ULONG Reserved2, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry);
typedef SECURITY_STATUS(SEC_ENTRY *ACCEPT_SECURITY_CONTEXT_FN)(
    PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
    ULONG fContextReq, ULONG TargetDataRep, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsTimeStamp);
typedef SECURITY_STATUS(SEC_ENTRY *COMPLETE_AUTH_TOKEN_FN)(
    PCtxtHandle phContext, PSecBufferDesc pToken);
typedef SECURITY_STATUS(SEC_ENTRY *DELETE_SECURITY_CONTEXT_FN)(
    PCtxtHandle phContext);
typedef SECURITY_STATUS(SEC_ENTRY *APPLY_CONTROL_TOKEN_FN)(
    PCtxtHandle phContext, PSecBufferDesc pInput);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_FN_A)(
    PCtxtHandle phContext, ULONG ulAttribute, void *pBuffer);
typedef SECURITY_STATUS(SEC_ENTRY *IMPERSONATE_SECURITY_CONTEXT_FN)(
    PCtxtHandle phContext);
typedef SECURITY_STATUS(SEC_ENTRY *REVERT_SECURITY_CONTEXT_FN)(
    PCtxtHandle phContext);
typedef SECURITY_STATUS(SEC_ENTRY *MAKE_SIGNATURE_FN)(PCtxtHandle phContext,
                                                      ULONG fQOP,
                                                      PSecBufferDesc pMessage,
                                                      ULONG MessageSeqNo);
typedef SECURITY_STATUS(SEC_ENTRY *VERIFY_SIGNATURE_FN)(PCtxtHandle phContext,
                                                        PSecBufferDesc pMessage,
                                                        ULONG MessageSeqNo,
                                                        PULONG pfQOP);
typedef SECURITY_STATUS(SEC_ENTRY *FREE_CONTEXT_BUFFER_FN)(
    void *pvContextBuffer);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_SECURITY_PACKAGE_INFO_FN_A)(
    SEC_CHAR *pszPackageName, PSecPkgInfoA *ppPackageInfo);
typedef SECURITY_STATUS(SEC_ENTRY *EXPORT_SECURITY_CONTEXT_FN)(
    PCtxtHandle phContext, ULONG fFlags, PSecBuffer pPackedContext,
    HANDLE *pToken);
typedef SECURITY_STATUS(SEC_ENTRY *IMPORT_SECURITY_CONTEXT_FN_A)(
    SEC_CHAR *pszPackage, PSecBuffer pPackedContext, HANDLE pToken,
    PCtxtHandle phContext);
typedef SECURITY_STATUS(SEC_ENTRY *ADD_CREDENTIALS_FN_A)(
    PCredHandle hCredentials, SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage,
    uint32_t fCredentialUse, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
    void *pvGetKeyArgument, PTimeStamp ptsExpiry);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_SECURITY_CONTEXT_TOKEN_FN)(
    PCtxtHandle phContext, HANDLE *phToken);
typedef SECURITY_STATUS(SEC_ENTRY *ENCRYPT_MESSAGE_FN)(PCtxtHandle phContext,
                                                       ULONG fQOP,
                                                       PSecBufferDesc pMessage,
                                                       ULONG MessageSeqNo);
typedef SECURITY_STATUS(SEC_ENTRY *DECRYPT_MESSAGE_FN)(PCtxtHandle phContext,
                                                       PSecBufferDesc pMessage,
                                                       ULONG MessageSeqNo,
                                                       PULONG pfQOP);
typedef SECURITY_STATUS(SEC_ENTRY *SET_CONTEXT_ATTRIBUTES_FN_A)(
    PCtxtHandle phContext, ULONG ulAttribute, void *pBuffer, ULONG cbBuffer);

#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION 1
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2 2

/* Slots gss-pkcs11 does not implement hold NULL (Reserved* always). */
typedef struct _SecurityFunctionTableA {
    uint32_t dwVersion;
    ENUMERATE_SECURITY_PACKAGES_FN_A EnumerateSecurityPackagesA;
    QUERY_CREDENTIALS_ATTRIBUTES_FN_A QueryCredentialsAttributesA;
    ACQUIRE_CREDENTIALS_HANDLE_FN_A AcquireCredentialsHandleA;
    FREE_CREDENTIALS_HANDLE_FN FreeCredentialsHandle;
    void *Reserved2;
    INITIALIZE_SECURITY_CONTEXT_FN_A InitializeSecurityContextA;
    ACCEPT_SECURITY_CONTEXT_FN AcceptSecurityContext;
    COMPLETE_AUTH_TOKEN_FN CompleteAuthToken;
    DELETE_SECURITY_CONTEXT_FN DeleteSecurityContext;
    APPLY_CONTROL_TOKEN_FN ApplyControlToken;
    QUERY_CONTEXT_ATTRIBUTES_FN_A QueryContextAttributesA;
    IMPERSONATE_SECURITY_CONTEXT_FN ImpersonateSecurityContext;
    REVERT_SECURITY_CONTEXT_FN RevertSecurityContext;
    MAKE_SIGNATURE_FN MakeSignature;
    VERIFY_SIGNATURE_FN VerifySignature;
    FREE_CONTEXT_BUFFER_FN FreeContextBuffer;
    QUERY_SECURITY_PACKAGE_INFO_FN_A QuerySecurityPackageInfoA;
    void *Reserved3;
    void *Reserved4;
    EXPORT_SECURITY_CONTEXT_FN ExportSecurityContext;
    IMPORT_SECURITY_CONTEXT_FN_A ImportSecurityContextA;
    ADD_CREDENTIALS_FN_A AddCredentialsA;
    void *Reserved8;
    QUERY_SECURITY_CONTEXT_TOKEN_FN QuerySecurityContextToken;
    ENCRYPT_MESSAGE_FN EncryptMessage;
    DECRYPT_MESSAGE_FN DecryptMessage;
    SET_CONTEXT_ATTRIBUTES_FN_A SetContextAttributesA;
} SecurityFunctionTableA, *PSecurityFunctionTableA;

typedef PSecurityFunctionTableA(SEC_ENTRY *INIT_SECURITY_INTERFACE_A)(void);

/* ---- the SSP/AP user-mode table (ntsecpkg.h) ------------------------------
 */

/* A context's LSA_SEC_HANDLE is its CtxtHandle.dwLower. */
typedef ULONG_PTR LSA_SEC_HANDLE, *PLSA_SEC_HANDLE;

#define SECPKG_INTERFACE_VERSION 0x00010000

typedef NTSTATUS(SEC_ENTRY SpInstanceInitFn)(ULONG Version, void *FunctionTable,
                                             PVOID *UserFunctions);
typedef NTSTATUS(SEC_ENTRY SpInitUserModeContextFn)(
    LSA_SEC_HANDLE ContextHandle, PSecBuffer PackedContext);
typedef NTSTATUS(SEC_ENTRY SpMakeSignatureFn)(LSA_SEC_HANDLE ContextHandle,
                                              ULONG QualityOfProtection,
                                              PSecBufferDesc MessageBuffers,
                                              ULONG MessageSequenceNumber);
typedef NTSTATUS(SEC_ENTRY SpVerifySignatureFn)(LSA_SEC_HANDLE ContextHandle,
                                                PSecBufferDesc MessageBuffers,
                                                ULONG MessageSequenceNumber,
                                                PULONG QualityOfProtection);
typedef NTSTATUS(SEC_ENTRY SpSealMessageFn)(LSA_SEC_HANDLE ContextHandle,
                                            ULONG QualityOfProtection,
                                            PSecBufferDesc MessageBuffers,
                                            ULONG MessageSequenceNumber);
typedef NTSTATUS(SEC_ENTRY SpUnsealMessageFn)(LSA_SEC_HANDLE ContextHandle,
                                              PSecBufferDesc MessageBuffers,
                                              ULONG MessageSequenceNumber,
                                              PULONG QualityOfProtection);
typedef NTSTATUS(SEC_ENTRY SpGetContextTokenFn)(LSA_SEC_HANDLE ContextHandle,
                                                PHANDLE ImpersonationToken);
typedef NTSTATUS(SEC_ENTRY SpQueryContextAttributesFn)(
    LSA_SEC_HANDLE ContextHandle, ULONG ContextAttribute, PVOID Buffer);
typedef NTSTATUS(SEC_ENTRY SpCompleteAuthTokenFn)(LSA_SEC_HANDLE ContextHandle,
                                                  PSecBufferDesc InputBuffer);
typedef NTSTATUS(SEC_ENTRY SpDeleteContextFn)(LSA_SEC_HANDLE ContextHandle);
typedef NTSTATUS(SEC_ENTRY SpFormatCredentialsFn)(
    PSecBuffer Credentials, PSecBuffer FormattedCredentials);
typedef NTSTATUS(SEC_ENTRY SpMarshallSupplementalCredsFn)(
    ULONG CredentialSize, PUCHAR Credentials, PULONG MarshalledCredSize,
    PVOID *MarshalledCreds);
typedef NTSTATUS(SEC_ENTRY SpExportSecurityContextFn)(LSA_SEC_HANDLE phContext,
                                                      ULONG fFlags,
                                                      PSecBuffer pPackedContext,
                                                      PHANDLE pToken);
typedef NTSTATUS(SEC_ENTRY SpImportSecurityContextFn)(
    PSecBuffer pPackedContext, HANDLE Token, PLSA_SEC_HANDLE phContext);

/* Field order of ntsecpkg.h. */
typedef struct _SECPKG_USER_FUNCTION_TABLE {
    SpInstanceInitFn *InstanceInit;
    SpInitUserModeContextFn *InitUserModeContext;
    SpMakeSignatureFn *MakeSignature;
    SpVerifySignatureFn *VerifySignature;
    SpSealMessageFn *SealMessage;
    SpUnsealMessageFn *UnsealMessage;
    SpGetContextTokenFn *GetContextToken;
    SpQueryContextAttributesFn *QueryContextAttributes;
    SpCompleteAuthTokenFn *CompleteAuthToken;
    SpDeleteContextFn *DeleteUserModeContext;
    SpFormatCredentialsFn *FormatCredentials;
    SpMarshallSupplementalCredsFn *MarshallSupplementalCreds;
    SpExportSecurityContextFn *ExportContext;
    SpImportSecurityContextFn *ImportContext;
} SECPKG_USER_FUNCTION_TABLE, *PSECPKG_USER_FUNCTION_TABLE;

typedef NTSTATUS(SEC_ENTRY SpUserModeInitializeFn)(
    ULONG LsaVersion, PULONG PackageVersion,
    PSECPKG_USER_FUNCTION_TABLE *ppTables, PULONG pcTables);

/* ---- exported functions ---------------------------------------------------
 */

PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA(void);
SECURITY_STATUS SEC_ENTRY
EnumerateSecurityPackagesA(ULONG *pcPackages, PSecPkgInfoA *ppPackageInfo);
SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoA(
    SEC_CHAR *pszPackageName, PSecPkgInfoA *ppPackageInfo);
SECURITY_STATUS SEC_ENTRY FreeContextBuffer(void *pvContextBuffer);
SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleA(
    SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage, ULONG fCredentialUse,
    void *pvLogonID, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
    void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);
SECURITY_STATUS SEC_ENTRY FreeCredentialsHandle(PCredHandle phCredential);
SECURITY_STATUS SEC_ENTRY InitializeSecurityContextA(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName,
    ULONG fContextReq, ULONG Reserved1, ULONG TargetDataRep,
    PSecBufferDesc pInput, ULONG Reserved2, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry);
SECURITY_STATUS SEC_ENTRY AcceptSecurityContext(
    PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
    ULONG fContextReq, ULONG TargetDataRep, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsTimeStamp);
SECURITY_STATUS SEC_ENTRY DeleteSecurityContext(PCtxtHandle phContext);
SECURITY_STATUS SEC_ENTRY QueryContextAttributesA(PCtxtHandle phContext,
                                                  ULONG ulAttribute,
                                                  void *pBuffer);
SECURITY_STATUS SEC_ENTRY MakeSignature(PCtxtHandle phContext, ULONG fQOP,
                                        PSecBufferDesc pMessage,
                                        ULONG MessageSeqNo);
SECURITY_STATUS SEC_ENTRY VerifySignature(PCtxtHandle phContext,
                                          PSecBufferDesc pMessage,
                                          ULONG MessageSeqNo, PULONG pfQOP);
SECURITY_STATUS SEC_ENTRY EncryptMessage(PCtxtHandle phContext, ULONG fQOP,
                                         PSecBufferDesc pMessage,
                                         ULONG MessageSeqNo);
SECURITY_STATUS SEC_ENTRY DecryptMessage(PCtxtHandle phContext,
                                         PSecBufferDesc pMessage,
                                         ULONG MessageSeqNo, PULONG pfQOP);
SECURITY_STATUS SEC_ENTRY ExportSecurityContext(PCtxtHandle phContext,
                                                ULONG fFlags,
                                                PSecBuffer pPackedContext,
                                                HANDLE *pToken);
SECURITY_STATUS SEC_ENTRY ImportSecurityContextA(SEC_CHAR *pszPackage,
                                                 PSecBuffer pPackedContext,
                                                 HANDLE pToken,
                                                 PCtxtHandle phContext);
NTSTATUS SEC_ENTRY SpUserModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                        PSECPKG_USER_FUNCTION_TABLE *ppTables,
                                        PULONG pcTables);

#ifdef __cplusplus
}
#endif

#endif
