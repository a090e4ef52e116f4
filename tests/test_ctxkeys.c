/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attributes of every context key, as the token reports them. The
 * contexts are established through MIT's mechglue; the keys they leave
 * on the token are then found and read through the token layer (both
 * parties live in this process, so every new secret key on the token is
 * one of their keys).
 *
 * Every key also names the one mechanism it serves
 * (CKA_ALLOWED_MECHANISMS, issue 9 item 9); each is tried with a
 * mechanism of its usage that it does not serve, which a token enforcing
 * the attribute refuses (SoftHSM2) and one with the quirk
 * allowed-mechanisms-ignored runs (NSS softoken 3.87).
 */
#include "adversary.h"
#include "gp11_algs.h"
#include "gp11_runtime.h"
#include "gsslib.h"
#include "internal.h"
#include "testlib.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The secret keys this process sees on the suite's token, token objects
 * included (a context key made with CKA_TOKEN=TRUE must be seen too). */
struct keyset {
    struct gp11_object *objs;
    size_t n;
};

/* The suite's token, opened and logged in once (private objects too). */
static struct gp11_token *token(void)
{
    static struct gp11_token *tok;

    if (tok == NULL) {
        tok = tl_open();
        tl_assert_err(gp11_token_login(tok), GP11_OK);
    }
    return tok;
}

/* Lists every secret key object visible to this process. */
static void list_keys(struct keyset *ks)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}};

    ks->objs = NULL;
    ks->n = 0;
    tl_assert_err(gp11_object_find(token(), t, 1, &ks->objs, &ks->n), GP11_OK);
}

/* True if handle h is in ks. */
static bool has_handle(const struct keyset *ks, CK_OBJECT_HANDLE h)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->objs[i].handle == h)
            return true;
    return false;
}

/* Reads a CK_BBOOL attribute: CKR_OK and *v, or the token's CK_RV. */
static CK_RV read_bool(const struct gp11_object *o, CK_ATTRIBUTE_TYPE type,
                       CK_BBOOL *v)
{
    CK_RV rv = gp11_object_probe_attr(token(), o, type);
    void *val = NULL;
    CK_ULONG len = 0;

    if (rv != CKR_OK)
        return rv;
    tl_assert_err(gp11_object_get_attr(token(), o, type, &val, &len), GP11_OK);
    assert_int_equal(len, sizeof(CK_BBOOL));
    *v = *(CK_BBOOL *)val;
    free(val);
    return CKR_OK;
}

/* Asserts a CK_BBOOL attribute the token must report, and its value. */
static void assert_bool(const struct gp11_object *o, CK_ATTRIBUTE_TYPE type,
                        const char *name, CK_BBOOL want)
{
    CK_BBOOL v = 2;
    CK_RV rv = read_bool(o, type, &v);

    if (rv != CKR_OK)
        fail_msg("key %lu: cannot read %s: %s", (unsigned long)o->handle, name,
                 gp11_ckr_name(rv));
    if (v != want)
        fail_msg("key %lu: %s is %s, want %s", (unsigned long)o->handle, name,
                 v ? "TRUE" : "FALSE", want ? "TRUE" : "FALSE");
}

/*
 * CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE of a derived key follow
 * its base key (PKCS#11 2.40 4.9) on tokens that track them: SoftHSM2
 * does; NSS softoken 3.87 reports FALSE for a key CKM_ECDH1_DERIVE made
 * even from an always-sensitive, never-extractable base (measured). So
 * the test asks the token what a key derived like Z (from a fresh
 * ephemeral key, SENSITIVE=TRUE, EXTRACTABLE=FALSE) reports, and holds
 * the context keys to that.
 */
struct lineage {
    CK_RV rv_sensitive, rv_never;
    CK_BBOOL always_sensitive, never_extractable;
};

/* Derives a reference Z in the token and reads its lineage attributes. */
static void reference_lineage(struct lineage *l)
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_GENERIC_SECRET;
    CK_ULONG value_len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM_TYPE allowed = CKM_HKDF_DERIVE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_DERIVE, &yes, sizeof(yes)},
        {CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)},
    };
    struct gp11_object a, b, z;
    uint8_t pa[97], pb[97];
    size_t la = 0, lb = 0;
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, 0, pb};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};

    tl_assert_err(gp11_ec_ephemeral(token(), p256, sizeof(p256), &a, pa, &la),
                  GP11_OK);
    tl_assert_err(gp11_ec_ephemeral(token(), p256, sizeof(p256), &b, pb, &lb),
                  GP11_OK);
    p.ulPublicDataLen = lb;
    tl_assert_err(gp11_derive(token(), &m, &a, t, sizeof(t) / sizeof(t[0]), &z),
                  GP11_OK);
    l->rv_sensitive = read_bool(&z, CKA_ALWAYS_SENSITIVE, &l->always_sensitive);
    l->rv_never = read_bool(&z, CKA_NEVER_EXTRACTABLE, &l->never_extractable);
    print_message("the token reports a Z derived from a sensitive, "
                  "non-extractable ephemeral key as CKA_ALWAYS_SENSITIVE "
                  "%s, CKA_NEVER_EXTRACTABLE %s\n",
                  l->rv_sensitive != CKR_OK ? gp11_ckr_name(l->rv_sensitive)
                  : l->always_sensitive     ? "TRUE"
                                            : "FALSE",
                  l->rv_never != CKR_OK  ? gp11_ckr_name(l->rv_never)
                  : l->never_extractable ? "TRUE"
                                         : "FALSE");
    tl_assert_err(gp11_object_destroy(token(), &z), GP11_OK);
    tl_assert_err(gp11_object_destroy(token(), &a), GP11_OK);
    tl_assert_err(gp11_object_destroy(token(), &b), GP11_OK);
}

static struct lineage lineage;

/* Asserts a lineage attribute is TRUE where the token's reference is. */
static void assert_lineage(const struct gp11_object *o, CK_ATTRIBUTE_TYPE type,
                           const char *name, CK_RV ref_rv, CK_BBOOL ref)
{
    CK_BBOOL v = 2;
    CK_RV rv = read_bool(o, type, &v);

    if (ref_rv != CKR_OK || !ref)
        return; /* the token does not track it (shown once above) */
    if (rv != CKR_OK)
        fail_msg("key %lu: reading %s: %s", (unsigned long)o->handle, name,
                 gp11_ckr_name(rv));
    if (v != CK_TRUE)
        fail_msg("key %lu: %s is FALSE (a key derived like it is TRUE)",
                 (unsigned long)o->handle, name);
}

/* Each key does one thing: encrypt, decrypt, MAC (sign and verify) or
 * derive; the key schedule sets all five flags explicitly. */
static void assert_single_use(const struct gp11_object *o)
{
    CK_BBOOL e = 2, d = 2, s = 2, v = 2, k = 2;

    assert_int_equal(read_bool(o, CKA_ENCRYPT, &e), CKR_OK);
    assert_int_equal(read_bool(o, CKA_DECRYPT, &d), CKR_OK);
    assert_int_equal(read_bool(o, CKA_SIGN, &s), CKR_OK);
    assert_int_equal(read_bool(o, CKA_VERIFY, &v), CKR_OK);
    assert_int_equal(read_bool(o, CKA_DERIVE, &k), CKR_OK);
    if (s != v || e + d + s + k != 1)
        fail_msg("key %lu: encrypt %d decrypt %d sign %d verify %d derive "
                 "%d: not exactly one use",
                 (unsigned long)o->handle, e, d, s, v, k);
}

/* CKA_WRAP / CKA_UNWRAP: both tokens default them to TRUE, so the key
 * schedule must set them FALSE, or a context key could wrap other keys
 * out of the token. */
static void assert_no_wrap(const struct gp11_object *o)
{
    assert_bool(o, CKA_WRAP, "CKA_WRAP", CK_FALSE);
    assert_bool(o, CKA_UNWRAP, "CKA_UNWRAP", CK_FALSE);
}

/* Reads a CK_ULONG attribute the token must report. */
static CK_ULONG read_ulong(const struct gp11_object *o, CK_ATTRIBUTE_TYPE type)
{
    void *val = NULL;
    CK_ULONG len = 0, v;

    tl_assert_err(gp11_object_get_attr(token(), o, type, &val, &len), GP11_OK);
    assert_int_equal(len, sizeof(CK_ULONG));
    v = *(CK_ULONG *)val;
    free(val);
    return v;
}

/* What a key is for, from its type, length and usage flags (each key has
 * exactly one use, assert_single_use), and a mechanism of the same usage
 * that it must not run. */
struct key_kind {
    const char *what;
    CK_MECHANISM_TYPE mech;      /* the one CKA_ALLOWED_MECHANISMS entry */
    CK_MECHANISM_TYPE forbidden; /* same usage flag, another mechanism */
    CK_ATTRIBUTE_TYPE use;       /* CKA_ENCRYPT, CKA_DECRYPT, ... */
    CK_FLAGS flag;               /* the CKF_ the forbidden one needs */
};

static struct key_kind kind_of(const struct gp11_object *o)
{
    CK_KEY_TYPE type = read_ulong(o, CKA_KEY_TYPE);
    CK_ULONG len = read_ulong(o, CKA_VALUE_LEN);
    CK_BBOOL e = 0, d = 0, s = 0, k = 0;
    struct key_kind kk = {0};

    assert_int_equal(read_bool(o, CKA_ENCRYPT, &e), CKR_OK);
    assert_int_equal(read_bool(o, CKA_DECRYPT, &d), CKR_OK);
    assert_int_equal(read_bool(o, CKA_SIGN, &s), CKR_OK);
    assert_int_equal(read_bool(o, CKA_DERIVE, &k), CKR_OK);
    if (type == CKK_AES && (e || d)) {
        /* A traffic key or an AES-GCM QOP key: CKM_AES_ECB would give
         * GCM's hash key H = AES_K(0^128). */
        kk = (struct key_kind){e ? "AES-GCM send key" : "AES-GCM receive key",
                               CKM_AES_GCM, CKM_AES_ECB,
                               e ? CKA_ENCRYPT : CKA_DECRYPT,
                               e ? CKF_ENCRYPT : CKF_DECRYPT};
    } else if (type == CKK_AES && s) {
        kk = (struct key_kind){"AES-CMAC key", CKM_AES_CMAC,
                               CKM_AES_CMAC_GENERAL, CKA_SIGN, CKF_SIGN};
    } else if (type == CKK_GENERIC_SECRET && s) {
        kk = (struct key_kind){"HMAC key",
                               len == 32   ? CKM_SHA256_HMAC
                               : len == 48 ? CKM_SHA384_HMAC
                                           : CKM_SHA512_HMAC,
                               len == 32 ? CKM_SHA384_HMAC : CKM_SHA256_HMAC,
                               CKA_SIGN, CKF_SIGN};
    } else if (type == CKK_AES && k) {
        kk =
            (struct key_kind){"K_qop (kdf-2.40)", CKM_AES_ECB_ENCRYPT_DATA,
                              CKM_AES_CBC_ENCRYPT_DATA, CKA_DERIVE, CKF_DERIVE};
    } else if (type == CKK_GENERIC_SECRET && k) {
        kk = (struct key_kind){"K_qop (kdf-3.0-hkdf)", CKM_HKDF_DERIVE,
                               CKM_SHA256_KEY_DERIVATION, CKA_DERIVE,
                               CKF_DERIVE};
    } else {
        fail_msg("key %lu: type 0x%lx, %lu bytes: no context key is like it",
                 (unsigned long)o->handle, (unsigned long)type,
                 (unsigned long)len);
    }
    return kk;
}

/* CKA_ALLOWED_MECHANISMS holds exactly the key's one mechanism (both
 * tokens store it and read it back). */
static void assert_allowed_mechanisms(const struct gp11_object *o,
                                      const struct key_kind *kk)
{
    CK_RV rv = gp11_object_probe_attr(token(), o, CKA_ALLOWED_MECHANISMS);
    CK_MECHANISM_TYPE *m;
    void *val = NULL;
    CK_ULONG len = 0;

    if (rv != CKR_OK)
        fail_msg("key %lu (%s): CKA_ALLOWED_MECHANISMS not readable: %s",
                 (unsigned long)o->handle, kk->what, gp11_ckr_name(rv));
    tl_assert_err(
        gp11_object_get_attr(token(), o, CKA_ALLOWED_MECHANISMS, &val, &len),
        GP11_OK);
    m = val;
    if (len != sizeof(*m) || m[0] != kk->mech)
        fail_msg("key %lu (%s): CKA_ALLOWED_MECHANISMS has %lu entries, "
                 "first %s; want exactly %s",
                 (unsigned long)o->handle, kk->what,
                 (unsigned long)(len / sizeof(*m)),
                 len >= sizeof(*m) && gp11_ckm_name(m[0]) ? gp11_ckm_name(m[0])
                                                          : "-",
                 gp11_ckm_name(kk->mech));
    free(val);
}

/* True if the token offers mech with flag: a refusal of it on a key then
 * comes from the key, not from the token lacking the mechanism. */
static bool offered(CK_MECHANISM_TYPE mech, CK_FLAGS flag)
{
    CK_MECHANISM_INFO info;

    return gp11_ck_GetMechanismInfo(token()->mod, token()->slot, mech, &info) ==
               CKR_OK &&
           (info.flags & flag);
}

/* Runs kk->forbidden on key o once (ending any operation it starts);
 * sensitive_out: a derived key is sensitive and not extractable. */
static CK_RV run_forbidden(const struct gp11_object *o,
                           const struct key_kind *kk, bool sensitive_out)
{
    static CK_BYTE data[32] = {1, 2, 3};
    CK_AES_CBC_ENCRYPT_DATA_PARAMS cbc = {{0}, data, sizeof(data)};
    CK_ULONG mac_len = 16, out_len, value_len = 32;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE aes = CKK_AES;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM_TYPE any = CKM_AES_GCM;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &aes, sizeof(aes)},
        {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_SENSITIVE, sensitive_out ? &yes : &no, sizeof(yes)},
        {CKA_EXTRACTABLE, sensitive_out ? &no : &yes, sizeof(yes)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_ALLOWED_MECHANISMS, &any, sizeof(any)},
    };
    CK_MECHANISM m = {kk->forbidden, NULL, 0};
    CK_OBJECT_HANDLE child = CK_INVALID_HANDLE;
    CK_BYTE out[64];
    CK_SESSION_HANDLE s;
    CK_RV rv;

    if (kk->forbidden == CKM_AES_CMAC_GENERAL)
        m = (CK_MECHANISM){kk->forbidden, &mac_len, sizeof(mac_len)};
    if (kk->forbidden == CKM_AES_CBC_ENCRYPT_DATA)
        m = (CK_MECHANISM){kk->forbidden, &cbc, sizeof(cbc)};
    tl_assert_err(gp11_session_get(token(), &s), GP11_OK);
    out_len = sizeof(out);
    switch (kk->use) {
    case CKA_ENCRYPT:
        rv = gp11_ck_EncryptInit(token()->mod, s, &m, o->handle);
        if (rv == CKR_OK)
            gp11_ck_Encrypt(token()->mod, s, data, 16, out, &out_len);
        break;
    case CKA_DECRYPT:
        rv = gp11_ck_DecryptInit(token()->mod, s, &m, o->handle);
        if (rv == CKR_OK)
            gp11_ck_Decrypt(token()->mod, s, data, 16, out, &out_len);
        break;
    case CKA_SIGN:
        rv = gp11_ck_SignInit(token()->mod, s, &m, o->handle);
        if (rv == CKR_OK)
            gp11_ck_Sign(token()->mod, s, data, 16, out, &out_len);
        break;
    default:
        rv = gp11_ck_DeriveKey(token()->mod, s, &m, o->handle, t,
                               sizeof(t) / sizeof(t[0]), &child);
        if (rv == CKR_OK)
            assert_int_equal(gp11_ck_DestroyObject(token()->mod, s, child),
                             CKR_OK);
        break;
    }
    gp11_session_put(token(), s, CKR_OK);
    return rv;
}

/* The key refuses a mechanism it does not serve, or the token has the
 * quirk that says it ignores CKA_ALLOWED_MECHANISMS (and then runs it). */
static void assert_forbidden_refused(const struct gp11_object *o,
                                     const struct key_kind *kk)
{
    bool ignored = token()->quirks & GP11_QUIRK_ALLOWED_MECHANISMS_IGNORED;
    CK_RV rv = run_forbidden(o, kk, true);

    if (ignored) {
        print_message("key %lu (%s): %s ran: %s; the token ignores "
                      "CKA_ALLOWED_MECHANISMS (quirk "
                      "allowed-mechanisms-ignored)\n",
                      (unsigned long)o->handle, kk->what,
                      gp11_ckm_name(kk->forbidden), gp11_ckr_name(rv));
        /* The quirk's claim, kept honest: should the token start to
         * enforce the list, this fails and the quirk should go. */
        if (rv != CKR_OK)
            fail_msg("key %lu (%s): %s returned %s although the quirk "
                     "allowed-mechanisms-ignored says the token runs it",
                     (unsigned long)o->handle, kk->what,
                     gp11_ckm_name(kk->forbidden), gp11_ckr_name(rv));
        return;
    }
    if (!offered(kk->forbidden, kk->flag))
        fail_msg("the token does not offer %s: choose another forbidden "
                 "mechanism for the %s",
                 gp11_ckm_name(kk->forbidden), kk->what);
    if (rv != CKR_MECHANISM_INVALID)
        fail_msg("key %lu (%s): %s returned %s, want CKR_MECHANISM_INVALID "
                 "(CKA_ALLOWED_MECHANISMS lists only %s)",
                 (unsigned long)o->handle, kk->what,
                 gp11_ckm_name(kk->forbidden), gp11_ckr_name(rv),
                 gp11_ckm_name(kk->mech));
    print_message("key %lu (%s): %s refused: %s\n", (unsigned long)o->handle,
                  kk->what, gp11_ckm_name(kk->forbidden), gp11_ckr_name(rv));
}

/*
 * K_qop lives for the context when extra QOPs are on. A forbidden
 * derivation of an extractable key from it must fail wherever the token
 * enforces the list; what its own mechanism does with an extractable
 * template is shown, not asserted: SoftHSM2 derives it (no
 * CKA_DERIVE_TEMPLATE, quirk no-derive-template), as docs/protocol.md
 * 3.3 states.
 */
static void kqop_extractable_child(const struct gp11_object *o,
                                   const struct key_kind *kk)
{
    CK_RV rv = run_forbidden(o, kk, false);

    if (!(token()->quirks & GP11_QUIRK_ALLOWED_MECHANISMS_IGNORED) &&
        rv != CKR_MECHANISM_INVALID)
        fail_msg("%s: %s derived an extractable key: %s", kk->what,
                 gp11_ckm_name(kk->forbidden), gp11_ckr_name(rv));
    print_message("%s: an extractable child with %s: %s\n", kk->what,
                  gp11_ckm_name(kk->forbidden), gp11_ckr_name(rv));
    if (kk->mech != CKM_AES_ECB_ENCRYPT_DATA)
        return; /* NSS: its HKDF refuses extractable children (measured) */
    {
        static CK_BYTE data[32] = {4, 5, 6};
        CK_KEY_DERIVATION_STRING_DATA sd = {data, sizeof(data)};
        CK_MECHANISM m = {CKM_AES_ECB_ENCRYPT_DATA, &sd, sizeof(sd)};
        CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
        CK_KEY_TYPE aes = CKK_AES;
        CK_ULONG value_len = 32;
        CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_KEY_TYPE, &aes, sizeof(aes)},
            {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
            {CKA_TOKEN, &no, sizeof(no)},
            {CKA_SENSITIVE, &no, sizeof(no)},
            {CKA_EXTRACTABLE, &yes, sizeof(yes)},
        };
        CK_OBJECT_HANDLE child = CK_INVALID_HANDLE;
        CK_SESSION_HANDLE s;

        tl_assert_err(gp11_session_get(token(), &s), GP11_OK);
        rv = gp11_ck_DeriveKey(token()->mod, s, &m, o->handle, t,
                               sizeof(t) / sizeof(t[0]), &child);
        if (rv == CKR_OK)
            assert_int_equal(gp11_ck_DestroyObject(token()->mod, s, child),
                             CKR_OK);
        gp11_session_put(token(), s, CKR_OK);
        print_message("%s: an extractable child with its own %s: %s "
                      "(documented: docs/protocol.md 3.3)\n",
                      kk->what, gp11_ckm_name(kk->mech), gp11_ckr_name(rv));
    }
}

/* Derive-only keys seen (K_qop), by type. */
static size_t n_kqop_aes, n_kqop_generic;

/* The mechanism restriction of one context key, and a forbidden use. */
static void check_mechanisms(const struct gp11_object *o)
{
    struct key_kind kk = kind_of(o);

    assert_allowed_mechanisms(o, &kk);
    assert_forbidden_refused(o, &kk);
    if (kk.use == CKA_DERIVE) {
        kqop_extractable_child(o, &kk);
        if (kk.mech == CKM_HKDF_DERIVE)
            n_kqop_generic++;
        else
            n_kqop_aes++;
    }
}

/* Every attribute that keeps a context key inside the token. */
static void check_context_key(const struct gp11_object *o)
{
    assert_bool(o, CKA_TOKEN, "CKA_TOKEN", CK_FALSE);
    assert_bool(o, CKA_SENSITIVE, "CKA_SENSITIVE", CK_TRUE);
    assert_bool(o, CKA_EXTRACTABLE, "CKA_EXTRACTABLE", CK_FALSE);
    /* core/keysched.c makes context keys CKA_PRIVATE=FALSE on
     * purpose (SoftHSM2 decrypts private keys under a token-wide lock on
     * every operation); they are session objects of this process, and
     * sensitivity and extractability do not depend on it. */
    assert_bool(o, CKA_PRIVATE, "CKA_PRIVATE", CK_FALSE);
    /* Never extractable and always sensitive since the ephemeral key,
     * where the token tracks it. */
    assert_lineage(o, CKA_ALWAYS_SENSITIVE, "CKA_ALWAYS_SENSITIVE",
                   lineage.rv_sensitive, lineage.always_sensitive);
    assert_lineage(o, CKA_NEVER_EXTRACTABLE, "CKA_NEVER_EXTRACTABLE",
                   lineage.rv_never, lineage.never_extractable);
    assert_single_use(o);
    /* And the value itself is never given out. */
    assert_int_equal(gp11_object_probe_attr(token(), o, CKA_VALUE),
                     CKR_ATTRIBUTE_SENSITIVE);
    assert_no_wrap(o);
    check_mechanisms(o);
}

/* Checks the keys in now that were not in before; returns their count. */
static size_t check_new_keys(const struct keyset *before,
                             const struct keyset *now)
{
    size_t n = 0;

    for (size_t i = 0; i < now->n; i++) {
        if (has_handle(before, now->objs[i].handle))
            continue;
        check_context_key(&now->objs[i]);
        n++;
    }
    return n;
}

/* A MIC from one context verified by the other with the given QOP. */
static void mic_with_qop(gss_ctx_id_t from, gss_ctx_id_t to, gss_qop_t qop)
{
    gss_buffer_desc m = {5, (void *)"hello"}, tok = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor, major;
    gss_qop_t got = 99;

    major = gss_get_mic(&minor, from, qop, &m, &tok);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_get_mic", major, minor);
    major = gss_verify_mic(&minor, to, &m, &tok, &got);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_verify_mic", major, minor);
    assert_int_equal(got, qop);
    gss_release_buffer(&minor, &tok);
}

/* A sealed WRAP from one context opened by the other with the QOP. */
static void wrap_with_qop(gss_ctx_id_t from, gss_ctx_id_t to, gss_qop_t qop)
{
    gss_buffer_desc m = {5, (void *)"hello"}, tok = GSS_C_EMPTY_BUFFER, back;
    OM_uint32 minor, major;
    gss_qop_t got = 99;

    major = gss_wrap(&minor, from, 1, qop, &m, NULL, &tok);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_wrap", major, minor);
    major = gss_unwrap(&minor, to, &tok, &back, NULL, &got);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_unwrap", major, minor);
    assert_int_equal(got, qop);
    gss_release_buffer(&minor, &back);
    gss_release_buffer(&minor, &tok);
}

static void context_keys_stay_in_the_token(void **state)
{
    struct keyset before, established, used;
    struct gl_hs hs = {0};

    (void)state;
    /* Where a token ignores CKA_ALLOWED_MECHANISMS, the quirk says so. */
    if (strcmp(tl_kind(), "nss") == 0)
        assert_true(token()->quirks & GP11_QUIRK_ALLOWED_MECHANISMS_IGNORED);
    else
        assert_false(token()->quirks & GP11_QUIRK_ALLOWED_MECHANISMS_IGNORED);
    reference_lineage(&lineage);
    n_kqop_aes = n_kqop_generic = 0;
    list_keys(&before);
    hs.target = gl_service("host@localhost");
    if (!gl_handshake(&hs))
        gl_fail("handshake", GSS_ERROR(hs.imajor) ? hs.imajor : hs.amajor,
                GSS_ERROR(hs.imajor) ? hs.iminor : hs.aminor);
    /* QOP 0: send, receive, K_prf and the QOP key-derivation key, per
     * side (the handshake's keys are gone). */
    list_keys(&established);
    assert_int_equal(check_new_keys(&before, &established), 8); /* + K_prf */
    /* Both K_qop show the profile: kdf-3.0-hkdf wherever the token can
     * run it (the preferred profile), else the legacy kdf-2.40. */
    {
        struct gp11_caps caps;

        tl_assert_err(gp11_caps_probe(token(), &caps), GP11_OK);
        assert_int_equal(n_kqop_generic, caps.f[GP11_F_HKDF].available ? 2 : 0);
        assert_int_equal(n_kqop_aes, caps.f[GP11_F_HKDF].available ? 0 : 2);
    }
    /* Default-QOP traffic in both directions makes no key. */
    mic_with_qop(hs.ictx, hs.actx, 0);
    wrap_with_qop(hs.actx, hs.ictx, 0);
    /* Non-default QOPs derive keys on first use, one per side and
     * direction: an HMAC key (QOP 1, CKK_GENERIC_SECRET) initiator to
     * acceptor and an AES-128-GCM key pair (QOP 5) acceptor to initiator.
     * Every one of them, and the six above, is checked again. */
    mic_with_qop(hs.ictx, hs.actx, 1);
    wrap_with_qop(hs.actx, hs.ictx, 5);
    list_keys(&used);
    assert_int_equal(check_new_keys(&before, &used), 12);
    gl_hs_release(&hs);
    free(before.objs);
    free(established.objs);
    free(used.objs);
}

/* ---- the acceptor prefers kdf-3.0-hkdf ---------------------------------- */

struct offer {
    uint8_t chosen; /* the profile of the ACCEPT that went by */
};

/* INIT lists the legacy profile first (as a v2 peer may). */
static void legacy_first(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->profiles[0] = GP11_PROFILE_KDF_240;
    m->profiles[1] = GP11_PROFILE_KDF_30_HKDF;
    m->n_profiles = 2;
}

static void record_choice(struct gp11_hs_accept *m, void *arg)
{
    ((struct offer *)arg)->chosen = m->profile;
}

/* Rewrites INIT (leg 1), records the ACCEPT's choice (leg 2). */
static void reorder_offer(int leg, gss_buffer_t tok, void *arg)
{
    if (leg == 1)
        adv_rewrite_init(tok, legacy_first, arg);
    if (leg == 2)
        adv_rewrite_accept(tok, record_choice, arg);
}

/*
 * An initiator listing kdf-2.40 before kdf-3.0-hkdf still gets HKDF from
 * an acceptor that can run it: the acceptor's preference decides (the
 * honest initiator then refuses the rewritten transcript).
 */
static void acceptor_prefers_hkdf(void **state)
{
    struct gp11_runtime *rt = NULL;
    struct offer x = {0};
    struct gl_hs hs = {0};

    (void)state;
    tl_assert_err(gp11_runtime_get(&rt), GP11_OK);
    if (rt->n_profiles < 2)
        skip(); /* SoftHSM2 runs only kdf-2.40: nothing to prefer */
    hs.target = gl_service("host@localhost");
    hs.mutate = reorder_offer;
    hs.arg = &x;
    assert_false(gl_handshake(&hs));
    assert_int_equal(x.chosen, GP11_PROFILE_KDF_30_HKDF);
    gl_hs_release(&hs);
}

/* ---- RSA identities above 4096 bits (issue 9 item 10) ------------------- */

/* Big-endian bytes of the key's parameter (malloc'ed) as a template
 * attribute. */
static CK_ATTRIBUTE bn_attr(CK_ATTRIBUTE_TYPE type, const EVP_PKEY *key,
                            const char *param)
{
    BIGNUM *bn = NULL;
    CK_ATTRIBUTE a;

    assert_int_equal(EVP_PKEY_get_bn_param(key, param, &bn), 1);
    a = (CK_ATTRIBUTE){type, malloc((size_t)BN_num_bytes(bn) + 1),
                       (CK_ULONG)BN_num_bytes(bn)};
    assert_non_null(a.pValue);
    BN_bn2bin(bn, a.pValue);
    BN_free(bn);
    return a;
}

/* A self-signed certificate for key (an initiator's: rfc822Name, both
 * EKUs), DER, malloc'ed. */
static unsigned char *self_signed(EVP_PKEY *key, const char *cn, int *len)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    unsigned char *der = NULL;
    char san[128];

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 8192);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn,
                               -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    snprintf(san, sizeof(san), "email:%s@localhost", cn);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage,
                              "clientAuth,serverAuth");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    *len = i2d_X509(x, &der);
    assert_true(*len > 0);
    X509_NAME_free(n);
    X509_free(x);
    return der;
}

/*
 * An RSA-8192 identity (tests/data/rsa8192-test-key.pem, imported as
 * session objects: generating one takes SoftHSM2 and NSS softoken about a
 * minute on this machine) is refused when the credential is acquired,
 * with a minor status that gives its size; the signature would not fit
 * the handshake's 512 bytes.
 */
static void rsa_above_4096_bits_refused_at_acquisition(void **state)
{
    const char *root = getenv("GP11_SOURCE_ROOT");
    CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY, cert_cls = CKO_CERTIFICATE;
    CK_KEY_TYPE rsa = CKK_RSA;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_BYTE id = 0x81;
    const char *label = "big8192";
    struct gp11_object key_obj, cert_obj;
    gss_key_value_element_desc kv[1];
    gss_key_value_set_desc store = {1, kv};
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    OM_uint32 major, minor;
    unsigned char *der;
    char path[4096], uri[1200], text[1024];
    EVP_PKEY *key;
    FILE *f;
    int der_len = 0;

    (void)state;
    assert_non_null(root);
    snprintf(path, sizeof(path), "%s/tests/data/rsa8192-test-key.pem", root);
    f = fopen(path, "r");
    assert_non_null(f);
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(key);
    assert_int_equal(EVP_PKEY_bits(key), 8192);
    {
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &priv, sizeof(priv)},
            {CKA_KEY_TYPE, &rsa, sizeof(rsa)},
            {CKA_TOKEN, &no, sizeof(no)},
            {CKA_PRIVATE, &yes, sizeof(yes)},
            {CKA_SENSITIVE, &yes, sizeof(yes)},
            {CKA_EXTRACTABLE, &no, sizeof(no)},
            {CKA_SIGN, &yes, sizeof(yes)},
            {CKA_ID, &id, 1},
            {CKA_LABEL, (void *)label, strlen(label)},
            bn_attr(CKA_MODULUS, key, OSSL_PKEY_PARAM_RSA_N),
            bn_attr(CKA_PUBLIC_EXPONENT, key, OSSL_PKEY_PARAM_RSA_E),
            bn_attr(CKA_PRIVATE_EXPONENT, key, OSSL_PKEY_PARAM_RSA_D),
            bn_attr(CKA_PRIME_1, key, OSSL_PKEY_PARAM_RSA_FACTOR1),
            bn_attr(CKA_PRIME_2, key, OSSL_PKEY_PARAM_RSA_FACTOR2),
            bn_attr(CKA_EXPONENT_1, key, OSSL_PKEY_PARAM_RSA_EXPONENT1),
            bn_attr(CKA_EXPONENT_2, key, OSSL_PKEY_PARAM_RSA_EXPONENT2),
            bn_attr(CKA_COEFFICIENT, key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1),
        };

        tl_assert_err(
            gp11_object_create(token(), t, sizeof(t) / sizeof(t[0]), &key_obj),
            GP11_OK);
        for (size_t i = 9; i < sizeof(t) / sizeof(t[0]); i++)
            free(t[i].pValue);
    }
    der = self_signed(key, label, &der_len);
    {
        const unsigned char *pp = der;
        X509 *x = d2i_X509(NULL, &pp, der_len);
        unsigned char *subj = NULL;
        unsigned char *ser = NULL;
        int subj_len = i2d_X509_NAME(X509_get_subject_name(x), &subj);
        int ser_len = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &ser);
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cert_cls, sizeof(cert_cls)},
            {CKA_CERTIFICATE_TYPE, &x509, sizeof(x509)},
            {CKA_TOKEN, &no, sizeof(no)},
            {CKA_ID, &id, 1},
            {CKA_LABEL, (void *)label, strlen(label)},
            {CKA_SUBJECT, subj, (CK_ULONG)subj_len},
            {CKA_ISSUER, subj, (CK_ULONG)subj_len},
            {CKA_SERIAL_NUMBER, ser, (CK_ULONG)ser_len},
            {CKA_VALUE, der, (CK_ULONG)der_len},
        };

        tl_assert_err(
            gp11_object_create(token(), t, sizeof(t) / sizeof(t[0]), &cert_obj),
            GP11_OK);
        OPENSSL_free(subj);
        OPENSSL_free(ser);
        X509_free(x);
    }
    OPENSSL_free(der);
    EVP_PKEY_free(key);
    snprintf(uri, sizeof(uri), "%s;object=%s;type=private",
             tl_config()->token_uri, label);
    kv[0].key = "pkcs11-identity";
    kv[0].value = uri;
    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                  GSS_C_INITIATE, &store, &cred, NULL, NULL);
    gl_minor_text(minor, text, sizeof(text));
    print_message("acquiring the RSA-8192 identity: major 0x%x, %s\n", major,
                  text);
    if (major == GSS_S_COMPLETE)
        gss_release_cred(&minor, &cred);
    assert_int_equal(major, GSS_S_FAILURE);
    if (strstr(text, "its RSA key has 8192 bits") == NULL)
        fail_msg("the minor status does not give the key size: %s", text);
    tl_assert_err(gp11_object_destroy(token(), &cert_obj), GP11_OK);
    tl_assert_err(gp11_object_destroy(token(), &key_obj), GP11_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(context_keys_stay_in_the_token),
        cmocka_unit_test(acceptor_prefers_hkdf),
        cmocka_unit_test(rsa_above_4096_bits_refused_at_acquisition),
    };

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
