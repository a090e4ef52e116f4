/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context export and import (docs/protocol.md 5), the engine half of
 * gss_export_sec_context / gss_import_sec_context (gss/ctx_export.c) and
 * of ExportSecurityContext / ImportSecurityContextA (sspi/engine.c):
 * bytes in, bytes out, GP11 codes. The context keys leave the token only
 * wrapped under the export KEK, which never does; the blob is authenticated by
 * a one-time HMAC key that is a token object of its own and is destroyed by the
 * import, so a blob imports at most once.
 */
#include "gp11_export.h"
#include "gp11_algs.h"
#include "gp11_kek.h"
#include "gp11_name.h"
#include "gp11_qop.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Roles of the keys in a blob (protocol.md 5.2). */
enum {
    KEY_SEND = 1,
    KEY_RECV = 2,
    KEY_PRF = 3,
    KEY_KDK = 4,
};

/* Bytes before the first variable field: magic, version, length. */
#define HEADER_LEN 9
#define NO_NAME 0xff

void gp11_export_setup(struct gp11_runtime *rt)
{
    const char *label =
        rt->cfg->export_kek ? rt->cfg->export_kek : GP11_KEK_DEFAULT_LABEL;
    struct gp11_kek kek;

    if (!rt->cfg->allow_export)
        return;
    /* Without the KEK, keys stay non-extractable and export says why. */
    if (gp11_kek_find(rt->tok, label, &kek) != GP11_OK)
        return;
    gp11_kek_set_policy(rt->tok, GP11_EXPORT_KEYS |
                                     (kek.trusted ? GP11_EXPORT_TRUSTED : 0));
}

uint32_t gp11_export_ret_flags(const struct gp11_ctx *ctx, uint32_t flags)
{
    flags &= ~(uint32_t)GP11_CTX_TRANS_FLAG;
    if (ctx->rt->cfg->allow_export &&
        (gp11_kek_policy(ctx->rt->tok) & GP11_EXPORT_KEYS))
        flags |= GP11_CTX_TRANS_FLAG;
    return flags;
}

/* SHA-256 naming this token (protocol.md 5.2, token_id). */
static void token_id(struct gp11_token *tok, uint8_t out[32])
{
    static const char label[] = "gss-pkcs11 v2 token";
    const CK_TOKEN_INFO *ti = gp11_token_info(tok);
    unsigned int n = 32;
    EVP_MD_CTX *h = EVP_MD_CTX_new();

    if (h == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(h, label, sizeof(label)) != 1 ||
        EVP_DigestUpdate(h, ti->manufacturerID, 32) != 1 ||
        EVP_DigestUpdate(h, ti->model, 16) != 1 ||
        EVP_DigestUpdate(h, ti->serialNumber, 16) != 1 ||
        EVP_DigestUpdate(h, ti->label, 32) != 1 ||
        EVP_DigestFinal_ex(h, out, &n) != 1)
        memset(out, 0, 32);
    EVP_MD_CTX_free(h);
}

/* HMAC-SHA-256 in the token of label || body under the one-time key. */
static uint32_t blob_mac(struct gp11_token *tok, const struct gp11_object *key,
                         const uint8_t *body, size_t len,
                         uint8_t mac[GP11_BLOB_MAC_LEN])
{
    static const char label[] = GP11_BLOB_MAC_LABEL;
    size_t mac_len = GP11_BLOB_MAC_LEN;
    uint32_t ret;

    ret = gp11_mac(tok, CKM_SHA256_HMAC, key, (const uint8_t *)label,
                   sizeof(label), body, len, mac, &mac_len);
    if (ret == GP11_OK && mac_len != GP11_BLOB_MAC_LEN)
        ret = gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                           "HMAC-SHA-256 gave %zu bytes", mac_len);
    return ret;
}

/* Writes a 64-bit value big-endian. */
static void wr_u64(struct gp11_wbuf *w, uint64_t v)
{
    gp11_wr_u32(w, (uint32_t)(v >> 32));
    gp11_wr_u32(w, (uint32_t)v);
}

static uint64_t rd_u64(struct gp11_rbuf *r, const char *field)
{
    uint64_t hi = gp11_rd_u32(r, field);

    return hi << 32 | gp11_rd_u32(r, field);
}

/* A name: kind (NO_NAME for none) then opaque16 display text. */
static void wr_name(struct gp11_wbuf *w, const struct gp11_name *n)
{
    if (n == NULL) {
        gp11_wr_u8(w, NO_NAME);
        gp11_wr_opaque16(w, NULL, 0);
        return;
    }
    gp11_wr_u8(w, (uint8_t)gp11_name_kind(n));
    if (gp11_name_kind(n) == GP11_NAME_ANONYMOUS)
        gp11_wr_opaque16(w, NULL, 0);
    else
        gp11_wr_opaque16(w, gp11_name_text(n), strlen(gp11_name_text(n)));
}

/* Wraps one key under the KEK into w as role, CKK, opaque16. */
static uint32_t wr_key(struct gp11_wbuf *w, struct gp11_token *tok,
                       const struct gp11_kek *kek, uint8_t role,
                       CK_KEY_TYPE type, const struct gp11_object *key)
{
    uint8_t wrapped[GP11_WRAPPED_MAX];
    size_t len = sizeof(wrapped);
    uint32_t ret;

    ret = gp11_kek_wrap(tok, kek, key, wrapped, &len);
    if (ret != GP11_OK)
        return ret;
    gp11_wr_u8(w, role);
    gp11_wr_u8(w, (uint8_t)type);
    gp11_wr_opaque16(w, wrapped, len);
    return GP11_OK;
}

/* The body of protocol.md 5.2, everything the MAC covers. */
static uint32_t build_body(struct gp11_ctx *ctx, const struct gp11_kek *kek,
                           const uint8_t once_id[GP11_ONETIME_ID_LEN],
                           struct gp11_wbuf *w)
{
    struct gp11_token *tok = ctx->rt->tok;
    CK_KEY_TYPE kdk_type = ctx->keys.profile == GP11_PROFILE_ID_KDF_240
                               ? CKK_AES
                               : CKK_GENERIC_SECRET;
    uint8_t tid[32];
    uint32_t ret;

    token_id(tok, tid);
    gp11_wr_bytes(w, GP11_BLOB_MAGIC, 4);
    gp11_wr_u8(w, GP11_BLOB_VERSION);
    gp11_wr_u32(w, 0); /* total length, set below */
    gp11_wr_bytes(w, tid, sizeof(tid));
    gp11_wr_bytes(w, kek->id, GP11_KEK_ID_LEN);
    gp11_wr_bytes(w, once_id, GP11_ONETIME_ID_LEN);
    gp11_wr_u8(w, ctx->initiator ? 1 : 0);
    gp11_wr_u8(w, ctx->profile);
    gp11_wr_u8(w, ctx->group);
    gp11_wr_u32(w, ctx->flags);
    wr_u64(w, (uint64_t)ctx->expiry);
    gp11_wr_u32(w, ctx->peer_caps);
    wr_u64(w, ctx->send_seq);
    /* the window: its top and bitmap (bit 0, the top, is set once any
     * number was recorded, so an empty window is seen == 0) */
    wr_u64(w, ctx->recv.any ? ctx->recv.top : 0);
    wr_u64(w, ctx->recv.any ? ctx->recv.seen : 0);
    wr_name(w, ctx->own_name);
    wr_name(w, ctx->peer_name);
    gp11_wr_u8(w, ctx->keys.have_kdk ? 4 : 3);
    ret = wr_key(w, tok, kek, KEY_SEND, CKK_AES, &ctx->keys.send);
    if (ret == GP11_OK)
        ret = wr_key(w, tok, kek, KEY_RECV, CKK_AES, &ctx->keys.recv);
    if (ret == GP11_OK)
        ret = wr_key(w, tok, kek, KEY_PRF, CKK_GENERIC_SECRET, &ctx->keys.prf);
    if (ret == GP11_OK && ctx->keys.have_kdk)
        ret = wr_key(w, tok, kek, KEY_KDK, kdk_type, &ctx->keys.kdk);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_wr_status(w, "the exported context");
    if (ret != GP11_OK)
        return ret;
    /* Total length, MAC included. */
    {
        size_t total = w->len + GP11_BLOB_MAC_LEN;

        w->data[5] = (uint8_t)(total >> 24);
        w->data[6] = (uint8_t)(total >> 16);
        w->data[7] = (uint8_t)(total >> 8);
        w->data[8] = (uint8_t)total;
    }
    return GP11_OK;
}

/* The KEK the configuration names, or why export is not possible. */
static uint32_t config_kek(struct gp11_runtime *rt, struct gp11_kek *kek)
{
    const char *label =
        rt->cfg->export_kek ? rt->cfg->export_kek : GP11_KEK_DEFAULT_LABEL;
    uint32_t ret;

    if (!rt->cfg->allow_export)
        return gp11_err_set(GP11_ERR_EXPORT_FORBIDDEN,
                            "context export is forbidden by the policy of "
                            "%s ([policy] allow-export = no)",
                            rt->cfg->path);
    ret = gp11_kek_find(rt->tok, label, kek);
    if (ret != GP11_OK) {
        char why[512];

        snprintf(why, sizeof(why), "%s", gp11_err_message(ret));
        return gp11_err_set(GP11_ERR_EXPORT_FORBIDDEN,
                            "context export needs the export KEK: %s", why);
    }
    return GP11_OK;
}

/* Exports an established context; ctx is unchanged on failure. */
static uint32_t export_ctx(struct gp11_ctx *ctx, uint8_t **blob, size_t *len)
{
    struct gp11_token *tok = ctx->rt->tok;
    uint8_t once_id[GP11_ONETIME_ID_LEN], mac[GP11_BLOB_MAC_LEN];
    struct gp11_object once;
    struct gp11_wbuf w;
    struct gp11_kek kek;
    bool have_once = false;
    uint32_t ret;

    gp11_wr_init(&w);
    ret = config_kek(ctx->rt, &kek);
    if (ret == GP11_OK && !(gp11_kek_policy(tok) & GP11_EXPORT_KEYS))
        ret = gp11_err_set(GP11_ERR_EXPORT_FORBIDDEN,
                           "this context's keys were made before the export "
                           "KEK existed and cannot be exported");
    if (ret == GP11_OK && !(ctx->flags & GP11_CTX_TRANS_FLAG))
        ret = gp11_err_set(GP11_ERR_EXPORT_FORBIDDEN,
                           "this context was not granted GSS_C_TRANS_FLAG");
    if (ret != GP11_OK)
        goto done;
    ret = gp11_onetime_create(tok, once_id, &once);
    if (ret != GP11_OK)
        goto done;
    have_once = true;
    ret = build_body(ctx, &kek, once_id, &w);
    if (ret == GP11_OK)
        ret = blob_mac(tok, &once, w.data, w.len, mac);
    if (ret == GP11_OK) {
        gp11_wr_bytes(&w, mac, sizeof(mac));
        ret = gp11_wr_status(&w, "the exported context");
    }
    if (ret != GP11_OK)
        goto done;
    *blob = w.data;
    *len = w.len;
    w.data = NULL;
    have_once = false; /* the import destroys it */
done:
    if (have_once)
        gp11_object_destroy(tok, &once);
    gp11_wr_free(&w);
    return ret;
}

uint32_t gp11_ctx_export(struct gp11_ctx *ctx, uint8_t **blob, size_t *len)
{
    uint32_t ret;

    *blob = NULL;
    *len = 0;
    ret = gp11_ctx_usable(ctx);
    if (ret != GP11_OK)
        return ret;
    pthread_mutex_lock(&ctx->msg_lock);
    ret = export_ctx(ctx, blob, len);
    pthread_mutex_unlock(&ctx->msg_lock);
    if (ret != GP11_OK)
        return ret;
    /* RFC 2743 2.2.8: the exported context is no longer usable here. */
    gp11_ctx_free(ctx);
    return GP11_OK;
}

/* ---- import --------------------------------------------------------- */

/* The fields of a parsed blob. */
struct blob {
    uint8_t token_id[32], kek_id[GP11_KEK_ID_LEN], once_id[GP11_ONETIME_ID_LEN];
    uint8_t initiator, profile, group;
    uint32_t flags, peer_caps;
    uint64_t expiry, send_seq, recv_top, recv_seen;
    uint8_t kind[2];
    struct gp11_buf name[2];
    uint8_t n_keys;
    struct {
        uint8_t role, type;
        struct gp11_buf wrapped;
    } keys[4];
    size_t body_len; /* bytes the MAC covers */
    const uint8_t *mac;
};

/* Parses a blob; GP11_ERR_BLOB_MALFORMED naming what is wrong. */
static uint32_t parse(const uint8_t *p, size_t len, struct blob *b)
{
    struct gp11_rbuf r;
    uint8_t magic[4], version;
    uint32_t total;

    memset(b, 0, sizeof(*b));
    if (len < HEADER_LEN + GP11_BLOB_MAC_LEN)
        return gp11_err_set(GP11_ERR_BLOB_MALFORMED,
                            "the exported context is %zu bytes: too short "
                            "(truncated?)",
                            len);
    gp11_rd_init(&r, p, len - GP11_BLOB_MAC_LEN);
    gp11_rd_bytes(&r, magic, 4, "magic");
    version = gp11_rd_u8(&r, "version");
    total = gp11_rd_u32(&r, "length");
    if (memcmp(magic, GP11_BLOB_MAGIC, 4) != 0)
        return gp11_err_set(GP11_ERR_BLOB_MALFORMED,
                            "this is not a gss-pkcs11 exported context (bad "
                            "magic)");
    if (version != GP11_BLOB_VERSION)
        return gp11_err_set(GP11_ERR_BLOB_MALFORMED,
                            "the exported context has version %u; this "
                            "gss-pkcs11 reads version %u",
                            version, GP11_BLOB_VERSION);
    if (total != len)
        return gp11_err_set(GP11_ERR_BLOB_MALFORMED,
                            "the exported context is %zu bytes but says it "
                            "is %u (truncated or extended)",
                            len, total);
    gp11_rd_bytes(&r, b->token_id, 32, "token_id");
    gp11_rd_bytes(&r, b->kek_id, GP11_KEK_ID_LEN, "kek_id");
    gp11_rd_bytes(&r, b->once_id, GP11_ONETIME_ID_LEN, "once_id");
    b->initiator = gp11_rd_u8(&r, "initiator");
    gp11_rd_check(&r, b->initiator <= 1, "initiator", "is not 0 or 1");
    b->profile = gp11_rd_u8(&r, "profile");
    b->group = gp11_rd_u8(&r, "group");
    b->flags = gp11_rd_u32(&r, "flags");
    b->expiry = rd_u64(&r, "expiry");
    b->peer_caps = gp11_rd_u32(&r, "peer_caps");
    b->send_seq = rd_u64(&r, "send_seq");
    b->recv_top = rd_u64(&r, "recv_top");
    b->recv_seen = rd_u64(&r, "recv_seen");
    for (int i = 0; i < 2; i++) {
        b->kind[i] = gp11_rd_u8(&r, "name kind");
        gp11_rd_check(&r, b->kind[i] <= GP11_NAME_X509 || b->kind[i] == NO_NAME,
                      "name kind", "is unknown");
        b->name[i] = gp11_rd_opaque16(&r, "name");
    }
    b->n_keys = gp11_rd_u8(&r, "key count");
    gp11_rd_check(&r, b->n_keys == 3 || b->n_keys == 4, "key count",
                  "is not 3 or 4");
    for (int i = 0; i < b->n_keys && i < 4 && gp11_rd_ok(&r); i++) {
        b->keys[i].role = gp11_rd_u8(&r, "key role");
        gp11_rd_check(&r, b->keys[i].role == i + 1, "key role",
                      "is out of order");
        b->keys[i].type = gp11_rd_u8(&r, "key type");
        b->keys[i].wrapped = gp11_rd_opaque16(&r, "wrapped key");
    }
    gp11_rd_end(&r);
    b->body_len = len - GP11_BLOB_MAC_LEN;
    b->mac = p + b->body_len;
    return gp11_rd_status(&r, GP11_ERR_BLOB_MALFORMED, "the exported context");
}

/* Unwraps one key of the blob with the template of its role. */
static uint32_t unwrap_key(struct gp11_token *tok, const struct gp11_kek *kek,
                           uint8_t role, uint8_t type, struct gp11_buf wrapped,
                           struct gp11_object *out)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = type;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    unsigned xp = gp11_kek_policy(tok);
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_TOKEN, &no, sizeof(no)},
        {CKA_PRIVATE, &no, sizeof(no)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        /* Exportable again, as the keys this side would make. */
        {CKA_EXTRACTABLE, xp & GP11_EXPORT_KEYS ? &yes : &no, sizeof(no)},
        {CKA_ENCRYPT, role == KEY_SEND ? &yes : &no, sizeof(yes)},
        {CKA_DECRYPT, role == KEY_RECV ? &yes : &no, sizeof(yes)},
        {CKA_SIGN, role == KEY_PRF ? &yes : &no, sizeof(yes)},
        {CKA_VERIFY, role == KEY_PRF ? &yes : &no, sizeof(yes)},
        {CKA_DERIVE, role == KEY_KDK ? &yes : &no, sizeof(yes)},
        {CKA_WRAP, &no, sizeof(no)},
        {CKA_UNWRAP, &no, sizeof(no)},
        {CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes)}, /* last: only if xp */
    };
    CK_ULONG n =
        sizeof(t) / sizeof(t[0]) -
        ((xp & GP11_EXPORT_KEYS) && (xp & GP11_EXPORT_TRUSTED) ? 0 : 1);
    bool aes = role == KEY_SEND || role == KEY_RECV;

    if ((aes && type != CKK_AES) ||
        (!aes && type != CKK_AES && type != CKK_GENERIC_SECRET))
        return gp11_err_set(GP11_ERR_BLOB_MALFORMED,
                            "key %u of the exported context has type %u", role,
                            type);
    return gp11_kek_unwrap(tok, kek, wrapped.data, wrapped.len, t, n, out);
}

/* A name of the blob (NULL for NO_NAME). */
static uint32_t make_name(uint8_t kind, struct gp11_buf text,
                          struct gp11_name **out)
{
    char buf[GP11_NAME_MAX + 1];

    *out = NULL;
    if (kind == NO_NAME)
        return GP11_OK;
    if (kind == GP11_NAME_ANONYMOUS)
        return gp11_name_new(GP11_NAME_ANONYMOUS, NULL, out);
    if (text.len > GP11_NAME_MAX || memchr(text.data, 0, text.len))
        return gp11_err_set(GP11_ERR_BLOB_MALFORMED,
                            "a name of the exported context is invalid");
    memcpy(buf, text.data, text.len);
    buf[text.len] = '\0';
    return gp11_name_new((enum gp11_name_kind)kind, buf, out);
}

/* Makes the context of an authenticated blob. */
static uint32_t rebuild(const struct blob *b, const struct gp11_kek *kek,
                        struct gp11_ctx **out)
{
    struct gp11_ctx *ctx = NULL;
    struct gp11_object *slot[4];
    struct gp11_token *tok;
    int made = 0;
    uint32_t ret;

    ret = gp11_ctx_new(b->initiator == 1, &ctx);
    if (ret != GP11_OK)
        return ret;
    tok = ctx->rt->tok;
    ctx->profile = b->profile;
    ctx->group = b->group;
    ctx->flags = gp11_export_ret_flags(ctx, b->flags);
    ctx->req_flags = b->flags;
    ctx->expiry = (time_t)b->expiry;
    ctx->peer_caps = b->peer_caps;
    ctx->send_seq = b->send_seq;
    gp11_seqwin_init(&ctx->recv, ctx->flags);
    ctx->recv.any = b->recv_seen != 0;
    ctx->recv.top = b->recv_seen != 0 ? b->recv_top : 0;
    ctx->recv.seen = b->recv_seen;
    ctx->anonymous = b->kind[0] == GP11_NAME_ANONYMOUS;
    ret = make_name(b->kind[0], b->name[0], &ctx->own_name);
    if (ret == GP11_OK)
        ret = make_name(b->kind[1], b->name[1], &ctx->peer_name);
    if (ret != GP11_OK)
        goto done;
    slot[0] = &ctx->keys.send;
    slot[1] = &ctx->keys.recv;
    slot[2] = &ctx->keys.prf;
    slot[3] = &ctx->keys.kdk;
    ctx->keys.profile = b->profile;
    for (int i = 0; i < b->n_keys && ret == GP11_OK; i++) {
        ret = unwrap_key(tok, kek, b->keys[i].role, b->keys[i].type,
                         b->keys[i].wrapped, slot[i]);
        if (ret != GP11_OK)
            break;
        made++;
        /* Recorded one by one so that a failure destroys what exists. */
        if (i == 1)
            ctx->keys.have_traffic = true;
        else if (i == 2)
            ctx->keys.have_prf = true;
        else if (i == 3)
            ctx->keys.have_kdk = true;
    }
    /* Only the send key made: gp11_ctx_free does not know it. */
    if (ret != GP11_OK && !ctx->keys.have_traffic && made == 1)
        gp11_object_destroy(tok, &ctx->keys.send);
    if (ret != GP11_OK)
        goto done;
    ctx->state = GP11_CTX_ESTABLISHED;
    *out = ctx;
    ctx = NULL;
done:
    gp11_ctx_free(ctx);
    return ret;
}

uint32_t gp11_ctx_import(const uint8_t *p, size_t len, struct gp11_ctx **out)
{
    struct gp11_runtime *rt;
    uint8_t tid[32], mac[GP11_BLOB_MAC_LEN];
    struct gp11_object once;
    struct gp11_kek kek;
    struct blob b;
    uint32_t ret;

    *out = NULL;
    if (p == NULL)
        return gp11_err_set(GP11_ERR_BLOB_MALFORMED,
                            "no exported context given");
    ret = parse(p, len, &b);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_runtime_get(&rt);
    if (ret != GP11_OK)
        return ret;
    ret = config_kek(rt, &kek);
    if (ret != GP11_OK)
        return ret;
    token_id(rt->tok, tid);
    if (memcmp(tid, b.token_id, sizeof(tid)) != 0)
        return gp11_err_set(GP11_ERR_BLOB_FOREIGN,
                            "the exported context was made on another token "
                            "(or its token_id was altered)");
    if (memcmp(kek.id, b.kek_id, GP11_KEK_ID_LEN) != 0)
        return gp11_err_set(GP11_ERR_BLOB_FOREIGN,
                            "the exported context was made under another "
                            "export KEK (or its kek_id was altered)");
    if (gp11_onetime_find(rt->tok, b.once_id, &once) != GP11_OK)
        return gp11_err_set(GP11_ERR_BLOB_USED,
                            "the exported context was already imported, or "
                            "never made on this token (no one-time key with "
                            "its once_id)");
    ret = blob_mac(rt->tok, &once, p, b.body_len, mac);
    if (ret != GP11_OK)
        return ret;
    if (!gp11_ct_equal(mac, b.mac, sizeof(mac)))
        return gp11_err_set(GP11_ERR_BLOB_ALTERED,
                            "the exported context was altered: its MAC does "
                            "not verify");
    /* At most once: the one-time key goes before any key comes back. */
    ret = gp11_object_destroy(rt->tok, &once);
    if (ret != GP11_OK)
        return gp11_err_set(GP11_ERR_BLOB_USED,
                            "the one-time key of the exported context could "
                            "not be destroyed (imported elsewhere at the "
                            "same time?)");
    if (gp11_onetime_find(rt->tok, b.once_id, &once) == GP11_OK)
        return gp11_err_set(GP11_ERR_BLOB_USED,
                            "the one-time key of the exported context "
                            "survived its destruction");
    return rebuild(&b, &kek, out);
}
