/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AEAD (AES-GCM, ChaCha20-Poly1305) on token keys: the per-message hot path.
 * On a token with the PKCS#11 3.0 message functions (chosen by the
 * capability probe): one C_EncryptMessage / C_DecryptMessage on a message
 * operation kept active per key in a session of its own. Otherwise, or
 * while another thread holds the key's operation: one borrowed session,
 * one Init + one operation. No allocation per message.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* At most this many sessions per token hold a message operation; keys
 * beyond it use Init + operation (docs/token-layer.md 5). */
#define MSG_SESSIONS_MAX 64

/* A key's message operation: a session of its own with C_Message*Init
 * done for the key, used by one thread at a time (lock). */
struct gp11_msgop {
    pthread_mutex_t lock;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key; /* the key the operation was started with */
    unsigned generation;  /* fork generation of the session */
    bool active, decrypt;
    bool refused; /* the token refused C_Message*Init for this key */
};

unsigned gp11_token_msg_api(const struct gp11_token *tok)
{
    return tok->msg_api;
}

void gp11_token_msg_api_limit(struct gp11_token *tok, unsigned mask)
{
    tok->msg_api &= mask;
}

void gp11_msgop_stats(const struct gp11_token *tok, size_t *open,
                      size_t *opened)
{
    *open = __atomic_load_n(&tok->n_msg, __ATOMIC_RELAXED);
    *opened = __atomic_load_n(&tok->msg_opened, __ATOMIC_RELAXED);
}

/* The key's message operation record, made on first use (NULL: out of
 * memory, use Init + operation). */
static struct gp11_msgop *msgop_of(const struct gp11_object *key)
{
    struct gp11_object *k = (struct gp11_object *)key;
    struct gp11_msgop *m = __atomic_load_n(&k->msg, __ATOMIC_ACQUIRE), *fresh;

    if (m)
        return m;
    fresh = calloc(1, sizeof(*fresh));
    if (fresh == NULL)
        return NULL;
    pthread_mutex_init(&fresh->lock, NULL);
    fresh->s = CK_INVALID_HANDLE;
    if (__atomic_compare_exchange_n(&k->msg, &m, fresh, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return fresh;
    pthread_mutex_destroy(&fresh->lock);
    free(fresh);
    return m;
}

/* Ends m's operation: C_Message*Final and C_CloseSession, unless the
 * session is gone (gone) or from before fork() (never touched). */
static void msgop_close(struct gp11_token *tok, struct gp11_msgop *m, bool gone)
{
    if (!m->active)
        return;
    if (!gone && m->generation == gp11_fork_generation()) {
        if (m->decrypt)
            gp11_ck_MessageDecryptFinal(tok->mod, m->s);
        else
            gp11_ck_MessageEncryptFinal(tok->mod, m->s);
        gp11_ck_CloseSession(tok->mod, m->s);
    }
    __atomic_fetch_sub(&tok->n_msg, 1, __ATOMIC_RELAXED);
    m->active = false;
    m->s = CK_INVALID_HANDLE;
}

/* Makes m's operation the one for key and direction (m->lock held):
 * CKR_OK, or why not (the caller then uses Init + operation). */
static CK_RV msgop_start(struct gp11_token *tok, struct gp11_msgop *m,
                         enum gp11_aead alg, const struct gp11_object *key,
                         bool decrypt)
{
    CK_MECHANISM mech = {alg == GP11_AEAD_CHACHA20_POLY1305
                             ? CKM_CHACHA20_POLY1305
                             : CKM_AES_GCM,
                         NULL, 0};
    CK_SESSION_HANDLE s;
    CK_RV rv;

    if (m->active && m->key == key->handle && m->decrypt == decrypt &&
        m->generation == gp11_fork_generation())
        return CKR_OK;
    /* Another key or direction in this record (a reused object): the
     * operation must never serve another key than it was made for. */
    msgop_close(tok, m, false);
    if (m->refused)
        return CKR_FUNCTION_REJECTED;
    if (__atomic_fetch_add(&tok->n_msg, 1, __ATOMIC_RELAXED) >=
        MSG_SESSIONS_MAX) {
        __atomic_fetch_sub(&tok->n_msg, 1, __ATOMIC_RELAXED);
        return CKR_SESSION_COUNT;
    }
    rv = gp11_ck_OpenSession(tok->mod, tok->slot, CKF_SERIAL_SESSION, &s);
    if (rv != CKR_OK) {
        __atomic_fetch_sub(&tok->n_msg, 1, __ATOMIC_RELAXED);
        return rv;
    }
    rv = decrypt ? gp11_ck_MessageDecryptInit(tok->mod, s, &mech, key->handle)
                 : gp11_ck_MessageEncryptInit(tok->mod, s, &mech, key->handle);
    if (rv != CKR_OK) {
        gp11_ck_CloseSession(tok->mod, s);
        __atomic_fetch_sub(&tok->n_msg, 1, __ATOMIC_RELAXED);
        m->refused = !gp11_rv_session_gone(rv);
        return rv;
    }
    __atomic_fetch_add(&tok->msg_opened, 1, __ATOMIC_RELAXED);
    m->s = s;
    m->key = key->handle;
    m->decrypt = decrypt;
    m->generation = gp11_fork_generation();
    m->active = true;
    return CKR_OK;
}

/* After a message call on m: a session the token lost is forgotten, any
 * other failure but a bad tag ends the operation (state unknown). */
static void msgop_after(struct gp11_token *tok, struct gp11_msgop *m, CK_RV rv,
                        bool bad_tag)
{
    if (rv == CKR_OK || bad_tag)
        return;
    msgop_close(tok, m, gp11_rv_session_gone(rv));
}

void gp11_msgop_end(struct gp11_token *tok, struct gp11_object *key)
{
    struct gp11_msgop *m = key->msg;

    if (m == NULL)
        return;
    key->msg = NULL;
    pthread_mutex_lock(&m->lock);
    msgop_close(tok, m, false);
    pthread_mutex_unlock(&m->lock);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* The key's message operation locked for this thread, ready for key and
 * direction; NULL: use Init + operation (no 3.0 path for alg, another
 * thread holds it, or the token would not start one). */
static struct gp11_msgop *msgop_take(struct gp11_token *tok, enum gp11_aead alg,
                                     const struct gp11_object *key,
                                     bool decrypt)
{
    struct gp11_msgop *m;

    if (!(tok->msg_api & (1u << alg)) || (m = msgop_of(key)) == NULL ||
        pthread_mutex_trylock(&m->lock) != 0)
        return NULL;
    if (msgop_start(tok, m, alg, key, decrypt) != CKR_OK) {
        pthread_mutex_unlock(&m->lock);
        return NULL;
    }
    return m;
}

/* The per-message parameters: our nonce (CKG_NO_GENERATE: the token
 * must not choose it) and where the tag goes or comes from. */
struct msg_params {
    CK_GCM_MESSAGE_PARAMS gcm;
    CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS chacha;
};

static void *msg_params(struct msg_params *p, enum gp11_aead alg, uint8_t *iv,
                        uint8_t *tag, CK_ULONG *len)
{
    if (alg == GP11_AEAD_CHACHA20_POLY1305) {
        p->chacha =
            (CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS){iv, GP11_GCM_IV_LEN, tag};
        *len = sizeof(p->chacha);
        return &p->chacha;
    }
    p->gcm = (CK_GCM_MESSAGE_PARAMS){
        iv, GP11_GCM_IV_LEN, 0, CKG_NO_GENERATE, tag, GP11_GCM_TAG_LEN * 8};
    *len = sizeof(p->gcm);
    return &p->gcm;
}

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

/*
 * One AEAD encryption: ciphertext into out (in_len bytes, may be in),
 * tag into tag. The message API writes them where they go; Init + op
 * writes ciphertext || tag in one piece, so unless tag == out + in_len
 * it goes through stage (in_len + 16 bytes) first.
 */
static uint32_t aead_encrypt(struct gp11_token *tok, enum gp11_aead alg,
                             const struct gp11_object *key,
                             const uint8_t iv[GP11_GCM_IV_LEN],
                             const uint8_t *aad, size_t aad_len,
                             const uint8_t *in, size_t in_len, uint8_t *out,
                             uint8_t *tag, uint8_t *stage)
{
    uint8_t iv_copy[GP11_GCM_IV_LEN];
    struct aead_mech a;
    CK_ULONG out_len = in_len + GP11_GCM_TAG_LEN, plen;
    bool joined = tag == out + in_len;
    uint8_t *dst = joined ? out : stage;
    struct msg_params mp;
    struct gp11_msgop *m;
    CK_SESSION_HANDLE s;
    void *param;
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
    if (out == NULL && in_len == 0)
        out = tag;
    if ((m = msgop_take(tok, alg, key, false)) != NULL) {
        call = "C_EncryptMessage";
        param = msg_params(&mp, alg, iv_copy, tag, &plen);
        out_len = in_len;
        rv = gp11_ck_EncryptMessage(tok->mod, m->s, param, plen, (CK_BYTE *)aad,
                                    aad_len, (CK_BYTE *)in, in_len, out,
                                    &out_len);
        msgop_after(tok, m, rv, false);
        pthread_mutex_unlock(&m->lock);
        out_len += GP11_GCM_TAG_LEN;
        goto sent;
    }
    if (dst == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "AEAD encryption with the tag apart from the "
                            "ciphertext needs a staging buffer");
    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_EncryptInit(tok->mod, s, &a.m, key->handle);
    /* Some HSMs choose the IV themselves and write it back. */
    if (rv == CKR_OK && memcmp(iv_copy, iv, sizeof(iv_copy)) != 0) {
        gp11_ck_Encrypt(tok->mod, s, (CK_BYTE *)in, in_len, dst, &out_len);
        gp11_session_put(tok, s, CKR_OK);
        return gp11_err_set(GP11_ERR_IV_CHANGED,
                            "the token replaced the AES-GCM IV; this token "
                            "is not supported for message protection yet");
    }
    if (rv == CKR_OK) {
        call = "C_Encrypt";
        rv = gp11_ck_Encrypt(tok->mod, s, (CK_BYTE *)in, in_len, dst, &out_len);
    }
    gp11_session_put(tok, s, rv);
    if (rv == CKR_OK && !joined && out_len == in_len + GP11_GCM_TAG_LEN) {
        if (in_len)
            memmove(out, dst, in_len);
        memcpy(tag, dst + in_len, GP11_GCM_TAG_LEN);
    }
sent:
    if (rv == CKR_OK && memcmp(iv_copy, iv, sizeof(iv_copy)) != 0)
        return gp11_err_set(GP11_ERR_IV_CHANGED,
                            "the token replaced the AEAD nonce (%s); this "
                            "token is not supported for message protection "
                            "yet",
                            call);
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

uint32_t gp11_aead_encrypt(struct gp11_token *tok, enum gp11_aead alg,
                           const struct gp11_object *key,
                           const uint8_t iv[GP11_GCM_IV_LEN],
                           const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t in_len, uint8_t *out)
{
    return aead_encrypt(tok, alg, key, iv, aad, aad_len, in, in_len, out,
                        out + in_len, NULL);
}

uint32_t gp11_aead_encrypt_split(struct gp11_token *tok, enum gp11_aead alg,
                                 const struct gp11_object *key,
                                 const uint8_t iv[GP11_GCM_IV_LEN],
                                 const uint8_t *aad, size_t aad_len,
                                 const uint8_t *in, size_t in_len, uint8_t *out,
                                 uint8_t *tag, uint8_t *stage)
{
    return aead_encrypt(tok, alg, key, iv, aad, aad_len, in, in_len, out, tag,
                        stage);
}

/* True if rv is how this token reports a GCM tag that does not verify:
 * the 2.40 code, the 3.0 code of the AEAD calls (C_DecryptMessage), or a
 * quirk's. */
static bool is_bad_tag(const struct gp11_token *tok, CK_RV rv)
{
    return rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_AEAD_DECRYPT_FAILED ||
           (rv == CKR_GENERAL_ERROR &&
            (tok->quirks & GP11_QUIRK_GCM_TAG_GENERAL_ERROR));
}

/*
 * One AEAD decryption of ct (ct_len bytes) with its tag into out (room
 * for ct_len + 16: SoftHSM2 wants room for the whole input; NULL only
 * when ct_len is 0). The message API takes the tag where it is; Init +
 * op wants ciphertext || tag in one piece, so unless tag == ct + ct_len
 * they are joined in join (ct_len + 16 bytes) first. taken non-NULL: the
 * message operation only; *taken says whether it was used, and if not,
 * nothing was sent for the message and nothing written to out.
 */
static uint32_t aead_decrypt(struct gp11_token *tok, enum gp11_aead alg,
                             const struct gp11_object *key,
                             const uint8_t iv[GP11_GCM_IV_LEN],
                             const uint8_t *aad, size_t aad_len,
                             const uint8_t *ct, size_t ct_len,
                             const uint8_t *tag, uint8_t *out, uint8_t *join,
                             bool *taken)
{
    uint8_t iv_copy[GP11_GCM_IV_LEN], scratch[GP11_GCM_TAG_LEN];
    struct aead_mech a;
    CK_ULONG out_len = ct_len + GP11_GCM_TAG_LEN, plen;
    const uint8_t *in = ct;
    struct msg_params mp;
    struct gp11_msgop *m;
    CK_SESSION_HANDLE s;
    void *param;
    const char *call = "C_DecryptInit";
    bool checked = false; /* the call that checks the tag was made */
    uint32_t ret;
    CK_RV rv;

    if (taken)
        *taken = false;
    if (tag == NULL || (out == NULL && ct_len > 0))
        return gp11_err_set(GP11_ERR_BAD_ARG, "AES-GCM input without its "
                                              "tag, or no output buffer");
    if (ct == NULL)
        ct = in = tag; /* 0 bytes: any address but NULL */
    ret = gp11_object_check(tok, key);
    if (ret != GP11_OK)
        return ret;
    memcpy(iv_copy, iv, sizeof(iv_copy));
    aead_params(&a, alg, iv_copy, aad, aad_len);
    if ((m = msgop_take(tok, alg, key, true)) != NULL) {
        call = "C_DecryptMessage";
        checked = true;
        if (taken)
            *taken = true;
        param = msg_params(&mp, alg, iv_copy, (uint8_t *)tag, &plen);
        out_len = ct_len;
        /* Never a NULL output, even for 0 bytes: that is a length query
         * (PKCS#11 5.2), which NSS softoken answers CKR_OK without
         * checking the tag. */
        rv = gp11_ck_DecryptMessage(tok->mod, m->s, param, plen, (CK_BYTE *)aad,
                                    aad_len, (CK_BYTE *)ct, ct_len,
                                    out ? out : scratch, &out_len);
        msgop_after(tok, m, rv, is_bad_tag(tok, rv));
        pthread_mutex_unlock(&m->lock);
        goto received;
    }
    if (taken)
        return GP11_OK; /* the caller stages and runs Init + op */
    if (ct_len == 0) {
        in = tag;
    } else if (tag != ct + ct_len) {
        if (join == NULL)
            return gp11_err_set(GP11_ERR_BAD_ARG,
                                "AEAD decryption with the tag apart from "
                                "the ciphertext needs a joining buffer");
        memcpy(join, ct, ct_len);
        memcpy(join + ct_len, tag, GP11_GCM_TAG_LEN);
        in = join;
    }
    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_DecryptInit(tok->mod, s, &a.m, key->handle);
    if (rv == CKR_OK) {
        call = "C_Decrypt";
        checked = true;
        rv = gp11_ck_Decrypt(tok->mod, s, (CK_BYTE *)in,
                             ct_len + GP11_GCM_TAG_LEN, out ? out : scratch,
                             &out_len);
    }
    gp11_session_put(tok, s, rv);
received:
    /* Only the decryption checks the tag: a failed Init is the token's. */
    if (rv != CKR_OK && checked && is_bad_tag(tok, rv))
        return gp11_err_ck(GP11_ERR_BAD_TAG, rv, call,
                           "the message was altered or is not from this "
                           "context: its AEAD tag does not verify");
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, call,
                           "the token refused AEAD decryption");
    if (out_len != ct_len)
        return gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                            "the token returned %lu bytes of plaintext for "
                            "%zu bytes of AES-GCM ciphertext",
                            (unsigned long)out_len, ct_len);
    return GP11_OK;
}

uint32_t gp11_aead_decrypt(struct gp11_token *tok, enum gp11_aead alg,
                           const struct gp11_object *key,
                           const uint8_t iv[GP11_GCM_IV_LEN],
                           const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t in_len, uint8_t *out)
{
    if (in == NULL || in_len < GP11_GCM_TAG_LEN ||
        (out == NULL && in_len > GP11_GCM_TAG_LEN))
        return gp11_err_set(GP11_ERR_BAD_ARG, "AES-GCM input shorter than "
                                              "its tag, or no output buffer");
    return aead_decrypt(tok, alg, key, iv, aad, aad_len, in,
                        in_len - GP11_GCM_TAG_LEN,
                        in + in_len - GP11_GCM_TAG_LEN, out, NULL, NULL);
}

uint32_t gp11_aead_decrypt_split(struct gp11_token *tok, enum gp11_aead alg,
                                 const struct gp11_object *key,
                                 const uint8_t iv[GP11_GCM_IV_LEN],
                                 const uint8_t *aad, size_t aad_len,
                                 const uint8_t *ct, size_t ct_len,
                                 const uint8_t *tag, uint8_t *out,
                                 uint8_t *join)
{
    return aead_decrypt(tok, alg, key, iv, aad, aad_len, ct, ct_len, tag, out,
                        join, NULL);
}

uint32_t gp11_aead_decrypt_msg(struct gp11_token *tok, enum gp11_aead alg,
                               const struct gp11_object *key,
                               const uint8_t iv[GP11_GCM_IV_LEN],
                               const uint8_t *aad, size_t aad_len,
                               const uint8_t *ct, size_t ct_len,
                               const uint8_t *tag, uint8_t *out, bool *taken)
{
    return aead_decrypt(tok, alg, key, iv, aad, aad_len, ct, ct_len, tag, out,
                        NULL, taken);
}
