/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the two handshake-leg targets (fuzz_acceptor_legs.c,
 * fuzz_initiator_legs.c) share: the choices of their first input byte and
 * the calls of one leg through the internal gp11_gss_* functions.
 *
 * Byte 0 ("mode"): bit 0 real tokens edited by the input (else the input
 * is the token); bit 1 the acceptor uses GSS_C_NO_CREDENTIAL (else the
 * credential acquired at start-up); bits 2-3 the initiator's flags:
 * mutual+conf+integ, the same with replay+sequence, the same with anon,
 * none; bit 4 the target rsa@localhost (RSA-PSS; else host@localhost,
 * EC P-256); bit 5 the initiator has channel bindings; bit 6 the acceptor
 * has them; bit 7 the two sides' bindings differ.
 */
#ifndef GP11_FUZZ_LEGS_H
#define GP11_FUZZ_LEGS_H

#include "fuzz_ctx.h"
#include "fuzz_input.h"
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_names.h"
#include "gp11_error.h"

#define BASE_FLAGS (GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG)

/* One handshake's choices, from the mode byte. */
struct legs {
    bool real;
    gss_cred_id_t acred;
    OM_uint32 flags;
    gss_name_t target;
    gss_channel_bindings_t icb, acb;
    /* An unchanged handshake must complete (no anonymity, which the test
     * configuration refuses, and matching bindings). */
    bool expect_ok;
};

static struct gss_channel_bindings_struct cb_one = {
    0, {0, NULL}, 0, {0, NULL}, {11, (void *)"tls-unique1"}};
static struct gss_channel_bindings_struct cb_two = {
    0, {0, NULL}, 0, {0, NULL}, {11, (void *)"tls-unique2"}};

static void legs_from_mode(uint8_t mode, struct legs *l)
{
    static const OM_uint32 flags[4] = {
        BASE_FLAGS, BASE_FLAGS | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG,
        BASE_FLAGS | GSS_C_ANON_FLAG, 0};

    l->real = mode & 1;
    l->acred = mode & 2 ? GSS_C_NO_CREDENTIAL : fz_acred;
    l->flags = flags[(mode >> 2) & 3];
    l->target = mode & 0x10 ? fz_target_rsa : fz_target_ec;
    l->icb = mode & 0x20 ? &cb_one : GSS_C_NO_CHANNEL_BINDINGS;
    l->acb = mode & 0x40 ? (mode & 0x80 ? &cb_two : &cb_one)
                         : GSS_C_NO_CHANNEL_BINDINGS;
    /* An acceptor without bindings accepts any; one with bindings wants
     * the same from the initiator. */
    l->expect_ok = !(l->flags & GSS_C_ANON_FLAG) &&
                   (l->acb == GSS_C_NO_CHANNEL_BINDINGS || l->acb == l->icb);
}

/* One initiator call; *out gets the token it sends (may be empty). */
static OM_uint32 leg_init(const struct legs *l, gss_ctx_id_t *ctx,
                          const uint8_t *in, size_t in_len, gss_buffer_t out,
                          OM_uint32 *minor)
{
    gss_buffer_desc input = {in_len, (void *)in};

    return gp11_gss_init_sec_context(minor, fz_icred, ctx, l->target,
                                     GSS_C_NO_OID, l->flags, 0, l->icb, &input,
                                     NULL, out, NULL, NULL);
}

/* One acceptor call; *out gets its token, *src the peer's name. */
static OM_uint32 leg_accept(const struct legs *l, gss_ctx_id_t *ctx,
                            const uint8_t *in, size_t in_len, gss_buffer_t out,
                            gss_name_t *src, OM_uint32 *minor)
{
    gss_buffer_desc input = {in_len, (void *)in};
    OM_uint32 ret_flags = 0, time_rec = 0;
    gss_OID mech = GSS_C_NO_OID;

    return gp11_gss_accept_sec_context(minor, ctx, l->acred, &input, l->acb,
                                       src, &mech, out, &ret_flags, &time_rec,
                                       NULL);
}

/* Releases a peer name (GSS_C_NO_NAME allowed). */
static void release_name(gss_name_t *n)
{
    OM_uint32 minor;

    gp11_gss_release_name(&minor, n);
}

#endif
