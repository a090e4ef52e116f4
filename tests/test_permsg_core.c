/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-message core (core/msg_core.c) called directly, as the SSPI
 * face will call it, on contexts established in-process on the suite's
 * token (tests/fuzz/fuzz_ctx.c): caller-assigned sequence numbers
 * (protocol.md 3.5: a number not above every number used is refused
 * before anything is computed; the implicit counter continues above the
 * highest), the receiver's expected number, and an in-place sealed WRAP
 * over SSPI's layout (TOKEN = header and tag first, DATA encrypted in
 * place) that gss_unwrap accepts as one token; and the receive window
 * at a peer's SND_SEQ of 2^64 - 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ctx.h"
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_error.h"
#include "gp11_msg_core.h"

static gss_ctx_id_t ini, acc;

/* The big-endian SND_SEQ of a token. */
static uint64_t tok_seq(const uint8_t *t)
{
    uint64_t v = 0;

    for (int i = 8; i < 16; i++)
        v = v << 8 | t[i];
    return v;
}

/* A MIC of msg by the initiator with the given number into tok[32]. */
static uint32_t mic(const uint8_t *msg, size_t len, uint8_t tok[32],
                    struct gp11_mc_seq *seq)
{
    struct gp11_span s[2] = {{GP11_SPAN_DATA, msg, NULL, len},
                             {GP11_SPAN_HEADER, NULL, tok, 32}};

    return gp11_mc_protect((struct gp11_ctx *)ini, GP11_MC_MIC, false, 0, s, 2,
                           seq);
}

/* The acceptor checks a MIC, expecting seq (NULL: any number). */
static uint32_t check(const uint8_t *msg, size_t len, const uint8_t tok[32],
                      struct gp11_mc_seq *seq, struct gp11_mc_result *r)
{
    struct gp11_span s[2] = {{GP11_SPAN_DATA, msg, NULL, len},
                             {GP11_SPAN_HEADER, tok, NULL, 32}};

    return gp11_mc_check((struct gp11_ctx *)acc, GP11_MC_MIC, s, 2, seq, r);
}

static void explicit_numbers(void **state)
{
    struct gp11_ctx *ic;
    const uint8_t msg[] = "datagram";
    uint8_t tok[32], before[32];
    struct gp11_mc_seq seq = {true, 5};
    struct gp11_mc_result r;
    uint64_t used;

    (void)state;
    fz_establish(fz_target_ec, GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG, &ini,
                 &acc);
    ic = (struct gp11_ctx *)ini;
    assert_int_equal(mic(msg, sizeof(msg), tok, &seq), GP11_OK);
    assert_int_equal(tok_seq(tok), 5);
    assert_int_equal(check(msg, sizeof(msg), tok, &seq, &r), GP11_OK);
    assert_int_equal(r.window, GP11_SEQ_GAP); /* 0..4 never came */
    /* Reuse and numbers below the highest: refused, nothing consumed
     * (the token buffer untouched, no message counted). */
    used = ic->usage[0][0].messages;
    memcpy(before, tok, sizeof(tok));
    for (uint64_t n = 0; n <= 5; n++) {
        seq = (struct gp11_mc_seq){true, n};
        assert_int_equal(mic(msg, sizeof(msg), tok, &seq), GP11_ERR_SEQ_REUSED);
    }
    assert_memory_equal(tok, before, sizeof(tok));
    assert_int_equal(ic->usage[0][0].messages, used);
    assert_int_equal(ic->send_seq, 6);
    /* The implicit counter continues above the highest number used. */
    assert_int_equal(mic(msg, sizeof(msg), tok, NULL), GP11_OK);
    assert_int_equal(tok_seq(tok), 6);
    seq = (struct gp11_mc_seq){true, 10};
    assert_int_equal(mic(msg, sizeof(msg), tok, &seq), GP11_OK);
    seq = (struct gp11_mc_seq){false, 0};
    assert_int_equal(mic(msg, sizeof(msg), before, &seq), GP11_OK);
    assert_int_equal(tok_seq(before), 11);
    assert_int_equal(seq.value, 11);
    /* The receiver given another number refuses the verified token. */
    seq = (struct gp11_mc_seq){true, 9};
    assert_int_equal(check(msg, sizeof(msg), tok, &seq, &r),
                     GP11_ERR_SEQ_MISMATCH);
    seq = (struct gp11_mc_seq){true, 10};
    assert_int_equal(check(msg, sizeof(msg), tok, &seq, &r), GP11_OK);
    fz_delete(&ini);
    fz_delete(&acc);
}

/* SSPI's EncryptMessage layout: TOKEN (header || tag) then DATA, sealed in
 * place; the concatenation is a WRAP token gss_unwrap opens. */
static void in_place_seal_is_a_wrap_token(void **state)
{
    uint8_t wire[32 + 100], data[100], back_data[100];
    struct gp11_mc_seq seq = {true, 42};
    struct gp11_mc_result r;
    gss_buffer_desc in = {sizeof(wire), wire}, out = {0, NULL};
    OM_uint32 minor, major;
    int conf = 0;

    (void)state;
    fz_establish(fz_target_ec, GSS_C_REPLAY_FLAG, &ini, &acc);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    memcpy(wire + 32, data, sizeof(data));
    {
        struct gp11_span s[2] = {
            {GP11_SPAN_HEADER, NULL, wire, 32},
            {GP11_SPAN_DATA, wire + 32, wire + 32, sizeof(data)}};

        assert_int_equal(gp11_mc_protect((struct gp11_ctx *)ini, GP11_MC_WRAP,
                                         true, 0, s, 2, &seq),
                         GP11_OK);
    }
    assert_memory_not_equal(wire + 32, data, sizeof(data));
    assert_int_equal(tok_seq(wire), 42);
    /* The receiver in place too, with the number it was given. */
    memcpy(back_data, wire + 32, sizeof(back_data));
    {
        struct gp11_span s[2] = {
            {GP11_SPAN_HEADER, wire, NULL, 32},
            {GP11_SPAN_DATA, back_data, back_data, sizeof(back_data)}};

        assert_int_equal(
            gp11_mc_check((struct gp11_ctx *)acc, GP11_MC_WRAP, s, 2, &seq, &r),
            GP11_OK);
    }
    assert_true(r.sealed);
    assert_memory_equal(back_data, data, sizeof(data));
    /* The same bytes through gss_unwrap: a duplicate now, but verified. */
    major = gp11_gss_unwrap(&minor, acc, &in, &out, &conf, NULL);
    assert_int_equal(major, GSS_S_COMPLETE | GSS_S_DUPLICATE_TOKEN);
    assert_true(conf);
    assert_int_equal(out.length, sizeof(data));
    assert_memory_equal(out.value, data, sizeof(data));
    free(out.value);
    fz_delete(&ini);
    fz_delete(&acc);
}

/*
 * Issue 9 item 10: a peer's verified SND_SEQ of 2^64 - 1 (an honest
 * sender never uses it; a peer assigning numbers could) tops the window.
 * The token is made here with the initiator's send key, as such a peer
 * would; afterwards its replay is a duplicate and SND_SEQ 0 is old (the
 * window used to wrap to "expected next = 0" and accept both as new).
 */
static void window_top_from_the_wire(void **state)
{
    struct gp11_ctx *ic;
    const uint8_t msg[] = "top";
    uint8_t top[32], low[32], a[16 + 9 + sizeof(msg)], iv[12];
    gss_buffer_desc m = {sizeof(msg), (void *)msg}, t = {32, top};
    gss_buffer_desc tl = {32, low};
    struct gp11_mc_seq seq = {false, 0};
    OM_uint32 minor;

    (void)state;
    fz_establish(fz_target_ec, GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG, &ini,
                 &acc);
    ic = (struct gp11_ctx *)ini;
    assert_int_equal(mic(msg, sizeof(msg), low, &seq), GP11_OK);
    assert_int_equal(tok_seq(low), 0);
    /* header: MIC, from the initiator, QOP 0, SND_SEQ 2^64 - 1 */
    memcpy(top, "\x0b\x01\x00\xff\x00\x00\x00\x00", 8);
    memset(top + 8, 0xff, 8);
    memcpy(a, top, 16);
    a[16] = 1; /* one data run */
    memset(a + 17, 0, 7);
    a[24] = sizeof(msg);
    memcpy(a + 25, msg, sizeof(msg));
    memcpy(iv, "\x00\x01\x00\x00", 4);
    memset(iv + 4, 0xff, 8);
    assert_int_equal(gp11_aead_encrypt(ic->rt->tok, GP11_AEAD_AES_GCM,
                                       &ic->keys.send, iv, a, sizeof(a), NULL,
                                       0, top + 16),
                     GP11_OK);
    assert_int_equal(gp11_gss_verify_mic(&minor, acc, &m, &t, NULL),
                     GSS_S_COMPLETE | GSS_S_GAP_TOKEN);
    assert_int_equal(gp11_gss_verify_mic(&minor, acc, &m, &t, NULL),
                     GSS_S_COMPLETE | GSS_S_DUPLICATE_TOKEN);
    assert_int_equal(gp11_gss_verify_mic(&minor, acc, &m, &tl, NULL),
                     GSS_S_COMPLETE | GSS_S_OLD_TOKEN);
    fz_delete(&ini);
    fz_delete(&acc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(explicit_numbers),
        cmocka_unit_test(in_place_seal_is_a_wrap_token),
        cmocka_unit_test(window_top_from_the_wire),
    };

    fz_token_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
