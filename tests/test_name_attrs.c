/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 6680 naming extensions through MIT's mechglue: the peer names of an
 * established context carry what the peer's validated certificate proves
 * (docs/names.md, "Name attributes"); the values are compared with the
 * certificates the suite's setup issued (certs/ next to the config).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gssapi/gssapi_ext.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gsslib.h"

#define URN "urn:gss-pkcs11:x509:"

static gss_OID_desc nt_composite = {6, "\x2b\x06\x01\x05\x06\x06"};

/* The DER of certs/<who>.pem of this suite's token. */
static unsigned char *suite_cert(const char *who, int *len)
{
    const char *conf = getenv("GSS_PKCS11_CONF");
    char path[4096], *slash;
    unsigned char *der = NULL;
    FILE *f;
    X509 *x;

    assert_non_null(conf);
    snprintf(path, sizeof(path), "%s", conf);
    slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path),
             "certs/%s.pem", who);
    f = fopen(path, "r");
    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    *len = i2d_X509(x, &der);
    X509_free(x);
    assert_true(*len > 0);
    return der;
}

/* True when the set lists attribute name. */
static bool set_has(gss_buffer_set_t set, const char *name)
{
    for (size_t i = 0; set != NULL && i < set->count; i++) {
        if (set->elements[i].length == strlen(name) &&
            memcmp(set->elements[i].value, name, strlen(name)) == 0)
            return true;
    }
    return false;
}

/* One value of attr: asserts success; returns authenticated. */
static int get_attr(gss_name_t name, const char *attr, gss_buffer_t value,
                    gss_buffer_t display, int *more)
{
    gss_buffer_desc a = {strlen(attr), (void *)attr};
    OM_uint32 major, minor;
    int authenticated = -1, complete = -1;

    major = gss_get_name_attribute(&minor, name, &a, &authenticated, &complete,
                                   value, display, more);
    if (major != GSS_S_COMPLETE)
        gl_fail(attr, major, minor);
    assert_int_equal(complete, 1);
    return authenticated;
}

/* Compares a buffer with a C string. */
static void assert_buf_str(gss_buffer_t b, const char *s)
{
    assert_int_equal(b->length, strlen(s));
    assert_memory_equal(b->value, s, b->length);
}

static struct gl_hs hs;

static int setup(void **state)
{
    (void)state;
    memset(&hs, 0, sizeof(hs));
    hs.req_flags = GSS_C_MUTUAL_FLAG;
    hs.target = gl_service("host@localhost");
    if (!gl_handshake(&hs))
        gl_fail("handshake", hs.imajor ? hs.imajor : hs.amajor,
                hs.iminor ? hs.iminor : hs.aminor);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gl_hs_release(&hs);
    return 0;
}

/* The acceptor sees the initiator's certificate (alice: email SAN). */
static void test_initiator_attributes(void **state)
{
    gss_buffer_desc v = {0}, d = {0};
    gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
    OM_uint32 major, minor;
    gss_OID mn_mech = GSS_C_NO_OID;
    unsigned char *der;
    int is_mn = 0, more = -1, len;

    (void)state;
    major = gss_inquire_name(&minor, hs.src, &is_mn, &mn_mech, &set);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_inquire_name", major, minor);
    assert_int_equal(is_mn, 1);
    assert_true(
        mn_mech->length == gl_mech()->length &&
        memcmp(mn_mech->elements, gl_mech()->elements, mn_mech->length) == 0);
    /* MIT's mechglue hands out a copy of the OID (RFC 6680 7.4). */
    gss_release_oid(&minor, &mn_mech);
    assert_true(set_has(set, URN "certificate"));
    assert_true(set_has(set, URN "subject"));
    assert_true(set_has(set, URN "issuer"));
    assert_true(set_has(set, URN "serial"));
    assert_true(set_has(set, URN "not-after"));
    assert_true(set_has(set, URN "san:email"));
    assert_false(set_has(set, URN "san:dns"));
    gss_release_buffer_set(&minor, &set);

    der = suite_cert("alice", &len);
    assert_int_equal(get_attr(hs.src, URN "certificate", &v, &d, &more), 1);
    assert_int_equal(more, 0);
    assert_int_equal(v.length, (size_t)len);
    assert_memory_equal(v.value, der, (size_t)len);
    OPENSSL_free(der);
    gss_release_buffer(&minor, &v);
    gss_release_buffer(&minor, &d);

    more = -1;
    assert_int_equal(get_attr(hs.src, URN "subject", &v, &d, &more), 1);
    assert_buf_str(&d, "CN=alice");
    gss_release_buffer(&minor, &v);
    gss_release_buffer(&minor, &d);
    more = -1;
    get_attr(hs.src, URN "san:email", &v, &d, &more);
    assert_buf_str(&v, "alice@localhost");
    assert_int_equal(more, 0);
    gss_release_buffer(&minor, &v);
    gss_release_buffer(&minor, &d);
}

/* The initiator sees the acceptor's certificate (host: DNS SAN). */
static void test_acceptor_attributes(void **state)
{
    gss_buffer_desc v = {0}, d = {0};
    gss_name_t peer = GSS_C_NO_NAME;
    OM_uint32 major, minor;
    unsigned char *der;
    int more = -1, len;

    (void)state;
    major = gss_inquire_context(&minor, hs.ictx, NULL, &peer, NULL, NULL, NULL,
                                NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_inquire_context", major, minor);
    der = suite_cert("host", &len);
    assert_int_equal(get_attr(peer, URN "certificate", &v, &d, &more), 1);
    assert_int_equal(v.length, (size_t)len);
    assert_memory_equal(v.value, der, (size_t)len);
    OPENSSL_free(der);
    gss_release_buffer(&minor, &v);
    gss_release_buffer(&minor, &d);
    more = -1;
    get_attr(peer, URN "san:dns", &v, &d, &more);
    assert_buf_str(&v, "localhost");
    gss_release_buffer(&minor, &v);
    gss_release_buffer(&minor, &d);
    gss_release_name(&minor, &peer);
}

/* Unknown attributes and writes are refused with GSS_S_UNAVAILABLE. */
static void test_refusals(void **state)
{
    gss_buffer_desc a = {strlen(URN "san:upn"), URN "san:upn"};
    gss_buffer_desc u = {strlen("urn:nothing"), "urn:nothing"};
    gss_buffer_desc v = {0}, d = {0};
    OM_uint32 major, minor;
    int more = -1;
    char text[256];

    (void)state;
    major =
        gss_get_name_attribute(&minor, hs.src, &u, NULL, NULL, &v, &d, &more);
    assert_int_equal(major, GSS_S_UNAVAILABLE);
    gl_minor_text(minor, text, sizeof(text));
    assert_non_null(strstr(text, "urn:nothing"));
    more = -1;
    major =
        gss_get_name_attribute(&minor, hs.src, &a, NULL, NULL, &v, &d, &more);
    assert_int_equal(major, GSS_S_UNAVAILABLE);
    more = 1;
    a = (gss_buffer_desc){strlen(URN "san:email"), URN "san:email"};
    major =
        gss_get_name_attribute(&minor, hs.src, &a, NULL, NULL, &v, &d, &more);
    assert_int_equal(major, GSS_S_UNAVAILABLE);
    major = gss_set_name_attribute(&minor, hs.src, 1, &a, &a);
    assert_int_equal(major, GSS_S_UNAVAILABLE);
    major = gss_delete_name_attribute(&minor, hs.src, &a);
    assert_int_equal(major, GSS_S_UNAVAILABLE);
}

/* A name the application imported has no attributes. */
static void test_imported_name_has_none(void **state)
{
    gss_buffer_desc b = {strlen("alice@localhost"), "alice@localhost"};
    gss_name_t n = GSS_C_NO_NAME, mn = GSS_C_NO_NAME;
    gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
    OM_uint32 major, minor;

    (void)state;
    major = gss_import_name(&minor, &b, GSS_C_NT_USER_NAME, &n);
    assert_int_equal(major, GSS_S_COMPLETE);
    major = gss_canonicalize_name(&minor, n, gl_mech(), &mn);
    assert_int_equal(major, GSS_S_COMPLETE);
    major = gss_inquire_name(&minor, mn, NULL, NULL, &set);
    assert_int_equal(major, GSS_S_COMPLETE);
    assert_true(set == GSS_C_NO_BUFFER_SET || set->count == 0);
    gss_release_buffer_set(&minor, &set);
    gss_release_name(&minor, &mn);
    gss_release_name(&minor, &n);
}

/* Composite export keeps the certificate, not the proof; a mangled
 * token is refused. */
static void test_composite(void **state)
{
    gss_buffer_desc tok = {0}, bad, v = {0}, d = {0};
    gss_name_t back = GSS_C_NO_NAME;
    OM_uint32 major, minor;
    unsigned char *der;
    int more = -1, len, equal = 0;

    (void)state;
    major = gss_export_name_composite(&minor, hs.src, &tok);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_export_name_composite", major, minor);
    major = gss_import_name(&minor, &tok, &nt_composite, &back);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_import_name (composite)", major, minor);
    major = gss_compare_name(&minor, back, hs.src, &equal);
    assert_int_equal(major, GSS_S_COMPLETE);
    assert_int_equal(equal, 1);
    der = suite_cert("alice", &len);
    assert_int_equal(get_attr(back, URN "certificate", &v, &d, &more), 0);
    assert_int_equal(v.length, (size_t)len);
    assert_memory_equal(v.value, der, (size_t)len);
    OPENSSL_free(der);
    gss_release_buffer(&minor, &v);
    gss_release_buffer(&minor, &d);
    gss_release_name(&minor, &back);

    bad = tok;
    bad.length = tok.length - 1;
    major = gss_import_name(&minor, &bad, &nt_composite, &back);
    assert_true(GSS_ERROR(major));
    gss_release_buffer(&minor, &tok);
}

/* display_name_ext: the name's own type, and the certificate subject. */
static void test_display_ext(void **state)
{
    gss_buffer_desc out = {0}, plain = {0};
    gss_OID type = GSS_C_NO_OID;
    OM_uint32 major, minor;

    (void)state;
    major = gss_display_name(&minor, hs.src, &plain, &type);
    assert_int_equal(major, GSS_S_COMPLETE);
    major = gss_display_name_ext(&minor, hs.src, type, &out);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_display_name_ext", major, minor);
    assert_int_equal(out.length, plain.length);
    assert_memory_equal(out.value, plain.value, out.length);
    gss_release_buffer(&minor, &out);
    gss_release_buffer(&minor, &plain);
    major =
        gss_display_name_ext(&minor, hs.src, GSS_C_NT_HOSTBASED_SERVICE, &out);
    assert_int_equal(major, GSS_S_UNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initiator_attributes),
        cmocka_unit_test(test_acceptor_attributes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_imported_name_has_none),
        cmocka_unit_test(test_composite),
        cmocka_unit_test(test_display_ext),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
