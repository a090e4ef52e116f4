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
#ifndef CKR_AEAD_DECRYPT_FAILED
#define CKR_AEAD_DECRYPT_FAILED 0x00000042UL
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

/* ---- PKCS#11 3.0 interfaces and message-based functions ---------------- */

#ifndef CKF_MESSAGE_ENCRYPT
#define CKF_MESSAGE_ENCRYPT 0x00000002UL
#define CKF_MESSAGE_DECRYPT 0x00000004UL
#define CKF_MESSAGE_SIGN 0x00000008UL
#define CKF_MESSAGE_VERIFY 0x00000010UL
#endif

#ifndef CKG_NO_GENERATE
typedef CK_ULONG CK_GENERATOR_FUNCTION;
#define CKG_NO_GENERATE 0x00000000UL
#define CKG_GENERATE 0x00000001UL
#define CKG_GENERATE_COUNTER 0x00000002UL
#define CKG_GENERATE_RANDOM 0x00000003UL
/* PKCS#11 3.0 section 2.12.4 (AES-GCM per message). */
typedef struct CK_GCM_MESSAGE_PARAMS {
    CK_BYTE_PTR pIv;
    CK_ULONG ulIvLen;
    CK_ULONG ulIvFixedBits;
    CK_GENERATOR_FUNCTION ivGenerator;
    CK_BYTE_PTR pTag;
    CK_ULONG ulTagBits;
} CK_GCM_MESSAGE_PARAMS;
/* PKCS#11 3.0 section 2.30 (ChaCha20-Poly1305 per message). */
typedef struct CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS {
    CK_BYTE_PTR pNonce;
    CK_ULONG ulNonceLen;
    CK_BYTE_PTR pTag;
} CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS;
#endif

/* PKCS#11 3.0 section 5.4: what C_GetInterface returns. */
typedef struct gp11_ck_interface {
    CK_UTF8CHAR *pInterfaceName;
    void *pFunctionList;
    CK_FLAGS flags;
} gp11_ck_interface;

typedef CK_RV (*gp11_ck_GetInterface_fn)(CK_UTF8CHAR *name, CK_VERSION *version,
                                         gp11_ck_interface **iface,
                                         CK_FLAGS flags);

/*
 * CK_FUNCTION_LIST_3_0 (PKCS#11 3.0 section 5.2): the 2.40 list (all
 * pointers after the version, so its layout is a prefix) followed by the
 * 3.0 functions in the standard's order. Only the message-based ones are
 * typed; the others are placeholders of pointer size.
 */
struct gp11_fns30 {
    CK_FUNCTION_LIST v2;
    void (*C_GetInterfaceList)(void);
    void (*C_GetInterface)(void);
    void (*C_LoginUser)(void);
    void (*C_SessionCancel)(void);
    CK_RV (*C_MessageEncryptInit)
    (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
    CK_RV (*C_EncryptMessage)
    (CK_SESSION_HANDLE, void *param, CK_ULONG plen, CK_BYTE *aad,
     CK_ULONG aad_len, CK_BYTE *pt, CK_ULONG pt_len, CK_BYTE *ct,
     CK_ULONG *ct_len);
    void (*C_EncryptMessageBegin)(void);
    void (*C_EncryptMessageNext)(void);
    CK_RV (*C_MessageEncryptFinal)(CK_SESSION_HANDLE);
    CK_RV (*C_MessageDecryptInit)
    (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
    CK_RV (*C_DecryptMessage)
    (CK_SESSION_HANDLE, void *param, CK_ULONG plen, CK_BYTE *aad,
     CK_ULONG aad_len, CK_BYTE *ct, CK_ULONG ct_len, CK_BYTE *pt,
     CK_ULONG *pt_len);
    void (*C_DecryptMessageBegin)(void);
    void (*C_DecryptMessageNext)(void);
    CK_RV (*C_MessageDecryptFinal)(CK_SESSION_HANDLE);
    CK_RV (*C_MessageSignInit)
    (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
    CK_RV (*C_SignMessage)
    (CK_SESSION_HANDLE, void *param, CK_ULONG plen, CK_BYTE *data, CK_ULONG len,
     CK_BYTE *sig, CK_ULONG *sig_len);
    void (*C_SignMessageBegin)(void);
    void (*C_SignMessageNext)(void);
    CK_RV (*C_MessageSignFinal)(CK_SESSION_HANDLE);
    void (*C_MessageVerifyInit)(void);
    void (*C_VerifyMessage)(void);
    void (*C_VerifyMessageBegin)(void);
    void (*C_VerifyMessageNext)(void);
    void (*C_MessageVerifyFinal)(void);
};

#endif
