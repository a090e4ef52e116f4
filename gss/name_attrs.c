/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 6680 naming extensions: what the peer's validated certificate proves,
 * exposed as name attributes (docs/names.md, "Name attributes"). A peer
 * name made by context establishment holds the leaf certificate that was
 * validated; every attribute is computed from it on demand, so the
 * attribute values are exactly the certificate's bytes. Attributes are
 * reported authenticated only on such a name; a name imported from a
 * composite export token carries the certificate but not the proof.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi_ext.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509v3.h>

#include "gp11_error.h"
#include "gp11_gss.h"
#include "gp11_names.h"
#include "gp11_oid.h"

#define URN "urn:gss-pkcs11:x509:"

/* A value list being built: every value of one attribute. */
struct values {
    size_t n;
    gss_buffer_desc val[16];
    gss_buffer_desc disp[16];
};

enum attr_id {
    A_CERT,
    A_SUBJECT,
    A_ISSUER,
    A_SERIAL,
    A_NOT_BEFORE,
    A_NOT_AFTER,
    A_SAN_DNS,
    A_SAN_EMAIL,
    A_SAN_URI,
    A_SAN_IP,
    A_SAN_UPN,
    A_SAN_SRVNAME,
    A_COUNT
};

static const char *const attr_names[A_COUNT] = {
    [A_CERT] = URN "certificate",      [A_SUBJECT] = URN "subject",
    [A_ISSUER] = URN "issuer",         [A_SERIAL] = URN "serial",
    [A_NOT_BEFORE] = URN "not-before", [A_NOT_AFTER] = URN "not-after",
    [A_SAN_DNS] = URN "san:dns",       [A_SAN_EMAIL] = URN "san:email",
    [A_SAN_URI] = URN "san:uri",       [A_SAN_IP] = URN "san:ip",
    [A_SAN_UPN] = URN "san:upn",       [A_SAN_SRVNAME] = URN "san:srvname",
};

static void values_free(struct values *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->val[i].value);
        free(v->disp[i].value);
    }
    v->n = 0;
}

/* Appends one value (bytes) with its display form (text, may be NULL). */
static uint32_t values_add(struct values *v, const void *val, size_t len,
                           const char *disp, size_t dlen)
{
    gss_buffer_desc *b = &v->val[v->n], *d = &v->disp[v->n];

    if (v->n == sizeof(v->val) / sizeof(v->val[0]))
        return GP11_OK; /* more entries of one type than anyone needs */
    b->value = malloc(len ? len : 1);
    d->value = disp != NULL ? malloc(dlen ? dlen : 1) : NULL;
    if (b->value == NULL || (disp != NULL && d->value == NULL)) {
        free(b->value);
        free(d->value);
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory (name attribute)");
    }
    memcpy(b->value, val, len);
    b->length = len;
    if (disp != NULL)
        memcpy(d->value, disp, dlen);
    d->length = disp != NULL ? dlen : 0;
    v->n++;
    return GP11_OK;
}

/* A value that is also its display form. */
static uint32_t values_add_text(struct values *v, const void *s, size_t len)
{
    return values_add(v, s, len, s, len);
}

/* DER of an X509_NAME with its RFC 4514 text as display form. */
static uint32_t add_dn(struct values *v, const X509_NAME *dn)
{
    unsigned char *der = NULL;
    char *text = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    long tlen;
    int len;
    uint32_t ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory (DN)");

    if (bio == NULL)
        goto done;
    len = i2d_X509_NAME(dn, &der);
    if (len <= 0 ||
        X509_NAME_print_ex(bio, dn, 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "a distinguished name cannot be encoded");
        goto done;
    }
    tlen = BIO_get_mem_data(bio, &text);
    ret = values_add(v, der, (size_t)len, text, tlen > 0 ? (size_t)tlen : 0);
done:
    OPENSSL_free(der);
    BIO_free(bio);
    return ret;
}

/* An ASN1_TIME as "YYYYMMDDHHMMSSZ" (value and display). */
static uint32_t add_time(struct values *v, const ASN1_TIME *t)
{
    ASN1_GENERALIZEDTIME *g = ASN1_TIME_to_generalizedtime(t, NULL);
    uint32_t ret;

    if (g == NULL)
        return gp11_err_set(GP11_ERR_CERT_INVALID, "bad time in certificate");
    ret = values_add_text(v, ASN1_STRING_get0_data(g),
                          (size_t)ASN1_STRING_length(g));
    ASN1_GENERALIZEDTIME_free(g);
    return ret;
}

/* The serial number: big-endian bytes, upper-case hex as display form. */
static uint32_t add_serial(struct values *v, const ASN1_INTEGER *serial)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    unsigned char *bytes = NULL;
    char *hex = NULL;
    uint32_t ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory (serial)");
    int len;

    if (bn == NULL)
        goto done;
    len = BN_num_bytes(bn);
    bytes = malloc(len ? (size_t)len : 1);
    hex = BN_bn2hex(bn);
    if (bytes == NULL || hex == NULL)
        goto done;
    BN_bn2bin(bn, bytes);
    ret = values_add(v, bytes, (size_t)len, hex, strlen(hex));
done:
    BN_free(bn);
    free(bytes);
    OPENSSL_free(hex);
    return ret;
}

/* The UPN (1.3.6.1.4.1.311.20.2.3) or SRVName (1.3.6.1.5.5.7.8.7) string
 * of an otherName, or NULL if it is neither or not a string. */
static const ASN1_STRING *other_name_string(const OTHERNAME *o, int want_upn)
{
    static const char upn[] = "1.3.6.1.4.1.311.20.2.3";
    static const char srv[] = "1.3.6.1.5.5.7.8.7";
    char oid[64];

    if (OBJ_obj2txt(oid, sizeof(oid), o->type_id, 1) <= 0 ||
        strcmp(oid, want_upn ? upn : srv) != 0)
        return NULL;
    if (o->value == NULL || (o->value->type != V_ASN1_UTF8STRING &&
                             o->value->type != V_ASN1_IA5STRING))
        return NULL;
    return o->value->value.asn1_string;
}

/* The text form of an iPAddress SAN (4 or 16 bytes), or "?" otherwise. */
static char *ipaddress_to_text(const ASN1_OCTET_STRING *a, char *buf,
                               size_t size)
{
    int len = ASN1_STRING_length(a);
    int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;

    if (af < 0 ||
        inet_ntop(af, ASN1_STRING_get0_data(a), buf, (socklen_t)size) == NULL)
        snprintf(buf, size, "?");
    return buf;
}

/* Every SAN entry of one kind, in certificate order. */
static uint32_t add_sans(struct values *v, X509 *cert, enum attr_id id)
{
    GENERAL_NAMES *sans =
        X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    const ASN1_STRING *s;
    uint32_t ret = GP11_OK;
    char ip[64];

    for (int i = 0; ret == GP11_OK && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

        s = NULL;
        if (id == A_SAN_DNS && g->type == GEN_DNS)
            s = g->d.dNSName;
        else if (id == A_SAN_EMAIL && g->type == GEN_EMAIL)
            s = g->d.rfc822Name;
        else if (id == A_SAN_URI && g->type == GEN_URI)
            s = g->d.uniformResourceIdentifier;
        else if ((id == A_SAN_UPN || id == A_SAN_SRVNAME) &&
                 g->type == GEN_OTHERNAME)
            s = other_name_string(g->d.otherName, id == A_SAN_UPN);
        if (s != NULL) {
            ret = values_add_text(v, ASN1_STRING_get0_data(s),
                                  (size_t)ASN1_STRING_length(s));
        } else if (id == A_SAN_IP && g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *a = g->d.iPAddress;
            char *text = ipaddress_to_text(a, ip, sizeof(ip));

            ret = values_add(v, ASN1_STRING_get0_data(a),
                             (size_t)ASN1_STRING_length(a), text, strlen(text));
        }
    }
    GENERAL_NAMES_free(sans);
    return ret;
}

/* Every value of attribute id in cert. */
static uint32_t collect(X509 *cert, enum attr_id id, struct values *v)
{
    unsigned char *der = NULL;
    uint32_t ret;
    int len;

    switch (id) {
    case A_CERT:
        len = i2d_X509(cert, &der);
        if (len <= 0)
            return gp11_err_set(GP11_ERR_CERT_INVALID,
                                "the certificate cannot be encoded");
        ret = values_add(v, der, (size_t)len, NULL, 0);
        OPENSSL_free(der);
        return ret;
    case A_SUBJECT:
        return add_dn(v, X509_get_subject_name(cert));
    case A_ISSUER:
        return add_dn(v, X509_get_issuer_name(cert));
    case A_SERIAL:
        return add_serial(v, X509_get0_serialNumber(cert));
    case A_NOT_BEFORE:
        return add_time(v, X509_get0_notBefore(cert));
    case A_NOT_AFTER:
        return add_time(v, X509_get0_notAfter(cert));
    default:
        return add_sans(v, cert, id);
    }
}

/* The attribute id named by attr, or A_COUNT. */
static enum attr_id attr_lookup(const gss_buffer_t attr)
{
    for (int i = 0; attr != GSS_C_NO_BUFFER && i < A_COUNT; i++) {
        if (attr->length == strlen(attr_names[i]) &&
            memcmp(attr->value, attr_names[i], attr->length) == 0)
            return (enum attr_id)i;
    }
    return A_COUNT;
}

/* Our name behind name, else a GSS_S_BAD_NAME status in *major. */
static struct gp11_name *our_name(OM_uint32 *minor, gss_name_t name,
                                  OM_uint32 *major)
{
    struct gp11_name *n = gp11_name_from_gss(name);

    if (n == NULL) {
        *major = GSS_S_BAD_NAME;
        *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                              "not a gss-pkcs11 name (naming extensions)");
    }
    return n;
}

/* A buffer set as the mechglue's gss_release_buffer_set frees it. */
static gss_buffer_set_t buffer_set_new(size_t count)
{
    gss_buffer_set_t set = calloc(1, sizeof(*set));

    if (set != NULL && count > 0) {
        set->elements = calloc(count, sizeof(gss_buffer_desc));
        if (set->elements == NULL) {
            free(set);
            return NULL;
        }
    }
    return set;
}

static void buffer_set_free(gss_buffer_set_t set)
{
    for (size_t i = 0; set != NULL && i < set->count; i++)
        free(set->elements[i].value);
    if (set != NULL)
        free(set->elements);
    free(set);
}

OM_uint32 gp11_gss_inquire_name(OM_uint32 *minor, gss_name_t name,
                                int *name_is_mn, gss_OID *mn_mech,
                                gss_buffer_set_t *attrs)
{
    OM_uint32 major = GSS_S_COMPLETE;
    struct gp11_name *n;
    struct values v = {0};
    gss_buffer_set_t set = NULL;
    X509 *cert;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (attrs != NULL)
        *attrs = GSS_C_NO_BUFFER_SET;
    n = our_name(minor, name, &major);
    if (n == NULL)
        return major;
    if (name_is_mn != NULL)
        *name_is_mn = 1;
    if (mn_mech != NULL)
        *mn_mech = (gss_OID)gp11_mech_oid();
    if (attrs == NULL)
        return GSS_S_COMPLETE;
    cert = gp11_name_cert(n, NULL);
    set = buffer_set_new(A_COUNT);
    if (set == NULL)
        goto nomem;
    for (int i = 0; cert != NULL && i < A_COUNT; i++) {
        uint32_t ret = collect(cert, (enum attr_id)i, &v);
        size_t has = v.n;

        values_free(&v);
        if (ret == GP11_ERR_NOMEM) {
            buffer_set_free(set);
            return gp11_fail(minor, ret);
        }
        /* a value the certificate's encoding cannot give is not listed */
        if (ret != GP11_OK || has == 0)
            continue;
        set->elements[set->count].value = strdup(attr_names[i]);
        if (set->elements[set->count].value == NULL)
            goto nomem;
        set->elements[set->count++].length = strlen(attr_names[i]);
    }
    *attrs = set;
    return GSS_S_COMPLETE;
nomem:
    buffer_set_free(set);
    return gp11_fail(
        minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory (inquire_name)"));
}

/* Moves b into out (out may be NULL: b is freed). */
static void give(gss_buffer_desc *b, gss_buffer_t out)
{
    if (out != GSS_C_NO_BUFFER) {
        *out = *b;
    } else {
        free(b->value);
    }
    b->value = NULL;
    b->length = 0;
}

OM_uint32 gp11_gss_get_name_attribute(OM_uint32 *minor, gss_name_t name,
                                      gss_buffer_t attr, int *authenticated,
                                      int *complete, gss_buffer_t value,
                                      gss_buffer_t display_value, int *more)
{
    OM_uint32 major = GSS_S_COMPLETE;
    struct gp11_name *n;
    struct values v = {0};
    enum attr_id id;
    bool proven = false;
    X509 *cert;
    uint32_t ret;
    int i;

    if (minor == NULL || more == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (value != GSS_C_NO_BUFFER)
        value->length = 0, value->value = NULL;
    if (display_value != GSS_C_NO_BUFFER)
        display_value->length = 0, display_value->value = NULL;
    n = our_name(minor, name, &major);
    if (n == NULL)
        return major;
    id = attr_lookup(attr);
    cert = gp11_name_cert(n, &proven);
    i = *more < 0 ? 0 : *more;
    if (id == A_COUNT || cert == NULL) {
        ret = gp11_err_set(
            GP11_ERR_UNAVAILABLE, "the name has no attribute \"%.*s\"",
            attr ? (int)(attr->length > 200 ? 200 : attr->length) : 0,
            attr ? (const char *)attr->value : "");
        return gp11_fail(minor, ret);
    }
    ret = collect(cert, id, &v);
    if (ret == GP11_OK && (size_t)i >= v.n)
        ret = gp11_err_set(GP11_ERR_UNAVAILABLE,
                           "the name has no value %d of attribute %s", i,
                           attr_names[id]);
    if (ret != GP11_OK) {
        values_free(&v);
        return gp11_fail(minor, ret);
    }
    if (authenticated != NULL)
        *authenticated = proven ? 1 : 0;
    if (complete != NULL)
        *complete = 1;
    give(&v.val[i], value);
    give(&v.disp[i], display_value);
    *more = (size_t)i + 1 < v.n ? i + 1 : 0;
    values_free(&v);
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_display_name_ext(OM_uint32 *minor, gss_name_t name,
                                    gss_OID type, gss_buffer_t out)
{
    OM_uint32 major = gp11_out_start(minor, out);
    gss_OID own = GSS_C_NO_OID;
    struct gp11_name *n;
    struct values v = {0};
    X509 *cert;
    uint32_t ret;

    if (major != GSS_S_COMPLETE)
        return major;
    n = our_name(minor, name, &major);
    if (n == NULL)
        return major;
    major = gp11_gss_display_name(minor, name, out, &own);
    if (major != GSS_S_COMPLETE || gp11_oid_equal(own, type))
        return major;
    free(out->value);
    out->value = NULL;
    out->length = 0;
    cert = gp11_name_cert(n, NULL);
    if (cert != NULL && gp11_oid_equal(type, gp11_nt_x509_subject())) {
        ret = add_dn(&v, X509_get_subject_name(cert));
        if (ret != GP11_OK)
            return gp11_fail(minor, ret);
        give(&v.disp[0], out);
        values_free(&v);
        return GSS_S_COMPLETE;
    }
    return gp11_fail(minor, gp11_err_set(GP11_ERR_UNAVAILABLE,
                                         "the name cannot be displayed as "
                                         "that name type"));
}

OM_uint32 gp11_gss_set_name_attribute(OM_uint32 *minor, gss_name_t name,
                                      int complete, gss_buffer_t attr,
                                      gss_buffer_t value)
{
    (void)name, (void)complete, (void)attr, (void)value;
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    return gp11_fail(minor, gp11_err_set(GP11_ERR_UNAVAILABLE,
                                         "name attributes come only from "
                                         "the peer's certificate"));
}

OM_uint32 gp11_gss_delete_name_attribute(OM_uint32 *minor, gss_name_t name,
                                         gss_buffer_t attr)
{
    (void)name, (void)attr;
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    return gp11_fail(minor, gp11_err_set(GP11_ERR_UNAVAILABLE,
                                         "name attributes come only from "
                                         "the peer's certificate"));
}

/* GSS_C_NT_EXPORT_NAME, 1.3.6.1.5.6.4. */
static const gss_OID_desc nt_export = {6, "\x2b\x06\x01\x05\x06\x04"};

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/*
 * The composite export token (RFC 6680 section 7.8, docs/names.md): the
 * exported name with TOK_ID 04 02, followed by u32 length || DER of the
 * certificate behind the attributes (length 0: none).
 */
OM_uint32 gp11_gss_export_name_composite(OM_uint32 *minor, gss_name_t name,
                                         gss_buffer_t out)
{
    OM_uint32 major = gp11_out_start(minor, out);
    gss_buffer_desc plain = {0, NULL};
    unsigned char *der = NULL, *p;
    struct gp11_name *n;
    X509 *cert;
    int len = 0;

    if (major != GSS_S_COMPLETE)
        return major;
    n = our_name(minor, name, &major);
    if (n == NULL)
        return major;
    major = gp11_gss_export_name(minor, name, &plain);
    if (major != GSS_S_COMPLETE)
        return major;
    cert = gp11_name_cert(n, NULL);
    if (cert != NULL && (len = i2d_X509(cert, &der)) <= 0)
        goto nomem;
    p = malloc(plain.length + 4 + (size_t)len);
    if (p == NULL)
        goto nomem;
    memcpy(p, plain.value, plain.length);
    p[1] = 0x02;
    put_u32(p + plain.length, (uint32_t)len);
    if (len > 0)
        memcpy(p + plain.length + 4, der, (size_t)len);
    out->value = p;
    out->length = plain.length + 4 + (size_t)len;
    free(plain.value);
    OPENSSL_free(der);
    return GSS_S_COMPLETE;
nomem:
    free(plain.value);
    OPENSSL_free(der);
    return gp11_fail(
        minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory (composite name)"));
}

/* Imports a composite export token: the name, and the certificate as
 * attributes that are not authenticated (the token carries no proof). */
OM_uint32 gp11_import_name_composite(OM_uint32 *minor, gss_buffer_t in,
                                     gss_name_t *out)
{
    const unsigned char *p = in->value, *c;
    size_t len = in->length, name_end, clen;
    gss_buffer_desc plain;
    unsigned char *copy;
    X509 *cert = NULL;
    OM_uint32 major;

    if (len < 4 || p[0] != 0x04 || p[1] != 0x02)
        goto bad;
    name_end = 4 + ((size_t)p[2] << 8 | p[3]);
    if (name_end + 4 > len)
        goto bad;
    name_end += 4 + get_u32(p + name_end);
    if (name_end + 4 > len || name_end < 8)
        goto bad;
    clen = get_u32(p + name_end);
    if (clen != len - name_end - 4)
        goto bad;
    c = p + name_end + 4;
    if (clen > 0 &&
        ((cert = d2i_X509(NULL, &c, (long)clen)) == NULL || c != p + len))
        goto bad;
    copy = malloc(name_end);
    if (copy == NULL) {
        X509_free(cert);
        return gp11_fail(
            minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory (composite)"));
    }
    memcpy(copy, p, name_end);
    copy[1] = 0x01;
    plain.value = copy;
    plain.length = name_end;
    major = gp11_gss_import_name(minor, &plain, (gss_OID)&nt_export, out);
    free(copy);
    if (major == GSS_S_COMPLETE && cert != NULL)
        gp11_name_attach_cert(gp11_name_from_gss(*out), cert, false);
    X509_free(cert);
    return major;
bad:
    X509_free(cert);
    return gp11_fail(minor, gp11_err_set(GP11_ERR_BAD_NAME,
                                         "malformed composite export name "
                                         "token"));
}
