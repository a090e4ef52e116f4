/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context establishment through MIT's mechglue on the suite's token, both
 * parties in this process. argv[1] picks the group, each run with its own
 * configuration (the runtime reads it once per process):
 *   main   the standard environment (gss-pkcs11.conf)
 *   anon   allow-anonymous = yes (anon.conf)
 *   extra  acceptors with an expired, an untrusted and a wrong-host
 *          certificate (extra.conf)
 *   mangle every byte of every handshake token flipped, every truncation
 */
#include "gsslib.h"
#include "testlib.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs a handshake to alice -> service; fails the test if it fails. */
static void establish_ok(struct gl_hs *hs, const char *service, OM_uint32 req)
{
    hs->target = gl_service(service);
    hs->req_flags = req;
    if (!gl_handshake(hs))
        gl_fail(GSS_ERROR(hs->imajor) ? "initiator" : "acceptor",
                GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
}

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

/* Asserts the minor status displays text containing want. */
static void assert_minor_says(OM_uint32 minor, const char *want)
{
    char text[2048];

    gl_minor_text(minor, text, sizeof(text));
    if (strstr(text, want) == NULL)
        fail_msg("minor status says '%s', want '%s'", text, want);
}

static void alice_to_host(void **state)
{
    struct gl_hs hs = {0};
    OM_uint32 want = GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG |
                     GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;

    (void)state;
    establish_ok(&hs, "host@localhost",
                 GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    assert_int_equal(hs.legs, 5); /* INIT, ACCEPT, FINISH, CONFIRM, done */
    assert_int_equal(hs.iflags, want);
    assert_int_equal(hs.aflags, want);
    assert_true(hs.itime > 35000 && hs.itime <= 36000);
    assert_true(hs.atime > 35000 && hs.atime <= 36000);
    assert_true(gss_oid_equal(hs.amech_out, gl_mech()));
    assert_name(hs.src, "alice@localhost");
    gl_hs_release(&hs);
}

static void alice_to_rsa_service(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    establish_ok(&hs, "rsa@localhost", 0);
    assert_int_equal(hs.iflags,
                     GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG);
    gl_hs_release(&hs);
}

static void context_keys_live_in_the_token(void **state)
{
    struct gl_hs hs = {0};
    OM_uint32 minor;

    (void)state;
    assert_int_equal(tl_session_secret_keys(), 0);
    establish_ok(&hs, "host@localhost", 0);
    /* Four per side (send, receive, K_prf, QOP key-derivation key); the
     * handshake's keys are gone. */
    assert_int_equal(tl_session_secret_keys(), 8);
    gss_delete_sec_context(&minor, &hs.ictx, GSS_C_NO_BUFFER);
    assert_int_equal(tl_session_secret_keys(), 4);
    gl_hs_release(&hs);
    assert_int_equal(tl_session_secret_keys(), 0);
}

static void context_queries(void **state)
{
    struct gl_hs hs = {0};
    gss_name_t src = GSS_C_NO_NAME, targ = GSS_C_NO_NAME;
    OM_uint32 minor, life = 0, flags = 0, t = 0;
    int local = -1, open = -1;
    gss_OID mech = GSS_C_NO_OID;

    (void)state;
    establish_ok(&hs, "host@localhost", GSS_C_MUTUAL_FLAG);
    assert_int_equal(gss_context_time(&minor, hs.ictx, &t), GSS_S_COMPLETE);
    assert_true(t > 0 && t <= 36000);
    assert_int_equal(gss_inquire_context(&minor, hs.ictx, &src, &targ, &life,
                                         &mech, &flags, &local, &open),
                     GSS_S_COMPLETE);
    assert_name(src, "alice@localhost");
    assert_name(targ, "host@localhost");
    assert_true(local == 1 && open == 1 && life > 0);
    assert_true(flags & GSS_C_MUTUAL_FLAG);
    assert_true(gss_oid_equal(mech, gl_mech()));
    gss_release_name(&minor, &src);
    gss_release_name(&minor, &targ);
    assert_int_equal(gss_inquire_context(&minor, hs.actx, &src, &targ, NULL,
                                         NULL, NULL, &local, &open),
                     GSS_S_COMPLETE);
    assert_name(src, "alice@localhost");
    assert_name(targ, "host@localhost");
    assert_true(local == 0 && open == 1);
    gss_release_name(&minor, &src);
    gss_release_name(&minor, &targ);
    gl_hs_release(&hs);
    /* A deleted context is no context. */
    assert_int_equal(GSS_ROUTINE_ERROR(gss_context_time(&minor, hs.ictx, &t)),
                     GSS_S_NO_CONTEXT);
}

static void lifetime_follows_the_request_and_expires(void **state)
{
    struct gl_hs hs = {0};
    OM_uint32 minor, t = 0, major;
    unsigned scale = tl_time_scale();

    (void)state;
    hs.time_req = 2 * scale;
    establish_ok(&hs, "host@localhost", 0);
    assert_true(hs.itime >= 1 && hs.itime <= hs.time_req);
    assert_true(hs.atime >= 1 && hs.atime <= hs.time_req);
    sleep(3 * scale);
    major = gss_context_time(&minor, hs.ictx, &t);
    assert_int_equal(major, GSS_S_CONTEXT_EXPIRED);
    assert_int_equal(t, 0);
    assert_int_equal(gss_context_time(&minor, hs.actx, &t),
                     GSS_S_CONTEXT_EXPIRED);
    gl_hs_release(&hs);
}

static void anonymous_refused_by_policy(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    hs.target = gl_service("host@localhost");
    hs.req_flags = GSS_C_ANON_FLAG;
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.amajor, GSS_S_FAILURE);
    assert_minor_says(hs.aminor, "allow-anonymous is off");
    assert_int_equal(hs.imajor, GSS_S_FAILURE);
    assert_minor_says(hs.iminor, "anonymous initiators are not allowed");
    gl_hs_release(&hs);
}

static struct gss_channel_bindings_struct cb_a = {
    0, {0, NULL}, 0, {0, NULL}, {11, (void *)"tls-unique1"}};
static struct gss_channel_bindings_struct cb_b = {
    0, {0, NULL}, 0, {0, NULL}, {11, (void *)"tls-unique2"}};

static void channel_bindings_equal(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    hs.icb = &cb_a;
    hs.acb = &cb_a;
    establish_ok(&hs, "host@localhost", 0);
    gl_hs_release(&hs);
    /* An acceptor that does not check bindings accepts any. */
    memset(&hs, 0, sizeof(hs));
    hs.icb = &cb_a;
    establish_ok(&hs, "host@localhost", 0);
    gl_hs_release(&hs);
}

static void channel_bindings_differ(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    hs.target = gl_service("host@localhost");
    hs.icb = &cb_a;
    hs.acb = &cb_b;
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.amajor, GSS_S_BAD_BINDINGS);
    assert_minor_says(hs.aminor, "channel bindings");
    assert_int_equal(hs.imajor, GSS_S_BAD_BINDINGS);
    gl_hs_release(&hs);
    /* The initiator without bindings, the acceptor with: also refused. */
    memset(&hs, 0, sizeof(hs));
    hs.target = gl_service("host@localhost");
    hs.acb = &cb_b;
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.amajor, GSS_S_BAD_BINDINGS);
    gl_hs_release(&hs);
}

/* Makes every OpenSSL fetch in this process fail (on) or work again: the
 * plugin shares this process's libcrypto and its default library
 * context, so its EVP_DigestInit_ex(SHA-256) fails while this is on. */
static void evp_fails(bool on)
{
    assert_int_equal(EVP_set_default_properties(
                         NULL, on ? "provider=gp11-no-such-provider" : ""),
                     1);
}

/*
 * Issue 9 item 10: when hashing the channel bindings fails, each side
 * refuses (GSS_S_FAILURE, a minor saying so) instead of going on with 32
 * zero bytes, which mean "no bindings" and would switch the check off.
 */
static void channel_bindings_hash_failure_refuses(void **state)
{
    struct gl_hs hs = {0};
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    gss_name_t target = gl_service("host@localhost");
    OM_uint32 major, minor, m2;

    (void)state;
    /* Control: the same bindings work when OpenSSL does. */
    hs.target = gl_service("host@localhost");
    hs.icb = hs.acb = &cb_a;
    if (!gl_handshake(&hs))
        gl_fail("handshake with bindings", hs.imajor, hs.iminor);
    gl_hs_release(&hs);

    /* The initiator. */
    evp_fails(true);
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ictx, target,
                                 gl_mech(), 0, 0, &cb_a, GSS_C_NO_BUFFER, NULL,
                                 &out, NULL, NULL);
    evp_fails(false);
    assert_int_equal(major, GSS_S_FAILURE);
    assert_minor_says(minor, "hashing the channel bindings");
    assert_int_equal(out.length, 0);
    assert_true(ictx == GSS_C_NO_CONTEXT);

    /* The acceptor, given a good INIT with the same bindings. */
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ictx, target,
                                 gl_mech(), 0, 0, &cb_a, GSS_C_NO_BUFFER, NULL,
                                 &init, NULL, NULL);
    assert_int_equal(major, GSS_S_CONTINUE_NEEDED);
    evp_fails(true);
    major = gss_accept_sec_context(&minor, &actx, GSS_C_NO_CREDENTIAL, &init,
                                   &cb_a, NULL, NULL, &out, NULL, NULL, NULL);
    evp_fails(false);
    assert_int_equal(major, GSS_S_FAILURE);
    assert_minor_says(minor, "hashing the channel bindings");
    assert_int_equal(out.length, 0);
    gss_release_buffer(&m2, &init);
    gss_delete_sec_context(&m2, &ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&m2, &actx, GSS_C_NO_BUFFER);
    gss_release_name(&m2, &target);
}

static void target_without_host_is_refused(void **state)
{
    gss_buffer_desc b = {4, (void *)"host"}, out = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    gss_name_t t = GSS_C_NO_NAME;
    OM_uint32 minor, major;

    (void)state;
    assert_int_equal(
        gss_import_name(&minor, &b, GSS_C_NT_HOSTBASED_SERVICE, &t),
        GSS_S_COMPLETE);
    major =
        gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, t, gl_mech(), 0,
                             0, NULL, NULL, NULL, &out, NULL, NULL);
    assert_int_equal(major, GSS_S_BAD_NAME);
    assert_minor_says(minor, "names no host");
    assert_true(ctx == GSS_C_NO_CONTEXT);
    gss_release_name(&minor, &t);
}

static void stray_call_keeps_an_established_context(void **state)
{
    struct gl_hs hs = {0};
    gss_buffer_desc junk = {5, (void *)"junk!"}, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor, major, t = 0;

    (void)state;
    establish_ok(&hs, "host@localhost", 0);
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &hs.ictx,
                                 hs.target, gl_mech(), 0, 0, NULL, &junk, NULL,
                                 &out, NULL, NULL);
    assert_true(GSS_ERROR(major));
    assert_int_equal(gss_context_time(&minor, hs.ictx, &t), GSS_S_COMPLETE);
    gl_hs_release(&hs);
}

static void unknown_service_is_refused(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    hs.target = gl_service("ldap@localhost");
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.amajor, GSS_S_NO_CRED);
    assert_minor_says(hs.aminor, "ldap@localhost");
    gl_hs_release(&hs);
}

/* Hook: swaps in a saved token for one leg. */
struct swap {
    int leg;
    gss_buffer_desc saved;
};

static void save_leg(int leg, gss_buffer_t tok, void *arg)
{
    struct swap *s = arg;

    if (leg == s->leg && s->saved.value == NULL) {
        s->saved.value = malloc(tok->length);
        memcpy(s->saved.value, tok->value, tok->length);
        s->saved.length = tok->length;
    }
}

static void token_from_the_wrong_step(void **state)
{
    struct gl_hs hs = {0};
    struct swap s = {1, {0, NULL}};
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    OM_uint32 minor, major;

    (void)state;
    hs.mutate = save_leg;
    hs.arg = &s;
    establish_ok(&hs, "host@localhost", 0);
    /* INIT fed to a fresh initiator's second step: not an ACCEPT. */
    gl_hs_release(&hs);
    memset(&hs, 0, sizeof(hs));
    hs.target = gl_service("host@localhost");
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, hs.target,
                                 gl_mech(), 0, 0, NULL, NULL, NULL, &out, NULL,
                                 NULL);
    assert_int_equal(major, GSS_S_CONTINUE_NEEDED);
    gss_release_buffer(&minor, &out);
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, hs.target,
                                 gl_mech(), 0, 0, NULL, &s.saved, NULL, &out,
                                 NULL, NULL);
    assert_int_equal(major, GSS_S_DEFECTIVE_TOKEN);
    assert_minor_says(minor, "INIT where ACCEPT was expected");
    gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
    free(s.saved.value);
    gl_hs_release(&hs);
}

static void spnego_negotiates_gss_pkcs11(void **state)
{
    static gss_OID_desc spnego = {6, (void *)"\x2b\x06\x01\x05\x05\x02"};
    struct gl_hs hs = {0};
    gss_OID_desc *mechs[1];
    gss_OID_set_desc set = {1, NULL};
    gss_buffer_desc disp;
    OM_uint32 minor;

    gss_OID_set_desc spnego_set = {1, &spnego};

    (void)state;
    /* SPNEGO credentials on both sides, negotiating only our mechanism
     * (there is no Kerberos here). */
    mechs[0] = gl_mech();
    set.elements = mechs[0];
    assert_int_equal(gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, &spnego_set,
                                      GSS_C_INITIATE, &hs.icred, NULL, NULL),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_set_neg_mechs(&minor, hs.icred, &set), GSS_S_COMPLETE);
    assert_int_equal(gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, &spnego_set,
                                      GSS_C_ACCEPT, &hs.acred, NULL, NULL),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_set_neg_mechs(&minor, hs.acred, &set), GSS_S_COMPLETE);
    hs.mech = &spnego;
    establish_ok(&hs, "host@localhost", GSS_C_MUTUAL_FLAG);
    assert_true(gss_oid_equal(hs.amech_out, gl_mech()));
    assert_int_equal(gss_display_name(&minor, hs.src, &disp, NULL),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &disp);
    hs.mech = GSS_C_NO_OID;
    gl_hs_release(&hs);
}

static void credentials(void **state)
{
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    gss_name_t name = GSS_C_NO_NAME, svc;
    gss_cred_usage_t usage;
    OM_uint32 minor, life = 0;
    gss_key_value_element_desc kv[1];
    gss_key_value_set_desc store = {1, kv};
    char uri[512];
    struct gl_hs hs = {0};

    (void)state;
    assert_int_equal(gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                      GSS_C_INITIATE, &cred, NULL, &life),
                     GSS_S_COMPLETE);
    assert_true(life > 0);
    assert_int_equal(gss_inquire_cred(&minor, cred, &name, NULL, &usage, NULL),
                     GSS_S_COMPLETE);
    assert_name(name, "alice@localhost");
    assert_int_equal(usage, GSS_C_INITIATE);
    gss_release_name(&minor, &name);
    gss_release_cred(&minor, &cred);
    svc = gl_service("rsa@localhost");
    assert_int_equal(gss_acquire_cred(&minor, svc, 0, gl_mech_set(),
                                      GSS_C_ACCEPT, &cred, NULL, NULL),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_inquire_cred(&minor, cred, &name, NULL, &usage, NULL),
                     GSS_S_COMPLETE);
    assert_name(name, "rsa@localhost");
    gss_release_name(&minor, &name);
    gss_release_cred(&minor, &cred);
    gss_release_name(&minor, &svc);
    /* The cred store names another identity: host's key as initiator.
     * Its certificate is for servers only, so the acceptor refuses it. */
    snprintf(uri, sizeof(uri), "%s;object=host;type=private",
             tl_config()->token_uri);
    kv[0].key = "pkcs11-identity";
    kv[0].value = uri;
    assert_int_equal(gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0,
                                           gl_mech_set(), GSS_C_INITIATE,
                                           &store, &hs.icred, NULL, NULL),
                     GSS_S_COMPLETE);
    hs.target = gl_service("host@localhost");
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.amajor, GSS_S_DEFECTIVE_CREDENTIAL);
    assert_minor_says(hs.aminor, "not valid for an initiator");
    gl_hs_release(&hs);
    /* A cred store identity that does not exist. */
    kv[0].value = "pkcs11:object=nobody;type=private";
    assert_int_equal(gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0,
                                           gl_mech_set(), GSS_C_INITIATE,
                                           &store, &cred, NULL, NULL),
                     GSS_S_NO_CRED);
    assert_minor_says(minor, "0 private keys match");
}

/* The one message of a minor status, through MIT's mechglue, starting
 * from message context mctx (RFC 2744 callers start at 0). */
static void assert_one_sentence(OM_uint32 code, OM_uint32 mctx,
                                const char *want)
{
    gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor, major;

    major = gss_display_status(&minor, code, GSS_C_MECH_CODE, gl_mech(), &mctx,
                               &msg);
    if (major != GSS_S_COMPLETE)
        fail_msg("gss_display_status(0x%x, context %u): major 0x%x", code, mctx,
                 major);
    assert_int_equal(mctx, 0);
    assert_true(msg.length > 10);
    if (want != NULL &&
        (msg.value == NULL || strstr((char *)msg.value, want) == NULL))
        fail_msg("minor 0x%x says '%.*s', want '%s'", code, (int)msg.length,
                 (char *)msg.value, want);
    gss_release_buffer(&minor, &msg);
}

/*
 * gss_display_status has a sentence for the minor status of every
 * outcome: a supplementary status comes with minor 0, which MIT's
 * mechglue maps to a code of its own and hands back to us as 0
 * (python-gssapi raised "gss_display_status call returned failure" on a
 * GSS_S_GAP_TOKEN); and any message context a caller passes is a fresh
 * call that ends with context 0.
 */
static void status_sentences(void **state)
{
    gss_buffer_desc msg = {5, (void *)"hello"}, mic[3];
    struct gl_hs hs = {0};
    OM_uint32 minor, major;

    (void)state;
    establish_ok(&hs, "host@localhost",
                 GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            gss_get_mic(&minor, hs.ictx, GSS_C_QOP_DEFAULT, &msg, &mic[i]),
            GSS_S_COMPLETE);
    assert_int_equal(gss_verify_mic(&minor, hs.actx, &msg, &mic[0], NULL),
                     GSS_S_COMPLETE);
    major = gss_verify_mic(&minor, hs.actx, &msg, &mic[2], NULL);
    assert_int_equal(major, GSS_S_GAP_TOKEN);
    assert_one_sentence(minor, 0, NULL);
    major = gss_verify_mic(&minor, hs.actx, &msg, &mic[2], NULL);
    assert_int_equal(major, GSS_S_DUPLICATE_TOKEN);
    assert_one_sentence(minor, 0, NULL);
    assert_one_sentence(minor, 1, NULL);
    ((unsigned char *)mic[1].value)[mic[1].length - 1] ^= 1;
    major = gss_verify_mic(&minor, hs.actx, &msg, &mic[1], NULL);
    assert_int_equal(major, GSS_S_BAD_SIG);
    assert_one_sentence(minor, 0, "does not verify");
    assert_one_sentence(minor, 1, "does not verify");
    assert_one_sentence(minor, 0x67700004u, "does not verify");
    for (int i = 0; i < 3; i++)
        gss_release_buffer(&minor, &mic[i]);
    gl_hs_release(&hs);
}

/* True if gss_inquire_attrs_for_mech reports attribute attr (attrs) or
 * knows it (known). */
static bool mech_attr(gss_const_OID attr, bool known)
{
    gss_OID_set attrs = GSS_C_NO_OID_SET, knowns = GSS_C_NO_OID_SET;
    OM_uint32 minor;
    int present = 0;

    assert_int_equal(
        gss_inquire_attrs_for_mech(&minor, gl_mech(), &attrs, &knowns),
        GSS_S_COMPLETE);
    gss_test_oid_set_member(&minor, (gss_OID)attr, known ? knowns : attrs,
                            &present);
    gss_release_oid_set(&minor, &attrs);
    gss_release_oid_set(&minor, &knowns);
    return present;
}

/*
 * GSS_C_MA_AUTH_INIT_ANON follows the policy: a Cyrus SASL server with
 * noanonymous (the common default) offers no mechanism that reports it.
 * With allow-anonymous = no (this configuration) it is absent, though a
 * known attribute.
 */
static void anonymous_attribute_follows_policy_off(void **state)
{
    (void)state;
    assert_false(mech_attr(GSS_C_MA_AUTH_INIT_ANON, false));
    assert_true(mech_attr(GSS_C_MA_AUTH_INIT_ANON, true));
    assert_true(mech_attr(GSS_C_MA_AUTH_INIT, false));
}

static void mechanism_attributes(void **state)
{
    /* GSS_C_MA_NOT_DFLT_MECH would hide the mechanism from SPNEGO. */
    static gss_OID_desc not_dflt = {7, (void *)"\x2b\x06\x01\x05\x05\x0d\x08"};
    static gss_OID_desc concrete = {7, (void *)"\x2b\x06\x01\x05\x05\x0d\x01"};
    gss_OID_set attrs = GSS_C_NO_OID_SET;
    gss_buffer_desc sasl, name, desc;
    OM_uint32 minor;
    gss_OID back;
    int present = 0;

    (void)state;
    assert_int_equal(
        gss_inquire_attrs_for_mech(&minor, gl_mech(), &attrs, NULL),
        GSS_S_COMPLETE);
    gss_test_oid_set_member(&minor, &not_dflt, attrs, &present);
    assert_false(present);
    gss_test_oid_set_member(&minor, &concrete, attrs, &present);
    assert_true(present);
    gss_release_oid_set(&minor, &attrs);
    assert_int_equal(
        gss_inquire_saslname_for_mech(&minor, gl_mech(), &sasl, &name, &desc),
        GSS_S_COMPLETE);
    assert_int_equal(sasl.length, 15);
    assert_memory_equal(sasl.value, "GS2-", 4);
    assert_int_equal(gss_inquire_mech_for_saslname(&minor, &sasl, &back),
                     GSS_S_COMPLETE);
    assert_true(gss_oid_equal(back, gl_mech()));
    gss_release_buffer(&minor, &sasl);
    gss_release_buffer(&minor, &name);
    gss_release_buffer(&minor, &desc);
}

/* ---- anon group ----------------------------------------------------- */

static void anonymous_allowed(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    establish_ok(&hs, "host@localhost", GSS_C_ANON_FLAG);
    assert_true(hs.iflags & GSS_C_ANON_FLAG);
    assert_true(hs.aflags & GSS_C_ANON_FLAG);
    assert_name(hs.src, "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS");
    gl_hs_release(&hs);
}

/* A credential whose only trust anchor is the CA file dir/<ca>/ca.pem of
 * the suite's environment (the directory of GSS_PKCS11_CONF). */
static gss_cred_id_t cred_with_anchors(const char *ca)
{
    gss_key_value_element_desc kv[1];
    gss_key_value_set_desc store = {1, kv};
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    const char *conf = getenv("GSS_PKCS11_CONF");
    const char *slash;
    char path[4096];
    OM_uint32 major, minor;

    assert_non_null(conf);
    slash = strrchr(conf, '/');
    assert_non_null(slash);
    snprintf(path, sizeof(path), "%.*s/%s/ca.pem", (int)(slash - conf), conf,
             ca);
    kv[0].key = "trust-anchors";
    kv[0].value = path;
    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                  GSS_C_INITIATE, &store, &cred, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_acquire_cred_from(trust-anchors)", major, minor);
    return cred;
}

/*
 * Issue 9 item 1: an anonymous initiator validates the acceptor with its
 * credential's trust anchors, as an authenticated one does. Its only
 * anchor (otherca) did not issue host@localhost's certificate, which the
 * global [trust] anchors would accept: the initiator refuses ACCEPT.
 */
static void anonymous_uses_the_credentials_anchors(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    hs.icred = cred_with_anchors("otherca");
    hs.target = gl_service("host@localhost");
    hs.req_flags = GSS_C_ANON_FLAG;
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.legs, 3); /* the initiator refused ACCEPT */
    assert_int_equal(hs.amajor, GSS_S_CONTINUE_NEEDED);
    assert_int_equal(hs.imajor, GSS_S_DEFECTIVE_CREDENTIAL);
    assert_minor_says(hs.iminor, "is not trusted");
    gl_hs_release(&hs);
    /* The same credential initiating with its identity: refused alike. */
    memset(&hs, 0, sizeof(hs));
    hs.icred = cred_with_anchors("otherca");
    hs.target = gl_service("host@localhost");
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.imajor, GSS_S_DEFECTIVE_CREDENTIAL);
    gl_hs_release(&hs);
    /* Control: anchors that did issue it, anonymous, complete. */
    memset(&hs, 0, sizeof(hs));
    hs.icred = cred_with_anchors("ca");
    establish_ok(&hs, "host@localhost", GSS_C_ANON_FLAG);
    assert_true(hs.iflags & GSS_C_ANON_FLAG);
    gl_hs_release(&hs);
}

/* With allow-anonymous = yes (anon.conf) the mechanism reports it. */
static void anonymous_attribute_follows_policy_on(void **state)
{
    (void)state;
    assert_true(mech_attr(GSS_C_MA_AUTH_INIT_ANON, false));
    assert_true(mech_attr(GSS_C_MA_AUTH_INIT, false));
}

/*
 * Once the mechanism runs, its attributes are those of the running
 * configuration: a configuration file that changes (here: disappears)
 * afterwards changes neither the contexts nor what the attributes say.
 */
static void attributes_follow_the_running_configuration(void **state)
{
    const char *conf = getenv("GSS_PKCS11_CONF");
    char *saved;
    struct gl_hs hs = {0};
    bool anon;

    (void)state;
    assert_non_null(conf);
    saved = strdup(conf);
    assert_non_null(saved);
    establish_ok(&hs, "host@localhost", GSS_C_ANON_FLAG);
    gl_hs_release(&hs);
    assert_int_equal(setenv("GSS_PKCS11_CONF", "/nonexistent/gp11.conf", 1), 0);
    anon = mech_attr(GSS_C_MA_AUTH_INIT_ANON, false);
    assert_int_equal(setenv("GSS_PKCS11_CONF", saved, 1), 0);
    free(saved);
    assert_true(anon);
}

/* ---- extra group ------------------------------------------------------ */

/* Handshake to a service whose certificate is bad; the initiator fails. */
static void refused_by_initiator(const char *service, OM_uint32 major,
                                 const char *says)
{
    struct gl_hs hs = {0};

    hs.target = gl_service(service);
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.legs, 3);
    assert_int_equal(hs.imajor, major);
    assert_minor_says(hs.iminor, says);
    gl_hs_release(&hs);
}

static void untrusted_acceptor(void **state)
{
    (void)state;
    refused_by_initiator("untrusted@localhost", GSS_S_DEFECTIVE_CREDENTIAL,
                         "untrusted@localhost");
}

static void acceptor_names_another_host(void **state)
{
    (void)state;
    refused_by_initiator("wrong@localhost", GSS_S_DEFECTIVE_CREDENTIAL,
                         "localhost");
}

/*
 * What an unauthenticated initiator learns when the acceptor refuses INIT
 * for a reason of its own (here: its certificate for expired@localhost
 * has expired): only that it was refused (protocol.md 2.9); the acceptor's
 * caller gets the detail.
 */
static void acceptor_trouble_is_not_disclosed(void **state)
{
    struct gl_hs hs = {0};
    char text[2048];

    (void)state;
    hs.target = gl_service("expired@localhost");
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.legs, 3); /* INIT, ERROR, the initiator's verdict */
    assert_int_equal(hs.amajor, GSS_S_CREDENTIALS_EXPIRED);
    assert_minor_says(hs.aminor, "expired");
    assert_int_equal(hs.imajor, GSS_S_FAILURE);
    assert_minor_says(hs.iminor, "the acceptor refused the context");
    gl_minor_text(hs.iminor, text, sizeof(text));
    if (strstr(text, "expired") != NULL)
        fail_msg("the initiator learnt the acceptor's trouble: '%s'", text);
    gl_hs_release(&hs);
}

static void cred_store_identity_initiates(void **state)
{
    gss_key_value_element_desc kv[1];
    gss_key_value_set_desc store = {1, kv};
    struct gl_hs hs = {0};
    char uri[512];
    OM_uint32 minor;

    (void)state;
    snprintf(uri, sizeof(uri), "%s;object=both;type=private",
             tl_config()->token_uri);
    kv[0].key = "pkcs11-identity";
    kv[0].value = uri;
    assert_int_equal(gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0,
                                           gl_mech_set(), GSS_C_INITIATE,
                                           &store, &hs.icred, NULL, NULL),
                     GSS_S_COMPLETE);
    establish_ok(&hs, "host@localhost", 0);
    assert_name(hs.src, "both@localhost");
    gl_hs_release(&hs);
}

static void expired_identity_refused_at_acquisition(void **state)
{
    gss_name_t svc = gl_service("expired@localhost");
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    OM_uint32 minor;

    (void)state;
    assert_int_equal(gss_acquire_cred(&minor, svc, 0, gl_mech_set(),
                                      GSS_C_ACCEPT, &cred, NULL, NULL),
                     GSS_S_CREDENTIALS_EXPIRED);
    assert_minor_says(minor, "expired");
    gss_release_name(&minor, &svc);
}

/* ---- mangle group ----------------------------------------------------- */

struct mangle {
    int leg;
    size_t pos; /* byte to flip, or length to truncate to */
    bool truncate;
    size_t len; /* the leg's token length, learnt on the first run */
};

static void mangle_leg(int leg, gss_buffer_t tok, void *arg)
{
    struct mangle *m = arg;

    if (leg != m->leg)
        return;
    m->len = tok->length;
    if (m->truncate && m->pos == 0 && tok->length > 0) {
        /* Nothing left: the empty buffer, which gss_release_buffer (it
         * frees nothing of length 0) cannot leak. */
        free(tok->value);
        tok->value = NULL;
        tok->length = 0;
    } else if (m->truncate && m->pos < tok->length) {
        tok->length = m->pos;
    } else if (!m->truncate && m->pos < tok->length) {
        ((unsigned char *)tok->value)[m->pos] ^= 0x01;
    }
}

/* Every byte flipped / every truncation of one leg: never completes. */
static void mangle_every_byte(int leg, bool truncate)
{
    struct mangle m = {leg, (size_t)-1, truncate, 0};
    struct gl_hs hs = {0};
    size_t failures = 0;

    hs.mutate = mangle_leg;
    hs.arg = &m;
    establish_ok(&hs, "host@localhost", 0); /* learns the length */
    gl_hs_release(&hs);
    for (m.pos = 0; m.pos < m.len; m.pos++) {
        memset(&hs, 0, sizeof(hs));
        hs.mutate = mangle_leg;
        hs.arg = &m;
        hs.target = gl_service("host@localhost");
        if (gl_handshake(&hs))
            fail_msg("leg %d %s at %zu still completed", leg,
                     truncate ? "truncated" : "flipped", m.pos);
        /* Only the initiator sees ACCEPT: it must refuse it itself, not
         * leave that to the acceptor noticing a different transcript. */
        if (leg == 2 && !(GSS_ERROR(hs.imajor) && hs.legs == 3))
            fail_msg("the initiator accepted ACCEPT %s at %zu (major 0x%x)",
                     truncate ? "truncated" : "flipped", m.pos, hs.imajor);
        if (leg == 3 && !GSS_ERROR(hs.amajor))
            fail_msg("the acceptor accepted FINISH %s at %zu",
                     truncate ? "truncated" : "flipped", m.pos);
        /* The acceptor is done; only the initiator sees CONFIRM. */
        if (leg == 4 && !(GSS_ERROR(hs.imajor) && hs.amajor == GSS_S_COMPLETE))
            fail_msg("the initiator accepted CONFIRM %s at %zu (major 0x%x)",
                     truncate ? "truncated" : "flipped", m.pos, hs.imajor);
        failures++;
        gl_hs_release(&hs);
    }
    assert_int_equal(failures, m.len);
    assert_int_equal(tl_session_secret_keys(), 0); /* no key left behind */
}

static void flip_init(void **state)
{
    (void)state;
    mangle_every_byte(1, false);
}

static void flip_accept(void **state)
{
    (void)state;
    mangle_every_byte(2, false);
}

static void flip_finish(void **state)
{
    (void)state;
    mangle_every_byte(3, false);
}

static void flip_confirm(void **state)
{
    (void)state;
    mangle_every_byte(4, false);
}

static void truncate_every_leg(void **state)
{
    (void)state;
    for (int leg = 1; leg <= 4; leg++)
        mangle_every_byte(leg, true);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest main_tests[] = {
        cmocka_unit_test(alice_to_host),
        cmocka_unit_test(alice_to_rsa_service),
        cmocka_unit_test(context_keys_live_in_the_token),
        cmocka_unit_test(context_queries),
        cmocka_unit_test(lifetime_follows_the_request_and_expires),
        cmocka_unit_test(anonymous_refused_by_policy),
        cmocka_unit_test(channel_bindings_equal),
        cmocka_unit_test(channel_bindings_differ),
        cmocka_unit_test(channel_bindings_hash_failure_refuses),
        cmocka_unit_test(unknown_service_is_refused),
        cmocka_unit_test(target_without_host_is_refused),
        cmocka_unit_test(stray_call_keeps_an_established_context),
        cmocka_unit_test(token_from_the_wrong_step),
        cmocka_unit_test(spnego_negotiates_gss_pkcs11),
        cmocka_unit_test(credentials),
        cmocka_unit_test(mechanism_attributes),
        cmocka_unit_test(anonymous_attribute_follows_policy_off),
        cmocka_unit_test(status_sentences),
    };
    const struct CMUnitTest anon_tests[] = {
        cmocka_unit_test(anonymous_allowed),
        cmocka_unit_test(anonymous_uses_the_credentials_anchors),
        cmocka_unit_test(anonymous_attribute_follows_policy_on),
        cmocka_unit_test(attributes_follow_the_running_configuration),
    };
    const struct CMUnitTest extra_tests[] = {
        cmocka_unit_test(untrusted_acceptor),
        cmocka_unit_test(acceptor_names_another_host),
        cmocka_unit_test(expired_identity_refused_at_acquisition),
        cmocka_unit_test(acceptor_trouble_is_not_disclosed),
        cmocka_unit_test(cred_store_identity_initiates),
    };
    const struct CMUnitTest mangle_tests[] = {
        cmocka_unit_test(flip_init),
        cmocka_unit_test(flip_accept),
        cmocka_unit_test(flip_finish),
        cmocka_unit_test(flip_confirm),
        cmocka_unit_test(truncate_every_leg),
    };
    const char *group = argc > 1 ? argv[1] : "main";

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    if (strcmp(group, "anon") == 0)
        return cmocka_run_group_tests_name("anon", anon_tests, NULL, NULL);
    if (strcmp(group, "extra") == 0)
        return cmocka_run_group_tests_name("extra", extra_tests, NULL, NULL);
    if (strcmp(group, "mangle") == 0)
        return cmocka_run_group_tests_name("mangle", mangle_tests, NULL, NULL);
    return cmocka_run_group_tests_name("main", main_tests, NULL, NULL);
}
