/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of GSS names (core/names.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gp11_error.h"
#include "gp11_names.h"
#include "gp11_oid.h"

/* Shorthands for the name types of the tests. */
#define NT_USER GSS_C_NT_USER_NAME
#define NT_HOST GSS_C_NT_HOSTBASED_SERVICE
#define NT_ANON GSS_C_NT_ANONYMOUS
#define NT_EXPORT GSS_C_NT_EXPORT_NAME
#define NT_X509 ((gss_OID)gp11_nt_x509_subject())

/* Name types by number, for static tables. */
enum { T_USER, T_HOST, T_ANON, T_X509, T_NONE, T_HOSTX };

/* The name type OID of number t. */
static gss_OID nt(int t)
{
    switch (t) {
    case T_USER:
        return NT_USER;
    case T_HOST:
        return NT_HOST;
    case T_ANON:
        return NT_ANON;
    case T_X509:
        return NT_X509;
    case T_HOSTX:
        return GSS_C_NT_HOSTBASED_SERVICE_X;
    default:
        return GSS_C_NO_OID;
    }
}

/* The key that signs every test certificate (group setup). */
static EVP_PKEY *cert_key;

/* True if a and b are the same OID. */
static bool oid_is(const gss_OID_desc *a, const gss_OID_desc *b)
{
    return a != NULL && b != NULL && a->length == b->length &&
           memcmp(a->elements, b->elements, a->length) == 0;
}

/* Imports len bytes of s as type; returns the major, *minor and *out. */
static OM_uint32 imp_len(gss_OID type, const void *s, size_t len,
                         OM_uint32 *minor, gss_name_t *out)
{
    gss_buffer_desc b = {len, (void *)s};

    return gp11_gss_import_name(minor, &b, type, out);
}

/* Imports the string s as type and asserts success. */
static gss_name_t imp(gss_OID type, const char *s)
{
    gss_name_t n = GSS_C_NO_NAME;
    OM_uint32 minor = 0, major;

    major = imp_len(type, s, strlen(s), &minor, &n);
    if (major != GSS_S_COMPLETE)
        print_error("import of \"%s\": %s\n", s, gp11_err_message(minor));
    assert_int_equal(major, GSS_S_COMPLETE);
    assert_int_equal(minor, 0);
    assert_non_null(n);
    return n;
}

/* Asserts that importing len bytes of s as type fails with want/minor. */
static void imp_fails(gss_OID type, const void *s, size_t len, OM_uint32 want,
                      OM_uint32 want_minor)
{
    gss_name_t n = GSS_C_NO_NAME;
    OM_uint32 minor = 0, major;

    major = imp_len(type, s, len, &minor, &n);
    if (major != want)
        print_error("import of %zu bytes \"%.*s\": major 0x%x\n", len, (int)len,
                    (const char *)s, major);
    assert_int_equal(major, want);
    assert_int_equal(minor, want_minor);
    assert_null(n);
}

/* Releases a name and asserts success. */
static void rel(gss_name_t n)
{
    OM_uint32 minor;

    assert_int_equal(gp11_gss_release_name(&minor, &n), GSS_S_COMPLETE);
    assert_null(n);
}

/* Asserts the display form and type of n. */
static void check_display(gss_name_t n, const char *text, gss_OID type)
{
    gss_buffer_desc out = {0, NULL};
    gss_OID t = GSS_C_NO_OID, t2 = GSS_C_NO_OID;
    OM_uint32 minor, rmin;

    assert_int_equal(gp11_gss_display_name(&minor, n, &out, &t),
                     GSS_S_COMPLETE);
    assert_int_equal(out.length, strlen(text));
    assert_memory_equal(out.value, text, out.length);
    assert_int_equal(((char *)out.value)[out.length], '\0');
    assert_true(oid_is(t, type));
    /* Read-only storage the caller never frees (RFC 2744): for every type
     * the plugin's own static object, never the mechglue's constant (the
     * module links no mechglue); the same object on every call, and
     * claimed by gss_internal_release_oid (which MIT's gss_release_oid
     * asks first) without being changed. */
    if (type == NT_X509)
        assert_ptr_equal(t, gp11_nt_x509_subject());
    else
        assert_ptr_not_equal(t, type);
    gss_release_buffer(&rmin, &out);
    assert_int_equal(gp11_gss_display_name(&minor, n, &out, &t2),
                     GSS_S_COMPLETE);
    assert_ptr_equal(t2, t);
    gss_release_buffer(&rmin, &out);
    assert_int_equal(gp11_gss_internal_release_oid(&minor, &t2),
                     GSS_S_COMPLETE);
    assert_null(t2);
    assert_true(oid_is(t, type));
}

/* Exports n; the caller frees the buffer. */
static gss_buffer_desc exp_name(gss_name_t n)
{
    gss_buffer_desc out = {0, NULL};
    OM_uint32 minor;

    assert_int_equal(gp11_gss_export_name(&minor, n, &out), GSS_S_COMPLETE);
    return out;
}

/* The exported-name token for our mechanism and the given name bytes. */
static size_t build_export(const char *inner, size_t ilen, uint8_t *buf,
                           size_t size)
{
    const gss_OID_desc *mech = gp11_mech_oid();
    size_t n = 0;

    assert_non_null(mech);
    assert_true(mech->length < 0x80);
    assert_true(4 + 2 + mech->length + 4 + ilen <= size);
    buf[n++] = 0x04;
    buf[n++] = 0x01;
    buf[n++] = 0x00;
    buf[n++] = (uint8_t)(2 + mech->length);
    buf[n++] = 0x06;
    buf[n++] = (uint8_t)mech->length;
    memcpy(buf + n, mech->elements, mech->length);
    n += mech->length;
    buf[n++] = (uint8_t)(ilen >> 24);
    buf[n++] = (uint8_t)(ilen >> 16);
    buf[n++] = (uint8_t)(ilen >> 8);
    buf[n++] = (uint8_t)ilen;
    memcpy(buf + n, inner, ilen);
    return n + ilen;
}

/* Our name types are the registered OIDs (cross-check with libgssapi). */
static void test_x509_oid(void **state)
{
    const gss_OID_desc *mech = gp11_mech_oid(), *x = gp11_nt_x509_subject();

    (void)state;
    assert_non_null(mech);
    assert_int_equal(x->length, mech->length + 1);
    assert_memory_equal(x->elements, mech->elements, mech->length);
    assert_int_equal(((const uint8_t *)x->elements)[mech->length], 0x01);
    assert_ptr_equal(gp11_nt_x509_subject(), x);
}

/* Each type: import, display with the right type, import the display. */
static void test_round_trips(void **state)
{
    static const struct {
        int type, shown;
        const char *in, *text;
    } cases[] = {
        {T_USER, T_USER, "alice", "alice"},
        {T_NONE, T_USER, "alice@localhost", "alice@localhost"},
        {T_HOST, T_HOST, "HTTP@WWW.Example.COM", "HTTP@www.example.com"},
        {T_HOST, T_HOST, "nfs", "nfs"},
        {T_HOSTX, T_HOST, "host@Server", "host@server"},
        {T_ANON, T_ANON, "", GP11_ANONYMOUS_TEXT},
        {T_ANON, T_ANON, GP11_ANONYMOUS_TEXT, GP11_ANONYMOUS_TEXT},
        {T_X509, T_X509, "CN=Alice,O=Example", "CN=Alice,O=Example"},
        {T_X509, T_X509, " cn = Alice , o = Example ", "CN=Alice,O=Example"},
        {T_USER, T_USER, "Z\xc3\xbcrich", "Z\xc3\xbcrich"},
    };
    gss_name_t n, n2;
    OM_uint32 minor;
    int eq;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = imp(nt(cases[i].type), cases[i].in);
        check_display(n, cases[i].text, nt(cases[i].shown));
        n2 = imp(nt(cases[i].shown), cases[i].text);
        check_display(n2, cases[i].text, nt(cases[i].shown));
        assert_int_equal(gp11_gss_compare_name(&minor, n, n2, &eq),
                         GSS_S_COMPLETE);
        /* anonymous names never compare equal */
        assert_int_equal(eq, cases[i].shown == T_ANON ? 0 : 1);
        rel(n);
        rel(n2);
    }
}

/* Host-based parsing: service alone, host lower-case, bad forms. */
static void test_hostbased(void **state)
{
    static const char *const bad[] = {"@host", "svc@", "svc@a@b", "@"};
    struct gp11_name *n;
    gss_name_t g;
    size_t i;

    (void)state;
    g = imp(NT_HOST, "imap@Mail.EXAMPLE.org");
    n = gp11_name_from_gss(g);
    assert_non_null(n);
    assert_int_equal(gp11_name_kind(n), GP11_NAME_HOSTBASED);
    assert_string_equal(gp11_name_service(n), "imap");
    assert_string_equal(gp11_name_host(n), "mail.example.org");
    assert_string_equal(gp11_name_text(n), "imap@mail.example.org");
    rel(g);

    g = imp(NT_HOST, "Host");
    n = gp11_name_from_gss(g);
    assert_string_equal(gp11_name_service(n), "Host");
    assert_null(gp11_name_host(n));
    assert_string_equal(gp11_name_text(n), "Host");
    rel(g);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        imp_fails(NT_HOST, bad[i], strlen(bad[i]), GSS_S_BAD_NAME,
                  GP11_ERR_BAD_NAME);

    assert_int_equal(gp11_name_new(GP11_NAME_HOSTBASED, "ldap@DC1", &n),
                     GP11_OK);
    assert_string_equal(gp11_name_host(n), "dc1");
    gp11_name_free(n);
    assert_int_equal(gp11_name_new(GP11_NAME_USER, "bob", &n), GP11_OK);
    assert_null(gp11_name_service(n));
    assert_null(gp11_name_host(n));
    gp11_name_free(n);
    assert_int_equal(gp11_name_new(GP11_NAME_ANONYMOUS, NULL, &n), GP11_OK);
    assert_int_equal(gp11_name_kind(n), GP11_NAME_ANONYMOUS);
    assert_string_equal(gp11_name_text(n), GP11_ANONYMOUS_TEXT);
    gp11_name_free(n);
    assert_int_equal(gp11_name_new(GP11_NAME_USER, NULL, &n), GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_name_new((enum gp11_name_kind)9, "x", &n),
                     GP11_ERR_BAD_ARG);
    gp11_name_free(NULL);
}

/* X.509 subject names: canonical display form, idempotent, bad forms. */
static void test_x509_names(void **state)
{
    static const struct {
        const char *in, *text;
    } good[] = {
        {"CN=Alice,O=Example", "CN=Alice,O=Example"},
        {"2.5.4.3=Alice,2.5.4.10=Example", "CN=Alice,O=Example"},
        {"cn=a\\,b", "CN=a\\,b"},
        {"CN=a\\2cb", "CN=a\\,b"},
        {"CN=\\ lead", "CN=\\ lead"},
        {"CN=trail\\ ", "CN=trail\\ "},
        {"CN=trail  ", "CN=trail"},
        {"CN=\\#hash", "CN=\\#hash"},
        {"CN=in#side", "CN=in#side"},
        {"CN=#04024869", "CN=#04024869"},
        {"CN=#04024a69", "CN=#04024A69"},
        {"CN=x=y", "CN=x=y"},
        {"CN=a O=b", "CN=a O=b"},
        {"CN=x\\=y", "CN=x=y"},
        {"CN=\\22q\\22", "CN=\\\"q\\\""},
        {"CN=Z\\C3\\BCrich", "CN=Z\xc3\xbcrich"},
        {"CN=\\0A", "CN=\\0A"},
        {"CN=", "CN="},
        {"CN=a+UID=b,DC=example,DC=com", "CN=a+UID=b,DC=example,DC=com"},
        {"emailAddress=a@b.c", "emailAddress=a@b.c"},
        {"1.2.3.4=v", "1.2.3.4=v"},
        {"street=x,st=y,l=z,ou=u,c=FR", "STREET=x,ST=y,L=z,OU=u,C=FR"},
    };
    static const char *const bad[] = {
        "CN",     "=x",       "CN=a,",     "CN=a+",   "CN=a;O=b", "CN=\"q\"",
        "CN=<",   "CN=a\\",   "CN=\\zz",   "CN=\\4",  "CN=#",     "CN=#4",
        "CN=#4g", "CN=#41 x", "CN=a\\00b", "CN=\\FF", "01.2=x",   "1=x",
        "1.=x",   "-CN=x",    "C N=x",     "   ",     "CN=a,,O=b"};
    gss_name_t n, n2;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        n = imp(NT_X509, good[i].in);
        check_display(n, good[i].text, NT_X509);
        n2 = imp(NT_X509, good[i].text);
        check_display(n2, good[i].text, NT_X509);
        rel(n);
        rel(n2);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        imp_fails(NT_X509, bad[i], strlen(bad[i]), GSS_S_BAD_NAME,
                  GP11_ERR_BAD_NAME);
}

/* Equality of every pair of a set of names. */
static void test_compare_matrix(void **state)
{
    static const struct {
        int type; /* T_* */
        const char *s;
        int group; /* equal iff same group; -1 never equal */
    } names[] = {
        {0, "alice", 0},
        {0, "Alice", 1},
        {0, "alice", 0},
        {0, "alice@localhost", 2},
        {1, "host@Server.Example.com", 3},
        {1, "host@server.example.COM", 3},
        {1, "host", 4},
        {1, "host", 4},
        {1, "HTTP@server.example.com", 5},
        {1, "http@server.example.com", 6},
        {2, "", -1},
        {2, "", -1},
        {3, "CN=Alice,O=Example", 7},
        {3, "cn=Alice, o=Example", 7},
        {3, "2.5.4.3=Alice,O=Example", 7},
        {3, "CN=alice,O=Example", 8},
        {3, "O=Example,CN=Alice", 9},
        {3, "emailAddress=a@b.c", 10},
        {3, "EMAILADDRESS=a@b.c", 10},
        {0, "CN=Alice,O=Example", 11},
        {0, "host", 12},
    };
    enum { N = sizeof(names) / sizeof(names[0]) };
    gss_name_t g[N];
    OM_uint32 minor;
    size_t i, j;
    int eq;

    (void)state;
    for (i = 0; i < N; i++)
        g[i] = imp(nt(names[i].type), names[i].s);
    for (i = 0; i < N; i++) {
        for (j = 0; j < N; j++) {
            eq = -5;
            assert_int_equal(gp11_gss_compare_name(&minor, g[i], g[j], &eq),
                             GSS_S_COMPLETE);
            if (eq != (names[i].group >= 0 && names[i].group == names[j].group))
                print_error("compare %zu/%zu: %d\n", i, j, eq);
            assert_int_equal(eq, names[i].group >= 0 &&
                                     names[i].group == names[j].group);
        }
    }
    for (i = 0; i < N; i++)
        rel(g[i]);
}

/* Exported names are byte-exact and import back to an equal name. */
static void test_export_format(void **state)
{
    static const struct {
        int type;
        const char *in, *inner;
    } cases[] = {
        {0, "alice", "u:alice"},
        {1, "HTTP@WWW.Example.com", "h:HTTP@www.example.com"},
        {1, "nfs", "h:nfs"},
        {2, "", "a:"},
        {3, "cn=Alice, o=Ex\\2c Inc", "x:CN=Alice,O=Ex\\, Inc"},
    };
    uint8_t want[256];
    gss_buffer_desc e, e2;
    gss_name_t n, n2;
    OM_uint32 minor;
    size_t i, wlen;
    int eq;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = imp(nt(cases[i].type), cases[i].in);
        e = exp_name(n);
        wlen = build_export(cases[i].inner, strlen(cases[i].inner), want,
                            sizeof(want));
        assert_int_equal(e.length, wlen);
        assert_memory_equal(e.value, want, wlen);

        assert_int_equal(imp_len(NT_EXPORT, e.value, e.length, &minor, &n2),
                         GSS_S_COMPLETE);
        assert_int_equal(gp11_gss_compare_name(&minor, n, n2, &eq),
                         GSS_S_COMPLETE);
        assert_int_equal(eq, cases[i].type == 2 ? 0 : 1);
        check_display(n2, gp11_name_text(gp11_name_from_gss(n)),
                      nt(cases[i].type));
        e2 = exp_name(n2);
        assert_int_equal(e2.length, e.length);
        assert_memory_equal(e2.value, e.value, e.length);
        gss_release_buffer(&minor, &e);
        gss_release_buffer(&minor, &e2);
        rel(n);
        rel(n2);
    }
}

/* Malformed exported names are refused, whatever is wrong. */
static void test_export_rejects(void **state)
{
    static const uint8_t krb5_der[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                       0xf7, 0x12, 0x01, 0x02, 0x02};
    static const char *const bad_inner[] = {
        "z:alice", "H:host",  "ualice", "u",    "",      "a:x",
        "u:",      "h:@host", "h:svc@", "x:CN", "u:\xff"};
    uint8_t good[256], t[300];
    size_t glen, len, i, off;
    const gss_OID_desc *mech = gp11_mech_oid();

    (void)state;
    glen = build_export("u:alice", 7, good, sizeof(good));

    /* token identifier */
    memcpy(t, good, glen);
    t[1] = 0x02;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    memcpy(t, good, glen);
    t[0] = 0x05;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);

    /* another mechanism: a well-formed, different OID */
    memcpy(t, good, glen);
    t[6 + mech->length - 1] ^= 0x01;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_MECH, GP11_ERR_BAD_NAME);
    len = 0;
    t[len++] = 0x04;
    t[len++] = 0x01;
    t[len++] = 0x00;
    t[len++] = sizeof(krb5_der);
    memcpy(t + len, krb5_der, sizeof(krb5_der));
    len += sizeof(krb5_der);
    memcpy(t + len, good + 6 + mech->length, glen - 6 - mech->length);
    len += glen - 6 - mech->length;
    imp_fails(NT_EXPORT, t, len, GSS_S_BAD_MECH, GP11_ERR_BAD_NAME);
    /* not an OID at all */
    memcpy(t, good, glen);
    t[4] = 0x04;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);

    /* OID length off by one either way */
    memcpy(t, good, glen);
    t[3]++;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    memcpy(t, good, glen);
    t[3]--;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    /* inner DER length off by one either way */
    memcpy(t, good, glen);
    t[5]++;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    memcpy(t, good, glen);
    t[5]--;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);

    /* name length off by one either way */
    off = 6 + mech->length + 3;
    memcpy(t, good, glen);
    t[off]++;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    memcpy(t, good, glen);
    t[off]--;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    memcpy(t, good, glen);
    t[off - 3] = 0x80;
    imp_fails(NT_EXPORT, t, glen, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);

    /* trailing bytes; every truncation */
    memcpy(t, good, glen);
    t[glen] = 'x';
    imp_fails(NT_EXPORT, t, glen + 1, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    for (len = 0; len < glen; len++)
        imp_fails(NT_EXPORT, good, len, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);

    /* bad name bytes */
    for (i = 0; i < sizeof(bad_inner) / sizeof(bad_inner[0]); i++) {
        len = build_export(bad_inner[i], strlen(bad_inner[i]), t, sizeof(t));
        imp_fails(NT_EXPORT, t, len, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    }
    len = build_export("u:al\0ice", 8, t, sizeof(t));
    imp_fails(NT_EXPORT, t, len, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
}

/* The longest name exports and imports; the limit holds in exports too. */
static void test_export_limits(void **state)
{
    char *big = malloc(GP11_NAME_MAX + 3);
    uint8_t *t = malloc(GP11_NAME_MAX + 200);
    gss_buffer_desc e;
    gss_name_t n, n2;
    OM_uint32 minor;
    size_t len;

    (void)state;
    assert_non_null(big);
    assert_non_null(t);
    memset(big, 'b', GP11_NAME_MAX + 3); /* build_export reads all of it */
    big[GP11_NAME_MAX] = '\0';
    n = imp(NT_USER, big);
    e = exp_name(n);
    assert_int_equal(imp_len(NT_EXPORT, e.value, e.length, &minor, &n2),
                     GSS_S_COMPLETE);
    rel(n2);
    gss_release_buffer(&minor, &e);
    rel(n);
    big[0] = 'u';
    big[1] = ':';
    len = build_export(big, GP11_NAME_MAX + 3, t, GP11_NAME_MAX + 200);
    imp_fails(NT_EXPORT, t, len, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    free(big);
    free(t);
}

/* NUL bytes, empty, overlong and non-UTF-8 names are refused. */
static void test_bad_strings(void **state)
{
    gss_OID types[4];
    char big[GP11_NAME_MAX + 2];
    gss_name_t n;
    size_t i;

    (void)state;
    types[0] = NT_USER;
    types[1] = NT_HOST;
    types[2] = NT_X509;
    types[3] = GSS_C_NO_OID;
    memset(big, 'a', sizeof(big));
    big[0] = 'C';
    big[1] = 'N';
    big[2] = '=';
    for (i = 0; i < 4; i++) {
        imp_fails(types[i], "CN=al\0ice", 9, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
        imp_fails(types[i], "", 0, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
        imp_fails(types[i], NULL, 0, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
        imp_fails(types[i], big, GP11_NAME_MAX + 1, GSS_S_BAD_NAME,
                  GP11_ERR_BAD_NAME);
        imp_fails(types[i], "CN=\xc0\xaf", 5, GSS_S_BAD_NAME,
                  GP11_ERR_BAD_NAME);
        imp_fails(types[i], "CN=\xed\xa0\x80", 6, GSS_S_BAD_NAME,
                  GP11_ERR_BAD_NAME);
        imp_fails(types[i], "CN=\xe2\x82", 5, GSS_S_BAD_NAME,
                  GP11_ERR_BAD_NAME);
        assert_int_equal(
            imp_len(types[i], big, GP11_NAME_MAX, &(OM_uint32){0}, &n),
            GSS_S_COMPLETE);
        rel(n);
    }
    imp_fails(NT_ANON, "al\0ice", 6, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    imp_fails(NT_ANON, "bob", 3, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    imp_fails(NT_ANON, big, GP11_NAME_MAX + 1, GSS_S_BAD_NAME,
              GP11_ERR_BAD_NAME);
    n = imp(NT_ANON, "");
    rel(n);
    /* a DN whose canonical form outgrows the limit (\01 for each 0x01) */
    memset(big, 0x01, sizeof(big));
    memcpy(big, "CN=", 3);
    imp_fails(NT_X509, big, 400, GSS_S_BAD_NAME, GP11_ERR_BAD_NAME);
    n = imp(NT_X509, "CN=\x01");
    check_display(n, "CN=\\01", NT_X509);
    rel(n);
}

/* Name types this mechanism does not know. */
static void test_bad_types(void **state)
{
    static gss_OID_desc made_up = {3, "\x2a\x03\x04"};
    static gss_OID_desc empty = {0, NULL};
    gss_OID types[5];
    size_t i;

    (void)state;
    types[0] = GSS_C_NT_MACHINE_UID_NAME;
    types[1] = GSS_C_NT_STRING_UID_NAME;
    types[2] = &made_up;
    types[3] = &empty;
    types[4] = (gss_OID)gp11_mech_oid();
    for (i = 0; i < 5; i++)
        imp_fails(types[i], "alice", 5, GSS_S_BAD_NAMETYPE,
                  GP11_ERR_BAD_NAME_TYPE);
}

/* NULL and foreign arguments get an error, never a crash. */
static void test_null_args(void **state)
{
    uint8_t foreign[64] = {0};
    gss_name_t alien = (gss_name_t)foreign, n, out;
    gss_buffer_desc b = {5, "alice"}, nullval = {5, NULL}, buf;
    gss_OID_set set;
    gss_OID t;
    OM_uint32 minor;
    int eq;

    (void)state;
    n = imp(NT_USER, "alice");

    assert_int_equal(gp11_gss_import_name(NULL, &b, NT_USER, &out),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_import_name(&minor, &b, NT_USER, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(minor, GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_gss_import_name(&minor, NULL, NT_USER, &out),
                     GSS_S_CALL_INACCESSIBLE_READ);
    assert_null(out);
    assert_int_equal(gp11_gss_import_name(&minor, &nullval, NT_USER, &out),
                     GSS_S_CALL_INACCESSIBLE_READ);
    assert_int_equal(gp11_gss_import_name(&minor, NULL, NULL, &out),
                     GSS_S_CALL_INACCESSIBLE_READ);

    assert_int_equal(gp11_gss_display_name(NULL, n, &buf, &t),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_display_name(&minor, n, NULL, &t),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_display_name(&minor, GSS_C_NO_NAME, &buf, &t),
                     GSS_S_CALL_INACCESSIBLE_READ | GSS_S_BAD_NAME);
    assert_null(buf.value);
    assert_int_equal(gp11_gss_display_name(&minor, alien, &buf, &t),
                     GSS_S_BAD_NAME);
    assert_int_equal(minor, GP11_ERR_BAD_NAME);
    assert_int_equal(gp11_gss_display_name(&minor, n, &buf, NULL),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &buf);

    assert_int_equal(gp11_gss_compare_name(NULL, n, n, &eq),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_compare_name(&minor, n, n, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_compare_name(&minor, GSS_C_NO_NAME, n, &eq),
                     GSS_S_CALL_INACCESSIBLE_READ | GSS_S_BAD_NAME);
    assert_int_equal(gp11_gss_compare_name(&minor, n, GSS_C_NO_NAME, &eq),
                     GSS_S_CALL_INACCESSIBLE_READ | GSS_S_BAD_NAME);
    assert_int_equal(gp11_gss_compare_name(&minor, n, alien, &eq),
                     GSS_S_BAD_NAME);
    assert_int_equal(eq, 0);

    assert_int_equal(gp11_gss_canonicalize_name(NULL, n, NULL, &out),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_canonicalize_name(&minor, n, NULL, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(
        gp11_gss_canonicalize_name(&minor, GSS_C_NO_NAME, NULL, &out),
        GSS_S_CALL_INACCESSIBLE_READ | GSS_S_BAD_NAME);
    assert_null(out);

    assert_int_equal(gp11_gss_export_name(NULL, n, &buf),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_export_name(&minor, n, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_export_name(&minor, GSS_C_NO_NAME, &buf),
                     GSS_S_CALL_INACCESSIBLE_READ | GSS_S_BAD_NAME);
    assert_int_equal(gp11_gss_export_name(&minor, alien, &buf), GSS_S_BAD_NAME);
    assert_null(buf.value);

    assert_int_equal(gp11_gss_duplicate_name(NULL, n, &out),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_duplicate_name(&minor, n, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_duplicate_name(&minor, GSS_C_NO_NAME, &out),
                     GSS_S_CALL_INACCESSIBLE_READ | GSS_S_BAD_NAME);
    assert_int_equal(gp11_gss_duplicate_name(&minor, alien, &out),
                     GSS_S_BAD_NAME);

    assert_int_equal(gp11_gss_release_name(NULL, &n),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_release_name(&minor, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    out = GSS_C_NO_NAME;
    assert_int_equal(gp11_gss_release_name(&minor, &out), GSS_S_COMPLETE);
    out = alien;
    assert_int_equal(gp11_gss_release_name(&minor, &out), GSS_S_BAD_NAME);

    assert_int_equal(gp11_gss_inquire_names_for_mech(NULL, NULL, &set),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_inquire_names_for_mech(&minor, NULL, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);

    assert_int_equal(gp11_gss_localname(NULL, n, NULL, &buf),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_localname(&minor, n, NULL, NULL),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_int_equal(gp11_gss_localname(&minor, GSS_C_NO_NAME, NULL, &buf),
                     GSS_S_CALL_INACCESSIBLE_READ | GSS_S_BAD_NAME);
    assert_int_equal(gp11_gss_localname(&minor, alien, NULL, &buf),
                     GSS_S_BAD_NAME);
    assert_null(buf.value);

    assert_null(gp11_name_from_gss(GSS_C_NO_NAME));
    assert_null(gp11_name_from_gss(alien));
    rel(n);
}

/* Canonicalize and duplicate give independent, equal names. */
static void test_canon_dup(void **state)
{
    static gss_OID_desc krb5 = {9, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
    gss_name_t n, c, d;
    OM_uint32 minor;
    int eq;

    (void)state;
    n = imp(NT_HOST, "HTTP@Web");
    assert_int_equal(
        gp11_gss_canonicalize_name(&minor, n, (gss_OID)gp11_mech_oid(), &c),
        GSS_S_COMPLETE);
    assert_int_equal(gp11_gss_duplicate_name(&minor, n, &d), GSS_S_COMPLETE);
    assert_true(c != n && d != n && c != d);
    rel(c);
    assert_int_equal(gp11_gss_canonicalize_name(&minor, n, &krb5, &c),
                     GSS_S_BAD_MECH);
    assert_null(c);
    assert_int_equal(gp11_gss_canonicalize_name(&minor, n, GSS_C_NO_OID, &c),
                     GSS_S_COMPLETE);
    rel(n);
    assert_int_equal(gp11_gss_compare_name(&minor, c, d, &eq), GSS_S_COMPLETE);
    assert_int_equal(eq, 1);
    check_display(c, "HTTP@web", NT_HOST);
    check_display(d, "HTTP@web", NT_HOST);
    rel(c);
    rel(d);
}

/* inquire_names_for_mech lists the five types, freeable by libgssapi. */
static void test_inquire_names(void **state)
{
    static gss_OID_desc krb5 = {9, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
    gss_OID_set set = GSS_C_NO_OID_SET;
    gss_OID want[5];
    OM_uint32 minor;
    size_t i, j;
    int hits;

    (void)state;
    want[0] = NT_HOST;
    want[1] = NT_USER;
    want[2] = NT_ANON;
    want[3] = NT_EXPORT;
    want[4] = NT_X509;
    assert_int_equal(
        gp11_gss_inquire_names_for_mech(&minor, (gss_OID)gp11_mech_oid(), &set),
        GSS_S_COMPLETE);
    assert_int_equal(set->count, 5);
    for (i = 0; i < 5; i++) {
        hits = 0;
        for (j = 0; j < set->count; j++)
            hits += oid_is(&set->elements[j], want[i]);
        assert_int_equal(hits, 1);
    }
    gss_release_oid_set(&minor, &set);
    assert_int_equal(
        gp11_gss_inquire_names_for_mech(&minor, GSS_C_NO_OID, &set),
        GSS_S_COMPLETE);
    gss_release_oid_set(&minor, &set);
    assert_int_equal(gp11_gss_inquire_names_for_mech(&minor, &krb5, &set),
                     GSS_S_BAD_MECH);
    assert_null(set);
}

/* localname: user names map to their local part, nothing else maps. */
static void test_localname(void **state)
{
    static const struct {
        int type;
        const char *in, *local;
    } cases[] = {
        {0, "alice", "alice"},
        {0, "alice@localhost", "alice"},
        {0, "bob.smith@example.com", "bob.smith"},
        {0, "a@b@c", NULL},
        {0, "@example.com", NULL},
        {0, "-rf@example.com", NULL},
        {0, "Alice Smith", NULL},
        {0, "../etc@x", NULL},
        {0, "..", NULL},
        {0, ".@x", NULL},
        {0, "a:b", NULL},
        {0, "a\\b", NULL},
        {0, "tab\there", NULL},
        {1, "host@server", NULL},
        {1, "alice", NULL},
        {2, "", NULL},
        {3, "CN=alice", NULL},
    };
    static gss_OID_desc krb5 = {9, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
    gss_buffer_desc out;
    gss_name_t n;
    OM_uint32 minor, major;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = imp(nt(cases[i].type), cases[i].in);
        major = gp11_gss_localname(&minor, n, (gss_OID)gp11_mech_oid(), &out);
        if (cases[i].local != NULL) {
            assert_int_equal(major, GSS_S_COMPLETE);
            assert_int_equal(out.length, strlen(cases[i].local));
            assert_string_equal(out.value, cases[i].local);
            gss_release_buffer(&minor, &out);
        } else {
            if (major != GSS_S_UNAVAILABLE)
                print_error("localname of \"%s\"\n", cases[i].in);
            assert_int_equal(major, GSS_S_UNAVAILABLE);
            assert_int_equal(minor, GP11_ERR_NO_LOCALNAME);
            assert_null(out.value);
        }
        rel(n);
    }
    n = imp(NT_USER, "alice");
    assert_int_equal(gp11_gss_localname(&minor, n, &krb5, &out),
                     GSS_S_BAD_MECH);
    assert_int_equal(gp11_gss_localname(&minor, n, GSS_C_NO_OID, &out),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &out);
    rel(n);
}

/* gssspi_authorize_localname: exactly the gss_localname account, and the
 * minor says which account the name has when it is refused. */
static void test_authorize_localname(void **state)
{
    gss_buffer_desc alice = {5, "alice"}, alicex = {6, "alicex"};
    gss_buffer_desc alic = {4, "alic"}, host = {4, "host"};
    gss_name_t u = imp(NT_USER, "alice@example.com");
    gss_name_t h = imp(NT_HOST, "host@localhost");
    OM_uint32 minor;

    (void)state;
    assert_int_equal(gp11_gss_authorize_localname(&minor, u, &alice, NT_USER),
                     GSS_S_COMPLETE);
    assert_int_equal(
        gp11_gss_authorize_localname(&minor, u, &alice, GSS_C_NO_OID),
        GSS_S_COMPLETE);
    assert_int_equal(gp11_gss_authorize_localname(&minor, u, &alicex, NT_USER),
                     GSS_S_UNAUTHORIZED);
    assert_int_equal(minor, GP11_ERR_NO_LOCALNAME);
    assert_non_null(strstr(gp11_err_message(minor),
                           "maps to the local account \"alice\", not "
                           "\"alicex\""));
    assert_int_equal(gp11_gss_authorize_localname(&minor, u, &alic, NT_USER),
                     GSS_S_UNAUTHORIZED);
    assert_int_equal(gp11_gss_authorize_localname(&minor, h, &host, NT_USER),
                     GSS_S_UNAUTHORIZED);
    assert_non_null(strstr(gp11_err_message(minor), "maps to no local"));
    assert_int_equal(gp11_gss_authorize_localname(&minor, u, &alice, NT_HOST),
                     GSS_S_BAD_NAMETYPE);
    assert_int_equal(gp11_gss_authorize_localname(&minor, u, NULL, NT_USER),
                     GSS_S_CALL_INACCESSIBLE_READ);
    assert_int_equal(gp11_gss_authorize_localname(NULL, u, &alice, NT_USER),
                     GSS_S_CALL_INACCESSIBLE_WRITE);
    assert_true(GSS_ERROR(
        gp11_gss_authorize_localname(&minor, GSS_C_NO_NAME, &alice, NT_USER)));
    rel(u);
    rel(h);
}

/*
 * A self-signed certificate with the given subject (field/value pairs,
 * NULL-terminated) and san_count copies of the subjectAltName extension
 * san (OpenSSL config syntax).
 */
static X509 *make_cert(const char *const *subj, const char *san, int san_count)
{
    X509 *x = X509_new();
    X509_NAME *nm;
    X509_EXTENSION *ext;
    X509V3_CTX ctx;
    int i;

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    nm = X509_get_subject_name(x);
    for (i = 0; subj != NULL && subj[i] != NULL; i += 2)
        assert_int_equal(X509_NAME_add_entry_by_txt(
                             nm, subj[i], MBSTRING_UTF8,
                             (const unsigned char *)subj[i + 1], -1, -1, 0),
                         1);
    assert_int_equal(X509_set_issuer_name(x, nm), 1);
    assert_int_equal(X509_set_pubkey(x, cert_key), 1);
    for (i = 0; san != NULL && i < san_count; i++) {
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, cert_key, EVP_sha256()) > 0);
    return x;
}

/* Runs gp11_name_from_cert; checks kind and text, or the failure. */
static void check_from_cert(X509 *x, bool acceptor, const char *service,
                            const char *host, int kind, const char *text)
{
    struct gp11_name *n = NULL;
    uint32_t ret;

    ret = gp11_name_from_cert(x, acceptor, service, host, &n);
    if (text == NULL) {
        assert_int_equal(ret, GP11_ERR_CERT_INVALID);
        assert_null(n);
        return;
    }
    if (ret != GP11_OK)
        print_error("from_cert: %s\n", gp11_err_message(ret));
    assert_int_equal(ret, GP11_OK);
    assert_int_equal(gp11_name_kind(n), kind);
    assert_string_equal(gp11_name_text(n), text);
    gp11_name_free(n);
}

/* Peer names from certificates: SAN dNSName, rfc822Name, CN, no CN. */
static void test_from_cert(void **state)
{
    static const char *const cn_server[] = {"CN", "Server.Example.com", NULL};
    static const char *const cn_wild[] = {"CN", "*.example.com", NULL};
    static const char *const cn_alice[] = {"O", "Example", "CN", "Alice", NULL};
    static const char *const two_cn[] = {"CN", "first", "CN", "second", NULL};
    static const char *const no_cn[] = {
        "C", "FR", "O", "Ex, Inc+Co", "OU", "Z\xc3\xbcrich", NULL};
    static const char *const uid_only[] = {"UID", "u1", NULL};
    struct gp11_name *n;
    X509 *x;

    (void)state;
    /* acceptor: the dNSName that matches the target host wins */
    x = make_cert(cn_server, "DNS:a.example.com,DNS:WWW.example.com", 1);
    check_from_cert(x, true, "HTTP", "www.EXAMPLE.com", GP11_NAME_HOSTBASED,
                    "HTTP@www.example.com");
    check_from_cert(x, true, "HTTP", "other.example.com", GP11_NAME_HOSTBASED,
                    "HTTP@a.example.com");
    check_from_cert(x, true, NULL, NULL, GP11_NAME_HOSTBASED,
                    "host@a.example.com");
    assert_int_equal(gp11_name_from_cert(x, true, "", NULL, &n),
                     GP11_ERR_BAD_ARG);
    /* initiator with a SAN but no rfc822Name: never the CN (issue 9),
     * a machine certificate names a host */
    check_from_cert(x, false, NULL, NULL, GP11_NAME_HOSTBASED,
                    "host@a.example.com");
    assert_int_equal(gp11_name_from_cert(x, true, "a@b", NULL, &n),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_name_from_cert(NULL, true, NULL, NULL, &n),
                     GP11_ERR_BAD_ARG);
    assert_int_equal(gp11_name_from_cert(x, true, NULL, NULL, NULL),
                     GP11_ERR_BAD_ARG);
    X509_free(x);

    /* a wildcard matches the host, and is never used as a host itself */
    x = make_cert(cn_server, "DNS:*.example.com", 1);
    check_from_cert(x, true, NULL, "node1.example.com", GP11_NAME_HOSTBASED,
                    "host@node1.example.com");
    check_from_cert(x, true, NULL, "a.b.example.com", GP11_NAME_HOSTBASED,
                    "host@server.example.com");
    X509_free(x);

    /* a wildcard CN matches only when there is no dNSName */
    x = make_cert(cn_wild, NULL, 0);
    check_from_cert(x, true, NULL, "Node2.example.com", GP11_NAME_HOSTBASED,
                    "host@node2.example.com");
    X509_free(x);
    x = make_cert(cn_wild, "DNS:a.example.com", 1);
    check_from_cert(x, true, NULL, "node2.example.com", GP11_NAME_HOSTBASED,
                    "host@a.example.com");
    X509_free(x);

    /* CN only */
    x = make_cert(cn_server, NULL, 0);
    check_from_cert(x, true, "ldap", "server.example.com", GP11_NAME_HOSTBASED,
                    "ldap@server.example.com");
    X509_free(x);

    /* initiator: the first rfc822Name */
    x = make_cert(cn_alice, "email:alice@localhost,email:a2@localhost", 1);
    check_from_cert(x, false, NULL, NULL, GP11_NAME_USER, "alice@localhost");
    X509_free(x);

    /* initiator: the CN only without any SAN; the last CN when there are
     * several. CN=Alice with a dNSName is the host, not user Alice. */
    x = make_cert(cn_alice, "DNS:alice.example.com", 1);
    check_from_cert(x, false, NULL, NULL, GP11_NAME_HOSTBASED,
                    "host@alice.example.com");
    X509_free(x);
    x = make_cert(cn_alice, "URI:https://alice.example.com/", 1);
    check_from_cert(x, false, NULL, NULL, GP11_NAME_X509, "CN=Alice,O=Example");
    X509_free(x);
    x = make_cert(two_cn, NULL, 0);
    check_from_cert(x, false, NULL, NULL, GP11_NAME_USER, "second");
    check_from_cert(x, true, NULL, NULL, GP11_NAME_HOSTBASED, "host@second");
    X509_free(x);

    /* initiator without CN: the RFC 4514 subject, most specific first */
    x = make_cert(no_cn, NULL, 0);
    check_from_cert(x, false, NULL, NULL, GP11_NAME_X509,
                    "OU=Z\xc3\xbcrich,O=Ex\\, Inc\\+Co,C=FR");
    /* acceptor with neither DNS name nor CN */
    check_from_cert(x, true, NULL, "x.example.com", 0, NULL);
    X509_free(x);
    x = make_cert(uid_only, NULL, 0);
    check_from_cert(x, false, NULL, NULL, GP11_NAME_X509, "UID=u1");
    X509_free(x);

    /* empty subject, no SAN: nothing to name the peer with */
    x = make_cert(NULL, NULL, 0);
    check_from_cert(x, false, NULL, NULL, 0, NULL);
    check_from_cert(x, true, NULL, NULL, 0, NULL);
    X509_free(x);

    /* two subjectAltName extensions */
    x = make_cert(cn_alice, "email:alice@localhost", 2);
    check_from_cert(x, false, NULL, NULL, 0, NULL);
    X509_free(x);
}

/* A CN with a NUL byte never becomes a name. */
static void test_from_cert_nul(void **state)
{
    X509 *x = make_cert(NULL, NULL, 0);
    X509_NAME *nm = X509_NAME_new();

    (void)state;
    assert_non_null(nm);
    assert_int_equal(
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"evil\0.example.com",
                                   17, -1, 0),
        1);
    assert_int_equal(X509_set_subject_name(x, nm), 1);
    X509_NAME_free(nm);
    check_from_cert(x, false, NULL, NULL, 0, NULL);
    check_from_cert(x, true, NULL, NULL, 0, NULL);
    X509_free(x);
}

/* Adds a subjectAltName with one entry of raw bytes v[0..len): an
 * rfc822Name, a dNSName or (GEN_OTHERNAME) a UPN UTF8String; built by
 * hand because the config syntax cannot write a NUL. */
static void add_raw_san(X509 *x, int type, const char *v, int len)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_STRING *str = ASN1_STRING_type_new(
        type == GEN_OTHERNAME ? V_ASN1_UTF8STRING : V_ASN1_IA5STRING);
    X509_EXTENSION *ext;
    ASN1_TYPE *val;

    assert_non_null(gens);
    assert_non_null(gn);
    assert_non_null(str);
    assert_int_equal(ASN1_STRING_set(str, v, len), 1);
    if (type == GEN_OTHERNAME) {
        val = ASN1_TYPE_new();
        assert_non_null(val);
        ASN1_TYPE_set(val, V_ASN1_UTF8STRING, str);
        assert_int_equal(GENERAL_NAME_set0_othername(
                             gn, OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1),
                             val),
                         1);
    } else {
        GENERAL_NAME_set0_value(gn, type, str);
    }
    assert_true(sk_GENERAL_NAME_push(gens, gn) > 0);
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    GENERAL_NAMES_free(gens);
}

/* Runs gp11_name_from_cert_ex as the acceptor sees an initiator with the
 * user name SAN type user_san; checks kind and text, or the failure. */
static void check_user_san(X509 *x, const char *user_san, int kind,
                           const char *text)
{
    struct gp11_name *n = NULL;
    uint32_t ret;

    ret = gp11_name_from_cert_ex(x, false, NULL, true, NULL, user_san, &n);
    if (text == NULL) {
        assert_int_equal(ret, GP11_ERR_CERT_INVALID);
        assert_null(n);
        return;
    }
    if (ret != GP11_OK)
        print_error("from_cert_ex: %s\n", gp11_err_message(ret));
    assert_int_equal(ret, GP11_OK);
    assert_int_equal(gp11_name_kind(n), kind);
    assert_string_equal(gp11_name_text(n), text);
    gp11_name_free(n);
}

/* user-name-san: rfc822Name by default, or the UPN otherName; an
 * rfc822Name is then no user name, nor is the CN. */
static void test_from_cert_user_san(void **state)
{
    static const char *const cn_root[] = {"CN", "root", NULL};
    X509 *x;

    (void)state;
    x = make_cert(cn_root, "email:alice@example.com,"
                           "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:bob@EX.TEST",
                  1);
    check_user_san(x, NULL, GP11_NAME_USER, "alice@example.com");
    check_user_san(x, "rfc822Name", GP11_NAME_USER, "alice@example.com");
    check_user_san(x, "1.3.6.1.4.1.311.20.2.3", GP11_NAME_USER, "bob@EX.TEST");
    X509_free(x);
    /* the UPN configured, only an rfc822Name present: the subject */
    x = make_cert(cn_root, "email:alice@example.com", 1);
    check_user_san(x, "1.3.6.1.4.1.311.20.2.3", GP11_NAME_X509, "CN=root");
    X509_free(x);
    /* a UPN holding a NUL is refused */
    x = make_cert(cn_root, NULL, 0);
    add_raw_san(x, GEN_OTHERNAME, "root\0", 5);
    check_user_san(x, "1.3.6.1.4.1.311.20.2.3", 0, NULL);
    X509_free(x);
}

/* An rfc822Name or dNSName with a NUL byte, trailing or inside: refused,
 * never shortened ("root\0" is not "root"). */
static void test_from_cert_san_nul(void **state)
{
    static const char *const cn_x[] = {"CN", "x", NULL};
    static const struct {
        int type;
        const char *v;
        int len;
    } cases[] = {
        {GEN_EMAIL, "root\0", 5},
        {GEN_EMAIL, "ro\0ot@x", 7},
        {GEN_DNS, "h.exam\0", 7},
    };
    struct gp11_name *n = NULL;
    X509 *x;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        x = make_cert(cn_x, NULL, 0);
        add_raw_san(x, cases[i].type, cases[i].v, cases[i].len);
        assert_int_equal(gp11_name_from_cert_ex(x, false, NULL, true, NULL,
                                                NULL, &n),
                         GP11_ERR_CERT_INVALID);
        assert_null(n);
        assert_non_null(
            strstr(gp11_err_message(GP11_ERR_CERT_INVALID), "NUL"));
        X509_free(x);
    }
}

/* The acceptor whose certificate does not bind the service: its subject
 * only, never service@host. */
static void test_from_cert_unproven_service(void **state)
{
    static const char *const cn_server[] = {"CN", "server", "O", "Ex", NULL};
    struct gp11_name *n = NULL;
    X509 *x;

    (void)state;
    x = make_cert(cn_server, "DNS:www.example.com", 1);
    assert_int_equal(gp11_name_from_cert_ex(x, true, "HTTP", false,
                                            "www.example.com", NULL, &n),
                     GP11_OK);
    assert_int_equal(gp11_name_kind(n), GP11_NAME_X509);
    assert_string_equal(gp11_name_text(n), "O=Ex,CN=server");
    gp11_name_free(n);
    X509_free(x);
}

static int group_setup(void **state)
{
    (void)state;
    cert_key = EVP_EC_gen("P-256");
    return cert_key != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(cert_key);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x509_oid),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_hostbased),
        cmocka_unit_test(test_x509_names),
        cmocka_unit_test(test_compare_matrix),
        cmocka_unit_test(test_export_format),
        cmocka_unit_test(test_export_rejects),
        cmocka_unit_test(test_export_limits),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_bad_types),
        cmocka_unit_test(test_null_args),
        cmocka_unit_test(test_canon_dup),
        cmocka_unit_test(test_inquire_names),
        cmocka_unit_test(test_localname),
        cmocka_unit_test(test_authorize_localname),
        cmocka_unit_test(test_from_cert),
        cmocka_unit_test(test_from_cert_nul),
        cmocka_unit_test(test_from_cert_user_san),
        cmocka_unit_test(test_from_cert_san_nul),
        cmocka_unit_test(test_from_cert_unproven_service),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
