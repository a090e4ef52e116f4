/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the per-message core's number rules without a token: the
 * receive window at the top of the sequence space (issue 9 item 10), the
 * sender's rule for caller-assigned numbers (protocol.md 3.5) and the
 * block count of the usage limits (3.6) and their [policy] keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <gssapi/gssapi.h>

#include "gp11_config.h"
#include "gp11_error.h"
#include "gp11_msg_core.h"
#include "gp11_seqwin.h"

/* A verified 2^64 - 1 is the top of the window: nothing after it is
 * "expected next" (the window used to wrap to 0 and accept everything as
 * new). */
static void window_at_the_top(void **state)
{
    struct gp11_seqwin w;

    (void)state;
    gp11_seqwin_init(&w, GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    assert_int_equal(gp11_seqwin_check(&w, UINT64_MAX - 1), GP11_SEQ_GAP);
    assert_int_equal(gp11_seqwin_check(&w, UINT64_MAX), GP11_SEQ_OK);
    assert_int_equal(gp11_seqwin_check(&w, UINT64_MAX), GP11_SEQ_DUPLICATE);
    assert_int_equal(gp11_seqwin_check(&w, UINT64_MAX - 1), GP11_SEQ_DUPLICATE);
    assert_int_equal(gp11_seqwin_check(&w, UINT64_MAX - 2), GP11_SEQ_UNSEQ);
    assert_int_equal(gp11_seqwin_check(&w, 0), GP11_SEQ_OLD);
    assert_int_equal(gp11_seqwin_check(&w, 5), GP11_SEQ_OLD);
    /* Replay only: duplicates still caught at the top. */
    gp11_seqwin_init(&w, GSS_C_REPLAY_FLAG);
    assert_int_equal(gp11_seqwin_check(&w, UINT64_MAX), GP11_SEQ_OK);
    assert_int_equal(gp11_seqwin_check(&w, UINT64_MAX), GP11_SEQ_DUPLICATE);
    assert_int_equal(gp11_seqwin_check(&w, 0), GP11_SEQ_OLD);
}

/* The ordinary start of the window is unchanged. */
static void window_from_zero(void **state)
{
    struct gp11_seqwin w;

    (void)state;
    gp11_seqwin_init(&w, GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    assert_int_equal(gp11_seqwin_check(&w, 0), GP11_SEQ_OK);
    assert_int_equal(gp11_seqwin_check(&w, 1), GP11_SEQ_OK);
    assert_int_equal(gp11_seqwin_check(&w, 3), GP11_SEQ_GAP);
    assert_int_equal(gp11_seqwin_check(&w, 2), GP11_SEQ_UNSEQ);
    assert_int_equal(gp11_seqwin_check(&w, 2), GP11_SEQ_DUPLICATE);
    assert_int_equal(gp11_seqwin_check(&w, 200), GP11_SEQ_GAP);
    assert_int_equal(gp11_seqwin_check(&w, 200 - 64), GP11_SEQ_OLD);
    assert_int_equal(gp11_seqwin_check(&w, 200 - 63), GP11_SEQ_UNSEQ);
    gp11_seqwin_init(&w, GSS_C_REPLAY_FLAG);
    assert_int_equal(gp11_seqwin_check(&w, 7), GP11_SEQ_OK);
    gp11_seqwin_init(&w, 0);
    assert_int_equal(gp11_seqwin_check(&w, 7), GP11_SEQ_OK);
    assert_int_equal(gp11_seqwin_check(&w, 7), GP11_SEQ_OK);
}

/* protocol.md 3.5: an explicit number must be above every number used;
 * the implicit counter continues above the highest. */
static void explicit_numbers(void **state)
{
    struct gp11_mc_seq imp = {false, 0}, ex = {true, 0};
    uint64_t next = 0, use = 99;

    (void)state;
    assert_int_equal(gp11_mc_seq_take(next, &imp, &use), GP11_OK);
    assert_int_equal(use, 0);
    next = use + 1;
    ex.value = 10; /* a gap is fine */
    assert_int_equal(gp11_mc_seq_take(next, &ex, &use), GP11_OK);
    assert_int_equal(use, 10);
    next = use + 1;
    use = 99;
    ex.value = 10; /* reuse */
    assert_int_equal(gp11_mc_seq_take(next, &ex, &use), GP11_ERR_SEQ_REUSED);
    assert_int_equal(use, 99);
    ex.value = 5; /* below the highest used */
    assert_int_equal(gp11_mc_seq_take(next, &ex, &use), GP11_ERR_SEQ_REUSED);
    ex.value = 0; /* the implicit number already used */
    assert_int_equal(gp11_mc_seq_take(next, &ex, &use), GP11_ERR_SEQ_REUSED);
    assert_int_equal(gp11_mc_seq_take(next, &imp, &use), GP11_OK);
    assert_int_equal(use, 11); /* above the highest, not 1 */
    assert_int_equal(gp11_mc_seq_take(next, NULL, &use), GP11_OK);
    assert_int_equal(use, 11);
    ex.value = 11;
    assert_int_equal(gp11_mc_seq_take(next, &ex, &use), GP11_OK);
    ex.value = UINT64_MAX;
    assert_int_equal(gp11_mc_seq_take(next, &ex, &use), GP11_ERR_SEQ_EXHAUSTED);
    assert_int_equal(gp11_mc_seq_take(UINT64_MAX, &imp, &use),
                     GP11_ERR_SEQ_EXHAUSTED);
}

/* ceil(|A| / 16) + ceil(|P| / 16) + 1. */
static void block_count(void **state)
{
    (void)state;
    assert_int_equal(gp11_mc_blocks(16, 0), 2);
    assert_int_equal(gp11_mc_blocks(26, 0), 3);
    assert_int_equal(gp11_mc_blocks(25, 200), 16);
    assert_int_equal(gp11_mc_blocks(32, 16), 4);
    assert_int_equal(gp11_mc_blocks(0, 1), 2);
}

/* Parses a configuration whose [policy] section is policy. */
static uint32_t parse_policy(const char *policy, struct gp11_config **cfg)
{
    char text[512];

    snprintf(text, sizeof(text),
             "[token]\nmodule = /usr/lib/softhsm/libsofthsm2.so\n"
             "uri = pkcs11:token=t\n[policy]\n%s",
             policy);
    *cfg = NULL;
    return gp11_config_parse(NULL, text, strlen(text), cfg);
}

/* The [policy] usage-limit keys: numbers from 1 to 10^18, unset = 0. */
static void limit_keys(void **state)
{
    static const char *bad[] = {
        "aead-message-limit = 0\n",
        "aead-block-limit = -1\n",
        "forgery-limit = 12x\n",
        "forgery-limit = \n",
        "aead-message-limit = 1000000000000000001\n",
        "aead-block-limit = 18446744073709551616\n",
    };
    struct gp11_config *cfg;

    (void)state;
    assert_int_equal(parse_policy("", &cfg), GP11_OK);
    assert_true(cfg->aead_message_limit == 0 && cfg->aead_block_limit == 0 &&
                cfg->forgery_limit == 0);
    gp11_config_free(cfg);
    assert_int_equal(parse_policy("aead-message-limit = 4\n"
                                  "aead-block-limit = 1000000000000000000\n"
                                  "forgery-limit = 2\n",
                                  &cfg),
                     GP11_OK);
    assert_true(cfg->aead_message_limit == 4);
    assert_true(cfg->aead_block_limit == UINT64_C(1000000000000000000));
    assert_true(cfg->forgery_limit == 2);
    gp11_config_free(cfg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse_policy(bad[i], &cfg), GP11_ERR_CONFIG_VALUE);
        assert_null(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_at_the_top), cmocka_unit_test(window_from_zero),
        cmocka_unit_test(explicit_numbers),  cmocka_unit_test(block_count),
        cmocka_unit_test(limit_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
