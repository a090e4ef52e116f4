/* SPDX-License-Identifier: Apache-2.0 */
/* Cryptographic operations on token keys: random, ECDH keys, derive, sign. */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One C_GenerateRandom in a pool session. */
static uint32_t random_once(struct gp11_token *tok, void *buf, size_t len)
{
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_GenerateRandom(tok->mod, s, buf, len);
    gp11_session_put(tok, s, rv);
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_GenerateRandom",
                           "the token cannot generate random bytes");
    return GP11_OK;
}

uint32_t gp11_random(struct gp11_token *tok, void *buf, size_t len)
{
    uint32_t ret = random_once(tok, buf, len);

    /* Safe to repeat: after lost sessions, once more on a new one. */
    if (ret != GP11_OK && (ret = gp11_token_recover(tok, ret)) == GP11_OK)
        ret = random_once(tok, buf, len);
    return ret;
}

/* The buffer of gp11_random_public: one token's bytes, handed out once. */
static struct {
    pthread_mutex_t lock;
    const struct gp11_token *tok; /* whose generator filled it */
    unsigned generation;          /* fork generation it was filled in */
    size_t left;                  /* unused bytes at the end of buf */
    uint8_t buf[GP11_RANDOM_POOL];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

uint32_t gp11_random_public(struct gp11_token *tok, void *buf, size_t len)
{
    uint32_t ret = GP11_OK;
    uint8_t *from;

    if (len > 64)
        return gp11_random(tok, buf, len);
    pthread_mutex_lock(&pool.lock);
    /* A child must not hand out what its parent may hand out too. */
    if (pool.tok != tok || pool.generation != gp11_fork_generation()) {
        gp11_wipe(pool.buf, sizeof(pool.buf));
        pool.left = 0;
    }
    if (pool.left < len) {
        pool.left = 0;
        ret = gp11_random(tok, pool.buf, sizeof(pool.buf));
        if (ret != GP11_OK)
            goto done;
        pool.tok = tok;
        pool.generation = gp11_fork_generation();
        pool.left = sizeof(pool.buf);
    }
    from = pool.buf + sizeof(pool.buf) - pool.left;
    memcpy(buf, from, len);
    gp11_wipe(from, len);
    pool.left -= len;
done:
    pthread_mutex_unlock(&pool.lock);
    return ret;
}

/* Strips the DER OCTET STRING around CKA_EC_POINT (tokens differ). */
static uint32_t unwrap_point(const uint8_t *v, size_t len, uint8_t *point,
                             size_t *point_len)
{
    size_t hdr = 0;

    if (len >= 2 && v[0] == 0x04 && (len == 65 || len == 97)) {
        hdr = 0; /* raw point (a 0x04 tag of length 65/97 cannot occur) */
    } else if (len >= 2 && v[0] == 0x04 && v[1] < 0x80 &&
               (size_t)v[1] + 2 == len) {
        hdr = 2;
    } else if (len >= 3 && v[0] == 0x04 && v[1] == 0x81 &&
               (size_t)v[2] + 3 == len) {
        hdr = 3;
    } else {
        return gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                            "the token returned an unreadable CKA_EC_POINT");
    }
    if (len - hdr != 65 && len - hdr != 97)
        return gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                            "the token returned a %zu-byte EC point",
                            len - hdr);
    memcpy(point, v + hdr, len - hdr);
    *point_len = len - hdr;
    return GP11_OK;
}

/* CKA_EC_POINT in one C_GetAttributeValue with a buffer large enough
 * for P-384 in an OCTET STRING; an error if it does not fit. */
static uint32_t read_point(struct gp11_token *tok,
                           const struct gp11_object *pub, uint8_t *point,
                           size_t *point_len)
{
    uint8_t v[128];
    CK_ATTRIBUTE a = {CKA_EC_POINT, v, sizeof(v)};
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_GetAttributeValue(tok->mod, s, pub->handle, &a, 1);
    gp11_session_put(tok, s, rv);
    if (rv != CKR_OK || a.ulValueLen > sizeof(v))
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_GetAttributeValue",
                           "cannot read CKA_EC_POINT of object %lu",
                           (unsigned long)pub->handle);
    return unwrap_point(v, a.ulValueLen, point, point_len);
}

uint32_t gp11_ec_ephemeral(struct gp11_token *tok, const uint8_t *curve_der,
                           size_t curve_len, struct gp11_object *priv,
                           uint8_t *point, size_t *point_len)
{
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    /* Its one job is ECDH (protocol.md 2.4). */
    CK_MECHANISM_TYPE allowed = CKM_ECDH1_DERIVE;
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_t[] = {
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_EC_PARAMS, (void *)curve_der, curve_len},
    };
    CK_ATTRIBUTE priv_t[] = {
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_DERIVE, &yes, sizeof(yes)},
        {CKA_SIGN, &no, sizeof(no)},
        {CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)},
    };
    struct gp11_object pub;
    CK_ULONG len = 0;
    void *v = NULL;
    uint32_t ret;

    ret = gp11_object_generate_pair(tok, &mech, pub_t, 2, priv_t,
                                    sizeof(priv_t) / sizeof(priv_t[0]), &pub,
                                    priv);
    if (ret != GP11_OK)
        return ret;
    /* One call into a buffer of the largest size (issue 11: every call is
     * a round trip on a network HSM); the size query only if it fails. */
    ret = read_point(tok, &pub, point, point_len);
    if (ret != GP11_OK) {
        ret = gp11_object_get_attr(tok, &pub, CKA_EC_POINT, &v, &len);
        if (ret == GP11_OK)
            ret = unwrap_point(v, len, point, point_len);
    }
    free(v);
    gp11_object_destroy(tok, &pub);
    if (ret != GP11_OK)
        gp11_object_destroy(tok, priv);
    return ret;
}

/* A derived key must say what it may do: a non-empty
 * CKA_ALLOWED_MECHANISMS (an empty or missing one allows everything). */
static uint32_t check_allowed(const CK_ATTRIBUTE *t, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (t[i].type == CKA_ALLOWED_MECHANISMS && t[i].pValue &&
            t[i].ulValueLen >= sizeof(CK_MECHANISM_TYPE))
            return GP11_OK;
    return gp11_err_set(GP11_ERR_BAD_TEMPLATE,
                        "refusing to derive a key without "
                        "CKA_ALLOWED_MECHANISMS (every key must name the "
                        "mechanisms it serves)");
}

uint32_t gp11_derive(struct gp11_token *tok, CK_MECHANISM *mech,
                     const struct gp11_object *base, CK_ATTRIBUTE *tmpl,
                     CK_ULONG count, struct gp11_object *out)
{
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_object_check(tok, base);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_template_check(tmpl, count, CKO_SECRET_KEY);
    if (ret == GP11_OK)
        ret = check_allowed(tmpl, count);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_owner_acquire(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_DeriveKey(tok->mod, s, mech, base->handle, tmpl, count,
                           &out->handle);
    if (rv != CKR_OK)
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_DeriveKey",
                          "the token refused to derive a key with %s",
                          gp11_ckm_name(mech->mechanism)
                              ? gp11_ckm_name(mech->mechanism)
                              : "?");
    gp11_owner_track_locked(
        tok, out, rv == CKR_OK && gp11_template_is_session(tmpl, count));
    gp11_owner_release(tok, rv);
    /* Not retried: the base key may have died with its session. */
    return gp11_object_lost(tok, base, ret);
}

uint32_t gp11_sign(struct gp11_token *tok, CK_MECHANISM *mech,
                   const struct gp11_object *key, const uint8_t *data,
                   size_t len, uint8_t *sig, size_t *sig_len)
{
    CK_ULONG out_len = *sig_len;
    CK_SESSION_HANDLE s;
    const char *call = "C_SignInit";
    uint32_t ret;
    CK_RV rv;

    ret = gp11_object_check(tok, key);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_SignInit(tok->mod, s, mech, key->handle);
    if (rv == CKR_OK) {
        call = "C_Sign";
        rv = gp11_ck_Sign(tok->mod, s, (CK_BYTE *)data, len, sig, &out_len);
    }
    gp11_session_put(tok, s, rv);
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, call,
                           "the token refused to sign with %s",
                           gp11_ckm_name(mech->mechanism)
                               ? gp11_ckm_name(mech->mechanism)
                               : "?");
    *sig_len = out_len;
    return GP11_OK;
}

uint32_t gp11_mac(struct gp11_token *tok, CK_MECHANISM_TYPE mech,
                  const struct gp11_object *key, const uint8_t *part1,
                  size_t len1, const uint8_t *part2, size_t len2, uint8_t *mac,
                  size_t *mac_len)
{
    CK_MECHANISM m = {mech, NULL, 0};
    CK_ULONG out_len = *mac_len;
    CK_SESSION_HANDLE s;
    const char *call = "C_SignInit";
    uint32_t ret;
    CK_RV rv;

    ret = gp11_object_check(tok, key);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_SignInit(tok->mod, s, &m, key->handle);
    /* One part: one C_Sign (two token calls a message, as AEAD's Init +
     * op; tokens refuse pData NULL even for 0 bytes). */
    if (rv == CKR_OK && len2 == 0) {
        call = "C_Sign";
        rv = gp11_ck_Sign(tok->mod, s, len1 ? (CK_BYTE *)part1 : mac, len1, mac,
                          &out_len);
        goto signed_;
    }
    if (rv == CKR_OK && len1) {
        call = "C_SignUpdate";
        rv = gp11_ck_SignUpdate(tok->mod, s, (CK_BYTE *)part1, len1);
    }
    if (rv == CKR_OK && len2) {
        call = "C_SignUpdate";
        rv = gp11_ck_SignUpdate(tok->mod, s, (CK_BYTE *)part2, len2);
    }
    if (rv == CKR_OK) {
        call = "C_SignFinal";
        rv = gp11_ck_SignFinal(tok->mod, s, mac, &out_len);
    }
signed_:
    gp11_session_put(tok, s, rv);
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, call,
                           "the token refused to compute a %s",
                           gp11_ckm_name(mech) ? gp11_ckm_name(mech) : "MAC");
    *mac_len = out_len;
    return GP11_OK;
}
