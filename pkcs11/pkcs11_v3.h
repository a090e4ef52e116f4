/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKCS#11 3.0 constants and structures that p11-kit 0.24's pkcs11.h lacks.
 * Values from the OASIS PKCS#11 v3.0 base specification; each is defined
 * only when the system header does not already define it.
 */
#ifndef GP11_PKCS11_V3_H
#define GP11_PKCS11_V3_H

#include <p11-kit/pkcs11.h>

#ifndef CKM_HKDF_DERIVE
#define CKM_HKDF_DERIVE 0x0000402aUL
#endif
#ifndef CKM_HKDF_DATA
#define CKM_HKDF_DATA 0x0000402bUL
#endif
#ifndef CKM_HKDF_KEY_GEN
#define CKM_HKDF_KEY_GEN 0x0000402cUL
#endif
#ifndef CKM_SP800_108_COUNTER_KDF
#define CKM_SP800_108_COUNTER_KDF 0x000003acUL
#endif
#ifndef CKM_SP800_108_FEEDBACK_KDF
#define CKM_SP800_108_FEEDBACK_KDF 0x000003adUL
#endif
#ifndef CKM_CHACHA20_POLY1305
#define CKM_CHACHA20_POLY1305 0x00004021UL
#endif
#ifndef CKM_CHACHA20_KEY_GEN
#define CKM_CHACHA20_KEY_GEN 0x00001225UL
#endif
#ifndef CKK_CHACHA20
#define CKK_CHACHA20 0x00000033UL
#endif
#ifndef CKK_HKDF
#define CKK_HKDF 0x00000042UL
#endif
#ifndef CKR_OPERATION_CANCEL_FAILED
#define CKR_OPERATION_CANCEL_FAILED 0x00000202UL
#endif

#ifndef CKF_HKDF_SALT_NULL
#define CKF_HKDF_SALT_NULL 0x00000001UL
#define CKF_HKDF_SALT_DATA 0x00000002UL
#define CKF_HKDF_SALT_KEY 0x00000004UL
/* PKCS#11 3.0 section 2.43.3. */
typedef struct CK_HKDF_PARAMS {
    CK_BBOOL bExtract;
    CK_BBOOL bExpand;
    CK_MECHANISM_TYPE prfHashMechanism;
    CK_ULONG ulSaltType;
    CK_BYTE_PTR pSalt;
    CK_ULONG ulSaltLen;
    CK_OBJECT_HANDLE hSaltKey;
    CK_BYTE_PTR pInfo;
    CK_ULONG ulInfoLen;
} CK_HKDF_PARAMS;
#endif

#ifndef CKM_CHACHA20_POLY1305_PARAMS_DEFINED
#define CKM_CHACHA20_POLY1305_PARAMS_DEFINED
/* PKCS#11 3.0 section 2.30 (CKM_CHACHA20_POLY1305 parameters). */
typedef struct CK_SALSA20_CHACHA20_POLY1305_PARAMS {
    CK_BYTE_PTR pNonce;
    CK_ULONG ulNonceLen;
    CK_BYTE_PTR pAAD;
    CK_ULONG ulAADLen;
} CK_SALSA20_CHACHA20_POLY1305_PARAMS;
#endif

#endif
