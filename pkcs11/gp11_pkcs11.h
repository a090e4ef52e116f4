/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token layer: everything gss-pkcs11 does with a PKCS#11 token goes
 * through these functions. Nothing outside pkcs11/ sees a CK_FUNCTION_LIST.
 *
 * Errors: functions returning uint32_t return GP11_OK or a gp11_err code,
 * with a sentence recorded for gp11_err_message().
 */
#ifndef GP11_PKCS11_H
#define GP11_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp11_error.h"
#include "pkcs11_v3.h"

struct gp11_module;
struct gp11_token;

/* ---- memory helpers (util.c) ------------------------------------------ */

/* Wipe memory in a way the compiler may not elide. */
void gp11_wipe(void *p, size_t len);

/* Wipe a NUL-terminated string in place. */
void gp11_wipe_str(char *s);

/* Constant-time equality of two buffers of the same length. */
bool gp11_ct_equal(const void *a, const void *b, size_t len);

/* A PKCS#11 URI fit for messages: pin-value and pin-source attributes
 * (in the path or the query) are replaced by "pin-***". */
void gp11_uri_redact(const char *uri, char *out, size_t len);

/* ---- quirks (quirks.c) ------------------------------------------------ */

/* Named, documented deviations of particular tokens; see
 * docs/token-layer.md. */
enum gp11_quirk {
    /* Never call C_Finalize (SoftHSM2 may crash in it at process exit). */
    GP11_QUIRK_NO_DEINIT = 1u << 0,
    /* A failed AES-GCM tag check returns CKR_GENERAL_ERROR. */
    GP11_QUIRK_GCM_TAG_GENERAL_ERROR = 1u << 1,
    /* CKA_DERIVE_TEMPLATE is ignored: destroy derive-capable keys early. */
    GP11_QUIRK_NO_DERIVE_TEMPLATE = 1u << 2,
    /* The token chooses the GCM IV itself and writes it to pIv. */
    GP11_QUIRK_GCM_TOKEN_IV = 1u << 3,
    /* CKA_SENSITIVE defaults to FALSE (templates always set it anyway). */
    GP11_QUIRK_SENSITIVE_DEFAULT_FALSE = 1u << 4,
    /* CKM_AES_ECB_ENCRYPT_DATA works in C_DeriveKey but is missing from
     * C_GetMechanismList (NSS softoken): the probe counts it as present. */
    GP11_QUIRK_UNLISTED_ECB_ENCRYPT_DATA = 1u << 5,
    /* A destroyed session object keeps about 250 bytes of the module's
     * memory until C_Finalize, even when its session closes (SoftHSM2
     * 2.6.1): the process grows with every context. Informational. */
    GP11_QUIRK_DESTROYED_OBJECTS_KEPT = 1u << 6,
    /* CKA_ALLOWED_MECHANISMS is stored and read back but not enforced: a
     * key runs any mechanism its CKA_ENCRYPT/.../CKA_DERIVE flags permit
     * (NSS softoken 3.87, measured). Informational: keys carry the list
     * anyway; the tests expect refusals only without this quirk. */
    GP11_QUIRK_ALLOWED_MECHANISMS_IGNORED = 1u << 7,
    /* C_MessageSignInit refuses the MAC mechanisms (NSS softoken 3.87:
     * CKR_MECHANISM_INVALID for HMAC and AES-CMAC): MAC QOPs keep
     * C_SignInit + C_Sign. */
    GP11_QUIRK_NO_MESSAGE_MAC = 1u << 8,
    /* Never use the PKCS#11 3.0 message-based functions, even where the
     * token offers them (configured only). */
    GP11_QUIRK_NO_MESSAGE_API = 1u << 9,
    /* C_GetTokenInfo fails (CKR_GENERAL_ERROR) or reports an initialised
     * token without a label while another process rewrites the token's
     * file, which SoftHSM2 2.6.1 does on every C_Login (measured: 1 to 4
     * reads in 300 during another process's logins). Token enumeration
     * reads such a slot again; detected by the module's manufacturer,
     * since it applies before a token is chosen. */
    GP11_QUIRK_TOKEN_INFO_RACE = 1u << 10,
};

/* Quirks chosen by the module alone, in force before any token or quirk
 * list is read: always among a token's quirks, and "-name" is refused. */
#define GP11_QUIRKS_OF_MODULE GP11_QUIRK_TOKEN_INFO_RACE

/* Name of one quirk bit ("no-deinit"), or NULL. */
const char *gp11_quirk_name(unsigned quirk);

/* One-line description of one quirk bit, or NULL. */
const char *gp11_quirk_description(unsigned quirk);

/* All quirk bits, for iteration. */
unsigned gp11_quirk_all(void);

/*
 * Parse a quirk list: names separated by spaces or commas, each adding a
 * quirk, or prefixed by '-' to remove it. They apply on top of the quirks
 * known for the token (*use_auto), unless the list says "none" ("auto" is
 * accepted and changes nothing). Unknown names are an error.
 */
uint32_t gp11_quirks_parse(const char *spec, unsigned *set, unsigned *clear,
                           bool *use_auto);

/* The quirks known for a token, from its manufacturer and model. */
unsigned gp11_quirks_for_token(const CK_INFO *module,
                               const CK_TOKEN_INFO *token);

/* ---- module (module.c) ------------------------------------------------ */

/*
 * Load a module: an absolute path, a file name in p11-kit's module
 * directory, or "p11-kit:NAME" for a module registered with p11-kit (its
 * .module file may carry x-init-reserved). init_params, when not NULL, are
 * passed as CK_C_INITIALIZE_ARGS.pReserved (NSS softoken's configdir=...).
 * The same module loaded twice is shared and reference counted.
 */
uint32_t gp11_module_load(const char *module, const char *init_params,
                          bool no_deinit, struct gp11_module **out);

/* Drop a reference; the last one finalises (unless no-deinit). */
void gp11_module_release(struct gp11_module *mod);

/* The module's CK_INFO. */
const CK_INFO *gp11_module_info(const struct gp11_module *mod);

/* The path or name the module was loaded from. */
const char *gp11_module_path(const struct gp11_module *mod);

/*
 * Re-initialise the module in a forked child (lazily, on first use).
 * Returns GP11_OK when the module is usable in this process.
 */
uint32_t gp11_module_ensure(struct gp11_module *mod);

/* Fork generation: bumped in the child by an atfork handler. */
unsigned gp11_fork_generation(void);

/* ---- tokens (token.c) ------------------------------------------------- */

struct gp11_token_opts {
    const char *module;      /* path, file name or "p11-kit:NAME" */
    const char *init_params; /* pReserved for C_Initialize, or NULL */
    const char *uri;         /* RFC 7512 URI selecting the token */
    const char *pin_source;  /* file holding the PIN; overrides the URI */
    const char *quirks;      /* quirk spec, NULL means "auto" */
    unsigned max_sessions;   /* 0: from ulMaxSessionCount */
};

/*
 * Load the module and select exactly one token matching opts->uri.
 * No match or several matches is an error whose message lists the tokens
 * that were found.
 */
uint32_t gp11_token_open(const struct gp11_token_opts *opts,
                         struct gp11_token **out);

/* Close all sessions (destroying session objects) and release. */
void gp11_token_close(struct gp11_token *tok);

const CK_TOKEN_INFO *gp11_token_info(const struct gp11_token *tok);
CK_SLOT_ID gp11_token_slot(const struct gp11_token *tok);
struct gp11_module *gp11_token_module(const struct gp11_token *tok);

/* Quirks in force for this token. */
unsigned gp11_token_quirks(const struct gp11_token *tok);

/* Label of a token info as a C string without the blank padding. */
void gp11_token_label(const CK_TOKEN_INFO *info, char out[33]);
/* C_GetTokenInfo, read again while a read looks torn and the module has
 * the quirk token-info-race (docs/token-layer.md 8). */
CK_RV gp11_token_read_info(struct gp11_module *mod, CK_SLOT_ID slot,
                           CK_TOKEN_INFO *info);

/* One token that a module offers, for listings. */
struct gp11_token_desc {
    CK_SLOT_ID slot;
    CK_SLOT_INFO slot_info;
    CK_TOKEN_INFO info;
};

/* Every token present on a module (caller frees *out). */
uint32_t gp11_token_enumerate(struct gp11_module *mod,
                              struct gp11_token_desc **out, size_t *count);

/* ---- login (login.c) -------------------------------------------------- */

/*
 * Log the user in if the token needs it and nobody is logged in yet.
 * The PIN comes from opts->pin_source, else the URI's pin-source, else
 * its pin-value; it is wiped after use and a PIN the token rejected is
 * remembered (by hash) and never presented again. CKF_USER_PIN_LOCKED and
 * CKF_USER_PIN_FINAL_TRY refuse before anything is tried.
 */
uint32_t gp11_token_login(struct gp11_token *tok);

/* True if the token reports (or we performed) a user login. */
bool gp11_token_logged_in(struct gp11_token *tok);

/* ---- sessions (session.c) --------------------------------------------- */

/*
 * Borrow a session for the calling thread. Sessions are pooled per token,
 * at most max_sessions open; a caller waits for a free one, and
 * CKR_SESSION_COUNT makes the pool back off and wait rather than fail.
 */
uint32_t gp11_session_get(struct gp11_token *tok, CK_SESSION_HANDLE *out);

/*
 * Give a session back. last_rv is the result of the last call made on it:
 * a session the token says is gone is dropped instead of pooled.
 */
void gp11_session_put(struct gp11_token *tok, CK_SESSION_HANDLE h,
                      CK_RV last_rv);

/* Statistics of the pool, for tests and gssp11 info. */
struct gp11_pool_stats {
    size_t max;   /* bound on open sessions */
    size_t open;  /* currently open (idle + borrowed), owner excluded */
    size_t idle;  /* currently idle */
    size_t peak;  /* most ever open at once */
    size_t waits; /* times a caller had to wait */
    size_t drops; /* sessions dropped after the token reported them gone */
};
void gp11_session_stats(struct gp11_token *tok, struct gp11_pool_stats *st);

/* ---- objects (objects.c) ---------------------------------------------- */

/* A read/write session of a token in which session objects live
 * (session.c; opaque outside the token layer). */
struct gp11_owner;

/*
 * A token object handle tagged with the fork generation of its creation,
 * so a handle inherited through fork() is detected and never used; a
 * session object also names the owner session it lives in, so that one
 * whose session the token lost is refused, and every handle carries the
 * token's loss epoch at the time it was obtained (see gp11_identity_sign).
 */
struct gp11_object {
    CK_OBJECT_HANDLE handle;
    unsigned generation;
    struct gp11_owner *owner; /* NULL: a token object, or one found */
    unsigned epoch;
    /* The key's PKCS#11 3.0 message operation (aead.c), made on first
     * use; ended by gp11_object_destroy. Never copy an object that has
     * one (the copy would share it; aead.c refuses a mismatched handle). */
    struct gp11_msgop *msg;
};

/*
 * GP11_OK if obj may be used in this process; GP11_ERR_FORKED for an
 * object from before fork(); GP11_ERR_STALE_OBJECT for a session object
 * whose session the token lost (logout does not count; removal,
 * re-insertion and closed sessions do), with a sentence naming the call
 * and the CKR_* that revealed the loss.
 */
uint32_t gp11_object_check(struct gp11_token *tok,
                           const struct gp11_object *obj);

/*
 * After ret, the result of an operation with obj: GP11_ERR_STALE_OBJECT
 * if the failure shows that the token lost obj (its session is gone, or
 * the token no longer knows the handle), else ret unchanged. For
 * per-message callers, which must not retry with a key that died.
 */
uint32_t gp11_object_lost(struct gp11_token *tok, const struct gp11_object *obj,
                          uint32_t ret);

/*
 * Create an object. Session objects are created in the token's owner
 * session, which stays open as long as the token is open, so they live
 * until destroyed. A secret or private key template must set CKA_SENSITIVE
 * and CKA_EXTRACTABLE explicitly (GP11_ERR_BAD_TEMPLATE otherwise).
 */
uint32_t gp11_object_create(struct gp11_token *tok, CK_ATTRIBUTE *tmpl,
                            CK_ULONG count, struct gp11_object *out);

/* Generate a key pair (both templates checked as above). */
uint32_t gp11_object_generate_pair(struct gp11_token *tok, CK_MECHANISM *mech,
                                   CK_ATTRIBUTE *pub_tmpl, CK_ULONG pub_count,
                                   CK_ATTRIBUTE *priv_tmpl, CK_ULONG priv_count,
                                   struct gp11_object *pub,
                                   struct gp11_object *priv);

/* Destroy an object; a handle from before fork() is refused. */
uint32_t gp11_object_destroy(struct gp11_token *tok, struct gp11_object *obj);

/* Read one attribute into a malloc'ed buffer (caller frees). */
uint32_t gp11_object_get_attr(struct gp11_token *tok,
                              const struct gp11_object *obj,
                              CK_ATTRIBUTE_TYPE type, void **value,
                              CK_ULONG *len);

/* Raw C_GetAttributeValue result for one attribute (tests use it to see
 * CKR_ATTRIBUTE_SENSITIVE). */
CK_RV gp11_object_probe_attr(struct gp11_token *tok,
                             const struct gp11_object *obj,
                             CK_ATTRIBUTE_TYPE type);

/* Find objects matching a template (caller frees *out). */
uint32_t gp11_object_find(struct gp11_token *tok, CK_ATTRIBUTE *tmpl,
                          CK_ULONG count, struct gp11_object **out,
                          size_t *found);

/* The largest RSA identity key: a handshake signature is at most 512
 * bytes (docs/protocol.md 2.5); gp11_identity_find refuses larger ones. */
#define GP11_RSA_MAX_BITS 4096

/* An identity: a private key and the certificate sharing its CKA_ID. */

/* Certificates sharing one CKA_ID that are read, intermediates sent (the
 * protocol allows 4 certificates: the leaf and 3), bytes per certificate
 * (opaque16 on the wire). */
#define GP11_IDENTITY_MAX_CERTS 8
#define GP11_IDENTITY_MAX_CHAIN 3
#define GP11_IDENTITY_MAX_CERT_LEN 65535

/* An identity: a private key and the certificate sharing its CKA_ID, and
 * the intermediates above it that share the CKA_ID too (pkcs11/chain.c). */
struct gp11_identity {
    struct gp11_object key;
    struct gp11_object cert;
    CK_KEY_TYPE key_type;
    unsigned char *id;
    size_t id_len;
    char *label;
    unsigned char *cert_der;
    size_t cert_len;
    unsigned char *chain_der[GP11_IDENTITY_MAX_CHAIN]; /* leaf's issuer up */
    size_t chain_len[GP11_IDENTITY_MAX_CHAIN];
    size_t n_chain;
    unsigned exposed;     /* GP11_KEY_* bits: how the key may leave the token */
    char token_label[33]; /* the token's label, for messages */
};

/* gp11_identity.exposed: the private key's attributes say it can leave,
 * or once could leave, the token in the clear (docs/admin-guide.md 6). */
#define GP11_KEY_NOT_SENSITIVE 0x1u     /* CKA_SENSITIVE = FALSE */
#define GP11_KEY_EXTRACTABLE 0x2u       /* CKA_EXTRACTABLE = TRUE */
#define GP11_KEY_WAS_NOT_SENSITIVE 0x4u /* CKA_ALWAYS_SENSITIVE = FALSE */
#define GP11_KEY_WAS_EXTRACTABLE 0x8u   /* CKA_NEVER_EXTRACTABLE = FALSE */

/* The public half of an identity key, to compare with certificates: EC
 * (a = the uncompressed point) or RSA (a = modulus, b = exponent), big
 * endian; known = false when the token shows neither. */
struct gp11_key_pub {
    bool known;
    CK_KEY_TYPE type;
    unsigned char *a, *b;
    size_t la, lb;
};

/*
 * Among n certificates (DER) sharing an identity's CKA_ID, choose the leaf
 * (the only one, else the first that is not a CA) and the chain above it:
 * chain[0] the CA certificate that issued the leaf (subject = issuer, its
 * key verifies the signature), chain[1] the one that issued chain[0], and
 * so on, at most GP11_IDENTITY_MAX_CHAIN, stopping below a self-signed
 * root (roots are the peer's anchors, never sent). Others are ignored.
 */
uint32_t gp11_identity_pick_chain(unsigned char **ders, const size_t *lens,
                                  size_t n, size_t *leaf, size_t *chain,
                                  size_t *n_chain);

/*
 * The same, for the key whose public half is pub: the leaf is the first
 * certificate that is not a CA (or the only one) whose public key is
 * pub. When pub is known and no such certificate matches, returns
 * GP11_ERR_CERT_INVALID with "certificate \"SUBJECT\" does not match
 * key" (the caller appends the key's name). pub NULL or not known: as
 * gp11_identity_pick_chain.
 */
uint32_t gp11_identity_pick_chain_key(unsigned char **ders, const size_t *lens,
                                      size_t n, const struct gp11_key_pub *pub,
                                      size_t *leaf, size_t *chain,
                                      size_t *n_chain);

/*
 * Find the identity named by an object URI (object=, id=, type=private
 * implied). Exactly one private key must match, and a certificate with
 * the same CKA_ID must exist. An RSA key of more than GP11_RSA_MAX_BITS
 * bits is GP11_ERR_MECH_UNSUPPORTED, with a message giving its size.
 */
uint32_t gp11_identity_find(struct gp11_token *tok, const char *uri,
                            struct gp11_identity **out);

/* Every private key with a certificate on the token (caller frees). */
uint32_t gp11_identity_list(struct gp11_token *tok, struct gp11_identity ***out,
                            size_t *count);

void gp11_identity_free(struct gp11_identity *id);

/* A deep copy of an identity (the same handles), or NULL without memory. */
struct gp11_identity *gp11_identity_dup(const struct gp11_identity *id);

/* The token's loss epoch (docs/token-layer.md 12): it moves on when the
 * token lost its login or sessions; identities resolved in an older epoch
 * are resolved again (section 6, "the identity cache"). */
unsigned gp11_token_epoch(struct gp11_token *tok);

/*
 * Sign with an identity's private key *key, whose CKA_ID is ckaid. If the
 * token lost the login or its sessions since the handle was found (the
 * token's loss epoch moved on), or the signature fails in a way that
 * says so, the layer logs in again and finds the key by its CKA_ID
 * (updating *key), and signs once more. ckaid NULL: plain gp11_sign.
 */
uint32_t gp11_identity_sign(struct gp11_token *tok, struct gp11_object *key,
                            const void *ckaid, size_t ckaid_len,
                            CK_MECHANISM *mech, const uint8_t *data, size_t len,
                            uint8_t *sig, size_t *sig_len);

/* ---- capabilities (caps.c) -------------------------------------------- */

/* Token features the mechanism can build suites and QOPs from. */
enum gp11_feature {
    GP11_F_AES_GCM,
    GP11_F_HMAC_SHA256,
    GP11_F_HMAC_SHA384,
    GP11_F_HMAC_SHA512,
    GP11_F_HMAC_SHA256_GENERAL,
    GP11_F_AES_CMAC,
    GP11_F_EC_KEYGEN,
    GP11_F_ECDH_P256,
    GP11_F_ECDH_P384,
    GP11_F_ECDSA,
    GP11_F_RSA_PSS,
    GP11_F_AES_ECB_ENCRYPT_DATA,
    GP11_F_HKDF,
    GP11_F_SP800_108,
    GP11_F_CHACHA20_POLY1305,
    GP11_F_AES_KEY_WRAP,
    GP11_F_GENERIC_SECRET_KEYGEN,
    GP11_F_MSG_AES_GCM,  /* C_MessageEncryptInit / C_EncryptMessage */
    GP11_F_MSG_CHACHA20, /* the same for ChaCha20-Poly1305 */
    GP11_F_COUNT
};

struct gp11_feature_state {
    bool available;
    bool unlisted; /* available through a quirk, not the mechanism list */
    CK_MECHANISM_TYPE mech;
    CK_MECHANISM_INFO info; /* valid when the mechanism is listed */
    const char *why_not;    /* static reason when !available */
};

struct gp11_caps {
    struct gp11_feature_state f[GP11_F_COUNT];
    size_t mech_count; /* mechanisms the token lists */
};

/* Probe the token's mechanism list and flags. */
uint32_t gp11_caps_probe(struct gp11_token *tok, struct gp11_caps *caps);

/* Short name ("AES-GCM") and the PKCS#11 mechanism of a feature. */
const char *gp11_feature_name(enum gp11_feature f);
CK_MECHANISM_TYPE gp11_feature_mech(enum gp11_feature f);

static inline bool gp11_caps_have(const struct gp11_caps *c,
                                  enum gp11_feature f)
{
    return c->f[f].available;
}

/* A capability set the mechanism offers: a key-derivation profile, or a
 * per-message algorithm (future QOP). */
struct gp11_offering {
    const char *name;    /* "kdf-2.40", "AES-256-GCM", ... */
    const char *kind;    /* "profile" or "qop" */
    const char *summary; /* what it is */
    unsigned n_needs;
    enum gp11_feature needs[4];
};

/* The table of offerings; *count receives its length. */
const struct gp11_offering *gp11_offerings(size_t *count);

/* True if the token has every feature the offering needs; otherwise
 * *missing names the first missing feature. */
bool gp11_offering_available(const struct gp11_caps *caps,
                             const struct gp11_offering *o,
                             enum gp11_feature *missing);

/* ---- development token set-up (devinit.c) ------------------------------ */

/*
 * Initialise a fresh token (SoftHSM2 style) in the first slot whose token
 * is not initialised: C_InitToken with label and SO PIN, then the user PIN.
 * A token with the same label already present is refused.
 */
uint32_t gp11_dev_init_token(const char *module, const char *init_params,
                             const char *label, const char *so_pin,
                             const char *user_pin);

/*
 * Give the user PIN to an initialised token that has none yet (a new NSS
 * softoken database): SO login with the empty PIN, then C_InitPIN.
 */
uint32_t gp11_dev_init_user_pin(const char *module, const char *init_params,
                                const char *token_label, const char *user_pin);

/* ---- cryptographic operations on token keys (crypto.c) ----------------- */

/* Random bytes from the token's generator. */
uint32_t gp11_random(struct gp11_token *tok, void *buf, size_t len);

/*
 * Random bytes from the token's generator for public values (handshake
 * nonces), at most 64 at a time: drawn from a process buffer that one
 * C_GenerateRandom fills with GP11_RANDOM_POOL bytes, so a handshake
 * costs that call once in GP11_RANDOM_POOL / len. Each byte is handed out
 * once and wiped; the buffer is dropped in a forked child and when it was
 * filled from another token. Never for secrets.
 */
#define GP11_RANDOM_POOL 1024
uint32_t gp11_random_public(struct gp11_token *tok, void *buf, size_t len);

/*
 * Generate an ephemeral EC key pair as session objects (private key
 * sensitive, non-extractable, derive-only with CKA_ALLOWED_MECHANISMS =
 * {CKM_ECDH1_DERIVE}; the public object is destroyed
 * at once) and return the uncompressed public point. curve_der is the DER
 * of the named-curve OID; *point_len receives 65 (P-256) or 97 (P-384).
 */
uint32_t gp11_ec_ephemeral(struct gp11_token *tok, const uint8_t *curve_der,
                           size_t curve_len, struct gp11_object *priv,
                           uint8_t *point, size_t *point_len);

/* C_DeriveKey with a checked template (explicit CKA_SENSITIVE and
 * CKA_EXTRACTABLE, a non-empty CKA_ALLOWED_MECHANISMS), in the owner
 * session. */
uint32_t gp11_derive(struct gp11_token *tok, CK_MECHANISM *mech,
                     const struct gp11_object *base, CK_ATTRIBUTE *tmpl,
                     CK_ULONG count, struct gp11_object *out);

/* C_SignInit + C_Sign (signature or MAC) into sig of *sig_len bytes. */
uint32_t gp11_sign(struct gp11_token *tok, CK_MECHANISM *mech,
                   const struct gp11_object *key, const uint8_t *data,
                   size_t len, uint8_t *sig, size_t *sig_len);

/* ---- AEAD on a token key (aead.c) ------------------------------------- */

#define GP11_GCM_IV_LEN 12
#define GP11_GCM_TAG_LEN 16

enum gp11_aead {
    GP11_AEAD_AES_GCM,
    GP11_AEAD_CHACHA20_POLY1305,
};

/*
 * One AEAD encryption (C_EncryptInit + C_Encrypt) with a 12-byte nonce and
 * a 128-bit tag: out receives in_len bytes of ciphertext then the tag, so
 * it must hold in_len + 16 bytes. A token that replaces the IV is refused.
 */
uint32_t gp11_aead_encrypt(struct gp11_token *tok, enum gp11_aead alg,
                           const struct gp11_object *key,
                           const uint8_t iv[GP11_GCM_IV_LEN],
                           const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t in_len, uint8_t *out);

/*
 * One AEAD decryption of in (ciphertext then tag, in_len >= 16) into out,
 * which must have room for in_len bytes (tokens differ on whether the
 * tag's room is needed); in_len - 16 bytes of plaintext result. out may be
 * NULL when in is only the tag (GMAC). A tag that does not verify is
 * GP11_ERR_BAD_TAG, however the token reports it.
 */
/*
 * gp11_aead_encrypt with the tag apart: ciphertext into out (in_len
 * bytes; may be in: in place), the tag into tag. Init + op makes them in
 * one piece, so then stage (in_len + 16 bytes) is needed unless
 * tag == out + in_len.
 */
uint32_t gp11_aead_encrypt_split(struct gp11_token *tok, enum gp11_aead alg,
                                 const struct gp11_object *key,
                                 const uint8_t iv[GP11_GCM_IV_LEN],
                                 const uint8_t *aad, size_t aad_len,
                                 const uint8_t *in, size_t in_len, uint8_t *out,
                                 uint8_t *tag, uint8_t *stage);

/*
 * gp11_aead_decrypt with the tag apart: ct of ct_len bytes and its tag
 * into out (room for ct_len + 16). Init + op wants them in one piece, so
 * then join (ct_len + 16 bytes) is needed unless tag == ct + ct_len.
 */
uint32_t gp11_aead_decrypt_split(struct gp11_token *tok, enum gp11_aead alg,
                                 const struct gp11_object *key,
                                 const uint8_t iv[GP11_GCM_IV_LEN],
                                 const uint8_t *aad, size_t aad_len,
                                 const uint8_t *ct, size_t ct_len,
                                 const uint8_t *tag, uint8_t *out,
                                 uint8_t *join);

/*
 * gp11_aead_decrypt_split on the key's message operation only (the
 * PKCS#11 3.0 path, which takes the tag apart and writes exactly ct_len
 * bytes): the plaintext into out, which may be ct (in place, PKCS#11 3.0
 * 5.11 C_DecryptMessage). *taken false: the operation is not available
 * for this message (no 3.0 path, another thread holds it, the token
 * would not start one): nothing was sent for the message and out is
 * untouched; use gp11_aead_decrypt_split with staging. *taken true: out
 * may hold output of an unverified message whatever the result, so on
 * any failure (this one or a later check) the caller wipes its ct_len
 * bytes.
 */
uint32_t gp11_aead_decrypt_msg(struct gp11_token *tok, enum gp11_aead alg,
                               const struct gp11_object *key,
                               const uint8_t iv[GP11_GCM_IV_LEN],
                               const uint8_t *aad, size_t aad_len,
                               const uint8_t *ct, size_t ct_len,
                               const uint8_t *tag, uint8_t *out, bool *taken);

/*
 * Per-message AEAD through the PKCS#11 3.0 message functions (token-
 * layer.md 5, "Message operations"): the capability probe sets which
 * algorithms may use them (bit 1 << alg) on tokens that offer them;
 * gp11_msgop_end ends a key's message operation (C_Message*Final and
 * its session closed), called by gp11_object_destroy.
 */
unsigned gp11_token_msg_api(const struct gp11_token *tok);
/* Restricts the message API to the AEADs of mask (never widens what the
 * probe found; tests drive both paths with it). */
void gp11_token_msg_api_limit(struct gp11_token *tok, unsigned mask);
void gp11_msgop_end(struct gp11_token *tok, struct gp11_object *key);
/* Sessions holding a message operation now, and ever opened, on tok. */
void gp11_msgop_stats(const struct gp11_token *tok, size_t *open,
                      size_t *opened);
/* PKCS#11 calls the calling thread has made through this layer. */
unsigned long gp11_ck_calls(void);

uint32_t gp11_aead_decrypt(struct gp11_token *tok, enum gp11_aead alg,
                           const struct gp11_object *key,
                           const uint8_t iv[GP11_GCM_IV_LEN],
                           const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t in_len, uint8_t *out);

/*
 * A MAC (HMAC, CMAC) over part1 || part2: C_SignInit + C_Sign when part2
 * is empty, else one multi-part sign; *mac_len in: room, out: length.
 */
uint32_t gp11_mac(struct gp11_token *tok, CK_MECHANISM_TYPE mech,
                  const struct gp11_object *key, const uint8_t *part1,
                  size_t len1, const uint8_t *part2, size_t len2, uint8_t *mac,
                  size_t *mac_len);

#endif
