/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the acceptor's state machine (core/ctx_accept.c)
 * fed whole legs: a fresh acceptor context gets an INIT, and if it
 * answers with ACCEPT, a FINISH, on the SoftHSM2 token; its answer to
 * FINISH (CONFIRM or ERROR) goes to the initiator in real mode.
 *
 * Input: the mode byte (fuzz_legs.h), then
 *   raw:  u16 length, the INIT token, then the FINISH token (the rest);
 *   real: a real initiator makes INIT and, from the acceptor's ACCEPT,
 *         FINISH; u16 length, edits (u16 offset, u8 xor) to INIT, then
 *         edits to FINISH (the rest). An ERROR token the acceptor sends
 *         goes back to the initiator.
 *
 * Invariants (real tokens): an unchanged handshake that should complete
 * does, on both sides, and the acceptor reports a peer name; a handshake
 * in which an edit changed INIT or FINISH never completes on the side that
 * received the changed token's consequences: the initiator refuses an
 * ACCEPT made for a changed INIT, the acceptor refuses a changed FINISH.
 * What the acceptor answers FINISH with goes to the initiator: its CONFIRM
 * completes the initiator exactly when the acceptor completed; its ERROR
 * never does.
 */
#include "fuzz_legs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    gss_ctx_id_t ini, acc;

    (void)argc;
    (void)argv;
    fz_token_setup();
    /* The set-up must work before any input means anything. */
    fz_establish(fz_target_ec, BASE_FLAGS, &ini, &acc);
    fz_delete(&ini);
    fz_delete(&acc);
    return 0;
}

/* Raw legs: the input's INIT, then its FINISH if the acceptor goes on. */
static void raw_legs(const struct legs *l, struct fz_in *in)
{
    gss_buffer_desc out = {0, NULL};
    gss_ctx_id_t acc = GSS_C_NO_CONTEXT;
    gss_name_t src = GSS_C_NO_NAME;
    const uint8_t *init, *finish;
    size_t init_len, finish_len;
    OM_uint32 minor, major;

    init = fz_piece16(in, &init_len);
    finish = fz_rest(in, &finish_len);
    major = leg_accept(l, &acc, init, init_len, &out, &src, &minor);
    free(out.value);
    out = (gss_buffer_desc){0, NULL};
    if (major == GSS_S_CONTINUE_NEEDED) {
        major = leg_accept(l, &acc, finish, finish_len, &out, &src, &minor);
        if (major == GSS_S_COMPLETE)
            FZ_FAIL("an acceptor completed on a FINISH the input made up");
        free(out.value);
    } else if (acc != GSS_C_NO_CONTEXT) {
        FZ_FAIL("a refused INIT left a context (major 0x%x)", major);
    }
    release_name(&src);
    fz_delete(&acc);
}

/* Real legs, edited by the input. */
static void real_legs(const struct legs *l, struct fz_in *in)
{
    gss_buffer_desc init = {0, NULL}, accept = {0, NULL}, finish = {0, NULL};
    gss_buffer_desc last = {0, NULL}, none = {0, NULL};
    gss_ctx_id_t ini = GSS_C_NO_CONTEXT, acc = GSS_C_NO_CONTEXT;
    gss_name_t src = GSS_C_NO_NAME;
    OM_uint32 minor, imajor, amajor;
    struct fz_in edits1;
    size_t n;
    bool changed1, changed2 = false;

    edits1.p = fz_piece16(in, &n);
    edits1.left = n;
    imajor = leg_init(l, &ini, NULL, 0, &init, &minor);
    if (imajor != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("init_sec_context (INIT)", imajor, minor);
    changed1 = fz_edit(&edits1, init.value, init.length);
    amajor =
        leg_accept(l, &acc, init.value, init.length, &accept, &src, &minor);
    if (GSS_ERROR(amajor)) {
        if (!changed1 && l->expect_ok)
            fz_gss_fail("an acceptor refused a real INIT", amajor, minor);
        if (accept.length != 0) {
            /* The ERROR token goes to the initiator, who must stop. */
            imajor =
                leg_init(l, &ini, accept.value, accept.length, &last, &minor);
            if (!GSS_ERROR(imajor))
                FZ_FAIL("an initiator went on after the acceptor's ERROR");
        }
        goto done;
    }
    imajor = leg_init(l, &ini, accept.value, accept.length, &finish, &minor);
    if (GSS_ERROR(imajor)) {
        if (!changed1 && l->expect_ok)
            fz_gss_fail("an initiator refused a real ACCEPT", imajor, minor);
        goto done;
    }
    if (changed1)
        FZ_FAIL("an initiator accepted an ACCEPT made for a changed INIT");
    if (imajor != GSS_S_CONTINUE_NEEDED)
        FZ_FAIL("an initiator completed before the acceptor's CONFIRM");
    changed2 = fz_edit(in, finish.value, finish.length);
    amajor =
        leg_accept(l, &acc, finish.value, finish.length, &last, &src, &minor);
    if (amajor == GSS_S_COMPLETE && changed2)
        FZ_FAIL("an acceptor completed with a changed FINISH");
    if (amajor != GSS_S_COMPLETE && !changed2 && l->expect_ok)
        fz_gss_fail("an acceptor refused a real FINISH", amajor, minor);
    if (amajor == GSS_S_COMPLETE && src == GSS_C_NO_NAME)
        FZ_FAIL("an established acceptor reports no peer name");
    if (amajor == GSS_S_COMPLETE && last.length == 0)
        FZ_FAIL("an established acceptor sent no CONFIRM");
    if (last.length != 0) {
        /* CONFIRM or the acceptor's MACed ERROR, to the initiator. */
        imajor = leg_init(l, &ini, last.value, last.length, &none, &minor);
        if (amajor == GSS_S_COMPLETE && imajor != GSS_S_COMPLETE)
            fz_gss_fail("an initiator refused the acceptor's CONFIRM", imajor,
                        minor);
        if (amajor != GSS_S_COMPLETE && !GSS_ERROR(imajor))
            FZ_FAIL("an initiator went on after the acceptor's ERROR");
        if (none.length != 0)
            FZ_FAIL("an initiator answered CONFIRM with a token");
    }
done:
    release_name(&src);
    free(init.value);
    free(accept.value);
    free(finish.value);
    free(last.value);
    free(none.value);
    fz_delete(&ini);
    fz_delete(&acc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct legs l;

    legs_from_mode(fz_u8(&in), &l);
    if (l.real)
        real_legs(&l, &in);
    else
        raw_legs(&l, &in);
    gp11_err_clear();
    return 0;
}
