/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the context-establishment tokens (core/hs_msg.c), the
 * wire reader and writer (core/wire.c) and the mechanism OID
 * (core/oid.c), against docs/protocol.md sections 1 and 2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp11_build_config.h"
#include "gp11_error.h"
#include "gp11_gss.h"
#include "gp11_hs_msg.h"
#include "gp11_oid.h"
#include "gp11_wire.h"

/* The mechanism OID of docs/protocol.md section 1, content bytes. */
#define DEFAULT_OID_TEXT                                                       \
    "1.2.840.113556.1.8000.2554.699.53753.52470.19374.43690.12206812."         \
    "14507593"
static const uint8_t default_oid[33] = {
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x14, 0x01, 0xbe, 0x40, 0x93, 0x7a,
    0x85, 0x3b, 0x83, 0xa3, 0x79, 0x83, 0x99, 0x76, 0x81, 0x97, 0x2e,
    0x82, 0xd5, 0x2a, 0x85, 0xe9, 0x85, 0x5c, 0x86, 0xf5, 0xbc, 0x49};

/* Kerberos 5, 1.2.840.113554.1.2.2: a well-formed foreign OID. */
static const uint8_t krb5_oid[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                    0x12, 0x01, 0x02, 0x02};

/* Field contents shared by the samples, filled by group_setup. */
static uint8_t p256_point[65];
static uint8_t p384_point[97];
static uint8_t cert_a[300];
static uint8_t cert_b[1];
static uint8_t cert_c[700];
static uint8_t cert_d[129];
static uint8_t sig64[64];
static uint8_t sig96[96];
static uint8_t mac16[GP11_HS_MAC_LEN];
static const char target_text[] = "host@example.org";

#define assert_ok(expr)                                                        \
    do {                                                                       \
        uint32_t rc_ = (expr);                                                 \
        if (rc_ != GP11_OK)                                                    \
            fail_msg("%s failed: %s", #expr, gp11_err_message(rc_));           \
    } while (0)

/* Asserts rc is code and, if text is set, that the sentence contains it. */
static void expect_err(uint32_t rc, uint32_t code, const char *text)
{
    const char *msg = gp11_err_message(rc);

    if (rc != code)
        fail_msg("got 0x%x (%s), expected 0x%x", rc, msg, code);
    if (text != NULL && strstr(msg, text) == NULL)
        fail_msg("message \"%s\" does not contain \"%s\"", msg, text);
}

/* Asserts rc is MALFORMED with a sentence naming field. */
static void expect_field(uint32_t rc, const char *field)
{
    char text[64];

    snprintf(text, sizeof(text), "field %s at offset", field);
    expect_err(rc, GP11_ERR_TOKEN_MALFORMED, text);
}

static struct gp11_buf view(const void *p, size_t n)
{
    struct gp11_buf b = {p, n};

    return b;
}

/* Fills p with a pattern that differs per seed. */
static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed * 31 + 1);
}

static int group_setup(void **state)
{
    (void)state;
    fill(p256_point, sizeof(p256_point), 1);
    p256_point[0] = 0x04;
    fill(p384_point, sizeof(p384_point), 2);
    p384_point[0] = 0x04;
    fill(cert_a, sizeof(cert_a), 3);
    fill(cert_b, sizeof(cert_b), 4);
    fill(cert_c, sizeof(cert_c), 5);
    fill(cert_d, sizeof(cert_d), 6);
    fill(sig64, sizeof(sig64), 7);
    fill(sig96, sizeof(sig96), 8);
    fill(mac16, sizeof(mac16), 9);
    return 0;
}

/* Points of a known group. */
static struct gp11_buf point_of(uint8_t group)
{
    return group == GP11_GROUP_P256 ? view(p256_point, sizeof(p256_point))
                                    : view(p384_point, sizeof(p384_point));
}

/* A valid INIT; P-384 gets all 16 profiles and no target. */
static void make_init(struct gp11_hs_init *m, uint8_t group)
{
    memset(m, 0, sizeof(*m));
    m->version_min = 2;
    m->version_max = group == GP11_GROUP_P256 ? 2 : 3;
    m->req_flags = 0x3e;
    if (group == GP11_GROUP_P256) {
        m->profiles[0] = GP11_PROFILE_KDF_30_HKDF;
        m->profiles[1] = GP11_PROFILE_KDF_240;
        m->n_profiles = 2;
        m->target = view(target_text, strlen(target_text));
    } else {
        for (size_t i = 0; i < GP11_HS_MAX_LIST; i++)
            m->profiles[i] = (uint8_t)(16 - i);
        m->n_profiles = GP11_HS_MAX_LIST;
    }
    m->sigalgs[0] = 1;
    m->sigalgs[1] = 2;
    m->sigalgs[2] = 3;
    m->n_sigalgs = 3;
    m->group = group;
    m->eph = point_of(group);
    fill(m->nonce, sizeof(m->nonce), 10 + group);
    fill(m->cb_hash, sizeof(m->cb_hash), 20 + group);
    m->lifetime_req = group == GP11_GROUP_P256 ? 0 : 0x01020304;
    m->caps = 0x13;
}

/* A valid ACCEPT with n_certs of cert_a, cert_b, cert_c, cert_d. */
static void make_accept(struct gp11_hs_accept *m, uint8_t group, size_t n_certs)
{
    const struct gp11_buf certs[4] = {
        view(cert_a, sizeof(cert_a)), view(cert_b, sizeof(cert_b)),
        view(cert_c, sizeof(cert_c)), view(cert_d, sizeof(cert_d))};

    memset(m, 0, sizeof(*m));
    m->version = 2;
    m->profile = group == GP11_GROUP_P256 ? GP11_PROFILE_KDF_240
                                          : GP11_PROFILE_KDF_30_HKDF;
    m->sigalg = group == GP11_GROUP_P256 ? GP11_SIGALG_ECDSA_P256_SHA256
                                         : GP11_SIGALG_ECDSA_P384_SHA384;
    m->group = group;
    m->ret_flags = 0x13e;
    m->eph = point_of(group);
    fill(m->nonce, sizeof(m->nonce), 30 + group);
    m->lifetime = 86400;
    m->caps = 0x3f;
    for (size_t i = 0; i < n_certs; i++)
        m->certs[i] = certs[i];
    m->n_certs = n_certs;
    m->sig = group == GP11_GROUP_P256 ? view(sig64, sizeof(sig64))
                                      : view(sig96, sizeof(sig96));
    memcpy(m->mac, mac16, sizeof(m->mac));
}

/* A valid FINISH: anonymous when n_certs is 0. */
static void make_finish(struct gp11_hs_finish *m, size_t n_certs)
{
    const struct gp11_buf certs[4] = {
        view(cert_d, sizeof(cert_d)), view(cert_c, sizeof(cert_c)),
        view(cert_b, sizeof(cert_b)), view(cert_a, sizeof(cert_a))};

    memset(m, 0, sizeof(*m));
    m->sigalg = n_certs == 0 ? GP11_SIGALG_NONE : GP11_SIGALG_RSA_PSS_SHA256;
    for (size_t i = 0; i < n_certs; i++)
        m->certs[i] = certs[i];
    m->n_certs = n_certs;
    m->sig = n_certs == 0 ? view(NULL, 0) : view(sig96, sizeof(sig96));
    fill(m->mac, sizeof(m->mac), 40 + (unsigned)n_certs);
}

/* Encoders of whole inner tokens; *core gets the core length. */
static void enc_init(struct gp11_wbuf *w, const struct gp11_hs_init *m)
{
    assert_ok(gp11_hs_encode_init(w, m));
}

static void enc_accept(struct gp11_wbuf *w, const struct gp11_hs_accept *m,
                       size_t *core)
{
    assert_ok(gp11_hs_encode_accept_core(w, m));
    if (core != NULL)
        *core = w->len;
    assert_ok(gp11_hs_encode_tail(w, &m->sig, m->mac));
}

static void enc_finish(struct gp11_wbuf *w, const struct gp11_hs_finish *m,
                       size_t *core)
{
    assert_ok(gp11_hs_encode_finish_core(w, m));
    if (core != NULL)
        *core = w->len;
    assert_ok(gp11_hs_encode_tail(w, &m->sig, m->mac));
}

/*
 * Writers of the same layouts, field by field, without the encoders'
 * checks, so that tests can build tokens that break a rule. Lists and
 * certificates come from the arguments (so 17 entries or 5 certs fit).
 */
static void raw_init(struct gp11_wbuf *w, const struct gp11_hs_init *m,
                     const uint8_t *prof, size_t n_prof, const uint8_t *sigs,
                     size_t n_sigs)
{
    gp11_wr_u16(w, 0x0a01);
    gp11_wr_u8(w, m->version_min);
    gp11_wr_u8(w, m->version_max);
    gp11_wr_u32(w, m->req_flags);
    gp11_wr_opaque8(w, prof, n_prof);
    gp11_wr_opaque8(w, sigs, n_sigs);
    gp11_wr_u8(w, m->group);
    gp11_wr_opaque16(w, m->eph.data, m->eph.len);
    gp11_wr_bytes(w, m->nonce, 32);
    gp11_wr_bytes(w, m->cb_hash, 32);
    gp11_wr_opaque16(w, m->target.data, m->target.len);
    gp11_wr_u32(w, m->lifetime_req);
    gp11_wr_u32(w, m->caps);
    assert_true(gp11_wr_ok(w));
}

static void raw_certs(struct gp11_wbuf *w, const struct gp11_buf *certs,
                      size_t n)
{
    gp11_wr_u8(w, (uint8_t)n);
    for (size_t i = 0; i < n; i++)
        gp11_wr_opaque16(w, certs[i].data, certs[i].len);
}

static void raw_accept(struct gp11_wbuf *w, const struct gp11_hs_accept *m,
                       const struct gp11_buf *certs, size_t n)
{
    gp11_wr_u16(w, 0x0a02);
    gp11_wr_u8(w, m->version);
    gp11_wr_u8(w, m->profile);
    gp11_wr_u8(w, m->sigalg);
    gp11_wr_u8(w, m->group);
    gp11_wr_u32(w, m->ret_flags);
    gp11_wr_opaque16(w, m->eph.data, m->eph.len);
    gp11_wr_bytes(w, m->nonce, 32);
    gp11_wr_u32(w, m->lifetime);
    gp11_wr_u32(w, m->caps);
    raw_certs(w, certs, n);
    gp11_wr_opaque16(w, m->sig.data, m->sig.len);
    gp11_wr_bytes(w, m->mac, 16);
    assert_true(gp11_wr_ok(w));
}

static void raw_finish(struct gp11_wbuf *w, const struct gp11_hs_finish *m,
                       const struct gp11_buf *certs, size_t n)
{
    gp11_wr_u16(w, 0x0a03);
    gp11_wr_u8(w, m->sigalg);
    raw_certs(w, certs, n);
    gp11_wr_opaque16(w, m->sig.data, m->sig.len);
    gp11_wr_bytes(w, m->mac, 16);
    assert_true(gp11_wr_ok(w));
}

/* Asserts that a decoded view has the expected bytes and lies in inner. */
static void assert_view(struct gp11_buf got, struct gp11_buf want,
                        struct gp11_buf inner)
{
    assert_int_equal(got.len, want.len);
    if (want.len == 0)
        return;
    assert_memory_equal(got.data, want.data, want.len);
    assert_true(got.data >= inner.data &&
                got.data + got.len <= inner.data + inner.len);
}

/* Frames inner, checks the header, unframes, and returns the inner view. */
static struct gp11_buf frame_unframe(struct gp11_buf inner,
                                     gss_buffer_desc *framed)
{
    struct gp11_buf back;

    assert_ok(gp11_hs_frame(&inner, framed));
    assert_ok(gp11_hs_unframe(framed->value, framed->length, &back));
    assert_int_equal(back.len, inner.len);
    assert_memory_equal(back.data, inner.data, inner.len);
    assert_ptr_equal(back.data,
                     (uint8_t *)framed->value + framed->length - inner.len);
    return back;
}

/* Round trip of one INIT through the encoder, framing and decoder. */
static void roundtrip_init(uint8_t group)
{
    struct gp11_hs_init m, d;
    struct gp11_wbuf w, again;
    gss_buffer_desc framed;
    struct gp11_buf in;

    make_init(&m, group);
    gp11_wr_init(&w);
    enc_init(&w, &m);
    in = frame_unframe(gp11_wr_view(&w), &framed);
    assert_int_equal(gp11_hs_tok_id(&in), GP11_TOK_INIT);
    assert_ok(gp11_hs_decode_init(&in, &d));
    assert_int_equal(d.version_min, m.version_min);
    assert_int_equal(d.version_max, m.version_max);
    assert_int_equal(d.req_flags, m.req_flags);
    assert_int_equal(d.n_profiles, m.n_profiles);
    assert_memory_equal(d.profiles, m.profiles, m.n_profiles);
    assert_int_equal(d.n_sigalgs, m.n_sigalgs);
    assert_memory_equal(d.sigalgs, m.sigalgs, m.n_sigalgs);
    assert_int_equal(d.group, group);
    assert_view(d.eph, m.eph, in);
    assert_int_equal(d.eph.len, group == GP11_GROUP_P256 ? 65 : 97);
    assert_memory_equal(d.nonce, m.nonce, sizeof(m.nonce));
    assert_memory_equal(d.cb_hash, m.cb_hash, sizeof(m.cb_hash));
    assert_view(d.target, m.target, in);
    assert_int_equal(d.lifetime_req, m.lifetime_req);
    assert_int_equal(d.caps, m.caps);

    gp11_wr_init(&again);
    enc_init(&again, &d);
    assert_int_equal(again.len, w.len);
    assert_memory_equal(again.data, w.data, w.len);
    gp11_wr_free(&again);
    gp11_wr_free(&w);
    free(framed.value);
}

static void test_roundtrip_init(void **state)
{
    (void)state;
    roundtrip_init(GP11_GROUP_P256);
    roundtrip_init(GP11_GROUP_P384);
}

/* Round trip of one ACCEPT; also checks core_len against the encoder. */
static void roundtrip_accept(const struct gp11_hs_accept *m)
{
    struct gp11_hs_accept d;
    struct gp11_wbuf w, core, again;
    gss_buffer_desc framed;
    struct gp11_buf in;
    size_t core_len;

    gp11_wr_init(&w);
    enc_accept(&w, m, &core_len);
    gp11_wr_init(&core);
    assert_ok(gp11_hs_encode_accept_core(&core, m));
    assert_int_equal(core.len, core_len);

    in = frame_unframe(gp11_wr_view(&w), &framed);
    assert_int_equal(gp11_hs_tok_id(&in), GP11_TOK_ACCEPT);
    assert_ok(gp11_hs_decode_accept(&in, &d));
    assert_int_equal(d.version, m->version);
    assert_int_equal(d.profile, m->profile);
    assert_int_equal(d.sigalg, m->sigalg);
    assert_int_equal(d.group, m->group);
    assert_int_equal(d.ret_flags, m->ret_flags);
    assert_view(d.eph, m->eph, in);
    assert_memory_equal(d.nonce, m->nonce, sizeof(m->nonce));
    assert_int_equal(d.lifetime, m->lifetime);
    assert_int_equal(d.caps, m->caps);
    assert_int_equal(d.n_certs, m->n_certs);
    for (size_t i = 0; i < m->n_certs; i++)
        assert_view(d.certs[i], m->certs[i], in);
    assert_view(d.sig, m->sig, in);
    assert_memory_equal(d.mac, m->mac, sizeof(m->mac));
    /* The core the decoder reports is exactly what the encoder hashed. */
    assert_int_equal(d.core_len, core.len);
    assert_memory_equal(in.data, core.data, core.len);
    assert_int_equal(in.len, d.core_len + 2 + m->sig.len + 16);

    gp11_wr_init(&again);
    enc_accept(&again, &d, NULL);
    assert_int_equal(again.len, w.len);
    assert_memory_equal(again.data, w.data, w.len);
    gp11_wr_free(&again);
    gp11_wr_free(&core);
    gp11_wr_free(&w);
    free(framed.value);
}

static void test_roundtrip_accept(void **state)
{
    struct gp11_hs_accept m;
    static uint8_t big[2][65535];

    (void)state;
    make_accept(&m, GP11_GROUP_P256, 1);
    roundtrip_accept(&m);
    make_accept(&m, GP11_GROUP_P384, 4);
    roundtrip_accept(&m);
    /* Largest certificates: the framed token needs a 3-byte length. */
    fill(big[0], sizeof(big[0]), 50);
    fill(big[1], sizeof(big[1]), 51);
    m.certs[1] = view(big[0], sizeof(big[0]));
    m.certs[3] = view(big[1], sizeof(big[1]));
    roundtrip_accept(&m);
}

/* Round trip of one FINISH; also checks core_len against the encoder. */
static void roundtrip_finish(size_t n_certs)
{
    struct gp11_hs_finish m, d;
    struct gp11_wbuf w, core, again;
    gss_buffer_desc framed;
    struct gp11_buf in;

    make_finish(&m, n_certs);
    gp11_wr_init(&w);
    enc_finish(&w, &m, NULL);
    gp11_wr_init(&core);
    assert_ok(gp11_hs_encode_finish_core(&core, &m));

    in = frame_unframe(gp11_wr_view(&w), &framed);
    assert_int_equal(gp11_hs_tok_id(&in), GP11_TOK_FINISH);
    assert_ok(gp11_hs_decode_finish(&in, &d));
    assert_int_equal(d.sigalg, m.sigalg);
    assert_int_equal(d.n_certs, n_certs);
    for (size_t i = 0; i < n_certs; i++)
        assert_view(d.certs[i], m.certs[i], in);
    assert_view(d.sig, m.sig, in);
    assert_memory_equal(d.mac, m.mac, sizeof(m.mac));
    assert_int_equal(d.core_len, core.len);
    assert_memory_equal(in.data, core.data, core.len);
    if (n_certs == 0) {
        /* 0A 03, sigalg 0, n_certs 0, empty sig, mac */
        assert_int_equal(in.len, 2 + 1 + 1 + 2 + 16);
        assert_int_equal(d.core_len, 4);
    }

    gp11_wr_init(&again);
    enc_finish(&again, &d, NULL);
    assert_int_equal(again.len, w.len);
    assert_memory_equal(again.data, w.data, w.len);
    gp11_wr_free(&again);
    gp11_wr_free(&core);
    gp11_wr_free(&w);
    free(framed.value);
}

static void test_roundtrip_finish(void **state)
{
    (void)state;
    roundtrip_finish(0);
    roundtrip_finish(1);
    roundtrip_finish(4);
}

static void test_roundtrip_error(void **state)
{
    static const uint8_t want[] = {0x0a, 0x7f, 0x00, 0x00, 0x00, 0x00,
                                   0x67, 0x70, 0x00, 0x24, 0x00};
    struct gp11_hs_error m = {0, GP11_ERR_NO_COMMON_PROFILE}, d;
    struct gp11_wbuf w;
    gss_buffer_desc framed;
    struct gp11_buf in;

    (void)state;
    gp11_wr_init(&w);
    assert_ok(gp11_hs_encode_error(&w, &m));
    assert_int_equal(GP11_ERR_NO_COMMON_PROFILE, 0x67700024u);
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(w.data, want, sizeof(want));
    in = frame_unframe(gp11_wr_view(&w), &framed);
    assert_int_equal(gp11_hs_tok_id(&in), GP11_TOK_ERROR);
    assert_ok(gp11_hs_decode_error(&in, &d));
    assert_int_equal(d.major, 0);
    assert_int_equal(d.reason, GP11_ERR_NO_COMMON_PROFILE);
    assert_int_equal(d.core_len, 10);
    assert_false(d.has_mac);
    gp11_wr_free(&w);
    free(framed.value);

    /* With mac_e (an ERROR answering FINISH): opaque8 of 16 bytes. */
    m.has_mac = true;
    memcpy(m.mac, mac16, sizeof(mac16));
    gp11_wr_init(&w);
    assert_ok(gp11_hs_encode_error(&w, &m));
    assert_int_equal(w.len, 10 + 1 + 16);
    assert_memory_equal(w.data, want, 10);
    assert_int_equal(w.data[10], 16);
    assert_memory_equal(w.data + 11, mac16, 16);
    in = gp11_wr_view(&w);
    assert_ok(gp11_hs_decode_error(&in, &d));
    assert_true(d.has_mac);
    assert_int_equal(d.core_len, 10);
    assert_memory_equal(d.mac, mac16, 16);
    /* Core and tail written apart give the same bytes. */
    {
        struct gp11_wbuf w2;

        gp11_wr_init(&w2);
        assert_ok(gp11_hs_encode_error_core(&w2, &m));
        assert_int_equal(w2.len, 10);
        assert_ok(gp11_hs_encode_error_tail(&w2, mac16));
        assert_int_equal(w2.len, w.len);
        assert_memory_equal(w2.data, w.data, w.len);
        gp11_wr_free(&w2);
    }
    gp11_wr_free(&w);
    m.has_mac = false;

    /* mac_e of another length than 0 or 16 is refused. */
    for (size_t n = 1; n < 20; n++) {
        uint8_t raw[10 + 1 + 20] = {0};

        if (n == 16)
            continue;
        memcpy(raw, want, 10);
        raw[10] = (uint8_t)n;
        in = view(raw, 11 + n);
        expect_err(gp11_hs_decode_error(&in, &d), GP11_ERR_TOKEN_MALFORMED,
                   "mac_e");
        assert_false(d.has_mac);
    }

    m.major = 0x000b0000; /* GSS_S_BAD_BINDINGS */
    m.reason = 0xffffffff;
    gp11_wr_init(&w);
    assert_ok(gp11_hs_encode_error(&w, &m));
    in = gp11_wr_view(&w);
    assert_ok(gp11_hs_decode_error(&in, &d));
    assert_int_equal(d.major, m.major);
    assert_int_equal(d.reason, m.reason);
    gp11_wr_free(&w);
}

/* CONFIRM: TOK_ID 0A 04 and the 16-byte mac_c, nothing else. */
static void test_roundtrip_confirm(void **state)
{
    struct gp11_hs_confirm m, d;
    struct gp11_wbuf w;
    gss_buffer_desc framed;
    struct gp11_buf in;

    (void)state;
    memcpy(m.mac, mac16, sizeof(mac16));
    gp11_wr_init(&w);
    assert_ok(gp11_hs_encode_confirm(&w, &m));
    assert_int_equal(w.len, 18);
    assert_int_equal(w.data[0], 0x0a);
    assert_int_equal(w.data[1], 0x04);
    assert_memory_equal(w.data + 2, mac16, 16);
    in = frame_unframe(gp11_wr_view(&w), &framed);
    assert_int_equal(gp11_hs_tok_id(&in), GP11_TOK_CONFIRM);
    assert_ok(gp11_hs_decode_confirm(&in, &d));
    assert_memory_equal(d.mac, mac16, 16);
    free(framed.value);
    expect_err(gp11_hs_encode_confirm(NULL, &m), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_encode_confirm(&w, NULL), GP11_ERR_BAD_ARG, NULL);
    gp11_wr_free(&w);
}

/* The INIT layout byte by byte up to the point, from the spec. */
static void test_init_layout(void **state)
{
    static const uint8_t want[] = {
        0x0a, 0x01,             /* TOK_ID */
        0x02, 0x02,             /* version_min, version_max */
        0x00, 0x00, 0x00, 0x3e, /* req_flags */
        0x02, 0x02, 0x01,       /* profiles */
        0x03, 0x01, 0x02, 0x03, /* sigalgs */
        0x01,                   /* group */
        0x00, 0x41, 0x04        /* eph_i length, first byte */
    };
    struct gp11_hs_init m;
    struct gp11_wbuf w, raw;
    size_t tail;

    (void)state;
    make_init(&m, GP11_GROUP_P256);
    gp11_wr_init(&w);
    enc_init(&w, &m);
    assert_true(w.len > sizeof(want));
    assert_memory_equal(w.data, want, sizeof(want));
    /* eph, nonce, cb_hash, target, lifetime, caps */
    tail = 64 + 32 + 32 + 2 + strlen(target_text) + 4 + 4;
    assert_int_equal(w.len, sizeof(want) + tail);
    assert_memory_equal(w.data + w.len - 8, "\x00\x00\x00\x00\x00\x00\x00\x13",
                        8);

    /* The independent field-by-field writer agrees. */
    gp11_wr_init(&raw);
    raw_init(&raw, &m, m.profiles, m.n_profiles, m.sigalgs, m.n_sigalgs);
    assert_int_equal(raw.len, w.len);
    assert_memory_equal(raw.data, w.data, w.len);
    gp11_wr_free(&raw);
    gp11_wr_free(&w);
}

/* raw_accept and raw_finish agree with the encoders on valid messages. */
static void test_raw_writers_agree(void **state)
{
    struct gp11_hs_accept a;
    struct gp11_hs_finish f;
    struct gp11_wbuf w, raw;

    (void)state;
    make_accept(&a, GP11_GROUP_P384, 3);
    gp11_wr_init(&w);
    gp11_wr_init(&raw);
    enc_accept(&w, &a, NULL);
    raw_accept(&raw, &a, a.certs, a.n_certs);
    assert_int_equal(raw.len, w.len);
    assert_memory_equal(raw.data, w.data, w.len);
    gp11_wr_free(&raw);
    gp11_wr_free(&w);

    make_finish(&f, 2);
    gp11_wr_init(&w);
    gp11_wr_init(&raw);
    enc_finish(&w, &f, NULL);
    raw_finish(&raw, &f, f.certs, f.n_certs);
    assert_int_equal(raw.len, w.len);
    assert_memory_equal(raw.data, w.data, w.len);
    gp11_wr_free(&raw);
    gp11_wr_free(&w);
}

/* Checks the framing header of an inner token of n bytes. */
static void check_frame(size_t n, const uint8_t *hdr, size_t hdr_len)
{
    uint8_t *inner = malloc(n);
    gss_buffer_desc framed;
    struct gp11_buf back;
    const uint8_t *p;

    assert_non_null(inner);
    fill(inner, n, 60);
    frame_unframe(view(inner, n), &framed);
    p = framed.value;
    assert_int_equal(framed.length, hdr_len + 2 + 33 + n);
    assert_memory_equal(p, hdr, hdr_len);
    assert_int_equal(p[hdr_len], 0x06);
    assert_int_equal(p[hdr_len + 1], 33);
    assert_memory_equal(p + hdr_len + 2, gp11_mech_oid()->elements, 33);

    /* Truncated or extended by one byte: malformed. */
    expect_err(gp11_hs_unframe(framed.value, framed.length - 1, &back),
               GP11_ERR_TOKEN_MALFORMED, "field outer length at offset 1");
    assert_null(back.data);
    free(inner);
    free(framed.value);
}

static void test_frame_lengths(void **state)
{
    /* 2 + 33 + n bytes after the length */
    static const uint8_t h10[] = {0x60, 0x2d};
    static const uint8_t h92[] = {0x60, 0x7f};
    static const uint8_t h93[] = {0x60, 0x81, 0x80};
    static const uint8_t h200[] = {0x60, 0x81, 0xeb};
    static const uint8_t h220[] = {0x60, 0x81, 0xff};
    static const uint8_t h221[] = {0x60, 0x82, 0x01, 0x00};
    static const uint8_t h65500[] = {0x60, 0x82, 0xff, 0xff};
    static const uint8_t h65501[] = {0x60, 0x83, 0x01, 0x00, 0x00};
    static const uint8_t h70000[] = {0x60, 0x83, 0x01, 0x11, 0x93};

    (void)state;
    if (strcmp(GP11_MECH_OID, DEFAULT_OID_TEXT) != 0)
        skip();
    check_frame(0, (const uint8_t *)"\x60\x23", 2);
    check_frame(10, h10, sizeof(h10));
    check_frame(92, h92, sizeof(h92));
    check_frame(93, h93, sizeof(h93));
    check_frame(200, h200, sizeof(h200));
    check_frame(220, h220, sizeof(h220));
    check_frame(221, h221, sizeof(h221));
    check_frame(65500, h65500, sizeof(h65500));
    check_frame(65501, h65501, sizeof(h65501));
    check_frame(70000, h70000, sizeof(h70000));
}

/* Builds 0x60 len 0x06 oid_len oid inner from explicit header bytes. */
static size_t build_framed(uint8_t *out, const uint8_t *outer_len,
                           size_t outer_len_n, const uint8_t *oid_hdr,
                           size_t oid_hdr_n, const uint8_t *oid, size_t oid_n,
                           const uint8_t *inner, size_t inner_n)
{
    size_t n = 0;

    out[n++] = 0x60;
    memcpy(out + n, outer_len, outer_len_n);
    n += outer_len_n;
    memcpy(out + n, oid_hdr, oid_hdr_n);
    n += oid_hdr_n;
    memcpy(out + n, oid, oid_n);
    n += oid_n;
    memcpy(out + n, inner, inner_n);
    return n + inner_n;
}

/* Unframes len bytes of buf from an exact-size heap copy. */
static uint32_t unframe_copy(const uint8_t *buf, size_t len,
                             struct gp11_buf *inner, uint8_t **copy)
{
    *copy = malloc(len > 0 ? len : 1);
    assert_non_null(*copy);
    if (len > 0)
        memcpy(*copy, buf, len);
    return gp11_hs_unframe(*copy, len, inner);
}

static void test_unframe_errors(void **state)
{
    uint8_t buf[512], inner[100], *copy;
    const uint8_t *oid = default_oid;
    struct gp11_buf in;
    size_t n;

    (void)state;
    if (strcmp(GP11_MECH_OID, DEFAULT_OID_TEXT) != 0)
        skip();
    fill(inner, sizeof(inner), 70);

    /* The reference: short-form lengths, 10-byte inner token. */
    n = build_framed(buf, (const uint8_t *)"\x2d", 1,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 10);
    assert_ok(unframe_copy(buf, n, &in, &copy));
    assert_int_equal(in.len, 10);
    free(copy);

    /* Non-minimal outer lengths. */
    n = build_framed(buf, (const uint8_t *)"\x81\x2d", 2,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "field outer length at offset 1 is not in minimal DER form");
    free(copy);
    n = build_framed(buf, (const uint8_t *)"\x82\x00\x87", 3,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 100);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "not in minimal DER form");
    free(copy);
    /* The minimal form of the same is accepted. */
    n = build_framed(buf, (const uint8_t *)"\x81\x87", 2,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 100);
    assert_ok(unframe_copy(buf, n, &in, &copy));
    free(copy);
    /* Indefinite form, and five length bytes. */
    n = build_framed(buf, (const uint8_t *)"\x80", 1,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "indefinite");
    free(copy);
    n = build_framed(buf, (const uint8_t *)"\x85\x00\x00\x00\x00\x2d", 6,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "more than 4 length bytes");
    free(copy);
    /* Outer length too short and too long for the bytes present. */
    n = build_framed(buf, (const uint8_t *)"\x2c", 1,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "outer length");
    free(copy);
    n = build_framed(buf, (const uint8_t *)"\x2e", 1,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "outer length");
    free(copy);
    /* Long-form length cut off by the end of the token. */
    expect_err(unframe_copy((const uint8_t *)"\x60\x82\x01", 3, &in, &copy),
               GP11_ERR_TOKEN_MALFORMED, "field outer length at offset 3");
    free(copy);
    /* Empty token, and wrong outer tag. */
    expect_err(unframe_copy(buf, 0, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "outer tag");
    free(copy);
    n = build_framed(buf, (const uint8_t *)"\x2d", 1,
                     (const uint8_t *)"\x06\x21", 2, oid, 33, inner, 10);
    buf[0] = 0x61;
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "field outer tag at offset 0");
    free(copy);
    /* OID tag, non-minimal OID length, OID past the end, empty OID. */
    n = build_framed(buf, (const uint8_t *)"\x2d", 1,
                     (const uint8_t *)"\x07\x21", 2, oid, 33, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "field OID tag at offset 2");
    free(copy);
    n = build_framed(buf, (const uint8_t *)"\x2e", 1,
                     (const uint8_t *)"\x06\x81\x21", 3, oid, 33, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "field OID length at offset 3 is not in minimal DER form");
    free(copy);
    n = build_framed(buf, (const uint8_t *)"\x22", 1,
                     (const uint8_t *)"\x06\x21", 2, oid, 32, inner, 0);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "field mechanism OID at offset 4 needs 33 bytes");
    free(copy);
    n = build_framed(buf, (const uint8_t *)"\x0c", 1,
                     (const uint8_t *)"\x06\x00", 2, oid, 0, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "mechanism OID");
    free(copy);
    /* Our OID cut by one byte ends inside an arc. */
    n = build_framed(buf, (const uint8_t *)"\x2c", 1,
                     (const uint8_t *)"\x06\x20", 2, oid, 32, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "field mechanism OID at offset 4 is not a valid OID");
    free(copy);

    /* Another mechanism's well-formed token. */
    n = build_framed(buf, (const uint8_t *)"\x15", 1,
                     (const uint8_t *)"\x06\x09", 2, krb5_oid, 9, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_WRONG_MECH,
               "another mechanism");
    assert_null(in.data);
    free(copy);
    /* ... but a malformed one of another OID is malformed. */
    n = build_framed(buf, (const uint8_t *)"\x16", 1,
                     (const uint8_t *)"\x06\x09", 2, krb5_oid, 9, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_MALFORMED,
               "outer length");
    free(copy);
    /* Our OID as a prefix of a longer one. */
    memcpy(buf + 100, oid, 33);
    buf[133] = 0x01;
    n = build_framed(buf, (const uint8_t *)"\x2e", 1,
                     (const uint8_t *)"\x06\x22", 2, buf + 100, 34, inner, 10);
    expect_err(unframe_copy(buf, n, &in, &copy), GP11_ERR_TOKEN_WRONG_MECH,
               NULL);
    free(copy);

    expect_err(gp11_hs_unframe(NULL, 3, &in), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_unframe(buf, n, NULL), GP11_ERR_BAD_ARG, NULL);
}

static void test_frame_args(void **state)
{
    gss_buffer_desc out = {5, (void *)"x"};
    struct gp11_buf bad = {NULL, 4};

    (void)state;
    expect_err(gp11_hs_frame(NULL, &out), GP11_ERR_BAD_ARG, NULL);
    assert_null(out.value);
    assert_int_equal(out.length, 0);
    expect_err(gp11_hs_frame(&bad, &out), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_frame(&bad, NULL), GP11_ERR_BAD_ARG, NULL);
}

static void test_tok_id(void **state)
{
    struct gp11_buf b = {(const uint8_t *)"\x0a\x02\x00", 3};

    (void)state;
    assert_int_equal(gp11_hs_tok_id(&b), GP11_TOK_ACCEPT);
    b.len = 2;
    assert_int_equal(gp11_hs_tok_id(&b), GP11_TOK_ACCEPT);
    b.len = 1;
    assert_int_equal(gp11_hs_tok_id(&b), 0);
    b.len = 0;
    assert_int_equal(gp11_hs_tok_id(&b), 0);
    assert_int_equal(gp11_hs_tok_id(NULL), 0);
}

/* A token under test, and how to decode and re-encode its kind. */
struct sample {
    struct gp11_wbuf inner;
    gss_buffer_desc framed;
    /* Decodes in; if that works, re-encodes the result into out. */
    uint32_t (*redo)(const struct gp11_buf *in, struct gp11_wbuf *out);
};

static uint32_t redo_init(const struct gp11_buf *in, struct gp11_wbuf *out)
{
    struct gp11_hs_init m;
    uint32_t rc = gp11_hs_decode_init(in, &m);

    if (rc == GP11_OK)
        enc_init(out, &m);
    return rc;
}

static uint32_t redo_accept(const struct gp11_buf *in, struct gp11_wbuf *out)
{
    struct gp11_hs_accept m;
    uint32_t rc = gp11_hs_decode_accept(in, &m);

    if (rc == GP11_OK) {
        enc_accept(out, &m, NULL);
        assert_int_equal(m.core_len, out->len - 2 - m.sig.len - 16);
    }
    return rc;
}

static uint32_t redo_finish(const struct gp11_buf *in, struct gp11_wbuf *out)
{
    struct gp11_hs_finish m;
    uint32_t rc = gp11_hs_decode_finish(in, &m);

    if (rc == GP11_OK) {
        enc_finish(out, &m, NULL);
        assert_int_equal(m.core_len, out->len - 2 - m.sig.len - 16);
    }
    return rc;
}

static uint32_t redo_error(const struct gp11_buf *in, struct gp11_wbuf *out)
{
    struct gp11_hs_error m;
    uint32_t rc = gp11_hs_decode_error(in, &m);

    if (rc == GP11_OK)
        assert_ok(gp11_hs_encode_error(out, &m));
    return rc;
}

static uint32_t redo_confirm(const struct gp11_buf *in, struct gp11_wbuf *out)
{
    struct gp11_hs_confirm m;
    uint32_t rc = gp11_hs_decode_confirm(in, &m);

    if (rc == GP11_OK)
        assert_ok(gp11_hs_encode_confirm(out, &m));
    return rc;
}

enum {
    S_INIT_256,
    S_INIT_384,
    S_ACC_1,
    S_ACC_4,
    S_FIN_0,
    S_FIN_1,
    S_FIN_4,
    S_ERROR,
    S_ERROR_MAC,
    S_CONFIRM,
    S_COUNT
};

/* Builds sample which: its inner token and its framed form. */
static void make_sample(int which, struct sample *s)
{
    struct gp11_hs_init i;
    struct gp11_hs_accept a;
    struct gp11_hs_finish f;
    struct gp11_hs_error e = {0x000d0000, GP11_ERR_ANON_REFUSED};
    struct gp11_hs_confirm c;
    struct gp11_buf in;

    gp11_wr_init(&s->inner);
    switch (which) {
    case S_INIT_256:
    case S_INIT_384:
        make_init(&i, which == S_INIT_256 ? GP11_GROUP_P256 : GP11_GROUP_P384);
        enc_init(&s->inner, &i);
        s->redo = redo_init;
        break;
    case S_ACC_1:
    case S_ACC_4:
        make_accept(&a, which == S_ACC_1 ? GP11_GROUP_P256 : GP11_GROUP_P384,
                    which == S_ACC_1 ? 1 : 4);
        enc_accept(&s->inner, &a, NULL);
        s->redo = redo_accept;
        break;
    case S_FIN_0:
    case S_FIN_1:
    case S_FIN_4:
        make_finish(&f, which == S_FIN_0 ? 0 : which == S_FIN_1 ? 1 : 4);
        enc_finish(&s->inner, &f, NULL);
        s->redo = redo_finish;
        break;
    case S_CONFIRM:
        memcpy(c.mac, mac16, sizeof(mac16));
        assert_ok(gp11_hs_encode_confirm(&s->inner, &c));
        s->redo = redo_confirm;
        break;
    default:
        e.has_mac = which == S_ERROR_MAC;
        memcpy(e.mac, mac16, sizeof(mac16));
        assert_ok(gp11_hs_encode_error(&s->inner, &e));
        s->redo = redo_error;
        break;
    }
    in = gp11_wr_view(&s->inner);
    assert_ok(gp11_hs_frame(&in, &s->framed));
}

static void free_sample(struct sample *s)
{
    gp11_wr_free(&s->inner);
    free(s->framed.value);
}

/*
 * Flips every byte of the framed token with each mask. Each result must
 * either fail with a token error, or decode to a message whose encoding is
 * exactly the flipped inner token (so the decoded fields differ).
 */
static void flip_all(int which, size_t *n_ok, size_t *n_fail)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    struct sample s;
    const uint8_t *orig;
    size_t len;

    make_sample(which, &s);
    orig = s.framed.value;
    len = s.framed.length;
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t k = 0; k < sizeof(masks); k++) {
            uint8_t *copy = malloc(len);
            struct gp11_buf in;
            struct gp11_wbuf again;
            uint32_t rc;

            assert_non_null(copy);
            memcpy(copy, orig, len);
            copy[pos] ^= masks[k];
            gp11_wr_init(&again);
            rc = gp11_hs_unframe(copy, len, &in);
            if (rc == GP11_OK)
                rc = s.redo(&in, &again);
            if (rc == GP11_OK) {
                assert_int_equal(again.len, in.len);
                assert_memory_equal(again.data, in.data, in.len);
                if (in.len == s.inner.len)
                    assert_memory_not_equal(again.data, s.inner.data,
                                            s.inner.len);
                (*n_ok)++;
            } else {
                if (rc != GP11_ERR_TOKEN_MALFORMED &&
                    rc != GP11_ERR_TOKEN_WRONG_MECH &&
                    rc != GP11_ERR_TOKEN_UNEXPECTED)
                    fail_msg("flip 0x%02x at %zu: %s", masks[k], pos,
                             gp11_err_message(rc));
                (*n_fail)++;
            }
            gp11_wr_free(&again);
            free(copy);
        }
    }
    free_sample(&s);
}

/* Runs flip_all over the samples first..last and prints the tally. */
static void flips(const char *name, int first, int last)
{
    size_t ok = 0, failed = 0;

    for (int i = first; i <= last; i++)
        flip_all(i, &ok, &failed);
    print_message("%s: %zu flips decoded to other values, %zu refused\n", name,
                  ok, failed);
    assert_true(failed > 0);
}

static void test_flip_init(void **state)
{
    (void)state;
    flips("INIT", S_INIT_256, S_INIT_384);
}

static void test_flip_accept(void **state)
{
    (void)state;
    flips("ACCEPT", S_ACC_1, S_ACC_4);
}

static void test_flip_finish(void **state)
{
    (void)state;
    flips("FINISH", S_FIN_0, S_FIN_4);
}

static void test_flip_error(void **state)
{
    (void)state;
    flips("ERROR", S_ERROR, S_ERROR_MAC);
}

static void test_flip_confirm(void **state)
{
    (void)state;
    flips("CONFIRM", S_CONFIRM, S_CONFIRM);
}

/*
 * Truncation at every length fails: the framed token (framing error), and
 * every prefix of the inner token, reframed (decoder error). One extra
 * byte fails in both places too.
 */
static void truncate_sample(int which)
{
    struct sample s;
    const uint8_t *framed, *inner;
    struct gp11_buf in;
    struct gp11_wbuf out;
    gss_buffer_desc re;
    uint8_t *copy;

    make_sample(which, &s);
    framed = s.framed.value;
    inner = s.inner.data;
    gp11_wr_init(&out);
    for (size_t k = 0; k < s.framed.length; k++) {
        expect_err(unframe_copy(framed, k, &in, &copy),
                   GP11_ERR_TOKEN_MALFORMED, NULL);
        free(copy);
    }
    for (size_t k = 0; k < s.inner.len; k++) {
        copy = malloc(k > 0 ? k : 1);
        assert_non_null(copy);
        memcpy(copy, inner, k);
        in = view(copy, k);
        expect_err(s.redo(&in, &out), GP11_ERR_TOKEN_MALFORMED,
                   k < 2 ? "field TOK_ID" : "needs");
        assert_ok(gp11_hs_frame(&in, &re));
        assert_ok(gp11_hs_unframe(re.value, re.length, &in));
        expect_err(s.redo(&in, &out), GP11_ERR_TOKEN_MALFORMED, NULL);
        free(re.value);
        free(copy);
    }
    assert_int_equal(out.len, 0);

    /* One extra byte after the framed token, and inside the frame. */
    copy = malloc(s.framed.length + 1);
    assert_non_null(copy);
    memcpy(copy, framed, s.framed.length);
    copy[s.framed.length] = 0;
    expect_err(gp11_hs_unframe(copy, s.framed.length + 1, &in),
               GP11_ERR_TOKEN_MALFORMED, "outer length");
    free(copy);
    copy = malloc(s.inner.len + 1);
    assert_non_null(copy);
    memcpy(copy, inner, s.inner.len);
    copy[s.inner.len] = 0;
    in = view(copy, s.inner.len + 1);
    assert_ok(gp11_hs_frame(&in, &re));
    assert_ok(gp11_hs_unframe(re.value, re.length, &in));
    expect_err(s.redo(&in, &out), GP11_ERR_TOKEN_MALFORMED, "1 trailing bytes");
    free(re.value);
    free(copy);
    gp11_wr_free(&out);
    free_sample(&s);
}

static void test_truncate_init(void **state)
{
    (void)state;
    truncate_sample(S_INIT_256);
    truncate_sample(S_INIT_384);
}

static void test_truncate_accept(void **state)
{
    (void)state;
    truncate_sample(S_ACC_1);
    truncate_sample(S_ACC_4);
}

static void test_truncate_finish(void **state)
{
    (void)state;
    truncate_sample(S_FIN_0);
    truncate_sample(S_FIN_1);
    truncate_sample(S_FIN_4);
}

static void test_truncate_error(void **state)
{
    (void)state;
    truncate_sample(S_ERROR);
    truncate_sample(S_ERROR_MAC);
}

static void test_truncate_confirm(void **state)
{
    (void)state;
    truncate_sample(S_CONFIRM);
}

/* Every decoder refuses the other kinds with UNEXPECTED. */
static void test_unexpected(void **state)
{
    struct sample s[S_COUNT];
    struct gp11_wbuf out;
    struct gp11_buf in, unknown = {(const uint8_t *)"\x0b\x01\x00", 3};
    uint32_t (*redos[5])(const struct gp11_buf *, struct gp11_wbuf *) = {
        redo_init, redo_accept, redo_finish, redo_error, redo_confirm};

    (void)state;
    gp11_wr_init(&out);
    for (int i = 0; i < S_COUNT; i++)
        make_sample(i, &s[i]);
    for (int i = 0; i < S_COUNT; i++) {
        in = gp11_wr_view(&s[i].inner);
        for (int k = 0; k < 5; k++) {
            if (redos[k] == s[i].redo)
                assert_ok(redos[k](&in, &out));
            else
                expect_err(redos[k](&in, &out), GP11_ERR_TOKEN_UNEXPECTED,
                           "was expected");
            gp11_wr_free(&out);
        }
    }
    for (int k = 0; k < 5; k++)
        expect_err(redos[k](&unknown, &out), GP11_ERR_TOKEN_UNEXPECTED,
                   "TOK_ID is unknown where");
    in = gp11_wr_view(&s[S_ACC_1].inner);
    expect_err(redo_init(&in, &out), GP11_ERR_TOKEN_UNEXPECTED,
               "TOK_ID is ACCEPT where INIT was expected");
    in = gp11_wr_view(&s[S_FIN_1].inner);
    expect_err(redo_confirm(&in, &out), GP11_ERR_TOKEN_UNEXPECTED,
               "TOK_ID is FINISH where CONFIRM was expected");
    in = gp11_wr_view(&s[S_CONFIRM].inner);
    expect_err(redo_accept(&in, &out), GP11_ERR_TOKEN_UNEXPECTED,
               "TOK_ID is CONFIRM where ACCEPT was expected");
    for (int i = 0; i < S_COUNT; i++)
        free_sample(&s[i]);
}

/* Decodes an INIT built by raw_init and checks the failure names field. */
static void init_rule(const struct gp11_hs_init *m, const uint8_t *prof,
                      size_t n_prof, const uint8_t *sigs, size_t n_sigs,
                      const char *field, bool encodable)
{
    struct gp11_hs_init d;
    struct gp11_wbuf w;
    struct gp11_buf in;

    gp11_wr_init(&w);
    raw_init(&w, m, prof, n_prof, sigs, n_sigs);
    in = gp11_wr_view(&w);
    expect_field(gp11_hs_decode_init(&in, &d), field);
    assert_int_equal(d.n_profiles, 0);
    assert_int_equal(d.eph.len, 0);
    gp11_wr_free(&w);
    if (encodable) {
        expect_err(gp11_hs_encode_init(&w, m), GP11_ERR_BAD_ARG, field);
        assert_int_equal(w.len, 0);
    }
}

static void test_rules_init(void **state)
{
    struct gp11_hs_init m;
    uint8_t list[17] = {1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1};
    uint8_t point[97];

    (void)state;
    make_init(&m, GP11_GROUP_P256);
    m.version_min = 0;
    init_rule(&m, list, 2, list, 2, "version_min", true);
    m.version_max = 0;
    init_rule(&m, list, 2, list, 2, "version_min", true);
    m.version_min = 2;
    m.version_max = 1;
    init_rule(&m, list, 2, list, 2, "version_max", true);

    make_init(&m, GP11_GROUP_P256);
    m.n_profiles = 0;
    init_rule(&m, list, 0, list, 2, "profiles", true);
    init_rule(&m, list, 17, list, 2, "profiles", false);
    make_init(&m, GP11_GROUP_P256);
    m.n_sigalgs = 0;
    init_rule(&m, list, 2, list, 0, "sigalgs", true);
    init_rule(&m, list, 2, list, 17, "sigalgs", false);
    /* 16 entries are fine. */
    make_init(&m, GP11_GROUP_P256);
    {
        struct gp11_wbuf w;
        struct gp11_hs_init d;
        struct gp11_buf in;

        gp11_wr_init(&w);
        raw_init(&w, &m, list, 16, list, 16);
        in = gp11_wr_view(&w);
        assert_ok(gp11_hs_decode_init(&in, &d));
        assert_int_equal(d.n_profiles, 16);
        assert_int_equal(d.n_sigalgs, 16);
        gp11_wr_free(&w);
    }

    make_init(&m, GP11_GROUP_P256);
    m.group = 0;
    init_rule(&m, list, 2, list, 2, "group", true);
    m.group = 3;
    init_rule(&m, list, 2, list, 2, "group", true);
    m.group = GP11_GROUP_P384; /* with a P-256 point */
    init_rule(&m, list, 2, list, 2, "eph_i", true);
    m.group = GP11_GROUP_P256;
    m.eph.len = 64;
    init_rule(&m, list, 2, list, 2, "eph_i", true);
    m.eph.len = 0;
    init_rule(&m, list, 2, list, 2, "eph_i", true);
    memcpy(point, p256_point, 65);
    point[0] = 0x02;
    m.eph = view(point, 65);
    init_rule(&m, list, 2, list, 2, "eph_i", true);
}

/* Decodes an ACCEPT built by raw_accept; checks the failure names field. */
static void accept_rule(const struct gp11_hs_accept *m,
                        const struct gp11_buf *certs, size_t n,
                        const char *field, bool encodable)
{
    struct gp11_hs_accept d;
    struct gp11_wbuf w;
    struct gp11_buf in;

    gp11_wr_init(&w);
    raw_accept(&w, m, certs, n);
    in = gp11_wr_view(&w);
    expect_field(gp11_hs_decode_accept(&in, &d), field);
    assert_int_equal(d.n_certs, 0);
    assert_int_equal(d.core_len, 0);
    gp11_wr_free(&w);
    if (encodable) {
        expect_err(gp11_hs_encode_accept_core(&w, m), GP11_ERR_BAD_ARG, field);
        assert_int_equal(w.len, 0);
    }
}

static void test_rules_accept(void **state)
{
    struct gp11_hs_accept m;
    struct gp11_buf certs[5];
    uint8_t point[65];

    (void)state;
    make_accept(&m, GP11_GROUP_P256, 4);
    memcpy(certs, m.certs, sizeof(m.certs));
    certs[4] = certs[0];

    m.version = 0;
    accept_rule(&m, certs, 1, "version", true);
    make_accept(&m, GP11_GROUP_P256, 1);
    m.profile = 0;
    accept_rule(&m, certs, 1, "profile", true);
    m.profile = 3;
    accept_rule(&m, certs, 1, "profile", true);
    make_accept(&m, GP11_GROUP_P256, 1);
    m.sigalg = 0;
    accept_rule(&m, certs, 1, "sigalg_a", true);
    m.sigalg = 4;
    accept_rule(&m, certs, 1, "sigalg_a", true);
    make_accept(&m, GP11_GROUP_P256, 1);
    m.group = 0;
    accept_rule(&m, certs, 1, "group", true);
    m.group = 3;
    accept_rule(&m, certs, 1, "group", true);
    m.group = GP11_GROUP_P384;
    accept_rule(&m, certs, 1, "eph_a", true);
    m.group = GP11_GROUP_P256;
    memcpy(point, p256_point, 65);
    point[0] = 0x03;
    m.eph = view(point, 65);
    accept_rule(&m, certs, 1, "eph_a", true);

    make_accept(&m, GP11_GROUP_P256, 1);
    m.n_certs = 0;
    accept_rule(&m, certs, 0, "n_certs", true);
    accept_rule(&m, certs, 5, "n_certs", false);
    make_accept(&m, GP11_GROUP_P256, 2);
    m.certs[1].len = 0;
    certs[1].len = 0;
    accept_rule(&m, certs, 2, "cert", true);
    certs[1] = certs[0];
    make_accept(&m, GP11_GROUP_P256, 1);
    m.sig.len = 0;
    accept_rule(&m, certs, 1, "sig_a", false);
}

/* Decodes a FINISH built by raw_finish; checks the failure names field. */
static void finish_rule(const struct gp11_hs_finish *m,
                        const struct gp11_buf *certs, size_t n,
                        const char *field, bool encodable)
{
    struct gp11_hs_finish d;
    struct gp11_wbuf w;
    struct gp11_buf in;

    gp11_wr_init(&w);
    raw_finish(&w, m, certs, n);
    in = gp11_wr_view(&w);
    expect_field(gp11_hs_decode_finish(&in, &d), field);
    assert_int_equal(d.n_certs, 0);
    gp11_wr_free(&w);
    if (encodable) {
        expect_err(gp11_hs_encode_finish_core(&w, m), GP11_ERR_BAD_ARG, field);
        assert_int_equal(w.len, 0);
    }
}

static void test_rules_finish(void **state)
{
    struct gp11_hs_finish m;
    struct gp11_buf certs[5];

    (void)state;
    make_finish(&m, 4);
    memcpy(certs, m.certs, sizeof(m.certs));
    certs[4] = certs[0];

    m.sigalg = 4;
    finish_rule(&m, certs, 4, "sigalg_i", true);
    m.sigalg = 0xff;
    finish_rule(&m, certs, 4, "sigalg_i", true);
    make_finish(&m, 4);
    finish_rule(&m, certs, 5, "n_certs", false);
    /* anonymous with a certificate, signed without one */
    make_finish(&m, 0);
    m.n_certs = 1;
    m.certs[0] = certs[0];
    finish_rule(&m, certs, 1, "n_certs", true);
    make_finish(&m, 1);
    m.n_certs = 0;
    finish_rule(&m, certs, 0, "n_certs", true);
    /* anonymous with a signature, signed without one */
    make_finish(&m, 0);
    m.sig = view(sig64, sizeof(sig64));
    finish_rule(&m, certs, 0, "sig_i", false);
    make_finish(&m, 1);
    m.sig = view(NULL, 0);
    finish_rule(&m, certs, 1, "sig_i", false);
    /* empty certificate */
    make_finish(&m, 2);
    m.certs[0].len = 0;
    certs[0].len = 0;
    finish_rule(&m, certs, 2, "cert", true);
}

/* The tail refuses a signature that cannot be written. */
static void test_encode_args(void **state)
{
    struct gp11_wbuf w;
    struct gp11_buf big = {sig64, 65536}, bad = {NULL, 3};
    struct gp11_hs_init i;
    struct gp11_hs_accept a;
    struct gp11_hs_finish f;
    struct gp11_hs_error e = {0, 0};

    (void)state;
    make_init(&i, GP11_GROUP_P256);
    gp11_wr_init(&w);
    expect_err(gp11_hs_encode_tail(&w, &big, mac16), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_encode_tail(&w, &bad, mac16), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_encode_tail(&w, &big, NULL), GP11_ERR_BAD_ARG, NULL);
    assert_int_equal(w.len, 0);
    expect_err(gp11_hs_encode_init(NULL, &i), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_encode_init(&w, NULL), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_encode_accept_core(&w, NULL), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_encode_finish_core(&w, NULL), GP11_ERR_BAD_ARG, NULL);
    expect_err(gp11_hs_encode_error(NULL, &e), GP11_ERR_BAD_ARG, NULL);
    make_init(&i, GP11_GROUP_P256);
    i.target = view(NULL, 5);
    expect_err(gp11_hs_encode_init(&w, &i), GP11_ERR_BAD_ARG, "target");
    i.target = big;
    expect_err(gp11_hs_encode_init(&w, &i), GP11_ERR_BAD_ARG, "target");
    i.target = view(target_text, strlen(target_text));
    i.n_profiles = 17;
    expect_err(gp11_hs_encode_init(&w, &i), GP11_ERR_BAD_ARG, "profiles");
    make_accept(&a, GP11_GROUP_P256, 1);
    a.n_certs = 5;
    expect_err(gp11_hs_encode_accept_core(&w, &a), GP11_ERR_BAD_ARG, "n_certs");
    a.n_certs = 1;
    a.certs[0] = big;
    expect_err(gp11_hs_encode_accept_core(&w, &a), GP11_ERR_BAD_ARG, "cert");
    make_finish(&f, 1);
    f.n_certs = 5;
    expect_err(gp11_hs_encode_finish_core(&w, &f), GP11_ERR_BAD_ARG, "n_certs");
    assert_int_equal(w.len, 0);

    {
        struct gp11_hs_init d;
        struct gp11_buf in = {NULL, 4};

        expect_err(gp11_hs_decode_init(NULL, &d), GP11_ERR_BAD_ARG, NULL);
        expect_err(gp11_hs_decode_init(&in, &d), GP11_ERR_BAD_ARG, NULL);
        in.len = 0;
        expect_err(gp11_hs_decode_init(&in, NULL), GP11_ERR_BAD_ARG, NULL);
        expect_err(gp11_hs_decode_init(&in, &d), GP11_ERR_TOKEN_MALFORMED,
                   "field TOK_ID at offset 0 needs 2 bytes, only 0 left");
    }
}

static void test_point_len(void **state)
{
    (void)state;
    assert_int_equal(gp11_point_len(GP11_GROUP_P256), 65);
    assert_int_equal(gp11_point_len(GP11_GROUP_P384), 97);
    assert_int_equal(gp11_point_len(0), 0);
    assert_int_equal(gp11_point_len(3), 0);
    assert_int_equal(gp11_point_len(255), 0);
}

static void test_mech_oid(void **state)
{
    const gss_OID_desc *a = gp11_mech_oid(), *b = gp11_mech_oid();
    gss_OID_desc krb5 = {9, (void *)krb5_oid};
    gss_OID_desc copy;
    uint8_t bytes[33];

    (void)state;
    assert_non_null(a);
    assert_ptr_equal(a, b);
    if (strcmp(GP11_MECH_OID, DEFAULT_OID_TEXT) == 0) {
        assert_int_equal(a->length, sizeof(default_oid));
        assert_memory_equal(a->elements, default_oid, sizeof(default_oid));
    }
    memcpy(bytes, a->elements, a->length < 33 ? a->length : 33);
    copy.length = a->length;
    copy.elements = bytes;
    assert_true(gp11_oid_equal(a, &copy));
    assert_true(gp11_oid_equal(a, a));
    assert_true(gp11_oid_equal(NULL, NULL));
    assert_false(gp11_oid_equal(a, NULL));
    assert_false(gp11_oid_equal(NULL, a));
    assert_false(gp11_oid_equal(a, &krb5));
    copy.length--;
    assert_false(gp11_oid_equal(a, &copy));
    copy.length++;
    bytes[copy.length - 1] ^= 1;
    assert_false(gp11_oid_equal(a, &copy));
}

/* Encodes text and compares with want (NULL: must be refused). */
static void dotted(const char *text, const void *want, size_t want_len)
{
    uint8_t out[GP11_OID_MAX_LEN];
    size_t n = gp11_oid_from_dotted(text, out, sizeof(out));

    if (want == NULL) {
        if (n != 0)
            fail_msg("\"%s\" accepted", text);
        return;
    }
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, want_len);
}

static void test_oid_from_dotted(void **state)
{
    uint8_t small[8];

    (void)state;
    dotted(DEFAULT_OID_TEXT, default_oid, sizeof(default_oid));
    dotted("1.2.840.113554.1.2.2", krb5_oid, sizeof(krb5_oid));
    dotted("1.3.6.1.5.5.2", "\x2b\x06\x01\x05\x05\x02", 6);
    dotted("2.999.3", "\x88\x37\x03", 3);
    dotted("0.0", "\x00", 1);
    dotted("1.39", "\x4f", 1);
    dotted("1.2.127.128.16383.16384", "\x2a\x7f\x81\x00\xff\x7f\x81\x80\x00",
           9);
    dotted("1.2.18446744073709551615",
           "\x2a\x81\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11);
    dotted("1.2.18446744073709551616", NULL, 0);
    dotted("", NULL, 0);
    dotted("1", NULL, 0);
    dotted("1.", NULL, 0);
    dotted("3.1", NULL, 0);
    dotted("1.40", NULL, 0);
    dotted("0.40", NULL, 0);
    dotted("1..2", NULL, 0);
    dotted("1.2.", NULL, 0);
    dotted(".1.2", NULL, 0);
    dotted("01.2", NULL, 0);
    dotted("1.02", NULL, 0);
    dotted("1.2.x", NULL, 0);
    dotted("1.2 ", NULL, 0);
    dotted("1.-2", NULL, 0);
    assert_int_equal(gp11_oid_from_dotted(NULL, small, sizeof(small)), 0);
    assert_int_equal(
        gp11_oid_from_dotted("1.2.840.113554.1.2.2", small, sizeof(small)), 0);
    assert_int_equal(gp11_oid_from_dotted("1.2.840.113554.1.2.2", small, 0), 0);
}

static void test_reader(void **state)
{
    static const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05,
                                   0x06, 0x07, 0x00, 0x02, 0xaa};
    struct gp11_rbuf r;
    struct gp11_buf b;
    uint8_t out[4];

    (void)state;
    gp11_rd_init(&r, data, sizeof(data));
    assert_int_equal(gp11_rd_u8(&r, "a"), 0x01);
    assert_int_equal(gp11_rd_u16(&r, "b"), 0x0203);
    assert_int_equal(gp11_rd_u32(&r, "c"), 0x04050607);
    assert_int_equal(gp11_rd_left(&r), 3);
    b = gp11_rd_opaque16(&r, "d"); /* says 2, only 1 left */
    assert_false(gp11_rd_ok(&r));
    assert_int_equal(b.len, 0);
    assert_non_null(b.data);
    /* Sticky: a read that would fit still returns nothing. */
    assert_int_equal(gp11_rd_u8(&r, "e"), 0);
    memset(out, 0x55, sizeof(out));
    gp11_rd_bytes(&r, out, sizeof(out), "f");
    assert_memory_equal(out, "\0\0\0\0", 4);
    gp11_rd_check(&r, false, "g", "is bad");
    gp11_rd_end(&r);
    expect_err(gp11_rd_status(&r, GP11_ERR_TOKEN_MALFORMED, "test"),
               GP11_ERR_TOKEN_MALFORMED,
               "test: field d at offset 9 needs 2 bytes, only 1 left");

    gp11_rd_init(&r, data, sizeof(data));
    gp11_rd_u16(&r, "a");
    gp11_rd_check(&r, true, "a", "is bad");
    assert_true(gp11_rd_ok(&r));
    b = gp11_rd_opaque8(&r, "b");
    assert_int_equal(b.len, 3);
    assert_ptr_equal(b.data, data + 3);
    gp11_rd_check(&r, false, "b", "is bad");
    gp11_rd_check(&r, false, "c", "is worse");
    expect_err(gp11_rd_status(&r, GP11_ERR_TOKEN_MALFORMED, "test"),
               GP11_ERR_TOKEN_MALFORMED, "test: field b at offset 2 is bad");

    gp11_rd_init(&r, data, sizeof(data));
    b = gp11_rd_view(&r, 8, "a");
    assert_int_equal(b.len, 8);
    gp11_rd_end(&r);
    expect_err(gp11_rd_status(&r, GP11_ERR_TOKEN_MALFORMED, "test"),
               GP11_ERR_TOKEN_MALFORMED, "test: 2 trailing bytes at offset 8");

    gp11_rd_init(&r, NULL, 5);
    assert_int_equal(gp11_rd_left(&r), 0);
    b = gp11_rd_view(&r, 0, "a");
    assert_non_null(b.data);
    gp11_rd_end(&r);
    assert_ok(gp11_rd_status(&r, GP11_ERR_TOKEN_MALFORMED, "test"));
    gp11_rd_u8(&r, NULL);
    expect_err(gp11_rd_status(&r, GP11_ERR_TOKEN_MALFORMED, "test"),
               GP11_ERR_TOKEN_MALFORMED, "(unnamed)");
}

static void test_writer(void **state)
{
    static uint8_t big[70000];
    struct gp11_wbuf w;

    (void)state;
    gp11_wr_init(&w);
    assert_ok(gp11_wr_status(&w, "nothing"));
    gp11_wr_bytes(&w, NULL, 0);
    assert_null(w.data);
    gp11_wr_u8(&w, 0x01);
    gp11_wr_u16(&w, 0x0203);
    gp11_wr_u32(&w, 0x04050607);
    gp11_wr_opaque8(&w, "\xaa", 1);
    gp11_wr_opaque16(&w, NULL, 0);
    assert_ok(gp11_wr_status(&w, "test"));
    assert_int_equal(w.len, 11);
    assert_memory_equal(w.data, "\x01\x02\x03\x04\x05\x06\x07\x01\xaa\x00\x00",
                        11);
    /* Growth past the first allocation keeps the bytes. */
    gp11_wr_opaque16(&w, big, 65535);
    gp11_wr_bytes(&w, big, sizeof(big));
    assert_int_equal(w.len, 11 + 2 + 65535 + sizeof(big));
    assert_memory_equal(w.data, "\x01\x02\x03\x04\x05\x06\x07\x01\xaa", 9);
    assert_memory_equal(w.data + 11, "\xff\xff", 2);
    /* Sticky failure: a too-long opaque stops all later writes. */
    gp11_wr_opaque8(&w, big, 256);
    assert_false(gp11_wr_ok(&w));
    gp11_wr_u8(&w, 1);
    assert_int_equal(w.len, 11 + 2 + 65535 + sizeof(big));
    expect_err(gp11_wr_status(&w, "test"), GP11_ERR_BAD_ARG, "too long");
    gp11_wr_free(&w);
    assert_null(w.data);
    assert_int_equal(w.len, 0);
    gp11_wr_opaque16(&w, big, 65536);
    expect_err(gp11_wr_status(&w, "test"), GP11_ERR_BAD_ARG, NULL);
    gp11_wr_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_init),
        cmocka_unit_test(test_roundtrip_accept),
        cmocka_unit_test(test_roundtrip_finish),
        cmocka_unit_test(test_roundtrip_error),
        cmocka_unit_test(test_init_layout),
        cmocka_unit_test(test_raw_writers_agree),
        cmocka_unit_test(test_frame_lengths),
        cmocka_unit_test(test_unframe_errors),
        cmocka_unit_test(test_frame_args),
        cmocka_unit_test(test_tok_id),
        cmocka_unit_test(test_roundtrip_confirm),
        cmocka_unit_test(test_flip_init),
        cmocka_unit_test(test_flip_accept),
        cmocka_unit_test(test_flip_finish),
        cmocka_unit_test(test_flip_error),
        cmocka_unit_test(test_flip_confirm),
        cmocka_unit_test(test_truncate_init),
        cmocka_unit_test(test_truncate_accept),
        cmocka_unit_test(test_truncate_finish),
        cmocka_unit_test(test_truncate_error),
        cmocka_unit_test(test_truncate_confirm),
        cmocka_unit_test(test_unexpected),
        cmocka_unit_test(test_rules_init),
        cmocka_unit_test(test_rules_accept),
        cmocka_unit_test(test_rules_finish),
        cmocka_unit_test(test_encode_args),
        cmocka_unit_test(test_point_len),
        cmocka_unit_test(test_mech_oid),
        cmocka_unit_test(test_oid_from_dotted),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_writer),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
