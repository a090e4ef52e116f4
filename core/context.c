/* SPDX-License-Identifier: Apache-2.0 */
/* Security contexts: the parts shared by both sides (the GSS queries on
 * them are gss/context.c). */
#include "gp11_context.h"
#include "gp11_algs.h"
#include "gp11_establish.h"
#include "gp11_hs_msg.h"
#include "gp11_qop.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint32_t gp11_ctx_new(bool initiator, struct gp11_ctx **out)
{
    struct gp11_ctx *ctx;
    uint32_t ret;

    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    ctx->initiator = initiator;
    ctx->pid = getpid();
    ctx->generation = gp11_fork_generation();
    pthread_mutex_init(&ctx->msg_lock, NULL);
    pthread_mutex_init(&ctx->stage_lock, NULL);
    gp11_wr_init(&ctx->transcript);
    ret = gp11_runtime_get(&ctx->rt);
    if (ret != GP11_OK) {
        gp11_ctx_free(ctx);
        return ret;
    }
    /* The runtime's anchors as they are now (a changed file reloaded). */
    ret = gp11_runtime_trust(ctx->rt, &ctx->own_trust);
    if (ret != GP11_OK) {
        gp11_ctx_free(ctx);
        return ret;
    }
    ctx->trust = ctx->own_trust;
    *out = ctx;
    return GP11_OK;
}

void gp11_ctx_free(struct gp11_ctx *ctx)
{
    struct gp11_token *tok;

    if (ctx == NULL)
        return;
    /* In a forked child the objects are the parent's: never touch them. */
    tok = ctx->rt && ctx->generation == gp11_fork_generation() ? ctx->rt->tok
                                                               : NULL;
    if (tok) {
        gp11_qop_keys_destroy(ctx);
        gp11_keys_destroy(tok, &ctx->keys);
        if (ctx->have_eph)
            gp11_object_destroy(tok, &ctx->eph);
    }
    gp11_wr_free(&ctx->transcript);
    gp11_name_free(ctx->own_name);
    gp11_name_free(ctx->peer_name);
    gp11_trust_free(ctx->own_trust);
    free(ctx->id_ckaid);
    free(ctx->cert_der);
    for (size_t i = 0; i < ctx->n_chain; i++)
        free(ctx->chain_der[i]);
    free(ctx->target);
    free(ctx->target_service);
    free(ctx->target_host);
    pthread_mutex_destroy(&ctx->msg_lock);
    /* The receive buffer held plaintext; the send one only ciphertext
     * and what was sent in the clear. */
    if (ctx->stage_recv)
        gp11_wipe(ctx->stage_recv, ctx->stage_recv_cap);
    free(ctx->stage_recv);
    free(ctx->stage_send);
    pthread_mutex_destroy(&ctx->stage_lock);
    free(ctx);
}

uint32_t gp11_ctx_set_identity(struct gp11_ctx *ctx,
                               const struct gp11_cred *cred,
                               const struct gp11_cred_id *ci)
{
    struct gp11_cred_id now;
    uint32_t ret;

    /* The identity as the cache has it now: a credential acquired long
     * ago gets the key and certificate resolved again after a token loss,
     * a failed key handle or a fork (docs/token-layer.md 6). */
    ret =
        gp11_idcache_lookup(ctx->rt, ci->uri, ci->service, ci->initiator, &now);
    if (ret != GP11_OK)
        goto done;
    ctx->id_key = now.id->key;
    ctx->id_ckaid = now.id->id;
    ctx->id_ckaid_len = now.id->id_len;
    now.id->id = NULL;
    ctx->sigalg = now.sigalg;
    ctx->own_not_after = now.not_after;
    ctx->cert_der = now.id->cert_der;
    ctx->cert_len = now.id->cert_len;
    now.id->cert_der = NULL;
    for (size_t i = 0; i < now.id->n_chain; i++) {
        ctx->chain_der[i] = now.id->chain_der[i];
        ctx->chain_len[i] = now.id->chain_len[i];
    }
    ctx->n_chain = now.id->n_chain;
    now.id->n_chain = 0;
    ctx->own_name = now.name;
    now.name = NULL;
    if (cred->own_trust) {
        /* The cred store's anchors, instead of the runtime's. */
        gp11_trust_free(ctx->own_trust);
        ctx->own_trust = gp11_trust_ref(cred->trust);
        ctx->trust = ctx->own_trust;
    }
done:
    gp11_identity_free(now.id);
    gp11_name_free(now.name);
    free(now.service);
    free(now.uri);
    return ret;
}

_Static_assert(1 + GP11_IDENTITY_MAX_CHAIN <= GP11_HS_MAX_CERTS,
               "the leaf and its chain fit in a handshake message");

size_t gp11_ctx_certs(const struct gp11_ctx *ctx, struct gp11_buf *certs)
{
    certs[0] = (struct gp11_buf){ctx->cert_der, ctx->cert_len};
    for (size_t i = 0; i < ctx->n_chain; i++)
        certs[1 + i] = (struct gp11_buf){ctx->chain_der[i], ctx->chain_len[i]};
    return 1 + ctx->n_chain;
}

uint32_t gp11_ctx_th(const struct gp11_ctx *ctx, uint8_t th[GP11_TH_LEN])
{
    unsigned int n = GP11_TH_LEN;

    if (!gp11_wr_ok(&ctx->transcript))
        return gp11_wr_status(&ctx->transcript, "the transcript");
    if (EVP_Digest(ctx->transcript.data, ctx->transcript.len, th, &n,
                   EVP_sha256(), NULL) != 1)
        return gp11_err_set(GP11_ERR_INTERNAL, "SHA-256 failed");
    return GP11_OK;
}

void gp11_ctx_fin_hash(const uint8_t th[GP11_TH_LEN],
                       const struct gp11_buf *sig, uint8_t out[GP11_TH_LEN])
{
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    unsigned int n = GP11_TH_LEN;

    if (h == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(h, th, GP11_TH_LEN) != 1 ||
        EVP_DigestUpdate(h, sig->data, sig->len) != 1 ||
        EVP_DigestFinal_ex(h, out, &n) != 1)
        memset(out, 0, GP11_TH_LEN); /* a MAC over zeros never verifies */
    EVP_MD_CTX_free(h);
}

/* Digest of context-with-NUL || th with the sigalg's hash. */
static uint32_t sig_digest(uint8_t sigalg, const char *context,
                           const uint8_t th[GP11_TH_LEN], uint8_t *out,
                           unsigned int *out_len)
{
    const EVP_MD *md =
        sigalg == GP11_SIGALG_ECDSA_P384_SHA384 ? EVP_sha384() : EVP_sha256();
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    bool ok;

    ok = h && EVP_DigestInit_ex(h, md, NULL) == 1 &&
         EVP_DigestUpdate(h, context, strlen(context) + 1) == 1 &&
         EVP_DigestUpdate(h, th, GP11_TH_LEN) == 1 &&
         EVP_DigestFinal_ex(h, out, out_len) == 1;
    EVP_MD_CTX_free(h);
    return ok ? GP11_OK : gp11_err_set(GP11_ERR_INTERNAL, "hashing failed");
}

uint32_t gp11_ctx_sign(struct gp11_ctx *ctx, const char *context,
                       const uint8_t th[GP11_TH_LEN], uint8_t *sig,
                       size_t *sig_len)
{
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_MECHANISM rsa = {CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    CK_OBJECT_HANDLE handle;
    uint32_t ret;

    ret = sig_digest(ctx->sigalg, context, th, digest, &dlen);
    if (ret != GP11_OK)
        return ret;
    /* Found again by its CKA_ID if the token lost login or sessions. */
    handle = ctx->id_key.handle;
    ret = gp11_identity_sign(
        ctx->rt->tok, &ctx->id_key, ctx->id_ckaid, ctx->id_ckaid_len,
        ctx->sigalg == GP11_SIGALG_RSA_PSS_SHA256 ? &rsa : &ecdsa, digest, dlen,
        sig, sig_len);
    /* The cached handle failed: the next context resolves the identity
     * again (key, certificate, chain, checks), once. */
    if (ret != GP11_OK || ctx->id_key.handle != handle)
        gp11_idcache_stale(ctx->id_ckaid, ctx->id_ckaid_len);
    return ret;
}

/* Hashes u32 length || bytes, the opaque32 of protocol.md 2.7. */
static bool digest_opaque32(EVP_MD_CTX *h, const struct gp11_buf *b)
{
    uint8_t len[4] = {(uint8_t)(b->len >> 24), (uint8_t)(b->len >> 16),
                      (uint8_t)(b->len >> 8), (uint8_t)b->len};

    if (b->len > UINT32_MAX)
        return false;
    if (EVP_DigestUpdate(h, len, 4) != 1)
        return false;
    return b->len == 0 || EVP_DigestUpdate(h, b->data, b->len) == 1;
}

/* Hashes a u32 in big-endian order. */
static bool digest_u32(EVP_MD_CTX *h, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};

    return EVP_DigestUpdate(h, b, 4) == 1;
}

uint32_t gp11_ctx_cb_hash(const struct gp11_bindings *cb,
                          uint8_t out[GP11_CB_HASH_LEN])
{
    EVP_MD_CTX *h;
    unsigned int n = 32;
    bool ok;

    memset(out, 0, 32);
    if (cb == NULL)
        return GP11_OK;
    /* Failing open here would send (or accept) 32 zero bytes, which mean
     * "no bindings": the bindings would silently not be checked. */
    h = EVP_MD_CTX_new();
    ok = h != NULL && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
         digest_u32(h, cb->initiator_addrtype) &&
         digest_opaque32(h, &cb->initiator_address) &&
         digest_u32(h, cb->acceptor_addrtype) &&
         digest_opaque32(h, &cb->acceptor_address) &&
         digest_opaque32(h, &cb->application_data) &&
         EVP_DigestFinal_ex(h, out, &n) == 1 && n == 32;
    EVP_MD_CTX_free(h);
    if (ok)
        return GP11_OK;
    memset(out, 0, 32);
    return gp11_err_set(GP11_ERR_INTERNAL,
                        "hashing the channel bindings with SHA-256 failed "
                        "(OpenSSL); the context is refused rather than "
                        "established without its bindings");
}

uint32_t gp11_ctx_error_hash(const struct gp11_ctx *ctx,
                             const struct gp11_buf *error_core,
                             uint8_t out[GP11_TH_LEN])
{
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    unsigned int n = GP11_TH_LEN;
    bool ok;

    ok = h != NULL && gp11_wr_ok(&ctx->transcript) && ctx->accept_end != 0 &&
         ctx->accept_end <= ctx->transcript.len &&
         EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(h, ctx->transcript.data, ctx->accept_end) == 1 &&
         EVP_DigestUpdate(h, error_core->data, error_core->len) == 1 &&
         EVP_DigestFinal_ex(h, out, &n) == 1;
    EVP_MD_CTX_free(h);
    return ok ? GP11_OK
              : gp11_err_set(GP11_ERR_INTERNAL,
                             "hashing the transcript for an ERROR failed");
}

uint32_t gp11_ctx_same_process(const struct gp11_ctx *ctx)
{
    /* The fork generation is one atomic load; getpid() would be a system
     * call on every message. */
    if (ctx->generation != gp11_fork_generation())
        return gp11_err_set(GP11_ERR_FORKED,
                            "the security context was established by process "
                            "%d and cannot be used after fork()",
                            (int)ctx->pid);
    return GP11_OK;
}

uint32_t gp11_ctx_usable(const struct gp11_ctx *ctx)
{
    uint32_t ret;

    if (ctx == NULL)
        return gp11_err_set(GP11_ERR_NO_CONTEXT, "no security context");
    ret = gp11_ctx_same_process(ctx);
    if (ret != GP11_OK)
        return ret;
    if (ctx->state != GP11_CTX_ESTABLISHED)
        return gp11_err_set(GP11_ERR_NO_CONTEXT,
                            "the security context is not established yet");
    return GP11_OK;
}

uint32_t gp11_ctx_time_left(const struct gp11_ctx *ctx)
{
    time_t now = time(NULL);

    return ctx->expiry > now ? (uint32_t)(ctx->expiry - now) : 0;
}

uint32_t gp11_ctx_lifetime(const struct gp11_ctx *ctx, uint32_t *left)
{
    uint32_t ret = gp11_ctx_usable(ctx);

    *left = 0;
    if (ret != GP11_OK)
        return ret;
    *left = gp11_ctx_time_left(ctx);
    if (*left == 0)
        return gp11_err_set(GP11_ERR_CONTEXT_EXPIRED,
                            "the security context expired");
    return GP11_OK;
}

uint32_t gp11_ctx_output(const struct gp11_wbuf *inner, uint8_t **out,
                         size_t *out_len)
{
    struct gp11_buf b = gp11_wr_view(inner);

    if (!gp11_wr_ok(inner))
        return gp11_wr_status(inner, "a context token");
    return gp11_hs_frame_bytes(&b, out, out_len);
}

void gp11_step_clear(struct gp11_step *step)
{
    free(step->token);
    step->token = NULL;
    step->token_len = 0;
}
