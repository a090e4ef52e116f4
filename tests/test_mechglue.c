/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin as applications see it: loaded by MIT's libgssapi_krb5 from
 * GSS_MECH_CONFIG, listed by gss_indicate_mechs, and answering
 * gss_display_status for its minor codes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp11_build_config.h"
#include "gp11_error.h"
#include "gss-pkcs11/gssapi_pkcs11.h"

typedef OM_uint32 (*gss_display_status_fn)(OM_uint32 *, OM_uint32, int, gss_OID,
                                           OM_uint32 *, gss_buffer_t);

/* Our OID in DER content form, built from the dotted string. */
static gss_OID_desc our_oid;

static void build_oid(void)
{
    static gss_OID oid = GSS_C_NO_OID; /* kept: our_oid uses its bytes */
    OM_uint32 minor, major;
    gss_buffer_desc in = {strlen(GP11_MECH_OID), (void *)GP11_MECH_OID};

    major = gss_str_to_oid(&minor, &in, &oid);
    assert_int_equal(major, GSS_S_COMPLETE);
    our_oid = *oid;
}

static void mechglue_lists_the_mechanism(void **state)
{
    OM_uint32 minor, major;
    gss_OID_set mechs = GSS_C_NO_OID_SET;
    int present = 0;

    (void)state;
    major = gss_indicate_mechs(&minor, &mechs);
    assert_int_equal(major, GSS_S_COMPLETE);
    major = gss_test_oid_set_member(&minor, &our_oid, mechs, &present);
    assert_int_equal(major, GSS_S_COMPLETE);
    assert_true(present);
    gss_release_oid_set(&minor, &mechs);
}

static void mechglue_loads_the_module(void **state)
{
    OM_uint32 minor, major;
    gss_OID_set names = GSS_C_NO_OID_SET;

    (void)state;
    /* Any call naming the mechanism makes the mechglue dlopen it: a module
     * that fails to load gives GSS_S_BAD_MECH; ours answers. */
    major = gss_inquire_names_for_mech(&minor, &our_oid, &names);
    assert_int_equal(major, GSS_S_COMPLETE);
    assert_true(names->count >= 4);
    gss_release_oid_set(&minor, &names);
}

static void display_status_speaks(void **state)
{
    OM_uint32 minor, major, ctx = 0;
    gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
    const char *path = getenv("GP11_PLUGIN");
    gss_display_status_fn display;
    void *dl;

    (void)state;
    /* The mechglue displays only minor codes it mapped itself, which
     * needs a context call; until then call the export directly. */
    assert_non_null(path);
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(dl);
    display = (gss_display_status_fn)dlsym(dl, "gss_display_status");
    assert_non_null(display);
    major = display(&minor, GP11_ERR_PIN_LOCKED, GSS_C_MECH_CODE, &our_oid,
                    &ctx, &msg);
    assert_int_equal(major, GSS_S_COMPLETE);
    assert_non_null(strstr((char *)msg.value, "PIN is locked"));
    free(msg.value);
    major = display(&minor, 12345, GSS_C_MECH_CODE, &our_oid, &ctx, &msg);
    assert_int_equal(major, GSS_S_BAD_STATUS);
    dlclose(dl);
}

/* One message of status through the plugin's own gss_display_status,
 * starting from message context mctx; returns it (caller frees). */
static char *one_message(gss_display_status_fn display, OM_uint32 status,
                         int type, OM_uint32 mctx)
{
    gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor = 99, major;

    major = display(&minor, status, type, &our_oid, &mctx, &msg);
    if (major != GSS_S_COMPLETE)
        fail_msg("display 0x%x (type %d, context %u): major 0x%x", status, type,
                 mctx, major);
    assert_int_equal(minor, 0);
    assert_int_equal(mctx, 0);
    assert_non_null(msg.value);
    assert_int_equal(strlen(msg.value), msg.length);
    assert_true(msg.length > 10);
    return msg.value;
}

/*
 * A sentence for every minor code of ours and for 0 (the minor of a
 * supplementary status), and for every major status: each routine and
 * calling error and each supplementary bit, combined in one message
 * (Heimdal asks the mechanism for both kinds when a call fails). Whatever
 * message context the caller passes, the call is a fresh one and the
 * context comes back 0 (Heimdal passes an uninitialised one).
 */
static void display_status_every_code(void **state)
{
    static const struct {
        OM_uint32 status;
        const char *text;
    } gss[] = {
        {GSS_S_COMPLETE, "completed"},
        {GSS_S_BAD_MECH, "mechanism"},
        {GSS_S_BAD_SIG, "integrity"},
        {GSS_S_NO_CONTEXT, "context"},
        {GSS_S_DEFECTIVE_TOKEN, "token"},
        {GSS_S_CONTEXT_EXPIRED, "expired"},
        {GSS_S_UNAVAILABLE, "not available"},
        {GSS_S_CALL_INACCESSIBLE_WRITE, "output"},
        {GSS_S_CONTINUE_NEEDED, "continue"},
        {GSS_S_DUPLICATE_TOKEN, "duplicate"},
        {GSS_S_OLD_TOKEN, "old"},
        {GSS_S_UNSEQ_TOKEN, "out of sequence"},
        {GSS_S_GAP_TOKEN, "skipped"},
        {GSS_S_BAD_SIG | GSS_S_DUPLICATE_TOKEN, "duplicate"},
        {GSS_S_CALL_BAD_STRUCTURE | GSS_S_FAILURE, "malformed"},
    };
    gss_display_status_fn display;
    char *m, *a;
    void *dl;

    (void)state;
    dl = dlopen(getenv("GP11_PLUGIN"), RTLD_NOW | RTLD_LOCAL);
    assert_non_null(dl);
    display = (gss_display_status_fn)dlsym(dl, "gss_display_status");
    assert_non_null(display);
    for (OM_uint32 c = GP11_ERR_BASE + 1; c < GP11_ERR_LAST; c++) {
        m = one_message(display, c, GSS_C_MECH_CODE, 0);
        a = one_message(display, c, GSS_C_MECH_CODE, 0x67700004u);
        assert_string_equal(m, a);
        free(m);
        free(a);
    }
    m = one_message(display, 0, GSS_C_MECH_CODE, 0);
    assert_non_null(strstr(m, "gss-pkcs11"));
    free(m);
    free(one_message(display, 0, GSS_C_MECH_CODE, 3));
    for (size_t i = 0; i < sizeof(gss) / sizeof(gss[0]); i++) {
        m = one_message(display, gss[i].status, GSS_C_GSS_CODE, 0);
        if (strstr(m, gss[i].text) == NULL)
            fail_msg("major 0x%x says '%s', want '%s'", gss[i].status, m,
                     gss[i].text);
        free(m);
        free(one_message(display, gss[i].status, GSS_C_GSS_CODE, 7));
    }
    /* Every routine error, calling error and supplementary bit. */
    for (OM_uint32 r = 1; r <= 18; r++)
        free(one_message(display, r << GSS_C_ROUTINE_ERROR_OFFSET,
                         GSS_C_GSS_CODE, 0));
    for (OM_uint32 c = 1; c <= 3; c++)
        free(one_message(display, c << GSS_C_CALLING_ERROR_OFFSET,
                         GSS_C_GSS_CODE, 0));
    for (OM_uint32 b = 0; b < 5; b++)
        free(one_message(display, 1u << (GSS_C_SUPPLEMENTARY_OFFSET + b),
                         GSS_C_GSS_CODE, 0));
    dlclose(dl);
}

/* Names through the mechglue: import, canonicalize for our mechanism,
 * export, re-import the export, compare. */
/* gss_canonicalize_name of text (of type) to our mechanism. */
static gss_name_t our_mn(const char *text, gss_OID type)
{
    gss_buffer_desc in = {strlen(text), (void *)text};
    gss_name_t name = GSS_C_NO_NAME, mn = GSS_C_NO_NAME;
    OM_uint32 minor;

    assert_int_equal(gss_import_name(&minor, &in, type, &name), GSS_S_COMPLETE);
    assert_int_equal(gss_canonicalize_name(&minor, name, &our_oid, &mn),
                     GSS_S_COMPLETE);
    gss_release_name(&minor, &name);
    return mn;
}

static void names_round_trip(void **state)
{
    gss_name_t mn = our_mn("host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    gss_name_t back = GSS_C_NO_NAME;
    gss_buffer_desc exp;
    OM_uint32 minor;
    int equal = 0;

    (void)state;
    assert_int_equal(gss_export_name(&minor, mn, &exp), GSS_S_COMPLETE);
    /* RFC 2743 3.2: 04 01, OID length, 06 len OID, name length, name. */
    assert_true(exp.length > 4 + 2 + our_oid.length + 4);
    assert_memory_equal(exp.value, "\x04\x01", 2);
    assert_int_equal(gss_import_name(&minor, &exp, GSS_C_NT_EXPORT_NAME, &back),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_compare_name(&minor, mn, back, &equal),
                     GSS_S_COMPLETE);
    assert_true(equal);
    gss_release_buffer(&minor, &exp);
    gss_release_name(&minor, &mn);
    gss_release_name(&minor, &back);
}

/*
 * gss_display_name's name type is read-only storage the caller never
 * frees (RFC 2744 5.12). The plugin links no mechglue, so every type it
 * returns is its own static OID, the same object on every call, equal by
 * value to the standard one. MIT 1.20's mechglue stores the type of a
 * name it converts (peer names) and releases it with gss_release_oid,
 * which the plugin must recognise as its own (else free() of a static).
 */
static void assert_static_type(const char *text, gss_OID import_type,
                               const char *want_text, gss_OID want)
{
    gss_buffer_desc in = {strlen(text), (void *)text}, out;
    gss_name_t name = GSS_C_NO_NAME, mn = GSS_C_NO_NAME;
    gss_OID t1 = GSS_C_NO_OID, t2 = GSS_C_NO_OID, t;
    OM_uint32 minor;

    assert_int_equal(gss_import_name(&minor, &in, import_type, &name),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_canonicalize_name(&minor, name, &our_oid, &mn),
                     GSS_S_COMPLETE);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(gss_display_name(&minor, mn, &out, i ? &t2 : &t1),
                         GSS_S_COMPLETE);
        assert_int_equal(out.length, strlen(want_text));
        assert_memory_equal(out.value, want_text, out.length);
        gss_release_buffer(&minor, &out);
    }
    assert_non_null(t1);
    assert_ptr_equal(t1, t2);
    assert_true(gss_oid_equal(t1, want));
    /* Not MIT's constant: the plugin refers to no symbol of the mechglue. */
    assert_ptr_not_equal(t1, want);
    /* What gss_release_name does with a converted name's type: the
     * plugin claims its static OID, which stays intact. */
    t = t1;
    assert_int_equal(gss_release_oid(&minor, &t), GSS_S_COMPLETE);
    assert_null(t);
    assert_int_equal(gss_display_name(&minor, mn, &out, &t), GSS_S_COMPLETE);
    assert_ptr_equal(t, t1);
    assert_true(gss_oid_equal(t, want));
    gss_release_buffer(&minor, &out);
    gss_release_name(&minor, &name);
    gss_release_name(&minor, &mn);
}

static void display_name_type_is_static(void **state)
{
    unsigned char x509_bytes[64];
    gss_OID_desc x509 = {our_oid.length + 1, x509_bytes};

    (void)state;
    /* The X.509-subject name type: the mechanism OID plus the arc 1. */
    assert_true(our_oid.length + 1 <= sizeof(x509_bytes));
    memcpy(x509_bytes, our_oid.elements, our_oid.length);
    x509_bytes[our_oid.length] = 0x01;
    assert_static_type("CN=Alice,O=Example", &x509, "CN=Alice,O=Example",
                       &x509);
    assert_static_type("host@localhost", GSS_C_NT_HOSTBASED_SERVICE,
                       "host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    assert_static_type("alice@example.com", GSS_C_NT_USER_NAME,
                       "alice@example.com", GSS_C_NT_USER_NAME);
    assert_static_type("", GSS_C_NT_ANONYMOUS,
                       "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS",
                       GSS_C_NT_ANONYMOUS);
}

typedef OM_uint32 (*import_name_fn)(OM_uint32 *, gss_buffer_t, gss_OID,
                                    gss_name_t *);
typedef OM_uint32 (*release_name_fn)(OM_uint32 *, gss_name_t *);
typedef OM_uint32 (*mechs_for_name_fn)(OM_uint32 *, gss_name_t, gss_OID_set *);
typedef OM_uint32 (*add_cred_fn)(OM_uint32 *, gss_cred_id_t, gss_name_t,
                                 gss_OID, gss_cred_usage_t, OM_uint32,
                                 OM_uint32, gss_cred_id_t *, gss_OID_set *,
                                 OM_uint32 *, OM_uint32 *);

/* The plugin's own export of name (asserts it exists). */
static void *plugin_sym(void *dl, const char *name)
{
    void *f = dlsym(dl, name);

    if (f == NULL)
        fail_msg("the plugin does not export %s", name);
    return f;
}

/*
 * Entry points Heimdal's loader requires and neither mechglue calls with
 * these arguments: called on the plugin directly. gss_inquire_mechs_for_name
 * names our mechanism for our names; gss_add_cred (RFC 2743 2.1.4) finds
 * our element already in a credential of ours, cannot modify the default
 * credential, and knows no other mechanism.
 */
static void heimdal_entry_points(void **state)
{
    static gss_OID_desc krb5 = {9,
                                (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
    gss_buffer_desc in = {14, (void *)"host@localhost"};
    gss_name_t name = GSS_C_NO_NAME;
    gss_OID_set mechs = GSS_C_NO_OID_SET;
    gss_cred_id_t out = (gss_cred_id_t)&in;
    OM_uint32 minor, itime = 7, atime = 7;
    import_name_fn import;
    release_name_fn release;
    mechs_for_name_fn mechs_for_name;
    add_cred_fn add_cred;
    void *dl;

    (void)state;
    dl = dlopen(getenv("GP11_PLUGIN"), RTLD_NOW | RTLD_LOCAL);
    assert_non_null(dl);
    import = (import_name_fn)plugin_sym(dl, "gss_import_name");
    release = (release_name_fn)plugin_sym(dl, "gss_release_name");
    mechs_for_name =
        (mechs_for_name_fn)plugin_sym(dl, "gss_inquire_mechs_for_name");
    add_cred = (add_cred_fn)plugin_sym(dl, "gss_add_cred");

    assert_int_equal(import(&minor, &in, GSS_C_NT_HOSTBASED_SERVICE, &name),
                     GSS_S_COMPLETE);
    assert_int_equal(mechs_for_name(&minor, name, &mechs), GSS_S_COMPLETE);
    assert_int_equal(mechs->count, 1);
    assert_true(gss_oid_equal(&mechs->elements[0], &our_oid));
    gss_release_oid_set(&minor, &mechs);
    assert_int_equal(mechs_for_name(&minor, (gss_name_t)&in, &mechs),
                     GSS_S_BAD_NAME);
    assert_null(mechs);

    /* Any credential handle of ours already holds our element. */
    assert_int_equal(add_cred(&minor, (gss_cred_id_t)&in, name, &our_oid,
                              GSS_C_ACCEPT, 0, 0, &out, NULL, &itime, &atime),
                     GSS_S_DUPLICATE_ELEMENT);
    assert_null(out);
    assert_true(itime == 0 && atime == 0);
    assert_int_equal(add_cred(&minor, GSS_C_NO_CREDENTIAL, name, &our_oid,
                              GSS_C_ACCEPT, 0, 0, NULL, NULL, NULL, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(add_cred(&minor, GSS_C_NO_CREDENTIAL, name, &krb5,
                              GSS_C_ACCEPT, 0, 0, &out, NULL, NULL, NULL),
                     GSS_S_BAD_MECH);
    assert_null(out);
    release(&minor, &name);
    dlclose(dl);
}

/* gss_userok asks the module (gssspi_authorize_localname): a user name
 * may log in as its gss_localname account, exactly, and as no other; MIT's
 * own fallback would compare the whole names ("alice@example.com" is not
 * "alice") and authorise nobody. */
static void userok_is_the_local_account(void **state)
{
    gss_name_t alice = our_mn("alice@example.com", GSS_C_NT_USER_NAME);
    gss_name_t host = our_mn("host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    OM_uint32 minor;

    (void)state;
    assert_int_equal(gss_userok(alice, "alice"), 1);
    assert_int_equal(gss_userok(alice, "alic"), 0);
    assert_int_equal(gss_userok(alice, "alicex"), 0);
    assert_int_equal(gss_userok(alice, "alice@example.com"), 0);
    assert_int_equal(gss_userok(alice, "bob"), 0);
    assert_int_equal(gss_userok(host, "host"), 0);
    gss_release_name(&minor, &alice);
    gss_release_name(&minor, &host);
}

/* The public header's OID is the one the plugin registers, in every
 * build: the header is generated from -Dmech_oid. */
static void public_header_names_the_oid(void **state)
{
    (void)state;
    assert_string_equal(GSS_PKCS11_MECH_OID_STRING, GP11_MECH_OID);
    assert_int_equal(our_oid.length, GSS_PKCS11_MECH_OID_LENGTH);
    assert_memory_equal(our_oid.elements, GSS_PKCS11_MECH_OID_BYTES,
                        GSS_PKCS11_MECH_OID_LENGTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mechglue_lists_the_mechanism),
        cmocka_unit_test(mechglue_loads_the_module),
        cmocka_unit_test(display_status_speaks),
        cmocka_unit_test(display_status_every_code),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(display_name_type_is_static),
        cmocka_unit_test(heimdal_entry_points),
        cmocka_unit_test(userok_is_the_local_account),
        cmocka_unit_test(public_header_names_the_oid),
    };

    if (getenv("GSS_MECH_CONFIG") == NULL) {
        fprintf(stderr, "GSS_MECH_CONFIG is not set (run via meson test)\n");
        return 1;
    }
    build_oid();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
