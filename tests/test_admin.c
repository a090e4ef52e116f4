/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The administrator's view of failures (issue 13 items 11, 12, 14),
 * through MIT's mechglue on the suite's token. argv[1] picks the group,
 * each with its own configuration (tests/setup-tokens.sh,
 * add_admin_identities):
 *   main    gss-pkcs11.conf: identity keys that can leave the token and
 *           certificates of another key are refused; messages name the
 *           key, token and service
 *   allow   admin-allow.conf: allow-extractable-identity = yes
 *   badpin  admin-badpin.conf: the PIN file holds a wrong PIN
 */
#include "gsslib.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRONG_PIN "wrong-pin-4711"

/* The label of the suite's token (tests/setup-tokens.sh). */
static const char *token_label(void)
{
    return strcmp(tl_kind(), "nss") == 0 ? "NSS Certificate DB"
                                         : "gss-pkcs11-dev";
}

/* Asserts the minor status displays text containing want, never MIT's
 * "Unknown error" (the text of minor 0, issue 13 item 14). */
static void assert_minor_says(OM_uint32 minor, const char *want)
{
    char text[2048];

    assert_int_not_equal(minor, 0);
    gl_minor_text(minor, text, sizeof(text));
    if (strstr(text, want) == NULL)
        fail_msg("minor status says '%s', want '%s'", text, want);
    if (strstr(text, "Unknown error") != NULL)
        fail_msg("minor status says '%s'", text);
}

/* gss_acquire_cred_from with the identity object=label of the token. */
static OM_uint32 acquire(const char *label, gss_cred_usage_t usage,
                         gss_cred_id_t *cred, OM_uint32 *minor)
{
    gss_key_value_element_desc kv[1];
    gss_key_value_set_desc store = {1, kv};
    char uri[2048];

    snprintf(uri, sizeof(uri), "%s;object=%s;type=private",
             tl_config()->token_uri, label);
    kv[0].key = "pkcs11-identity";
    kv[0].value = uri;
    *cred = GSS_C_NO_CREDENTIAL;
    return gss_acquire_cred_from(minor, GSS_C_NO_NAME, 0, gl_mech_set(), usage,
                                 &store, cred, NULL, NULL);
}

/* Asserts acquisition of label fails with major and the minor names the
 * key, the token and why. */
static void assert_refused(const char *label, OM_uint32 want_major,
                           const char *why)
{
    gss_cred_id_t cred;
    OM_uint32 minor, major;
    char key[256];

    major = acquire(label, GSS_C_INITIATE, &cred, &minor);
    if (major != want_major)
        gl_fail(label, major, minor);
    assert_int_equal(major, want_major);
    assert_true(cred == GSS_C_NO_CREDENTIAL);
    snprintf(key, sizeof(key), "key '%s' on token '%s'", label, token_label());
    assert_minor_says(minor, key);
    assert_minor_says(minor, why);
}

/* Item 11: CKA_EXTRACTABLE = TRUE is refused by default. */
static void extractable_key_refused(void **state)
{
    (void)state;
    assert_refused("adm-extract", GSS_S_DEFECTIVE_CREDENTIAL,
                   "CKA_EXTRACTABLE is TRUE");
    assert_refused("adm-extract", GSS_S_DEFECTIVE_CREDENTIAL,
                   "allow-extractable-identity = yes");
}

/* Item 11: CKA_SENSITIVE = FALSE is refused by default. */
static void clear_key_refused(void **state)
{
    gss_cred_id_t cred;
    OM_uint32 minor, major;

    (void)state;
    if (strcmp(tl_kind(), "nss") == 0) {
        /* NSS softoken makes every private key on its token sensitive
         * (CKA_SENSITIVE = FALSE in the template is overridden and the
         * key reads back TRUE): the key is protected and accepted. */
        major = acquire("adm-clear", GSS_C_INITIATE, &cred, &minor);
        if (major != GSS_S_COMPLETE)
            gl_fail("acquire adm-clear", major, minor);
        gss_release_cred(&minor, &cred);
        return;
    }
    assert_refused("adm-clear", GSS_S_DEFECTIVE_CREDENTIAL,
                   "CKA_SENSITIVE is FALSE");
}

/* Item 12: a certificate of another key under the key's CKA_ID. */
static void foreign_certificate_refused(void **state)
{
    (void)state;
    assert_refused("adm-foreign", GSS_S_DEFECTIVE_CREDENTIAL,
                   "certificate \"/CN=adm-foreign@localhost\" does not match "
                   "key 'adm-foreign'");
}

/* Item 12: of two leaf certificates sharing the CKA_ID, the one holding
 * the key's public key is used: the acceptor verifies the signature. */
static void matching_certificate_picked(void **state)
{
    struct gl_hs hs = {0};
    OM_uint32 minor, major;

    (void)state;
    major = acquire("adm-twocert", GSS_C_INITIATE, &hs.icred, &minor);
    if (major != GSS_S_COMPLETE)
        gl_fail("acquire adm-twocert", major, minor);
    hs.target = gl_service("host@localhost");
    if (!gl_handshake(&hs))
        gl_fail(GSS_ERROR(hs.imajor) ? "initiator" : "acceptor",
                GSS_ERROR(hs.imajor) ? hs.imajor : hs.amajor,
                GSS_ERROR(hs.imajor) ? hs.iminor : hs.aminor);
    gl_hs_release(&hs);
}

/* Identities made the usual way still work. */
static void protected_identity_accepted(void **state)
{
    gss_cred_id_t cred;
    OM_uint32 minor, major;

    (void)state;
    major = acquire("alice", GSS_C_INITIATE, &cred, &minor);
    if (major != GSS_S_COMPLETE)
        gl_fail("acquire alice", major, minor);
    gss_release_cred(&minor, &cred);
}

/* Item 14: the initiator learns which service has no acceptor identity,
 * on both sides the text names it. */
static void missing_service_is_named(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    hs.target = gl_service("nosuch@localhost");
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.amajor, GSS_S_NO_CRED);
    assert_minor_says(hs.aminor, "'nosuch@localhost'");
    assert_true(GSS_ERROR(hs.imajor));
    assert_minor_says(hs.iminor, "no acceptor identity is configured for the "
                                 "service 'nosuch@localhost'");
    gl_hs_release(&hs);
}

/* allow-extractable-identity = yes: such keys are the administrator's
 * choice; a certificate of another key is still refused. */
static void extractable_allowed(void **state)
{
    gss_cred_id_t cred;
    OM_uint32 minor, major;

    (void)state;
    major = acquire("adm-extract", GSS_C_INITIATE, &cred, &minor);
    if (major != GSS_S_COMPLETE)
        gl_fail("acquire adm-extract", major, minor);
    gss_release_cred(&minor, &cred);
    major = acquire("adm-clear", GSS_C_INITIATE, &cred, &minor);
    if (major != GSS_S_COMPLETE)
        gl_fail("acquire adm-clear", major, minor);
    gss_release_cred(&minor, &cred);
    assert_refused("adm-foreign", GSS_S_DEFECTIVE_CREDENTIAL, "does not match");
}

/* Item 14: a wrong PIN names the token by label and the PIN file by
 * path, and never shows the PIN. */
static void wrong_pin_names_token_and_file(void **state)
{
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    OM_uint32 minor, major;
    char want[4200], text[2048];

    (void)state;
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                             GSS_C_INITIATE, &cred, NULL, NULL);
    assert_true(GSS_ERROR(major));
    snprintf(want, sizeof(want), "the token '%s' (slot %s", token_label(), "");
    assert_minor_says(minor, want);
    snprintf(want, sizeof(want), "rejected the PIN from the PIN file %s",
             tl_config()->pin_source);
    assert_minor_says(minor, want);
    gl_minor_text(minor, text, sizeof(text));
    assert_null(strstr(text, WRONG_PIN));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest main_tests[] = {
        cmocka_unit_test(extractable_key_refused),
        cmocka_unit_test(clear_key_refused),
        cmocka_unit_test(foreign_certificate_refused),
        cmocka_unit_test(matching_certificate_picked),
        cmocka_unit_test(protected_identity_accepted),
        cmocka_unit_test(missing_service_is_named),
    };
    const struct CMUnitTest allow_tests[] = {
        cmocka_unit_test(extractable_allowed),
    };
    const struct CMUnitTest badpin_tests[] = {
        cmocka_unit_test(wrong_pin_names_token_and_file),
    };
    const char *group = argc > 1 ? argv[1] : "main";

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    if (strcmp(group, "allow") == 0)
        return cmocka_run_group_tests_name("allow", allow_tests, NULL, NULL);
    if (strcmp(group, "badpin") == 0)
        return cmocka_run_group_tests_name("badpin", badpin_tests, NULL, NULL);
    return cmocka_run_group_tests_name("main", main_tests, NULL, NULL);
}
