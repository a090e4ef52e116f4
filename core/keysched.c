/* SPDX-License-Identifier: Apache-2.0 */
/* The key schedule (docs/protocol.md 2.4), every key inside the token. */
#include "gp11_keysched.h"
#include "gp11_algs.h"
#include "gp11_debug.h"
#include "gp11_kek.h"

#include <openssl/evp.h>
#include <stdio.h>
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

/* The one mechanism a derive-only key of the profile serves: the
 * profile's own derivation (protocol.md 2.4). */
static CK_MECHANISM_TYPE profile_mech(uint8_t profile)
{
    return profile == GP11_PROFILE_ID_KDF_240 ? CKM_AES_ECB_ENCRYPT_DATA
                                              : CKM_HKDF_DERIVE;
}

/* Derives one key with a template for its use; value_len in bytes. The
 * key may run exactly one mechanism, allowed (CKA_ALLOWED_MECHANISMS). */
static uint32_t derive_key(struct gp11_token *tok, CK_MECHANISM *mech,
                           const struct gp11_object *base, CK_KEY_TYPE type,
                           CK_ULONG value_len, unsigned use,
                           CK_MECHANISM_TYPE allowed, struct gp11_object *out)
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
        /* Within its use, only its mechanism: a GCM key must not run
         * CKM_AES_ECB (which yields GCM's hash key), a derive key no
         * other derivation (quirk allowed-mechanisms-ignored: a token
         * that stores but does not enforce it). */
        {CKA_ALLOWED_MECHANISMS, &allowed, sizeof(allowed)},
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
        return derive_key(tok, &m, eph, CKK_AES, KEY_LEN, USE_DERIVE,
                          profile_mech(profile), z);
    /* NSS softoken HKDF-derives no extractable key from a
     * non-extractable one (CKR_KEY_FUNCTION_NOT_PERMITTED): Z is as
     * exportable as the keys it makes, and destroyed at once. */
    return derive_key(tok, &m, eph, CKK_GENERIC_SECRET,
                      group == GP11_GROUP_ID_P384 ? 48 : 32,
                      USE_DERIVE | USE_EXPORT, profile_mech(profile), z);
}

/* Profile 1: K_L = AES-ECB_M(B_0 || B_1 ...), B_j = H(...)[0..14] || j,
 * as many blocks as the key is long (two for the AES-256 keys). */
static uint32_t derive_240(struct gp11_token *tok,
                           const struct gp11_object *master, const char *label,
                           const uint8_t th[GP11_TH_LEN], CK_KEY_TYPE type,
                           size_t len, unsigned use, CK_MECHANISM_TYPE allowed,
                           struct gp11_object *out)
{
    static const char ctx[] = "gss-pkcs11 v2 kdf-2.40";
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
    return derive_key(tok, &m, master, type, len, use, allowed, out);
}

/* Profile 2: K_L = HKDF-SHA256(salt, Z, "gss-pkcs11 v2 " L "\0" TH). */
static uint32_t derive_hkdf(struct gp11_token *tok, const struct gp11_object *z,
                            const char *label, const uint8_t th[GP11_TH_LEN],
                            CK_KEY_TYPE type, size_t len, unsigned use,
                            CK_MECHANISM_TYPE allowed, struct gp11_object *out)
{
    static const char salt[] = "gss-pkcs11 v2 hkdf";
    static const char prefix[] = "gss-pkcs11 v2 ";
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
    return derive_key(tok, &m, z, type, len, use, allowed, out);
}

/* Derives one labelled key with the profile's construction. */
static uint32_t derive_labelled(struct gp11_token *tok, uint8_t profile,
                                const struct gp11_object *base,
                                const char *label,
                                const uint8_t th[GP11_TH_LEN], CK_KEY_TYPE type,
                                size_t len, unsigned use,
                                CK_MECHANISM_TYPE allowed,
                                struct gp11_object *out)
{
    if (profile == GP11_PROFILE_ID_KDF_240)
        return derive_240(tok, base, label, th, type, len, use, allowed, out);
    return derive_hkdf(tok, base, label, th, type, len, use, allowed, out);
}

/* Destroys a key the schedule made; a failure is logged and returned
 * (the caller decides whether the context can live with it). */
static uint32_t destroy_key(struct gp11_token *tok, struct gp11_object *key,
                            const char *what)
{
    uint32_t ret = gp11_object_destroy(tok, key);

    if (ret != GP11_OK)
        GP11_DEBUG("cannot destroy %s (object %lu): %s", what,
                   (unsigned long)key->handle, gp11_err_message(ret));
    return ret;
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
        CK_MECHANISM_TYPE allowed;
        struct gp11_object *out;
    } plan[] = {
        {LABEL_I2A, CKK_AES,
         USE_EXPORT | (initiator ? USE_ENCRYPT : USE_DECRYPT), CKM_AES_GCM,
         initiator ? &k->send : &k->recv},
        {LABEL_A2I, CKK_AES,
         USE_EXPORT | (initiator ? USE_DECRYPT : USE_ENCRYPT), CKM_AES_GCM,
         initiator ? &k->recv : &k->send},
        {LABEL_CONF_I, CKK_AES, USE_MAC, CKM_AES_CMAC,
         initiator ? &k->conf_own : &k->conf_peer},
        {LABEL_CONF_A, CKK_AES, USE_MAC, CKM_AES_CMAC,
         initiator ? &k->conf_peer : &k->conf_own},
        {LABEL_PRF, CKK_GENERIC_SECRET, USE_EXPORT | USE_MAC, CKM_SHA256_HMAC,
         &k->prf},
        {LABEL_KDK, kdk_type, USE_EXPORT | USE_DERIVE, profile_mech(profile),
         &k->kdk},
    };
    uint32_t ret = GP11_OK;
    /* The KDK is last: leaving it out (policy extra-qops = no) is n - 1. */
    size_t i, n = sizeof(plan) / sizeof(plan[0]) - (with_kdk ? 0 : 1);

    for (i = 0; i < n && ret == GP11_OK; i++)
        ret =
            derive_labelled(tok, profile, z, plan[i].label, th, plan[i].type,
                            KEY_LEN, plan[i].use, plan[i].allowed, plan[i].out);
    if (ret != GP11_OK) {
        /* The failed one was not created; destroy the ones before it. */
        for (size_t j = 0; j + 1 < i; j++)
            destroy_key(tok, plan[j].out, plan[j].label);
        return ret;
    }
    k->have_traffic = k->have_conf = k->have_prf = true;
    k->have_kdk = with_kdk;
    k->profile = profile;
    return GP11_OK;
}

uint32_t gp11_ks_derive_qop(struct gp11_token *tok,
                            const struct gp11_keys *keys, const char *label,
                            CK_KEY_TYPE type, size_t len,
                            CK_MECHANISM_TYPE mech, bool encrypt, bool mac,
                            bool decrypt, struct gp11_object *out)
{
    /* The KDK is bound to the transcript already. */
    static const uint8_t no_th[GP11_TH_LEN];
    unsigned use = (encrypt ? USE_ENCRYPT : 0) | (decrypt ? USE_DECRYPT : 0) |
                   (mac ? USE_MAC : 0);

    if (!keys->have_kdk)
        return gp11_err_set(GP11_ERR_NO_CONTEXT,
                            "the context has no QOP key-derivation key");
    return derive_labelled(tok, keys->profile, &keys->kdk, label, no_th, type,
                           len, use, mech, out);
}

/* The error for a derive-capable intermediate the token kept: the
 * context is refused (docs/protocol.md 2.4). */
static uint32_t kept_intermediate(const char *what, uint32_t failure)
{
    char why[256];

    snprintf(why, sizeof(why), "%s", gp11_err_message(failure));
    return gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                        "%s could not be destroyed, so the context is "
                        "refused (a derive-capable secret must not outlive "
                        "the key schedule): %s",
                        what, why);
}

uint32_t gp11_ks_derive(struct gp11_token *tok, uint8_t profile, uint8_t group,
                        struct gp11_object *eph_priv, const uint8_t *peer_point,
                        size_t point_len, const uint8_t th[GP11_TH_LEN],
                        bool initiator, bool with_kdk, struct gp11_keys *keys)
{
    const char *z_name = profile == GP11_PROFILE_ID_KDF_240
                             ? "the 2.40 master key"
                             : "the ECDH secret Z";
    struct gp11_object z;
    uint32_t ret, dret;

    memset(keys, 0, sizeof(*keys));
    ret = ecdh(tok, profile, group, eph_priv, peer_point, point_len, &z);
    /* The ephemeral key has done its only job; while it exists, Z can be
     * derived again from the peer's public point. */
    dret = destroy_key(tok, eph_priv, "the ephemeral private key");
    if (ret != GP11_OK) {
        /* Z was not made; the derive failure is the error to report. */
        return ret;
    }
    if (dret != GP11_OK) {
        ret = kept_intermediate("the ephemeral private key", dret);
        destroy_key(tok, &z, z_name);
        return ret;
    }
    ret = derive_all(tok, profile, &z, th, initiator, with_kdk, keys);
    /* Z (the 2.40 master) can derive: it must not outlive this call. */
    dret = destroy_key(tok, &z, z_name);
    if (ret == GP11_OK && dret != GP11_OK) {
        ret = kept_intermediate(z_name, dret);
        gp11_keys_destroy(tok, keys);
    }
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

uint32_t gp11_keys_drop_conf(struct gp11_token *tok, struct gp11_keys *keys)
{
    uint32_t ret, ret2;

    if (!keys->have_conf)
        return GP11_OK;
    ret = destroy_key(tok, &keys->conf_own, "a confirmation key");
    ret2 = destroy_key(tok, &keys->conf_peer, "a confirmation key");
    keys->have_conf = false;
    return ret != GP11_OK ? ret : ret2;
}

uint32_t gp11_keys_destroy(struct gp11_token *tok, struct gp11_keys *keys)
{
    uint32_t ret = gp11_keys_drop_conf(tok, keys), r;

    if (keys->have_kdk) {
        r = destroy_key(tok, &keys->kdk, "the QOP key-derivation key");
        ret = ret != GP11_OK ? ret : r;
        keys->have_kdk = false;
    }
    if (keys->have_prf) {
        gp11_object_destroy(tok, &keys->prf);
        keys->have_prf = false;
    }
    if (!keys->have_traffic)
        return ret;
    r = destroy_key(tok, &keys->send, "a traffic key");
    ret = ret != GP11_OK ? ret : r;
    r = destroy_key(tok, &keys->recv, "a traffic key");
    ret = ret != GP11_OK ? ret : r;
    keys->have_traffic = false;
    return ret;
}
