/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token calls per message (issue 11): on a token whose capability probe
 * finds the PKCS#11 3.0 message API (NSS softoken 3.87) every gss_get_mic,
 * gss_verify_mic, gss_wrap and gss_unwrap costs ONE token call
 * (C_EncryptMessage / C_DecryptMessage on the key's message operation);
 * on a 2.40 token (SoftHSM2) two (Init + operation); a MAC QOP's MIC two
 * on both (C_SignInit + C_Sign). Counted by the token
 * layer's per-thread call counter (gp11_ck_calls: every C_* call the
 * layer makes goes through pkcs11/interface.c, which counts it), on
 * contexts established in-process (tests/fuzz/fuzz_ctx.c), through the
 * GSS face's gp11_gss_* calls. Also: both paths make the same bytes
 * (tokens made on one are accepted on the other), context deletion ends
 * the message operations (C_Message*Final, sessions closed), an object
 * record reused for another key never runs the old key's operation, and
 * a forged MIC of an empty message is refused on the message path, and
 * SSPI's DecryptMessage (sspi/msg.c, linked in) decrypts its DATA buffer
 * in place on the message path and leaves nothing of an unverified
 * message there on either path.
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
#include "gp11_runtime.h"
#include "gp11_sspi.h"
#include "internal.h"

#define N_MSG 8

static struct gp11_token *tok;
static bool nss;

/* The token of the in-process runtime. */
static struct gp11_token *runtime_token(void)
{
    struct gp11_runtime *rt;

    assert_int_equal(gp11_runtime_get(&rt), GP11_OK);
    return rt->tok;
}

/* Token calls of one of op(ini, acc) on average over N_MSG runs. */
static unsigned long calls_of(void (*op)(gss_ctx_id_t, gss_ctx_id_t, int),
                              gss_ctx_id_t ini, gss_ctx_id_t acc)
{
    unsigned long before;

    op(ini, acc, -1); /* first use: the message operation starts */
    before = gp11_ck_calls();
    for (int i = 0; i < N_MSG; i++)
        op(ini, acc, i);
    return (gp11_ck_calls() - before) / N_MSG;
}

/* Tokens made beforehand by the initiator for the acceptor's checks. */
static gss_buffer_desc mics[N_MSG + 1], wraps[N_MSG + 1];
static const char msg_text[] = "one token call per message";

static void op_get_mic(gss_ctx_id_t ini, gss_ctx_id_t acc, int i)
{
    gss_buffer_desc m = {sizeof(msg_text), (void *)msg_text}, t;
    OM_uint32 minor;

    (void)acc;
    assert_int_equal(gp11_gss_get_mic(&minor, ini, 0, &m, &t), 0);
    mics[i + 1] = t;
}

/* A MIC of QOP 1 (HMAC-SHA-256): C_SignInit + C_Sign on both tokens
 * (NSS offers no message operation for MACs: quirk no-message-mac). */
static void op_get_mic_hmac(gss_ctx_id_t ini, gss_ctx_id_t acc, int i)
{
    gss_buffer_desc m = {sizeof(msg_text), (void *)msg_text}, t;
    OM_uint32 minor;

    (void)acc;
    assert_int_equal(gp11_gss_get_mic(&minor, ini, 1, &m, &t), 0);
    mics[i + 1] = t;
}

static void op_verify_mic(gss_ctx_id_t ini, gss_ctx_id_t acc, int i)
{
    gss_buffer_desc m = {sizeof(msg_text), (void *)msg_text};
    OM_uint32 minor;

    (void)ini;
    assert_int_equal(gp11_gss_verify_mic(&minor, acc, &m, &mics[i + 1], NULL),
                     0);
}

static void op_wrap(gss_ctx_id_t ini, gss_ctx_id_t acc, int i)
{
    gss_buffer_desc m = {sizeof(msg_text), (void *)msg_text}, t;
    OM_uint32 minor;
    int conf = 0;

    (void)acc;
    assert_int_equal(gp11_gss_wrap(&minor, ini, 1, 0, &m, &conf, &t), 0);
    assert_true(conf);
    wraps[i + 1] = t;
}

static void op_unwrap(gss_ctx_id_t ini, gss_ctx_id_t acc, int i)
{
    gss_buffer_desc out;
    OM_uint32 minor;

    (void)ini;
    assert_int_equal(
        gp11_gss_unwrap(&minor, acc, &wraps[i + 1], &out, NULL, NULL), 0);
    assert_int_equal(out.length, sizeof(msg_text));
    assert_memory_equal(out.value, msg_text, sizeof(msg_text));
    free(out.value);
}

static void release_tokens(void)
{
    for (int i = 0; i <= N_MSG; i++) {
        free(mics[i].value);
        free(wraps[i].value);
        mics[i] = wraps[i] = (gss_buffer_desc){0, NULL};
    }
}

static void calls_per_message(void **state)
{
    gss_ctx_id_t ini, acc;
    unsigned long want = nss ? 1 : 2;

    (void)state;
    /* The probe chose the path: NSS softoken offers the 3.0 message API
     * for AES-GCM, SoftHSM2 2.6.1 no 3.0 interface at all. */
    assert_int_equal((gp11_token_msg_api(tok) & 1u) != 0, nss);
    fz_establish(fz_target_ec, 0, &ini, &acc);
    assert_int_equal(calls_of(op_get_mic, ini, acc), want);
    assert_int_equal(calls_of(op_verify_mic, ini, acc), want);
    assert_int_equal(calls_of(op_wrap, ini, acc), want);
    assert_int_equal(calls_of(op_unwrap, ini, acc), want);
    release_tokens();
    assert_int_equal(calls_of(op_get_mic_hmac, ini, acc), 2);
    assert_int_equal(calls_of(op_verify_mic, ini, acc), 2);
    release_tokens();
    fz_delete(&ini);
    fz_delete(&acc);
}

/* Selects the path: the probe's choice (3.0 where offered) or 2.40. */
static void use_msg_api(bool on)
{
    struct gp11_caps caps;

    assert_int_equal(gp11_caps_probe(tok, &caps), GP11_OK);
    if (!on)
        gp11_token_msg_api_limit(tok, 0);
}

/* Tokens of one path are accepted on the other: the same nonce (our
 * sequence number) and the same bytes. */
static void both_paths_interoperate(void **state)
{
    static const bool send_msg[4] = {true, false, true, false};
    static const bool recv_msg[4] = {false, true, true, false};
    unsigned all = gp11_token_msg_api(tok);
    gss_ctx_id_t ini, acc;

    (void)state;
    if (!all)
        skip();
    fz_establish(fz_target_ec, 0, &ini, &acc);
    for (int round = 0; round < 4; round++) {
        use_msg_api(send_msg[round]);
        op_get_mic(ini, acc, 0);
        op_wrap(ini, acc, 0);
        use_msg_api(recv_msg[round]);
        op_verify_mic(ini, acc, 0);
        op_unwrap(ini, acc, 0);
        release_tokens();
    }
    use_msg_api(true);
    assert_int_equal(gp11_token_msg_api(tok), all);
    fz_delete(&ini);
    fz_delete(&acc);
}

/* Deleting a context ends its keys' message operations (C_Message*Final,
 * their sessions closed); a new context starts its own. */
static void deletion_ends_operations(void **state)
{
    size_t open0, opened0, open, opened;
    gss_ctx_id_t ini, acc;

    (void)state;
    gp11_msgop_stats(tok, &open0, &opened0);
    fz_establish(fz_target_ec, 0, &ini, &acc);
    op_get_mic(ini, acc, 0);
    op_verify_mic(ini, acc, 0);
    op_wrap(ini, acc, 1);
    op_unwrap(ini, acc, 1);
    release_tokens();
    gp11_msgop_stats(tok, &open, &opened);
    /* One operation per key used: the initiator's send key (encrypt), the
     * acceptor's receive key (decrypt). */
    assert_int_equal(open, open0 + (nss ? 2 : 0));
    assert_int_equal(opened, opened0 + (nss ? 2 : 0));
    fz_delete(&ini);
    fz_delete(&acc);
    gp11_msgop_stats(tok, &open, &opened);
    assert_int_equal(open, open0);
    /* A second context on the same token: its own operations, one call
     * per message again. */
    fz_establish(fz_target_ec, 0, &ini, &acc);
    assert_int_equal(calls_of(op_wrap, ini, acc), nss ? 1 : 2);
    assert_int_equal(calls_of(op_unwrap, ini, acc), nss ? 1 : 2);
    release_tokens();
    fz_delete(&ini);
    fz_delete(&acc);
    gp11_msgop_stats(tok, &open, &opened);
    assert_int_equal(open, open0);
}

/* An object record whose message operation runs for one key, given
 * another key's handle (as a reused or copied record would be), must
 * encrypt under the new key, never through the old key's operation. */
static void operation_bound_to_its_key(void **state)
{
    struct gp11_ctx *ia, *aa, *ib, *ab;
    gss_ctx_id_t ini_a, acc_a, ini_b, acc_b;
    uint8_t iv[GP11_GCM_IV_LEN], aad[16] = "aad of the test", ct[32 + 16];
    uint8_t pt[32] = "thirty-two bytes of plaintext..", back[32 + 16];
    struct gp11_object k;

    (void)state;
    memset(iv, 0xee, sizeof(iv)); /* a nonce no message of the pairs uses */
    fz_establish(fz_target_ec, 0, &ini_a, &acc_a);
    fz_establish(fz_target_ec, 0, &ini_b, &acc_b);
    ia = (struct gp11_ctx *)ini_a;
    aa = (struct gp11_ctx *)acc_a;
    ib = (struct gp11_ctx *)ini_b;
    ab = (struct gp11_ctx *)acc_b;
    /* A's send key gets its operation running. */
    op_wrap(ini_a, acc_a, 0);
    op_unwrap(ini_a, acc_a, 0);
    release_tokens();
    k = ia->keys.send;
    k.handle = ib->keys.send.handle;
    assert_int_equal(gp11_aead_encrypt(tok, GP11_AEAD_AES_GCM, &k, iv, aad,
                                       sizeof(aad), pt, sizeof(pt), ct),
                     GP11_OK);
    assert_int_equal(gp11_aead_decrypt(tok, GP11_AEAD_AES_GCM, &ab->keys.recv,
                                       iv, aad, sizeof(aad), ct, sizeof(ct),
                                       back),
                     GP11_OK);
    assert_memory_equal(back, pt, sizeof(pt));
    /* Not decryptable under A's key. */
    assert_int_equal(gp11_aead_decrypt(tok, GP11_AEAD_AES_GCM, &aa->keys.recv,
                                       iv, aad, sizeof(aad), ct, sizeof(ct),
                                       back),
                     GP11_ERR_BAD_TAG);
    /* A's own messages still work (its operation started again). */
    op_wrap(ini_a, acc_a, 0);
    op_unwrap(ini_a, acc_a, 0);
    release_tokens();
    fz_delete(&ini_a);
    fz_delete(&acc_a);
    fz_delete(&ini_b);
    fz_delete(&acc_b);
}

/* A MIC of an empty message with a flipped tag bit is refused: on the
 * message path too (a C_DecryptMessage with a NULL output buffer is a
 * length query, which NSS softoken answers CKR_OK without a tag check). */
static void forged_empty_mic_refused(void **state)
{
    gss_buffer_desc empty = {0, NULL}, t;
    gss_ctx_id_t ini, acc;
    OM_uint32 minor;

    (void)state;
    fz_establish(fz_target_ec, 0, &ini, &acc);
    for (int bit = 0; bit < 128; bit += 37) {
        assert_int_equal(gp11_gss_get_mic(&minor, ini, 0, &empty, &t), 0);
        ((uint8_t *)t.value)[16 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(gp11_gss_verify_mic(&minor, acc, &empty, &t, NULL),
                         GSS_S_BAD_SIG);
        assert_int_equal(minor, GP11_ERR_BAD_TAG);
        ((uint8_t *)t.value)[16 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(gp11_gss_verify_mic(&minor, acc, &empty, &t, NULL), 0);
        free(t.value);
    }
    fz_delete(&ini);
    fz_delete(&acc);
}

/* The SSPI face's msg.c runs here on contexts of fz_establish: its
 * engine handle is the context itself (the real one is engine.c's). */
struct gp11_ctx *gp11_sspi_engine_ctx(struct gp11_sspi_ctx *c)
{
    return c->ectx;
}

#define IP_LEN 4096 /* the message */
#define IP_GUARD 64 /* bytes after the DATA buffer that nothing may touch */

/* One in-place message as SSPI's EncryptMessage leaves it: TOKEN (header
 * and tag) and DATA (the ciphertext, decrypted where it is). */
struct inplace {
    uint8_t tok[32], data[IP_LEN + IP_GUARD];
    SecBuffer b[2];
    SecBufferDesc d;
};

static uint8_t ip_plain[IP_LEN];

/* Seals ip_plain into m through the SSPI face (TOKEN + DATA in place). */
static void ip_seal(struct gp11_sspi_ctx *c, struct inplace *m)
{
    memset(m->tok, 0, sizeof(m->tok));
    memcpy(m->data, ip_plain, IP_LEN);
    memset(m->data + IP_LEN, 0x5a, IP_GUARD);
    m->b[0] = (SecBuffer){sizeof(m->tok), SECBUFFER_TOKEN, m->tok};
    m->b[1] = (SecBuffer){IP_LEN, SECBUFFER_DATA, m->data};
    m->d = (SecBufferDesc){SECBUFFER_VERSION, 2, m->b};
    assert_int_equal(gp11_sspi_encrypt(c, 0, &m->d, 0), SEC_E_OK);
    assert_int_equal(m->b[0].cbBuffer, 32);
    assert_memory_not_equal(m->data, ip_plain, 64);
}

/* No 16-byte window of ip_plain anywhere in the DATA buffer, and the
 * bytes after it untouched. */
static void ip_no_plaintext(const struct inplace *m)
{
    for (size_t i = 0; i + 16 <= IP_LEN; i++)
        for (size_t j = 0; j + 16 <= IP_LEN; j += 1)
            if (m->data[i] == ip_plain[j] &&
                memcmp(m->data + i, ip_plain + j, 16) == 0)
                fail_msg("plaintext bytes %zu.. of an unverified message "
                         "at DATA offset %zu",
                         j, i);
    for (size_t k = 0; k < IP_GUARD; k++)
        assert_int_equal(m->data[IP_LEN + k], 0x5a);
}

static struct gp11_fns30 *real_fns3;

/* C_DecryptMessage of a token that decrypts before it checks the tag and
 * leaves the plaintext in pPlaintext when the tag fails (NSS softoken's
 * AES-NI GCM decrypts and hashes in one pass, then zeroes the output). */
static CK_RV leaky_decrypt(CK_SESSION_HANDLE s, void *param, CK_ULONG plen,
                           CK_BYTE *aad, CK_ULONG aad_len, CK_BYTE *in,
                           CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len)
{
    CK_RV rv = real_fns3->C_DecryptMessage(s, param, plen, aad, aad_len, in,
                                           in_len, out, out_len);

    if (rv != CKR_OK && out != NULL && in_len == IP_LEN)
        memcpy(out, ip_plain, IP_LEN);
    return rv;
}

/* C_DecryptMessage of a token that reports a tag that does not verify
 * with PKCS#11 3.0's own code for it. */
static CK_RV aead_failed_decrypt(CK_SESSION_HANDLE s, void *param,
                                 CK_ULONG plen, CK_BYTE *aad, CK_ULONG aad_len,
                                 CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                                 CK_ULONG *out_len)
{
    CK_RV rv = real_fns3->C_DecryptMessage(s, param, plen, aad, aad_len, in,
                                           in_len, out, out_len);

    return rv == CKR_OK ? rv : CKR_AEAD_DECRYPT_FAILED;
}

/*
 * SSPI DecryptMessage in place (TOKEN + DATA) on the path the token has
 * (issues 7, 11): a good message opens in the DATA buffer itself, in one
 * token call on the message API (two on Init + op); a tampered one
 * (a tag bit, a ciphertext bit) is SEC_E_MESSAGE_ALTERED and leaves no
 * 16-byte window of the plaintext in the DATA buffer and nothing touched
 * after it, also with a token that leaves the unverified plaintext in
 * its output, or that reports the failure as CKR_AEAD_DECRYPT_FAILED
 * (still a forgery, not a token failure). On the message API the token
 * decrypted into DATA itself, so
 * DATA is wiped (zero); on Init + op the plaintext was staged and DATA
 * still holds the ciphertext. On NSS both paths run (the second with the
 * message API switched off).
 */
static void sspi_decrypt_in_place(void **state)
{
    struct gp11_sspi_ctx ci = {.initiator = true, .open = true};
    struct gp11_sspi_ctx ca = {.open = true};
    static struct inplace m, copy;
    gss_ctx_id_t ini, acc;
    uint32_t x = 0x9e3779b9u;
    unsigned long before;
    ULONG qop;

    (void)state;
    for (size_t i = 0; i < IP_LEN; i++) { /* no repeated 16-byte window */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        ip_plain[i] = (uint8_t)(x >> 24);
    }
    fz_establish(fz_target_ec, 0, &ini, &acc);
    ci.ectx = (struct gp11_ctx *)ini;
    ca.ectx = (struct gp11_ctx *)acc;
    for (int path = nss ? 0 : 1; path < 2; path++) {
        bool msg_api = path == 0;

        use_msg_api(msg_api);
        /* A good one, twice (the first may start the operation). */
        for (int round = 0; round < 2; round++) {
            ip_seal(&ci, &m);
            before = gp11_ck_calls();
            assert_int_equal(gp11_sspi_decrypt(&ca, &m.d, 0, &qop), SEC_E_OK);
            if (round == 1)
                assert_int_equal(gp11_ck_calls() - before, msg_api ? 1 : 2);
            assert_ptr_equal(m.b[1].pvBuffer, m.data);
            assert_int_equal(m.b[1].cbBuffer, IP_LEN);
            assert_memory_equal(m.data, ip_plain, IP_LEN);
            for (size_t k = 0; k < IP_GUARD; k++)
                assert_int_equal(m.data[IP_LEN + k], 0x5a);
        }
        /* Tampered: a tag bit, a ciphertext bit; on the message API
         * also on a token that leaves the unverified plaintext. */
        for (int where = 0; where < (msg_api ? 4 : 2); where++) {
            static struct gp11_fns30 leaky;
            SECURITY_STATUS st;

            ip_seal(&ci, &m);
            if (where == 1)
                m.data[IP_LEN / 2] ^= 0x01;
            else
                m.tok[16 + 5] ^= 0x10;
            copy = m;
            if (where >= 2) {
                real_fns3 = tok->mod->fns3;
                leaky = *real_fns3;
                leaky.C_DecryptMessage =
                    where == 2 ? leaky_decrypt : aead_failed_decrypt;
                tok->mod->fns3 = &leaky;
            }
            st = gp11_sspi_decrypt(&ca, &m.d, 0, &qop);
            if (where >= 2)
                tok->mod->fns3 = real_fns3;
            assert_int_equal(st, SEC_E_MESSAGE_ALTERED);
            ip_no_plaintext(&m);
            if (msg_api) {
                for (size_t k = 0; k < IP_LEN; k++)
                    assert_int_equal(m.data[k], 0);
            } else {
                assert_memory_equal(m.data, copy.data, IP_LEN);
            }
        }
    }
    use_msg_api(true);
    fz_delete(&ini);
    fz_delete(&acc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_per_message),
        cmocka_unit_test(both_paths_interoperate),
        cmocka_unit_test(deletion_ends_operations),
        cmocka_unit_test(operation_bound_to_its_key),
        cmocka_unit_test(forged_empty_mic_refused),
        cmocka_unit_test(sspi_decrypt_in_place),
    };
    const char *kind = getenv("GP11_TEST_TOKEN");

    fz_token_setup();
    nss = kind && strcmp(kind, "nss") == 0;
    tok = runtime_token();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
