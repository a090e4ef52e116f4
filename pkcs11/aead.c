/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AEAD (AES-GCM, ChaCha20-Poly1305) on token keys: the per-message hot path.
 * One borrowed session, one Init + one operation, no allocation.
 */
#include "internal.h"

#include <string.h>

/* The mechanism and its parameters for one AEAD operation. */
struct aead_mech {
    CK_MECHANISM m;
    CK_GCM_PARAMS gcm; /* the 2.40 (48-byte) layout */
    CK_SALSA20_CHACHA20_POLY1305_PARAMS chacha;
};

/* Fills the mechanism for alg with a 12-byte nonce and a 128-bit tag. */
static void aead_params(struct aead_mech *a, enum gp11_aead alg, uint8_t *iv,
                        const uint8_t *aad, size_t aad_len)
{
    if (alg == GP11_AEAD_CHACHA20_POLY1305) {
        a->chacha.pNonce = iv;
        a->chacha.ulNonceLen = GP11_GCM_IV_LEN;
        a->chacha.pAAD = (CK_BYTE *)aad;
        a->chacha.ulAADLen = aad_len;
        a->m = (CK_MECHANISM){CKM_CHACHA20_POLY1305, &a->chacha,
                              sizeof(a->chacha)};
        return;
    }
    a->gcm.pIv = iv;
    a->gcm.ulIvLen = GP11_GCM_IV_LEN;
    a->gcm.ulIvBits = GP11_GCM_IV_LEN * 8;
    a->gcm.pAAD = (CK_BYTE *)aad;
    a->gcm.ulAADLen = aad_len;
    a->gcm.ulTagBits = GP11_GCM_TAG_LEN * 8;
    a->m = (CK_MECHANISM){CKM_AES_GCM, &a->gcm, sizeof(a->gcm)};
}

uint32_t gp11_aead_encrypt(struct gp11_token *tok, enum gp11_aead alg,
                           const struct gp11_object *key,
                           const uint8_t iv[GP11_GCM_IV_LEN],
                           const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t in_len, uint8_t *out)
{
    uint8_t iv_copy[GP11_GCM_IV_LEN];
    struct aead_mech a;
    CK_ULONG out_len = in_len + GP11_GCM_TAG_LEN;
    CK_SESSION_HANDLE s;
    const char *call = "C_EncryptInit";
    uint32_t ret;
    CK_RV rv;

    ret = gp11_object_check(tok, key);
    if (ret != GP11_OK)
        return ret;
    memcpy(iv_copy, iv, sizeof(iv_copy));
    aead_params(&a, alg, iv_copy, aad, aad_len);
    /* The empty GSS buffer is {0, NULL}, but tokens refuse pData NULL
     * even for 0 bytes (SoftHSM2: CKR_ARGUMENTS_BAD). */
    if (in == NULL && in_len == 0)
        in = iv_copy;
    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_EncryptInit(tok->mod, s, &a.m, key->handle);
    /* Some HSMs choose the IV themselves and write it back. */
    if (rv == CKR_OK && memcmp(iv_copy, iv, sizeof(iv_copy)) != 0) {
        gp11_ck_Encrypt(tok->mod, s, (CK_BYTE *)in, in_len, out, &out_len);
        gp11_session_put(tok, s, CKR_OK);
        return gp11_err_set(GP11_ERR_IV_CHANGED,
                            "the token replaced the AES-GCM IV; this token "
                            "is not supported for message protection yet");
    }
    if (rv == CKR_OK) {
        call = "C_Encrypt";
        rv = gp11_ck_Encrypt(tok->mod, s, (CK_BYTE *)in, in_len, out, &out_len);
    }
    gp11_session_put(tok, s, rv);
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, call,
                           "the token refused AEAD encryption");
    if (out_len != in_len + GP11_GCM_TAG_LEN)
        return gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                            "the token returned %lu bytes of AES-GCM output "
                            "for %zu bytes of input",
                            (unsigned long)out_len, in_len);
    return GP11_OK;
}

/* True if rv is how this token reports a GCM tag that does not verify. */
static bool is_bad_tag(const struct gp11_token *tok, CK_RV rv)
{
    return rv == CKR_ENCRYPTED_DATA_INVALID ||
           (rv == CKR_GENERAL_ERROR &&
            (tok->quirks & GP11_QUIRK_GCM_TAG_GENERAL_ERROR));
}

uint32_t gp11_aead_decrypt(struct gp11_token *tok, enum gp11_aead alg,
                           const struct gp11_object *key,
                           const uint8_t iv[GP11_GCM_IV_LEN],
                           const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t in_len, uint8_t *out)
{
    uint8_t iv_copy[GP11_GCM_IV_LEN], scratch[GP11_GCM_TAG_LEN];
    struct aead_mech a;
    /* SoftHSM2 wants room for the whole input (tag included), so out is
     * sized in_len (see gp11_pkcs11.h); a tag-only input needs scratch. */
    CK_ULONG out_len = in_len;
    CK_SESSION_HANDLE s;
    const char *call = "C_DecryptInit";
    uint32_t ret;
    CK_RV rv;

    if (in_len < GP11_GCM_TAG_LEN || (out == NULL && in_len > sizeof(scratch)))
        return gp11_err_set(GP11_ERR_BAD_ARG, "AES-GCM input shorter than "
                                              "its tag, or no output buffer");
    ret = gp11_object_check(tok, key);
    if (ret != GP11_OK)
        return ret;
    memcpy(iv_copy, iv, sizeof(iv_copy));
    aead_params(&a, alg, iv_copy, aad, aad_len);
    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_DecryptInit(tok->mod, s, &a.m, key->handle);
    if (rv == CKR_OK) {
        call = "C_Decrypt";
        rv = gp11_ck_Decrypt(tok->mod, s, (CK_BYTE *)in, in_len,
                             out ? out : scratch, &out_len);
    }
    gp11_session_put(tok, s, rv);
    /* Only C_Decrypt checks the tag: a failed Init is the token's. */
    if (rv != CKR_OK && strcmp(call, "C_Decrypt") == 0 && is_bad_tag(tok, rv))
        return gp11_err_ck(GP11_ERR_BAD_TAG, rv, call,
                           "the message was altered or is not from this "
                           "context: its AEAD tag does not verify");
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, call,
                           "the token refused AEAD decryption");
    if (out_len != in_len - GP11_GCM_TAG_LEN)
        return gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                            "the token returned %lu bytes of plaintext for "
                            "%zu bytes of AES-GCM input",
                            (unsigned long)out_len, in_len);
    return GP11_OK;
}
