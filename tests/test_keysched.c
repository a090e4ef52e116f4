/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key schedule on the real token: two parties on the same token run
 * ECDH and the token's profile; their confirmation keys must agree, the
 * keys must be sensitive, and every intermediate must be gone.
 */
#include "testlib.h"
#include "gp11_algs.h"
#include "gp11_keysched.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(p256_keys_agree),
        cmocka_unit_test(p384_keys_agree),
        cmocka_unit_test(different_transcripts_give_different_keys),
        cmocka_unit_test(nss_runs_the_240_profile_too),
        cmocka_unit_test(unsupported_profile_fails_cleanly),
    };

    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
