/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Body of the ABI check (test sspi-abi), included by sspi_abi_winpr.c
 * (WinPR's <winpr/sspi.h>) and sspi_abi_ours.c (<gss-pkcs11/sspi.h>):
 * sizes, field offsets, constant values and table slot offsets, one per
 * line; the two outputs must be equal. SecPkgContext_Names is WinPR's
 * name of SecPkgContext_NamesA.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define P_SIZE(T) printf("sizeof %s %zu\n", #T, sizeof(T))
#define P_OFF(T, f) printf("offsetof %s.%s %zu\n", #T, #f, offsetof(T, f))
#define P_CONST(C) printf("%s 0x%08lx\n", #C, (unsigned long)(uint32_t)(C))
#pragma GCC diagnostic ignored "-Wtype-limits"
#define P_SIGNED(T) printf("signed %s %d\n", #T, (T)-1 < (T)0)

/* Prints every line of the comparison. */
static void abi_print(void)
{
    P_SIZE(ULONG);
    P_SIGNED(ULONG);
    P_SIZE(LONG);
    P_SIGNED(LONG);
    P_SIZE(ULONG_PTR);
    P_SIGNED(ULONG_PTR);
    P_SIZE(SECURITY_STATUS);
    P_SIGNED(SECURITY_STATUS);
    P_SIZE(NTSTATUS);
    P_SIGNED(NTSTATUS);
    P_SIZE(TimeStamp);
    P_OFF(TimeStamp, LowPart);
    P_OFF(TimeStamp, HighPart);
    P_SIZE(SecHandle);
    P_OFF(SecHandle, dwLower);
    P_OFF(SecHandle, dwUpper);
    P_SIZE(CredHandle);
    P_SIZE(CtxtHandle);
    P_SIZE(SecBuffer);
    P_OFF(SecBuffer, cbBuffer);
    P_OFF(SecBuffer, BufferType);
    P_OFF(SecBuffer, pvBuffer);
    P_SIZE(SecBufferDesc);
    P_OFF(SecBufferDesc, ulVersion);
    P_OFF(SecBufferDesc, cBuffers);
    P_OFF(SecBufferDesc, pBuffers);
    P_SIZE(SecPkgInfoA);
    P_OFF(SecPkgInfoA, fCapabilities);
    P_OFF(SecPkgInfoA, wVersion);
    P_OFF(SecPkgInfoA, wRPCID);
    P_OFF(SecPkgInfoA, cbMaxToken);
    P_OFF(SecPkgInfoA, Name);
    P_OFF(SecPkgInfoA, Comment);
    P_SIZE(SEC_CHANNEL_BINDINGS);
    P_OFF(SEC_CHANNEL_BINDINGS, dwInitiatorAddrType);
    P_OFF(SEC_CHANNEL_BINDINGS, cbInitiatorLength);
    P_OFF(SEC_CHANNEL_BINDINGS, dwInitiatorOffset);
    P_OFF(SEC_CHANNEL_BINDINGS, dwAcceptorAddrType);
    P_OFF(SEC_CHANNEL_BINDINGS, cbAcceptorLength);
    P_OFF(SEC_CHANNEL_BINDINGS, dwAcceptorOffset);
    P_OFF(SEC_CHANNEL_BINDINGS, cbApplicationDataLength);
    P_OFF(SEC_CHANNEL_BINDINGS, dwApplicationDataOffset);
    P_SIZE(SecPkgContext_Sizes);
    P_OFF(SecPkgContext_Sizes, cbMaxToken);
    P_OFF(SecPkgContext_Sizes, cbMaxSignature);
    P_OFF(SecPkgContext_Sizes, cbBlockSize);
    P_OFF(SecPkgContext_Sizes, cbSecurityTrailer);
    P_SIZE(SecPkgContext_StreamSizes);
    P_OFF(SecPkgContext_StreamSizes, cbHeader);
    P_OFF(SecPkgContext_StreamSizes, cbTrailer);
    P_OFF(SecPkgContext_StreamSizes, cbMaximumMessage);
    P_OFF(SecPkgContext_StreamSizes, cBuffers);
    P_OFF(SecPkgContext_StreamSizes, cbBlockSize);
    P_SIZE(SecPkgContext_Names);
    P_OFF(SecPkgContext_Names, sUserName);
    P_SIZE(SecPkgContext_Lifespan);
    P_OFF(SecPkgContext_Lifespan, tsStart);
    P_OFF(SecPkgContext_Lifespan, tsExpiry);
    P_SIZE(SecPkgContext_Flags);
    P_OFF(SecPkgContext_Flags, Flags);
    P_SIZE(SecPkgContext_SessionKey);
    P_OFF(SecPkgContext_SessionKey, SessionKeyLength);
    P_OFF(SecPkgContext_SessionKey, SessionKey);

    P_SIZE(SecurityFunctionTableA);
    P_OFF(SecurityFunctionTableA, dwVersion);
    P_OFF(SecurityFunctionTableA, EnumerateSecurityPackagesA);
    P_OFF(SecurityFunctionTableA, QueryCredentialsAttributesA);
    P_OFF(SecurityFunctionTableA, AcquireCredentialsHandleA);
    P_OFF(SecurityFunctionTableA, FreeCredentialsHandle);
    P_OFF(SecurityFunctionTableA, Reserved2);
    P_OFF(SecurityFunctionTableA, InitializeSecurityContextA);
    P_OFF(SecurityFunctionTableA, AcceptSecurityContext);
    P_OFF(SecurityFunctionTableA, CompleteAuthToken);
    P_OFF(SecurityFunctionTableA, DeleteSecurityContext);
    P_OFF(SecurityFunctionTableA, ApplyControlToken);
    P_OFF(SecurityFunctionTableA, QueryContextAttributesA);
    P_OFF(SecurityFunctionTableA, ImpersonateSecurityContext);
    P_OFF(SecurityFunctionTableA, RevertSecurityContext);
    P_OFF(SecurityFunctionTableA, MakeSignature);
    P_OFF(SecurityFunctionTableA, VerifySignature);
    P_OFF(SecurityFunctionTableA, FreeContextBuffer);
    P_OFF(SecurityFunctionTableA, QuerySecurityPackageInfoA);
    P_OFF(SecurityFunctionTableA, Reserved3);
    P_OFF(SecurityFunctionTableA, Reserved4);
    P_OFF(SecurityFunctionTableA, ExportSecurityContext);
    P_OFF(SecurityFunctionTableA, ImportSecurityContextA);
    P_OFF(SecurityFunctionTableA, AddCredentialsA);
    P_OFF(SecurityFunctionTableA, Reserved8);
    P_OFF(SecurityFunctionTableA, QuerySecurityContextToken);
    P_OFF(SecurityFunctionTableA, EncryptMessage);
    P_OFF(SecurityFunctionTableA, DecryptMessage);
    P_OFF(SecurityFunctionTableA, SetContextAttributesA);

    P_SIZE(SECPKG_USER_FUNCTION_TABLE);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, InstanceInit);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, InitUserModeContext);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, MakeSignature);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, VerifySignature);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, SealMessage);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, UnsealMessage);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, GetContextToken);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, QueryContextAttributes);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, CompleteAuthToken);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, DeleteUserModeContext);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, FormatCredentials);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, MarshallSupplementalCreds);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, ExportContext);
    P_OFF(SECPKG_USER_FUNCTION_TABLE, ImportContext);

    P_CONST(SECBUFFER_VERSION);
    P_CONST(SECBUFFER_EMPTY);
    P_CONST(SECBUFFER_DATA);
    P_CONST(SECBUFFER_TOKEN);
    P_CONST(SECBUFFER_PADDING);
    P_CONST(SECBUFFER_STREAM);
    P_CONST(SECBUFFER_CHANNEL_BINDINGS);
    P_CONST(SECBUFFER_ATTRMASK);
    P_CONST(SECBUFFER_READONLY);
    P_CONST(SECBUFFER_READONLY_WITH_CHECKSUM);
    P_CONST(SECQOP_WRAP_NO_ENCRYPT);
    P_CONST(SECPKG_CRED_INBOUND);
    P_CONST(SECPKG_CRED_OUTBOUND);
    P_CONST(SECPKG_CRED_BOTH);
    P_CONST(SECURITY_NATIVE_DREP);
    P_CONST(SECURITY_NETWORK_DREP);
    P_CONST(SECPKG_ATTR_SIZES);
    P_CONST(SECPKG_ATTR_NAMES);
    P_CONST(SECPKG_ATTR_LIFESPAN);
    P_CONST(SECPKG_CONTEXT_EXPORT_RESET_NEW);
    P_CONST(SECPKG_CONTEXT_EXPORT_DELETE_OLD);
    P_CONST(SECPKG_CONTEXT_EXPORT_TO_KERNEL);
    P_CONST(SECPKG_ATTR_STREAM_SIZES);
    P_CONST(SECPKG_ATTR_SESSION_KEY);
    P_CONST(SECPKG_ATTR_FLAGS);
    P_CONST(SECPKG_FLAG_INTEGRITY);
    P_CONST(SECPKG_FLAG_PRIVACY);
    P_CONST(SECPKG_FLAG_CONNECTION);
    P_CONST(SECPKG_FLAG_MULTI_REQUIRED);
    P_CONST(SECPKG_FLAG_EXTENDED_ERROR);
    P_CONST(SECPKG_FLAG_STREAM);
    P_CONST(SECPKG_FLAG_GSS_COMPATIBLE);
    P_CONST(SECPKG_FLAG_MUTUAL_AUTH);
    P_CONST(SECPKG_FLAG_READONLY_WITH_CHECKSUM);
    P_CONST(SECPKG_ID_NONE);
    P_CONST(SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION);
    P_CONST(SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2);
    P_CONST(SECPKG_INTERFACE_VERSION);
    P_CONST(ISC_REQ_DELEGATE);
    P_CONST(ISC_REQ_MUTUAL_AUTH);
    P_CONST(ISC_REQ_REPLAY_DETECT);
    P_CONST(ISC_REQ_SEQUENCE_DETECT);
    P_CONST(ISC_REQ_CONFIDENTIALITY);
    P_CONST(ISC_REQ_USE_SESSION_KEY);
    P_CONST(ISC_REQ_ALLOCATE_MEMORY);
    P_CONST(ISC_REQ_DATAGRAM);
    P_CONST(ISC_REQ_CONNECTION);
    P_CONST(ISC_REQ_EXTENDED_ERROR);
    P_CONST(ISC_REQ_STREAM);
    P_CONST(ISC_REQ_INTEGRITY);
    P_CONST(ISC_REQ_NULL_SESSION);
    P_CONST(ISC_RET_DELEGATE);
    P_CONST(ISC_RET_MUTUAL_AUTH);
    P_CONST(ISC_RET_REPLAY_DETECT);
    P_CONST(ISC_RET_SEQUENCE_DETECT);
    P_CONST(ISC_RET_CONFIDENTIALITY);
    P_CONST(ISC_RET_USE_SESSION_KEY);
    P_CONST(ISC_RET_ALLOCATED_MEMORY);
    P_CONST(ISC_RET_DATAGRAM);
    P_CONST(ISC_RET_CONNECTION);
    P_CONST(ISC_RET_EXTENDED_ERROR);
    P_CONST(ISC_RET_STREAM);
    P_CONST(ISC_RET_INTEGRITY);
    P_CONST(ISC_RET_NULL_SESSION);
    P_CONST(ASC_REQ_DELEGATE);
    P_CONST(ASC_REQ_MUTUAL_AUTH);
    P_CONST(ASC_REQ_REPLAY_DETECT);
    P_CONST(ASC_REQ_SEQUENCE_DETECT);
    P_CONST(ASC_REQ_CONFIDENTIALITY);
    P_CONST(ASC_REQ_USE_SESSION_KEY);
    P_CONST(ASC_REQ_ALLOCATE_MEMORY);
    P_CONST(ASC_REQ_DATAGRAM);
    P_CONST(ASC_REQ_CONNECTION);
    P_CONST(ASC_REQ_EXTENDED_ERROR);
    P_CONST(ASC_REQ_STREAM);
    P_CONST(ASC_REQ_INTEGRITY);
    P_CONST(ASC_REQ_ALLOW_NULL_SESSION);
    P_CONST(ASC_RET_DELEGATE);
    P_CONST(ASC_RET_MUTUAL_AUTH);
    P_CONST(ASC_RET_REPLAY_DETECT);
    P_CONST(ASC_RET_SEQUENCE_DETECT);
    P_CONST(ASC_RET_CONFIDENTIALITY);
    P_CONST(ASC_RET_USE_SESSION_KEY);
    P_CONST(ASC_RET_ALLOCATED_MEMORY);
    P_CONST(ASC_RET_DATAGRAM);
    P_CONST(ASC_RET_CONNECTION);
    P_CONST(ASC_RET_EXTENDED_ERROR);
    P_CONST(ASC_RET_STREAM);
    P_CONST(ASC_RET_INTEGRITY);
    P_CONST(ASC_RET_NULL_SESSION);
    P_CONST(SEC_E_OK);
    P_CONST(SEC_E_INSUFFICIENT_MEMORY);
    P_CONST(SEC_E_INVALID_HANDLE);
    P_CONST(SEC_E_UNSUPPORTED_FUNCTION);
    P_CONST(SEC_E_TARGET_UNKNOWN);
    P_CONST(SEC_E_INTERNAL_ERROR);
    P_CONST(SEC_E_SECPKG_NOT_FOUND);
    P_CONST(SEC_E_INVALID_TOKEN);
    P_CONST(SEC_E_CANNOT_PACK);
    P_CONST(SEC_E_QOP_NOT_SUPPORTED);
    P_CONST(SEC_E_LOGON_DENIED);
    P_CONST(SEC_E_UNKNOWN_CREDENTIALS);
    P_CONST(SEC_E_NO_CREDENTIALS);
    P_CONST(SEC_E_MESSAGE_ALTERED);
    P_CONST(SEC_E_OUT_OF_SEQUENCE);
    P_CONST(SEC_E_NO_AUTHENTICATING_AUTHORITY);
    P_CONST(SEC_E_CONTEXT_EXPIRED);
    P_CONST(SEC_E_INCOMPLETE_MESSAGE);
    P_CONST(SEC_E_BUFFER_TOO_SMALL);
    P_CONST(SEC_E_WRONG_PRINCIPAL);
    P_CONST(SEC_E_UNTRUSTED_ROOT);
    P_CONST(SEC_E_ILLEGAL_MESSAGE);
    P_CONST(SEC_E_CERT_UNKNOWN);
    P_CONST(SEC_E_CERT_EXPIRED);
    P_CONST(SEC_E_ALGORITHM_MISMATCH);
    P_CONST(SEC_E_BAD_BINDINGS);
    P_CONST(SEC_E_CERT_WRONG_USAGE);
    P_CONST(SEC_E_SMARTCARD_CERT_REVOKED);
    P_CONST(SEC_E_REVOCATION_OFFLINE_C);
    P_CONST(SEC_E_INVALID_PARAMETER);
    P_CONST(SEC_I_CONTINUE_NEEDED);
}

int main(void)
{
    abi_print();
    return 0;
}
