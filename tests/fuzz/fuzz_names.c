/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: GSS names (core/names.c). Byte 0 chooses what the
 * rest of the input is:
 *   0 user name (GSS_C_NT_USER_NAME)   1 the same with GSS_C_NO_OID
 *   2 host-based service               3 the same, the old OID
 *   4 anonymous                        5 X.509 subject (RFC 4514 DN)
 *   6 exported name token              7 a name type we do not know
 *   8-11 a DER certificate: gp11_name_from_cert as acceptor (with the
 *        host "localhost", "Host.Example.ORG", none) and as initiator,
 *        the certificate attached as the name's attributes (RFC 6680)
 *   12 a composite export token (GSS_C_NT_COMPOSITE_EXPORT)
 * Every name that imports is displayed, exported, re-imported from its
 * export, duplicated, canonicalised, compared, asked for a local account
 * name, and has every attribute value read and its composite export
 * re-imported.
 *
 * Invariants: display gives the same text every time; the export
 * re-imports to a name that displays, exports and compares the same
 * (anonymous names compare equal to nothing); a duplicate and a
 * canonical name compare equal to the original (unless anonymous).
 */
#include <openssl/x509.h>

#include "fuzz_input.h"
#include "gp11_error.h"
#include "gp11_names.h"

static gss_OID_desc nt_user = {10, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01"};
static gss_OID_desc nt_hostbased = {10,
                                    "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"};
static gss_OID_desc nt_hostbased_x = {6, "\x2b\x06\x01\x05\x06\x02"};
static gss_OID_desc nt_anonymous = {6, "\x2b\x06\x01\x05\x06\x03"};
static gss_OID_desc nt_export = {6, "\x2b\x06\x01\x05\x06\x04"};
static gss_OID_desc nt_unknown = {6, "\x2b\x06\x01\x05\x06\x07"};
static gss_OID_desc nt_composite = {6, "\x2b\x06\x01\x05\x06\x06"};

/* Name types the provider returns are its own static objects (the
 * module links no mechglue; MIT's gss_release_oid asks the plugin's
 * gss_internal_release_oid first): nothing to free. Asserts it is one
 * of them. */
static void release_type(gss_OID type)
{
    if (type != GSS_C_NO_OID &&
        gp11_gss_internal_release_oid(&(OM_uint32){0}, &type) != GSS_S_COMPLETE)
        FZ_FAIL("display_name returned a name type that is not static");
}

/* The display form of n as a malloc'ed buffer; aborts on failure. */
static gss_buffer_desc display(gss_name_t n, bool *anonymous)
{
    gss_buffer_desc out = {0, NULL};
    gss_OID type = GSS_C_NO_OID;
    OM_uint32 minor;

    if (gp11_gss_display_name(&minor, n, &out, &type) != GSS_S_COMPLETE)
        FZ_FAIL("a name that imported does not display");
    *anonymous =
        type != GSS_C_NO_OID && type->length == nt_anonymous.length &&
        memcmp(type->elements, nt_anonymous.elements, nt_anonymous.length) == 0;
    release_type(type);
    return out;
}

/* True if a and b display the same text. */
static bool same_buffer(const gss_buffer_desc *a, const gss_buffer_desc *b)
{
    return a->length == b->length &&
           (a->length == 0 || memcmp(a->value, b->value, a->length) == 0);
}

/* Equal under compare_name (and the call must work). */
static bool compare(gss_name_t a, gss_name_t b)
{
    OM_uint32 minor;
    int equal = -1;

    if (gp11_gss_compare_name(&minor, a, b, &equal) != GSS_S_COMPLETE ||
        (equal != 0 && equal != 1))
        FZ_FAIL("compare_name failed on two good names");
    return equal == 1;
}

/* Reads every value of every attribute of n; aborts on an inconsistency. */
static void read_attributes(gss_name_t n)
{
    gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
    gss_buffer_desc v, d;
    OM_uint32 minor;
    int more, values, auth, complete;

    if (gp11_gss_inquire_name(&minor, n, NULL, NULL, &set) != GSS_S_COMPLETE)
        FZ_FAIL("inquire_name failed on a good name");
    for (size_t i = 0; set != NULL && i < set->count; i++) {
        more = -1;
        values = 0;
        do {
            if (gp11_gss_get_name_attribute(&minor, n, &set->elements[i], &auth,
                                            &complete, &v, &d,
                                            &more) != GSS_S_COMPLETE)
                FZ_FAIL("a listed attribute has no value");
            free(v.value);
            free(d.value);
            if (++values > 64)
                FZ_FAIL("an attribute's values do not end");
        } while (more != 0);
        free(set->elements[i].value);
    }
    if (set != NULL)
        free(set->elements);
    free(set);
}

/* Composite export, re-import, same name and the same attributes. */
static void composite_round_trip(gss_name_t n, bool anon)
{
    gss_buffer_desc tok = {0, NULL};
    gss_name_t back = GSS_C_NO_NAME;
    OM_uint32 minor;

    if (gp11_gss_export_name_composite(&minor, n, &tok) != GSS_S_COMPLETE)
        FZ_FAIL("a name that imported has no composite export");
    if (gp11_gss_import_name(&minor, &tok, &nt_composite, &back) !=
        GSS_S_COMPLETE)
        FZ_FAIL("a composite export does not import: %s",
                gp11_err_message(minor));
    if (compare(n, back) == anon)
        FZ_FAIL("a composite re-import compares unlike the original");
    read_attributes(back);
    free(tok.value);
    gp11_gss_release_name(&minor, &back);
}

/* Everything a caller may do with a name that imported. */
static void exercise(gss_name_t n)
{
    gss_buffer_desc text, text2, exp = {0, NULL}, exp2 = {0, NULL};
    gss_buffer_desc local = {0, NULL};
    gss_name_t back = GSS_C_NO_NAME, dup = GSS_C_NO_NAME;
    gss_name_t canon = GSS_C_NO_NAME;
    OM_uint32 minor;
    bool anon, anon2;

    text = display(n, &anon);
    text2 = display(n, &anon2);
    if (!same_buffer(&text, &text2) || anon != anon2)
        FZ_FAIL("display_name is not stable");
    free(text2.value);
    if (gp11_gss_export_name(&minor, n, &exp) != GSS_S_COMPLETE)
        FZ_FAIL("a name that imported does not export");
    if (gp11_gss_import_name(&minor, &exp, &nt_export, &back) != GSS_S_COMPLETE)
        FZ_FAIL("an exported name (%zu bytes) does not import: %s", exp.length,
                gp11_err_message(minor));
    text2 = display(back, &anon2);
    if (!same_buffer(&text, &text2) || anon != anon2)
        FZ_FAIL("an exported name re-imports with another display form");
    free(text2.value);
    if (gp11_gss_export_name(&minor, back, &exp2) != GSS_S_COMPLETE ||
        !same_buffer(&exp, &exp2))
        FZ_FAIL("export(import(export(name))) differs from export(name)");
    if (compare(n, back) == anon)
        FZ_FAIL("a re-imported name compares %s", anon ? "equal" : "unequal");
    if (gp11_gss_duplicate_name(&minor, n, &dup) != GSS_S_COMPLETE ||
        compare(n, dup) == anon)
        FZ_FAIL("a duplicate does not compare like the original");
    if (gp11_gss_canonicalize_name(&minor, n, GSS_C_NO_OID, &canon) !=
            GSS_S_COMPLETE ||
        compare(n, canon) == anon)
        FZ_FAIL("a canonical name does not compare like the original");
    if (gp11_gss_localname(&minor, n, GSS_C_NO_OID, &local) == GSS_S_COMPLETE &&
        (local.length == 0 || memchr(local.value, '@', local.length) ||
         memchr(local.value, '/', local.length)))
        FZ_FAIL("localname gave an unusable account name");
    read_attributes(n);
    composite_round_trip(n, anon);
    free(local.value);
    free(text.value);
    free(exp.value);
    free(exp2.value);
    gp11_gss_release_name(&minor, &back);
    gp11_gss_release_name(&minor, &dup);
    gp11_gss_release_name(&minor, &canon);
}

/* gp11_name_from_cert on DER that may or may not be a certificate. */
static void from_cert(unsigned how, const uint8_t *der, size_t len)
{
    static const char *const hosts[] = {"localhost", "Host.Example.ORG", NULL};
    const unsigned char *q = der;
    struct gp11_name *name = NULL;
    gss_name_t g;
    OM_uint32 minor;
    X509 *x;

    x = d2i_X509(NULL, &q, (long)len);
    if (x == NULL)
        return;
    if (gp11_name_from_cert(x, how < 3, NULL, how < 3 ? hosts[how] : NULL,
                            &name) == GP11_OK) {
        gp11_name_attach_cert(name, x, true);
        g = (gss_name_t)name;
        exercise(g);
        gp11_gss_release_name(&minor, &g);
    }
    X509_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gss_OID types[13] = {&nt_user,        GSS_C_NO_OID,  &nt_hostbased,
                         &nt_hostbased_x, &nt_anonymous, NULL,
                         &nt_export,      &nt_unknown};
    struct fz_in in = {data, size};
    unsigned op = fz_u8(&in) % 13;
    gss_buffer_desc buf;
    gss_name_t n = GSS_C_NO_NAME;
    OM_uint32 minor, major;
    const uint8_t *p;
    size_t len;

    types[5] = (gss_OID)gp11_nt_x509_subject();
    types[12] = &nt_composite;
    p = fz_rest(&in, &len);
    if (op >= 8 && op < 12) {
        from_cert(op - 8, p, len);
    } else {
        /* A copy of exactly len bytes: an over-read shows under ASan. */
        buf.value = fz_dup(p, len);
        buf.length = len;
        major = gp11_gss_import_name(&minor, &buf, types[op], &n);
        if (major == GSS_S_COMPLETE) {
            if (n == GSS_C_NO_NAME)
                FZ_FAIL("import_name succeeded without a name");
            exercise(n);
            gp11_gss_release_name(&minor, &n);
        } else if (n != GSS_C_NO_NAME) {
            FZ_FAIL("a failed import_name returned a name");
        }
        free(buf.value);
    }
    gp11_err_clear();
    return 0;
}
