/* SPDX-License-Identifier: Apache-2.0 */
/* Token objects: creation with checked templates, lookup, attributes. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define FIND_BATCH 32

/* Finds an attribute in a template, or NULL. */
static const CK_ATTRIBUTE *find_attr(const CK_ATTRIBUTE *t, CK_ULONG n,
                                     CK_ATTRIBUTE_TYPE type)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (t[i].type == type)
            return &t[i];
    return NULL;
}

/* Keys must state CKA_SENSITIVE and CKA_EXTRACTABLE: tokens differ in the
 * defaults (SoftHSM2 defaults CKA_SENSITIVE to FALSE). */
uint32_t gp11_template_check(const CK_ATTRIBUTE *t, CK_ULONG n,
                             CK_OBJECT_CLASS implied)
{
    const CK_ATTRIBUTE *cls = find_attr(t, n, CKA_CLASS);
    CK_OBJECT_CLASS c = implied;

    if (cls && cls->ulValueLen == sizeof(CK_OBJECT_CLASS))
        memcpy(&c, cls->pValue, sizeof(c));
    if (c != CKO_SECRET_KEY && c != CKO_PRIVATE_KEY)
        return GP11_OK;
    if (find_attr(t, n, CKA_SENSITIVE) == NULL ||
        find_attr(t, n, CKA_EXTRACTABLE) == NULL)
        return gp11_err_set(GP11_ERR_BAD_TEMPLATE,
                            "refusing to create a %s key without explicit "
                            "CKA_SENSITIVE and CKA_EXTRACTABLE",
                            c == CKO_SECRET_KEY ? "secret" : "private");
    return GP11_OK;
}

bool gp11_template_is_session(const CK_ATTRIBUTE *t, CK_ULONG n)
{
    const CK_ATTRIBUTE *a = find_attr(t, n, CKA_TOKEN);

    return a == NULL || a->ulValueLen != sizeof(CK_BBOOL) ||
           *(const CK_BBOOL *)a->pValue == CK_FALSE;
}

uint32_t gp11_object_create(struct gp11_token *tok, CK_ATTRIBUTE *tmpl,
                            CK_ULONG count, struct gp11_object *out)
{
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_template_check(tmpl, count, CKO_DATA);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_owner_acquire(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_CreateObject(tok->mod, s, tmpl, count, &out->handle);
    if (rv != CKR_OK)
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_CreateObject",
                          "the token refused to create an object");
    gp11_owner_track_locked(
        tok, out, rv == CKR_OK && gp11_template_is_session(tmpl, count));
    gp11_owner_release(tok, rv);
    return ret;
}

/* One C_GenerateKeyPair in the owner session. */
static uint32_t generate_pair(struct gp11_token *tok, CK_MECHANISM *mech,
                              CK_ATTRIBUTE *pub_tmpl, CK_ULONG pub_count,
                              CK_ATTRIBUTE *priv_tmpl, CK_ULONG priv_count,
                              struct gp11_object *pub, struct gp11_object *priv)
{
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_owner_acquire(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_GenerateKeyPair(tok->mod, s, mech, pub_tmpl, pub_count,
                                 priv_tmpl, priv_count, &pub->handle,
                                 &priv->handle);
    if (rv != CKR_OK)
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_GenerateKeyPair",
                          "the token refused to generate a %s key pair",
                          gp11_ckm_name(mech->mechanism)
                              ? gp11_ckm_name(mech->mechanism)
                              : "?");
    gp11_owner_track_locked(tok, pub,
                            rv == CKR_OK &&
                                gp11_template_is_session(pub_tmpl, pub_count));
    gp11_owner_track_locked(
        tok, priv,
        rv == CKR_OK && gp11_template_is_session(priv_tmpl, priv_count));
    gp11_owner_release(tok, rv);
    return ret;
}

uint32_t gp11_object_generate_pair(struct gp11_token *tok, CK_MECHANISM *mech,
                                   CK_ATTRIBUTE *pub_tmpl, CK_ULONG pub_count,
                                   CK_ATTRIBUTE *priv_tmpl, CK_ULONG priv_count,
                                   struct gp11_object *pub,
                                   struct gp11_object *priv)
{
    uint32_t ret;

    ret = gp11_template_check(priv_tmpl, priv_count, CKO_PRIVATE_KEY);
    if (ret != GP11_OK)
        return ret;
    ret = generate_pair(tok, mech, pub_tmpl, pub_count, priv_tmpl, priv_count,
                        pub, priv);
    /* Nothing was made: after a logout or lost sessions, log in again
     * and try once more (a new context's keys, never an old one's). */
    if (ret != GP11_OK && (ret = gp11_token_recover(tok, ret)) == GP11_OK)
        ret = generate_pair(tok, mech, pub_tmpl, pub_count, priv_tmpl,
                            priv_count, pub, priv);
    return ret;
}

uint32_t gp11_object_destroy(struct gp11_token *tok, struct gp11_object *obj)
{
    CK_SESSION_HANDLE s;
    bool tracked;
    uint32_t ret;
    CK_RV rv;

    /* First its message operation (C_Message*Final, its session closed):
     * a token may keep running one on a destroyed key (NSS softoken). */
    gp11_msgop_end(tok, obj);
    if (obj->generation != gp11_fork_generation())
        return gp11_object_check(tok, obj);
    /* Its own owner session (R/W, which token objects need too). */
    tracked = obj->owner != NULL;
    ret = gp11_owner_acquire_for(tok, obj, &s);
    if (ret == GP11_ERR_STALE_OBJECT) {
        /* It died with its session: nothing to destroy, only forget. */
        gp11_owner_untrack_locked(tok, obj);
        gp11_owner_unlock(tok);
        obj->handle = CK_INVALID_HANDLE;
        return GP11_OK;
    }
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_DestroyObject(tok->mod, s, obj->handle);
    /* Notice a lost session before the record may go with the object. */
    gp11_owner_note_locked(tok, rv);
    gp11_owner_untrack_locked(tok, obj);
    gp11_owner_unlock(tok);
    /* A session object whose session the token lost is gone already. */
    if (rv != CKR_OK && !(gp11_rv_session_lost(rv) && tracked))
        return gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_DestroyObject",
                           "the token refused to destroy object %lu",
                           (unsigned long)obj->handle);
    obj->handle = CK_INVALID_HANDLE;
    return GP11_OK;
}

CK_RV gp11_object_probe_attr(struct gp11_token *tok,
                             const struct gp11_object *obj,
                             CK_ATTRIBUTE_TYPE type)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    CK_SESSION_HANDLE s;
    CK_RV rv;

    if (gp11_object_check(tok, obj) != GP11_OK ||
        gp11_session_get(tok, &s) != GP11_OK)
        return CKR_GENERAL_ERROR;
    rv = gp11_ck_GetAttributeValue(tok->mod, s, obj->handle, &a, 1);
    gp11_session_put(tok, s, rv);
    return rv;
}

uint32_t gp11_object_get_attr(struct gp11_token *tok,
                              const struct gp11_object *obj,
                              CK_ATTRIBUTE_TYPE type, void **value,
                              CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_object_check(tok, obj);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_GetAttributeValue(tok->mod, s, obj->handle, &a, 1);
    if (rv == CKR_OK && a.ulValueLen != CK_UNAVAILABLE_INFORMATION) {
        a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1);
        if (a.pValue == NULL) {
            ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
            goto done;
        }
        rv = gp11_ck_GetAttributeValue(tok->mod, s, obj->handle, &a, 1);
    }
    if (rv != CKR_OK) {
        free(a.pValue);
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_GetAttributeValue",
                          "cannot read attribute 0x%lx of object %lu",
                          (unsigned long)type, (unsigned long)obj->handle);
        goto done;
    }
    *value = a.pValue;
    *len = a.ulValueLen;
done:
    gp11_session_put(tok, s, rv);
    return ret;
}

/* Appends one batch of handles to a growing array. */
static bool append_handles(struct gp11_token *tok, struct gp11_object **arr,
                           size_t *n, const CK_OBJECT_HANDLE *h, CK_ULONG count)
{
    struct gp11_object *grown;

    grown = realloc(*arr, (*n + count + 1) * sizeof(**arr));
    if (grown == NULL)
        return false;
    *arr = grown;
    for (CK_ULONG i = 0; i < count; i++) {
        grown[*n].handle = h[i];
        grown[*n].generation = gp11_fork_generation();
        grown[*n].owner = NULL;
        grown[*n].msg = NULL;
        grown[*n].epoch = gp11_token_epoch(tok);
        (*n)++;
    }
    return true;
}

uint32_t gp11_object_find(struct gp11_token *tok, CK_ATTRIBUTE *tmpl,
                          CK_ULONG count, struct gp11_object **out,
                          size_t *found)
{
    CK_OBJECT_HANDLE batch[FIND_BATCH];
    struct gp11_object *arr = NULL;
    CK_SESSION_HANDLE s;
    CK_ULONG got = 0;
    size_t n = 0;
    uint32_t ret;
    CK_RV rv;

    ret = gp11_session_get(tok, &s);
    if (ret != GP11_OK)
        return ret;
    rv = gp11_ck_FindObjectsInit(tok->mod, s, tmpl, count);
    if (rv != CKR_OK) {
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_FindObjectsInit",
                          "cannot search the token");
        goto done;
    }
    do {
        rv = gp11_ck_FindObjects(tok->mod, s, batch, FIND_BATCH, &got);
        if (rv == CKR_OK && !append_handles(tok, &arr, &n, batch, got))
            ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    } while (rv == CKR_OK && ret == GP11_OK && got == FIND_BATCH);
    gp11_ck_FindObjectsFinal(tok->mod, s);
    if (rv != CKR_OK)
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_FindObjects",
                          "cannot search the token");
    if (ret == GP11_OK) {
        *out = arr;
        *found = n;
        arr = NULL;
    }
done:
    free(arr);
    gp11_session_put(tok, s, rv);
    return ret;
}
