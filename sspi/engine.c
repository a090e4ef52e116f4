/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials, context establishment, export/import and context
 * attributes of the SSPI face, translated onto the engine's neutral
 * entry points (core/): gp11_cred_obtain / gp11_cred_free,
 * gp11_ctx_init_step / gp11_ctx_accept_step (core/gp11_establish.h:
 * SEC_CHANNEL_BINDINGS mapped onto struct gp11_bindings, tokens as bytes,
 * ISC_REQ_* / ASC_REQ_* onto GP11_CTX_*_FLAG), gp11_ctx_export /
 * gp11_ctx_import, gp11_ctx_lifetime; GP11 codes to SEC_E_* in status.c.
 * No GSS-API type or call (docs/layout.md; tests/layout-check.sh).
 */
#include "gp11_sspi.h"

#include "gp11_context.h"
#include "gp11_cred.h"
#include "gp11_error.h"
#include "gp11_establish.h"
#include "gp11_export.h"
#include "gp11_msgtok.h"
#include "gp11_name.h"
#include "gp11_qop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds from 1601-01-01 to 1970-01-01. */
#define FILETIME_EPOCH_DIFF 11644473600LL

/* Most buffers a SecBufferDesc may hold. */
#define MAX_BUFFERS 64

void gp11_sspi_timestamp(time_t t, TimeStamp *ts)
{
    int64_t ft = ((int64_t)t + FILETIME_EPOCH_DIFF) * 10000000LL;

    ts->LowPart = (uint32_t)((uint64_t)ft & 0xffffffffu);
    ts->HighPart = (int32_t)(ft >> 32);
}

/* True if desc is a well-formed SecBufferDesc (NULL allowed if opt). */
static bool desc_ok(const SecBufferDesc *desc, bool opt)
{
    if (desc == NULL)
        return opt;
    return desc->ulVersion == SECBUFFER_VERSION &&
           desc->cBuffers <= MAX_BUFFERS &&
           (desc->cBuffers == 0 || desc->pBuffers != NULL);
}

/* The first buffer of a type (flags ignored), or NULL. */
static SecBuffer *find_buf(SecBufferDesc *desc, ULONG type)
{
    for (ULONG i = 0; desc && i < desc->cBuffers; i++)
        if ((desc->pBuffers[i].BufferType & ~SECBUFFER_ATTRMASK) == type)
            return &desc->pBuffers[i];
    return NULL;
}

/*
 * Channel bindings from a SECBUFFER_CHANNEL_BINDINGS buffer: a
 * SEC_CHANNEL_BINDINGS header and the bytes its offsets point at, mapped
 * field by field onto the engine's struct gp11_bindings (the views point
 * into the caller's buffer), the fields RFC 2744's bindings have too.
 * *out stays NULL when there is no such buffer.
 */
static SECURITY_STATUS bindings(SecBufferDesc *in, struct gp11_bindings *cb,
                                const struct gp11_bindings **out)
{
    SecBuffer *b = find_buf(in, SECBUFFER_CHANNEL_BINDINGS);
    SEC_CHANNEL_BINDINGS h;
    const uint8_t *p;
    struct {
        uint32_t off, len;
        struct gp11_buf *dst;
    } parts[3];

    *out = NULL;
    if (b == NULL)
        return SEC_E_OK;
    if (b->pvBuffer == NULL || b->cbBuffer < sizeof(h))
        return SEC_E_BAD_BINDINGS;
    p = b->pvBuffer;
    memcpy(&h, p, sizeof(h));
    memset(cb, 0, sizeof(*cb));
    cb->initiator_addrtype = h.dwInitiatorAddrType;
    cb->acceptor_addrtype = h.dwAcceptorAddrType;
    parts[0].off = h.dwInitiatorOffset;
    parts[0].len = h.cbInitiatorLength;
    parts[0].dst = &cb->initiator_address;
    parts[1].off = h.dwAcceptorOffset;
    parts[1].len = h.cbAcceptorLength;
    parts[1].dst = &cb->acceptor_address;
    parts[2].off = h.dwApplicationDataOffset;
    parts[2].len = h.cbApplicationDataLength;
    parts[2].dst = &cb->application_data;
    for (int i = 0; i < 3; i++) {
        if (parts[i].len == 0)
            continue;
        if (parts[i].off > b->cbBuffer ||
            parts[i].len > b->cbBuffer - parts[i].off)
            return SEC_E_BAD_BINDINGS;
        parts[i].dst->data = p + parts[i].off;
        parts[i].dst->len = parts[i].len;
    }
    *out = cb;
    return SEC_E_OK;
}

/*
 * Hands an engine token to the caller's SECBUFFER_TOKEN output buffer:
 * the malloc'ed bytes themselves with ALLOCATE_MEMORY (FreeContextBuffer
 * frees them), else a copy. Takes tok in every case.
 */
static SECURITY_STATUS put_token(struct gp11_step *tok, SecBufferDesc *out,
                                 bool alloc)
{
    SecBuffer *b = find_buf(out, SECBUFFER_TOKEN);
    SECURITY_STATUS st = SEC_E_OK;

    if (b == NULL) {
        st = tok->token_len ? SEC_E_INVALID_PARAMETER : SEC_E_OK;
    } else if (alloc) {
        b->pvBuffer = tok->token_len ? tok->token : NULL;
        b->cbBuffer = (ULONG)tok->token_len;
        if (tok->token_len)
            tok->token = NULL;
    } else if (tok->token_len > b->cbBuffer ||
               (tok->token_len && !b->pvBuffer)) {
        st = SEC_E_BUFFER_TOO_SMALL;
    } else {
        if (tok->token_len)
            memcpy(b->pvBuffer, tok->token, tok->token_len);
        b->cbBuffer = (ULONG)tok->token_len;
    }
    gp11_step_clear(tok);
    return st;
}

/* Turns "service/host[:port][/...]" (a Windows SPN) or "service@host"
 * into a host-based name. */
static SECURITY_STATUS target_name(const char *target, struct gp11_name **out)
{
    char buf[GP11_NAME_MAX + 1];
    size_t n;
    char *slash;

    if (target == NULL || *target == '\0' || strlen(target) > GP11_NAME_MAX)
        return SEC_E_TARGET_UNKNOWN;
    memcpy(buf, target, strlen(target) + 1);
    slash = strchr(buf, '/');
    if (slash != NULL && strchr(buf, '@') == NULL) {
        *slash = '@';
        n = strcspn(slash + 1, ":/");
        slash[1 + n] = '\0';
    }
    if (strchr(buf, '@') == NULL)
        return SEC_E_TARGET_UNKNOWN;
    return gp11_name_new(GP11_NAME_HOSTBASED, buf, out) == GP11_OK
               ? SEC_E_OK
               : SEC_E_TARGET_UNKNOWN;
}

/* ---- credentials -------------------------------------------------------- */

/* Destroys a credential object (handle table callback). */
static void cred_destroy(void *obj)
{
    struct gp11_sspi_cred *c = obj;

    gp11_cred_free(c->cred);
    free(c);
}

SECURITY_STATUS gp11_sspi_acquire(const char *principal, const char *package,
                                  ULONG use, void *auth_data, CredHandle *out,
                                  TimeStamp *expiry)
{
    struct gp11_cred_store store = {.identity = principal};
    struct gp11_sspi_cred *c = NULL;
    struct gp11_name *name = NULL;
    time_t now;
    uint32_t ret;
    int usage;
    SECURITY_STATUS st;

    if (out == NULL)
        return SEC_E_INVALID_PARAMETER;
    if (package == NULL || strcmp(package, GSS_PKCS11_SSP_NAME) != 0)
        return SEC_E_SECPKG_NOT_FOUND;
    if (auth_data != NULL) /* no passwords: identities live on the token */
        return SEC_E_UNKNOWN_CREDENTIALS;
    if (use == SECPKG_CRED_INBOUND) {
        usage = GP11_CRED_ACCEPT;
        if (principal && target_name(principal, &name) != SEC_E_OK)
            return SEC_E_UNKNOWN_CREDENTIALS;
    } else if (use == SECPKG_CRED_OUTBOUND) {
        usage = GP11_CRED_INITIATE;
        if (principal && strncmp(principal, "pkcs11:", 7) != 0)
            return SEC_E_UNKNOWN_CREDENTIALS;
    } else if (use == SECPKG_CRED_BOTH && principal == NULL) {
        usage = GP11_CRED_BOTH;
    } else {
        return SEC_E_UNKNOWN_CREDENTIALS;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        st = SEC_E_INSUFFICIENT_MEMORY;
        goto done;
    }
    c->use = use;
    ret = gp11_cred_obtain(
        name, usage, usage == GP11_CRED_INITIATE && principal ? &store : NULL,
        &c->cred);
    if (ret != GP11_OK) {
        st = gp11_sspi_status(ret);
        goto done;
    }
    st = gp11_sspi_handle_new(GP11_SSPI_CRED, &c->hdr, cred_destroy, out);
    if (st != SEC_E_OK)
        goto done;
    now = time(NULL);
    if (expiry) /* the certificates' expiry, now if past */
        gp11_sspi_timestamp(c->cred->expiry > now ? c->cred->expiry : now,
                            expiry);
    c = NULL;
done:
    if (c != NULL)
        cred_destroy(c);
    gp11_name_free(name);
    return st;
}

SECURITY_STATUS gp11_sspi_free_cred(CredHandle *h)
{
    return gp11_sspi_handle_remove(GP11_SSPI_CRED, h);
}

/* The engine credential of a handle for a use (NULL handle: default). */
static SECURITY_STATUS cred_for(CredHandle *h, ULONG use,
                                struct gp11_sspi_cred **held,
                                struct gp11_cred **ecred)
{
    *held = NULL;
    *ecred = NULL;
    if (h == NULL)
        return SEC_E_OK;
    *held = gp11_sspi_get(GP11_SSPI_CRED, h);
    if (*held == NULL)
        return SEC_E_INVALID_HANDLE;
    if (!((*held)->use & use)) {
        gp11_sspi_put(*held);
        *held = NULL;
        return SEC_E_NO_CREDENTIALS;
    }
    *ecred = (*held)->cred;
    return SEC_E_OK;
}

/* ---- contexts ---------------------------------------------------------- */

/* Destroys a context object (handle table callback). */
static void ctx_destroy(void *obj)
{
    struct gp11_sspi_ctx *c = obj;

    gp11_ctx_free(c->ectx);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Frees a half-established engine context after a failed step. */
static void drop_engine_ctx(struct gp11_sspi_ctx *c)
{
    gp11_ctx_free(c->ectx);
    c->ectx = NULL;
}

/* A new context object, not yet in the table. */
static struct gp11_sspi_ctx *ctx_new(bool initiator, ULONG req)
{
    struct gp11_sspi_ctx *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->initiator = initiator;
    c->req = req;
    return c;
}

struct gp11_ctx *gp11_sspi_engine_ctx(struct gp11_sspi_ctx *c)
{
    return c->open ? c->ectx : NULL;
}

/* The flags SSPI's request and result bits share with the engine's
 * (ISC_REQ_DELEGATE ... ISC_REQ_CONFIDENTIALITY = GP11_CTX_DELEG_FLAG
 * ... GP11_CTX_CONF_FLAG). */
#define SAME_BITS                                                              \
    (GP11_CTX_DELEG_FLAG | GP11_CTX_MUTUAL_FLAG | GP11_CTX_REPLAY_FLAG |       \
     GP11_CTX_SEQUENCE_FLAG | GP11_CTX_CONF_FLAG)

_Static_assert(ISC_REQ_DELEGATE == GP11_CTX_DELEG_FLAG &&
                   ISC_REQ_MUTUAL_AUTH == GP11_CTX_MUTUAL_FLAG &&
                   ISC_REQ_REPLAY_DETECT == GP11_CTX_REPLAY_FLAG &&
                   ISC_REQ_SEQUENCE_DETECT == GP11_CTX_SEQUENCE_FLAG &&
                   ISC_REQ_CONFIDENTIALITY == GP11_CTX_CONF_FLAG,
               "SSPI's low request bits are the engine's flags");
_Static_assert(ISC_RET_DELEGATE == ISC_REQ_DELEGATE &&
                   ISC_RET_CONFIDENTIALITY == ISC_REQ_CONFIDENTIALITY &&
                   ASC_REQ_DELEGATE == ISC_REQ_DELEGATE &&
                   ASC_REQ_CONFIDENTIALITY == ISC_REQ_CONFIDENTIALITY &&
                   ASC_RET_DELEGATE == ISC_REQ_DELEGATE &&
                   ASC_RET_CONFIDENTIALITY == ISC_REQ_CONFIDENTIALITY &&
                   ISC_REQ_ALLOCATE_MEMORY == ASC_REQ_ALLOCATE_MEMORY,
               "the same bits for requests and results, on both sides");

/* ISC_REQ_* / ASC_REQ_* to the engine's request flags. */
static uint32_t req_flags(ULONG req, bool initiator)
{
    uint32_t f = req & SAME_BITS;

    if (req & (initiator ? ISC_REQ_INTEGRITY : ASC_REQ_INTEGRITY))
        f |= GP11_CTX_INTEG_FLAG;
    if (initiator && (req & ISC_REQ_NULL_SESSION))
        f |= GP11_CTX_ANON_FLAG;
    return f;
}

/* The engine's flags to ISC_RET_* / ASC_RET_*. */
static ULONG ret_attrs(uint32_t f, bool initiator)
{
    ULONG a = f & SAME_BITS;

    if (f & GP11_CTX_INTEG_FLAG)
        a |= initiator ? ISC_RET_INTEGRITY : ASC_RET_INTEGRITY;
    if (f & GP11_CTX_ANON_FLAG)
        a |= initiator ? ISC_RET_NULL_SESSION : ASC_RET_NULL_SESSION;
    return a;
}

/* After an engine step: records the outcome on c and builds the status. */
static SECURITY_STATUS step_done(struct gp11_sspi_ctx *c,
                                 const struct gp11_step *step, ULONG *attrs,
                                 TimeStamp *expiry)
{
    bool alloc = c->req & ISC_REQ_ALLOCATE_MEMORY; /* = ASC_REQ_... */

    c->attrs = ret_attrs(step->flags, c->initiator) |
               (alloc ? ISC_RET_ALLOCATED_MEMORY : 0);
    if (step->established) {
        c->open = true;
        c->start = time(NULL);
    }
    if (attrs)
        *attrs = c->attrs;
    if (expiry)
        gp11_sspi_timestamp(c->open ? time(NULL) + step->time_left : 0, expiry);
    return c->open ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
}

/*
 * The context of a continuing call: a live handle of ours, for this side,
 * whose handshake has not failed (locked on return). *held is what to put.
 */
static SECURITY_STATUS continuing(CtxtHandle *h, bool initiator,
                                  struct gp11_sspi_ctx **held)
{
    struct gp11_sspi_ctx *c = gp11_sspi_get(GP11_SSPI_CTX, h);

    *held = c;
    if (c == NULL)
        return SEC_E_INVALID_HANDLE;
    pthread_mutex_lock(&c->lock);
    if (c->initiator != initiator || c->ectx == NULL) {
        pthread_mutex_unlock(&c->lock);
        return SEC_E_INVALID_HANDLE;
    }
    return SEC_E_OK;
}

/* A later call's step on a continuing context (held->lock held): the
 * peer's token to the engine, its answer to out. */
static SECURITY_STATUS continue_step(struct gp11_sspi_ctx *held,
                                     const SecBuffer *tb, SecBufferDesc *out,
                                     ULONG *attrs, TimeStamp *expiry)
{
    bool alloc = held->req & ISC_REQ_ALLOCATE_MEMORY; /* = ASC_REQ_... */
    struct gp11_step step;
    SECURITY_STATUS st;
    uint32_t ret;

    if (held->initiator)
        ret = gp11_ctx_init_step(&held->ectx, NULL, NULL, 0, 0, NULL,
                                 tb->pvBuffer, tb->cbBuffer, &step);
    else
        ret = gp11_ctx_accept_step(&held->ectx, NULL, NULL, tb->pvBuffer,
                                   tb->cbBuffer, &step);
    if (ret != GP11_OK) {
        st = gp11_sspi_status(ret);
        /* The acceptor's ERROR token, if any, tells the initiator why. */
        if (!held->initiator)
            put_token(&step, out, alloc);
        gp11_step_clear(&step);
    } else {
        st = put_token(&step, out, alloc);
    }
    if (st != SEC_E_OK && !held->open && held->ectx != NULL)
        drop_engine_ctx(held);
    else if (st == SEC_E_OK)
        st = step_done(held, &step, attrs, expiry);
    return st;
}

/* A first call's context, its step done: into the table as *new_ctx. */
static SECURITY_STATUS first_done(struct gp11_sspi_ctx *c,
                                  struct gp11_step *step, SecBufferDesc *out,
                                  CtxtHandle *new_ctx, ULONG *attrs,
                                  TimeStamp *expiry)
{
    SECURITY_STATUS st;

    st = put_token(step, out, c->req & ISC_REQ_ALLOCATE_MEMORY);
    if (st == SEC_E_OK)
        st = gp11_sspi_handle_new(GP11_SSPI_CTX, &c->hdr, ctx_destroy, new_ctx);
    if (st == SEC_E_OK)
        st = step_done(c, step, attrs, expiry);
    return st;
}

/* A later call: the context of the handle, its step; *new_ctx = *ctx. */
static SECURITY_STATUS later_call(CtxtHandle *ctx, bool initiator,
                                  const SecBuffer *tb, CtxtHandle *new_ctx,
                                  SecBufferDesc *out, ULONG *attrs,
                                  TimeStamp *expiry)
{
    struct gp11_sspi_ctx *held = NULL;
    SECURITY_STATUS st;

    st = continuing(ctx, initiator, &held);
    if (st != SEC_E_OK)
        goto done;
    if (tb == NULL || tb->cbBuffer == 0 || tb->pvBuffer == NULL)
        st = SEC_E_INVALID_TOKEN;
    else
        st = continue_step(held, tb, out, attrs, expiry);
    if (new_ctx && new_ctx != ctx && st >= 0)
        *new_ctx = *ctx;
    pthread_mutex_unlock(&held->lock);
done:
    gp11_sspi_put(held);
    return st;
}

SECURITY_STATUS gp11_sspi_init(CredHandle *cred, CtxtHandle *ctx,
                               const char *target, ULONG req, ULONG drep,
                               SecBufferDesc *in, CtxtHandle *new_ctx,
                               SecBufferDesc *out, ULONG *attrs,
                               TimeStamp *expiry)
{
    struct gp11_bindings cbs;
    const struct gp11_bindings *cb = NULL;
    struct gp11_sspi_cred *hc = NULL;
    struct gp11_sspi_ctx *c = NULL;
    struct gp11_name *name = NULL;
    struct gp11_cred *ecred;
    struct gp11_step step = {0};
    SECURITY_STATUS st;
    uint32_t ret;

    (void)drep; /* tokens are byte strings: both representations */
    if (!desc_ok(in, true) || !desc_ok(out, true))
        return SEC_E_INVALID_PARAMETER;
    if (ctx != NULL) /* later calls: the acceptor's token in */
        return later_call(ctx, true, find_buf(in, SECBUFFER_TOKEN), new_ctx,
                          out, attrs, expiry);
    /* First call: a new context and its first token. */
    if (new_ctx == NULL)
        return SEC_E_INVALID_PARAMETER;
    st = target_name(target, &name);
    if (st == SEC_E_OK)
        st = cred_for(cred, SECPKG_CRED_OUTBOUND, &hc, &ecred);
    if (st == SEC_E_OK)
        st = bindings(in, &cbs, &cb);
    if (st == SEC_E_OK && (c = ctx_new(true, req)) == NULL)
        st = SEC_E_INSUFFICIENT_MEMORY;
    if (st != SEC_E_OK)
        goto done;
    ret = gp11_ctx_init_step(&c->ectx, ecred, name, req_flags(req, true), 0, cb,
                             NULL, 0, &step);
    if (ret != GP11_OK) {
        st = gp11_sspi_status(ret);
        goto done;
    }
    st = first_done(c, &step, out, new_ctx, attrs, expiry);
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
        c = NULL;
done:
    if (c != NULL)
        ctx_destroy(c);
    gp11_step_clear(&step);
    gp11_sspi_put(hc);
    gp11_name_free(name);
    return st;
}

SECURITY_STATUS gp11_sspi_accept(CredHandle *cred, CtxtHandle *ctx,
                                 SecBufferDesc *in, ULONG req, ULONG drep,
                                 CtxtHandle *new_ctx, SecBufferDesc *out,
                                 ULONG *attrs, TimeStamp *expiry)
{
    struct gp11_bindings cbs;
    const struct gp11_bindings *cb = NULL;
    struct gp11_sspi_cred *hc = NULL;
    struct gp11_sspi_ctx *c = NULL;
    struct gp11_cred *ecred;
    struct gp11_step step = {0};
    SECURITY_STATUS st;
    SecBuffer *tb;
    uint32_t ret;

    (void)drep;
    if (!desc_ok(in, false) || !desc_ok(out, true))
        return SEC_E_INVALID_PARAMETER;
    tb = find_buf(in, SECBUFFER_TOKEN);
    if (tb == NULL || tb->cbBuffer == 0 || tb->pvBuffer == NULL)
        return SEC_E_INVALID_TOKEN;
    if (ctx != NULL)
        return later_call(ctx, false, tb, new_ctx, out, attrs, expiry);
    if (new_ctx == NULL)
        return SEC_E_INVALID_PARAMETER;
    st = cred_for(cred, SECPKG_CRED_INBOUND, &hc, &ecred);
    if (st == SEC_E_OK)
        st = bindings(in, &cbs, &cb);
    if (st == SEC_E_OK && (c = ctx_new(false, req)) == NULL)
        st = SEC_E_INSUFFICIENT_MEMORY;
    if (st != SEC_E_OK)
        goto done;
    ret = gp11_ctx_accept_step(&c->ectx, ecred, cb, tb->pvBuffer, tb->cbBuffer,
                               &step);
    if (ret != GP11_OK) {
        /* The ERROR token, if any, tells the initiator why. */
        st = gp11_sspi_status(ret);
        put_token(&step, out, req & ASC_REQ_ALLOCATE_MEMORY);
        goto done;
    }
    st = first_done(c, &step, out, new_ctx, attrs, expiry);
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
        c = NULL;
done:
    if (c != NULL)
        ctx_destroy(c);
    gp11_step_clear(&step);
    gp11_sspi_put(hc);
    return st;
}

SECURITY_STATUS gp11_sspi_delete(CtxtHandle *h)
{
    return gp11_sspi_handle_remove(GP11_SSPI_CTX, h);
}

/* ---- export and import (protocol.md 5) ---------------------------------- */

SECURITY_STATUS gp11_sspi_export(CtxtHandle *h, ULONG flags, SecBuffer *packed,
                                 HANDLE *token)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    struct gp11_sspi_ctx *c;
    uint32_t ret;
    SECURITY_STATUS st;

    if (packed == NULL)
        return SEC_E_INVALID_PARAMETER;
    /* RESET_NEW would restart the sequence numbers (and the AES-GCM
     * nonces) under the same keys; there is no kernel. */
    if (flags &
        (SECPKG_CONTEXT_EXPORT_RESET_NEW | SECPKG_CONTEXT_EXPORT_TO_KERNEL))
        return SEC_E_UNSUPPORTED_FUNCTION;
    if (flags & ~(ULONG)SECPKG_CONTEXT_EXPORT_DELETE_OLD)
        return SEC_E_INVALID_PARAMETER;
    c = gp11_sspi_get(GP11_SSPI_CTX, h);
    if (c == NULL)
        return SEC_E_INVALID_HANDLE;
    pthread_mutex_lock(&c->lock);
    if (gp11_sspi_engine_ctx(c) == NULL) {
        st = SEC_E_INVALID_HANDLE;
    } else {
        /* The engine's export consumes its context (RFC 2743 2.2.8), and
         * leaves it as it was when it refuses. */
        ret = gp11_ctx_export(c->ectx, &blob, &len);
        st = ret != GP11_OK ? gp11_sspi_status(ret) : SEC_E_OK;
    }
    if (st == SEC_E_OK) {
        /* Never two live copies: this one is dead from now on. */
        c->ectx = NULL;
        c->open = false;
        packed->pvBuffer = blob;
        packed->cbBuffer = (ULONG)len;
        if (token)
            *token = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    gp11_sspi_put(c);
    if (st == SEC_E_OK && (flags & SECPKG_CONTEXT_EXPORT_DELETE_OLD))
        gp11_sspi_handle_remove(GP11_SSPI_CTX, h);
    return st;
}

SECURITY_STATUS gp11_sspi_import(const char *package, SecBuffer *packed,
                                 CtxtHandle *out)
{
    struct gp11_sspi_ctx *c = NULL;
    struct gp11_ctx *ctx = NULL;
    uint32_t ret;
    SECURITY_STATUS st;

    if (package == NULL || strcmp(package, GSS_PKCS11_SSP_NAME) != 0)
        return SEC_E_SECPKG_NOT_FOUND;
    if (packed == NULL || out == NULL)
        return SEC_E_INVALID_PARAMETER;
    if (packed->pvBuffer == NULL || packed->cbBuffer == 0)
        return SEC_E_INVALID_TOKEN;
    c = ctx_new(false, 0);
    if (c == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    ret = gp11_ctx_import(packed->pvBuffer, packed->cbBuffer, &ctx);
    if (ret != GP11_OK) {
        st = gp11_sspi_status(ret);
        goto done;
    }
    c->ectx = ctx;
    /* An imported context is established: its granted flags. */
    c->initiator = ctx->initiator;
    c->attrs = ret_attrs(ctx->flags, c->initiator);
    c->open = true;
    c->start = time(NULL);
    st = gp11_sspi_handle_new(GP11_SSPI_CTX, &c->hdr, ctx_destroy, out);
    if (st == SEC_E_OK)
        c = NULL;
done:
    if (c != NULL)
        ctx_destroy(c);
    return st;
}

/* ---- attributes -----------------------------------------------------------
 */

/* Handshake tokens are at most this long (4 certificates and the rest). */
#define GP11_SSPI_MAX_TOKEN 65535u
/* Longest message one EncryptMessage call protects. */
#define GP11_SSPI_MAX_MESSAGE 0x00ffffffu

/* The longest tag among the QOPs: with the 16-byte header, the most a
 * MIC token or a WRAP token's TOKEN buffer needs. */
static uint32_t max_tag(void)
{
    const struct gp11_qop *t;
    size_t n, m = 0;

    t = gp11_qop_table(&n);
    for (size_t i = 0; i < n; i++)
        if (t[i].tag_len > m)
            m = t[i].tag_len;
    return (uint32_t)m;
}

/* The initiator's name as text, malloc'ed (FreeContextBuffer frees it). */
static SECURITY_STATUS user_name(const struct gp11_ctx *ctx, char **out)
{
    const struct gp11_name *n = ctx->initiator ? ctx->own_name : ctx->peer_name;

    *out = n ? strdup(gp11_name_text(n)) : NULL;
    return *out == NULL ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
}

SECURITY_STATUS gp11_sspi_query(struct gp11_sspi_ctx *c, ULONG attr, void *buf)
{
    const struct gp11_ctx *g = gp11_sspi_engine_ctx(c);
    uint32_t ret, life = 0;

    if (g == NULL)
        return SEC_E_INVALID_HANDLE;
    if (buf == NULL)
        return SEC_E_INVALID_PARAMETER;
    switch (attr) {
    case SECPKG_ATTR_SIZES: {
        SecPkgContext_Sizes *s = buf;

        s->cbMaxToken = GP11_SSPI_MAX_TOKEN;
        s->cbMaxSignature = GP11_MSG_HDR_LEN + max_tag();
        s->cbBlockSize = 1;
        s->cbSecurityTrailer = GP11_MSG_HDR_LEN + max_tag();
        return SEC_E_OK;
    }
    case SECPKG_ATTR_STREAM_SIZES: {
        SecPkgContext_StreamSizes *s = buf;

        s->cbHeader = GP11_MSG_HDR_LEN;
        s->cbTrailer = max_tag();
        s->cbMaximumMessage = GP11_SSPI_MAX_MESSAGE;
        s->cBuffers = 4;
        s->cbBlockSize = 1;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_NAMES:
        return user_name(g, &((SecPkgContext_NamesA *)buf)->sUserName);
    case SECPKG_ATTR_LIFESPAN: {
        SecPkgContext_Lifespan *l = buf;

        ret = gp11_ctx_lifetime(g, &life);
        if (ret != GP11_OK)
            return gp11_sspi_status(ret);
        gp11_sspi_timestamp(c->start, &l->tsStart);
        gp11_sspi_timestamp(time(NULL) + life, &l->tsExpiry);
        return SEC_E_OK;
    }
    case SECPKG_ATTR_FLAGS:
        ((SecPkgContext_Flags *)buf)->Flags = c->attrs;
        return SEC_E_OK;
    case SECPKG_ATTR_SESSION_KEY: /* context keys never leave the token */
    default:
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}
