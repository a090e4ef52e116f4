/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attributes of every context key, as the token reports them. The
 * contexts are established through MIT's mechglue; the keys they leave
 * on the token are then found and read through the token layer (both
 * parties live in this process, so every new secret key on the token is
 * one of their keys).
 */
#include "gsslib.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_DERIVE, &yes, sizeof(yes)},
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

/* Prints CKA_ALLOWED_MECHANISMS as the token reports it; asserts nothing. */
static void print_allowed_mechanisms(const struct gp11_object *o)
{
    CK_RV rv = gp11_object_probe_attr(token(), o, CKA_ALLOWED_MECHANISMS);
    CK_MECHANISM_TYPE *m = NULL;
    void *val = NULL;
    CK_ULONG len = 0;
    char line[1024];
    size_t used = 0;

    /* TODO(issue 9, item 9): the key schedule sets no
     * CKA_ALLOWED_MECHANISMS today, so tokens report an empty list (any
     * mechanism the use flags permit, CKM_AES_ECB included). Once it is
     * set, assert here that each key allows exactly the mechanisms of
     * its use. Until then this only shows what the token holds. */
    if (rv != CKR_OK) {
        print_message("key %lu: CKA_ALLOWED_MECHANISMS not readable: %s\n",
                      (unsigned long)o->handle, gp11_ckr_name(rv));
        return;
    }
    tl_assert_err(
        gp11_object_get_attr(token(), o, CKA_ALLOWED_MECHANISMS, &val, &len),
        GP11_OK);
    m = val;
    line[0] = '\0';
    for (size_t i = 0; i < len / sizeof(*m) && used < sizeof(line); i++) {
        const char *name = gp11_ckm_name(m[i]);

        used += (size_t)snprintf(line + used, sizeof(line) - used, " %s",
                                 name ? name : "?");
    }
    print_message("key %lu: CKA_ALLOWED_MECHANISMS (%lu bytes):%s\n",
                  (unsigned long)o->handle, (unsigned long)len,
                  len ? line : " (empty: not restricted)");
    free(val);
}

/* Every attribute that keeps a context key inside the token. */
static void check_context_key(const struct gp11_object *o)
{
    assert_bool(o, CKA_TOKEN, "CKA_TOKEN", CK_FALSE);
    assert_bool(o, CKA_SENSITIVE, "CKA_SENSITIVE", CK_TRUE);
    assert_bool(o, CKA_EXTRACTABLE, "CKA_EXTRACTABLE", CK_FALSE);
    /* provider/keysched.c makes context keys CKA_PRIVATE=FALSE on
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
    print_allowed_mechanisms(o);
    assert_no_wrap(o);
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
    reference_lineage(&lineage);
    list_keys(&before);
    hs.target = gl_service("host@localhost");
    if (!gl_handshake(&hs))
        gl_fail("handshake", GSS_ERROR(hs.imajor) ? hs.imajor : hs.amajor,
                GSS_ERROR(hs.imajor) ? hs.iminor : hs.aminor);
    /* QOP 0: send, receive, K_prf and the QOP key-derivation key, per
     * side (the handshake's keys are gone). */
    list_keys(&established);
    assert_int_equal(check_new_keys(&before, &established), 8); /* + K_prf */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(context_keys_stay_in_the_token),
    };

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
