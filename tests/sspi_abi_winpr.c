/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ABI check against WinPR's <winpr/sspi.h> (see sspi_abi_body.c).
 * WinPR has no SSP/AP user-mode table and lacks five constants: they come
 * from Windows' ntsecpkg.h and sspi.h (Windows SDK 10.0.22621), written
 * here with WinPR's types, so that the two outputs still compare them.
 */
#include <winpr/sspi.h>

#ifndef SECQOP_WRAP_NO_ENCRYPT
#define SECQOP_WRAP_NO_ENCRYPT 0x80000001
#endif
#ifndef SECPKG_CONTEXT_EXPORT_RESET_NEW
#define SECPKG_CONTEXT_EXPORT_RESET_NEW 0x00000001
#define SECPKG_CONTEXT_EXPORT_DELETE_OLD 0x00000002
#define SECPKG_CONTEXT_EXPORT_TO_KERNEL 0x00000004
#endif
#ifndef SECPKG_INTERFACE_VERSION
#define SECPKG_INTERFACE_VERSION 0x00010000
#endif

typedef struct {
    void *InstanceInit, *InitUserModeContext, *MakeSignature, *VerifySignature,
        *SealMessage, *UnsealMessage, *GetContextToken, *QueryContextAttributes,
        *CompleteAuthToken, *DeleteUserModeContext, *FormatCredentials,
        *MarshallSupplementalCreds, *ExportContext, *ImportContext;
} SECPKG_USER_FUNCTION_TABLE;

#include "sspi_abi_body.c"
