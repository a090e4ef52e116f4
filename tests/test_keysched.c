/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key schedule on the real token: two parties on the same token run
 * ECDH and the token's profile; their confirmation keys must agree, the
 * keys must be sensitive, and every intermediate must be gone.
 */
#include "testlib.h"
#include "gp11_algs.h"
#include "gp11_keysched.h"
#include "internal.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

/* The profile this suite's token supports. */
static uint8_t suite_profile(void)
{
    return strcmp(tl_kind(), "nss") == 0 ? GP11_PROFILE_ID_KDF_30_HKDF
                                         : GP11_PROFILE_ID_KDF_240;
}

struct party {
    struct gp11_object eph;
    uint8_t point[97];
    size_t point_len;
    struct gp11_keys keys;
};

static void ephemeral(struct gp11_token *tok, uint8_t group, struct party *p)
{
    size_t clen;
    const uint8_t *curve = gp11_group_curve(group, &clen);

    tl_assert_err(
        gp11_ec_ephemeral(tok, curve, clen, &p->eph, p->point, &p->point_len),
        GP11_OK);
    assert_int_equal(p->point_len, group == GP11_GROUP_ID_P256 ? 65 : 97);
    assert_int_equal(p->point[0], 0x04);
}

/* Runs both sides with transcript hashes thi / tha. */
static void agree(struct gp11_token *tok, uint8_t profile, uint8_t group,
                  const uint8_t *thi, const uint8_t *tha, struct party *i,
                  struct party *a)
{
    ephemeral(tok, group, i);
    ephemeral(tok, group, a);
    tl_assert_err(gp11_ks_derive(tok, profile, group, &i->eph, a->point,
                                 a->point_len, thi, true, true, &i->keys),
                  GP11_OK);
    tl_assert_err(gp11_ks_derive(tok, profile, group, &a->eph, i->point,
                                 i->point_len, tha, false, true, &a->keys),
                  GP11_OK);
}

static void check_group(uint8_t group)
{
    struct gp11_token *tok = tl_open();
    uint8_t th[32], mac[16], h[32];
    struct party i, a;
    struct gp11_object *all[8];

    memset(th, 0x42, sizeof(th));
    memset(h, 0x17, sizeof(h));
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    agree(tok, suite_profile(), group, th, th, &i, &a);
    /* Each side's own MAC verifies with the other's peer key. */
    tl_assert_err(gp11_ks_mac(tok, &i.keys.conf_own, "fin i", h, mac), GP11_OK);
    tl_assert_err(gp11_ks_mac_check(tok, &a.keys.conf_peer, "fin i", h, mac),
                  GP11_OK);
    tl_assert_err(gp11_ks_mac(tok, &a.keys.conf_own, "fin a", h, mac), GP11_OK);
    tl_assert_err(gp11_ks_mac_check(tok, &i.keys.conf_peer, "fin a", h, mac),
                  GP11_OK);
    /* Another label, another hash, or the other key: no match. */
    tl_assert_err(gp11_ks_mac_check(tok, &i.keys.conf_peer, "fin b", h, mac),
                  GP11_ERR_KEY_CONFIRMATION);
    tl_assert_err(gp11_ks_mac_check(tok, &i.keys.conf_own, "fin a", h, mac),
                  GP11_ERR_KEY_CONFIRMATION);
    /* The ephemeral keys are gone; every derived key is sensitive. */
    assert_int_not_equal(gp11_object_probe_attr(tok, &i.eph, CKA_CLASS),
                         CKR_OK);
    assert_int_not_equal(gp11_object_probe_attr(tok, &a.eph, CKA_CLASS),
                         CKR_OK);
    all[0] = &i.keys.send, all[1] = &i.keys.recv, all[2] = &i.keys.conf_own;
    all[3] = &i.keys.conf_peer, all[4] = &a.keys.send, all[5] = &a.keys.recv;
    all[6] = &a.keys.conf_own, all[7] = &a.keys.conf_peer;
    for (int k = 0; k < 8; k++)
        assert_int_equal(gp11_object_probe_attr(tok, all[k], CKA_VALUE),
                         CKR_ATTRIBUTE_SENSITIVE);
    gp11_keys_destroy(tok, &i.keys);
    gp11_keys_destroy(tok, &a.keys);
    for (int k = 0; k < 8; k++)
        assert_int_not_equal(gp11_object_probe_attr(tok, all[k], CKA_CLASS),
                             CKR_OK);
    gp11_token_close(tok);
}

static void p256_keys_agree(void **state)
{
    (void)state;
    check_group(GP11_GROUP_ID_P256);
}

static void p384_keys_agree(void **state)
{
    (void)state;
    check_group(GP11_GROUP_ID_P384);
}

static void different_transcripts_give_different_keys(void **state)
{
    struct gp11_token *tok = tl_open();
    uint8_t thi[32], tha[32], mac[16], h[32] = {0};
    struct party i, a;

    (void)state;
    memset(thi, 1, sizeof(thi));
    memcpy(tha, thi, sizeof(tha));
    tha[31] ^= 1;
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    agree(tok, suite_profile(), GP11_GROUP_ID_P256, thi, tha, &i, &a);
    tl_assert_err(gp11_ks_mac(tok, &i.keys.conf_own, "fin i", h, mac), GP11_OK);
    tl_assert_err(gp11_ks_mac_check(tok, &a.keys.conf_peer, "fin i", h, mac),
                  GP11_ERR_KEY_CONFIRMATION);
    gp11_keys_destroy(tok, &i.keys);
    gp11_keys_destroy(tok, &a.keys);
    gp11_token_close(tok);
}

/* NSS softoken derives with CKM_AES_ECB_ENCRYPT_DATA though it does not
 * list it (quirk unlisted-ecb-encrypt-data): so it runs both profiles and
 * can meet a SoftHSM2 peer on kdf-2.40. */
static void nss_runs_the_240_profile_too(void **state)
{
    (void)state;
    if (strcmp(tl_kind(), "nss") != 0)
        skip();
    struct gp11_token *tok = tl_open();
    uint8_t th[32] = {9}, mac[16], h[32] = {0};
    struct party i, a;

    tl_assert_err(gp11_token_login(tok), GP11_OK);
    agree(tok, GP11_PROFILE_ID_KDF_240, GP11_GROUP_ID_P256, th, th, &i, &a);
    tl_assert_err(gp11_ks_mac(tok, &i.keys.conf_own, "x", h, mac), GP11_OK);
    tl_assert_err(gp11_ks_mac_check(tok, &a.keys.conf_peer, "x", h, mac),
                  GP11_OK);
    gp11_keys_destroy(tok, &i.keys);
    gp11_keys_destroy(tok, &a.keys);
    gp11_token_close(tok);
}

static void unsupported_profile_fails_cleanly(void **state)
{
    if (strcmp(tl_kind(), "softhsm") != 0)
        skip(); /* NSS runs both profiles */
    struct gp11_token *tok = tl_open();
    uint8_t other = suite_profile() == GP11_PROFILE_ID_KDF_240
                        ? GP11_PROFILE_ID_KDF_30_HKDF
                        : GP11_PROFILE_ID_KDF_240;
    uint8_t th[32] = {0};
    struct party i, a;
    uint32_t ret;

    (void)state;
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    ephemeral(tok, GP11_GROUP_ID_P256, &i);
    ephemeral(tok, GP11_GROUP_ID_P256, &a);
    ret = gp11_ks_derive(tok, other, GP11_GROUP_ID_P256, &i.eph, a.point,
                         a.point_len, th, true, true, &i.keys);
    tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
    tl_assert_msg(ret, "C_DeriveKey returned CKR_");
    assert_false(i.keys.have_traffic);
    /* The ephemeral key is destroyed even on failure. */
    assert_int_not_equal(gp11_object_probe_attr(tok, &i.eph, CKA_CLASS),
                         CKR_OK);
    gp11_object_destroy(tok, &a.eph);
    gp11_token_close(tok);
}

/* ---- every key names its mechanism (issue 9 item 9) ---------------------- */

/* Asserts that CKA_ALLOWED_MECHANISMS of o is exactly {want}. */
static void assert_allowed(struct gp11_token *tok, const struct gp11_object *o,
                           CK_MECHANISM_TYPE want, const char *what)
{
    CK_MECHANISM_TYPE *m;
    void *val = NULL;
    CK_ULONG len = 0;

    tl_assert_err(
        gp11_object_get_attr(tok, o, CKA_ALLOWED_MECHANISMS, &val, &len),
        GP11_OK);
    m = val;
    if (len != sizeof(*m) || m[0] != want)
        fail_msg("%s: CKA_ALLOWED_MECHANISMS has %lu entries (first %s), "
                 "want exactly %s",
                 what, (unsigned long)(len / sizeof(*m)),
                 len >= sizeof(*m) && gp11_ckm_name(m[0]) ? gp11_ckm_name(m[0])
                                                          : "-",
                 gp11_ckm_name(want));
    free(val);
}

/* The C_DeriveKey calls seen while the hook is in: which mechanism made
 * a key whose template allowed which one mechanism (0: none listed). */
static struct {
    CK_MECHANISM_TYPE made_by, allowed;
} derived[16];
static size_t n_derived;
static CK_FUNCTION_LIST *real_fns, hooked_fns;
/* C_DestroyObject calls to let through before failing (-1: never fail),
 * how many to fail then, and how many failed. */
static int destroy_ok_left = -1, destroy_fail_n, destroys_failed;

static CK_RV hook_DeriveKey(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
                            CK_OBJECT_HANDLE base, CK_ATTRIBUTE_PTR t,
                            CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
    CK_MECHANISM_TYPE allowed = 0;

    for (CK_ULONG i = 0; i < n; i++)
        if (t[i].type == CKA_ALLOWED_MECHANISMS &&
            t[i].ulValueLen == sizeof(CK_MECHANISM_TYPE))
            allowed = *(CK_MECHANISM_TYPE *)t[i].pValue;
    if (n_derived < sizeof(derived) / sizeof(derived[0])) {
        derived[n_derived].made_by = m->mechanism;
        derived[n_derived++].allowed = allowed;
    }
    return real_fns->C_DeriveKey(s, m, base, t, n, out);
}

static CK_RV hook_DestroyObject(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
    if (destroy_ok_left == 0 && destroy_fail_n > 0) {
        destroy_fail_n--;
        destroys_failed++;
        return CKR_DEVICE_ERROR;
    }
    if (destroy_ok_left > 0)
        destroy_ok_left--;
    return real_fns->C_DestroyObject(s, o);
}

/* Puts the hooks in front of the token's module (this process only). */
static void hook(struct gp11_token *tok)
{
    real_fns = tok->mod->fns;
    hooked_fns = *real_fns;
    hooked_fns.C_DeriveKey = hook_DeriveKey;
    hooked_fns.C_DestroyObject = hook_DestroyObject;
    tok->mod->fns = &hooked_fns;
    n_derived = 0;
    destroy_ok_left = -1;
    destroy_fail_n = 1;
    destroys_failed = 0;
}

static void unhook(struct gp11_token *tok)
{
    tok->mod->fns = real_fns;
}

/*
 * The ephemeral key allows CKM_ECDH1_DERIVE only; Z (the 2.40 master)
 * and K_qop only the profile's derivation; traffic keys CKM_AES_GCM;
 * confirmation keys CKM_AES_CMAC. Z lives only inside gp11_ks_derive,
 * so its template is seen on the way to the token.
 */
static void every_key_names_its_mechanism(void **state)
{
    struct gp11_token *tok = tl_open();
    uint8_t profile = suite_profile(), th[32] = {3};
    CK_MECHANISM_TYPE kdf = profile == GP11_PROFILE_ID_KDF_240
                                ? CKM_AES_ECB_ENCRYPT_DATA
                                : CKM_HKDF_DERIVE;
    struct party i, a;

    (void)state;
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    ephemeral(tok, GP11_GROUP_ID_P256, &i);
    ephemeral(tok, GP11_GROUP_ID_P256, &a);
    assert_allowed(tok, &i.eph, CKM_ECDH1_DERIVE, "the ephemeral key");
    assert_allowed(tok, &a.eph, CKM_ECDH1_DERIVE, "the ephemeral key");
    hook(tok);
    tl_assert_err(gp11_ks_derive(tok, profile, GP11_GROUP_ID_P256, &i.eph,
                                 a.point, a.point_len, th, true, true, &i.keys),
                  GP11_OK);
    unhook(tok);
    /* ECDH, then six keys from Z (traffic, confirmation, K_prf, K_qop). */
    assert_int_equal(n_derived, 7);
    assert_int_equal(derived[0].made_by, CKM_ECDH1_DERIVE);
    if (derived[0].allowed != kdf)
        fail_msg("Z was made allowing %s, want %s",
                 derived[0].allowed ? gp11_ckm_name(derived[0].allowed)
                                    : "any mechanism",
                 gp11_ckm_name(kdf));
    for (size_t k = 1; k < n_derived; k++)
        assert_int_equal(derived[k].made_by, kdf);
    assert_allowed(tok, &i.keys.send, CKM_AES_GCM, "the send key");
    assert_allowed(tok, &i.keys.recv, CKM_AES_GCM, "the receive key");
    assert_allowed(tok, &i.keys.conf_own, CKM_AES_CMAC, "a confirmation key");
    assert_allowed(tok, &i.keys.conf_peer, CKM_AES_CMAC, "a confirmation key");
    assert_allowed(tok, &i.keys.prf, CKM_SHA256_HMAC, "K_prf");
    assert_allowed(tok, &i.keys.kdk, kdf, "K_qop");
    tl_assert_err(gp11_keys_destroy(tok, &i.keys), GP11_OK);
    tl_assert_err(gp11_object_destroy(tok, &a.eph), GP11_OK);
    gp11_token_close(tok);
}

/* Counts the secret keys visible on the token. */
static size_t count_secret_keys(struct gp11_token *tok)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}};
    struct gp11_object *objs = NULL;
    size_t n = 0;

    tl_assert_err(gp11_object_find(tok, t, 1, &objs, &n), GP11_OK);
    free(objs);
    return n;
}

/*
 * The token refuses to destroy the ephemeral key (first destroy) or Z /
 * the 2.40 master (second): the derivation fails, names the key, and
 * leaves no derived key behind (the refused one remains: removed here
 * with the real C_DestroyObject).
 */
static void destroy_failure_refuses_the_context(void **state)
{
    static const char *const names[2] = {"the ephemeral private key",
                                         "could not be destroyed"};
    struct gp11_token *tok = tl_open();
    uint8_t th[32] = {5};

    (void)state;
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    for (int which = 0; which < 2; which++) {
        struct party i, a;
        size_t keys_before;
        uint32_t ret;

        ephemeral(tok, GP11_GROUP_ID_P256, &i);
        ephemeral(tok, GP11_GROUP_ID_P256, &a);
        keys_before = count_secret_keys(tok);
        hook(tok);
        destroy_ok_left = which;
        ret = gp11_ks_derive(tok, suite_profile(), GP11_GROUP_ID_P256, &i.eph,
                             a.point, a.point_len, th, true, true, &i.keys);
        unhook(tok);
        assert_int_equal(destroys_failed, 1);
        tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
        tl_assert_msg(ret, names[which]);
        tl_assert_msg(ret, "so the context is refused");
        assert_false(i.keys.have_traffic);
        assert_false(i.keys.have_kdk);
        /* which 0: Z was destroyed, the ephemeral key stays; which 1: Z
         * stays. Nothing else: the six derived keys are gone. */
        assert_int_equal(count_secret_keys(tok),
                         keys_before + (which == 1 ? 1 : 0));
        if (which == 0)
            tl_assert_err(gp11_object_destroy(tok, &i.eph), GP11_OK);
        else {
            /* Z is the one new secret key: find and remove it. */
            CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
            CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}};
            struct gp11_object *objs = NULL;
            size_t n = 0;

            tl_assert_err(gp11_object_find(tok, t, 1, &objs, &n), GP11_OK);
            for (size_t k = 0; k < n; k++) {
                CK_ULONG len = 0;
                void *v = NULL;

                if (gp11_object_get_attr(tok, &objs[k], CKA_ALLOWED_MECHANISMS,
                                         &v, &len) == GP11_OK &&
                    len == sizeof(CK_MECHANISM_TYPE) &&
                    *(CK_MECHANISM_TYPE *)v ==
                        (suite_profile() == GP11_PROFILE_ID_KDF_240
                             ? CKM_AES_ECB_ENCRYPT_DATA
                             : CKM_HKDF_DERIVE))
                    gp11_object_destroy(tok, &objs[k]);
                free(v);
            }
            free(objs);
            assert_int_equal(count_secret_keys(tok), keys_before);
        }
        tl_assert_err(gp11_object_destroy(tok, &a.eph), GP11_OK);
    }
    gp11_token_close(tok);
}

/* A key that cannot be destroyed at the end of a context is reported
 * (returned, and logged), not dropped silently. */
static void destroy_failure_at_the_end_is_reported(void **state)
{
    struct gp11_token *tok = tl_open();
    uint8_t th[32] = {6};
    struct party i, a;
    size_t keys_before;

    (void)state;
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    keys_before = count_secret_keys(tok);
    agree(tok, suite_profile(), GP11_GROUP_ID_P256, th, th, &i, &a);
    hook(tok);
    destroy_ok_left = 0;
    destroy_fail_n = 2;
    tl_assert_err(gp11_keys_drop_conf(tok, &i.keys), GP11_ERR_TOKEN_REFUSED);
    assert_int_equal(destroys_failed, 2); /* both were tried */
    unhook(tok);
    assert_false(i.keys.have_conf);
    tl_assert_err(gp11_keys_destroy(tok, &i.keys), GP11_OK);
    tl_assert_err(gp11_keys_destroy(tok, &a.keys), GP11_OK);
    /* The two refused confirmation keys remain (session objects). */
    assert_int_equal(count_secret_keys(tok), keys_before + 2);
    gp11_token_close(tok);
}

/* ---- known answers (protocol.md 2.4, version 2 labels) ------------------ */

/* Recorded with this test (scalars 1 + 7k and 100 + 7k, TH_a all 0x5a,
 * h all zero): the MAC of "fin i" under K_conf_i and the GMAC tag of
 * "kat" (zero IV) under K_i2a. */
#define KAT_240_MAC "f13347fb06d5b3f090d4965f425893b8"
#define KAT_240_TAG "bc27a48ac445c6e9f25304b2aca58a0d"
#define KAT_HKDF_MAC "c0726da2715bc1f21d7fa85cf57bbba3"
#define KAT_HKDF_TAG "ee96828b273a8538555de5fc97417060"

/* The fixed ephemeral scalars of the two parties. */
static void kat_scalar(uint8_t seed, uint8_t out[32])
{
    for (int k = 0; k < 32; k++)
        out[k] = (uint8_t)(seed + 7 * k);
}

/* Imports scalar as a P-256 ephemeral private key (as gp11_ec_ephemeral
 * makes them: derive-only, ECDH only); returns its public point. */
static void kat_import(struct gp11_token *tok, const uint8_t scalar[32],
                       struct gp11_object *priv, uint8_t point[65])
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE ec = CKK_EC;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM_TYPE allowed = CKM_ECDH1_DERIVE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &ec, sizeof(ec)},
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_DERIVE, &yes, sizeof(yes)},
        {CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
        {CKA_VALUE, (void *)scalar, 32},
        {CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)},
    };
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = EC_POINT_new(g);
    BIGNUM *k = BN_bin2bn(scalar, 32, NULL);

    tl_assert_err(gp11_object_create(tok, t, sizeof(t) / sizeof(t[0]), priv),
                  GP11_OK);
    assert_int_equal(EC_POINT_mul(g, pt, k, NULL, NULL, NULL), 1);
    assert_int_equal(EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED,
                                        point, 65, NULL),
                     65);
    BN_free(k);
    EC_POINT_free(pt);
    EC_GROUP_free(g);
}

/* Z = x(b * A) for scalar b and point A, in OpenSSL. */
static void kat_z(const uint8_t b[32], const uint8_t a_point[65], uint8_t z[32])
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pa = EC_POINT_new(g), *q = EC_POINT_new(g);
    BIGNUM *k = BN_bin2bn(b, 32, NULL), *x = BN_new();

    assert_int_equal(EC_POINT_oct2point(g, pa, a_point, 65, NULL), 1);
    assert_int_equal(EC_POINT_mul(g, q, NULL, pa, k, NULL), 1);
    assert_int_equal(EC_POINT_get_affine_coordinates(g, q, x, NULL, NULL), 1);
    assert_int_equal(BN_bn2binpad(x, z, 32), 32);
    BN_free(k);
    BN_free(x);
    EC_POINT_free(pa);
    EC_POINT_free(q);
    EC_GROUP_free(g);
}

/* K_L of the profile from Z, in OpenSSL (protocol.md 2.4). */
static void kat_key(uint8_t profile, const uint8_t z[32], const char *label,
                    const uint8_t th[32], uint8_t key[32])
{
    if (profile == GP11_PROFILE_ID_KDF_240) {
        static const char ctx[] = "gss-pkcs11 v2 kdf-2.40";
        uint8_t d[32], blocks[32];
        unsigned int dlen = 32;
        int n = 0, n2 = 0;
        EVP_MD_CTX *h = EVP_MD_CTX_new();
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

        assert_int_equal(EVP_DigestInit_ex(h, EVP_sha256(), NULL), 1);
        EVP_DigestUpdate(h, ctx, sizeof(ctx)); /* with its NUL */
        EVP_DigestUpdate(h, label, strlen(label) + 1);
        EVP_DigestUpdate(h, th, 32);
        assert_int_equal(EVP_DigestFinal_ex(h, d, &dlen), 1);
        for (int j = 0; j < 2; j++) {
            memcpy(blocks + 16 * j, d, 15);
            blocks[16 * j + 15] = (uint8_t)j;
        }
        assert_int_equal(
            EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), NULL, z, NULL), 1);
        EVP_CIPHER_CTX_set_padding(c, 0);
        assert_int_equal(EVP_EncryptUpdate(c, key, &n, blocks, 32), 1);
        assert_int_equal(EVP_EncryptFinal_ex(c, key + n, &n2), 1);
        assert_int_equal(n + n2, 32);
        EVP_MD_CTX_free(h);
        EVP_CIPHER_CTX_free(c);
    } else {
        static const char salt[] = "gss-pkcs11 v2 hkdf";
        static const char prefix[] = "gss-pkcs11 v2 ";
        uint8_t info[128];
        size_t n = 0;
        EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
        EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
        OSSL_PARAM p[5];

        memcpy(info, prefix, sizeof(prefix) - 1);
        n = sizeof(prefix) - 1;
        memcpy(info + n, label, strlen(label) + 1);
        n += strlen(label) + 1;
        memcpy(info + n, th, 32);
        n += 32;
        p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                (char *)"SHA256", 0);
        p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z,
                                                 32);
        p[2] = OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_SALT, (void *)salt, sizeof(salt) - 1);
        p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
        p[4] = OSSL_PARAM_construct_end();
        assert_int_equal(EVP_KDF_derive(kc, key, 32, p), 1);
        EVP_KDF_CTX_free(kc);
        EVP_KDF_free(kdf);
    }
}

/* AES-256-CMAC in OpenSSL. */
static void kat_cmac(const uint8_t key[32], const uint8_t *data, size_t len,
                     uint8_t mac[16])
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(m);
    OSSL_PARAM p[2] = {OSSL_PARAM_construct_utf8_string(
                           OSSL_MAC_PARAM_CIPHER, (char *)"AES-256-CBC", 0),
                       OSSL_PARAM_construct_end()};
    size_t out = 0;

    assert_int_equal(EVP_MAC_init(c, key, 32, p), 1);
    assert_int_equal(EVP_MAC_update(c, data, len), 1);
    assert_int_equal(EVP_MAC_final(c, mac, &out, 16), 1);
    assert_int_equal(out, 16);
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
}

/* Hex of 16 bytes, for the message. */
static const char *hex16(const uint8_t b[16], char out[33])
{
    for (int k = 0; k < 16; k++)
        snprintf(out + 2 * k, 3, "%02x", b[k]);
    return out;
}

/*
 * Fixed ephemeral scalars and transcript hash: the token's key schedule
 * must give the keys protocol.md 2.4 defines (computed here with OpenSSL
 * from the same Z), and the MAC under K_conf_i and the GCM tag under
 * K_i2a must be the recorded values of version 2.
 */
static void check_known_answer(uint8_t profile, const char *want_mac_hex,
                               const char *want_tag_hex)
{
    struct gp11_token *tok = tl_open();
    uint8_t sa[32], sb[32], pa[65], pb[65], z[32], th[32], h[32] = {0};
    uint8_t key[32], want[16], got[16], tag[16], data[64 + 32];
    uint8_t iv[GP11_GCM_IV_LEN] = {0};
    char hex[33];
    struct party i, a;
    size_t l;

    tl_assert_err(gp11_token_login(tok), GP11_OK);
    kat_scalar(1, sa);
    kat_scalar(100, sb);
    memset(th, 0x5a, sizeof(th));
    kat_import(tok, sa, &i.eph, pa);
    kat_import(tok, sb, &a.eph, pb);
    tl_assert_err(gp11_ks_derive(tok, profile, GP11_GROUP_ID_P256, &i.eph, pb,
                                 65, th, true, true, &i.keys),
                  GP11_OK);
    tl_assert_err(gp11_ks_derive(tok, profile, GP11_GROUP_ID_P256, &a.eph, pa,
                                 65, th, false, true, &a.keys),
                  GP11_OK);
    kat_z(sb, pa, z);
    /* mac = CMAC(K_conf_i, "fin i\0" || h), as gp11_ks_mac defines it. */
    kat_key(profile, z, "conf i", th, key);
    l = strlen("fin i") + 1;
    memcpy(data, "fin i", l);
    memcpy(data + l, h, 32);
    kat_cmac(key, data, l + 32, want);
    tl_assert_err(gp11_ks_mac(tok, &i.keys.conf_own, "fin i", h, got), GP11_OK);
    if (memcmp(got, want, 16) != 0)
        fail_msg("K_conf_i differs from protocol.md 2.4: token MAC %s",
                 hex16(got, hex));
    if (strcmp(hex16(got, hex), want_mac_hex) != 0)
        fail_msg("the MAC under K_conf_i is %s, recorded %s", hex,
                 want_mac_hex);
    /* K_i2a: a GMAC of "kat" under the initiator's send key, checked
     * with OpenSSL under the expected key. */
    tl_assert_err(gp11_aead_encrypt(tok, GP11_AEAD_AES_GCM, &i.keys.send, iv,
                                    (const uint8_t *)"kat", 3, NULL, 0, tag),
                  GP11_OK);
    kat_key(profile, z, "i2a", th, key);
    {
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int n = 0;

        assert_int_equal(
            EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv), 1);
        assert_int_equal(
            EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)"kat", 3), 1);
        assert_int_equal(EVP_EncryptFinal_ex(c, got, &n), 1);
        assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, want),
                         1);
        EVP_CIPHER_CTX_free(c);
    }
    if (memcmp(tag, want, 16) != 0)
        fail_msg("K_i2a differs from protocol.md 2.4: token tag %s",
                 hex16(tag, hex));
    if (strcmp(hex16(tag, hex), want_tag_hex) != 0)
        fail_msg("the tag under K_i2a is %s, recorded %s", hex, want_tag_hex);
    /* The acceptor's copy of K_conf_i verifies it: both sides agree. */
    tl_assert_err(gp11_ks_mac(tok, &i.keys.conf_own, "fin i", h, got), GP11_OK);
    tl_assert_err(gp11_ks_mac_check(tok, &a.keys.conf_peer, "fin i", h, got),
                  GP11_OK);
    tl_assert_err(gp11_keys_destroy(tok, &i.keys), GP11_OK);
    tl_assert_err(gp11_keys_destroy(tok, &a.keys), GP11_OK);
    gp11_token_close(tok);
}

static void known_answer_240(void **state)
{
    (void)state;
    check_known_answer(GP11_PROFILE_ID_KDF_240, KAT_240_MAC, KAT_240_TAG);
}

static void known_answer_hkdf(void **state)
{
    (void)state;
    if (suite_profile() != GP11_PROFILE_ID_KDF_30_HKDF)
        skip(); /* SoftHSM2 has no HKDF */
    check_known_answer(GP11_PROFILE_ID_KDF_30_HKDF, KAT_HKDF_MAC, KAT_HKDF_TAG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(p256_keys_agree),
        cmocka_unit_test(p384_keys_agree),
        cmocka_unit_test(different_transcripts_give_different_keys),
        cmocka_unit_test(nss_runs_the_240_profile_too),
        cmocka_unit_test(unsupported_profile_fails_cleanly),
        cmocka_unit_test(every_key_names_its_mechanism),
        cmocka_unit_test(destroy_failure_refuses_the_context),
        cmocka_unit_test(destroy_failure_at_the_end_is_reported),
        cmocka_unit_test(known_answer_240),
        cmocka_unit_test(known_answer_hkdf),
    };

    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
