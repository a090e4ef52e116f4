/* SPDX-License-Identifier: Apache-2.0 */
/* The initiator's side of the handshake (docs/protocol.md 2.1-2.3, 2.9). */
#include "gp11_algs.h"
#include "gp11_context.h"
#include "gp11_establish.h"
#include "gp11_export.h"
#include "gp11_log.h"
#include "gp11_hs_msg.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Flags the acceptor may grant (always granted ones and requestable). */
#define GRANTABLE                                                              \
    (GP11_CTX_MUTUAL_FLAG | GP11_CTX_REPLAY_FLAG | GP11_CTX_SEQUENCE_FLAG |    \
     GP11_CTX_CONF_FLAG | GP11_CTX_INTEG_FLAG | GP11_CTX_ANON_FLAG |           \
     GP11_CTX_TRANS_FLAG)

/* Records the target name; it must be host-based. */
static uint32_t set_target(struct gp11_ctx *ctx, const struct gp11_name *n)
{
    const char *host;
    size_t len;

    if (n == NULL || gp11_name_kind(n) != GP11_NAME_HOSTBASED)
        return gp11_err_set(GP11_ERR_BAD_NAME_TYPE,
                            "the target must be a host-based service name "
                            "(service@host)");
    host = gp11_name_host(n);
    /* The host is what the acceptor's certificate is checked against:
     * without it any trusted server certificate would do. */
    if (host == NULL)
        return gp11_err_set(GP11_ERR_BAD_NAME,
                            "the target '%s' names no host; use "
                            "service@host",
                            gp11_name_service(n));
    ctx->target_service = strdup(gp11_name_service(n));
    ctx->target_host = host ? strdup(host) : NULL;
    len = strlen(gp11_name_service(n)) + (host ? strlen(host) + 1 : 0) + 1;
    ctx->target = malloc(len);
    if (ctx->target_service == NULL || (host && ctx->target_host == NULL) ||
        ctx->target == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    snprintf(ctx->target, len, "%s%s%s", gp11_name_service(n), host ? "@" : "",
             host ? host : "");
    return GP11_OK;
}

/* Takes our identity from the credential (or the default one). */
static uint32_t set_initiator_identity(struct gp11_ctx *ctx,
                                       struct gp11_cred *cred)
{
    struct gp11_cred *tmp = NULL;
    const struct gp11_cred_id *ci;
    uint32_t ret;

    if (ctx->req_flags & GP11_CTX_ANON_FLAG) {
        /* No identity, but the credential's trust anchors still decide
         * which acceptors are believed (issue 9 item 1). */
        ctx->anonymous = true;
        if (cred != NULL && cred->own_trust) {
            gp11_trust_free(ctx->own_trust);
            ctx->own_trust = gp11_trust_ref(cred->trust);
            ctx->trust = ctx->own_trust;
        }
        return gp11_name_new(GP11_NAME_ANONYMOUS, NULL, &ctx->own_name);
    }
    if (cred == NULL) {
        ret = gp11_cred_acquire(NULL, GP11_CRED_INITIATE, NULL, &tmp);
        if (ret != GP11_OK)
            return ret;
        cred = tmp;
    }
    ci = gp11_cred_initiator(cred);
    ret = ci ? gp11_ctx_set_identity(ctx, cred, ci)
             : gp11_err_set(GP11_ERR_CRED_USAGE,
                            "the credential cannot initiate contexts");
    gp11_cred_free(tmp);
    return ret;
}

/* The INIT message: offers, our ephemeral key and a fresh nonce. */
static uint32_t build_init(struct gp11_ctx *ctx, uint32_t time_req,
                           struct gp11_step *output)
{
    static const uint8_t sigalgs[] = {GP11_SIGALG_ECDSA_P256_SHA256,
                                      GP11_SIGALG_ECDSA_P384_SHA384,
                                      GP11_SIGALG_RSA_PSS_SHA256};
    struct gp11_hs_init m = {0};
    const uint8_t *curve;
    size_t clen;
    uint32_t ret;

    ctx->group = GP11_GROUP_P256;
    curve = gp11_group_curve(ctx->group, &clen);
    ret = gp11_ec_ephemeral(ctx->rt->tok, curve, clen, &ctx->eph,
                            ctx->eph_point, &ctx->eph_len);
    if (ret != GP11_OK)
        return ret;
    ctx->have_eph = true;
    m.version_min = m.version_max = GP11_HS_VERSION;
    m.req_flags = ctx->req_flags;
    memcpy(m.profiles, ctx->rt->profiles, ctx->rt->n_profiles);
    m.n_profiles = ctx->rt->n_profiles;
    memcpy(m.sigalgs, sigalgs, sizeof(sigalgs));
    m.n_sigalgs = sizeof(sigalgs);
    m.group = ctx->group;
    m.eph = (struct gp11_buf){ctx->eph_point, ctx->eph_len};
    ret = gp11_random_public(ctx->rt->tok, m.nonce, sizeof(m.nonce));
    if (ret != GP11_OK)
        return ret;
    memcpy(m.cb_hash, ctx->cb_hash, sizeof(m.cb_hash));
    m.target =
        (struct gp11_buf){(const uint8_t *)ctx->target, strlen(ctx->target)};
    m.lifetime_req = time_req;
    m.caps = ctx->rt->msg_caps;
    if (m.n_profiles == 0)
        return gp11_err_set(GP11_ERR_NO_COMMON_PROFILE,
                            "this token supports no key-derivation profile "
                            "(see gssp11 info)");
    ret = gp11_hs_encode_init(&ctx->transcript, &m);
    if (ret == GP11_OK)
        ret = gp11_ctx_output(&ctx->transcript, &output->token,
                              &output->token_len);
    return ret;
}

/* True if v is one of the n values. */
static bool offered(const uint8_t *list, size_t n, uint8_t v)
{
    return memchr(list, v, n) != NULL;
}

/* The acceptor's choices must be among our offers. */
static uint32_t check_choices(struct gp11_ctx *ctx,
                              const struct gp11_hs_accept *m)
{
    if (m->version != GP11_HS_VERSION)
        return gp11_err_set(GP11_ERR_VERSION,
                            "the acceptor answered with protocol version %u",
                            m->version);
    if (!offered(ctx->rt->profiles, ctx->rt->n_profiles, m->profile))
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the acceptor chose key-derivation profile %u, "
                            "which was not offered",
                            m->profile);
    if (m->group != ctx->group)
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the acceptor answered in ECDH group %u, not %u",
                            m->group, ctx->group);
    if ((m->ret_flags & ~GRANTABLE) || !(m->ret_flags & GP11_CTX_MUTUAL_FLAG) ||
        ((m->ret_flags & GP11_CTX_ANON_FLAG) &&
         !(ctx->req_flags & GP11_CTX_ANON_FLAG)))
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the acceptor granted flags 0x%x that do not fit "
                            "the request 0x%x",
                            m->ret_flags, ctx->req_flags);
    if (m->lifetime == 0)
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the acceptor granted a zero lifetime");
    return GP11_OK;
}

/* Validates the acceptor: chain, host name, signature algorithm and
 * signature over TH_a. Returns the leaf in *leaf. */
static uint32_t verify_acceptor(struct gp11_ctx *ctx,
                                const struct gp11_hs_accept *m,
                                const uint8_t th_a[GP11_TH_LEN], X509 **leaf,
                                time_t *not_after)
{
    static const char label[] = GP11_SIG_ACCEPTOR;
    uint32_t ret;

    if (ctx->trust == NULL)
        return gp11_err_set(GP11_ERR_CERT_UNTRUSTED,
                            "no trust anchors are configured ([trust] "
                            "anchors): the acceptor cannot be verified");
    ret = gp11_certval_verify(ctx->trust, m->certs, m->n_certs,
                              GP11_PEER_ACCEPTOR, ctx->target_host, time(NULL),
                              leaf, not_after);
    if (ret != GP11_OK)
        return ret;
    if (gp11_cert_sigalg(*leaf) != m->sigalg)
        return gp11_err_set(GP11_ERR_SIGNATURE,
                            "the acceptor's signature algorithm %u does not "
                            "match its certificate's key",
                            m->sigalg);
    return gp11_sig_verify(*leaf, m->sigalg, (const uint8_t *)label,
                           sizeof(label), th_a, GP11_TH_LEN, m->sig.data,
                           m->sig.len);
}

/* Runs ECDH and the key schedule, then checks the acceptor's MAC. */
static uint32_t confirm_acceptor(struct gp11_ctx *ctx,
                                 const struct gp11_hs_accept *m,
                                 const uint8_t th_a[GP11_TH_LEN])
{
    struct gp11_buf sig = m->sig;
    uint8_t h[GP11_TH_LEN];
    uint32_t ret;

    ret = gp11_ks_derive(ctx->rt->tok, m->profile, ctx->group, &ctx->eph,
                         m->eph.data, m->eph.len, th_a, true,
                         ctx->rt->cfg->extra_qops, &ctx->keys);
    ctx->have_eph = false; /* destroyed by the key schedule */
    if (ret != GP11_OK)
        return ret;
    gp11_ctx_fin_hash(th_a, &sig, h);
    return gp11_ks_mac_check(ctx->rt->tok, &ctx->keys.conf_peer,
                             GP11_FIN_ACCEPTOR, h, m->mac);
}

/* The FINISH message: our certificate, signature and MAC. */
static uint32_t build_finish(struct gp11_ctx *ctx, struct gp11_step *output)
{
    struct gp11_hs_finish f = {0};
    uint8_t th_c[GP11_TH_LEN], h[GP11_TH_LEN], mac[GP11_MAC_LEN];
    uint8_t sig[512];
    size_t sig_len = ctx->anonymous ? 0 : sizeof(sig);
    struct gp11_buf sigb;
    size_t start = ctx->transcript.len;
    struct gp11_wbuf w;
    uint32_t ret;

    f.sigalg = ctx->anonymous ? GP11_SIGALG_NONE : ctx->sigalg;
    f.n_certs = ctx->anonymous ? 0 : gp11_ctx_certs(ctx, f.certs);
    ret = gp11_hs_encode_finish_core(&ctx->transcript, &f);
    if (ret == GP11_OK)
        ret = gp11_ctx_th(ctx, th_c);
    if (ret == GP11_OK && !ctx->anonymous)
        ret = gp11_ctx_sign(ctx, GP11_SIG_INITIATOR, th_c, sig, &sig_len);
    if (ret != GP11_OK)
        return ret;
    sigb = (struct gp11_buf){sig, sig_len};
    gp11_ctx_fin_hash(th_c, &sigb, h);
    ret = gp11_ks_mac(ctx->rt->tok, &ctx->keys.conf_own, GP11_FIN_INITIATOR, h,
                      mac);
    if (ret == GP11_OK)
        ret = gp11_hs_encode_tail(&ctx->transcript, &sigb, mac);
    if (ret != GP11_OK)
        return ret;
    /* FINISH is the part of the transcript from start on. */
    w = (struct gp11_wbuf){ctx->transcript.data + start,
                           ctx->transcript.len - start, 0, 0};
    return gp11_ctx_output(&w, &output->token, &output->token_len);
}

/* Lifetime: the granted one, capped by every certificate involved. */
static void set_expiry(struct gp11_ctx *ctx, uint32_t granted,
                       time_t peer_not_after)
{
    time_t e = time(NULL) + (time_t)granted;

    if (peer_not_after < e)
        e = peer_not_after;
    if (!ctx->anonymous && ctx->own_not_after < e)
        e = ctx->own_not_after;
    ctx->expiry = e;
}

/* The acceptor's ERROR token answering INIT: unauthenticated, so only a
 * few majors are believed (protocol.md 2.9); the reason is reported,
 * never acted on. */
static uint32_t peer_refused(const struct gp11_ctx *ctx,
                             const struct gp11_hs_error *e)
{
    const char *why = gp11_err_generic(e->reason);
    uint32_t code = GP11_ERR_PEER_REFUSED;
    char svc[600] = "";

    if (e->has_mac)
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the acceptor's ERROR answering INIT carries a "
                            "MAC, which no key exists for yet");
    if (e->major == GP11_HS_MAJOR_BAD_BINDINGS)
        code = GP11_ERR_BAD_BINDINGS;
    else if (e->major == GP11_HS_MAJOR_BAD_NAME)
        code = GP11_ERR_BAD_NAME;
    else if (e->major == GP11_HS_MAJOR_BAD_MECH)
        code = GP11_ERR_TOKEN_WRONG_MECH;
    /* Which service it has none for: the one this initiator asked for. */
    if (e->reason == GP11_ERR_NO_IDENTITY_FOR_SERVICE && ctx->target_service)
        snprintf(svc, sizeof(svc), " '%s%s%s'", ctx->target_service,
                 ctx->target_host ? "@" : "",
                 ctx->target_host ? ctx->target_host : "");
    return gp11_err_set(code, "the acceptor refused the context: %s%s",
                        why ? why : "no reason given", svc);
}

/* The acceptor's name: service@host when its certificate binds the
 * target's service (SRVName), else refused or (require-service-binding =
 * no) only the certificate's subject (docs/protocol.md 2.10). */
static uint32_t name_acceptor(struct gp11_ctx *ctx, X509 *leaf)
{
    uint32_t ret =
        gp11_certval_service(leaf, ctx->target_service, ctx->target_host);

    if (ret != GP11_OK && ctx->rt->cfg->require_service_binding)
        return ret;
    return gp11_name_from_cert_ex(leaf, true, ctx->target_service,
                                  ret == GP11_OK, ctx->target_host,
                                  ctx->rt->cfg->user_name_san, &ctx->peer_name);
}

/* Second leg: ACCEPT in, FINISH out. */
static uint32_t process_accept(struct gp11_ctx *ctx,
                               const struct gp11_buf *input,
                               struct gp11_step *output)
{
    struct gp11_hs_accept m;
    struct gp11_hs_error e;
    struct gp11_buf inner, tail;
    uint8_t th_a[GP11_TH_LEN];
    time_t peer_not_after = 0;
    X509 *leaf = NULL;
    uint32_t ret;

    ret = gp11_hs_unframe(input->data, input->len, &inner);
    if (ret != GP11_OK)
        return ret;
    if (gp11_hs_tok_id(&inner) == GP11_TOK_ERROR &&
        gp11_hs_decode_error(&inner, &e) == GP11_OK)
        return peer_refused(ctx, &e);
    ret = gp11_hs_decode_accept(&inner, &m);
    if (ret == GP11_OK)
        ret = check_choices(ctx, &m);
    if (ret != GP11_OK)
        return ret;
    gp11_wr_bytes(&ctx->transcript, inner.data, m.core_len);
    ret = gp11_ctx_th(ctx, th_a);
    if (ret == GP11_OK)
        ret = verify_acceptor(ctx, &m, th_a, &leaf, &peer_not_after);
    if (ret == GP11_OK)
        ret = confirm_acceptor(ctx, &m, th_a);
    if (ret == GP11_OK)
        ret = name_acceptor(ctx, leaf);
    if (ret == GP11_OK)
        gp11_name_attach_cert(ctx->peer_name, leaf, true);
    X509_free(leaf);
    if (ret != GP11_OK)
        return ret;
    tail = (struct gp11_buf){inner.data + m.core_len, inner.len - m.core_len};
    gp11_wr_bytes(&ctx->transcript, tail.data, tail.len);
    ctx->accept_end = ctx->transcript.len;
    ret = build_finish(ctx, output);
    if (ret != GP11_OK)
        return ret;
    /* K_conf_a stays until CONFIRM (or an authenticated ERROR) arrives. */
    ctx->flags = m.ret_flags;
    ctx->peer_caps = m.caps;
    set_expiry(ctx, m.lifetime, peer_not_after);
    ctx->state = GP11_CTX_FINISH_SENT;
    return GP11_OK;
}

/* An ERROR answering FINISH: believed only under K_conf_a, and then
 * reported as the coarse class it carries (protocol.md 2.9). */
static uint32_t finish_refused(struct gp11_ctx *ctx,
                               const struct gp11_buf *inner,
                               const struct gp11_hs_error *e)
{
    struct gp11_buf core = {inner->data, e->core_len};
    uint8_t h[GP11_TH_LEN];
    uint32_t ret;

    if (!e->has_mac)
        return gp11_err_set(GP11_ERR_KEY_CONFIRMATION,
                            "an unauthenticated ERROR token arrived where "
                            "the acceptor's CONFIRM was expected");
    ret = gp11_ctx_error_hash(ctx, &core, h);
    if (ret == GP11_OK)
        ret = gp11_ks_mac_check(ctx->rt->tok, &ctx->keys.conf_peer,
                                GP11_ERROR_ACCEPTOR, h, e->mac);
    if (ret != GP11_OK)
        return gp11_err_set(GP11_ERR_KEY_CONFIRMATION,
                            "an ERROR token whose MAC does not verify "
                            "arrived where the acceptor's CONFIRM was "
                            "expected");
    if (e->major == GP11_HS_MAJOR_DEFECTIVE_CREDENTIAL)
        return gp11_err_set(GP11_ERR_PEER_REFUSED,
                            "the acceptor verified this initiator's FINISH "
                            "and refused it (certificate, signature or "
                            "anonymity not accepted; the acceptor's log "
                            "says why)");
    return gp11_err_set(GP11_ERR_PEER_REFUSED,
                        "the acceptor failed while checking this "
                        "initiator's FINISH (an internal or token error on "
                        "its side)");
}

/* Third call: CONFIRM in; the context is established. */
static uint32_t process_confirm(struct gp11_ctx *ctx,
                                const struct gp11_buf *input)
{
    struct gp11_hs_confirm c;
    struct gp11_hs_error e;
    struct gp11_buf inner;
    uint8_t th_f[GP11_TH_LEN];
    uint32_t ret;

    ret = gp11_hs_unframe(input->data, input->len, &inner);
    if (ret != GP11_OK)
        return ret;
    if (gp11_hs_tok_id(&inner) == GP11_TOK_ERROR &&
        gp11_hs_decode_error(&inner, &e) == GP11_OK)
        return finish_refused(ctx, &inner, &e);
    ret = gp11_hs_decode_confirm(&inner, &c);
    if (ret == GP11_OK)
        ret = gp11_ctx_th(ctx, th_f); /* INIT || ACCEPT || FINISH */
    if (ret == GP11_OK)
        ret = gp11_ks_mac_check(ctx->rt->tok, &ctx->keys.conf_peer,
                                GP11_CONFIRM_ACCEPTOR, th_f, c.mac);
    if (ret != GP11_OK)
        return ret;
    gp11_keys_drop_conf(ctx->rt->tok, &ctx->keys);
    ctx->flags = gp11_export_ret_flags(ctx, ctx->flags); /* TRANS */
    gp11_seqwin_init(&ctx->recv, ctx->flags);
    ctx->state = GP11_CTX_ESTABLISHED;
    return GP11_OK;
}

/* First leg: a new context and its INIT token. */
static uint32_t start(struct gp11_ctx **out, struct gp11_cred *cred,
                      const struct gp11_name *target, uint32_t req_flags,
                      uint32_t time_req, const struct gp11_bindings *cb,
                      struct gp11_step *output)
{
    struct gp11_ctx *ctx = NULL;
    uint32_t ret;

    ret = gp11_ctx_new(true, &ctx);
    if (ret != GP11_OK)
        return ret;
    ctx->req_flags = req_flags & GRANTABLE;
    ret = gp11_ctx_cb_hash(cb, ctx->cb_hash);
    if (ret == GP11_OK)
        ret = set_target(ctx, target);
    if (ret == GP11_OK)
        ret = set_initiator_identity(ctx, cred);
    if (ret == GP11_OK)
        ret = build_init(ctx, time_req, output);
    if (ret != GP11_OK) {
        gp11_ctx_free(ctx);
        return ret;
    }
    ctx->state = GP11_CTX_INIT_SENT;
    *out = ctx;
    return GP11_OK;
}

/* The call's outcome on a context that is still there. */
static void step_result(const struct gp11_ctx *ctx, struct gp11_step *step)
{
    step->established = ctx->state == GP11_CTX_ESTABLISHED;
    step->flags = step->established ? ctx->flags : ctx->req_flags;
    step->time_left = step->established ? gp11_ctx_time_left(ctx) : 0;
}

/* Dispatches one initiator call to the leg the context is at. */
static uint32_t init_leg(struct gp11_ctx **context, struct gp11_cred *cred,
                         const struct gp11_name *target, uint32_t req_flags,
                         uint32_t time_req, const struct gp11_bindings *cb,
                         const struct gp11_buf *input, struct gp11_step *output)
{
    struct gp11_ctx *ctx = *context;
    uint32_t ret;

    if (ctx == NULL) {
        ret = start(&ctx, cred, target, req_flags, time_req, cb, output);
        if (ret == GP11_OK)
            *context = ctx;
    } else if (ctx->generation != gp11_fork_generation() || !ctx->initiator ||
               (ctx->state != GP11_CTX_INIT_SENT &&
                ctx->state != GP11_CTX_FINISH_SENT)) {
        ret = gp11_ctx_usable(ctx) == GP11_ERR_FORKED
                  ? GP11_ERR_FORKED
                  : gp11_err_set(GP11_ERR_TOKEN_UNEXPECTED,
                                 "an initiator step called on a context "
                                 "that expects no token");
    } else if (input->len == 0) {
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the acceptor's token is missing");
    } else if (ctx->state == GP11_CTX_INIT_SENT) {
        ret = process_accept(ctx, input, output);
    } else {
        ret = process_confirm(ctx, input);
    }
    return ret;
}

uint32_t gp11_ctx_init_step(struct gp11_ctx **context, struct gp11_cred *cred,
                            const struct gp11_name *target, uint32_t req_flags,
                            uint32_t lifetime_req,
                            const struct gp11_bindings *cb, const uint8_t *in,
                            size_t in_len, struct gp11_step *step)
{
    struct gp11_buf input = {in, in_len};
    uint32_t ret;

    *step = (struct gp11_step){0};
    ret = init_leg(context, cred, target, req_flags, lifetime_req, cb, &input,
                   step);
    if (ret != GP11_OK && *context &&
        (*context)->state == GP11_CTX_ESTABLISHED) {
        /* A stray call on an established context leaves it intact. */
        return ret;
    }
    if (ret != GP11_OK) {
        /* A failed handshake leaves nothing behind (RFC 2744 5.19). */
        gp11_log_failure("initiator refused a context", ret);
        gp11_ctx_free(*context);
        *context = NULL;
        gp11_step_clear(step);
        return ret;
    }
    step_result(*context, step);
    return GP11_OK;
}
