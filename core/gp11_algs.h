/* SPDX-License-Identifier: Apache-2.0 */
/* Identifiers of docs/protocol.md 2.4-2.6 shared by the whole provider. */
#ifndef GP11_ALGS_H
#define GP11_ALGS_H

/* Key-derivation profiles (protocol.md 2.4). */
enum gp11_profile_id {
    GP11_PROFILE_ID_KDF_240 = 1,
    GP11_PROFILE_ID_KDF_30_HKDF = 2,
};

/* ECDH groups (protocol.md 2.5). */
enum gp11_group_id {
    GP11_GROUP_ID_P256 = 1,
    GP11_GROUP_ID_P384 = 2,
};

/* Per-message capability bits (protocol.md 2.6). */
enum gp11_msg_cap {
    GP11_CAP_AES_GCM = 1u << 0,
    GP11_CAP_HMAC_SHA256 = 1u << 1,
    GP11_CAP_HMAC_SHA384 = 1u << 2,
    GP11_CAP_HMAC_SHA512 = 1u << 3,
    GP11_CAP_AES_CMAC = 1u << 4,
    GP11_CAP_CHACHA20_POLY1305 = 1u << 5,
    /* This side derives QOP keys (policy extra-qops, protocol.md 3.3). */
    GP11_CAP_EXTRA_QOPS = 1u << 6,
};

#endif
