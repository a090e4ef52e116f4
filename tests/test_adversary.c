/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An adversarial peer against the honest mechanism (tests/adversary.h):
 * the honest party goes through MIT's mechglue and the plugin; the
 * adversary is the provider's own handshake code linked into this program,
 * holding every key of the suite's token. Each forgery has a control: the
 * same adversary, honest in that one respect, completes the handshake, so
 * a refusal is the check's doing and not a broken adversary.
 */
#include "adversary.h"
#include "gsslib.h"
#include "testlib.h"

#include "gp11_algs.h"
#include "gp11_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALWAYS (GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG)

/* The honest party's state: one context through the mechglue. */
struct honest {
    gss_ctx_id_t ctx;
    gss_name_t target, src;
    OM_uint32 major, minor, flags, time;
    /* The ERROR an honest acceptor answered the adversary's FINISH with. */
    struct gp11_hs_error err;
};

/* One gss_init_sec_context step of the honest initiator (alice). */
static void h_init(struct honest *h, const char *target, OM_uint32 req,
                   gss_buffer_desc *in, gss_buffer_t out)
{
    if (h->target == GSS_C_NO_NAME)
        h->target = gl_service(target);
    h->major = gss_init_sec_context(&h->minor, GSS_C_NO_CREDENTIAL, &h->ctx,
                                    h->target, gl_mech(), req, 0, NULL, in,
                                    NULL, out, &h->flags, &h->time);
}

/* One gss_accept_sec_context step of the honest acceptor. MIT's mechglue
 * sets src_name to GSS_C_NO_NAME on entry, so a name an earlier step
 * returned is released first. */
static void h_accept(struct honest *h, gss_buffer_desc *in, gss_buffer_t out)
{
    OM_uint32 minor;

    gss_release_name(&minor, &h->src);
    h->major = gss_accept_sec_context(&h->minor, &h->ctx, GSS_C_NO_CREDENTIAL,
                                      in, NULL, &h->src, NULL, out, &h->flags,
                                      &h->time, NULL);
}

static void h_release(struct honest *h)
{
    OM_uint32 minor;

    gss_delete_sec_context(&minor, &h->ctx, GSS_C_NO_BUFFER);
    gss_release_name(&minor, &h->target);
    gss_release_name(&minor, &h->src);
}

/* Asserts a status and that its minor text contains says (if not NULL). */
/* The case of a table-driven test under way, for failure messages. */
static const char *current_case = "-";

static void expect_at(OM_uint32 major, OM_uint32 minor, OM_uint32 want,
                      const char *says, const char *file, int line)
{
    char text[2048];

    gl_minor_text(minor, text, sizeof(text));
    if (major != want)
        fail_msg("%s:%d: [%s] major 0x%x, want 0x%x (minor: %s)", file, line,
                 current_case, major, want, text);
    if (says && strstr(text, says) == NULL)
        fail_msg("%s:%d: [%s] minor status says '%s', want '%s'", file, line,
                 current_case, text, says);
}
#define expect(major, minor, want, says)                                       \
    expect_at((major), (minor), (want), (says), __FILE__, __LINE__)

/* Asserts the display form of a name. */
static void assert_name(gss_name_t n, const char *want)
{
    gss_buffer_desc d;
    OM_uint32 minor;

    assert_int_equal(gss_display_name(&minor, n, &d, NULL), GSS_S_COMPLETE);
    if (d.length != strlen(want) || memcmp(d.value, want, d.length) != 0)
        fail_msg("name '%.*s', want '%s'", (int)d.length, (char *)d.value,
                 want);
    gss_release_buffer(&minor, &d);
}

/* Asserts that a refused handshake left no usable context: the provider
 * freed its context; MIT's mechglue keeps its own handle after a failed
 * second call, and answers GSS_S_NO_CONTEXT for it. */
static void assert_dead(gss_ctx_id_t ctx)
{
    OM_uint32 minor, t;

    if (ctx != GSS_C_NO_CONTEXT)
        assert_int_equal(GSS_ROUTINE_ERROR(gss_context_time(&minor, ctx, &t)),
                         GSS_S_NO_CONTEXT);
}

/* Session keys on the token when the test started (contexts a failed
 * test could not release stay behind, and must not fail the next one). */
static size_t keys_at_start;

static int count_keys(void **state)
{
    (void)state;
    current_case = "-";
    keys_at_start = tl_session_secret_keys();
    return 0;
}

/* Asserts that the test's handshakes left nothing behind on the token. */
static void assert_no_keys_left(void)
{
    assert_int_equal(tl_session_secret_keys(), keys_at_start);
}

/* ---- the adversary initiates ------------------------------------------- */

/* Changes the adversary's FINISH before it is signed. */
typedef void (*finish_edit)(struct adv *a, struct gp11_hs_finish *f);

/*
 * The adversary (certificate of cert, key of key) initiates to
 * host@localhost with req; h gets the honest acceptor's answer to its
 * FINISH (or to INIT, if the acceptor refused that).
 */
static void adversary_initiates(struct honest *h, const char *cert,
                                const char *key, OM_uint32 req,
                                finish_edit edit)
{
    struct adv *a = adv_new(true);
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, acc = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc fin = GSS_C_EMPTY_BUFFER, none = GSS_C_EMPTY_BUFFER;
    struct gp11_hs_finish f;
    OM_uint32 minor;

    adv_identity(a, cert, key);
    adv_init(a, "host@localhost", req, &init);
    h_accept(h, &init, &acc);
    expect(h->major, h->minor, GSS_S_CONTINUE_NEEDED, NULL);
    adv_take_accept(a, &acc);
    adv_finish_defaults(a, &f);
    if (edit)
        edit(a, &f);
    adv_send_finish(a, &f, &fin);
    h_accept(h, &fin, &none);
    /* The acceptor always answers FINISH: CONFIRM, or an ERROR MACed
     * under K_conf_a that says only "refused" (protocol.md 2.9). */
    assert_true(none.length > 0);
    if (h->major == GSS_S_COMPLETE) {
        bool mac_ok;

        if (!adv_take_confirm(a, &none, &h->err, &mac_ok))
            fail_msg("the acceptor completed without a valid CONFIRM");
    } else {
        bool mac_ok;

        assert_false(adv_take_confirm(a, &none, &h->err, &mac_ok));
        assert_true(h->err.has_mac);
        assert_true(mac_ok);
        /* The same coarse class whatever check failed. */
        assert_int_equal(h->err.major, GSS_S_DEFECTIVE_CREDENTIAL);
        assert_int_equal(h->err.reason, GP11_ERR_PEER_REFUSED);
    }
    gss_release_buffer(&minor, &init);
    gss_release_buffer(&minor, &acc);
    gss_release_buffer(&minor, &fin);
    gss_release_buffer(&minor, &none);
    adv_free(a);
}

/* Control: the adversary signing with the key of its certificate is
 * accepted as that identity, so its FINISH is right in every other way. */
static void adversary_initiator_control(void **state)
{
    static const char *const ids[] = {"alice", "both"};
    char want[64];

    (void)state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct honest h = {0};

        current_case = ids[i];
        adversary_initiates(&h, ids[i], ids[i], 0, NULL);
        expect(h.major, h.minor, GSS_S_COMPLETE, NULL);
        snprintf(want, sizeof(want), "%s@localhost", ids[i]);
        assert_name(h.src, want);
        assert_int_equal(h.flags, ALWAYS);
        h_release(&h);
    }
    assert_no_keys_left();
}

/* Alice's valid certificate, a signature by another key of the same type
 * and a correct MAC: the acceptor must not take the sender for alice. */
static void finish_with_alices_cert_signed_by_another_key(void **state)
{
    static const char *const keys[] = {"both", "host"};

    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct honest h = {0};

        current_case = keys[i];
        adversary_initiates(&h, "alice", keys[i], 0, NULL);
        expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN,
               "handshake signature invalid: it does not verify");
        assert_dead(h.ctx);
        assert_true(h.src == GSS_C_NO_NAME);
        h_release(&h);
    }
    assert_no_keys_left();
}

/* An RSA signature under alice's EC certificate. */
static void finish_with_alices_cert_signed_by_rsa(void **state)
{
    struct honest h = {0};

    (void)state;
    adversary_initiates(&h, "alice", "rsa", 0, NULL);
    expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN,
           "does not match its certificate's key");
    assert_dead(h.ctx);
    h_release(&h);
}

static void sign_as_acceptor(struct adv *a, struct gp11_hs_finish *f)
{
    (void)f;
    a->sig_label = GP11_SIG_ACCEPTOR;
}

/* The initiator's own key, but the acceptor's signature context: a
 * signature made for one role never passes for the other. */
static void finish_signed_with_the_acceptor_label(void **state)
{
    struct honest h = {0};

    (void)state;
    adversary_initiates(&h, "both", "both", 0, sign_as_acceptor);
    expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN,
           "handshake signature invalid: it does not verify");
    h_release(&h);
}

static void zero_mac(struct adv *a, struct gp11_hs_finish *f)
{
    (void)f;
    a->zero_mac = true;
}

/* A right signature without key confirmation. */
static void finish_without_key_confirmation(void **state)
{
    struct honest h = {0};

    (void)state;
    adversary_initiates(&h, "alice", "alice", 0, zero_mac);
    expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN, "key confirmation");
    h_release(&h);
}

static void go_anonymous(struct adv *a, struct gp11_hs_finish *f)
{
    (void)a;
    memset(f, 0, sizeof(*f)); /* sigalg 0, no certificate, no signature */
}

/* No certificate and no signature, though anonymity was not asked for:
 * the acceptor would otherwise hold an unauthenticated peer without
 * GSS_C_ANON_FLAG. */
static void anonymous_finish_without_asking(void **state)
{
    struct honest h = {0};

    (void)state;
    adversary_initiates(&h, "alice", "alice", 0, go_anonymous);
    expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN,
           "without asking for anonymity");
    assert_dead(h.ctx);
    h_release(&h);
    assert_no_keys_left();
}

/* An initiator asking for every flag gets only what the acceptor grants. */
static void acceptor_grants_only_what_it_may(void **state)
{
    struct honest h = {0};
    OM_uint32 want = ALWAYS | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;

    (void)state;
    adversary_initiates(&h, "alice", "alice", 0xffffffffu & ~GSS_C_ANON_FLAG,
                        NULL);
    expect(h.major, h.minor, GSS_S_COMPLETE, NULL);
    assert_int_equal(h.flags, want);
    h_release(&h);
}

/* A P-384 INIT (which this mechanism's initiator never sends) is answered
 * in P-384 and completes. */
static void init_in_p384(void **state)
{
    struct adv *a = adv_new(true);
    struct honest h = {0};
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, acc = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc fin = GSS_C_EMPTY_BUFFER, none = GSS_C_EMPTY_BUFFER;
    struct gp11_hs_init m;
    struct gp11_hs_finish f;
    OM_uint32 minor;

    (void)state;
    adv_identity(a, "alice", "alice");
    adv_init_defaults(a, "host@localhost", 0, &m);
    m.group = GP11_GROUP_P384;
    adv_send_init(a, &m, &init);
    h_accept(&h, &init, &acc);
    expect(h.major, h.minor, GSS_S_CONTINUE_NEEDED, NULL);
    adv_take_accept(a, &acc);
    assert_int_equal(a->ctx->eph_len, 97);
    adv_finish_defaults(a, &f);
    adv_send_finish(a, &f, &fin);
    h_accept(&h, &fin, &none);
    expect(h.major, h.minor, GSS_S_COMPLETE, NULL);
    assert_name(h.src, "alice@localhost");
    gss_release_buffer(&minor, &none);
    gss_release_buffer(&minor, &init);
    gss_release_buffer(&minor, &acc);
    gss_release_buffer(&minor, &fin);
    h_release(&h);
    adv_free(a);
}

/* An INIT that accepts only RSA-PSS signatures, to an EC acceptor. */
static void init_offering_no_usable_sigalg(void **state)
{
    struct adv *a = adv_new(true);
    struct honest h = {0};
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, err = GSS_C_EMPTY_BUFFER;
    struct gp11_hs_init m;
    OM_uint32 minor;

    (void)state;
    adv_init_defaults(a, "host@localhost", 0, &m);
    m.sigalgs[0] = GP11_SIGALG_RSA_PSS_SHA256;
    m.n_sigalgs = 1;
    adv_send_init(a, &m, &init);
    h_accept(&h, &init, &err);
    expect(h.major, h.minor, GSS_S_FAILURE,
           "cannot verify signature algorithm 1");
    assert_dead(h.ctx);
    assert_true(err.length > 0); /* the ERROR token telling why */
    gss_release_buffer(&minor, &init);
    gss_release_buffer(&minor, &err);
    h_release(&h);
    adv_free(a);
}

/* ---- the adversary accepts --------------------------------------------- */

/* Changes the adversary's ACCEPT core before it is signed. */
typedef void (*accept_edit)(struct gp11_hs_accept *m);

/*
 * Alice initiates to host@localhost with req through the mechglue; the
 * adversary (certificate of cert, key of key) answers; h gets the honest
 * initiator's verdict on ACCEPT.
 */
static void adversary_accepts_as(struct honest *h, const char *cert,
                                 const char *key, OM_uint32 req,
                                 accept_edit edit, enum adv_confirm how)
{
    struct adv *a = adv_new(false);
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, acc = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc fin = GSS_C_EMPTY_BUFFER, conf = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc none = GSS_C_EMPTY_BUFFER;
    struct gp11_hs_accept m;
    OM_uint32 minor;

    adv_identity(a, cert, key);
    h_init(h, "host@localhost", req, GSS_C_NO_BUFFER, &init);
    expect(h->major, h->minor, GSS_S_CONTINUE_NEEDED, NULL);
    adv_take_init(a, &init, &m);
    if (edit)
        edit(&m);
    adv_send_accept(a, &m, &acc);
    h_init(h, "host@localhost", req, &acc, &fin);
    if (GSS_ERROR(h->major)) {
        assert_int_equal(fin.length, 0);
        assert_dead(h->ctx);
    } else {
        /* FINISH sent: not complete before the acceptor's CONFIRM. */
        expect(h->major, h->minor, GSS_S_CONTINUE_NEEDED, NULL);
        assert_true(fin.length > 0);
        adv_take_finish(a, &fin);
        adv_send_confirm(a, how, &conf);
        h_init(h, "host@localhost", req, &conf, &none);
        assert_int_equal(none.length, 0);
        if (GSS_ERROR(h->major))
            assert_dead(h->ctx);
    }
    gss_release_buffer(&minor, &init);
    gss_release_buffer(&minor, &acc);
    gss_release_buffer(&minor, &fin);
    gss_release_buffer(&minor, &conf);
    adv_free(a);
}

static void adversary_accepts(struct honest *h, const char *cert,
                              const char *key, OM_uint32 req, accept_edit edit)
{
    adversary_accepts_as(h, cert, key, req, edit, ADV_CONFIRM_HONEST);
}

/*
 * CONFIRM forged by an acceptor that holds every key of the session but
 * does not compute the MAC of 2.3 over H(INIT || ACCEPT || FINISH) under
 * K_conf_a with the CONFIRM label: the initiator never completes.
 */
static void forged_confirm(void **state)
{
    static const struct {
        enum adv_confirm how;
        const char *name;
    } cases[] = {
        {ADV_CONFIRM_ZERO_MAC, "zero MAC"},
        {ADV_CONFIRM_FIN_LABEL, "ACCEPT's MAC label"},
        {ADV_CONFIRM_ERROR_LABEL, "ERROR's MAC label"},
        {ADV_CONFIRM_NO_FINISH, "without FINISH"},
        {ADV_CONFIRM_PEER_KEY, "under K_conf_i"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct honest h = {0};

        current_case = cases[i].name;
        adversary_accepts_as(&h, "host", "host", 0, NULL, cases[i].how);
        expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN, "key confirmation");
        h_release(&h);
    }
    assert_no_keys_left();
}

/*
 * An ERROR in place of CONFIRM: without a MAC (anyone on the path can
 * send it) it is refused as such; with the MAC of 2.9 under K_conf_a it
 * is reported as the acceptor's refusal, with its coarse class only.
 */
static void error_in_place_of_confirm(void **state)
{
    static const struct {
        bool mac, forged;
        uint32_t major;
        const char *says;
    } cases[] = {
        {false, false, GSS_S_DEFECTIVE_CREDENTIAL, "unauthenticated ERROR"},
        {true, true, GSS_S_DEFECTIVE_CREDENTIAL, "MAC does not verify"},
        {true, false, GSS_S_DEFECTIVE_CREDENTIAL,
         "verified this initiator's "
         "FINISH and refused it"},
        {true, false, GSS_S_FAILURE, "failed while checking"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct adv *a = adv_new(false);
        struct honest h = {0};
        gss_buffer_desc init = GSS_C_EMPTY_BUFFER, acc = GSS_C_EMPTY_BUFFER;
        gss_buffer_desc fin = GSS_C_EMPTY_BUFFER, err = GSS_C_EMPTY_BUFFER;
        gss_buffer_desc none = GSS_C_EMPTY_BUFFER;
        struct gp11_hs_accept m;
        OM_uint32 minor;

        current_case = cases[i].says;
        adv_identity(a, "host", "host");
        h_init(&h, "host@localhost", 0, GSS_C_NO_BUFFER, &init);
        adv_take_init(a, &init, &m);
        adv_send_accept(a, &m, &acc);
        h_init(&h, "host@localhost", 0, &acc, &fin);
        expect(h.major, h.minor, GSS_S_CONTINUE_NEEDED, NULL);
        adv_take_finish(a, &fin);
        adv_send_error(a, cases[i].major, GP11_ERR_PEER_REFUSED, cases[i].mac,
                       &err);
        if (cases[i].forged) /* a MAC, but not the right one */
            ((unsigned char *)err.value)[err.length - 1] ^= 0x01;
        h_init(&h, "host@localhost", 0, &err, &none);
        expect(h.major, h.minor,
               cases[i].mac && !cases[i].forged ? GSS_S_FAILURE
                                                : GSS_S_DEFECTIVE_TOKEN,
               cases[i].says);
        assert_int_equal(none.length, 0);
        assert_dead(h.ctx);
        gss_release_buffer(&minor, &init);
        gss_release_buffer(&minor, &acc);
        gss_release_buffer(&minor, &fin);
        gss_release_buffer(&minor, &err);
        h_release(&h);
        adv_free(a);
    }
    assert_no_keys_left();
}

/* Control: the adversary signing with host's own key is host. */
static void adversary_acceptor_control(void **state)
{
    struct honest h = {0};
    OM_uint32 req = GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;

    (void)state;
    adversary_accepts(&h, "host", "host", req, NULL);
    expect(h.major, h.minor, GSS_S_COMPLETE, NULL);
    assert_int_equal(h.flags, ALWAYS | req);
    assert_true(h.time > 35000 && h.time <= 36000);
    h_release(&h);
    assert_no_keys_left();
}

/* Host's valid certificate signed by another key, correct MAC: the
 * initiator must not take the adversary for host. */
static void accept_with_hosts_cert_signed_by_another_key(void **state)
{
    static const char *const keys[] = {"both", "alice"};

    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct honest h = {0};

        current_case = keys[i];
        adversary_accepts(&h, "host", keys[i], 0, NULL);
        expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN,
               "handshake signature invalid: it does not verify");
        h_release(&h);
    }
    assert_no_keys_left();
}

/* An RSA signature under host's EC certificate. */
static void accept_with_hosts_cert_signed_by_rsa(void **state)
{
    struct honest h = {0};

    (void)state;
    adversary_accepts(&h, "host", "rsa", 0, NULL);
    expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN,
           "does not match its certificate's key");
    h_release(&h);
}

static void grant_anon(struct gp11_hs_accept *m)
{
    m->ret_flags |= GSS_C_ANON_FLAG;
}

static void grant_deleg(struct gp11_hs_accept *m)
{
    m->ret_flags |= GSS_C_DELEG_FLAG;
}

static void grant_no_mutual(struct gp11_hs_accept *m)
{
    m->ret_flags &= ~GSS_C_MUTUAL_FLAG;
}

/* The version-1 protocol, which this mechanism no longer speaks. */
static void answer_version_1(struct gp11_hs_accept *m)
{
    m->version = 1;
}

static void grant_no_time(struct gp11_hs_accept *m)
{
    m->lifetime = 0;
}

static void choose_other_profile(struct gp11_hs_accept *m)
{
    m->profile = m->profile == GP11_PROFILE_KDF_240 ? GP11_PROFILE_KDF_30_HKDF
                                                    : GP11_PROFILE_KDF_240;
}

static void answer_in_p384(struct gp11_hs_accept *m)
{
    m->group = GP11_GROUP_P384;
}

/*
 * An acceptor with host's own key and a correct MAC (where its token can
 * run its choice) making a choice that was not offered: refused, each
 * with its reason. The adversary's token is the initiator's, so its
 * runtime offers what the initiator offers.
 */
static void acceptor_choices_not_offered(void **state)
{
    static const struct {
        accept_edit edit;
        const char *name, *says;
    } cases[] = {
        {grant_anon, "grant_anon", "do not fit the request"},
        {grant_deleg, "grant_deleg", "do not fit the request"},
        {grant_no_mutual, "grant_no_mutual", "do not fit the request"},
        {answer_version_1, "answer_version_1", "protocol version 1"},
        {grant_no_time, "grant_no_time", "zero lifetime"},
        {choose_other_profile, "choose_other_profile", "which was not offered"},
        {answer_in_p384, "answer_in_p384", "ECDH group 2, not 1"},
    };
    struct gp11_runtime *rt = NULL;

    (void)state;
    tl_assert_err(gp11_runtime_get(&rt), GP11_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct honest h = {0};

        /* NSS softoken runs both profiles (2.40 through a quirk), so its
         * initiator offers every known one. */
        if (cases[i].edit == choose_other_profile && rt->n_profiles > 1)
            continue;
        current_case = cases[i].name;
        adversary_accepts(&h, "host", "host", 0, cases[i].edit);
        expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN, cases[i].says);
        h_release(&h);
    }
    assert_no_keys_left();
}

static void grant_forever(struct gp11_hs_accept *m)
{
    m->lifetime = 0xffffffffu;
}

/* An ACCEPT that grants more time than the acceptor's certificate has
 * left: the initiator's context ends with the certificate. 'both' holds
 * a one-day certificate for localhost, alice a longer one. */
static void overstated_lifetime_is_capped(void **state)
{
    struct honest h = {0};
    struct gp11_buf der;
    time_t both_na, alice_na, now;
    OM_uint32 t = 0, minor;

    (void)state;
    adv_cert_of("both", &der, &both_na);
    free((void *)der.data);
    adv_cert_of("alice", &der, &alice_na);
    free((void *)der.data);
    assert_true(alice_na > both_na + 3600); /* else the test shows nothing */
    adversary_accepts(&h, "both", "both", 0, grant_forever);
    expect(h.major, h.minor, GSS_S_COMPLETE, NULL);
    now = time(NULL);
    assert_true(h.time > 0);
    assert_true((time_t)h.time <= both_na - now + 1);
    assert_int_equal(gss_context_time(&minor, h.ctx, &t), GSS_S_COMPLETE);
    assert_true((time_t)t <= both_na - now + 1);
    h_release(&h);
}

static void caps_without_hmac_sha256(struct gp11_hs_accept *m)
{
    m->caps &= ~(uint32_t)GP11_CAP_HMAC_SHA256;
}

static void caps_without_extra_qops(struct gp11_hs_accept *m)
{
    m->caps &= ~(uint32_t)GP11_CAP_EXTRA_QOPS;
}

/* A QOP the peer announced it cannot run is refused before anything is
 * sent; QOP 0 still works. */
static void peer_capabilities_limit_the_qops(void **state)
{
    static const struct {
        accept_edit edit;
        const char *name, *says;
    } cases[] = {
        {caps_without_hmac_sha256, "caps_without_hmac_sha256",
         "which the peer's token lacks"},
        {caps_without_extra_qops, "caps_without_extra_qops",
         "disabled on the peer"},
    };
    struct gp11_runtime *rt = NULL;

    (void)state;
    tl_assert_err(gp11_runtime_get(&rt), GP11_OK);
    assert_true(rt->msg_caps & GP11_CAP_HMAC_SHA256);
    assert_true(rt->msg_caps & GP11_CAP_EXTRA_QOPS);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gss_buffer_desc msg = {5, (void *)"hello"}, tok = GSS_C_EMPTY_BUFFER;
        struct honest h = {0};
        OM_uint32 major, minor;

        current_case = cases[i].name;
        adversary_accepts(&h, "host", "host", 0, cases[i].edit);
        expect(h.major, h.minor, GSS_S_COMPLETE, NULL);
        major = gss_get_mic(&minor, h.ctx, 1, &msg, &tok);
        expect(major, minor, GSS_S_BAD_QOP, cases[i].says);
        assert_int_equal(tok.length, 0);
        major = gss_get_mic(&minor, h.ctx, 0, &msg, &tok);
        expect(major, minor, GSS_S_COMPLETE, NULL);
        gss_release_buffer(&minor, &tok);
        h_release(&h);
    }
}

/* ---- replayed and reflected legs ---------------------------------------- */

/* Hook: keeps a copy of one leg. */
struct save {
    int leg;
    gss_buffer_desc copy;
};

static void save_leg(int leg, gss_buffer_t tok, void *arg)
{
    struct save *s = arg;

    if (leg != s->leg || s->copy.value != NULL)
        return;
    s->copy.value = malloc(tok->length);
    assert_non_null(s->copy.value);
    memcpy(s->copy.value, tok->value, tok->length);
    s->copy.length = tok->length;
}

/* Runs an honest handshake to host@localhost and keeps leg n. */
static void record_leg(int leg, struct save *s)
{
    struct gl_hs hs = {0};

    s->leg = leg;
    s->copy = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    hs.target = gl_service("host@localhost");
    hs.mutate = save_leg;
    hs.arg = s;
    if (!gl_handshake(&hs))
        gl_fail("honest handshake", hs.imajor, hs.iminor);
    gl_hs_release(&hs);
    assert_non_null(s->copy.value);
}

/* An ACCEPT of an earlier handshake, delivered to a new initiator. */
static void replayed_accept(void **state)
{
    struct honest h = {0};
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, fin = GSS_C_EMPTY_BUFFER;
    struct save s;
    OM_uint32 minor;

    (void)state;
    record_leg(2, &s);
    h_init(&h, "host@localhost", 0, GSS_C_NO_BUFFER, &init);
    expect(h.major, h.minor, GSS_S_CONTINUE_NEEDED, NULL);
    h_init(&h, "host@localhost", 0, &s.copy, &fin);
    expect(h.major, h.minor, GSS_S_DEFECTIVE_TOKEN,
           "handshake signature invalid");
    assert_int_equal(fin.length, 0);
    assert_dead(h.ctx);
    gss_release_buffer(&minor, &init);
    free(s.copy.value);
    h_release(&h);
    assert_no_keys_left();
}

/* A FINISH of an earlier handshake, delivered to a new acceptor. */
static void replayed_finish(void **state)
{
    struct honest i = {0}, acc = {0}, fresh = {0};
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, accept = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc fin = GSS_C_EMPTY_BUFFER, none = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    struct save s;
    OM_uint32 minor;

    (void)state;
    record_leg(3, &s);
    h_init(&i, "host@localhost", 0, GSS_C_NO_BUFFER, &init);
    h_accept(&acc, &init, &accept);
    expect(acc.major, acc.minor, GSS_S_CONTINUE_NEEDED, NULL);
    h_init(&i, "host@localhost", 0, &accept, &fin);
    expect(i.major, i.minor, GSS_S_CONTINUE_NEEDED, NULL);
    h_accept(&acc, &s.copy, &none);
    expect(acc.major, acc.minor, GSS_S_DEFECTIVE_TOKEN,
           "handshake signature invalid");
    assert_dead(acc.ctx);
    /* The refusal reaches the initiator as an ERROR under K_conf_a of
     * this session, so it is believed, but names no check. */
    assert_true(none.length > 0);
    h_init(&i, "host@localhost", 0, &none, &out);
    expect(i.major, i.minor, GSS_S_FAILURE,
           "verified this initiator's FINISH and refused it");
    assert_int_equal(out.length, 0);
    assert_dead(i.ctx);
    gss_release_buffer(&minor, &none);
    /* The fresh FINISH is no longer welcome either: that context is gone,
     * and a new acceptor takes it for a first token. */
    h_accept(&fresh, &fin, &none);
    expect(fresh.major, fresh.minor, GSS_S_DEFECTIVE_TOKEN,
           "FINISH where INIT was expected");
    gss_release_buffer(&minor, &init);
    gss_release_buffer(&minor, &accept);
    gss_release_buffer(&minor, &fin);
    free(s.copy.value);
    h_release(&i);
    h_release(&acc);
    h_release(&fresh);
    assert_no_keys_left();
}

/* A CONFIRM of an earlier handshake, delivered to a new initiator whose
 * FINISH the acceptor did verify: still refused (it covers another
 * transcript, under another key). */
static void replayed_confirm(void **state)
{
    struct honest i = {0}, acc = {0};
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, accept = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc fin = GSS_C_EMPTY_BUFFER, conf = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    struct save s;
    OM_uint32 minor;

    (void)state;
    record_leg(4, &s);
    h_init(&i, "host@localhost", 0, GSS_C_NO_BUFFER, &init);
    h_accept(&acc, &init, &accept);
    h_init(&i, "host@localhost", 0, &accept, &fin);
    expect(i.major, i.minor, GSS_S_CONTINUE_NEEDED, NULL);
    h_accept(&acc, &fin, &conf);
    expect(acc.major, acc.minor, GSS_S_COMPLETE, NULL);
    assert_int_equal(conf.length, s.copy.length);
    assert_true(memcmp(conf.value, s.copy.value, conf.length) != 0);
    h_init(&i, "host@localhost", 0, &s.copy, &out);
    expect(i.major, i.minor, GSS_S_DEFECTIVE_TOKEN, "key confirmation");
    assert_int_equal(out.length, 0);
    assert_dead(i.ctx);
    gss_release_buffer(&minor, &init);
    gss_release_buffer(&minor, &accept);
    gss_release_buffer(&minor, &fin);
    gss_release_buffer(&minor, &conf);
    free(s.copy.value);
    h_release(&i);
    h_release(&acc);
    assert_no_keys_left();
}

/* Tokens reflected or misplaced around CONFIRM: never taken for it, and
 * CONFIRM never taken for another leg. */
static void reflected_confirm(void **state)
{
    struct honest i = {0}, i2 = {0}, i3 = {0}, acc = {0}, acc2 = {0};
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, accept = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc fin = GSS_C_EMPTY_BUFFER, conf = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc init2 = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor;

    (void)state;
    h_init(&i, "host@localhost", 0, GSS_C_NO_BUFFER, &init);
    h_accept(&acc, &init, &accept);
    h_init(&i, "host@localhost", 0, &accept, &fin);
    expect(i.major, i.minor, GSS_S_CONTINUE_NEEDED, NULL);
    h_accept(&acc, &fin, &conf);
    expect(acc.major, acc.minor, GSS_S_COMPLETE, NULL);
    /* The initiator's own FINISH back to it, in place of CONFIRM. */
    h_init(&i, "host@localhost", 0, &fin, &out);
    expect(i.major, i.minor, GSS_S_DEFECTIVE_TOKEN,
           "FINISH where CONFIRM was expected");
    assert_dead(i.ctx);
    /* CONFIRM back to the acceptor that sent it: it expects nothing. */
    h_accept(&acc, &conf, &out);
    expect(acc.major, acc.minor, GSS_S_DEFECTIVE_TOKEN, "expects no token");
    assert_int_equal(out.length, 0);
    /* CONFIRM as the first token of an acceptor. */
    h_accept(&acc2, &conf, &out);
    expect(acc2.major, acc2.minor, GSS_S_DEFECTIVE_TOKEN,
           "CONFIRM where INIT was expected");
    assert_int_equal(out.length, 0);
    /* CONFIRM in place of ACCEPT to a new initiator. */
    h_init(&i2, "host@localhost", 0, GSS_C_NO_BUFFER, &init2);
    h_init(&i2, "host@localhost", 0, &conf, &out);
    expect(i2.major, i2.minor, GSS_S_DEFECTIVE_TOKEN,
           "CONFIRM where ACCEPT was expected");
    assert_dead(i2.ctx);
    gss_release_buffer(&minor, &init2);
    /* The same ACCEPT twice: the second in place of CONFIRM. */
    h_init(&i3, "host@localhost", 0, GSS_C_NO_BUFFER, &init2);
    gss_release_buffer(&minor, &accept);
    gss_release_buffer(&minor, &fin);
    h_release(&acc);
    memset(&acc, 0, sizeof(acc));
    h_accept(&acc, &init2, &accept);
    h_init(&i3, "host@localhost", 0, &accept, &fin);
    expect(i3.major, i3.minor, GSS_S_CONTINUE_NEEDED, NULL);
    h_init(&i3, "host@localhost", 0, &accept, &out);
    expect(i3.major, i3.minor, GSS_S_DEFECTIVE_TOKEN,
           "ACCEPT where CONFIRM was expected");
    assert_dead(i3.ctx);
    gss_release_buffer(&minor, &init);
    gss_release_buffer(&minor, &init2);
    gss_release_buffer(&minor, &accept);
    gss_release_buffer(&minor, &fin);
    gss_release_buffer(&minor, &conf);
    h_release(&i);
    h_release(&i2);
    h_release(&i3);
    h_release(&acc);
    h_release(&acc2);
    assert_no_keys_left();
}

/* Each side's own token fed back to it, and tokens out of their step. */
static void reflected_legs(void **state)
{
    struct honest i = {0}, acc = {0}, acc2 = {0}, acc3 = {0};
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, accept = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor;

    (void)state;
    /* The acceptor's ACCEPT back to it, in place of FINISH. */
    h_init(&i, "host@localhost", 0, GSS_C_NO_BUFFER, &init);
    h_accept(&acc, &init, &accept);
    expect(acc.major, acc.minor, GSS_S_CONTINUE_NEEDED, NULL);
    h_accept(&acc, &accept, &out);
    expect(acc.major, acc.minor, GSS_S_DEFECTIVE_TOKEN,
           "ACCEPT where FINISH was expected");
    assert_true(out.length > 0); /* the ERROR for the initiator */
    gss_release_buffer(&minor, &out);
    /* The INIT again, in place of FINISH, to a fresh acceptor's second
     * step. */
    h_accept(&acc2, &init, &out);
    gss_release_buffer(&minor, &out);
    h_accept(&acc2, &init, &out);
    expect(acc2.major, acc2.minor, GSS_S_DEFECTIVE_TOKEN,
           "INIT where FINISH was expected");
    gss_release_buffer(&minor, &out); /* the ERROR for the initiator */
    /* An ACCEPT as the first token of an acceptor. */
    h_accept(&acc3, &accept, &out);
    expect(acc3.major, acc3.minor, GSS_S_DEFECTIVE_TOKEN,
           "ACCEPT where INIT was expected");
    assert_true(acc3.ctx == GSS_C_NO_CONTEXT); /* a failed first call */
    assert_int_equal(out.length, 0);
    /* The initiator's INIT back to it, in place of ACCEPT. */
    h_init(&i, "host@localhost", 0, &init, &out);
    expect(i.major, i.minor, GSS_S_DEFECTIVE_TOKEN,
           "INIT where ACCEPT was expected");
    assert_dead(i.ctx);
    gss_release_buffer(&minor, &init);
    gss_release_buffer(&minor, &accept);
    h_release(&i);
    h_release(&acc);
    h_release(&acc2);
    h_release(&acc3);
    assert_no_keys_left();
}

/* An established initiator fed its own FINISH: refused, context intact. */
static void reflected_finish_to_the_initiator(void **state)
{
    struct gl_hs hs = {0};
    struct save s;
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor, major, t = 0;

    (void)state;
    s.leg = 3;
    s.copy = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    hs.target = gl_service("host@localhost");
    hs.mutate = save_leg;
    hs.arg = &s;
    assert_true(gl_handshake(&hs));
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &hs.ictx,
                                 hs.target, gl_mech(), 0, 0, NULL, &s.copy,
                                 NULL, &out, NULL, NULL);
    expect(major, minor, GSS_S_DEFECTIVE_TOKEN, "expects no token");
    assert_int_equal(gss_context_time(&minor, hs.ictx, &t), GSS_S_COMPLETE);
    free(s.copy.value);
    gl_hs_release(&hs);
}

/* ---- a man in the middle rewrites the offer ------------------------------ */

struct mitm {
    void (*init_edit)(struct gp11_hs_init *m, void *arg);
    void (*accept_edit)(struct gp11_hs_accept *m, void *arg);
    uint8_t point[97];
    uint8_t seen_profile; /* of the ACCEPT that went by */
};

/* Hook: rewrites INIT (leg 1) or ACCEPT (leg 2) and re-frames it. */
static void rewrite_leg(int leg, gss_buffer_t tok, void *arg)
{
    struct mitm *x = arg;

    if (leg == 1 && x->init_edit)
        adv_rewrite_init(tok, x->init_edit, x);
    if (leg == 2 && x->accept_edit)
        adv_rewrite_accept(tok, x->accept_edit, x);
}

static void strip_replay_and_sequence(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->req_flags &= ~(uint32_t)(GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
}

static void only_first_sigalg(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->n_sigalgs = 1;
}

static void other_profile_first(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->profiles[1] = m->profiles[0];
    m->profiles[0] = m->profiles[1] == GP11_PROFILE_KDF_240
                         ? GP11_PROFILE_KDF_30_HKDF
                         : GP11_PROFILE_KDF_240;
    m->n_profiles = 2;
}

static void strip_caps(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->caps = GP11_CAP_AES_GCM;
}

static void substitute_eph(struct gp11_hs_init *m, void *arg)
{
    struct mitm *x = arg;
    size_t len = 0;

    adv_fresh_point(m->group, x->point, &len);
    m->eph = (struct gp11_buf){x->point, len};
}

static void raise_version_max(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->version_max = GP11_HS_VERSION + 1;
}

static void shorten_lifetime(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->lifetime_req = 1;
}

static void retarget_to_rsa(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->target = (struct gp11_buf){(const uint8_t *)"rsa@localhost", 13};
}

static void change_nonce(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->nonce[0] ^= 0x80;
}

static void change_cb_hash(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->cb_hash[31] ^= 0x01;
}

/*
 * A man in the middle rewrites INIT and re-frames it. The acceptor, which
 * cannot tell, answers; the initiator, whose transcript holds what it
 * sent, refuses the acceptor's signature.
 */
static void rewritten_init(void **state)
{
    static const struct {
        void (*fn)(struct gp11_hs_init *, void *);
        const char *name;
    } edits[] = {
        {strip_replay_and_sequence, "strip_replay_and_sequence"},
        {only_first_sigalg, "only_first_sigalg"},
        {other_profile_first, "other_profile_first"},
        {strip_caps, "strip_caps"},
        {substitute_eph, "substitute_eph"},
        {raise_version_max, "raise_version_max"},
        {shorten_lifetime, "shorten_lifetime"},
        {retarget_to_rsa, "retarget_to_rsa"},
        {change_nonce, "change_nonce"},
        {change_cb_hash, "change_cb_hash"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        struct mitm x = {.init_edit = edits[i].fn};
        struct gl_hs hs = {0};

        current_case = edits[i].name;
        hs.target = gl_service("host@localhost");
        hs.req_flags = GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;
        hs.mutate = rewrite_leg;
        hs.arg = &x;
        assert_false(gl_handshake(&hs));
        assert_int_equal(hs.legs, 3);
        expect(hs.amajor, hs.aminor, GSS_S_CONTINUE_NEEDED, NULL);
        expect(hs.imajor, hs.iminor, GSS_S_DEFECTIVE_TOKEN,
               "handshake signature invalid");
        assert_dead(hs.ictx);
        gl_hs_release(&hs);
    }
    assert_no_keys_left();
}

static void keep_last_profile(struct gp11_hs_init *m, void *arg)
{
    (void)arg;
    m->profiles[0] = m->profiles[m->n_profiles - 1];
    m->n_profiles = 1;
}

static void record_profile(struct gp11_hs_accept *m, void *arg)
{
    struct mitm *x = arg;

    x->seen_profile = m->profile;
}

/*
 * Where the initiator offers two profiles (NSS softoken: HKDF, then 2.40),
 * a man in the middle strips the preferred one: the acceptor takes the
 * weaker offer, and the initiator refuses the answer.
 */
static void downgraded_profile(void **state)
{
    struct mitm x = {.init_edit = keep_last_profile,
                     .accept_edit = record_profile};
    struct gp11_runtime *rt = NULL;
    struct gl_hs hs = {0};

    (void)state;
    tl_assert_err(gp11_runtime_get(&rt), GP11_OK);
    if (rt->n_profiles < 2)
        skip(); /* one profile offered: nothing to downgrade to */
    hs.target = gl_service("host@localhost");
    hs.mutate = rewrite_leg;
    hs.arg = &x;
    assert_false(gl_handshake(&hs));
    expect(hs.amajor, hs.aminor, GSS_S_CONTINUE_NEEDED, NULL);
    assert_int_equal(x.seen_profile, rt->profiles[rt->n_profiles - 1]);
    expect(hs.imajor, hs.iminor, GSS_S_DEFECTIVE_TOKEN,
           "handshake signature invalid");
    assert_dead(hs.ictx);
    gl_hs_release(&hs);
    assert_no_keys_left();
}

static void accept_strip_flags(struct gp11_hs_accept *m, void *arg)
{
    (void)arg;
    m->ret_flags &= ~(uint32_t)(GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
}

static void accept_shorter_life(struct gp11_hs_accept *m, void *arg)
{
    (void)arg;
    m->lifetime = 60;
}

static void accept_strip_caps(struct gp11_hs_accept *m, void *arg)
{
    (void)arg;
    m->caps = GP11_CAP_AES_GCM;
}

static void accept_change_nonce(struct gp11_hs_accept *m, void *arg)
{
    (void)arg;
    m->nonce[5] ^= 0x01;
}

/* The same for ACCEPT, re-encoded with the signature and MAC it had. */
static void rewritten_accept(void **state)
{
    static const struct {
        void (*fn)(struct gp11_hs_accept *, void *);
        const char *name;
    } edits[] = {
        {accept_strip_flags, "accept_strip_flags"},
        {accept_shorter_life, "accept_shorter_life"},
        {accept_strip_caps, "accept_strip_caps"},
        {accept_change_nonce, "accept_change_nonce"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        struct mitm x = {.accept_edit = edits[i].fn};
        struct gl_hs hs = {0};

        current_case = edits[i].name;
        hs.target = gl_service("host@localhost");
        hs.req_flags = GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;
        hs.mutate = rewrite_leg;
        hs.arg = &x;
        assert_false(gl_handshake(&hs));
        assert_int_equal(hs.legs, 3);
        expect(hs.imajor, hs.iminor, GSS_S_DEFECTIVE_TOKEN,
               "handshake signature invalid");
        gl_hs_release(&hs);
    }
    assert_no_keys_left();
}

static void no_edit_init(struct gp11_hs_init *m, void *arg)
{
    (void)m;
    (void)arg;
}

static void no_edit_accept(struct gp11_hs_accept *m, void *arg)
{
    (void)m;
    (void)arg;
}

/* Control: re-encoding without a change is invisible, so the refusals
 * above come from the changes. */
static void rewrite_without_change(void **state)
{
    struct mitm x = {.init_edit = no_edit_init, .accept_edit = no_edit_accept};
    struct gl_hs hs = {0};

    (void)state;
    hs.target = gl_service("host@localhost");
    hs.mutate = rewrite_leg;
    hs.arg = &x;
    if (!gl_handshake(&hs))
        gl_fail("re-encoded handshake", hs.imajor, hs.iminor);
    gl_hs_release(&hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(adversary_initiator_control, count_keys),
        cmocka_unit_test_setup(finish_with_alices_cert_signed_by_another_key,
                               count_keys),
        cmocka_unit_test_setup(finish_with_alices_cert_signed_by_rsa,
                               count_keys),
        cmocka_unit_test_setup(finish_signed_with_the_acceptor_label,
                               count_keys),
        cmocka_unit_test_setup(finish_without_key_confirmation, count_keys),
        cmocka_unit_test_setup(anonymous_finish_without_asking, count_keys),
        cmocka_unit_test_setup(acceptor_grants_only_what_it_may, count_keys),
        cmocka_unit_test_setup(init_in_p384, count_keys),
        cmocka_unit_test_setup(init_offering_no_usable_sigalg, count_keys),
        cmocka_unit_test_setup(adversary_acceptor_control, count_keys),
        cmocka_unit_test_setup(accept_with_hosts_cert_signed_by_another_key,
                               count_keys),
        cmocka_unit_test_setup(accept_with_hosts_cert_signed_by_rsa,
                               count_keys),
        cmocka_unit_test_setup(acceptor_choices_not_offered, count_keys),
        cmocka_unit_test_setup(overstated_lifetime_is_capped, count_keys),
        cmocka_unit_test_setup(peer_capabilities_limit_the_qops, count_keys),
        cmocka_unit_test_setup(replayed_accept, count_keys),
        cmocka_unit_test_setup(replayed_finish, count_keys),
        cmocka_unit_test_setup(replayed_confirm, count_keys),
        cmocka_unit_test_setup(reflected_confirm, count_keys),
        cmocka_unit_test_setup(forged_confirm, count_keys),
        cmocka_unit_test_setup(error_in_place_of_confirm, count_keys),
        cmocka_unit_test_setup(reflected_legs, count_keys),
        cmocka_unit_test_setup(reflected_finish_to_the_initiator, count_keys),
        cmocka_unit_test_setup(rewritten_init, count_keys),
        cmocka_unit_test_setup(downgraded_profile, count_keys),
        cmocka_unit_test_setup(rewritten_accept, count_keys),
        cmocka_unit_test_setup(rewrite_without_change, count_keys),
    };

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    return cmocka_run_group_tests_name("adversary", tests, NULL, NULL);
}
