/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The raw side of the benchmark (gp11_bench.h): AES-256-GCM straight on a
 * session, with the same parameters the per-message tokens use, so that
 * the cost of everything around the token can be measured.
 */
#include "gp11_bench.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_HDR_LEN 16
/* ROLE and LENGTH of one run in the authenticated string. */
#define BENCH_RUN_LEN 9

/* Monotonic time in seconds. */
static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint32_t gp11_bench_key_ex(struct gp11_token *tok, enum gp11_bench_private priv,
                           struct gp11_object *key)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ULONG value_len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    /* The template of keysched.c derive_key(), encrypt and decrypt. */
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_DECRYPT, &yes, sizeof(yes)},
        {CKA_SIGN, &no, sizeof(no)},
        {CKA_VERIFY, &no, sizeof(no)},
        {CKA_DERIVE, &no, sizeof(no)},
        {CKA_PRIVATE, priv == GP11_BENCH_PRIVATE_TRUE ? &yes : &no,
         sizeof(yes)},
    };
    CK_ULONG n = sizeof(t) / sizeof(t[0]);
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    if (priv == GP11_BENCH_PRIVATE_DEFAULT)
        n--; /* CKA_PRIVATE is last: leave it to the token */
    ret = gp11_template_check(t, n, CKO_SECRET_KEY);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_owner_acquire(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_GenerateKey(tok->mod, s, &m, t, n, &key->handle);
    gp11_owner_track_locked(tok, key, rv == CKR_OK);
    gp11_owner_release(tok, rv);
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_GenerateKey",
                           "the token refused to generate an AES-256 key");
    return GP11_OK;
}

uint32_t gp11_bench_key(struct gp11_token *tok, struct gp11_object *key)
{
    return gp11_bench_key_ex(tok, GP11_BENCH_PRIVATE_DEFAULT, key);
}

int gp11_bench_key_private(struct gp11_token *tok,
                           const struct gp11_object *key)
{
    void *v = NULL;
    CK_ULONG len = 0;
    int priv = -1;

    if (gp11_object_get_attr(tok, key, CKA_PRIVATE, &v, &len) == GP11_OK &&
        len == sizeof(CK_BBOOL))
        priv = *(CK_BBOOL *)v ? 1 : 0;
    free(v);
    return priv;
}

/* Counts the AES secret keys whose CKA_PRIVATE is value. */
static uint32_t count_keys(struct gp11_token *tok, CK_BBOOL value, size_t *n)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_PRIVATE, &value, sizeof(value)},
    };
    struct gp11_object *found = NULL;
    uint32_t ret;

    ret = gp11_object_find(tok, t, sizeof(t) / sizeof(t[0]), &found, n);
    free(found);
    return ret;
}

uint32_t gp11_bench_count_aes_keys(struct gp11_token *tok, size_t *priv,
                                   size_t *pub)
{
    uint32_t ret = count_keys(tok, CK_TRUE, priv);

    return ret == GP11_OK ? count_keys(tok, CK_FALSE, pub) : ret;
}

/* Buffers and parameters of one run. */
struct bench_run {
    struct gp11_module *mod;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    CK_GCM_PARAMS gcm;
    CK_MECHANISM m;
    uint8_t iv[GP11_GCM_IV_LEN];
    uint8_t hdr[BENCH_HDR_LEN + BENCH_RUN_LEN];
    uint8_t *mic_aad; /* AAD of MIC and verify: mic_aad_len bytes */
    size_t mic_aad_len;
    size_t wrap_aad_len; /* AAD of wrap and unwrap: the first of hdr */
    uint8_t tag[GP11_GCM_TAG_LEN];
    uint8_t scratch[GP11_GCM_TAG_LEN];
    uint8_t *msg; /* size bytes (at least 1 allocated) */
    uint8_t *out; /* size + 16 bytes: ciphertext || tag */
    uint8_t *in;  /* size + 16 bytes: input of unwrap */
    size_t size;
    unsigned mode;            /* GP11_BENCH_MODE_* */
    CK_SESSION_HANDLE ms;     /* message API: the operation's session */
    bool ms_open, ms_decrypt; /* which operation runs on ms */
};

/* Points the GCM parameters at the IV and the given AAD. */
static void bench_params(struct bench_run *r, const uint8_t *aad, size_t len)
{
    r->gcm.pIv = r->iv;
    r->gcm.ulIvLen = GP11_GCM_IV_LEN;
    r->gcm.ulIvBits = GP11_GCM_IV_LEN * 8;
    r->gcm.pAAD = (CK_BYTE *)aad;
    r->gcm.ulAADLen = len;
    r->gcm.ulTagBits = GP11_GCM_TAG_LEN * 8;
    r->m = (CK_MECHANISM){CKM_AES_GCM, &r->gcm, sizeof(r->gcm)};
}

/* Encrypt Init + op: in of len bytes, AAD aad, into out (len + 16). */
static CK_RV bench_encrypt(struct bench_run *r, const uint8_t *aad,
                           size_t aad_len, const uint8_t *in, size_t len,
                           uint8_t *out)
{
    CK_ULONG out_len = len + GP11_GCM_TAG_LEN;
    CK_RV rv;

    bench_params(r, aad, aad_len);
    rv = gp11_ck_EncryptInit(r->mod, r->s, &r->m, r->key);
    if (rv == CKR_OK)
        rv = gp11_ck_Encrypt(r->mod, r->s, (CK_BYTE *)in, len, out, &out_len);
    if (rv == CKR_OK && out_len != len + GP11_GCM_TAG_LEN)
        rv = CKR_GENERAL_ERROR;
    return rv;
}

/* Decrypt Init + op: in of len bytes (tag included), into out (room for
 * len bytes, as SoftHSM2 wants). */
static CK_RV bench_decrypt(struct bench_run *r, const uint8_t *aad,
                           size_t aad_len, const uint8_t *in, size_t len,
                           uint8_t *out)
{
    CK_ULONG out_len = len;
    CK_RV rv;

    bench_params(r, aad, aad_len);
    rv = gp11_ck_DecryptInit(r->mod, r->s, &r->m, r->key);
    if (rv == CKR_OK)
        rv = gp11_ck_Decrypt(r->mod, r->s, (CK_BYTE *)in, len, out, &out_len);
    if (rv == CKR_OK && out_len != len - GP11_GCM_TAG_LEN)
        rv = CKR_GENERAL_ERROR;
    return rv;
}

/* Message API: C_Message*Init once on a session of its own. */
static CK_RV bench_msg_start(struct bench_run *r, struct gp11_token *tok,
                             bool decrypt)
{
    CK_MECHANISM m = {CKM_AES_GCM, NULL, 0};
    CK_RV rv;

    if (r->ms_open && r->ms_decrypt == decrypt)
        return CKR_OK;
    if (r->ms_open) {
        r->ms_decrypt ? gp11_ck_MessageDecryptFinal(r->mod, r->ms)
                      : gp11_ck_MessageEncryptFinal(r->mod, r->ms);
        gp11_ck_CloseSession(r->mod, r->ms);
        r->ms_open = false;
    }
    rv = gp11_ck_OpenSession(r->mod, tok->slot, CKF_SERIAL_SESSION, &r->ms);
    if (rv != CKR_OK)
        return rv;
    rv = decrypt ? gp11_ck_MessageDecryptInit(r->mod, r->ms, &m, r->key)
                 : gp11_ck_MessageEncryptInit(r->mod, r->ms, &m, r->key);
    if (rv != CKR_OK) {
        gp11_ck_CloseSession(r->mod, r->ms);
        return rv;
    }
    r->ms_open = true;
    r->ms_decrypt = decrypt;
    return CKR_OK;
}

/* One C_EncryptMessage (decrypt false) or C_DecryptMessage: the same
 * buffers as the Init + op pair, the tag after the data. */
static CK_RV bench_msg(struct bench_run *r, bool decrypt, const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t len,
                       uint8_t *out)
{
    size_t data = decrypt ? len - GP11_GCM_TAG_LEN : len;
    CK_GCM_MESSAGE_PARAMS p = {r->iv,
                               GP11_GCM_IV_LEN,
                               0,
                               CKG_NO_GENERATE,
                               decrypt ? (CK_BYTE *)in + data : out + data,
                               GP11_GCM_TAG_LEN * 8};
    CK_ULONG out_len = data;
    CK_RV rv;

    rv = decrypt ? gp11_ck_DecryptMessage(r->mod, r->ms, &p, sizeof(p),
                                          (CK_BYTE *)aad, aad_len,
                                          (CK_BYTE *)in, data, out, &out_len)
                 : gp11_ck_EncryptMessage(r->mod, r->ms, &p, sizeof(p),
                                          (CK_BYTE *)aad, aad_len,
                                          (CK_BYTE *)in, data, out, &out_len);
    if (rv == CKR_OK && out_len != data)
        rv = CKR_GENERAL_ERROR;
    return rv;
}

/* Encrypt by the run's pattern. */
static CK_RV run_encrypt(struct bench_run *r, const uint8_t *aad,
                         size_t aad_len, const uint8_t *in, size_t len,
                         uint8_t *out)
{
    if (r->mode & GP11_BENCH_MODE_MSGAPI)
        return bench_msg(r, false, aad, aad_len, in, len, out);
    return bench_encrypt(r, aad, aad_len, in, len, out);
}

/* Decrypt by the run's pattern. */
static CK_RV run_decrypt(struct bench_run *r, const uint8_t *aad,
                         size_t aad_len, const uint8_t *in, size_t len,
                         uint8_t *out)
{
    if (r->mode & GP11_BENCH_MODE_MSGAPI)
        return bench_msg(r, true, aad, aad_len, in, len, out);
    return bench_decrypt(r, aad, aad_len, in, len, out);
}

/* One operation with a fresh output buffer, as the GSS-API makes the
 * mechanism allocate the token or message it returns. */
static CK_RV bench_alloc_one(struct bench_run *r, int op)
{
    uint8_t *out;
    CK_RV rv;

    switch (op) {
    case GP11_BENCH_MIC:
        out = malloc(BENCH_HDR_LEN + GP11_GCM_TAG_LEN);
        rv =
            out ? run_encrypt(r, r->mic_aad, r->mic_aad_len, r->scratch, 0, out)
                : CKR_HOST_MEMORY;
        break;
    case GP11_BENCH_WRAP:
        out = malloc(BENCH_HDR_LEN + r->size + GP11_GCM_TAG_LEN);
        rv = out ? run_encrypt(r, r->hdr, r->wrap_aad_len, r->msg, r->size,
                               out + BENCH_HDR_LEN)
                 : CKR_HOST_MEMORY;
        break;
    default:
        out = malloc(r->size + GP11_GCM_TAG_LEN);
        rv = out ? run_decrypt(r, r->hdr, r->wrap_aad_len, r->in,
                               r->size + GP11_GCM_TAG_LEN, out)
                 : CKR_HOST_MEMORY;
        break;
    }
    free(out);
    return rv;
}

/* One operation of the loop; encryptions use a fresh IV each time. */
static CK_RV bench_one(struct bench_run *r, int op, uint64_t i)
{
    if (op == GP11_BENCH_MIC || op == GP11_BENCH_WRAP)
        memcpy(r->iv + 4, &i, sizeof(i));
    if ((r->mode & GP11_BENCH_MODE_ALLOC) && op != GP11_BENCH_VERIFY)
        return bench_alloc_one(r, op);
    if (r->mode & GP11_BENCH_MODE_MSGAPI) {
        if (op == GP11_BENCH_MIC)
            return run_encrypt(r, r->mic_aad, r->mic_aad_len, r->scratch, 0,
                               r->out);
        if (op == GP11_BENCH_VERIFY)
            return run_decrypt(r, r->mic_aad, r->mic_aad_len, r->tag,
                               GP11_GCM_TAG_LEN, r->scratch);
        if (op == GP11_BENCH_WRAP)
            return run_encrypt(r, r->hdr, r->wrap_aad_len, r->msg, r->size,
                               r->out);
        return run_decrypt(r, r->hdr, r->wrap_aad_len, r->in,
                           r->size + GP11_GCM_TAG_LEN, r->out);
    }
    switch (op) {
    case GP11_BENCH_MIC:
        memcpy(r->iv + 4, &i, sizeof(i));
        return bench_encrypt(r, r->mic_aad, r->mic_aad_len, r->scratch, 0,
                             r->out);
    case GP11_BENCH_VERIFY:
        return bench_decrypt(r, r->mic_aad, r->mic_aad_len, r->tag,
                             GP11_GCM_TAG_LEN, r->scratch);
    case GP11_BENCH_WRAP:
        memcpy(r->iv + 4, &i, sizeof(i));
        return bench_encrypt(r, r->hdr, r->wrap_aad_len, r->msg, r->size,
                             r->out);
    default:
        return bench_decrypt(r, r->hdr, r->wrap_aad_len, r->in,
                             r->size + GP11_GCM_TAG_LEN, r->out);
    }
}

/* Makes the inputs of the decrypting operations with one encryption. */
static CK_RV bench_prepare(struct bench_run *r, int op)
{
    CK_RV rv = CKR_OK;

    memset(r->iv, 0, sizeof(r->iv));
    if (op == GP11_BENCH_VERIFY) {
        rv =
            bench_encrypt(r, r->mic_aad, r->mic_aad_len, r->scratch, 0, r->out);
        memcpy(r->tag, r->out, GP11_GCM_TAG_LEN);
    } else if (op == GP11_BENCH_UNWRAP) {
        rv = bench_encrypt(r, r->hdr, r->wrap_aad_len, r->msg, r->size, r->in);
    }
    return rv;
}

/* The header and the AADs of the run (gp11_bench.h): those of
 * docs/protocol.md 3.1 for one data run, or with GP11_BENCH_MODE_MSG_AAD
 * the older ones. */
static uint32_t bench_aad(struct bench_run *r)
{
    size_t run = r->size ? BENCH_RUN_LEN : 0;

    for (size_t i = 0; i < BENCH_HDR_LEN; i++)
        r->hdr[i] = (uint8_t)(0xa0u + i);
    if (r->mode & GP11_BENCH_MODE_MSG_AAD) {
        r->mic_aad = r->msg;
        r->mic_aad_len = r->size;
        r->wrap_aad_len = BENCH_HDR_LEN;
        return GP11_OK;
    }
    r->hdr[BENCH_HDR_LEN] = 0x01; /* ROLE data, then LENGTH big-endian */
    for (int i = 0; i < 8; i++)
        r->hdr[BENCH_HDR_LEN + 1 + i] =
            (uint8_t)((uint64_t)r->size >> (56 - 8 * i));
    r->wrap_aad_len = BENCH_HDR_LEN + run;
    r->mic_aad_len = BENCH_HDR_LEN + run + r->size;
    r->mic_aad = malloc(r->mic_aad_len);
    if (r->mic_aad == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    memcpy(r->mic_aad, r->hdr, BENCH_HDR_LEN + run);
    if (r->size)
        memcpy(r->mic_aad + BENCH_HDR_LEN + run, r->msg, r->size);
    return GP11_OK;
}

uint32_t gp11_bench_gcm_ex(struct gp11_token *tok,
                           const struct gp11_object *key, int op, size_t size,
                           double seconds, void (*ready)(void *), void *arg,
                           uint64_t *ops, double *elapsed)
{
    return gp11_bench_gcm_mode(tok, key, op, size, seconds,
                               GP11_BENCH_MODE_ALLOC, ready, arg, ops, elapsed);
}

uint32_t gp11_bench_gcm_mode(struct gp11_token *tok,
                             const struct gp11_object *key, int op, size_t size,
                             double seconds, unsigned mode,
                             void (*ready)(void *), void *arg, uint64_t *ops,
                             double *elapsed)
{
    struct bench_run r = {
        .mod = tok->mod, .key = key->handle, .size = size, .mode = mode};
    double start = 0, t = 0;
    uint64_t n = 0;
    uint32_t ret;
    CK_RV rv;

    *ops = 0;
    if (elapsed)
        *elapsed = 0;
    if (op < GP11_BENCH_MIC || op > GP11_BENCH_UNWRAP ||
        size > SIZE_MAX - 2 * GP11_GCM_TAG_LEN) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "bad benchmark operation");
        goto done;
    }
    ret = gp11_object_check(tok, key);
    if (ret != GP11_OK)
        goto done;
    r.msg = malloc(size ? size : 1);
    r.out = malloc(size + GP11_GCM_TAG_LEN);
    r.in = malloc(size + GP11_GCM_TAG_LEN);
    if (r.msg == NULL || r.out == NULL || r.in == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < size; i++)
        r.msg[i] = (uint8_t)(i * 131u + 7u);
    ret = bench_aad(&r);
    if (ret != GP11_OK)
        goto done;
    if ((mode & GP11_BENCH_MODE_MSGAPI) &&
        !(tok->msg_api & (1u << GP11_AEAD_AES_GCM))) {
        ret = gp11_err_set(GP11_ERR_MECH_UNSUPPORTED,
                           "the token offers no AES-GCM message API");
        goto done;
    }
    ret = gp11_session_get(tok, &r.s);
    if (ret != GP11_OK)
        goto done;
    /* The inputs are made by Init + op; the loop then runs its pattern. */
    mode = r.mode;
    r.mode = 0;
    rv = bench_prepare(&r, op);
    r.mode = mode;
    if (rv == CKR_OK && (mode & GP11_BENCH_MODE_MSGAPI))
        rv = bench_msg_start(
            &r, tok, op == GP11_BENCH_VERIFY || op == GP11_BENCH_UNWRAP);
    if (ready) {
        ready(arg);
        ready = NULL;
    }
    start = t = bench_now();
    while (rv == CKR_OK && t - start < seconds) {
        rv = bench_one(&r, op, n);
        if (rv == CKR_OK)
            n++;
        t = bench_now();
    }
    gp11_session_put(tok, r.s, rv);
    if (r.ms_open) {
        r.ms_decrypt ? gp11_ck_MessageDecryptFinal(r.mod, r.ms)
                     : gp11_ck_MessageEncryptFinal(r.mod, r.ms);
        gp11_ck_CloseSession(r.mod, r.ms);
    }
    if (rv != CKR_OK) {
        ret = gp11_err_ck(
            GP11_ERR_TOKEN_REFUSED, rv,
            op == GP11_BENCH_MIC || op == GP11_BENCH_WRAP
                ? (mode & GP11_BENCH_MODE_MSGAPI ? "C_EncryptMessage"
                                                 : "C_Encrypt")
                : (mode & GP11_BENCH_MODE_MSGAPI ? "C_DecryptMessage"
                                                 : "C_Decrypt"),
            "the token refused AES-GCM in the benchmark");
        goto done;
    }
    *ops = n;
    if (elapsed)
        *elapsed = t - start;
done:
    /* Whatever happened, whoever waits on the hook is released. */
    if (ready)
        ready(arg);
    if (r.mic_aad != r.msg)
        free(r.mic_aad);
    free(r.msg);
    free(r.out);
    free(r.in);
    return ret;
}

uint32_t gp11_bench_gcm(struct gp11_token *tok, const struct gp11_object *key,
                        int op, size_t size, double seconds, uint64_t *ops)
{
    return gp11_bench_gcm_ex(tok, key, op, size, seconds, NULL, NULL, ops,
                             NULL);
}
