/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the initiator's state machine (provider/ctx_init.c)
 * fed a whole leg: an initiator context that sent a real INIT gets the
 * input as the acceptor's answer (ACCEPT or ERROR), on the SoftHSM2
 * token.
 *
 * Input: the mode byte (fuzz_legs.h), then
 *   raw:  the ACCEPT token (the rest);
 *   real: a real acceptor answers the INIT; edits (u16 offset, u8 xor) to
 *         its ACCEPT (the rest). If the initiator completes, its FINISH
 *         goes to the acceptor.
 *
 * Invariants: a made-up ACCEPT never completes the initiator (it cannot
 * carry the acceptor's signature over this INIT's nonce); a real ACCEPT
 * that no edit changed completes both sides when it should; a changed
 * ACCEPT never completes the initiator.
 */
#include "fuzz_legs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    gss_ctx_id_t ini, acc;

    (void)argc;
    (void)argv;
    fz_token_setup();
    fz_establish(fz_target_ec, BASE_FLAGS, &ini, &acc);
    fz_delete(&ini);
    fz_delete(&acc);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gss_buffer_desc init = {0, NULL}, accept = {0, NULL}, finish = {0, NULL};
    gss_buffer_desc last = {0, NULL};
    gss_ctx_id_t ini = GSS_C_NO_CONTEXT, acc = GSS_C_NO_CONTEXT;
    gss_name_t src = GSS_C_NO_NAME;
    struct fz_in in = {data, size};
    OM_uint32 minor, imajor, amajor = GSS_S_COMPLETE;
    const uint8_t *tok;
    size_t len;
    bool changed = false;
    struct legs l;

    legs_from_mode(fz_u8(&in), &l);
    imajor = leg_init(&l, &ini, NULL, 0, &init, &minor);
    if (imajor != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("init_sec_context (INIT)", imajor, minor);
    if (l.real) {
        amajor = leg_accept(&l, &acc, init.value, init.length, &accept, &src,
                            &minor);
        if (GSS_ERROR(amajor) && l.expect_ok)
            fz_gss_fail("an acceptor refused a real INIT", amajor, minor);
        if (accept.length == 0)
            goto done;
        changed = fz_edit(&in, accept.value, accept.length);
        tok = accept.value;
        len = accept.length;
    } else {
        tok = fz_rest(&in, &len);
    }
    imajor = leg_init(&l, &ini, tok, len, &finish, &minor);
    if (imajor == GSS_S_COMPLETE && !l.real)
        FZ_FAIL("an initiator completed on an ACCEPT the input made up");
    if (imajor == GSS_S_COMPLETE && changed)
        FZ_FAIL("an initiator completed on a changed ACCEPT");
    if (GSS_ERROR(imajor)) {
        if (l.real && !changed && !GSS_ERROR(amajor))
            fz_gss_fail("an initiator refused a real ACCEPT", imajor, minor);
        if (ini != GSS_C_NO_CONTEXT)
            FZ_FAIL("a failed initiator call left its context");
        goto done;
    }
    if (imajor == GSS_S_COMPLETE && l.real) {
        amajor = leg_accept(&l, &acc, finish.value, finish.length, &last, &src,
                            &minor);
        if (amajor != GSS_S_COMPLETE)
            fz_gss_fail("an acceptor refused a real FINISH", amajor, minor);
    }
done:
    release_name(&src);
    free(init.value);
    free(accept.value);
    free(finish.value);
    free(last.value);
    fz_delete(&ini);
    fz_delete(&acc);
    gp11_err_clear();
    return 0;
}
