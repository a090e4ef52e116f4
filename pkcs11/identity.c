/* SPDX-License-Identifier: Apache-2.0 */
/* Identities: a private key and the X.509 certificate sharing its CKA_ID. */
#include "internal.h"

#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gp11_identity_free(struct gp11_identity *id)
{
    if (id == NULL)
        return;
    free(id->id);
    free(id->label);
    free(id->cert_der);
    for (size_t i = 0; i < id->n_chain; i++)
        free(id->chain_der[i]);
    free(id);
}

/* A copy of len bytes, or NULL (len 0 copies one byte). */
static void *dup_bytes(const void *p, size_t len)
{
    void *c = malloc(len ? len : 1);

    if (c != NULL && len)
        memcpy(c, p, len);
    return c;
}

struct gp11_identity *gp11_identity_dup(const struct gp11_identity *id)
{
    struct gp11_identity *c = calloc(1, sizeof(*c));
    bool ok;

    if (c == NULL)
        return NULL;
    *c = *id;
    c->id = NULL, c->label = NULL, c->cert_der = NULL;
    c->n_chain = 0;
    c->id = dup_bytes(id->id, id->id_len);
    c->label = id->label ? strdup(id->label) : NULL;
    c->cert_der = dup_bytes(id->cert_der, id->cert_len);
    ok = c->id && (c->label || !id->label) && c->cert_der;
    for (size_t i = 0; ok && i < id->n_chain; i++) {
        c->chain_der[i] = dup_bytes(id->chain_der[i], id->chain_len[i]);
        ok = c->chain_der[i] != NULL;
        c->n_chain = ok ? i + 1 : i;
    }
    if (!ok) {
        gp11_identity_free(c);
        return NULL;
    }
    return c;
}

/* Reads CKA_LABEL as a C string (empty if absent). */
static char *read_label(struct gp11_token *tok, const struct gp11_object *o)
{
    CK_ULONG len = 0;
    void *v = NULL;
    char *s;

    if (gp11_object_get_attr(tok, o, CKA_LABEL, &v, &len) != GP11_OK)
        len = 0;
    s = malloc(len + 1);
    if (s) {
        if (len)
            memcpy(s, v, len);
        s[len] = '\0';
    }
    free(v);
    gp11_err_clear();
    return s;
}

/* An RSA identity key larger than the handshake's signatures may be
 * (GP11_RSA_MAX_BITS) is refused here, when the credential is acquired,
 * rather than when the first signature does not fit. */
static uint32_t check_rsa_size(struct gp11_token *tok,
                               const struct gp11_object *key, const char *label)
{
    CK_ULONG len = 0, i = 0;
    const uint8_t *m;
    void *v = NULL;
    size_t bits;
    uint32_t ret;

    ret = gp11_object_get_attr(tok, key, CKA_MODULUS, &v, &len);
    if (ret != GP11_OK)
        return ret;
    m = v;
    /* Leading zero bytes do not count (a token may pad the value). */
    while (i < len && m[i] == 0)
        i++;
    bits = (size_t)(len - i) * 8;
    if (i < len)
        for (uint8_t top = m[i]; !(top & 0x80); top <<= 1)
            bits--;
    free(v);
    if (bits > GP11_RSA_MAX_BITS)
        return gp11_err_set(GP11_ERR_MECH_UNSUPPORTED,
                            "identity '%s': its RSA key has %zu bits, more "
                            "than the %u bits gss-pkcs11 signs with (a "
                            "handshake signature holds at most 512 bytes, "
                            "docs/protocol.md 2.5)",
                            label ? label : "", bits,
                            (unsigned)GP11_RSA_MAX_BITS);
    return GP11_OK;
}

/* Reads a CK_BBOOL attribute: 1 true, 0 false, -1 the token won't say. */
static int read_bool(struct gp11_token *tok, const struct gp11_object *o,
                     CK_ATTRIBUTE_TYPE type)
{
    CK_ULONG len = 0;
    void *v = NULL;
    int r = -1;

    if (gp11_object_get_attr(tok, o, type, &v, &len) == GP11_OK &&
        len == sizeof(CK_BBOOL))
        r = *(CK_BBOOL *)v ? 1 : 0;
    free(v);
    return r;
}

/* How the key's attributes let it leave the token (GP11_KEY_* bits); an
 * attribute the token does not report counts as not exposing. */
static unsigned read_exposure(struct gp11_token *tok,
                              const struct gp11_object *key)
{
    unsigned e = 0;

    if (read_bool(tok, key, CKA_SENSITIVE) == 0)
        e |= GP11_KEY_NOT_SENSITIVE;
    if (read_bool(tok, key, CKA_EXTRACTABLE) == 1)
        e |= GP11_KEY_EXTRACTABLE;
    if (read_bool(tok, key, CKA_ALWAYS_SENSITIVE) == 0)
        e |= GP11_KEY_WAS_NOT_SENSITIVE;
    if (read_bool(tok, key, CKA_NEVER_EXTRACTABLE) == 0)
        e |= GP11_KEY_WAS_EXTRACTABLE;
    gp11_err_clear();
    GP11_DEBUG("identity key attributes: sensitive %d, extractable %d, always "
               "sensitive %d, never extractable %d",
               read_bool(tok, key, CKA_SENSITIVE),
               read_bool(tok, key, CKA_EXTRACTABLE),
               read_bool(tok, key, CKA_ALWAYS_SENSITIVE),
               read_bool(tok, key, CKA_NEVER_EXTRACTABLE));
    gp11_err_clear();
    return e;
}

/* Strips a DER OCTET STRING around an EC point (tokens differ). */
static bool ec_point_raw(unsigned char *v, size_t *len)
{
    size_t hdr;

    if (*len == 65 || *len == 97 || *len == 133)
        return v[0] == 0x04; /* raw uncompressed point */
    if (*len >= 2 && v[0] == 0x04 && v[1] < 0x80 && (size_t)v[1] + 2 == *len)
        hdr = 2;
    else if (*len >= 3 && v[0] == 0x04 && v[1] == 0x81 &&
             (size_t)v[2] + 3 == *len)
        hdr = 3;
    else
        return false;
    memmove(v, v + hdr, *len - hdr);
    *len -= hdr;
    return true;
}

/* The public half of the key: the public key object with the same CKA_ID
 * (PKCS#11 defines no CKA_EC_POINT on a private EC key),
 * else the private key's own public attributes. */
static void read_key_pub(struct gp11_token *tok, const struct gp11_object *key,
                         const struct gp11_identity *id,
                         struct gp11_key_pub *pub)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_ID, id->id, id->id_len},
    };
    struct gp11_object *pubs = NULL;
    const struct gp11_object *from[2] = {NULL, key};
    CK_ULONG la = 0, lb = 0;
    void *a = NULL, *b = NULL;
    size_t n = 0;

    memset(pub, 0, sizeof(*pub));
    pub->type = id->key_type;
    if (gp11_object_find(tok, t, 2, &pubs, &n) == GP11_OK && n == 1)
        from[0] = &pubs[0];
    for (int k = 0; k < 2 && !pub->known; k++) {
        if (from[k] == NULL)
            continue;
        if (id->key_type == CKK_EC &&
            gp11_object_get_attr(tok, from[k], CKA_EC_POINT, &a, &la) ==
                GP11_OK) {
            size_t l = la;

            if (ec_point_raw(a, &l)) {
                pub->a = a, pub->la = l, pub->known = true;
                a = NULL;
            }
        } else if (id->key_type == CKK_RSA &&
                   gp11_object_get_attr(tok, from[k], CKA_MODULUS, &a, &la) ==
                       GP11_OK &&
                   gp11_object_get_attr(tok, from[k], CKA_PUBLIC_EXPONENT, &b,
                                        &lb) == GP11_OK) {
            pub->a = a, pub->la = la, pub->b = b, pub->lb = lb;
            pub->known = true;
            a = b = NULL;
        }
        free(a);
        free(b);
        a = b = NULL;
    }
    if (!pub->known)
        GP11_DEBUG("identity '%s': the token shows no public key for it; "
                   "its certificate's key is not compared",
                   id->label ? id->label : "");
    free(pubs);
    gp11_err_clear();
}

/* Reads the certificates sharing the CKA_ID; keeps the leaf and chain. */
static uint32_t load_chain(struct gp11_token *tok, struct gp11_identity *id,
                           const struct gp11_object *certs, size_t n,
                           const struct gp11_key_pub *pub)
{
    unsigned char *ders[GP11_IDENTITY_MAX_CERTS] = {0};
    size_t lens[GP11_IDENTITY_MAX_CERTS] = {0};
    size_t chain[GP11_IDENTITY_MAX_CHAIN];
    size_t leaf = 0;
    size_t n_chain = 0;
    CK_ULONG len;
    void *v = NULL;
    uint32_t ret = GP11_OK;
    size_t i;

    if (n > GP11_IDENTITY_MAX_CERTS)
        n = GP11_IDENTITY_MAX_CERTS;
    for (i = 0; i < n; i++) {
        ret = gp11_object_get_attr(tok, &certs[i], CKA_VALUE, &v, &len);
        if (ret != GP11_OK)
            goto done;
        ders[i] = v;
        lens[i] = len;
    }
    ret = gp11_identity_pick_chain_key(ders, lens, n, pub, &leaf, chain,
                                       &n_chain);
    if (ret == GP11_ERR_CERT_INVALID) {
        char first[512];

        snprintf(first, sizeof(first), "%s", gp11_err_message(ret));
        ret = gp11_err_set(ret,
                           "%s '%s' on token '%s': it holds another "
                           "public key (a certificate issued for another "
                           "key is stored under this key's CKA_ID)",
                           first, id->label ? id->label : "", id->token_label);
    }
    if (ret != GP11_OK)
        goto done;
    id->cert = certs[leaf];
    id->cert_der = ders[leaf];
    id->cert_len = lens[leaf];
    ders[leaf] = NULL;
    for (i = 0; i < n_chain; i++) {
        id->chain_der[i] = ders[chain[i]];
        id->chain_len[i] = lens[chain[i]];
        ders[chain[i]] = NULL;
    }
    id->n_chain = n_chain;
done:
    for (i = 0; i < n; i++)
        free(ders[i]);
    return ret;
}

/* Completes an identity from its private key: id, type, certificate. */
static uint32_t load_identity(struct gp11_token *tok,
                              const struct gp11_object *key,
                              struct gp11_identity **out)
{
    CK_OBJECT_CLASS cert_class = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    struct gp11_identity *id;
    struct gp11_object *certs = NULL;
    struct gp11_key_pub pub = {0};
    CK_ULONG len;
    size_t n = 0;
    void *v = NULL;
    uint32_t ret;

    id = calloc(1, sizeof(*id));
    if (id == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    id->key = *key;
    ret = gp11_object_get_attr(tok, key, CKA_ID, &v, &len);
    if (ret != GP11_OK)
        goto done;
    id->id = v;
    id->id_len = len;
    ret = gp11_object_get_attr(tok, key, CKA_KEY_TYPE, &v, &len);
    if (ret != GP11_OK)
        goto done;
    if (len == sizeof(CK_KEY_TYPE))
        memcpy(&id->key_type, v, sizeof(CK_KEY_TYPE));
    free(v);
    id->label = read_label(tok, key);
    gp11_token_label(&tok->info, id->token_label);
    id->exposed = read_exposure(tok, key);
    if (id->key_type == CKK_RSA) {
        ret = check_rsa_size(tok, key, id->label);
        if (ret != GP11_OK)
            goto done;
    }
    {
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cert_class, sizeof(cert_class)},
            {CKA_CERTIFICATE_TYPE, &x509, sizeof(x509)},
            {CKA_ID, id->id, id->id_len},
        };
        ret = gp11_object_find(tok, t, 3, &certs, &n);
    }
    if (ret != GP11_OK)
        goto done;
    if (n == 0) {
        ret = gp11_err_set(GP11_ERR_CERT_MISSING,
                           "private key '%s' has no X.509 certificate with "
                           "the same CKA_ID on the token",
                           id->label ? id->label : "");
        goto done;
    }
    read_key_pub(tok, key, id, &pub);
    ret = load_chain(tok, id, certs, n, &pub);
    if (ret != GP11_OK)
        goto done;
    *out = id;
    id = NULL;
done:
    free(pub.a);
    free(pub.b);
    free(certs);
    gp11_identity_free(id);
    return ret;
}

/* Builds the private-key search template from an object URI. */
static uint32_t key_template(P11KitUri *uri, const char *shown, CK_ATTRIBUTE *t,
                             CK_ULONG *n, CK_OBJECT_CLASS *cls)
{
    CK_ATTRIBUTE *a;

    *n = 0;
    a = p11_kit_uri_get_attribute(uri, CKA_CLASS);
    if (a && (a->ulValueLen != sizeof(CK_OBJECT_CLASS) ||
              *(CK_OBJECT_CLASS *)a->pValue != CKO_PRIVATE_KEY))
        return gp11_err_set(GP11_ERR_BAD_URI,
                            "identity URI '%s' must name a private key "
                            "(type=private)",
                            shown);
    t[(*n)++] = (CK_ATTRIBUTE){CKA_CLASS, cls, sizeof(*cls)};
    a = p11_kit_uri_get_attribute(uri, CKA_ID);
    if (a)
        t[(*n)++] = *a;
    a = p11_kit_uri_get_attribute(uri, CKA_LABEL);
    if (a)
        t[(*n)++] = *a;
    if (*n == 1)
        return gp11_err_set(GP11_ERR_BAD_URI,
                            "identity URI '%s' names no object (add object= "
                            "or id=)",
                            shown);
    return GP11_OK;
}

/* Parses an identity URI and checks it names this token. */
static uint32_t parse_identity_uri(struct gp11_token *tok, const char *s,
                                   const char *shown, P11KitUri **out)
{
    P11KitUri *uri = p11_kit_uri_new();
    int r;

    if (uri == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    r = p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, uri);
    if (r != P11_KIT_URI_OK) {
        p11_kit_uri_free(uri);
        return gp11_err_set(GP11_ERR_BAD_URI, "malformed identity URI '%s': %s",
                            shown, p11_kit_uri_message(r));
    }
    if (!p11_kit_uri_match_token_info(uri, &tok->info)) {
        p11_kit_uri_free(uri);
        return gp11_err_set(GP11_ERR_IDENTITY_NOT_FOUND,
                            "identity URI '%s' names another token than the "
                            "configured one",
                            shown);
    }
    *out = uri;
    return GP11_OK;
}

/* True if a look-up that found nothing (or failed) may have run while
 * the token had logged us out: then logging in again and looking once
 * more is worth it. */
static bool maybe_logged_out(struct gp11_token *tok, uint32_t ret)
{
    return ret == GP11_ERR_IDENTITY_NOT_FOUND &&
           (tok->info.flags & CKF_LOGIN_REQUIRED) && !gp11_token_logged_in(tok);
}

/* Logs in, finds the one private key matching t and completes it. */
static uint32_t find_identity(struct gp11_token *tok, CK_ATTRIBUTE *t,
                              CK_ULONG nt, const char *shown,
                              struct gp11_identity **out)
{
    struct gp11_object *keys = NULL;
    size_t n = 0;
    uint32_t ret;

    /* Private keys are only visible after login. */
    ret = gp11_token_login(tok);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_object_find(tok, t, nt, &keys, &n);
    if (ret != GP11_OK)
        goto done;
    if (n != 1) {
        ret = gp11_err_set(n ? GP11_ERR_IDENTITY_AMBIGUOUS
                             : GP11_ERR_IDENTITY_NOT_FOUND,
                           "%zu private keys match identity URI '%s' "
                           "(exactly one must)",
                           n, shown);
        goto done;
    }
    ret = load_identity(tok, &keys[0], out);
done:
    free(keys);
    return ret;
}

uint32_t gp11_identity_find(struct gp11_token *tok, const char *uri_str,
                            struct gp11_identity **out)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    P11KitUri *uri = NULL;
    CK_ATTRIBUTE t[3];
    CK_ULONG nt;
    char shown[512];
    uint32_t ret;

    gp11_uri_redact(uri_str, shown, sizeof(shown));
    ret = parse_identity_uri(tok, uri_str, shown, &uri);
    if (ret != GP11_OK)
        return ret;
    ret = key_template(uri, shown, t, &nt, &cls);
    if (ret != GP11_OK)
        goto done;
    ret = find_identity(tok, t, nt, shown, out);
    /* A look-up is safe to repeat once the token is back to normal. */
    if (ret != GP11_OK && maybe_logged_out(tok, ret))
        ret = find_identity(tok, t, nt, shown, out);
    else if (ret != GP11_OK && (ret = gp11_token_recover(tok, ret)) == GP11_OK)
        ret = find_identity(tok, t, nt, shown, out);
done:
    p11_kit_uri_free(uri);
    return ret;
}

/* Logs in and lists every private key that has a certificate. */
static uint32_t list_identities(struct gp11_token *tok,
                                struct gp11_identity ***out, size_t *count)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}};
    struct gp11_identity **ids = NULL;
    struct gp11_object *keys = NULL;
    size_t n = 0, kept = 0;
    uint32_t ret;

    ret = gp11_token_login(tok);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_object_find(tok, t, 1, &keys, &n);
    if (ret != GP11_OK)
        return ret;
    ids = calloc(n + 1, sizeof(*ids));
    if (ids == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        /* A key without certificate is not an identity; skip it. */
        if (load_identity(tok, &keys[i], &ids[kept]) == GP11_OK)
            kept++;
    }
    gp11_err_clear();
    *out = ids;
    *count = kept;
    ids = NULL;
done:
    free(ids);
    free(keys);
    return ret;
}

uint32_t gp11_identity_list(struct gp11_token *tok, struct gp11_identity ***out,
                            size_t *count)
{
    uint32_t ret = list_identities(tok, out, count);

    if (ret != GP11_OK && (ret = gp11_token_recover(tok, ret)) == GP11_OK)
        ret = list_identities(tok, out, count);
    return ret;
}

/* Logs in and finds the private key with this CKA_ID again. */
static uint32_t refind_key(struct gp11_token *tok, const void *ckaid,
                           size_t ckaid_len, struct gp11_object *key)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_ID, (void *)ckaid, ckaid_len},
    };
    struct gp11_object *keys = NULL;
    size_t n = 0;
    uint32_t ret;

    ret = gp11_token_login(tok);
    if (ret == GP11_OK)
        ret = gp11_object_find(tok, t, 2, &keys, &n);
    if (ret == GP11_OK && n != 1)
        ret = gp11_err_set(n ? GP11_ERR_IDENTITY_AMBIGUOUS
                             : GP11_ERR_IDENTITY_NOT_FOUND,
                           "%zu private keys have the identity key's CKA_ID "
                           "now (exactly one must)",
                           n);
    if (ret == GP11_OK) {
        GP11_DEBUG("identity key found again: handle %lu -> %lu",
                   (unsigned long)key->handle, (unsigned long)keys[0].handle);
        *key = keys[0];
    }
    free(keys);
    return ret;
}

uint32_t gp11_identity_sign(struct gp11_token *tok, struct gp11_object *key,
                            const void *ckaid, size_t ckaid_len,
                            CK_MECHANISM *mech, const uint8_t *data, size_t len,
                            uint8_t *sig, size_t *sig_len)
{
    size_t room = *sig_len;
    char first[512];
    uint32_t ret, rec;
    CK_RV rv;

    if (ckaid == NULL)
        return gp11_sign(tok, mech, key, data, len, sig, sig_len);
    /* The token lost its login or sessions since the key was found: the
     * handle may be stale (SoftHSM2 drops private handles at logout), or
     * even name another object. */
    if (key->epoch != gp11_token_epoch(tok)) {
        ret = refind_key(tok, ckaid, ckaid_len, key);
        if (ret != GP11_OK)
            return ret;
    }
    ret = gp11_sign(tok, mech, key, data, len, sig, sig_len);
    if (ret == GP11_OK)
        return ret;
    /* Not noticed yet? Stale handles, lost sessions, or a logout, which
     * NSS softoken reports as CKR_HOST_MEMORY here. */
    rv = gp11_err_last_rv();
    if (!gp11_rv_token_lost(rv) && rv != CKR_KEY_HANDLE_INVALID &&
        rv != CKR_OBJECT_HANDLE_INVALID && gp11_token_logged_in(tok))
        return ret;
    snprintf(first, sizeof(first), "%s", gp11_err_message(ret));
    rec = refind_key(tok, ckaid, ckaid_len, key);
    if (rec != GP11_OK)
        return gp11_err_set(ret, "%s (and finding the key again failed: %s)",
                            first, gp11_err_message(rec));
    *sig_len = room;
    return gp11_sign(tok, mech, key, data, len, sig, sig_len);
}
