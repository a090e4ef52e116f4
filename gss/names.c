/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GSS-API name calls: name types, gss_name_t and gss_buffer_t onto
 * the engine's names (core/names.c), and the RFC 2743 3.2 framing of
 * exported names around the mechanism's body.
 */
#include "gp11_names.h"
#include "gp11_error.h"
#include "gp11_gss.h"
#include "gp11_oid.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Room for the DER encoding (06, length, content) of the mechanism OID. */
#define OID_DER_MAX (GP11_OID_MAX_LEN + 4)

/*
 * Standard name types (content bytes of the DER OIDs), our own objects:
 * the module links no mechglue, so it cannot return the mechglue's
 * constants. Both MIT 1.20 and Heimdal 7.8 compare name types by value;
 * MIT releases a converted name's type with gss_release_oid, which asks
 * gp11_gss_internal_release_oid first (below), so these are never freed.
 */
static gss_OID_desc nt_user = {10, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01"};
static gss_OID_desc nt_hostbased = {10,
                                    "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"};
static gss_OID_desc nt_hostbased_x = {6, "\x2b\x06\x01\x05\x06\x02"};
static gss_OID_desc nt_anonymous = {6, "\x2b\x06\x01\x05\x06\x03"};
static gss_OID_desc nt_export = {6, "\x2b\x06\x01\x05\x06\x04"};
/* GSS_C_NT_COMPOSITE_EXPORT, 1.3.6.1.5.6.6 (RFC 6680). */
static gss_OID_desc nt_composite = {6, "\x2b\x06\x01\x05\x06\x06"};

static pthread_once_t x509_once = PTHREAD_ONCE_INIT;
static unsigned char x509_oid_bytes[GP11_OID_MAX_LEN + 1];
static gss_OID_desc nt_x509 = {0, x509_oid_bytes};

/* Fills nt_x509 with the mechanism OID plus the arc 1. */
static void x509_oid_init(void)
{
    const gss_OID_desc *mech = gp11_mech_oid();

    if (mech == NULL || mech->length + 1 > sizeof(x509_oid_bytes))
        return; /* length 0: matches no OID */
    memcpy(x509_oid_bytes, mech->elements, mech->length);
    x509_oid_bytes[mech->length] = 0x01;
    nt_x509.length = mech->length + 1;
}

const gss_OID_desc *gp11_nt_x509_subject(void)
{
    pthread_once(&x509_once, x509_oid_init);
    return &nt_x509;
}

/* True if a and b are the same non-empty OID. */
static bool oid_eq(const gss_OID_desc *a, const gss_OID_desc *b)
{
    return a != NULL && b != NULL && a->length != 0 && a->length == b->length &&
           memcmp(a->elements, b->elements, a->length) == 0;
}

/* True if mech is GSS_C_NO_OID or our mechanism. */
static bool mech_ok(const gss_OID_desc *mech)
{
    return mech == GSS_C_NO_OID || oid_eq(mech, gp11_mech_oid());
}

/* DER encoding (06 len content) of oid into out; 0 if it does not fit. */
static size_t der_oid(const gss_OID_desc *oid, unsigned char *out, size_t cap)
{
    size_t n, hdr;

    if (oid == NULL)
        return 0;
    n = oid->length;
    hdr = n < 0x80 ? 2 : (n < 0x100 ? 3 : 4);
    if (n == 0 || n > 0xffff || hdr + n > cap)
        return 0;
    out[0] = 0x06;
    if (hdr == 2) {
        out[1] = (unsigned char)n;
    } else if (hdr == 3) {
        out[1] = 0x81;
        out[2] = (unsigned char)n;
    } else {
        out[1] = 0x82;
        out[2] = (unsigned char)(n >> 8);
        out[3] = (unsigned char)n;
    }
    memcpy(out + hdr, oid->elements, n);
    return hdr + n;
}

/* True if p[0..n) is exactly one well-formed DER OBJECT IDENTIFIER. */
static bool der_oid_wellformed(const unsigned char *p, size_t n)
{
    size_t len, hdr;

    if (n < 3 || p[0] != 0x06)
        return false;
    if (p[1] < 0x80) {
        len = p[1];
        hdr = 2;
    } else if (p[1] == 0x81 && n >= 3 && p[2] >= 0x80) {
        len = p[2];
        hdr = 3;
    } else if (p[1] == 0x82 && n >= 4 && p[2] != 0) {
        len = (size_t)p[2] << 8 | p[3];
        hdr = 4;
    } else {
        return false;
    }
    return len != 0 && hdr + len == n && (p[n - 1] & 0x80) == 0;
}

/* The name behind a gss_name_t, or NULL if it is not one of ours. */
struct gp11_name *gp11_name_from_gss(gss_name_t name)
{
    return gp11_name_checked(name);
}

/* Status for a failed name construction: BAD_NAME unless out of memory. */
static OM_uint32 make_status(uint32_t code)
{
    return code == GP11_ERR_NOMEM || code == GP11_ERR_INTERNAL ? GSS_S_FAILURE
                                                               : GSS_S_BAD_NAME;
}

/* The status for a missing or foreign input name; sets *minor. */
static OM_uint32 bad_input_name(OM_uint32 *minor, gss_name_t name,
                                const char *call)
{
    if (name == GSS_C_NO_NAME) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "%s: no name given", call);
        return GSS_S_CALL_INACCESSIBLE_READ | GSS_S_BAD_NAME;
    }
    *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                          "%s: the name is not a gss-pkcs11 name", call);
    return GSS_S_BAD_NAME;
}

/*
 * The start of a call that renders one of our names into a buffer: the
 * output is checked and emptied, then the name; *n is the name when the
 * result is GSS_S_COMPLETE (minor set otherwise).
 */
static OM_uint32 name_to_buffer(OM_uint32 *minor, gss_name_t name,
                                gss_buffer_t out, const char *call,
                                struct gp11_name **n)
{
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (out == GSS_C_NO_BUFFER) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "%s: no output", call);
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    out->length = 0;
    out->value = NULL;
    *n = gp11_name_from_gss(name);
    return *n == NULL ? bad_input_name(minor, name, call) : GSS_S_COMPLETE;
}

/* Imports an RFC 2743 section 3.2 exported name token. */
static OM_uint32 import_exported(OM_uint32 *minor, const unsigned char *p,
                                 size_t len, struct gp11_name **out)
{
    unsigned char der[OID_DER_MAX];
    size_t derlen, oidlen, nlen;
    OM_uint32 major = GSS_S_BAD_NAME;

    derlen = der_oid(gp11_mech_oid(), der, sizeof(der));
    if (derlen == 0) {
        *minor = gp11_err_set(GP11_ERR_INTERNAL, "mechanism OID too long");
        return GSS_S_FAILURE;
    }
    if (len < 4 || p[0] != 0x04 || p[1] != 0x01) {
        *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                              "exported name does not start with 04 01");
        goto done;
    }
    oidlen = (size_t)p[2] << 8 | p[3];
    if (len - 4 < oidlen || !der_oid_wellformed(p + 4, oidlen)) {
        *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                              "exported name has a malformed mechanism OID");
        goto done;
    }
    if (oidlen != derlen || memcmp(p + 4, der, derlen) != 0) {
        *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                              "exported name is of another mechanism");
        major = GSS_S_BAD_MECH;
        goto done;
    }
    p += 4 + oidlen;
    len -= 4 + oidlen;
    if (len < 4) {
        *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                              "exported name lacks the name length");
        goto done;
    }
    nlen = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (nlen != len - 4) {
        *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                              "exported name length %zu but %zu bytes follow",
                              nlen, len - 4);
        goto done;
    }
    *minor = gp11_name_import_body(p + 4, nlen, out);
    major = *minor == GP11_OK ? GSS_S_COMPLETE : make_status(*minor);
done:
    return major;
}

OM_uint32 gp11_gss_import_name(OM_uint32 *minor, gss_buffer_t input,
                               gss_OID type, gss_name_t *out)
{
    struct gp11_name *n = NULL;
    enum gp11_name_kind kind;
    OM_uint32 major;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (out == NULL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "import_name: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    *out = GSS_C_NO_NAME;
    if (input == GSS_C_NO_BUFFER ||
        (input->length != 0 && input->value == NULL)) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "import_name: no input");
        return GSS_S_CALL_INACCESSIBLE_READ;
    }
    if (type == GSS_C_NO_OID || oid_eq(type, &nt_user)) {
        kind = GP11_NAME_USER;
    } else if (oid_eq(type, &nt_hostbased) || oid_eq(type, &nt_hostbased_x)) {
        kind = GP11_NAME_HOSTBASED;
    } else if (oid_eq(type, &nt_anonymous)) {
        kind = GP11_NAME_ANONYMOUS;
    } else if (oid_eq(type, gp11_nt_x509_subject())) {
        kind = GP11_NAME_X509;
    } else if (oid_eq(type, &nt_export)) {
        major = import_exported(minor, input->value, input->length, &n);
        goto done;
    } else if (oid_eq(type, &nt_composite)) {
        return gp11_import_name_composite(minor, input, out);
    } else {
        *minor = gp11_err_set(GP11_ERR_BAD_NAME_TYPE,
                              "import_name: name type not supported by "
                              "gss-pkcs11");
        return GSS_S_BAD_NAMETYPE;
    }
    *minor = gp11_name_make(kind, input->length ? input->value : "",
                            input->length, &n);
    major = *minor == GP11_OK ? GSS_S_COMPLETE : make_status(*minor);
done:
    if (major == GSS_S_COMPLETE)
        *out = (gss_name_t)n;
    return major;
}

OM_uint32 gp11_gss_display_name(OM_uint32 *minor, gss_name_t name,
                                gss_buffer_t out, gss_OID *type)
{
    struct gp11_name *n;
    OM_uint32 major;
    size_t len;

    if (type != NULL)
        *type = GSS_C_NO_OID;
    major = name_to_buffer(minor, name, out, "display_name", &n);
    if (major != GSS_S_COMPLETE)
        return major;
    len = strlen(gp11_name_text(n));
    out->value = strndup(gp11_name_text(n), len);
    if (out->value == NULL) {
        *minor = gp11_err_set(GP11_ERR_NOMEM, "display_name: out of memory");
        return GSS_S_FAILURE;
    }
    out->length = len;
    /*
     * Read-only storage the caller never frees (RFC 2744): our static
     * objects. MIT 1.20's mechglue stores the type of a name it converts
     * (peer and context names) and releases it with gss_release_oid,
     * which asks gp11_gss_internal_release_oid first.
     */
    if (type != NULL) {
        switch (gp11_name_kind(n)) {
        case GP11_NAME_HOSTBASED:
            *type = &nt_hostbased;
            break;
        case GP11_NAME_ANONYMOUS:
            *type = &nt_anonymous;
            break;
        case GP11_NAME_X509:
            *type = (gss_OID)gp11_nt_x509_subject();
            break;
        default:
            *type = &nt_user;
            break;
        }
    }
    *minor = 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_internal_release_oid(OM_uint32 *minor, gss_OID *oid)
{
    if (minor != NULL)
        *minor = 0;
    if (oid == NULL || *oid == GSS_C_NO_OID)
        return GSS_S_CONTINUE_NEEDED;
    /* Only our own static objects, by address: the mechglue offers every
     * OID it releases to every mechanism. */
    if (*oid == &nt_user || *oid == &nt_hostbased || *oid == &nt_hostbased_x ||
        *oid == &nt_anonymous || *oid == &nt_export ||
        *oid == (gss_OID)gp11_nt_x509_subject() ||
        *oid == (gss_OID)gp11_mech_oid()) {
        *oid = GSS_C_NO_OID;
        return GSS_S_COMPLETE;
    }
    return GSS_S_CONTINUE_NEEDED;
}

OM_uint32 gp11_gss_compare_name(OM_uint32 *minor, gss_name_t a, gss_name_t b,
                                int *equal)
{
    struct gp11_name *na, *nb;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (equal == NULL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "compare_name: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    *equal = 0;
    na = gp11_name_from_gss(a);
    nb = gp11_name_from_gss(b);
    if (na == NULL)
        return bad_input_name(minor, a, "compare_name");
    if (nb == NULL)
        return bad_input_name(minor, b, "compare_name");
    *equal = gp11_name_equal(na, nb);
    *minor = 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_duplicate_name(OM_uint32 *minor, gss_name_t in,
                                  gss_name_t *out)
{
    struct gp11_name *n, *d = NULL;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (out == NULL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "duplicate_name: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    *out = GSS_C_NO_NAME;
    n = gp11_name_from_gss(in);
    if (n == NULL)
        return bad_input_name(minor, in, "duplicate_name");
    *minor = gp11_name_dup(n, &d);
    if (*minor != GP11_OK)
        return GSS_S_FAILURE;
    *out = (gss_name_t)d;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_canonicalize_name(OM_uint32 *minor, gss_name_t in,
                                     const gss_OID mech, gss_name_t *out)
{
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (out == NULL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "canonicalize_name: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    *out = GSS_C_NO_NAME;
    if (!mech_ok(mech)) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "canonicalize_name: not the gss-pkcs11 "
                              "mechanism");
        return GSS_S_BAD_MECH;
    }
    /* every name of ours is already a mechanism name */
    return gp11_gss_duplicate_name(minor, in, out);
}

/* Writes v as a big-endian u16 / u32 at p. */
static void put_u16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put_u32(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

OM_uint32 gp11_gss_export_name(OM_uint32 *minor, gss_name_t name,
                               gss_buffer_t out)
{
    unsigned char der[OID_DER_MAX], *p;
    struct gp11_name *n;
    size_t derlen, vlen, total;
    OM_uint32 major;

    major = name_to_buffer(minor, name, out, "export_name", &n);
    if (major != GSS_S_COMPLETE)
        return major;
    derlen = der_oid(gp11_mech_oid(), der, sizeof(der));
    if (derlen == 0) {
        *minor = gp11_err_set(GP11_ERR_INTERNAL, "mechanism OID too long");
        return GSS_S_FAILURE;
    }
    vlen = gp11_name_export_body(n, NULL);
    total = 4 + derlen + 4 + vlen;
    p = malloc(total);
    if (p == NULL) {
        *minor = gp11_err_set(GP11_ERR_NOMEM, "export_name: out of memory");
        return GSS_S_FAILURE;
    }
    out->value = p;
    out->length = total;
    p[0] = 0x04;
    p[1] = 0x01;
    put_u16(p + 2, derlen);
    memcpy(p + 4, der, derlen);
    p += 4 + derlen;
    put_u32(p, vlen);
    gp11_name_export_body(n, p + 4);
    *minor = 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_release_name(OM_uint32 *minor, gss_name_t *name)
{
    struct gp11_name *n;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (name == NULL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "release_name: no name");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    *minor = 0;
    if (*name == GSS_C_NO_NAME)
        return GSS_S_COMPLETE;
    n = gp11_name_from_gss(*name);
    if (n == NULL)
        return bad_input_name(minor, *name, "release_name");
    gp11_name_free(n);
    *name = GSS_C_NO_NAME;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_inquire_names_for_mech(OM_uint32 *minor, gss_OID mech,
                                          gss_OID_set *types)
{
    const gss_OID_desc *oids[5];

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (types == NULL) {
        *minor =
            gp11_err_set(GP11_ERR_BAD_ARG, "inquire_names_for_mech: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    *types = GSS_C_NO_OID_SET;
    if (!mech_ok(mech)) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "inquire_names_for_mech: not the gss-pkcs11 "
                              "mechanism");
        return GSS_S_BAD_MECH;
    }
    oids[0] = &nt_hostbased;
    oids[1] = &nt_user;
    oids[2] = &nt_anonymous;
    oids[3] = &nt_export;
    oids[4] = gp11_nt_x509_subject();
    *types = gp11_oid_set_new(oids, 5);
    if (*types == GSS_C_NO_OID_SET) {
        *minor = gp11_err_set(GP11_ERR_NOMEM,
                              "inquire_names_for_mech: out of memory");
        return GSS_S_FAILURE;
    }
    *minor = 0;
    return GSS_S_COMPLETE;
}

/* Every name of ours is a mechanism name of this one mechanism. Neither
 * mechglue calls this (both answer from gss_inquire_names_for_mech);
 * Heimdal's loader requires it. */
OM_uint32 gp11_gss_inquire_mechs_for_name(OM_uint32 *minor, gss_name_t name,
                                          gss_OID_set *mechs)
{
    const gss_OID_desc *mech = gp11_mech_oid();

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (mechs == NULL) {
        *minor =
            gp11_err_set(GP11_ERR_BAD_ARG, "inquire_mechs_for_name: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    *mechs = GSS_C_NO_OID_SET;
    if (gp11_name_from_gss(name) == NULL)
        return bad_input_name(minor, name, "inquire_mechs_for_name");
    *mechs = gp11_oid_set_new(&mech, 1);
    if (*mechs == GSS_C_NO_OID_SET) {
        *minor = gp11_err_set(GP11_ERR_NOMEM,
                              "inquire_mechs_for_name: out of memory");
        return GSS_S_FAILURE;
    }
    *minor = 0;
    return GSS_S_COMPLETE;
}

/* True if s[0..len) is safe to hand out as a local account name. */
static bool localname_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || s[0] == '-' || (len == 1 && s[0] == '.') ||
        (len == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c == 0x7f || c == '/' || c == ':' || c == '\\' ||
            c == '@')
            return false;
    }
    return true;
}

OM_uint32 gp11_gss_localname(OM_uint32 *minor, gss_name_t name, gss_OID mech,
                             gss_buffer_t localname)
{
    struct gp11_name *n;
    const char *at, *text;
    OM_uint32 major;
    size_t len;

    major = name_to_buffer(minor, name, localname, "localname", &n);
    if (major != GSS_S_COMPLETE)
        return major;
    if (!mech_ok(mech)) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "localname: not the gss-pkcs11 mechanism");
        return GSS_S_BAD_MECH;
    }
    text = gp11_name_text(n);
    if (gp11_name_kind(n) != GP11_NAME_USER) {
        *minor = gp11_err_set(GP11_ERR_NO_LOCALNAME,
                              "localname: only user names map to a local "
                              "account, not \"%s\"",
                              text);
        return GSS_S_UNAVAILABLE;
    }
    at = strrchr(text, '@');
    len = at != NULL ? (size_t)(at - text) : strlen(text);
    if (!localname_ok(text, len)) {
        *minor = gp11_err_set(GP11_ERR_NO_LOCALNAME,
                              "localname: \"%s\" does not give a usable local "
                              "account name",
                              text);
        return GSS_S_UNAVAILABLE;
    }
    localname->value = strndup(text, len);
    if (localname->value == NULL) {
        *minor = gp11_err_set(GP11_ERR_NOMEM, "localname: out of memory");
        return GSS_S_FAILURE;
    }
    localname->length = len;
    *minor = 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_authorize_localname(OM_uint32 *minor, gss_name_t name,
                                       gss_const_buffer_t user,
                                       gss_const_OID user_type)
{
    gss_buffer_desc local = GSS_C_EMPTY_BUFFER;
    const char *who;
    OM_uint32 major;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (user == GSS_C_NO_BUFFER || (user->length && user->value == NULL)) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "authorize_localname: no local user name");
        return GSS_S_CALL_INACCESSIBLE_READ;
    }
    if (user_type != GSS_C_NO_OID && !oid_eq(user_type, &nt_user)) {
        *minor = gp11_err_set(GP11_ERR_BAD_NAME_TYPE,
                              "authorize_localname: the local user is not a "
                              "user name");
        return GSS_S_BAD_NAMETYPE;
    }
    /* The peer's name maps to one account (gss_localname); it may log in
     * as that account and no other. */
    major = gp11_gss_localname(minor, name, GSS_C_NO_OID, &local);
    if (major != GSS_S_COMPLETE && major != GSS_S_UNAVAILABLE)
        return major;
    who = gp11_name_text(gp11_name_from_gss(name));
    if (major == GSS_S_UNAVAILABLE)
        *minor =
            gp11_err_set(GP11_ERR_NO_LOCALNAME,
                         "authorize_localname: \"%s\" maps to no local "
                         "account, so it may not log in as \"%.*s\"",
                         who, (int)user->length, (const char *)user->value);
    else if (local.length != user->length ||
             memcmp(local.value, user->value, local.length) != 0)
        *minor = gp11_err_set(GP11_ERR_NO_LOCALNAME,
                              "authorize_localname: \"%s\" maps to the local "
                              "account \"%.*s\", not \"%.*s\"",
                              who, (int)local.length, (const char *)local.value,
                              (int)user->length, (const char *)user->value);
    else
        *minor = 0;
    free(local.value);
    return *minor ? GSS_S_UNAUTHORIZED : GSS_S_COMPLETE;
}
