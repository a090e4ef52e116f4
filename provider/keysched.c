/* SPDX-License-Identifier: Apache-2.0 */
/* The key schedule (docs/protocol.md 2.4), every key inside the token. */
#include "gp11_keysched.h"
#include "gp11_algs.h"
#include "gp11_kek.h"

#include <openssl/evp.h>
#include <string.h>

#define KEY_LEN 32

static const uint8_t p256_der[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t p384_der[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

/* The labels of protocol.md 2.4, in the order of struct gp11_keys use. */
#define LABEL_I2A "i2a"
#define LABEL_A2I "a2i"
#define LABEL_CONF_I "conf i"
#define LABEL_CONF_A "conf a"
#define LABEL_KDK "qop kdk"
#define LABEL_PRF "prf" /* K_prf of protocol.md 6 */

const uint8_t *gp11_group_curve(uint8_t group, size_t *len)
{
    switch (group) {
    case GP11_GROUP_ID_P256:
        *len = sizeof(p256_der);
        return p256_der;
    case GP11_GROUP_ID_P384:
        *len = sizeof(p384_der);
        return p384_der;
    default:
        *len = 0;
        return NULL;
    }
}

/* What a derived key may do; everything else is explicitly FALSE. */
enum key_use {
    USE_ENCRYPT = 1,
    USE_DECRYPT = 2,
    USE_MAC = 4,
    USE_DERIVE = 8,
    USE_EXPORT = 16, /* carried by an exported context (protocol.md 5) */
};

/* Derives one key with a template for its use; value_len in bytes. */
static uint32_t derive_key(struct gp11_token *tok, CK_MECHANISM *mech,
                           const struct gp11_object *base, CK_KEY_TYPE type,
                           CK_ULONG value_len, unsigned use,
                           struct gp11_object *out)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    /* Context export: extractable only when the policy allows it and a
     * KEK exists, then only by a trusted key where the token has one. */
    unsigned xp = use & USE_EXPORT ? gp11_kek_policy(tok) : 0;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
        {CKA_TOKEN, &no, sizeof(no)},
        /* Session objects of this process only; not private, because
         * SoftHSM2 decrypts private keys under a token-wide lock on every
         * operation (1.7x slower, and it serialises threads). Sensitivity
         * and extractability do not depend on it. */
        {CKA_PRIVATE, &no, sizeof(no)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, xp & GP11_EXPORT_KEYS ? &yes : &no, sizeof(no)},
        {CKA_ENCRYPT, use & USE_ENCRYPT ? &yes : &no, sizeof(yes)},
        {CKA_DECRYPT, use & USE_DECRYPT ? &yes : &no, sizeof(yes)},
        {CKA_SIGN, use & USE_MAC ? &yes : &no, sizeof(yes)},
        {CKA_VERIFY, use & USE_MAC ? &yes : &no, sizeof(yes)},
        {CKA_DERIVE, use & USE_DERIVE ? &yes : &no, sizeof(yes)},
        /* Both tokens default these to TRUE: a context key must never
         * wrap another key out of the token, nor unwrap one in. */
        {CKA_WRAP, &no, sizeof(no)},
        {CKA_UNWRAP, &no, sizeof(no)},
        {CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes)}, /* last: only if xp */
    };
    CK_ULONG n =
        sizeof(t) / sizeof(t[0]) -
        ((xp & GP11_EXPORT_KEYS) && (xp & GP11_EXPORT_TRUSTED) ? 0 : 1);

    return gp11_derive(tok, mech, base, t, n, out);
}

/* Z = ECDH(eph_priv, peer point), as a derive-only key of the type the
 * profile continues from. */
static uint32_t ecdh(struct gp11_token *tok, uint8_t profile, uint8_t group,
                     const struct gp11_object *eph, const uint8_t *point,
                     size_t point_len, struct gp11_object *z)
{
    CK_ECDH1_DERIVE_PARAMS p = {
        .kdf = CKD_NULL,
        .ulSharedDataLen = 0,
        .pSharedData = NULL,
        .ulPublicDataLen = point_len,
        .pPublicData = (CK_BYTE *)point,
    };
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};

    if (profile == GP11_PROFILE_ID_KDF_240)
        return derive_key(tok, &m, eph, CKK_AES, KEY_LEN, USE_DERIVE, z);
    /* NSS softoken HKDF-derives no extractable key from a
     * non-extractable one (CKR_KEY_FUNCTION_NOT_PERMITTED): Z is as
     * exportable as the keys it makes, and destroyed at once. */
    return derive_key(tok, &m, eph, CKK_GENERIC_SECRET,
                      group == GP11_GROUP_ID_P384 ? 48 : 32,
                      USE_DERIVE | USE_EXPORT, z);
}

/* Profile 1: K_L = AES-ECB_M(B_0 || B_1 ...), B_j = H(...)[0..14] || j,
 * as many blocks as the key is long (two for the AES-256 keys). */
static uint32_t derive_240(struct gp11_token *tok,
                           const struct gp11_object *master, const char *label,
                           const uint8_t th[GP11_TH_LEN], CK_KEY_TYPE type,
                           size_t len, unsigned use, struct gp11_object *out)
{
    static const char ctx[] = "gss-pkcs11 v1 kdf-2.40";
    uint8_t d[32], data[64];
    unsigned int dlen = sizeof(d);
    size_t blocks = (len + 15) / 16;
    CK_KEY_DERIVATION_STRING_DATA sd = {data, blocks * 16};
    CK_MECHANISM m = {CKM_AES_ECB_ENCRYPT_DATA, &sd, sizeof(sd)};
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    bool ok;

    ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(h, ctx, sizeof(ctx)) == 1 &&
         EVP_DigestUpdate(h, label, strlen(label) + 1) == 1 &&
         EVP_DigestUpdate(h, th, GP11_TH_LEN) == 1 &&
         EVP_DigestFinal_ex(h, d, &dlen) == 1;
    EVP_MD_CTX_free(h);
    if (!ok)
        return gp11_err_set(GP11_ERR_INTERNAL, "SHA-256 failed");
    if (blocks > sizeof(data) / 16)
        return gp11_err_set(GP11_ERR_INTERNAL, "derived key too long");
    for (size_t j = 0; j < blocks; j++) {
        memcpy(data + 16 * j, d, 15);
        data[16 * j + 15] = (uint8_t)j;
    }
    return derive_key(tok, &m, master, type, len, use, out);
}

/* Profile 2: K_L = HKDF-SHA256(salt, Z, "gss-pkcs11 v1 " L "\0" TH). */
static uint32_t derive_hkdf(struct gp11_token *tok, const struct gp11_object *z,
                            const char *label, const uint8_t th[GP11_TH_LEN],
                            CK_KEY_TYPE type, size_t len, unsigned use,
                            struct gp11_object *out)
{
    static const char salt[] = "gss-pkcs11 v1 hkdf";
    static const char prefix[] = "gss-pkcs11 v1 ";
    uint8_t info[sizeof(prefix) - 1 + 16 + GP11_TH_LEN];
    size_t n = 0, l = strlen(label) + 1;
    CK_HKDF_PARAMS p = {0};
    CK_MECHANISM m = {CKM_HKDF_DERIVE, &p, sizeof(p)};

    memcpy(info, prefix, sizeof(prefix) - 1);
    n = sizeof(prefix) - 1;
    memcpy(info + n, label, l);
    n += l;
    memcpy(info + n, th, GP11_TH_LEN);
    n += GP11_TH_LEN;
    p.bExtract = CK_TRUE;
    p.bExpand = CK_TRUE;
    p.prfHashMechanism = CKM_SHA256;
    p.ulSaltType = CKF_HKDF_SALT_DATA;
    p.pSalt = (CK_BYTE *)salt;
    p.ulSaltLen = sizeof(salt) - 1;
    p.hSaltKey = CK_INVALID_HANDLE;
    p.pInfo = info;
    p.ulInfoLen = n;
    return derive_key(tok, &m, z, type, len, use, out);
}

/* Derives one labelled key with the profile's construction. */
static uint32_t derive_labelled(struct gp11_token *tok, uint8_t profile,
                                const struct gp11_object *base,
                                const char *label,
                                const uint8_t th[GP11_TH_LEN], CK_KEY_TYPE type,
                                size_t len, unsigned use,
                                struct gp11_object *out)
{
    if (profile == GP11_PROFILE_ID_KDF_240)
        return derive_240(tok, base, label, th, type, len, use, out);
    return derive_hkdf(tok, base, label, th, type, len, use, out);
}

/* Derives the four keys of protocol.md 2.4 and the QOP key-derivation
 * key from Z (or the 2.40 master). */
static uint32_t derive_all(struct gp11_token *tok, uint8_t profile,
                           const struct gp11_object *z,
                           const uint8_t th[GP11_TH_LEN], bool initiator,
                           bool with_kdk, struct gp11_keys *k)
{
    /* The KDK derives like Z does: an AES key for 2.40, else generic. */
    CK_KEY_TYPE kdk_type =
        profile == GP11_PROFILE_ID_KDF_240 ? CKK_AES : CKK_GENERIC_SECRET;
    struct {
        const char *label;
        CK_KEY_TYPE type;
        unsigned use;
        struct gp11_object *out;
    } plan[] = {
        {LABEL_I2A, CKK_AES,
         USE_EXPORT | (initiator ? USE_ENCRYPT : USE_DECRYPT),
         initiator ? &k->send : &k->recv},
        {LABEL_A2I, CKK_AES,
         USE_EXPORT | (initiator ? USE_DECRYPT : USE_ENCRYPT),
         initiator ? &k->recv : &k->send},
        {LABEL_CONF_I, CKK_AES, USE_MAC,
         initiator ? &k->conf_own : &k->conf_peer},
        {LABEL_CONF_A, CKK_AES, USE_MAC,
         initiator ? &k->conf_peer : &k->conf_own},
        {LABEL_PRF, CKK_GENERIC_SECRET, USE_EXPORT | USE_MAC, &k->prf},
        {LABEL_KDK, kdk_type, USE_EXPORT | USE_DERIVE, &k->kdk},
    };
    uint32_t ret = GP11_OK;
    /* The KDK is last: leaving it out (policy extra-qops = no) is n - 1. */
    size_t i, n = sizeof(plan) / sizeof(plan[0]) - (with_kdk ? 0 : 1);

    for (i = 0; i < n && ret == GP11_OK; i++)
        ret = derive_labelled(tok, profile, z, plan[i].label, th, plan[i].type,
                              KEY_LEN, plan[i].use, plan[i].out);
    if (ret != GP11_OK) {
        /* The failed one was not created; destroy the ones before it. */
        for (size_t j = 0; j + 1 < i; j++)
            gp11_object_destroy(tok, plan[j].out);
        return ret;
    }
    k->have_traffic = k->have_conf = k->have_prf = true;
    k->have_kdk = with_kdk;
    k->profile = profile;
    return GP11_OK;
}

uint32_t gp11_ks_derive_qop(struct gp11_token *tok,
                            const struct gp11_keys *keys, const char *label,
                            CK_KEY_TYPE type, size_t len, bool encrypt,
                            bool mac, bool decrypt, struct gp11_object *out)
{
    /* The KDK is bound to the transcript already. */
    static const uint8_t no_th[GP11_TH_LEN];
    unsigned use = (encrypt ? USE_ENCRYPT : 0) | (decrypt ? USE_DECRYPT : 0) |
                   (mac ? USE_MAC : 0);

    if (!keys->have_kdk)
        return gp11_err_set(GP11_ERR_NO_CONTEXT,
                            "the context has no QOP key-derivation key");
    return derive_labelled(tok, keys->profile, &keys->kdk, label, no_th, type,
                           len, use, out);
}

uint32_t gp11_ks_derive(struct gp11_token *tok, uint8_t profile, uint8_t group,
                        struct gp11_object *eph_priv, const uint8_t *peer_point,
                        size_t point_len, const uint8_t th[GP11_TH_LEN],
                        bool initiator, bool with_kdk, struct gp11_keys *keys)
{
    struct gp11_object z;
    uint32_t ret;

    memset(keys, 0, sizeof(*keys));
    ret = ecdh(tok, profile, group, eph_priv, peer_point, point_len, &z);
    /* The ephemeral key has done its only job. */
    gp11_object_destroy(tok, eph_priv);
    if (ret != GP11_OK)
        return ret;
    ret = derive_all(tok, profile, &z, th, initiator, with_kdk, keys);
    /* Z (the 2.40 master) can derive: it must not outlive this call. */
    gp11_object_destroy(tok, &z);
    return ret;
}

uint32_t gp11_ks_mac(struct gp11_token *tok, const struct gp11_object *key,
                     const char *label, const uint8_t h[GP11_TH_LEN],
                     uint8_t mac[GP11_MAC_LEN])
{
    CK_MECHANISM m = {CKM_AES_CMAC, NULL, 0};
    uint8_t data[64 + GP11_TH_LEN];
    size_t l = strlen(label) + 1, mac_len = GP11_MAC_LEN;

    if (l > 64)
        return gp11_err_set(GP11_ERR_INTERNAL, "MAC label too long");
    memcpy(data, label, l);
    memcpy(data + l, h, GP11_TH_LEN);
    return gp11_sign(tok, &m, key, data, l + GP11_TH_LEN, mac, &mac_len);
}

uint32_t gp11_ks_mac_check(struct gp11_token *tok,
                           const struct gp11_object *key, const char *label,
                           const uint8_t h[GP11_TH_LEN],
                           const uint8_t mac[GP11_MAC_LEN])
{
    uint8_t want[GP11_MAC_LEN];
    uint32_t ret;

    ret = gp11_ks_mac(tok, key, label, h, want);
    if (ret != GP11_OK)
        return ret;
    if (!gp11_ct_equal(want, mac, GP11_MAC_LEN))
        return gp11_err_set(GP11_ERR_KEY_CONFIRMATION,
                            "the peer's key confirmation MAC does not verify "
                            "(different keys or a modified handshake)");
    return GP11_OK;
}

void gp11_keys_drop_conf(struct gp11_token *tok, struct gp11_keys *keys)
{
    if (!keys->have_conf)
        return;
    gp11_object_destroy(tok, &keys->conf_own);
    gp11_object_destroy(tok, &keys->conf_peer);
    keys->have_conf = false;
}

void gp11_keys_destroy(struct gp11_token *tok, struct gp11_keys *keys)
{
    gp11_keys_drop_conf(tok, keys);
    if (keys->have_kdk) {
        gp11_object_destroy(tok, &keys->kdk);
        keys->have_kdk = false;
    }
    if (keys->have_prf) {
        gp11_object_destroy(tok, &keys->prf);
        keys->have_prf = false;
    }
    if (!keys->have_traffic)
        return;
    gp11_object_destroy(tok, &keys->send);
    gp11_object_destroy(tok, &keys->recv);
    keys->have_traffic = false;
}
