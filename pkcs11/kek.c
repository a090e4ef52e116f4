/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context export in the token: the KEK, key wrapping and the one-time
 * blob keys (gp11_kek.h, docs/protocol.md 5). What the two development
 * tokens do with these calls (measured, docs/token-layer.md):
 *  - SoftHSM2 2.6.1 lets only the SO set CKA_TRUSTED (a user's template
 *    gets CKR_ATTRIBUTE_READ_ONLY), and the SO cannot make private
 *    objects, so the KEK is untrusted there and context keys cannot be
 *    CKA_WRAP_WITH_TRUSTED (an untrusted KEK gets CKR_KEY_NOT_WRAPPABLE);
 *    a C_GenerateKey of a token object refused for CKA_TRUSTED leaves a
 *    label-less key behind that every process finds as a session secret
 *    key, so the question is asked with a session object first;
 *    it enforces CKA_UNWRAP_TEMPLATE; CKM_AES_KEY_WRAP_KWP is
 *    CKR_MECHANISM_INVALID; an unwrap whose integrity check fails returns
 *    CKR_GENERAL_ERROR.
 *  - NSS softoken 3.87 accepts CKA_TRUSTED from the user but enforces
 *    neither CKA_WRAP_WITH_TRUSTED nor CKA_UNWRAP_TEMPLATE; its
 *    CKM_AES_KEY_WRAP_PAD is PKCS#7 padding then RFC 3394 (48 bytes for a
 *    32-byte key), not RFC 5649; a failed unwrap is
 *    CKR_WRAPPED_KEY_INVALID.
 * Hence CKM_AES_KEY_WRAP (RFC 3394), the same on both, and any unwrap
 * failure is treated as "not wrapped by this KEK".
 */
#include "gp11_kek.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void gp11_kek_set_policy(struct gp11_token *tok, unsigned policy)
{
    tok->export_policy = policy;
}

unsigned gp11_kek_policy(const struct gp11_token *tok)
{
    return tok ? tok->export_policy : 0;
}

/* Reads a CK_BBOOL attribute (FALSE when the token does not have it). */
static bool read_bool(struct gp11_token *tok, const struct gp11_object *o,
                      CK_ATTRIBUTE_TYPE type)
{
    void *v = NULL;
    CK_ULONG len = 0;
    bool b = false;

    if (gp11_object_get_attr(tok, o, type, &v, &len) == GP11_OK &&
        len == sizeof(CK_BBOOL))
        b = *(CK_BBOOL *)v == CK_TRUE;
    free(v);
    return b;
}

/* Finds exactly one secret key labelled label; found says if it exists. */
static uint32_t find_one(struct gp11_token *tok, const char *label,
                         const void *id, size_t id_len, struct gp11_object *out,
                         size_t *found)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_LABEL, (void *)label, strlen(label)},
        {CKA_ID, (void *)id, id_len},
    };
    struct gp11_object *objs = NULL;
    uint32_t ret;

    ret = gp11_object_find(tok, t, id ? 4 : 3, &objs, found);
    if (ret == GP11_OK && *found >= 1)
        *out = objs[0];
    free(objs);
    return ret;
}

uint32_t gp11_kek_find(struct gp11_token *tok, const char *label,
                       struct gp11_kek *out)
{
    static const struct {
        CK_ATTRIBUTE_TYPE type;
        bool want;
        const char *name;
    } checks[] = {
        {CKA_WRAP, true, "CKA_WRAP"},
        {CKA_UNWRAP, true, "CKA_UNWRAP"},
        {CKA_DECRYPT, false, "CKA_DECRYPT"},
        {CKA_EXTRACTABLE, false, "CKA_EXTRACTABLE"},
        {CKA_SENSITIVE, true, "CKA_SENSITIVE"},
    };
    void *id = NULL;
    CK_ULONG id_len = 0;
    size_t found = 0;
    uint32_t ret;

    memset(out, 0, sizeof(*out));
    ret = find_one(tok, label, NULL, 0, &out->obj, &found);
    if (ret != GP11_OK)
        return ret;
    if (found == 0)
        return gp11_err_set(GP11_ERR_IDENTITY_NOT_FOUND,
                            "the token has no export KEK labelled '%s' "
                            "(create it with 'gssp11 kek create')",
                            label);
    if (found > 1)
        return gp11_err_set(GP11_ERR_IDENTITY_AMBIGUOUS,
                            "the token has %zu keys labelled '%s'; the "
                            "export KEK must be unique",
                            found, label);
    /* A KEK that may decrypt would turn a wrapped key into raw bytes. */
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if (read_bool(tok, &out->obj, checks[i].type) != checks[i].want)
            return gp11_err_set(
                GP11_ERR_BAD_TEMPLATE, "the export KEK '%s' must have %s %s",
                label, checks[i].name, checks[i].want ? "TRUE" : "FALSE");
    ret = gp11_object_get_attr(tok, &out->obj, CKA_ID, &id, &id_len);
    if (ret == GP11_OK && id_len != GP11_KEK_ID_LEN)
        ret = gp11_err_set(GP11_ERR_BAD_TEMPLATE,
                           "the export KEK '%s' must have a %d-byte CKA_ID "
                           "(it has %lu bytes)",
                           label, GP11_KEK_ID_LEN, (unsigned long)id_len);
    if (ret == GP11_OK)
        memcpy(out->id, id, GP11_KEK_ID_LEN);
    free(id);
    out->trusted = ret == GP11_OK && read_bool(tok, &out->obj, CKA_TRUSTED);
    return ret;
}

/* One C_GenerateKey of a token object in the owner session. */
static CK_RV generate(struct gp11_token *tok, CK_MECHANISM *m, CK_ATTRIBUTE *t,
                      CK_ULONG n, struct gp11_object *out, uint32_t *ret)
{
    CK_SESSION_HANDLE s;
    CK_RV rv;

    *ret = gp11_template_check(t, n, CKO_SECRET_KEY);
    if (*ret != GP11_OK)
        return CKR_TEMPLATE_INCOMPLETE;
    *ret = gp11_owner_acquire(tok, &s);
    if (*ret != GP11_OK)
        return CKR_GENERAL_ERROR;
    rv = gp11_ck_GenerateKey(tok->mod, s, m, t, n, &out->handle);
    gp11_owner_track_locked(tok, out, false);
    gp11_owner_release(tok, rv);
    return rv;
}

uint32_t gp11_kek_create(struct gp11_token *tok, const char *label,
                         bool *trusted)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    uint8_t id[GP11_KEK_ID_LEN];
    /* What the KEK may unwrap: sensitive session keys that never wrap
     * or unwrap (enforced where the token honours the template). */
    CK_ATTRIBUTE unwrap_t[] = {
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_WRAP, &no, sizeof(no)},
        {CKA_UNWRAP, &no, sizeof(no)},
    };
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_VALUE_LEN, &len, sizeof(len)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_LABEL, (void *)label, strlen(label)},
        {CKA_ID, id, sizeof(id)},
        {CKA_WRAP, &yes, sizeof(yes)},
        {CKA_UNWRAP, &yes, sizeof(yes)},
        /* Never DECRYPT: a wrapped key could be decrypted to raw bytes. */
        {CKA_ENCRYPT, &no, sizeof(no)},
        {CKA_DECRYPT, &no, sizeof(no)},
        {CKA_SIGN, &no, sizeof(no)},
        {CKA_VERIFY, &no, sizeof(no)},
        {CKA_DERIVE, &no, sizeof(no)},
        {CKA_UNWRAP_TEMPLATE, unwrap_t, sizeof(unwrap_t)},
        {CKA_TRUSTED, &yes, sizeof(yes)}, /* last: dropped if refused */
    };
    CK_ULONG n = sizeof(t) / sizeof(t[0]);
    struct gp11_object kek, old, probe;
    size_t found = 0;
    uint32_t ret;
    CK_RV rv;

    ret = find_one(tok, label, NULL, 0, &old, &found);
    if (ret != GP11_OK)
        return ret;
    if (found)
        return gp11_err_set(GP11_ERR_IDENTITY_AMBIGUOUS,
                            "the token already has a key labelled '%s'", label);
    ret = gp11_random(tok, id, sizeof(id));
    if (ret != GP11_OK)
        return ret;
    /* Whether the user may set CKA_TRUSTED (SoftHSM2: only the SO) is
     * tried on a session object first: a token object whose C_GenerateKey
     * SoftHSM2 refuses for it stays behind as a label-less key that every
     * process then finds (measured); a session one dies with the session.
     * NSS softoken accepts it in the template but not in a later
     * C_SetAttributeValue. */
    t[3].pValue = &no;
    rv = generate(tok, &m, t, n, &probe, &ret);
    t[3].pValue = &yes;
    if (ret != GP11_OK)
        return ret;
    if (rv == CKR_OK)
        gp11_object_destroy(tok, &probe);
    else
        n--; /* without CKA_TRUSTED */
    rv = generate(tok, &m, t, n, &kek, &ret);
    if (ret != GP11_OK)
        return ret;
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_GenerateKey",
                           "the token refused to generate the export KEK");
    *trusted = read_bool(tok, &kek, CKA_TRUSTED);
    return GP11_OK;
}

uint32_t gp11_kek_wrap(struct gp11_token *tok, const struct gp11_kek *kek,
                       const struct gp11_object *key, uint8_t *out, size_t *len)
{
    CK_MECHANISM m = {GP11_WRAP_MECH, NULL, 0};
    CK_ULONG out_len = *len;
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_object_check(tok, key);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_WrapKey(tok->mod, s, &m, kek->obj.handle, key->handle, out,
                         &out_len);
    gp11_session_put(tok, s, rv);
    if (rv != CKR_OK)
        return gp11_object_lost(
            tok, key,
            gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_WrapKey",
                        "the token refused to wrap a context key"));
    *len = out_len;
    return GP11_OK;
}

uint32_t gp11_kek_unwrap(struct gp11_token *tok, const struct gp11_kek *kek,
                         const uint8_t *wrapped, size_t len, CK_ATTRIBUTE *tmpl,
                         CK_ULONG count, struct gp11_object *out)
{
    CK_MECHANISM m = {GP11_WRAP_MECH, NULL, 0};
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_template_check(tmpl, count, CKO_SECRET_KEY);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_owner_acquire(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_UnwrapKey(tok->mod, s, &m, kek->obj.handle, (CK_BYTE *)wrapped,
                           len, tmpl, count, &out->handle);
    if (rv != CKR_OK)
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_UnwrapKey",
                          "the token refused to unwrap a context key");
    gp11_owner_track_locked(
        tok, out, rv == CKR_OK && gp11_template_is_session(tmpl, count));
    gp11_owner_release(tok, rv);
    return ret;
}

uint32_t gp11_onetime_create(struct gp11_token *tok,
                             uint8_t id[GP11_ONETIME_ID_LEN],
                             struct gp11_object *out)
{
    static const char label[] = GP11_ONETIME_LABEL;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_GENERIC_SECRET;
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM m = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_VALUE_LEN, &len, sizeof(len)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_LABEL, (void *)label, sizeof(label) - 1},
        {CKA_ID, id, GP11_ONETIME_ID_LEN},
        {CKA_SIGN, &yes, sizeof(yes)},
        {CKA_VERIFY, &yes, sizeof(yes)},
        {CKA_ENCRYPT, &no, sizeof(no)},
        {CKA_DECRYPT, &no, sizeof(no)},
        {CKA_DERIVE, &no, sizeof(no)},
        {CKA_WRAP, &no, sizeof(no)},
        {CKA_UNWRAP, &no, sizeof(no)},
    };
    uint32_t ret;
    CK_RV rv;

    ret = gp11_random(tok, id, GP11_ONETIME_ID_LEN);
    if (ret != GP11_OK)
        return ret;
    rv = generate(tok, &m, t, sizeof(t) / sizeof(t[0]), out, &ret);
    if (ret == GP11_OK && rv != CKR_OK)
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_GenerateKey",
                          "the token refused to generate the one-time key "
                          "of an exported context");
    return ret;
}

uint32_t gp11_onetime_find(struct gp11_token *tok,
                           const uint8_t id[GP11_ONETIME_ID_LEN],
                           struct gp11_object *out)
{
    size_t found = 0;
    uint32_t ret;

    ret =
        find_one(tok, GP11_ONETIME_LABEL, id, GP11_ONETIME_ID_LEN, out, &found);
    if (ret == GP11_OK && found != 1)
        ret = gp11_err_set(GP11_ERR_IDENTITY_NOT_FOUND,
                           "the token has no one-time key for this blob");
    return ret;
}
