/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capability probe on the real token: the facts measured on SoftHSM2 2.6
 * and NSS softoken 3.87, so a change in the probe (or in the token) shows.
 */
#include "testlib.h"

#include <string.h>

/* Finds an offering by name. */
static const struct gp11_offering *offering(const char *name)
{
    size_t n;
    const struct gp11_offering *o = gp11_offerings(&n);

    for (size_t i = 0; i < n; i++)
        if (strcmp(o[i].name, name) == 0)
            return &o[i];
    fail_msg("no offering %s", name);
    return NULL;
}

static void common_features(void **state)
{
    struct gp11_token *tok = tl_open();
    struct gp11_caps c;

    (void)state;
    tl_assert_err(gp11_caps_probe(tok, &c), GP11_OK);
    assert_true(c.mech_count > 20);
    assert_true(gp11_caps_have(&c, GP11_F_AES_GCM));
    assert_true(gp11_caps_have(&c, GP11_F_ECDH_P256));
    assert_true(gp11_caps_have(&c, GP11_F_ECDH_P384));
    assert_true(gp11_caps_have(&c, GP11_F_ECDSA));
    assert_true(gp11_caps_have(&c, GP11_F_RSA_PSS));
    assert_true(gp11_caps_have(&c, GP11_F_HMAC_SHA256));
    assert_true(gp11_caps_have(&c, GP11_F_HMAC_SHA512));
    assert_true(gp11_caps_have(&c, GP11_F_AES_CMAC));
    assert_int_equal(c.f[GP11_F_AES_GCM].mech, CKM_AES_GCM);
    assert_true(c.f[GP11_F_AES_GCM].info.ulMaxKeySize >= 32);
    assert_true(gp11_offering_available(&c, offering("P-256"), NULL));
    assert_true(gp11_offering_available(&c, offering("AES-256-GCM"), NULL));
    gp11_token_close(tok);
}

static void token_specific_features(void **state)
{
    struct gp11_token *tok = tl_open();
    enum gp11_feature missing;
    struct gp11_caps c;
    bool nss = strcmp(tl_kind(), "nss") == 0;

    (void)state;
    tl_assert_err(gp11_caps_probe(tok, &c), GP11_OK);
    /* SoftHSM2: the 2.40 profile only; NSS: the 3.0 profile, and the 2.40
     * one through the quirk unlisted-ecb-encrypt-data. */
    assert_true(gp11_caps_have(&c, GP11_F_AES_ECB_ENCRYPT_DATA));
    assert_int_equal(c.f[GP11_F_AES_ECB_ENCRYPT_DATA].unlisted, nss);
    assert_int_equal(gp11_caps_have(&c, GP11_F_HKDF), nss);
    assert_int_equal(gp11_caps_have(&c, GP11_F_SP800_108), nss);
    assert_int_equal(gp11_caps_have(&c, GP11_F_CHACHA20_POLY1305), nss);
    assert_int_equal(gp11_caps_have(&c, GP11_F_HMAC_SHA256_GENERAL), nss);
    assert_true(gp11_offering_available(&c, offering("kdf-2.40"), &missing));
    assert_int_equal(
        gp11_offering_available(&c, offering("kdf-3.0-hkdf"), &missing), nss);
    if (!nss) {
        assert_int_equal(missing, GP11_F_HKDF);
        assert_string_equal(c.f[GP11_F_HKDF].why_not,
                            "mechanism not offered by the token");
    }
    gp11_token_close(tok);
}

static void names_are_complete(void **state)
{
    (void)state;
    for (int f = 0; f < GP11_F_COUNT; f++) {
        assert_string_not_equal(gp11_feature_name(f), "?");
        assert_non_null(gp11_ckm_name(gp11_feature_mech(f)));
    }
    for (unsigned bit = 1; bit & gp11_quirk_all(); bit <<= 1) {
        assert_non_null(gp11_quirk_name(bit));
        assert_non_null(gp11_quirk_description(bit));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(common_features),
        cmocka_unit_test(token_specific_features),
        cmocka_unit_test(names_are_complete),
    };

    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
