/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Known answers for the channel-bindings hash of protocol.md 2.7
 * (gp11_ctx_cb_hash over struct gp11_bindings, shared by both faces).
 * Both peers hash with the same function, so a handshake test cannot see
 * a change of the bytes digested: these digests were computed with the
 * gss_channel_bindings_t version of the function before the engine/face
 * split (and agree with SHA-256 over the encoding of 2.7 written out by
 * hand), so the wire cannot change unnoticed. Links the core alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gp11_error.h"
#include "gp11_establish.h"

static const uint8_t ipv4[4] = {127, 0, 0, 1};
static const uint8_t ipv6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 0x01};
static const char app[] = "tls-server-end-point:\x01\x02\x03\xfe";

/* The bindings with every field set: AF_INET (2) and AF_INET6 (24). */
static struct gp11_bindings full(void)
{
    return (struct gp11_bindings){
        .initiator_addrtype = 2,
        .initiator_address = {ipv4, sizeof(ipv4)},
        .acceptor_addrtype = 24,
        .acceptor_address = {ipv6, sizeof(ipv6)},
        .application_data = {(const uint8_t *)app, sizeof(app) - 1},
    };
}

/* No bindings: 32 zero bytes (the acceptor then checks nothing). */
static void no_bindings(void **state)
{
    uint8_t h[GP11_CB_HASH_LEN], zero[GP11_CB_HASH_LEN] = {0};

    (void)state;
    memset(h, 0xa5, sizeof(h));
    assert_int_equal(gp11_ctx_cb_hash(NULL, h), GP11_OK);
    assert_memory_equal(h, zero, sizeof(h));
}

/* gp11_ctx_cb_hash of cb succeeds and gives want. */
static void assert_hash(const struct gp11_bindings *cb,
                        const uint8_t want[GP11_CB_HASH_LEN])
{
    uint8_t h[GP11_CB_HASH_LEN];

    assert_int_equal(gp11_ctx_cb_hash(cb, h), GP11_OK);
    assert_memory_equal(h, want, sizeof(h));
}

/* Bindings of zero types and empty strings still hash to a digest. */
static void empty_bindings(void **state)
{
    static const uint8_t want[GP11_CB_HASH_LEN] = {
        0xde, 0x47, 0xc9, 0xb2, 0x7e, 0xb8, 0xd3, 0x00, 0xdb, 0xb5, 0xf2,
        0xc3, 0x53, 0xe6, 0x32, 0xc3, 0x93, 0x26, 0x2c, 0xf0, 0x63, 0x40,
        0xc4, 0xfa, 0x7f, 0x1b, 0x40, 0xc4, 0xcb, 0xd3, 0x6f, 0x90};
    struct gp11_bindings cb = {0};

    (void)state;
    assert_hash(&cb, want);
}

/* Every field in its place: types, lengths and bytes. */
static void full_bindings(void **state)
{
    static const uint8_t want[GP11_CB_HASH_LEN] = {
        0x61, 0xb3, 0xc5, 0xc4, 0x63, 0xbe, 0x51, 0x66, 0x27, 0x54, 0xd1,
        0x09, 0xb3, 0x7f, 0x73, 0xbc, 0xaa, 0xd1, 0x3c, 0x33, 0x99, 0x60,
        0x20, 0x6c, 0xc6, 0x92, 0x6c, 0x29, 0xce, 0x02, 0x5b, 0x17};
    struct gp11_bindings cb = full();

    (void)state;
    assert_hash(&cb, want);
}

/* Application data only (what TLS channel bindings usually are). */
static void application_data_only(void **state)
{
    static const uint8_t want[GP11_CB_HASH_LEN] = {
        0x3d, 0xe8, 0x82, 0x93, 0x63, 0x71, 0x9d, 0x3e, 0x63, 0xc3, 0x26,
        0x38, 0xb4, 0xc3, 0x17, 0x2d, 0xd3, 0x12, 0xee, 0xde, 0x48, 0x52,
        0x25, 0xde, 0xbd, 0x2a, 0x78, 0xad, 0x6d, 0xb0, 0x04, 0x55};
    struct gp11_bindings cb = {
        .application_data = {(const uint8_t *)app, sizeof(app) - 1}};

    (void)state;
    assert_hash(&cb, want);
}

/* A string longer than opaque32 carries: refused, and the hash is zeros
 * only together with the error (never a silent "no bindings"). */
static void too_long_refused(void **state)
{
    struct gp11_bindings cb = full();
    uint8_t h[GP11_CB_HASH_LEN], zero[GP11_CB_HASH_LEN] = {0};

    (void)state;
    if (sizeof(size_t) <= 4)
        skip();
    /* The length is refused before any byte is read. */
    cb.acceptor_address.len = (size_t)UINT32_MAX + 1;
    assert_int_equal(gp11_ctx_cb_hash(&cb, h), GP11_ERR_INTERNAL);
    assert_memory_equal(h, zero, sizeof(h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_bindings),
        cmocka_unit_test(empty_bindings),
        cmocka_unit_test(full_bindings),
        cmocka_unit_test(application_data_only),
        cmocka_unit_test(too_long_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
