/* SPDX-License-Identifier: Apache-2.0 */
/* The acceptor's side of the handshake (docs/protocol.md 2.1-2.3, 2.9). */
#include "gp11_algs.h"
#include "gp11_context.h"
#include "gp11_establish.h"
#include "gp11_export.h"
#include "gp11_log.h"
#include "gp11_hs_msg.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Flags granted whatever was asked, and those granted on request. */
/* GP11_CTX_TRANS_FLAG is local (gp11_export_ret_flags), never sent. */
#define ALWAYS (GP11_CTX_MUTUAL_FLAG | GP11_CTX_CONF_FLAG | GP11_CTX_INTEG_FLAG)
#define ON_REQUEST                                                             \
    (GP11_CTX_REPLAY_FLAG | GP11_CTX_SEQUENCE_FLAG | GP11_CTX_ANON_FLAG)

/* The initiator's target as a name, NULL when it named none. */
static uint32_t target_name(const char *target, struct gp11_name **out)
{
    *out = NULL;
    if (*target == '\0')
        return GP11_OK;
    return gp11_name_new(GP11_NAME_HOSTBASED, target, out);
}

/* Chooses our identity for the target the initiator named. */
static uint32_t choose_identity(struct gp11_ctx *ctx, struct gp11_cred *cred,
                                const struct gp11_hs_init *m)
{
    struct gp11_cred *tmp = NULL;
    const struct gp11_cred_id *ci;
    struct gp11_name *want = NULL;
    char target[1025];
    uint32_t ret;

    if (m->target.len >= sizeof(target) ||
        memchr(m->target.data, 0, m->target.len))
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the initiator's target name is malformed");
    memcpy(target, m->target.data, m->target.len);
    target[m->target.len] = '\0';
    if (cred == NULL) {
        /* Only the identity the initiator asked for: another configured
         * identity's problem (an expired certificate) is not this one's. */
        ret = target_name(target, &want);
        if (ret == GP11_OK)
            ret = gp11_cred_acquire(want, GP11_CRED_ACCEPT, NULL, &tmp);
        gp11_name_free(want);
        if (ret != GP11_OK)
            return ret;
        cred = tmp;
    }
    ci = gp11_cred_acceptor(cred, target);
    if (ci == NULL)
        ret = gp11_err_set(GP11_ERR_NO_IDENTITY_FOR_SERVICE,
                           "no acceptor identity of this credential serves "
                           "'%s'",
                           target);
    else
        ret = gp11_ctx_set_identity(ctx, cred, ci);
    gp11_cred_free(tmp);
    return ret;
}

/* Negotiation: version, bindings, anonymity, profile, group, sigalg. */
static uint32_t negotiate(struct gp11_ctx *ctx, const struct gp11_hs_init *m)
{
    if (m->version_min > GP11_HS_VERSION || m->version_max < GP11_HS_VERSION)
        return gp11_err_set(GP11_ERR_VERSION,
                            "the initiator speaks protocol versions %u-%u; "
                            "this acceptor speaks %u",
                            m->version_min, m->version_max, GP11_HS_VERSION);
    if (memcmp(ctx->cb_hash, (uint8_t[32]){0}, 32) != 0 &&
        !gp11_ct_equal(ctx->cb_hash, m->cb_hash, 32))
        return gp11_err_set(GP11_ERR_BAD_BINDINGS,
                            "the initiator's channel bindings differ from the "
                            "acceptor's");
    if ((m->req_flags & GP11_CTX_ANON_FLAG) && !ctx->rt->cfg->allow_anonymous)
        return gp11_err_set(GP11_ERR_ANON_REFUSED,
                            "the initiator asked to stay anonymous and "
                            "allow-anonymous is off in %s",
                            ctx->rt->cfg->path);
    /* This side's preference decides (kdf-3.0-hkdf before the legacy
     * kdf-2.40, protocol.md 2.4), whatever order the initiator lists. */
    ctx->profile = 0;
    for (size_t i = 0; i < ctx->rt->n_profiles && ctx->profile == 0; i++)
        for (size_t j = 0; j < m->n_profiles; j++)
            if (m->profiles[j] == ctx->rt->profiles[i])
                ctx->profile = m->profiles[j];
    if (ctx->profile == 0)
        return gp11_err_set(GP11_ERR_NO_COMMON_PROFILE,
                            "the initiator's token and this token share no "
                            "key-derivation profile");
    if (m->group != GP11_GROUP_P256 && m->group != GP11_GROUP_P384)
        return gp11_err_set(GP11_ERR_GROUP_UNSUPPORTED, "unknown ECDH group %u",
                            m->group);
    if (!gp11_caps_have(&ctx->rt->caps, m->group == GP11_GROUP_P256
                                            ? GP11_F_ECDH_P256
                                            : GP11_F_ECDH_P384))
        return gp11_err_set(GP11_ERR_GROUP_UNSUPPORTED,
                            "this token cannot do ECDH in group %u", m->group);
    ctx->group = m->group;
    return GP11_OK;
}

/* The lifetime to grant: request, policy and both certificates. */
static uint32_t grant_lifetime(struct gp11_ctx *ctx, uint32_t requested)
{
    time_t now = time(NULL);
    uint32_t life = ctx->rt->cfg->max_lifetime;

    if (requested && requested < life)
        life = requested;
    if (ctx->own_not_after - now < (time_t)life)
        life =
            ctx->own_not_after > now ? (uint32_t)(ctx->own_not_after - now) : 0;
    return life;
}

/* Builds ACCEPT: core, TH_a, keys, signature, MAC; appended to the
 * transcript (whose tail from `start` is the token). */
static uint32_t build_accept(struct gp11_ctx *ctx,
                             const struct gp11_hs_init *in)
{
    struct gp11_hs_accept m = {0};
    uint8_t th_a[GP11_TH_LEN], h[GP11_TH_LEN], mac[GP11_MAC_LEN];
    uint8_t sig[512];
    size_t sig_len = sizeof(sig), clen;
    const uint8_t *curve = gp11_group_curve(ctx->group, &clen);
    struct gp11_buf sigb;
    uint32_t ret;

    ret = gp11_ec_ephemeral(ctx->rt->tok, curve, clen, &ctx->eph,
                            ctx->eph_point, &ctx->eph_len);
    if (ret != GP11_OK)
        return ret;
    ctx->have_eph = true;
    m.version = GP11_HS_VERSION;
    m.profile = ctx->profile;
    m.sigalg = ctx->sigalg;
    m.group = ctx->group;
    m.ret_flags = ctx->flags;
    m.eph = (struct gp11_buf){ctx->eph_point, ctx->eph_len};
    m.lifetime = grant_lifetime(ctx, in->lifetime_req);
    m.caps = ctx->rt->msg_caps;
    m.n_certs = gp11_ctx_certs(ctx, m.certs);
    if (m.lifetime == 0)
        return gp11_err_set(GP11_ERR_CERT_EXPIRED,
                            "the acceptor's certificate has expired");
    ctx->expiry = time(NULL) + m.lifetime;
    ret = gp11_random_public(ctx->rt->tok, m.nonce, sizeof(m.nonce));
    if (ret == GP11_OK)
        ret = gp11_hs_encode_accept_core(&ctx->transcript, &m);
    if (ret == GP11_OK)
        ret = gp11_ctx_th(ctx, th_a);
    if (ret == GP11_OK)
        ret = gp11_ks_derive(ctx->rt->tok, ctx->profile, ctx->group, &ctx->eph,
                             in->eph.data, in->eph.len, th_a, false,
                             ctx->rt->cfg->extra_qops, &ctx->keys);
    ctx->have_eph = false;
    if (ret == GP11_OK)
        ret = gp11_ctx_sign(ctx, GP11_SIG_ACCEPTOR, th_a, sig, &sig_len);
    if (ret != GP11_OK)
        return ret;
    sigb = (struct gp11_buf){sig, sig_len};
    gp11_ctx_fin_hash(th_a, &sigb, h);
    ret = gp11_ks_mac(ctx->rt->tok, &ctx->keys.conf_own, GP11_FIN_ACCEPTOR, h,
                      mac);
    if (ret == GP11_OK)
        ret = gp11_hs_encode_tail(&ctx->transcript, &sigb, mac);
    return ret;
}

/* What an unauthenticated initiator may learn from an ERROR answering
 * INIT (protocol.md 2.9): negotiation outcomes it could learn by trying
 * offers anyway; everything else (the acceptor's own credential, token or
 * configuration trouble) is the bare "refused". */
static uint32_t init_refusal_reason(uint32_t minor)
{
    switch (minor) {
    case GP11_ERR_TOKEN_MALFORMED:
    case GP11_ERR_VERSION:
    case GP11_ERR_NO_COMMON_PROFILE:
    case GP11_ERR_NO_COMMON_SIGALG:
    case GP11_ERR_GROUP_UNSUPPORTED:
    case GP11_ERR_BAD_BINDINGS:
    case GP11_ERR_ANON_REFUSED:
    case GP11_ERR_NO_IDENTITY_FOR_SERVICE:
    case GP11_ERR_BAD_NAME:
        return minor;
    default:
        return GP11_ERR_PEER_REFUSED;
    }
}

/* The major an ERROR answering INIT carries with a reason: the GSS major
 * of that minor code (gss/status.c's gp11_major_for, protocol.md 2.9). */
static uint32_t init_refusal_major(uint32_t reason)
{
    switch (reason) {
    case GP11_ERR_TOKEN_MALFORMED:
    case GP11_ERR_VERSION:
        return GP11_HS_MAJOR_DEFECTIVE_TOKEN;
    case GP11_ERR_BAD_BINDINGS:
        return GP11_HS_MAJOR_BAD_BINDINGS;
    case GP11_ERR_NO_IDENTITY_FOR_SERVICE:
        return GP11_HS_MAJOR_NO_CRED;
    case GP11_ERR_BAD_NAME:
        return GP11_HS_MAJOR_BAD_NAME;
    default: /* profile, sigalg, group, anonymity; refused */
        return GP11_HS_MAJOR_FAILURE;
    }
}

/* The unauthenticated ERROR answering INIT (protocol.md 2.9). */
static void error_token(uint32_t minor, struct gp11_step *output)
{
    uint32_t reason = init_refusal_reason(minor);
    struct gp11_hs_error e = {.major = init_refusal_major(reason),
                              .reason = reason};
    struct gp11_wbuf w;

    gp11_wr_init(&w);
    if (gp11_hs_encode_error(&w, &e) == GP11_OK)
        gp11_ctx_output(&w, &output->token, &output->token_len);
    gp11_wr_free(&w);
}

/*
 * The ERROR answering a FINISH that was refused, MACed under K_conf_a
 * (protocol.md 2.9). It carries only a class: the initiator's
 * authentication was refused (GP11_HS_MAJOR_DEFECTIVE_CREDENTIAL), or
 * this side failed (GP11_HS_MAJOR_FAILURE); never which check failed.
 */
static void finish_error_token(struct gp11_ctx *ctx, uint32_t minor,
                               struct gp11_step *output)
{
    struct gp11_hs_error e = {.reason = GP11_ERR_PEER_REFUSED};
    uint8_t h[GP11_TH_LEN], mac[GP11_MAC_LEN];
    struct gp11_buf core;
    struct gp11_wbuf w;

    switch (minor) {
    case GP11_ERR_NOMEM:
    case GP11_ERR_INTERNAL:
    case GP11_ERR_SESSION:
    case GP11_ERR_SESSION_EXHAUSTED:
    case GP11_ERR_LOGIN:
    case GP11_ERR_STALE_OBJECT:
    case GP11_ERR_TOKEN_REFUSED:
    case GP11_ERR_MECH_UNSUPPORTED:
    case GP11_ERR_FORKED:
        e.major = GP11_HS_MAJOR_FAILURE;
        break;
    default:
        e.major = GP11_HS_MAJOR_DEFECTIVE_CREDENTIAL;
    }
    if (!ctx->keys.have_conf || ctx->accept_end == 0)
        return;
    gp11_wr_init(&w);
    if (gp11_hs_encode_error_core(&w, &e) != GP11_OK)
        goto done;
    core = gp11_wr_view(&w);
    if (gp11_ctx_error_hash(ctx, &core, h) != GP11_OK ||
        gp11_ks_mac(ctx->rt->tok, &ctx->keys.conf_own, GP11_ERROR_ACCEPTOR, h,
                    mac) != GP11_OK)
        goto done;
    if (gp11_hs_encode_error_tail(&w, mac) == GP11_OK)
        gp11_ctx_output(&w, &output->token, &output->token_len);
done:
    gp11_wr_free(&w);
}

/* First leg: INIT in, ACCEPT out. */
static uint32_t process_init(struct gp11_ctx *ctx, struct gp11_cred *cred,
                             const struct gp11_buf *input,
                             struct gp11_step *output, bool *tell_peer)
{
    struct gp11_hs_init m;
    struct gp11_buf inner;
    size_t start;
    uint32_t ret;

    ret = gp11_hs_unframe(input->data, input->len, &inner);
    if (ret == GP11_OK)
        ret = gp11_hs_decode_init(&inner, &m);
    if (ret != GP11_OK)
        return ret;
    *tell_peer = true; /* a well-formed INIT gets an ERROR if refused */
    ctx->req_flags = m.req_flags;
    ret = negotiate(ctx, &m);
    if (ret != GP11_OK)
        return ret;
    ret = choose_identity(ctx, cred, &m);
    if (ret == GP11_OK && memchr(m.sigalgs, ctx->sigalg, m.n_sigalgs) == NULL)
        ret = gp11_err_set(GP11_ERR_NO_COMMON_SIGALG,
                           "the initiator cannot verify signature algorithm "
                           "%u of this acceptor's key",
                           ctx->sigalg);
    if (ret != GP11_OK)
        return ret;
    ctx->flags = ALWAYS | (m.req_flags & ON_REQUEST);
    ctx->peer_caps = m.caps;
    gp11_wr_bytes(&ctx->transcript, inner.data, inner.len);
    start = ctx->transcript.len;
    ret = build_accept(ctx, &m);
    if (ret == GP11_OK)
        ctx->accept_end = ctx->transcript.len;
    if (ret == GP11_OK) {
        struct gp11_wbuf w = {ctx->transcript.data + start,
                              ctx->transcript.len - start, 0, 0};

        ret = gp11_ctx_output(&w, &output->token, &output->token_len);
    }
    return ret;
}

/* Validates the initiator: chain and signature over TH_c. */
static uint32_t verify_initiator(struct gp11_ctx *ctx,
                                 const struct gp11_hs_finish *f,
                                 const uint8_t th_c[GP11_TH_LEN],
                                 time_t *not_after)
{
    static const char label[] = GP11_SIG_INITIATOR;
    X509 *leaf = NULL;
    uint32_t ret;

    if (f->n_certs == 0) {
        /* Anonymous: only if it was asked for, and the policy allows. */
        if (!(ctx->req_flags & GP11_CTX_ANON_FLAG))
            return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                                "the initiator sent no certificate without "
                                "asking for anonymity");
        return gp11_name_new(GP11_NAME_ANONYMOUS, NULL, &ctx->peer_name);
    }
    if (ctx->trust == NULL)
        return gp11_err_set(GP11_ERR_CERT_UNTRUSTED,
                            "no trust anchors are configured ([trust] "
                            "anchors): the initiator cannot be verified");
    ret = gp11_certval_verify(ctx->trust, f->certs, f->n_certs,
                              GP11_PEER_INITIATOR, NULL, time(NULL), &leaf,
                              not_after);
    if (ret == GP11_OK && gp11_cert_sigalg(leaf) != f->sigalg)
        ret = gp11_err_set(GP11_ERR_SIGNATURE,
                           "the initiator's signature algorithm %u does not "
                           "match its certificate's key",
                           f->sigalg);
    if (ret == GP11_OK)
        ret = gp11_sig_verify(leaf, f->sigalg, (const uint8_t *)label,
                              sizeof(label), th_c, GP11_TH_LEN, f->sig.data,
                              f->sig.len);
    if (ret == GP11_OK)
        ret = gp11_name_from_cert_ex(leaf, false, NULL, true, NULL,
                                     ctx->rt->cfg->user_name_san,
                                     &ctx->peer_name);
    if (ret == GP11_OK)
        gp11_name_attach_cert(ctx->peer_name, leaf, true);
    X509_free(leaf);
    return ret;
}

/* Second leg: FINISH in, CONFIRM out; the context is established. */
static uint32_t process_finish(struct gp11_ctx *ctx,
                               const struct gp11_buf *input,
                               struct gp11_step *output)
{
    struct gp11_hs_finish f;
    struct gp11_hs_confirm c;
    struct gp11_buf inner, sig;
    uint8_t th_c[GP11_TH_LEN], th_f[GP11_TH_LEN], h[GP11_TH_LEN];
    struct gp11_wbuf w;
    time_t not_after = 0;
    uint32_t ret;

    ret = gp11_hs_unframe(input->data, input->len, &inner);
    if (ret == GP11_OK)
        ret = gp11_hs_decode_finish(&inner, &f);
    if (ret != GP11_OK)
        return ret;
    gp11_wr_bytes(&ctx->transcript, inner.data, f.core_len);
    ret = gp11_ctx_th(ctx, th_c);
    if (ret == GP11_OK)
        ret = verify_initiator(ctx, &f, th_c, &not_after);
    if (ret != GP11_OK)
        return ret;
    sig = f.sig;
    gp11_ctx_fin_hash(th_c, &sig, h);
    ret = gp11_ks_mac_check(ctx->rt->tok, &ctx->keys.conf_peer,
                            GP11_FIN_INITIATOR, h, f.mac);
    if (ret != GP11_OK)
        return ret;
    /* FINISH verified: CONFIRM proves it, under K_conf_a, over
     * TH_f = H(INIT || ACCEPT || FINISH). */
    gp11_wr_bytes(&ctx->transcript, inner.data + f.core_len,
                  inner.len - f.core_len);
    ret = gp11_ctx_th(ctx, th_f);
    if (ret == GP11_OK)
        ret = gp11_ks_mac(ctx->rt->tok, &ctx->keys.conf_own,
                          GP11_CONFIRM_ACCEPTOR, th_f, c.mac);
    if (ret != GP11_OK)
        return ret;
    gp11_wr_init(&w);
    ret = gp11_hs_encode_confirm(&w, &c);
    if (ret == GP11_OK)
        ret = gp11_ctx_output(&w, &output->token, &output->token_len);
    gp11_wr_free(&w);
    if (ret != GP11_OK)
        return ret;
    gp11_keys_drop_conf(ctx->rt->tok, &ctx->keys);
    if (not_after && not_after < ctx->expiry)
        ctx->expiry = not_after;
    ctx->flags = gp11_export_ret_flags(ctx, ctx->flags); /* TRANS */
    gp11_seqwin_init(&ctx->recv, ctx->flags);
    ctx->state = GP11_CTX_ESTABLISHED;
    return GP11_OK;
}

/* Dispatches one acceptor call to the leg the context is at. */
static uint32_t accept_leg(struct gp11_ctx **context, struct gp11_cred *cred,
                           const struct gp11_buf *input,
                           const struct gp11_bindings *cb,
                           struct gp11_step *output)
{
    struct gp11_ctx *ctx = *context;
    bool tell_peer = false;
    uint32_t ret;

    if (input->len == 0)
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the initiator's token is missing");
    if (ctx && (ctx->generation != gp11_fork_generation() || ctx->initiator ||
                ctx->state != GP11_CTX_ACCEPT_SENT))
        return gp11_ctx_usable(ctx) == GP11_ERR_FORKED
                   ? GP11_ERR_FORKED
                   : gp11_err_set(GP11_ERR_TOKEN_UNEXPECTED,
                                  "an acceptor step called on a context "
                                  "that expects no token");
    if (ctx) {
        ret = process_finish(ctx, input, output);
        if (ret != GP11_OK) {
            gp11_step_clear(output);
            finish_error_token(ctx, ret, output);
        }
        return ret;
    }
    ret = gp11_ctx_new(false, &ctx);
    if (ret != GP11_OK)
        return ret;
    ret = gp11_ctx_cb_hash(cb, ctx->cb_hash);
    if (ret == GP11_OK)
        ret = process_init(ctx, cred, input, output, &tell_peer);
    if (ret != GP11_OK) {
        gp11_step_clear(output);
        if (tell_peer)
            error_token(ret, output);
        gp11_ctx_free(ctx);
        return ret;
    }
    ctx->state = GP11_CTX_ACCEPT_SENT;
    *context = ctx;
    return GP11_OK;
}

uint32_t gp11_ctx_accept_step(struct gp11_ctx **context, struct gp11_cred *cred,
                              const struct gp11_bindings *cb, const uint8_t *in,
                              size_t in_len, struct gp11_step *step)
{
    struct gp11_buf input = {in, in_len};
    struct gp11_ctx *ctx;
    uint32_t ret;

    *step = (struct gp11_step){0};
    ret = accept_leg(context, cred, &input, cb, step);
    ctx = *context;
    if (ret != GP11_OK && ctx && ctx->state == GP11_CTX_ESTABLISHED)
        return ret; /* a stray call leaves it intact */
    if (ret != GP11_OK) {
        /* A failed handshake leaves nothing behind (RFC 2744 5.1). */
        gp11_log_failure("acceptor refused a context", ret);
        gp11_ctx_free(ctx);
        *context = NULL;
        return ret;
    }
    step->established = ctx->state == GP11_CTX_ESTABLISHED;
    step->flags = ctx->flags;
    step->time_left = step->established ? gp11_ctx_time_left(ctx) : 0;
    step->peer = step->established ? ctx->peer_name : NULL;
    return GP11_OK;
}
