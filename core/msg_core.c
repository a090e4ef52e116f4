/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-message core (docs/protocol.md 3, docs/msg-core.md): MIC and
 * WRAP tokens over role-tagged byte spans. The tag covers the header and
 * the message as length-framed runs (3.1); each direction key counts its
 * usage against the limits of 3.6; sequence numbers are implicit or
 * caller-assigned (3.5). One token operation per message.
 */
#include "gp11_msg_core.h"
#include "gp11_config.h"
#include "gp11_context.h"
#include "gp11_runtime.h"

#include <stdlib.h>
#include <string.h>

/* Longest tag of any QOP (HMAC-SHA-512). */
#define MAX_TAG 64
/* A run's frame: u8 role, u64 length. */
#define FRAME_LEN 9
#define ROLE_DATA 1
#define ROLE_ASSOC 2
/* The authenticated string is built on the stack up to this size. */
#define STACK_A 256

/* 2^34.5 AES blocks (RFC 8446 5.5: 2^24.5 records of 2^10 blocks). */
#define GCM_BLOCKS UINT64_C(24296003999)
#define NONE UINT64_MAX

/* The limits of protocol.md 3.6, by QOP value. */
static const struct gp11_mc_limits table_limits[] = {
    {UINT64_C(1) << 32, GCM_BLOCKS, UINT64_C(1) << 36}, /* 0 AES-256-GCM */
    {NONE, NONE, UINT64_C(1) << 36},                    /* 1 HMAC-SHA-256 */
    {NONE, NONE, UINT64_C(1) << 36},                    /* 2 HMAC-SHA-384 */
    {NONE, NONE, UINT64_C(1) << 36},                    /* 3 HMAC-SHA-512 */
    {NONE, GCM_BLOCKS, UINT64_C(1) << 36},              /* 4 AES-CMAC */
    {UINT64_C(1) << 32, GCM_BLOCKS, UINT64_C(1) << 36}, /* 5 AES-128-GCM */
    {NONE, NONE, UINT64_C(1) << 36}, /* 6 ChaCha20-Poly1305 */
};

/* A configured lower limit replaces a table value when smaller. */
static uint64_t lower(uint64_t table, uint64_t conf)
{
    return conf != 0 && conf < table ? conf : table;
}

void gp11_mc_limits(const struct gp11_ctx *ctx, const struct gp11_qop *q,
                    struct gp11_mc_limits *out)
{
    const struct gp11_config *cfg = ctx->rt ? ctx->rt->cfg : NULL;
    size_t n = sizeof(table_limits) / sizeof(table_limits[0]);
    bool aes_or_aead = q->kind == GP11_QOP_AEAD || q->key_type == CKK_AES;

    *out = q->value < n ? table_limits[q->value]
                        : (struct gp11_mc_limits){NONE, NONE, NONE};
    if (cfg == NULL)
        return;
    if (aes_or_aead) {
        out->messages = lower(out->messages, cfg->aead_message_limit);
        out->blocks = lower(out->blocks, cfg->aead_block_limit);
    }
    out->forgeries = lower(out->forgeries, cfg->forgery_limit);
}

uint64_t gp11_mc_blocks(size_t auth_len, size_t plain_len)
{
    return (uint64_t)auth_len / 16 + (auth_len % 16 != 0) +
           (uint64_t)plain_len / 16 + (plain_len % 16 != 0) + 1;
}

uint32_t gp11_mc_seq_take(uint64_t next, const struct gp11_mc_seq *seq,
                          uint64_t *use)
{
    uint64_t n = seq && seq->explicit_ ? seq->value : next;

    if (n < next)
        return gp11_err_set(GP11_ERR_SEQ_REUSED,
                            "sequence number %llu is not above every number "
                            "already used in this direction (next free: "
                            "%llu); a nonce would repeat",
                            (unsigned long long)n, (unsigned long long)next);
    if (n == UINT64_MAX)
        return gp11_err_set(GP11_ERR_SEQ_EXHAUSTED,
                            "the context has used all 2^64 sequence "
                            "numbers; establish a new one");
    *use = n;
    return GP11_OK;
}

/* The sentence of an expired context, by the limit that expired it. */
static uint32_t expired(uint32_t code, uint16_t qop, uint64_t limit)
{
    const char *what = code == GP11_ERR_MSG_LIMIT     ? "messages"
                       : code == GP11_ERR_BLOCK_LIMIT ? "cipher blocks"
                                                      : "failed verifications";

    if (limit == 0)
        return gp11_err_set(code,
                            "the security context expired: a key of QOP %u "
                            "reached its limit of %s (docs/protocol.md 3.6); "
                            "establish a new context",
                            qop, what);
    return gp11_err_set(code,
                        "the security context expired: a key of QOP %u "
                        "reached its limit of %llu %s (docs/protocol.md 3.6); "
                        "establish a new context",
                        qop, (unsigned long long)limit, what);
}

/* Reserves one message of b blocks on a key, under msg_lock: refused (and
 * the context expired) when a limit would be passed. */
static uint32_t reserve(struct gp11_ctx *ctx, const struct gp11_qop *q, int dir,
                        uint64_t b)
{
    struct gp11_mc_limits lim;
    uint32_t code = 0;
    uint64_t limit = 0;

    if (ctx->msg_expired)
        return expired(ctx->msg_expired, ctx->msg_expired_qop, 0);
    gp11_mc_limits(ctx, q, &lim);
    if (ctx->usage[q->value][dir].messages >= lim.messages) {
        code = GP11_ERR_MSG_LIMIT;
        limit = lim.messages;
    } else if (b > lim.blocks ||
               ctx->usage[q->value][dir].blocks > lim.blocks - b) {
        code = GP11_ERR_BLOCK_LIMIT;
        limit = lim.blocks;
    }
    if (code) {
        ctx->msg_expired = code;
        ctx->msg_expired_qop = q->value;
        return expired(code, q->value, limit);
    }
    ctx->usage[q->value][dir].messages++;
    ctx->usage[q->value][dir].blocks += b;
    return GP11_OK;
}

/* Gives back what reserve() took, for a message that was not made or
 * did not verify. */
static void unreserve(struct gp11_ctx *ctx, const struct gp11_qop *q, int dir,
                      uint64_t b)
{
    ctx->usage[q->value][dir].messages--;
    ctx->usage[q->value][dir].blocks -= b;
}

uint32_t gp11_mc_ready(const struct gp11_ctx *ctx)
{
    uint32_t ret = gp11_ctx_usable(ctx);

    if (ret == GP11_OK && gp11_ctx_time_left(ctx) == 0)
        ret = gp11_err_set(GP11_ERR_CONTEXT_EXPIRED,
                           "the security context expired");
    return ret;
}

/* A QOP both tokens can run, and its key for one direction. */
static uint32_t qop_key(struct gp11_ctx *ctx, uint32_t value, bool send,
                        const struct gp11_qop **q,
                        const struct gp11_object **key)
{
    uint32_t ret = gp11_qop_usable(ctx, value, q);

    if (ret != GP11_OK)
        return ret;
    /* QOP 0's keys are fixed once the context is established. */
    if (value == 0)
        return gp11_qop_key(ctx, *q, send, key);
    pthread_mutex_lock(&ctx->msg_lock);
    ret = gp11_qop_key(ctx, *q, send, key);
    pthread_mutex_unlock(&ctx->msg_lock);
    return ret;
}

/* Ready, the QOP usable for sending (and able to seal when conf), its key. */
static uint32_t prepare_send(struct gp11_ctx *ctx, uint32_t qop, bool conf,
                             const struct gp11_qop **q,
                             const struct gp11_object **key)
{
    uint32_t ret = gp11_mc_ready(ctx);

    if (ret == GP11_OK)
        ret = qop_key(ctx, qop, true, q, key);
    if (ret == GP11_OK && conf && (*q)->kind == GP11_QOP_MAC)
        ret = gp11_err_set(GP11_ERR_BAD_QOP,
                           "QOP %u (%s) protects integrity only: use it with "
                           "conf_req_flag 0",
                           (*q)->value, (*q)->name);
    return ret;
}

uint32_t gp11_mc_sizes(struct gp11_ctx *ctx, uint32_t qop, bool conf,
                       size_t *tag_len)
{
    const struct gp11_object *key;
    const struct gp11_qop *q;
    uint32_t ret = prepare_send(ctx, qop, conf, &q, &key);

    if (ret == GP11_OK)
        *tag_len = q->tag_len;
    return ret;
}

/* The framing role of a span in a token kind, 0 if it is not message. */
static int frame_role(enum gp11_mc_kind kind, enum gp11_span_role role)
{
    if (role == GP11_SPAN_DATA)
        return ROLE_DATA;
    if (role == GP11_SPAN_ASSOC)
        return kind == GP11_MC_MIC ? ROLE_DATA : ROLE_ASSOC;
    return 0;
}

/* The layout of a token's spans: the one HEADER, at most one TRAILER and
 * PADDING; the DATA spans counted and their total length. */
struct layout {
    struct gp11_span *header, *trailer, *data1;
    size_t n_data, data_len;
};

static uint32_t find_layout(struct gp11_span *spans, size_t n, struct layout *l)
{
    bool dup = false;

    memset(l, 0, sizeof(*l));
    for (size_t i = 0; i < n; i++) {
        struct gp11_span *s = &spans[i];

        if (s->len && s->role <= GP11_SPAN_ASSOC && s->in == NULL)
            return gp11_err_set(GP11_ERR_BAD_ARG,
                                "a message buffer of %zu bytes has no "
                                "address",
                                s->len);
        switch (s->role) {
        case GP11_SPAN_HEADER:
            dup |= l->header != NULL;
            l->header = s;
            break;
        case GP11_SPAN_TRAILER:
            dup |= l->trailer != NULL;
            l->trailer = s;
            break;
        case GP11_SPAN_PADDING:
            if (s->len != 0)
                return gp11_err_set(GP11_ERR_BAD_ARG,
                                    "no QOP pads: the padding buffer must "
                                    "have 0 bytes");
            break;
        case GP11_SPAN_DATA:
            if (s->len == 0)
                break;
            if (l->n_data++ == 0)
                l->data1 = s;
            if (l->data_len > SIZE_MAX / 2 - s->len)
                return gp11_err_set(GP11_ERR_BAD_ARG, "message too long");
            l->data_len += s->len;
            break;
        case GP11_SPAN_ASSOC:
            break;
        }
    }
    if (dup || l->header == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "a token needs exactly one header and at most "
                            "one trailer");
    return GP11_OK;
}

/* The length of the authenticated string A of protocol.md 3.1. */
static uint32_t a_length(enum gp11_mc_kind kind, bool sealed,
                         const struct gp11_span *spans, size_t n, size_t *out)
{
    size_t len = GP11_MSG_HDR_LEN;
    int prev = 0;

    for (size_t i = 0; i < n; i++) {
        int role = frame_role(kind, spans[i].role);
        size_t add;

        if (role == 0 || spans[i].len == 0)
            continue;
        add = (sealed && role == ROLE_DATA) ? 0 : spans[i].len;
        if (role != prev)
            add += FRAME_LEN;
        if (len > SIZE_MAX / 4 - add)
            return gp11_err_set(GP11_ERR_BAD_ARG, "message too long");
        len += add;
        prev = role;
    }
    *out = len;
    return GP11_OK;
}

/*
 * Writes A into p (a_length bytes): header, then for each run u8 role,
 * u64 length and, unless it is a data run of a sealed token, the bytes.
 */
static void a_fill(enum gp11_mc_kind kind, bool sealed,
                   const uint8_t hdr[GP11_MSG_HDR_LEN],
                   const struct gp11_span *spans, size_t n, uint8_t *p)
{
    size_t pos = GP11_MSG_HDR_LEN, run_at = 0;
    int prev = 0;
    uint64_t run_len = 0;

    memcpy(p, hdr, GP11_MSG_HDR_LEN);
    /* Frames and bytes; a run's length is written when the run ends. */
    for (size_t i = 0; i <= n; i++) {
        int role = i < n ? frame_role(kind, spans[i].role) : -1;

        if (i < n && (role == 0 || spans[i].len == 0))
            continue;
        if (role != prev && prev != 0) {
            for (int k = 0; k < 8; k++)
                p[run_at + 1 + k] = (uint8_t)(run_len >> (56 - 8 * k));
        }
        if (i == n)
            break;
        if (role != prev) {
            run_at = pos;
            p[pos] = (uint8_t)role;
            pos += FRAME_LEN;
            run_len = 0;
            prev = role;
        }
        run_len += spans[i].len;
        if (!(sealed && role == ROLE_DATA)) {
            memcpy(p + pos, spans[i].in, spans[i].len);
            pos += spans[i].len;
        }
    }
}

/* Kept between messages up to this size; a longer one is allocated for
 * its message alone. */
#define STAGE_KEEP (UINT64_C(2) * 1048576 + 4 * MAX_TAG)

/*
 * A buffer of len bytes: the context's reusable one (*buf, *cap; grown
 * once, kept) or, beyond STAGE_KEEP, a new one (*own, freed by the
 * caller). wipe: the old buffer held plaintext.
 */
static uint8_t *stage(uint8_t **buf, size_t *cap, size_t len, bool wipe,
                      uint8_t **own)
{
    uint8_t *p;

    *own = NULL;
    if (len > STAGE_KEEP)
        return *own = malloc(len);
    if (*cap >= len)
        return *buf;
    p = malloc(STAGE_KEEP < 2 * len ? STAGE_KEEP : 2 * len);
    if (p == NULL)
        return NULL;
    if (*buf && wipe)
        gp11_wipe(*buf, *cap);
    free(*buf);
    *buf = p;
    *cap = STAGE_KEEP < 2 * len ? STAGE_KEEP : 2 * len;
    return p;
}

/* The receive side's buffer of need bytes (0: none) in *buf: the
 * context's under stage_lock (trylock, *locked), else the message's own
 * (*own); an own buffer of had bytes from before is wiped and freed. */
static uint32_t recv_buf(struct gp11_ctx *ctx, size_t had, size_t need,
                         uint8_t **buf, uint8_t **own, bool *locked)
{
    if (*own) {
        gp11_wipe(*own, had);
        free(*own);
        *own = NULL;
    }
    *buf = NULL;
    if (need == 0)
        return GP11_OK;
    if (!*locked)
        *locked = pthread_mutex_trylock(&ctx->stage_lock) == 0;
    *buf = *locked
               ? stage(&ctx->stage_recv, &ctx->stage_recv_cap, need, true, own)
               : (*own = malloc(need));
    return *buf ? GP11_OK : gp11_err_set(GP11_ERR_NOMEM, "out of memory");
}

/* Concatenates the DATA spans' input into *out (a new buffer with extra
 * bytes of room after them). */
static uint32_t gather_data(const struct gp11_span *spans, size_t n, size_t len,
                            size_t extra, uint8_t **out)
{
    size_t used = 0;

    *out = malloc(len + extra ? len + extra : 1);
    if (*out == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (spans[i].role != GP11_SPAN_DATA || spans[i].len == 0)
            continue;
        memcpy(*out + used, spans[i].in, spans[i].len);
        used += spans[i].len;
    }
    return GP11_OK;
}

/* Writes src over the DATA spans' output, in order. */
static void scatter_data(struct gp11_span *spans, size_t n, const uint8_t *src)
{
    for (size_t i = 0; i < n; i++) {
        if (spans[i].role != GP11_SPAN_DATA || spans[i].len == 0)
            continue;
        if (spans[i].out != src)
            memmove(spans[i].out, src, spans[i].len);
        src += spans[i].len;
    }
}

/* Copies the DATA spans' input to their output (a WRAP not sealed). */
static void carry_data(struct gp11_span *spans, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (spans[i].role == GP11_SPAN_DATA && spans[i].len &&
            spans[i].out != NULL && spans[i].out != spans[i].in)
            memmove(spans[i].out, spans[i].in, spans[i].len);
}

/* True if every DATA span of a WRAP has somewhere to write. */
static bool data_writable(const struct gp11_span *spans, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (spans[i].role == GP11_SPAN_DATA && spans[i].len &&
            spans[i].out == NULL)
            return false;
    return true;
}

uint32_t gp11_mc_protect(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                         bool conf, uint32_t qop, struct gp11_span *spans,
                         size_t n, struct gp11_mc_seq *seq)
{
    bool sealed = kind == GP11_MC_WRAP && conf, direct, big_a, split = false;
    struct gp11_msg_hdr h = {kind == GP11_MC_MIC ? GP11_TOK_MIC : GP11_TOK_WRAP,
                             0, 0, 0};
    uint8_t hdr[GP11_MSG_HDR_LEN], iv[GP11_GCM_IV_LEN], stack[STACK_A];
    uint8_t tagbuf[MAX_TAG], *a = NULL, *pt = NULL, *ct = NULL, *tag;
    uint8_t *buf = NULL, *own = NULL;
    const uint8_t *plain = NULL;
    const struct gp11_object *key;
    const struct gp11_qop *q;
    size_t a_len = 0, mac_len, need;
    struct layout l;
    uint64_t use = 0, b = 0;
    bool reserved = false;
    uint32_t ret;

    if (kind == GP11_MC_MIC && conf)
        return gp11_err_set(GP11_ERR_BAD_ARG, "a MIC is never sealed");
    ret = prepare_send(ctx, qop, conf, &q, &key);
    if (ret == GP11_OK)
        ret = find_layout(spans, n, &l);
    if (ret != GP11_OK)
        return ret;
    if (l.header->out == NULL ||
        l.header->len != GP11_MSG_HDR_LEN + (l.trailer ? 0 : q->tag_len) ||
        (l.trailer && (l.trailer->len != q->tag_len || !l.trailer->out)) ||
        (kind == GP11_MC_WRAP && !data_writable(spans, n)))
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "the token's header, trailer or data buffers "
                            "have the wrong size or no room");
    tag = l.trailer ? l.trailer->out : l.header->out + GP11_MSG_HDR_LEN;
    /* Sealing straight into the token: one DATA span, its tag after it. */
    direct = sealed && l.n_data == 1 && l.trailer &&
             l.trailer->out == l.data1->out + l.data1->len &&
             l.data1->in != l.data1->out;
    if (sealed && l.n_data == 1)
        plain = l.data1->in;
    else if (sealed && l.n_data > 1)
        ret = gather_data(spans, n, l.data_len, 0, &pt);
    if (ret == GP11_OK)
        ret = a_length(kind, sealed, spans, n, &a_len);
    if (ret != GP11_OK)
        goto done;
    if (pt)
        plain = pt;

    pthread_mutex_lock(&ctx->msg_lock);
    ret = gp11_mc_seq_take(ctx->send_seq, seq, &use);
    if (ret != GP11_OK)
        goto unlock;
    h.seq = use;
    h.qop = q->value;
    h.flags = (ctx->initiator ? 0 : GP11_FLAG_SENT_BY_ACCEPTOR) |
              (sealed ? GP11_FLAG_SEALED : 0) |
              (kind == GP11_MC_WRAP && !l.trailer ? GP11_FLAG_TAG_FIRST : 0);
    gp11_msg_hdr_write(hdr, &h);
    /* A long A and the ciphertext of a seal that cannot go straight into
     * the token: the context's send buffer (msg_lock held), no malloc. */
    big_a = a_len > STACK_A;
    need =
        (big_a ? a_len : 0) + (sealed && !direct ? l.data_len + q->tag_len : 0);
    if (need && (buf = stage(&ctx->stage_send, &ctx->stage_send_cap, need,
                             false, &own)) == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        goto unlock;
    }
    a = big_a ? buf : stack;
    ct = sealed && !direct ? buf + (big_a ? a_len : 0) : NULL;
    a_fill(kind, sealed, hdr, spans, n, a);
    b = gp11_mc_blocks(a_len, sealed ? l.data_len : 0);
    ret = reserve(ctx, q, 0, b);
    if (ret != GP11_OK)
        goto unlock;
    reserved = true;
    gp11_msg_iv(iv, !ctx->initiator,
                kind == GP11_MC_MIC ? GP11_IV_MIC
                : sealed            ? GP11_IV_WRAP_SEALED
                                    : GP11_IV_WRAP_CLEAR,
                h.seq);
    mac_len = q->tag_len;
    /* One DATA span apart from its tag (SSPI's layout): ciphertext and
     * tag straight to their places; ct is only the token layer's staging
     * buffer when it runs Init + op. */
    split = sealed && !direct && l.n_data == 1 && q->kind == GP11_QOP_AEAD;
    if (split)
        ret = gp11_aead_encrypt_split(ctx->rt->tok, q->aead, key, iv, a, a_len,
                                      plain, l.data_len, l.data1->out, tag, ct);
    else if (q->kind == GP11_QOP_AEAD)
        ret = gp11_aead_encrypt(ctx->rt->tok, q->aead, key, iv, a, a_len,
                                sealed ? plain : NULL, sealed ? l.data_len : 0,
                                direct   ? l.data1->out
                                : sealed ? ct
                                         : tagbuf);
    else /* MAC QOPs: one C_Sign over A. */
        ret = gp11_mac(ctx->rt->tok, q->mech, key, a, a_len, NULL, 0, tagbuf,
                       &mac_len);
    /* A key that died with its session: the context is over (never
     * retried, docs/token-layer.md 12). */
    ret = gp11_object_lost(ctx->rt->tok, key, ret);
    if (ret == GP11_OK && mac_len != q->tag_len)
        ret = gp11_err_set(GP11_ERR_TOKEN_REFUSED,
                           "the token made a %zu-byte %s, not %zu", mac_len,
                           q->name, q->tag_len);
    if (ret != GP11_OK)
        goto unlock;
    memcpy(l.header->out, hdr, GP11_MSG_HDR_LEN);
    if (seq)
        seq->value = use;
    if (sealed && !direct && !split) {
        scatter_data(spans, n, ct);
        memcpy(tag, ct + l.data_len, q->tag_len);
    } else if (!sealed) {
        if (kind == GP11_MC_WRAP)
            carry_data(spans, n);
        memcpy(tag, tagbuf, q->tag_len);
    }
    ctx->send_seq = use + 1; /* only once the token exists */
    reserved = false;
unlock:
    if (reserved)
        unreserve(ctx, q, 0, b);
    pthread_mutex_unlock(&ctx->msg_lock);
done:
    if (pt)
        gp11_wipe(pt, l.data_len);
    free(pt);
    free(own);
    return ret;
}

/* The receive side's QOP and key for a parsed header; a MAC QOP never
 * seals. */
static uint32_t received_qop(struct gp11_ctx *ctx, const struct gp11_msg_hdr *h,
                             const struct gp11_qop **q,
                             const struct gp11_object **key)
{
    uint32_t ret = qop_key(ctx, h->qop, false, q, key);

    if (ret == GP11_OK && (*q)->kind == GP11_QOP_MAC &&
        (h->flags & GP11_FLAG_SEALED))
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the token claims confidentiality with the "
                           "integrity-only QOP %u",
                           h->qop);
    return ret;
}

uint32_t gp11_mc_split(struct gp11_ctx *ctx, const uint8_t *tok, size_t len,
                       size_t *hdr_len, const uint8_t **body, size_t *body_len,
                       const uint8_t **tag, size_t *tag_len)
{
    const struct gp11_qop *q;
    struct gp11_msg_hdr h;
    bool first;
    uint32_t ret;

    ret = gp11_msg_hdr_parse(tok, len, GP11_TOK_WRAP, 0, ctx->initiator, &h);
    if (ret == GP11_OK)
        ret = gp11_qop_usable(ctx, h.qop, &q);
    if (ret == GP11_OK && len < GP11_MSG_HDR_LEN + q->tag_len)
        ret = gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                           "the token has %zu bytes, fewer than its header "
                           "and %zu-byte tag",
                           len, q->tag_len);
    if (ret != GP11_OK)
        return ret;
    first = h.flags & GP11_FLAG_TAG_FIRST;
    *tag_len = q->tag_len;
    *body_len = len - GP11_MSG_HDR_LEN - q->tag_len;
    *hdr_len = GP11_MSG_HDR_LEN + (first ? q->tag_len : 0);
    *tag = tok + GP11_MSG_HDR_LEN + (first ? 0 : *body_len);
    *body = tok + *hdr_len;
    return GP11_OK;
}

/* Checks the tag over A (and decrypts a sealed body into out, which has
 * data_len + tag bytes of room). joined: room for ciphertext || tag when
 * the tag does not follow the ciphertext. GP11_ERR_BAD_TAG if it does
 * not verify. */
static uint32_t check_tag(struct gp11_ctx *ctx, const struct gp11_qop *q,
                          const struct gp11_object *key, const uint8_t *iv,
                          const uint8_t *a, size_t a_len, const uint8_t *ct,
                          size_t ct_len, const uint8_t *tag, uint8_t *out,
                          uint8_t *joined)
{
    uint8_t want[MAX_TAG];
    size_t mac_len = sizeof(want);
    uint32_t ret;

    if (q->kind == GP11_QOP_AEAD && out == NULL)
        return gp11_object_lost(ctx->rt->tok, key,
                                gp11_aead_decrypt(ctx->rt->tok, q->aead, key,
                                                  iv, a, a_len, tag, q->tag_len,
                                                  NULL));
    if (q->kind == GP11_QOP_AEAD) {
        /* The tag where it is; joined is used only by Init + op, which
         * wants ciphertext || tag in one piece. */
        ret = gp11_aead_decrypt_split(ctx->rt->tok, q->aead, key, iv, a, a_len,
                                      ct, ct_len, tag, out, joined);
        return gp11_object_lost(ctx->rt->tok, key, ret);
    }
    ret =
        gp11_mac(ctx->rt->tok, q->mech, key, a, a_len, NULL, 0, want, &mac_len);
    ret = gp11_object_lost(ctx->rt->tok, key, ret);
    if (ret == GP11_OK &&
        (mac_len != q->tag_len || !gp11_ct_equal(want, tag, q->tag_len)))
        ret = gp11_err_set(GP11_ERR_BAD_TAG,
                           "the message was altered or is not from this "
                           "context: its %s does not verify",
                           q->name);
    return ret;
}

/* Counts a tag that did not verify; at the limit the context expires. */
static void count_forgery(struct gp11_ctx *ctx, const struct gp11_qop *q)
{
    struct gp11_mc_limits lim;

    gp11_mc_limits(ctx, q, &lim);
    if (++ctx->usage[q->value][1].forgeries >= lim.forgeries &&
        !ctx->msg_expired) {
        ctx->msg_expired = GP11_ERR_FORGERY_LIMIT;
        ctx->msg_expired_qop = q->value;
    }
}

/* gp11_mc_check_room, and with consume gp11_mc_check_consume. */
static uint32_t check(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                      struct gp11_span *spans, size_t n,
                      struct gp11_mc_seq *seq, struct gp11_mc_result *r,
                      size_t room, bool consume)
{
    uint16_t tok_id = kind == GP11_MC_MIC ? GP11_TOK_MIC : GP11_TOK_WRAP;
    uint8_t iv[GP11_GCM_IV_LEN], stack[STACK_A], *a = NULL, *pt = NULL;
    uint8_t *buf = NULL, *own = NULL, *joined = NULL, *gathered = NULL;
    const uint8_t *tag, *ct = NULL;
    const struct gp11_object *key;
    const struct gp11_qop *q;
    struct gp11_msg_hdr h;
    struct layout l;
    size_t a_len = 0, want, need = 0, at = 0;
    uint64_t b = 0;
    bool sealed, first, reserved = false, direct = false, join, locked = false;
    bool try_msg, taken = false;
    uint32_t ret;

    ret = gp11_mc_ready(ctx);
    if (ret == GP11_OK)
        ret = find_layout(spans, n, &l);
    if (ret == GP11_OK)
        ret = gp11_msg_hdr_parse(l.header->in, l.header->len, tok_id, 0,
                                 ctx->initiator, &h);
    if (ret == GP11_OK)
        ret = received_qop(ctx, &h, &q, &key);
    if (ret != GP11_OK)
        return ret;
    sealed = h.flags & GP11_FLAG_SEALED;
    first = h.flags & GP11_FLAG_TAG_FIRST;
    if (kind == GP11_MC_MIC && !l.trailer) {
        if (l.header->len != GP11_MSG_HDR_LEN + q->tag_len)
            return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                                "the MIC token has %zu bytes, not %zu",
                                l.header->len, GP11_MSG_HDR_LEN + q->tag_len);
        first = true;
    }
    want = GP11_MSG_HDR_LEN + (first ? q->tag_len : 0);
    tag = first ? l.header->in + GP11_MSG_HDR_LEN
                : (l.trailer ? l.trailer->in : NULL);
    if (l.header->len != want || tag == NULL ||
        (!first && l.trailer->len != q->tag_len))
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the token's header or trailer has the wrong "
                            "length");
    if (kind == GP11_MC_WRAP && !data_writable(spans, n))
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "a data buffer has nowhere to receive the "
                            "message");
    if (sealed && l.n_data == 1)
        ct = l.data1->in;
    else if (sealed && l.n_data > 1)
        ret = gather_data(spans, n, l.data_len, 0, &gathered);
    if (gathered)
        ct = gathered;
    if (ret == GP11_OK)
        ret = a_length(kind, sealed, spans, n, &a_len);
    if (ret != GP11_OK)
        goto done;
    /* Straight into the caller's fresh buffer when it has room for the
     * tag too; else the plaintext waits in the context's receive buffer
     * until the tag verified. */
    direct = sealed && l.n_data == 1 && room >= q->tag_len &&
             l.data1->out != l.data1->in;
    /* One DATA span on an AEAD: the key's message operation, if the
     * token layer has it for this message, decrypts straight into it (in
     * place for SSPI's TOKEN + DATA); only else is the plaintext staged
     * below. */
    try_msg = consume && sealed && !direct && l.n_data == 1 &&
              q->kind == GP11_QOP_AEAD &&
              !(seq && seq->explicit_ && h.seq != seq->value);
    join = sealed && q->kind == GP11_QOP_AEAD &&
           (ct == NULL || tag != ct + l.data_len);
    need = a_len > STACK_A ? a_len : 0;
    ret = recv_buf(ctx, 0, need, &buf, &own, &locked);
    if (ret != GP11_OK)
        goto done;
    a = a_len > STACK_A ? buf : stack;
    a_fill(kind, sealed, l.header->in, spans, n, a);
    b = gp11_mc_blocks(a_len, sealed ? l.data_len : 0);
    pthread_mutex_lock(&ctx->msg_lock);
    ret = reserve(ctx, q, 1, b);
    pthread_mutex_unlock(&ctx->msg_lock);
    if (ret != GP11_OK)
        goto done;
    reserved = true;
    gp11_msg_iv(iv, ctx->initiator,
                kind == GP11_MC_MIC ? GP11_IV_MIC
                : sealed            ? GP11_IV_WRAP_SEALED
                                    : GP11_IV_WRAP_CLEAR,
                h.seq);
    if (try_msg) {
        ret = gp11_aead_decrypt_msg(ctx->rt->tok, q->aead, key, iv, a, a_len,
                                    ct, l.data_len, tag, l.data1->out, &taken);
        ret = gp11_object_lost(ctx->rt->tok, key, ret);
    }
    if (ret == GP11_OK && !taken) {
        /* The staged path (2.40, Init + op fallback): the plaintext in
         * the context's receive buffer until the tag verified. */
        at = need;
        need += (sealed && !direct ? l.data_len + q->tag_len : 0) +
                (join ? l.data_len + q->tag_len : 0);
        if (at != need)
            ret = recv_buf(ctx, at, need, &buf, &own, &locked);
        if (ret == GP11_OK && a_len > STACK_A && at != need) {
            a = buf; /* a new buffer: A again */
            a_fill(kind, sealed, l.header->in, spans, n, a);
        }
        if (ret == GP11_OK && sealed && !direct) {
            pt = buf + at;
            at += l.data_len + q->tag_len;
        } else if (ret == GP11_OK && direct) {
            pt = l.data1->out;
        }
        if (ret == GP11_OK && join)
            joined = buf + at;
        if (ret == GP11_OK)
            ret = check_tag(ctx, q, key, iv, a, a_len, ct,
                            sealed ? l.data_len : 0, tag, pt, joined);
    }
    if (ret == GP11_OK && seq && seq->explicit_ && h.seq != seq->value)
        ret = gp11_err_set(GP11_ERR_SEQ_MISMATCH,
                           "the token carries sequence number %llu, not the "
                           "%llu expected",
                           (unsigned long long)h.seq,
                           (unsigned long long)seq->value);
    pthread_mutex_lock(&ctx->msg_lock);
    if (ret == GP11_ERR_BAD_TAG)
        count_forgery(ctx, q);
    if (ret == GP11_OK) {
        reserved = false;
        r->window = gp11_seqwin_check(&ctx->recv, h.seq);
    }
    if (reserved)
        unreserve(ctx, q, 1, b);
    pthread_mutex_unlock(&ctx->msg_lock);
    if (ret != GP11_OK)
        goto done;
    /* Only a verified message is released. */
    if (sealed && !direct && !taken)
        scatter_data(spans, n, pt);
    else if (kind == GP11_MC_WRAP && !sealed)
        carry_data(spans, n);
    r->qop = h.qop;
    r->sealed = sealed;
    if (seq)
        seq->value = h.seq;
done:
    /* Nothing of an unverified message stays in the caller's buffer. */
    if (ret != GP11_OK && direct && pt)
        gp11_wipe(pt, l.data_len + q->tag_len);
    else if (pt && !direct)
        gp11_wipe(pt, l.data_len + q->tag_len);
    /* The token wrote into the caller's DATA buffer: its data_len bytes,
     * never more (in place, the tag is not after them). */
    if (ret != GP11_OK && taken)
        gp11_wipe(l.data1->out, l.data_len);
    if (own)
        gp11_wipe(own, need);
    free(own);
    if (locked)
        pthread_mutex_unlock(&ctx->stage_lock);
    free(gathered);
    return ret;
}

uint32_t gp11_mc_check_room(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                            struct gp11_span *spans, size_t n,
                            struct gp11_mc_seq *seq, struct gp11_mc_result *r,
                            size_t room)
{
    return check(ctx, kind, spans, n, seq, r, room, false);
}

uint32_t gp11_mc_check(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                       struct gp11_span *spans, size_t n,
                       struct gp11_mc_seq *seq, struct gp11_mc_result *r)
{
    return check(ctx, kind, spans, n, seq, r, 0, false);
}

uint32_t gp11_mc_check_consume(struct gp11_ctx *ctx, enum gp11_mc_kind kind,
                               struct gp11_span *spans, size_t n,
                               struct gp11_mc_seq *seq,
                               struct gp11_mc_result *r)
{
    return check(ctx, kind, spans, n, seq, r, 0, true);
}
