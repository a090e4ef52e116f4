/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the initiator's state machine (core/ctx_init.c)
 * fed the acceptor's legs: an initiator context that sent a real INIT gets
 * the acceptor's answer (ACCEPT or ERROR), and one that sent a real FINISH
 * gets the answer to that (CONFIRM or ERROR), on the SoftHSM2 token.
 *
 * Input: the mode byte (fuzz_legs.h), then
 *   raw:  u16 length, an ACCEPT token given to an initiator after its real
 *         INIT; then a CONFIRM token (the rest) given to a second
 *         initiator after its real FINISH (a real acceptor answered its
 *         INIT with ACCEPT);
 *   real: a real acceptor answers the INIT; u16 length, edits (u16
 *         offset, u8 xor) to its ACCEPT; if the initiator goes on, its
 *         FINISH goes to the acceptor, and the acceptor's answer, with the
 *         rest of the edits applied, back to the initiator.
 *
 * Invariants: no ACCEPT completes the initiator (CONFIRM must follow); a
 * made-up ACCEPT is refused (it cannot carry the acceptor's signature
 * over this INIT's nonce) and so is a made-up CONFIRM (it cannot carry
 * the MAC under K_conf_a over this transcript); a real ACCEPT and CONFIRM
 * that no edit changed complete both sides when they should; a changed
 * ACCEPT or CONFIRM never completes the initiator.
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

/* The initiator's last step: tok (CONFIRM or ERROR) after its FINISH. */
static void confirm_leg(const struct legs *l, gss_ctx_id_t *ini,
                        const uint8_t *tok, size_t len, bool made_up,
                        bool changed, bool acceptor_done)
{
    gss_buffer_desc none = {0, NULL};
    OM_uint32 minor, imajor;

    imajor = leg_init(l, ini, tok, len, &none, &minor);
    if (none.length != 0)
        FZ_FAIL("an initiator answered the acceptor's last token");
    if (imajor == GSS_S_COMPLETE && made_up)
        FZ_FAIL("an initiator completed on a CONFIRM the input made up");
    if (imajor == GSS_S_COMPLETE && changed)
        FZ_FAIL("an initiator completed on a changed CONFIRM");
    if (imajor == GSS_S_COMPLETE && !acceptor_done)
        FZ_FAIL("an initiator completed though the acceptor refused");
    if (!made_up && !changed && acceptor_done && imajor != GSS_S_COMPLETE)
        fz_gss_fail("an initiator refused a real CONFIRM", imajor, minor);
    if (GSS_ERROR(imajor) && *ini != GSS_C_NO_CONTEXT)
        FZ_FAIL("a failed initiator call left its context");
    free(none.value);
}

/* Raw: the input's CONFIRM after a real ACCEPT. */
static void raw_confirm(const struct legs *l, const uint8_t *tok, size_t len)
{
    gss_buffer_desc init = {0, NULL}, accept = {0, NULL}, finish = {0, NULL};
    gss_buffer_desc last = {0, NULL};
    gss_ctx_id_t ini = GSS_C_NO_CONTEXT, acc = GSS_C_NO_CONTEXT;
    gss_name_t src = GSS_C_NO_NAME;
    OM_uint32 minor, major;

    major = leg_init(l, &ini, NULL, 0, &init, &minor);
    if (major != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("init_sec_context (INIT)", major, minor);
    major = leg_accept(l, &acc, init.value, init.length, &accept, &src, &minor);
    if (major != GSS_S_CONTINUE_NEEDED)
        goto done; /* refused by policy: no FINISH to answer */
    major = leg_init(l, &ini, accept.value, accept.length, &finish, &minor);
    if (major != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("an initiator refused a real ACCEPT", major, minor);
    confirm_leg(l, &ini, tok, len, true, false, false);
done:
    release_name(&src);
    free(init.value);
    free(accept.value);
    free(finish.value);
    free(last.value);
    fz_delete(&ini);
    fz_delete(&acc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gss_buffer_desc init = {0, NULL}, accept = {0, NULL}, finish = {0, NULL};
    gss_buffer_desc last = {0, NULL};
    gss_ctx_id_t ini = GSS_C_NO_CONTEXT, acc = GSS_C_NO_CONTEXT;
    gss_name_t src = GSS_C_NO_NAME;
    struct fz_in in = {data, size}, edits1;
    OM_uint32 minor, imajor, amajor = GSS_S_COMPLETE;
    const uint8_t *tok, *tok2 = NULL;
    size_t len, len2 = 0;
    bool changed = false, changed2;
    struct legs l;

    legs_from_mode(fz_u8(&in), &l);
    imajor = leg_init(&l, &ini, NULL, 0, &init, &minor);
    if (imajor != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("init_sec_context (INIT)", imajor, minor);
    if (l.real) {
        edits1.p = fz_piece16(&in, &len);
        edits1.left = len;
        amajor = leg_accept(&l, &acc, init.value, init.length, &accept, &src,
                            &minor);
        if (GSS_ERROR(amajor) && l.expect_ok)
            fz_gss_fail("an acceptor refused a real INIT", amajor, minor);
        if (accept.length == 0)
            goto done;
        changed = fz_edit(&edits1, accept.value, accept.length);
        tok = accept.value;
        len = accept.length;
    } else {
        tok = fz_piece16(&in, &len);
        tok2 = fz_rest(&in, &len2);
    }
    imajor = leg_init(&l, &ini, tok, len, &finish, &minor);
    if (imajor == GSS_S_COMPLETE)
        FZ_FAIL("an initiator completed on ACCEPT, before CONFIRM");
    if (imajor == GSS_S_CONTINUE_NEEDED && !l.real)
        FZ_FAIL("an initiator accepted an ACCEPT the input made up");
    if (imajor == GSS_S_CONTINUE_NEEDED && changed)
        FZ_FAIL("an initiator accepted a changed ACCEPT");
    if (GSS_ERROR(imajor)) {
        if (l.real && !changed && !GSS_ERROR(amajor))
            fz_gss_fail("an initiator refused a real ACCEPT", imajor, minor);
        if (ini != GSS_C_NO_CONTEXT)
            FZ_FAIL("a failed initiator call left its context");
        if (!l.real)
            raw_confirm(&l, tok2, len2);
        goto done;
    }
    amajor =
        leg_accept(&l, &acc, finish.value, finish.length, &last, &src, &minor);
    if (amajor != GSS_S_COMPLETE)
        fz_gss_fail("an acceptor refused a real FINISH", amajor, minor);
    if (last.length == 0)
        FZ_FAIL("an established acceptor sent no CONFIRM");
    changed2 = fz_edit(&in, last.value, last.length);
    confirm_leg(&l, &ini, last.value, last.length, false, changed2, true);
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
