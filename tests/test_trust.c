/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificates, names and service binding (docs/protocol.md 2.10,
 * docs/names.md) through MIT's mechglue on the suite's token. argv[1]
 * picks the group and its configuration (tests/setup-tokens.sh):
 *   bind    trust.conf: initiator-anchors = CA + caI, acceptor-anchors =
 *           CA + caA, require-service-binding at its default (yes)
 *   nobind  trust-nobind.conf: the same with require-service-binding = no
 */
#include "adversary.h"
#include "gsslib.h"
#include "testlib.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The X.509 subject name type: the mechanism OID plus the arc 1. */
static bool is_x509_type(gss_OID t)
{
    gss_OID m = gl_mech();

    return t != GSS_C_NO_OID && t->length == m->length + 1 &&
           memcmp(t->elements, m->elements, m->length) == 0 &&
           ((unsigned char *)t->elements)[m->length] == 1;
}

/* Asserts the display form (and, if type is not NULL, the type) of n. */
static void assert_name(gss_name_t n, const char *want, gss_OID type)
{
    gss_buffer_desc d;
    gss_OID t = GSS_C_NO_OID;
    OM_uint32 minor;

    assert_int_equal(gss_display_name(&minor, n, &d, &t), GSS_S_COMPLETE);
    if (d.length != strlen(want) || memcmp(d.value, want, d.length) != 0)
        fail_msg("name '%.*s', want '%s'", (int)d.length, (char *)d.value,
                 want);
    gss_release_buffer(&minor, &d);
    if (type != GSS_C_NO_OID && !gss_oid_equal(t, type))
        fail_msg("name '%s' has another name type", want);
}

/* Asserts the minor status displays text containing want. */
static void assert_minor_says(OM_uint32 minor, const char *want)
{
    char text[2048];

    gl_minor_text(minor, text, sizeof(text));
    if (strstr(text, want) == NULL)
        fail_msg("minor status says '%s', want '%s'", text, want);
}

/* The environment directory (where GSS_PKCS11_CONF is) joined with file. */
static const char *env_file(const char *file)
{
    static char path[PATH_MAX];
    char conf[PATH_MAX];

    snprintf(conf, sizeof(conf), "%s", getenv("GSS_PKCS11_CONF"));
    snprintf(path, sizeof(path), "%s/%s", dirname(conf), file);
    return path;
}

/* An initiator credential for the token object label, with an optional
 * second cred-store key. */
static gss_cred_id_t initiator_cred(const char *label, const char *key,
                                    const char *value)
{
    gss_key_value_element_desc kv[2];
    gss_key_value_set_desc store = {1, kv};
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    char uri[512];
    OM_uint32 major, minor;

    snprintf(uri, sizeof(uri), "%s;object=%s;type=private",
             tl_config()->token_uri, label);
    kv[0].key = "pkcs11-identity";
    kv[0].value = uri;
    if (key != NULL) {
        kv[1].key = key;
        kv[1].value = value;
        store.count = 2;
    }
    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                  GSS_C_INITIATE, &store, &cred, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_acquire_cred_from", major, minor);
    return cred;
}

/* Runs label -> service; true if both sides completed. */
static bool run(struct gl_hs *hs, const char *label, const char *service)
{
    if (label != NULL)
        hs->icred = initiator_cred(label, NULL, NULL);
    hs->target = gl_service(service);
    return gl_handshake(hs);
}

/* Asserts the handshake completed. */
static void assert_ok(struct gl_hs *hs, bool ok)
{
    if (!ok)
        gl_fail(GSS_ERROR(hs->imajor) ? "initiator" : "acceptor",
                GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
}

/* Asserts the acceptor refused the initiator's certificate, saying why. */
static void assert_acceptor_refused(struct gl_hs *hs, bool ok, const char *why)
{
    assert_false(ok);
    assert_int_equal(hs->amajor, GSS_S_DEFECTIVE_CREDENTIAL);
    assert_minor_says(hs->aminor, why);
}

/* Asserts the initiator refused the acceptor's certificate, saying why. */
static void assert_initiator_refused(struct gl_hs *hs, bool ok, const char *why)
{
    assert_false(ok);
    assert_false(GSS_ERROR(hs->amajor));
    assert_int_equal(hs->imajor, GSS_S_DEFECTIVE_CREDENTIAL);
    assert_minor_says(hs->iminor, why);
}

/* ---- names (docs/names.md) ---------------------------------------------- */

/* CN=root with only DNS:attacker.example: a machine, never user "root". */
static void cn_root_with_dns_san_is_no_user(void **state)
{
    struct gl_hs hs = {0};
    gss_buffer_desc local = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;

    (void)state;
    assert_ok(&hs, run(&hs, "rootdns", "host@localhost"));
    assert_name(hs.src, "host@attacker.example", GSS_C_NT_HOSTBASED_SERVICE);
    major = gss_localname(&minor, hs.src, gl_mech(), &local);
    if (major == GSS_S_COMPLETE)
        fail_msg("gss_localname mapped the peer to '%.*s'", (int)local.length,
                 (char *)local.value);
    assert_int_equal(major, GSS_S_UNAVAILABLE);
    assert_null(local.value);
    gl_hs_release(&hs);
}

/* rfc822Name "root\0": refused, not shortened to "root". The rule is
 * the one function (gp11_name_from_cert_ex) that names the peer at the
 * acceptor and our own identity at acquisition, which is where an honest
 * mechglue caller meets it: the credential is refused, naming the NUL
 * (tests/test_names.c checks the acceptor's side of the same rule). */
static void nul_in_rfc822name_refused(void **state)
{
    gss_key_value_element_desc kv[1];
    gss_key_value_set_desc store = {1, kv};
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    gss_name_t name = GSS_C_NO_NAME;
    char uri[512];
    OM_uint32 major, minor;

    (void)state;
    snprintf(uri, sizeof(uri), "%s;object=nulmail;type=private",
             tl_config()->token_uri);
    kv[0].key = "pkcs11-identity";
    kv[0].value = uri;
    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                  GSS_C_INITIATE, &store, &cred, NULL, NULL);
    if (major == GSS_S_COMPLETE) {
        assert_int_equal(
            gss_inquire_cred(&minor, cred, &name, NULL, NULL, NULL),
            GSS_S_COMPLETE);
        assert_name(name, "(should have been refused)", GSS_C_NO_OID);
    }
    assert_int_equal(major, GSS_S_DEFECTIVE_CREDENTIAL);
    assert_minor_says(minor, "NUL");
    assert_null(cred);
}

/* A hostile initiator (tests/adversary.c: the provider's handshake code
 * with every key of the token) sends the certificate of label; the honest
 * acceptor's last status, its minor and src_name are returned. */
static OM_uint32 hostile_initiator(const char *label, OM_uint32 *minor,
                                   gss_name_t *src)
{
    struct adv *a = adv_new(true);
    gss_buffer_desc init = GSS_C_EMPTY_BUFFER, acc = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc fin = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    struct gp11_hs_finish f;
    OM_uint32 major, m;

    adv_identity(a, label, label);
    adv_init(a, "host@localhost", 0, &init);
    major = gss_accept_sec_context(minor, &ctx, GSS_C_NO_CREDENTIAL, &init,
                                   NULL, NULL, NULL, &acc, NULL, NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED)
        gl_fail("gss_accept_sec_context (INIT)", major, *minor);
    adv_take_accept(a, &acc);
    adv_finish_defaults(a, &f);
    adv_send_finish(a, &f, &fin);
    major = gss_accept_sec_context(minor, &ctx, GSS_C_NO_CREDENTIAL, &fin, NULL,
                                   src, NULL, &out, NULL, NULL, NULL);
    gss_release_buffer(&m, &init);
    gss_release_buffer(&m, &acc);
    gss_release_buffer(&m, &fin);
    gss_release_buffer(&m, &out);
    gss_delete_sec_context(&m, &ctx, GSS_C_NO_BUFFER);
    adv_free(a);
    return major;
}

/* The acceptor's side: a FINISH with the rfc822Name "root\0" is refused
 * (control: the same hostile path with clii is accepted as clii). */
static void hostile_nul_rfc822name_refused(void **state)
{
    gss_name_t src = GSS_C_NO_NAME;
    OM_uint32 major, minor;

    (void)state;
    major = hostile_initiator("clii", &minor, &src);
    if (GSS_ERROR(major))
        gl_fail("the control handshake", major, minor);
    assert_name(src, "clii@localhost", GSS_C_NT_USER_NAME);
    gss_release_name(&minor, &src);
    major = hostile_initiator("nulmail", &minor, &src);
    if (!GSS_ERROR(major))
        assert_name(src, "(should have been refused)", GSS_C_NO_OID);
    assert_int_equal(major, GSS_S_DEFECTIVE_CREDENTIAL);
    assert_minor_says(minor, "NUL");
    assert_null(src);
}

/* ---- anchors per role -----------------------------------------------------
 */

/* A client certificate of caI (initiator-anchors) is accepted... */
static void client_of_initiator_anchor_accepted(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    assert_ok(&hs, run(&hs, "clii", "host@localhost"));
    assert_name(hs.src, "clii@localhost", GSS_C_NT_USER_NAME);
    gl_hs_release(&hs);
}

/* ...one of caA (only in acceptor-anchors) is refused at the acceptor. */
static void client_of_acceptor_anchor_refused(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    assert_acceptor_refused(&hs, run(&hs, "clia", "host@localhost"),
                            "not trusted");
    gl_hs_release(&hs);
}

/* A server certificate of caA (acceptor-anchors) is accepted... */
static void server_of_acceptor_anchor_accepted(void **state)
{
    struct gl_hs hs = {0};
    gss_name_t targ = GSS_C_NO_NAME;
    OM_uint32 minor;

    (void)state;
    assert_ok(&hs, run(&hs, NULL, "srva@localhost"));
    assert_int_equal(gss_inquire_context(&minor, hs.ictx, NULL, &targ, NULL,
                                         NULL, NULL, NULL, NULL),
                     GSS_S_COMPLETE);
    assert_name(targ, "srva@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    gss_release_name(&minor, &targ);
    gl_hs_release(&hs);
}

/* ...one of caI (only in initiator-anchors) is refused at the initiator. */
static void server_of_initiator_anchor_refused(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    assert_initiator_refused(&hs, run(&hs, NULL, "srvi@localhost"),
                             "not trusted");
    gl_hs_release(&hs);
}

/* Cred-store keys per role: "acceptor-anchors" on an initiator credential
 * replaces the configured acceptor anchors, and only those. */
static void cred_store_anchors_per_role(void **state)
{
    struct gl_hs hs = {0};
    bool ok;

    (void)state;
    hs.icred =
        initiator_cred("alice", "acceptor-anchors", env_file("trust-init.pem"));
    ok = run(&hs, NULL, "srvi@localhost"); /* caI now judges servers */
    assert_ok(&hs, ok);
    gl_hs_release(&hs);
    memset(&hs, 0, sizeof(hs));
    hs.icred =
        initiator_cred("alice", "acceptor-anchors", env_file("trust-init.pem"));
    assert_initiator_refused(&hs, run(&hs, NULL, "srva@localhost"),
                             "not trusted");
    gl_hs_release(&hs);
    memset(&hs, 0, sizeof(hs));
    /* "initiator-anchors" on an initiator credential leaves the acceptor
     * anchors (the configured ones) in place. */
    hs.icred = initiator_cred("alice", "initiator-anchors",
                              env_file("trust-init.pem"));
    assert_initiator_refused(&hs, run(&hs, NULL, "srvi@localhost"),
                             "not trusted");
    gl_hs_release(&hs);
}

/* ---- EKU per role -------------------------------------------------------- */

/* A serverAuth-only certificate cannot initiate. */
static void server_eku_cannot_initiate(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    assert_acceptor_refused(&hs, run(&hs, "srvonly", "host@localhost"),
                            "not valid for an initiator");
    gl_hs_release(&hs);
}

/* A clientAuth-only certificate cannot accept. */
static void client_eku_cannot_accept(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    assert_initiator_refused(&hs, run(&hs, NULL, "clionly@localhost"),
                             "not valid for an acceptor");
    gl_hs_release(&hs);
}

/* ---- service binding ------------------------------------------------------
 */

/* host@localhost's certificate binds _host.localhost: proven. */
static void bound_service_proven(void **state)
{
    struct gl_hs hs = {0};
    gss_name_t targ = GSS_C_NO_NAME;
    OM_uint32 minor;

    (void)state;
    assert_ok(&hs, run(&hs, NULL, "host@localhost"));
    assert_int_equal(gss_inquire_context(&minor, hs.ictx, NULL, &targ, NULL,
                                         NULL, NULL, NULL, NULL),
                     GSS_S_COMPLETE);
    assert_name(targ, "host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    gss_release_name(&minor, &targ);
    gl_hs_release(&hs);
}

/* A certificate for localhost without any SRVName: refused. */
static void no_service_refused(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    assert_initiator_refused(&hs, run(&hs, NULL, "nosvc@localhost"),
                             "binds no service");
    gl_hs_release(&hs);
}

/* A certificate for _ldap.localhost answering as othersvc@: refused. */
static void other_service_refused(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    assert_initiator_refused(&hs, run(&hs, NULL, "othersvc@localhost"),
                             "_ldap.localhost");
    gl_hs_release(&hs);
}

/* With require-service-binding = no: the context is made, and the
 * initiator reports only the certificate's subject, never service@host. */
static void unbound_reports_subject(const char *service, const char *subject)
{
    struct gl_hs hs = {0};
    gss_name_t targ = GSS_C_NO_NAME;
    gss_buffer_desc d;
    gss_OID type = GSS_C_NO_OID;
    OM_uint32 minor;

    assert_ok(&hs, run(&hs, NULL, service));
    assert_int_equal(gss_inquire_context(&minor, hs.ictx, NULL, &targ, NULL,
                                         NULL, NULL, NULL, NULL),
                     GSS_S_COMPLETE);
    assert_name(targ, subject, GSS_C_NO_OID);
    assert_int_equal(gss_display_name(&minor, targ, &d, &type), GSS_S_COMPLETE);
    gss_release_buffer(&minor, &d);
    if (!is_x509_type(type))
        fail_msg("the unproven acceptor of %s is not an X.509 subject name",
                 service);
    gss_release_name(&minor, &targ);
    gl_hs_release(&hs);
}

static void nobind_no_service_reports_subject(void **state)
{
    (void)state;
    unbound_reports_subject("nosvc@localhost", "CN=nosvc@localhost");
}

static void nobind_other_service_reports_subject(void **state)
{
    (void)state;
    unbound_reports_subject("othersvc@localhost", "CN=othersvc@localhost");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest bind[] = {
        cmocka_unit_test(cn_root_with_dns_san_is_no_user),
        cmocka_unit_test(nul_in_rfc822name_refused),
        cmocka_unit_test(hostile_nul_rfc822name_refused),
        cmocka_unit_test(client_of_initiator_anchor_accepted),
        cmocka_unit_test(client_of_acceptor_anchor_refused),
        cmocka_unit_test(server_of_acceptor_anchor_accepted),
        cmocka_unit_test(server_of_initiator_anchor_refused),
        cmocka_unit_test(cred_store_anchors_per_role),
        cmocka_unit_test(server_eku_cannot_initiate),
        cmocka_unit_test(client_eku_cannot_accept),
        cmocka_unit_test(bound_service_proven),
        cmocka_unit_test(no_service_refused),
        cmocka_unit_test(other_service_refused),
    };
    const struct CMUnitTest nobind[] = {
        cmocka_unit_test(bound_service_proven),
        cmocka_unit_test(nobind_no_service_reports_subject),
        cmocka_unit_test(nobind_other_service_reports_subject),
    };
    const char *group = argc > 1 ? argv[1] : "bind";

    tl_config();
    if (strcmp(group, "nobind") == 0)
        return cmocka_run_group_tests_name("nobind", nobind, NULL, NULL);
    return cmocka_run_group_tests_name("bind", bind, NULL, NULL);
}
