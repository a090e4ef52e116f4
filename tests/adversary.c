/* SPDX-License-Identifier: Apache-2.0 */
/* The adversarial handshake peer of the tests (see adversary.h). */
#include "adversary.h"
#include "testlib.h"

#include "gp11_certval.h"
#include "gp11_keysched.h"
#include "gp11_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALWAYS (GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG)
#define ON_REQUEST (GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_ANON_FLAG)

struct adv *adv_new(bool initiator)
{
    struct adv *a = calloc(1, sizeof(*a));

    assert_non_null(a);
    tl_assert_err(gp11_ctx_new(initiator, &a->ctx), GP11_OK);
    return a;
}

void adv_free(struct adv *a)
{
    if (a == NULL)
        return;
    gp11_ctx_free(a->ctx); /* destroys its ephemeral and session keys */
    gp11_identity_free(a->cert_id);
    gp11_identity_free(a->key_id);
    free(a);
}

/* Finds an identity by label on the adversary's token. */
static struct gp11_identity *find_identity(const char *label)
{
    struct gp11_runtime *rt = NULL;
    struct gp11_identity *id = NULL;
    char uri[1024];

    tl_assert_err(gp11_runtime_get(&rt), GP11_OK);
    snprintf(uri, sizeof(uri), "%s;object=%s;type=private", rt->cfg->token_uri,
             label);
    tl_assert_err(gp11_identity_find(rt->tok, uri, &id), GP11_OK);
    return id;
}

/* notAfter and sigalg of a DER certificate (asserted valid now). */
static void cert_facts(const struct gp11_identity *id, time_t *not_after,
                       uint8_t *sigalg)
{
    tl_assert_err(gp11_cert_check_own(id->cert_der, id->cert_len, time(NULL),
                                      not_after, sigalg),
                  GP11_OK);
}

void adv_identity(struct adv *a, const char *cert_label, const char *key_label)
{
    struct gp11_ctx *ctx = a->ctx;
    time_t na;

    a->cert_id = find_identity(cert_label);
    a->key_id = find_identity(key_label);
    cert_facts(a->cert_id, &a->cert_not_after, &ctx->sigalg);
    /* The signature algorithm follows the key that signs. */
    cert_facts(a->key_id, &na, &ctx->sigalg);
    ctx->id_key = a->key_id->key;
    ctx->cert_der = malloc(a->cert_id->cert_len);
    assert_non_null(ctx->cert_der);
    memcpy(ctx->cert_der, a->cert_id->cert_der, a->cert_id->cert_len);
    ctx->cert_len = a->cert_id->cert_len;
    ctx->own_not_after = a->cert_not_after;
}

void adv_cert_of(const char *label, struct gp11_buf *der, time_t *not_after)
{
    struct gp11_identity *id = find_identity(label);
    uint8_t sigalg;
    uint8_t *copy = malloc(id->cert_len);

    assert_non_null(copy);
    cert_facts(id, not_after, &sigalg);
    memcpy(copy, id->cert_der, id->cert_len);
    der->data = copy;
    der->len = id->cert_len;
    gp11_identity_free(id);
}

/* Makes our ephemeral key in group; false for an unknown group. */
static bool make_ephemeral(struct adv *a, uint8_t group)
{
    struct gp11_ctx *ctx = a->ctx;
    const uint8_t *curve;
    size_t clen;

    curve = gp11_group_curve(group, &clen);
    if (curve == NULL)
        return false;
    assert_false(ctx->have_eph);
    tl_assert_err(gp11_ec_ephemeral(ctx->rt->tok, curve, clen, &ctx->eph,
                                    ctx->eph_point, &ctx->eph_len),
                  GP11_OK);
    ctx->have_eph = true;
    ctx->group = group;
    return true;
}

/* Frames the transcript from start on into out. */
static void output_from(struct adv *a, size_t start, gss_buffer_t out)
{
    struct gp11_wbuf w = {a->ctx->transcript.data + start,
                          a->ctx->transcript.len - start, 0, 0};

    uint8_t *tok = NULL;
    size_t len = 0;

    tl_assert_err(gp11_ctx_output(&w, &tok, &len), GP11_OK);
    out->value = tok;
    out->length = len;
}

/* Signs th with the identity key under label into sig. */
static void sign(struct adv *a, const char *label,
                 const uint8_t th[GP11_TH_LEN], uint8_t *sig, size_t *len)
{
    assert_non_null(a->key_id);
    tl_assert_err(gp11_ctx_sign(a->ctx, label, th, sig, len), GP11_OK);
}

/* The key-confirmation MAC over H(th || sig), or zeros. */
static void confirm(struct adv *a, const char *label,
                    const uint8_t th[GP11_TH_LEN], const struct gp11_buf *sig,
                    uint8_t mac[GP11_MAC_LEN])
{
    uint8_t h[GP11_TH_LEN];

    memset(mac, 0, GP11_MAC_LEN);
    if (a->zero_mac || !a->have_keys)
        return;
    gp11_ctx_fin_hash(th, sig, h);
    tl_assert_err(gp11_ks_mac(a->ctx->rt->tok, &a->ctx->keys.conf_own,
                              a->mac_label ? a->mac_label : label, h, mac),
                  GP11_OK);
}

/* Unframes a context token into its inner bytes (a view into tok). */
static struct gp11_buf unframe(const gss_buffer_desc *tok)
{
    struct gp11_buf inner;

    tl_assert_err(gp11_hs_unframe(tok->value, tok->length, &inner), GP11_OK);
    return inner;
}

/* ---- initiator ---------------------------------------------------------- */

void adv_init_defaults(struct adv *a, const char *target, OM_uint32 req_flags,
                       struct gp11_hs_init *m)
{
    static const uint8_t sigalgs[] = {GP11_SIGALG_ECDSA_P256_SHA256,
                                      GP11_SIGALG_ECDSA_P384_SHA384,
                                      GP11_SIGALG_RSA_PSS_SHA256};
    struct gp11_runtime *rt = a->ctx->rt;

    memset(m, 0, sizeof(*m));
    snprintf(a->target, sizeof(a->target), "%s", target);
    m->version_min = m->version_max = GP11_HS_VERSION;
    m->req_flags = req_flags;
    memcpy(m->profiles, rt->profiles, rt->n_profiles);
    m->n_profiles = rt->n_profiles;
    memcpy(m->sigalgs, sigalgs, sizeof(sigalgs));
    m->n_sigalgs = sizeof(sigalgs);
    m->group = GP11_GROUP_P256;
    tl_assert_err(gp11_random(rt->tok, m->nonce, sizeof(m->nonce)), GP11_OK);
    m->target = (struct gp11_buf){(const uint8_t *)a->target, strlen(target)};
    m->caps = rt->msg_caps;
}

void adv_send_init(struct adv *a, struct gp11_hs_init *m, gss_buffer_t out)
{
    struct gp11_ctx *ctx = a->ctx;

    assert_int_equal(ctx->transcript.len, 0);
    if (make_ephemeral(a, m->group))
        m->eph = (struct gp11_buf){ctx->eph_point, ctx->eph_len};
    ctx->req_flags = m->req_flags;
    tl_assert_err(gp11_hs_encode_init(&ctx->transcript, m), GP11_OK);
    output_from(a, 0, out);
}

void adv_init(struct adv *a, const char *target, OM_uint32 req_flags,
              gss_buffer_t out)
{
    struct gp11_hs_init m;

    adv_init_defaults(a, target, req_flags, &m);
    adv_send_init(a, &m, out);
}

void adv_take_accept(struct adv *a, const gss_buffer_desc *accept)
{
    struct gp11_ctx *ctx = a->ctx;
    struct gp11_buf inner = unframe(accept);
    struct gp11_hs_accept m;
    uint8_t th_a[GP11_TH_LEN];

    tl_assert_err(gp11_hs_decode_accept(&inner, &m), GP11_OK);
    gp11_wr_bytes(&ctx->transcript, inner.data, m.core_len);
    tl_assert_err(gp11_ctx_th(ctx, th_a), GP11_OK);
    ctx->profile = m.profile;
    ctx->flags = m.ret_flags;
    tl_assert_err(gp11_ks_derive(ctx->rt->tok, m.profile, ctx->group, &ctx->eph,
                                 m.eph.data, m.eph.len, th_a, true, false,
                                 &ctx->keys),
                  GP11_OK);
    ctx->have_eph = false; /* the key schedule destroyed it */
    a->have_keys = true;
    gp11_wr_bytes(&ctx->transcript, inner.data + m.core_len,
                  inner.len - m.core_len);
    ctx->accept_end = ctx->transcript.len;
}

void adv_finish_defaults(struct adv *a, struct gp11_hs_finish *f)
{
    memset(f, 0, sizeof(*f));
    assert_non_null(a->cert_id);
    f->sigalg = a->ctx->sigalg;
    f->n_certs = 1;
    f->certs[0] = (struct gp11_buf){a->ctx->cert_der, a->ctx->cert_len};
}

void adv_send_finish(struct adv *a, const struct gp11_hs_finish *f,
                     gss_buffer_t out)
{
    struct gp11_ctx *ctx = a->ctx;
    size_t start = ctx->transcript.len, sig_len = 0;
    uint8_t th_c[GP11_TH_LEN], mac[GP11_MAC_LEN], sig[512];
    struct gp11_buf sigb;

    tl_assert_err(gp11_hs_encode_finish_core(&ctx->transcript, f), GP11_OK);
    tl_assert_err(gp11_ctx_th(ctx, th_c), GP11_OK);
    if (f->sigalg != GP11_SIGALG_NONE) {
        sig_len = sizeof(sig);
        sign(a, a->sig_label ? a->sig_label : GP11_SIG_INITIATOR, th_c, sig,
             &sig_len);
    }
    sigb = (struct gp11_buf){sig, sig_len};
    confirm(a, GP11_FIN_INITIATOR, th_c, &sigb, mac);
    tl_assert_err(gp11_hs_encode_tail(&ctx->transcript, &sigb, mac), GP11_OK);
    output_from(a, start, out);
}

bool adv_take_confirm(struct adv *a, const gss_buffer_desc *tok,
                      struct gp11_hs_error *err, bool *err_mac_ok)
{
    struct gp11_ctx *ctx = a->ctx;
    struct gp11_buf inner = unframe(tok), core;
    struct gp11_hs_confirm c;
    uint8_t th[GP11_TH_LEN];

    memset(err, 0, sizeof(*err));
    *err_mac_ok = false;
    assert_true(a->have_keys);
    if (gp11_hs_tok_id(&inner) == GP11_TOK_ERROR) {
        tl_assert_err(gp11_hs_decode_error(&inner, err), GP11_OK);
        core = (struct gp11_buf){inner.data, err->core_len};
        tl_assert_err(gp11_ctx_error_hash(ctx, &core, th), GP11_OK);
        *err_mac_ok =
            err->has_mac &&
            gp11_ks_mac_check(ctx->rt->tok, &ctx->keys.conf_peer,
                              GP11_ERROR_ACCEPTOR, th, err->mac) == GP11_OK;
        return false;
    }
    tl_assert_err(gp11_hs_decode_confirm(&inner, &c), GP11_OK);
    tl_assert_err(gp11_ctx_th(ctx, th), GP11_OK);
    return gp11_ks_mac_check(ctx->rt->tok, &ctx->keys.conf_peer,
                             GP11_CONFIRM_ACCEPTOR, th, c.mac) == GP11_OK;
}

/* ---- acceptor ------------------------------------------------------------ */

void adv_take_init(struct adv *a, const gss_buffer_desc *init,
                   struct gp11_hs_accept *m)
{
    struct gp11_ctx *ctx = a->ctx;
    struct gp11_runtime *rt = ctx->rt;
    struct gp11_buf inner = unframe(init);
    struct gp11_hs_init in;

    tl_assert_err(gp11_hs_decode_init(&inner, &in), GP11_OK);
    assert_int_equal(ctx->transcript.len, 0);
    gp11_wr_bytes(&ctx->transcript, inner.data, inner.len);
    assert_true(in.eph.len <= sizeof(a->peer_eph));
    memcpy(a->peer_eph, in.eph.data, in.eph.len);
    a->peer_eph_len = in.eph.len;
    a->peer_req_flags = in.req_flags;
    snprintf(a->target, sizeof(a->target), "%.*s", (int)in.target.len,
             (const char *)in.target.data);

    assert_non_null(a->cert_id);
    memset(m, 0, sizeof(*m));
    m->version = GP11_HS_VERSION;
    m->profile = rt->profiles[0];
    for (size_t i = in.n_profiles; i-- > 0;)
        if (gp11_runtime_has_profile(rt, in.profiles[i]))
            m->profile = in.profiles[i];
    m->sigalg = ctx->sigalg;
    m->group = in.group;
    m->ret_flags = ALWAYS | (in.req_flags & ON_REQUEST);
    m->lifetime = 36000;
    m->caps = rt->msg_caps;
    tl_assert_err(gp11_random(rt->tok, m->nonce, sizeof(m->nonce)), GP11_OK);
    m->n_certs = 1;
    m->certs[0] = (struct gp11_buf){ctx->cert_der, ctx->cert_len};
}

void adv_send_accept(struct adv *a, struct gp11_hs_accept *m, gss_buffer_t out)
{
    struct gp11_ctx *ctx = a->ctx;
    size_t start = ctx->transcript.len, sig_len = 512;
    uint8_t th_a[GP11_TH_LEN], mac[GP11_MAC_LEN], sig[512];
    struct gp11_buf sigb;
    uint32_t ret;

    if (make_ephemeral(a, m->group))
        m->eph = (struct gp11_buf){ctx->eph_point, ctx->eph_len};
    tl_assert_err(gp11_hs_encode_accept_core(&ctx->transcript, m), GP11_OK);
    tl_assert_err(gp11_ctx_th(ctx, th_a), GP11_OK);
    ctx->profile = m->profile;
    ctx->flags = m->ret_flags;
    /* A profile or group an honest acceptor would not choose may be one
     * this token cannot run: then there are no keys to confirm with. */
    ret = gp11_ks_derive(ctx->rt->tok, m->profile, m->group, &ctx->eph,
                         a->peer_eph, a->peer_eph_len, th_a, false, false,
                         &ctx->keys);
    ctx->have_eph = false; /* destroyed, success or not */
    a->have_keys = ret == GP11_OK;
    sign(a, a->sig_label ? a->sig_label : GP11_SIG_ACCEPTOR, th_a, sig,
         &sig_len);
    sigb = (struct gp11_buf){sig, sig_len};
    confirm(a, GP11_FIN_ACCEPTOR, th_a, &sigb, mac);
    tl_assert_err(gp11_hs_encode_tail(&ctx->transcript, &sigb, mac), GP11_OK);
    ctx->accept_end = ctx->transcript.len;
    output_from(a, start, out);
}

void adv_take_finish(struct adv *a, const gss_buffer_desc *finish)
{
    struct gp11_buf inner = unframe(finish);
    struct gp11_hs_finish f;

    tl_assert_err(gp11_hs_decode_finish(&inner, &f), GP11_OK);
    gp11_wr_bytes(&a->ctx->transcript, inner.data, inner.len);
}

void adv_send_confirm(struct adv *a, enum adv_confirm how, gss_buffer_t out)
{
    struct gp11_ctx *ctx = a->ctx;
    const struct gp11_object *key = &ctx->keys.conf_own;
    const char *label = GP11_CONFIRM_ACCEPTOR;
    struct gp11_hs_confirm c = {{0}};
    uint8_t th[GP11_TH_LEN];
    struct gp11_wbuf w;
    struct gp11_buf b;

    assert_true(a->have_keys);
    if (how == ADV_CONFIRM_NO_FINISH) {
        size_t len = ctx->transcript.len;

        ctx->transcript.len = ctx->accept_end; /* H(INIT || ACCEPT) */
        tl_assert_err(gp11_ctx_th(ctx, th), GP11_OK);
        ctx->transcript.len = len;
    } else {
        tl_assert_err(gp11_ctx_th(ctx, th), GP11_OK);
    }
    if (how == ADV_CONFIRM_FIN_LABEL)
        label = GP11_FIN_ACCEPTOR;
    if (how == ADV_CONFIRM_ERROR_LABEL)
        label = GP11_ERROR_ACCEPTOR;
    if (how == ADV_CONFIRM_PEER_KEY)
        key = &ctx->keys.conf_peer;
    if (how != ADV_CONFIRM_ZERO_MAC)
        tl_assert_err(gp11_ks_mac(ctx->rt->tok, key, label, th, c.mac),
                      GP11_OK);
    gp11_wr_init(&w);
    tl_assert_err(gp11_hs_encode_confirm(&w, &c), GP11_OK);
    b = gp11_wr_view(&w);
    tl_assert_err(gp11_hs_frame(&b, out), GP11_OK);
    gp11_wr_free(&w);
}

void adv_send_error(struct adv *a, uint32_t major, uint32_t reason, bool mac,
                    gss_buffer_t out)
{
    struct gp11_ctx *ctx = a->ctx;
    struct gp11_hs_error e = {.major = major, .reason = reason};
    uint8_t th[GP11_TH_LEN], m[GP11_MAC_LEN];
    struct gp11_wbuf w;
    struct gp11_buf b;

    gp11_wr_init(&w);
    tl_assert_err(gp11_hs_encode_error_core(&w, &e), GP11_OK);
    if (mac) {
        b = gp11_wr_view(&w);
        tl_assert_err(gp11_ctx_error_hash(ctx, &b, th), GP11_OK);
        tl_assert_err(gp11_ks_mac(ctx->rt->tok, &ctx->keys.conf_own,
                                  GP11_ERROR_ACCEPTOR, th, m),
                      GP11_OK);
    }
    tl_assert_err(gp11_hs_encode_error_tail(&w, mac ? m : NULL), GP11_OK);
    b = gp11_wr_view(&w);
    tl_assert_err(gp11_hs_frame(&b, out), GP11_OK);
    gp11_wr_free(&w);
}

/* ---- man in the middle --------------------------------------------------- */

void adv_decode_init(const gss_buffer_desc *tok, struct gp11_hs_init *m)
{
    struct gp11_buf inner = unframe(tok);

    tl_assert_err(gp11_hs_decode_init(&inner, m), GP11_OK);
}

void adv_encode_init(const struct gp11_hs_init *m, gss_buffer_t out)
{
    struct gp11_wbuf w;
    struct gp11_buf b;

    gp11_wr_init(&w);
    tl_assert_err(gp11_hs_encode_init(&w, m), GP11_OK);
    b = gp11_wr_view(&w);
    tl_assert_err(gp11_hs_frame(&b, out), GP11_OK);
    gp11_wr_free(&w);
}

void adv_rewrite_init(gss_buffer_t tok,
                      void (*edit)(struct gp11_hs_init *m, void *arg),
                      void *arg)
{
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    struct gp11_hs_init m;
    OM_uint32 minor;

    adv_decode_init(tok, &m);
    edit(&m, arg);
    adv_encode_init(&m, &out); /* before m's views into tok go away */
    gss_release_buffer(&minor, tok);
    *tok = out;
}

void adv_rewrite_accept(gss_buffer_t tok,
                        void (*edit)(struct gp11_hs_accept *m, void *arg),
                        void *arg)
{
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    struct gp11_buf inner = unframe(tok), b;
    struct gp11_hs_accept m;
    struct gp11_wbuf w;
    OM_uint32 minor;

    tl_assert_err(gp11_hs_decode_accept(&inner, &m), GP11_OK);
    edit(&m, arg);
    gp11_wr_init(&w);
    tl_assert_err(gp11_hs_encode_accept_core(&w, &m), GP11_OK);
    tl_assert_err(gp11_hs_encode_tail(&w, &m.sig, m.mac), GP11_OK);
    b = gp11_wr_view(&w);
    tl_assert_err(gp11_hs_frame(&b, &out), GP11_OK);
    gp11_wr_free(&w);
    gss_release_buffer(&minor, tok);
    *tok = out;
}

void adv_fresh_point(uint8_t group, uint8_t *point, size_t *len)
{
    struct gp11_runtime *rt = NULL;
    struct gp11_object priv;
    const uint8_t *curve;
    size_t clen;

    tl_assert_err(gp11_runtime_get(&rt), GP11_OK);
    curve = gp11_group_curve(group, &clen);
    assert_non_null(curve);
    tl_assert_err(gp11_ec_ephemeral(rt->tok, curve, clen, &priv, point, len),
                  GP11_OK);
    tl_assert_err(gp11_object_destroy(rt->tok, &priv), GP11_OK);
}
