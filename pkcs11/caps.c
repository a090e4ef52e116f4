/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capability probe: which mechanisms the token offers with which flags and
 * key sizes, and what the mechanism can therefore build from them.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct feature_def {
    enum gp11_feature feature;
    const char *name;
    CK_MECHANISM_TYPE mech;
    CK_FLAGS flags;     /* every one of these must be set */
    CK_ULONG need_bits; /* EC: curve size that must be in range, or 0 */
};

static const struct feature_def defs[GP11_F_COUNT] = {
    {GP11_F_AES_GCM, "AES-GCM", CKM_AES_GCM, CKF_ENCRYPT | CKF_DECRYPT, 0},
    {GP11_F_HMAC_SHA256, "HMAC-SHA-256", CKM_SHA256_HMAC, CKF_SIGN | CKF_VERIFY,
     0},
    {GP11_F_HMAC_SHA384, "HMAC-SHA-384", CKM_SHA384_HMAC, CKF_SIGN | CKF_VERIFY,
     0},
    {GP11_F_HMAC_SHA512, "HMAC-SHA-512", CKM_SHA512_HMAC, CKF_SIGN | CKF_VERIFY,
     0},
    {GP11_F_HMAC_SHA256_GENERAL, "HMAC-SHA-256 (truncating)",
     CKM_SHA256_HMAC_GENERAL, CKF_SIGN | CKF_VERIFY, 0},
    {GP11_F_AES_CMAC, "AES-CMAC", CKM_AES_CMAC, CKF_SIGN | CKF_VERIFY, 0},
    {GP11_F_EC_KEYGEN, "EC key generation", CKM_EC_KEY_PAIR_GEN,
     CKF_GENERATE_KEY_PAIR, 0},
    {GP11_F_ECDH_P256, "ECDH P-256", CKM_ECDH1_DERIVE, CKF_DERIVE, 256},
    {GP11_F_ECDH_P384, "ECDH P-384", CKM_ECDH1_DERIVE, CKF_DERIVE, 384},
    {GP11_F_ECDSA, "ECDSA", CKM_ECDSA, CKF_SIGN | CKF_VERIFY, 0},
    {GP11_F_RSA_PSS, "RSA-PSS", CKM_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY, 0},
    {GP11_F_AES_ECB_ENCRYPT_DATA, "AES-ECB-ENCRYPT-DATA",
     CKM_AES_ECB_ENCRYPT_DATA, CKF_DERIVE, 0},
    {GP11_F_HKDF, "HKDF", CKM_HKDF_DERIVE, CKF_DERIVE, 0},
    {GP11_F_SP800_108, "SP 800-108 counter KDF", CKM_SP800_108_COUNTER_KDF,
     CKF_DERIVE, 0},
    {GP11_F_CHACHA20_POLY1305, "ChaCha20-Poly1305", CKM_CHACHA20_POLY1305,
     CKF_ENCRYPT | CKF_DECRYPT, 0},
    {GP11_F_AES_KEY_WRAP, "AES key wrap", CKM_AES_KEY_WRAP,
     CKF_WRAP | CKF_UNWRAP, 0},
    {GP11_F_GENERIC_SECRET_KEYGEN, "generic secret generation",
     CKM_GENERIC_SECRET_KEY_GEN, CKF_GENERATE, 0},
    {GP11_F_MSG_AES_GCM, "AES-GCM message API (3.0)", CKM_AES_GCM,
     CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT, 0},
    {GP11_F_MSG_CHACHA20, "ChaCha20 message API (3.0)", CKM_CHACHA20_POLY1305,
     CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT, 0},
};

static const struct gp11_offering offerings[] = {
    {"kdf-2.40",
     "profile",
     "legacy: ECDH (CKD_NULL) -> raw AES-256 master -> AES_ECB_ENCRYPT_DATA "
     "subkeys",
     4,
     {GP11_F_EC_KEYGEN, GP11_F_ECDH_P256, GP11_F_AES_ECB_ENCRYPT_DATA,
      GP11_F_AES_GCM}},
    {"kdf-3.0-hkdf",
     "profile",
     "ECDH -> HKDF (PKCS#11 3.0) subkeys",
     4,
     {GP11_F_EC_KEYGEN, GP11_F_ECDH_P256, GP11_F_HKDF, GP11_F_AES_GCM}},
    {"P-256",
     "group",
     "ephemeral ECDH on NIST P-256",
     2,
     {GP11_F_EC_KEYGEN, GP11_F_ECDH_P256}},
    {"P-384",
     "group",
     "ephemeral ECDH on NIST P-384",
     2,
     {GP11_F_EC_KEYGEN, GP11_F_ECDH_P384}},
    {"ECDSA", "signature", "identity signatures with ECDSA", 1, {GP11_F_ECDSA}},
    {"RSA-PSS",
     "signature",
     "identity signatures with RSA-PSS",
     1,
     {GP11_F_RSA_PSS}},
    {"AES-256-GCM",
     "qop",
     "wrap and MIC (GMAC) with AES-256-GCM",
     1,
     {GP11_F_AES_GCM}},
    {"AES-128-GCM",
     "qop",
     "wrap and MIC (GMAC) with AES-128-GCM",
     1,
     {GP11_F_AES_GCM}},
    {"HMAC-SHA-256", "qop", "MIC with HMAC-SHA-256", 1, {GP11_F_HMAC_SHA256}},
    {"HMAC-SHA-384", "qop", "MIC with HMAC-SHA-384", 1, {GP11_F_HMAC_SHA384}},
    {"HMAC-SHA-512", "qop", "MIC with HMAC-SHA-512", 1, {GP11_F_HMAC_SHA512}},
    {"AES-CMAC", "qop", "MIC with AES-CMAC", 1, {GP11_F_AES_CMAC}},
    {"ChaCha20-Poly1305",
     "qop",
     "wrap with ChaCha20-Poly1305",
     1,
     {GP11_F_CHACHA20_POLY1305}},
    {"message-api",
     "feature",
     "one token call per message: C_EncryptMessage / C_DecryptMessage "
     "(PKCS#11 3.0) on a message operation kept per context key; else "
     "Init + operation",
     1,
     {GP11_F_MSG_AES_GCM}},
    {"context-export",
     "feature",
     "gss_export_sec_context with keys wrapped under a token KEK",
     1,
     {GP11_F_AES_KEY_WRAP}},
};

const char *gp11_feature_name(enum gp11_feature f)
{
    return f < GP11_F_COUNT ? defs[f].name : "?";
}

CK_MECHANISM_TYPE gp11_feature_mech(enum gp11_feature f)
{
    return f < GP11_F_COUNT ? defs[f].mech : CKM_VENDOR_DEFINED;
}

const struct gp11_offering *gp11_offerings(size_t *count)
{
    *count = sizeof(offerings) / sizeof(offerings[0]);
    return offerings;
}

bool gp11_offering_available(const struct gp11_caps *caps,
                             const struct gp11_offering *o,
                             enum gp11_feature *missing)
{
    for (unsigned i = 0; i < o->n_needs; i++) {
        if (!caps->f[o->needs[i]].available) {
            if (missing)
                *missing = o->needs[i];
            return false;
        }
    }
    return true;
}

/* True if the mechanism appears in the token's list. */
static bool listed(const CK_MECHANISM_TYPE *list, CK_ULONG n,
                   CK_MECHANISM_TYPE m)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (list[i] == m)
            return true;
    return false;
}

/* Judges one feature from the mechanism list and its info. */
static void judge(struct gp11_token *tok, const struct feature_def *d,
                  const CK_MECHANISM_TYPE *list, CK_ULONG n,
                  struct gp11_feature_state *st)
{
    CK_RV rv;

    st->mech = d->mech;
    st->available = false;
    if ((d->feature == GP11_F_MSG_AES_GCM ||
         d->feature == GP11_F_MSG_CHACHA20) &&
        (tok->mod->fns3 == NULL || (tok->quirks & GP11_QUIRK_NO_MESSAGE_API))) {
        st->why_not = tok->mod->fns3 ? "quirk no-message-api"
                                     : "the module offers no PKCS#11 3.0 "
                                       "interface (C_GetInterface)";
        return;
    }
    if (!listed(list, n, d->mech) &&
        d->feature == GP11_F_AES_ECB_ENCRYPT_DATA &&
        (tok->quirks & GP11_QUIRK_UNLISTED_ECB_ENCRYPT_DATA)) {
        /* Quirk: usable, though unlisted; there is no info to read. */
        st->available = true;
        st->unlisted = true;
        st->why_not = NULL;
        return;
    }
    if (!listed(list, n, d->mech)) {
        st->why_not = "mechanism not offered by the token";
        return;
    }
    /* The CKF_MESSAGE_* flags: from the 3.0 list (NSS softoken 3.87
     * clears them in what its 2.x list reports). */
    if (d->flags & (CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT))
        rv =
            gp11_ck_GetMechanismInfo30(tok->mod, tok->slot, d->mech, &st->info);
    else
        rv = gp11_ck_GetMechanismInfo(tok->mod, tok->slot, d->mech, &st->info);
    if (rv != CKR_OK) {
        st->why_not = "C_GetMechanismInfo failed";
        return;
    }
    if ((st->info.flags & d->flags) != d->flags) {
        st->why_not = "offered without the needed usage flags";
        return;
    }
    if (d->need_bits && (st->info.ulMinKeySize > d->need_bits ||
                         st->info.ulMaxKeySize < d->need_bits)) {
        st->why_not = "curve size outside the token's key size range";
        return;
    }
    st->available = true;
    st->why_not = NULL;
}

uint32_t gp11_caps_probe(struct gp11_token *tok, struct gp11_caps *caps)
{
    CK_MECHANISM_TYPE *list = NULL;
    CK_ULONG n = 0;
    uint32_t ret = GP11_OK;
    CK_RV rv;

    memset(caps, 0, sizeof(*caps));
    rv = gp11_ck_GetMechanismList(tok->mod, tok->slot, NULL, &n);
    if (rv == CKR_OK) {
        list = calloc(n ? n : 1, sizeof(*list));
        if (list == NULL)
            return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        rv = gp11_ck_GetMechanismList(tok->mod, tok->slot, list, &n);
    }
    if (rv != CKR_OK) {
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_GetMechanismList",
                          "cannot list the token's mechanisms");
        goto done;
    }
    caps->mech_count = n;
    for (int f = 0; f < GP11_F_COUNT; f++)
        judge(tok, &defs[f], list, n, &caps->f[f]);
    /* The probe chooses the per-message path (aead.c). */
    tok->msg_api =
        (caps->f[GP11_F_MSG_AES_GCM].available ? 1u << GP11_AEAD_AES_GCM : 0) |
        (caps->f[GP11_F_MSG_CHACHA20].available
             ? 1u << GP11_AEAD_CHACHA20_POLY1305
             : 0);
done:
    free(list);
    return ret;
}
