/* SPDX-License-Identifier: Apache-2.0 */
/* GSS names: import, display, compare, export, localname, peer names. */
#include "gp11_names.h"
#include "gp11_error.h"
#include "gp11_gss.h"
#include "gp11_oid.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#define NAME_MAGIC 0x67704e4du

/* Room for the DER encoding (06, length, content) of the mechanism OID. */
#define OID_DER_MAX (GP11_OID_MAX_LEN + 4)

struct gp11_name {
    uint32_t magic;
    enum gp11_name_kind kind;
    char *text;    /* display form */
    char *key;     /* X509: comparison key (types upper-cased), else NULL */
    char *service; /* HOSTBASED */
    char *host;    /* HOSTBASED, NULL when unspecified */
    X509 *cert;    /* the certificate behind the attributes, or NULL */
    bool proven;   /* cert was validated in context establishment */
};

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

/* True if s[0..len) is well-formed UTF-8 (no overlongs, surrogates). */
static bool utf8_ok(const unsigned char *s, size_t len)
{
    size_t i = 0, k, n;
    uint32_t cp, min;

    while (i < len) {
        unsigned char c = s[i];

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* Checks the rules every name string obeys: length, no NUL, UTF-8. */
static uint32_t check_string(const char *what, const char *s, size_t len,
                             bool allow_empty)
{
    if (len == 0 && !allow_empty)
        return gp11_err_set(GP11_ERR_BAD_NAME, "%s is empty", what);
    if (len > GP11_NAME_MAX)
        return gp11_err_set(GP11_ERR_BAD_NAME,
                            "%s is %zu bytes long, more than %d", what, len,
                            GP11_NAME_MAX);
    if (memchr(s, '\0', len) != NULL)
        return gp11_err_set(GP11_ERR_BAD_NAME, "%s contains a NUL byte", what);
    if (!utf8_ok((const unsigned char *)s, len))
        return gp11_err_set(GP11_ERR_BAD_NAME, "%s is not valid UTF-8", what);
    return GP11_OK;
}

/* Copy of s[0..len) with a terminator, or NULL. */
static char *memdup_str(const char *s, size_t len)
{
    char *p = malloc(len + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* ASCII lower-case (locale-independent). */
static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII upper-case (locale-independent). */
static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* A fresh name of kind with nothing filled in. */
static struct gp11_name *name_alloc(enum gp11_name_kind kind)
{
    struct gp11_name *n = calloc(1, sizeof(*n));

    if (n != NULL) {
        n->magic = NAME_MAGIC;
        n->kind = kind;
    }
    return n;
}

void gp11_name_free(struct gp11_name *n)
{
    if (n == NULL)
        return;
    n->magic = 0;
    free(n->text);
    free(n->key);
    free(n->service);
    free(n->host);
    X509_free(n->cert);
    free(n);
}

/* HOSTBASED name from the service and an optional host (hlen 0: none). */
static uint32_t hostbased_make(const char *svc, size_t slen, const char *host,
                               size_t hlen, struct gp11_name **out)
{
    struct gp11_name *n = NULL;
    uint32_t ret;
    size_t i;

    if (slen == 0) {
        ret = gp11_err_set(GP11_ERR_BAD_NAME,
                           "host-based name has an empty service");
        goto done;
    }
    if (host != NULL && hlen == 0) {
        ret = gp11_err_set(GP11_ERR_BAD_NAME,
                           "host-based name has an empty host after '@'");
        goto done;
    }
    if (host != NULL && memchr(host, '@', hlen) != NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_NAME,
                           "host-based name has more than one '@'");
        goto done;
    }
    ret = GP11_ERR_NOMEM;
    n = name_alloc(GP11_NAME_HOSTBASED);
    if (n == NULL)
        goto done;
    n->service = memdup_str(svc, slen);
    n->text = malloc(slen + (host != NULL ? hlen + 1 : 0) + 1);
    if (n->service == NULL || n->text == NULL)
        goto done;
    memcpy(n->text, svc, slen);
    n->text[slen] = '\0';
    if (host != NULL) {
        n->host = memdup_str(host, hlen);
        if (n->host == NULL)
            goto done;
        for (i = 0; i < hlen; i++)
            n->host[i] = lower(n->host[i]);
        n->text[slen] = '@';
        memcpy(n->text + slen + 1, n->host, hlen + 1);
    }
    *out = n;
    n = NULL;
    ret = GP11_OK;
done:
    if (ret == GP11_ERR_NOMEM)
        gp11_err_set(ret, "out of memory making a host-based name");
    gp11_name_free(n);
    return ret;
}

/* A growing string; oom is sticky. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

/* Appends len bytes to b. */
static void sb_put(struct sbuf *b, const char *s, size_t len)
{
    char *np;
    size_t ncap;

    if (b->oom)
        return;
    if (b->len + len + 1 > b->cap) {
        ncap = (b->len + len + 1) * 2;
        np = realloc(b->p, ncap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
}

/* Appends one byte to b. */
static void sb_putc(struct sbuf *b, char c)
{
    sb_put(b, &c, 1);
}

/* The attribute types RFC 4514 names with a keyword. */
static const struct {
    const char *keyword;
    const char *oid;
} dn_keywords[] = {
    {"CN", "2.5.4.3"},
    {"L", "2.5.4.7"},
    {"ST", "2.5.4.8"},
    {"O", "2.5.4.10"},
    {"OU", "2.5.4.11"},
    {"C", "2.5.4.6"},
    {"STREET", "2.5.4.9"},
    {"DC", "0.9.2342.19200300.100.1.25"},
    {"UID", "0.9.2342.19200300.100.1.1"},
};

/* True if s[0..len) equals the NUL-terminated lit, ASCII case-folded. */
static bool span_caseeq(const char *s, size_t len, const char *lit)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (lit[i] == '\0' || upper(s[i]) != upper(lit[i]))
            return false;
    }
    return lit[len] == '\0';
}

/* True for an RFC 4514 character that is escaped anywhere in a value. */
static bool dn_special(char c)
{
    return c != '\0' && strchr("\"+,;<>\\", c) != NULL;
}

/* Value of a hex digit, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses an attribute type at s[*pos]; writes its canonical form to b. */
static uint32_t dn_type(const char *s, size_t len, size_t *pos,
                        struct sbuf *text, struct sbuf *key)
{
    size_t start = *pos, i = *pos, k;
    bool numeric;

    if (i < len &&
        ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) {
        numeric = false;
        while (i < len &&
               (s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
                (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            i++;
    } else if (i < len && s[i] >= '0' && s[i] <= '9') {
        /* numericoid: number 1*("." number), no leading zeros */
        numeric = true;
        for (k = 0;; k++) {
            if (i >= len || s[i] < '0' || s[i] > '9')
                goto bad;
            if (s[i] == '0' && i + 1 < len && s[i + 1] >= '0' &&
                s[i + 1] <= '9')
                goto bad;
            while (i < len && s[i] >= '0' && s[i] <= '9')
                i++;
            if (i >= len || s[i] != '.')
                break;
            i++;
        }
        if (k == 0)
            goto bad;
    } else {
        goto bad;
    }
    *pos = i;
    for (k = 0; k < sizeof(dn_keywords) / sizeof(dn_keywords[0]); k++) {
        if (span_caseeq(s + start, i - start,
                        numeric ? dn_keywords[k].oid
                                : dn_keywords[k].keyword)) {
            sb_put(text, dn_keywords[k].keyword,
                   strlen(dn_keywords[k].keyword));
            sb_put(key, dn_keywords[k].keyword, strlen(dn_keywords[k].keyword));
            return GP11_OK;
        }
    }
    sb_put(text, s + start, i - start);
    for (k = start; k < i; k++)
        sb_putc(key, upper(s[k]));
    return GP11_OK;
bad:
    return gp11_err_set(GP11_ERR_BAD_NAME,
                        "X.509 subject name: bad attribute type at offset %zu",
                        start);
}

/* Writes value v[0..vlen) to b with RFC 4514 escaping. */
static void dn_escape(const unsigned char *v, size_t vlen, struct sbuf *b)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < vlen; i++) {
        char c = (char)v[i];

        if (dn_special(c) || (i == 0 && (c == ' ' || c == '#')) ||
            (i == vlen - 1 && c == ' ')) {
            sb_putc(b, '\\');
            sb_putc(b, c);
        } else if (v[i] < 0x20 || v[i] == 0x7f) {
            sb_putc(b, '\\');
            sb_putc(b, hex[v[i] >> 4]);
            sb_putc(b, hex[v[i] & 0xf]);
        } else {
            sb_putc(b, c);
        }
    }
}

/* Parses an attribute value at s[*pos] (spaces before it skipped). */
static uint32_t dn_value(const char *s, size_t len, size_t *pos,
                         struct sbuf *text, struct sbuf *key)
{
    unsigned char v[GP11_NAME_MAX];
    size_t i = *pos, vlen = 0, keep = 0, start = *pos;
    int h, l;

    if (i < len && s[i] == '#') {
        /* hexstring: kept as upper-case hex */
        sb_putc(text, '#');
        sb_putc(key, '#');
        for (i++; i < len && hexval(s[i]) >= 0; i++) {
            sb_putc(text, upper(s[i]));
            sb_putc(key, upper(s[i]));
        }
        if (i == start + 1 || (i - start - 1) % 2 != 0)
            goto bad;
        *pos = i;
        return GP11_OK;
    }
    while (i < len && s[i] != ',' && s[i] != '+') {
        if (vlen >= sizeof(v))
            goto bad;
        if (s[i] == '\\') {
            if (i + 1 < len && (dn_special(s[i + 1]) || s[i + 1] == ' ' ||
                                s[i + 1] == '#' || s[i + 1] == '=')) {
                v[vlen++] = (unsigned char)s[i + 1];
                i += 2;
            } else if (i + 2 < len && (h = hexval(s[i + 1])) >= 0 &&
                       (l = hexval(s[i + 2])) >= 0) {
                v[vlen++] = (unsigned char)(h << 4 | l);
                i += 3;
            } else {
                goto bad;
            }
            keep = vlen;
            continue;
        }
        if (s[i] == '"' || s[i] == ';' || s[i] == '<' || s[i] == '>')
            goto bad;
        v[vlen++] = (unsigned char)s[i];
        if (s[i] != ' ')
            keep = vlen;
        i++;
    }
    /* unescaped trailing spaces are insignificant */
    vlen = keep;
    if (memchr(v, '\0', vlen) != NULL || !utf8_ok(v, vlen))
        return gp11_err_set(GP11_ERR_BAD_NAME,
                            "X.509 subject name: the value at offset %zu is "
                            "not NUL-free UTF-8",
                            start);
    dn_escape(v, vlen, text);
    dn_escape(v, vlen, key);
    *pos = i;
    return GP11_OK;
bad:
    return gp11_err_set(GP11_ERR_BAD_NAME,
                        "X.509 subject name: bad attribute value at offset "
                        "%zu",
                        start);
}

/* Skips spaces at s[*pos]. */
static void skip_spaces(const char *s, size_t len, size_t *pos)
{
    while (*pos < len && s[*pos] == ' ')
        (*pos)++;
}

/* Parses an RFC 4514 DN into its display form and comparison key. */
static uint32_t dn_canon(const char *s, size_t len, char **text, char **key)
{
    struct sbuf t = {0}, k = {0};
    size_t pos = 0;
    uint32_t ret;

    for (;;) {
        skip_spaces(s, len, &pos);
        ret = dn_type(s, len, &pos, &t, &k);
        if (ret != GP11_OK)
            goto done;
        skip_spaces(s, len, &pos);
        if (pos >= len || s[pos] != '=') {
            ret = gp11_err_set(GP11_ERR_BAD_NAME,
                               "X.509 subject name: '=' expected at offset "
                               "%zu",
                               pos);
            goto done;
        }
        pos++;
        sb_putc(&t, '=');
        sb_putc(&k, '=');
        skip_spaces(s, len, &pos);
        ret = dn_value(s, len, &pos, &t, &k);
        if (ret != GP11_OK)
            goto done;
        skip_spaces(s, len, &pos);
        if (pos >= len)
            break;
        if (s[pos] != ',' && s[pos] != '+') {
            ret = gp11_err_set(GP11_ERR_BAD_NAME,
                               "X.509 subject name: ',' or '+' expected at "
                               "offset %zu",
                               pos);
            goto done;
        }
        sb_putc(&t, s[pos]);
        sb_putc(&k, s[pos]);
        pos++;
    }
    if (t.oom || k.oom) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory parsing a DN");
        goto done;
    }
    if (t.len > GP11_NAME_MAX) {
        ret = gp11_err_set(GP11_ERR_BAD_NAME,
                           "X.509 subject name is longer than %d bytes once "
                           "canonical",
                           GP11_NAME_MAX);
        goto done;
    }
    *text = t.p;
    *key = k.p;
    t.p = NULL;
    k.p = NULL;
    ret = GP11_OK;
done:
    free(t.p);
    free(k.p);
    return ret;
}

/* Makes a name of kind from s[0..len), the import form of that kind. */
static uint32_t name_make(enum gp11_name_kind kind, const char *s, size_t len,
                          struct gp11_name **out)
{
    static const char *const what[] = {
        [GP11_NAME_HOSTBASED] = "host-based service name",
        [GP11_NAME_USER] = "user name",
        [GP11_NAME_ANONYMOUS] = "anonymous name",
        [GP11_NAME_X509] = "X.509 subject name",
    };
    struct gp11_name *n = NULL;
    const char *at;
    uint32_t ret;

    if ((unsigned)kind > GP11_NAME_X509) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "unknown name kind %d", kind);
        goto done;
    }
    /* MIT's gss-server (and ftpd, libssh) import names with the length
     * of the string plus its terminating NUL: one trailing NUL is not
     * part of the name. Any other NUL is refused below. */
    if (len > 0 && s[len - 1] == '\0')
        len--;
    ret = check_string(what[kind], s, len, kind == GP11_NAME_ANONYMOUS);
    if (ret != GP11_OK)
        goto done;
    switch (kind) {
    case GP11_NAME_HOSTBASED:
        at = memchr(s, '@', len);
        if (at == NULL)
            ret = hostbased_make(s, len, NULL, 0, out);
        else
            ret = hostbased_make(s, (size_t)(at - s), at + 1,
                                 len - (size_t)(at - s) - 1, out);
        goto done;
    case GP11_NAME_ANONYMOUS:
        if (len != 0 && (len != strlen(GP11_ANONYMOUS_TEXT) ||
                         memcmp(s, GP11_ANONYMOUS_TEXT, len) != 0)) {
            ret = gp11_err_set(GP11_ERR_BAD_NAME,
                               "an anonymous name must be empty or \"%s\"",
                               GP11_ANONYMOUS_TEXT);
            goto done;
        }
        break;
    default:
        break;
    }
    ret = GP11_ERR_NOMEM;
    n = name_alloc(kind);
    if (n == NULL)
        goto done;
    if (kind == GP11_NAME_X509) {
        ret = dn_canon(s, len, &n->text, &n->key);
        if (ret != GP11_OK)
            goto done;
    } else {
        n->text =
            kind == GP11_NAME_ANONYMOUS
                ? memdup_str(GP11_ANONYMOUS_TEXT, strlen(GP11_ANONYMOUS_TEXT))
                : memdup_str(s, len);
        if (n->text == NULL)
            goto done;
    }
    *out = n;
    n = NULL;
    ret = GP11_OK;
done:
    if (ret == GP11_ERR_NOMEM)
        gp11_err_set(ret, "out of memory making a name");
    gp11_name_free(n);
    return ret;
}

uint32_t gp11_name_new(enum gp11_name_kind kind, const char *value,
                       struct gp11_name **out)
{
    if (out == NULL || (value == NULL && kind != GP11_NAME_ANONYMOUS))
        return gp11_err_set(GP11_ERR_BAD_ARG, "gp11_name_new: NULL argument");
    if (value == NULL)
        value = "";
    return name_make(kind, value, strlen(value), out);
}

uint32_t gp11_name_dup(const struct gp11_name *n, struct gp11_name **out)
{
    struct gp11_name *d;

    d = name_alloc(n->kind);
    if (d == NULL)
        goto nomem;
    d->text = strdup(n->text);
    if (d->text == NULL)
        goto nomem;
    if (n->key != NULL && (d->key = strdup(n->key)) == NULL)
        goto nomem;
    if (n->service != NULL && (d->service = strdup(n->service)) == NULL)
        goto nomem;
    if (n->host != NULL && (d->host = strdup(n->host)) == NULL)
        goto nomem;
    gp11_name_attach_cert(d, n->cert, n->proven);
    *out = d;
    return GP11_OK;
nomem:
    gp11_name_free(d);
    return gp11_err_set(GP11_ERR_NOMEM, "out of memory copying a name");
}

struct gp11_name *gp11_name_from_gss(gss_name_t name)
{
    struct gp11_name *n = (struct gp11_name *)name;

    if (n == NULL || n->magic != NAME_MAGIC)
        return NULL;
    return n;
}

void gp11_name_attach_cert(struct gp11_name *n, X509 *cert, bool proven)
{
    if (n == NULL || cert == NULL)
        return;
    X509_up_ref(cert);
    X509_free(n->cert);
    n->cert = cert;
    n->proven = proven;
}

X509 *gp11_name_cert(const struct gp11_name *n, bool *proven)
{
    if (proven != NULL)
        *proven = n->cert != NULL && n->proven;
    return n->cert;
}

enum gp11_name_kind gp11_name_kind(const struct gp11_name *n)
{
    return n->kind;
}

const char *gp11_name_service(const struct gp11_name *n)
{
    return n->service;
}

const char *gp11_name_host(const struct gp11_name *n)
{
    return n->host;
}

const char *gp11_name_text(const struct gp11_name *n)
{
    return n->text;
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

/* Imports an RFC 2743 section 3.2 exported name token. */
static OM_uint32 import_exported(OM_uint32 *minor, const unsigned char *p,
                                 size_t len, struct gp11_name **out)
{
    unsigned char der[OID_DER_MAX];
    size_t derlen, oidlen, nlen;
    enum gp11_name_kind kind;
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
    p += 4;
    if (nlen < 2 || p[1] != ':') {
        *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                              "exported name lacks the kind prefix");
        goto done;
    }
    switch (p[0]) {
    case 'h':
        kind = GP11_NAME_HOSTBASED;
        break;
    case 'u':
        kind = GP11_NAME_USER;
        break;
    case 'a':
        kind = GP11_NAME_ANONYMOUS;
        if (nlen != 2) {
            *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                                  "exported anonymous name is not empty");
            goto done;
        }
        break;
    case 'x':
        kind = GP11_NAME_X509;
        break;
    default:
        *minor = gp11_err_set(GP11_ERR_BAD_NAME,
                              "exported name has unknown kind 0x%02x", p[0]);
        goto done;
    }
    *minor = name_make(kind, (const char *)p + 2, nlen - 2, out);
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
    *minor =
        name_make(kind, input->length ? input->value : "", input->length, &n);
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
    size_t len;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (out == GSS_C_NO_BUFFER) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "display_name: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    out->length = 0;
    out->value = NULL;
    if (type != NULL)
        *type = GSS_C_NO_OID;
    n = gp11_name_from_gss(name);
    if (n == NULL)
        return bad_input_name(minor, name, "display_name");
    len = strlen(n->text);
    out->value = memdup_str(n->text, len);
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
        switch (n->kind) {
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

/* True if a and b name the same principal (never for anonymous). */
static bool name_equal(const struct gp11_name *a, const struct gp11_name *b)
{
    if (a->kind != b->kind || a->kind == GP11_NAME_ANONYMOUS)
        return false;
    if (a->kind == GP11_NAME_X509)
        return strcmp(a->key, b->key) == 0;
    /* host-based hosts are stored lower-case, so this is case-insensitive */
    return strcmp(a->text, b->text) == 0;
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
    *equal = name_equal(na, nb);
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
    static const char letter[] = {
        [GP11_NAME_HOSTBASED] = 'h',
        [GP11_NAME_USER] = 'u',
        [GP11_NAME_ANONYMOUS] = 'a',
        [GP11_NAME_X509] = 'x',
    };
    unsigned char der[OID_DER_MAX], *p;
    struct gp11_name *n;
    size_t derlen, vlen, total;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (out == GSS_C_NO_BUFFER) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "export_name: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    out->length = 0;
    out->value = NULL;
    n = gp11_name_from_gss(name);
    if (n == NULL)
        return bad_input_name(minor, name, "export_name");
    derlen = der_oid(gp11_mech_oid(), der, sizeof(der));
    if (derlen == 0) {
        *minor = gp11_err_set(GP11_ERR_INTERNAL, "mechanism OID too long");
        return GSS_S_FAILURE;
    }
    vlen = n->kind == GP11_NAME_ANONYMOUS ? 0 : strlen(n->text);
    total = 4 + derlen + 4 + 2 + vlen;
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
    put_u32(p, 2 + vlen);
    p[4] = (unsigned char)letter[n->kind];
    p[5] = ':';
    memcpy(p + 6, n->text, vlen);
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
    const char *at;
    size_t len;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    if (localname == GSS_C_NO_BUFFER) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG, "localname: no output");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    localname->length = 0;
    localname->value = NULL;
    n = gp11_name_from_gss(name);
    if (n == NULL)
        return bad_input_name(minor, name, "localname");
    if (!mech_ok(mech)) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "localname: not the gss-pkcs11 mechanism");
        return GSS_S_BAD_MECH;
    }
    if (n->kind != GP11_NAME_USER) {
        *minor = gp11_err_set(GP11_ERR_NO_LOCALNAME,
                              "localname: only user names map to a local "
                              "account, not \"%s\"",
                              n->text);
        return GSS_S_UNAVAILABLE;
    }
    at = strrchr(n->text, '@');
    len = at != NULL ? (size_t)(at - n->text) : strlen(n->text);
    if (!localname_ok(n->text, len)) {
        *minor = gp11_err_set(GP11_ERR_NO_LOCALNAME,
                              "localname: \"%s\" does not give a usable local "
                              "account name",
                              n->text);
        return GSS_S_UNAVAILABLE;
    }
    localname->value = memdup_str(n->text, len);
    if (localname->value == NULL) {
        *minor = gp11_err_set(GP11_ERR_NOMEM, "localname: out of memory");
        return GSS_S_FAILURE;
    }
    localname->length = len;
    *minor = 0;
    return GSS_S_COMPLETE;
}

/* Re-records the last BAD_NAME detail as a CERT_INVALID failure. */
static uint32_t cert_name_error(uint32_t code, const char *what)
{
    char detail[256];

    if (code == GP11_ERR_NOMEM)
        return code;
    snprintf(detail, sizeof(detail), "%s", gp11_err_message(code));
    return gp11_err_set(GP11_ERR_CERT_INVALID,
                        "the certificate's %s cannot be used as a name: %s",
                        what, detail);
}

/* The last subject CN of x as a malloc'ed UTF-8 string, or NULL. */
static uint32_t cert_cn(X509 *x, char **cn, size_t *cnlen)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    X509_NAME_ENTRY *e;
    unsigned char *utf8 = NULL;
    int idx = -1, next, len;

    *cn = NULL;
    while ((next = X509_NAME_get_index_by_NID(subj, NID_commonName, idx)) >= 0)
        idx = next;
    if (idx < 0)
        return GP11_OK;
    e = X509_NAME_get_entry(subj, idx);
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (len < 0)
        return gp11_err_set(GP11_ERR_CERT_INVALID,
                            "the certificate's subject CN cannot be converted "
                            "to UTF-8");
    *cn = memdup_str((const char *)utf8, (size_t)len);
    OPENSSL_free(utf8);
    if (*cn == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory reading a CN");
    *cnlen = (size_t)len;
    return GP11_OK;
}

/* The first SAN entry of type (GEN_DNS / GEN_EMAIL), skipping wildcards. */
static const ASN1_IA5STRING *san_first(GENERAL_NAMES *sans, int type)
{
    const GENERAL_NAME *g;
    const ASN1_IA5STRING *s;
    int i;

    for (i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
        g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != type)
            continue;
        s = type == GEN_DNS ? g->d.dNSName : g->d.rfc822Name;
        if (type == GEN_DNS && memchr(ASN1_STRING_get0_data(s), '*',
                                      (size_t)ASN1_STRING_length(s)) != NULL)
            continue;
        return s;
    }
    return NULL;
}

/* The value of the first otherName of type oid (a UTF8String), or NULL. */
static const ASN1_STRING *san_other(GENERAL_NAMES *sans, const char *oid)
{
    const GENERAL_NAME *g;
    ASN1_OBJECT *want = OBJ_txt2obj(oid, 1);
    const ASN1_STRING *found = NULL;
    int i;

    for (i = 0; want != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
        g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_OTHERNAME ||
            OBJ_cmp(g->d.otherName->type_id, want) != 0 ||
            g->d.otherName->value == NULL ||
            g->d.otherName->value->type != V_ASN1_UTF8STRING)
            continue;
        found = g->d.otherName->value->value.utf8string;
        break;
    }
    ASN1_OBJECT_free(want);
    ERR_clear_error();
    return found;
}

/* The peer's X.509 subject name (RFC 4514 form) into *out. */
static uint32_t subject_name(X509 *leaf, struct gp11_name **out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *dn = NULL;
    uint32_t ret = GP11_ERR_NOMEM;
    long dnlen;

    if (bio == NULL)
        goto done;
    /* RFC 4514 order and escaping, UTF-8 left unescaped */
    if (X509_NAME_print_ex(bio, X509_get_subject_name(leaf), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "the certificate's subject cannot be printed");
        goto done;
    }
    dnlen = BIO_get_mem_data(bio, &dn);
    ret = name_make(GP11_NAME_X509, dnlen > 0 ? dn : "",
                    dnlen > 0 ? (size_t)dnlen : 0, out);
done:
    BIO_free(bio);
    return ret;
}

uint32_t gp11_name_from_cert(X509 *leaf, bool peer_is_acceptor,
                             const char *service, const char *host,
                             struct gp11_name **out)
{
    return gp11_name_from_cert_ex(leaf, peer_is_acceptor, service, true, host,
                                  NULL, out);
}

uint32_t gp11_name_from_cert_ex(X509 *leaf, bool peer_is_acceptor,
                                const char *service, bool service_proven,
                                const char *host, const char *user_san,
                                struct gp11_name **out)
{
    GENERAL_NAMES *sans = NULL;
    const ASN1_STRING *san;
    const char *val = NULL, *what = "subject";
    char *cn = NULL, *hb = NULL;
    size_t vlen = 0, cnlen = 0, slen;
    enum gp11_name_kind kind = GP11_NAME_X509;
    uint32_t ret;
    int crit = -1;

    if (leaf == NULL || out == NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "name_from_cert: NULL argument");
        goto done;
    }
    if (service == NULL)
        service = "host";
    slen = strlen(service);
    if (check_string("service", service, slen, false) != GP11_OK ||
        strchr(service, '@') != NULL) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "name_from_cert: bad service \"%s\"", service);
        goto done;
    }
    sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
    if (sans == NULL && crit != -1) {
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "the certificate's subjectAltName is malformed or "
                           "repeated");
        goto done;
    }
    ret = cert_cn(leaf, &cn, &cnlen);
    if (ret != GP11_OK)
        goto done;
    if (peer_is_acceptor && !service_proven) {
        /* The certificate does not bind the service: only its subject. */
        kind = GP11_NAME_X509;
    } else if (peer_is_acceptor) {
        /* the match rule of the chain check (certval.c) */
        what = "host name";
        kind = GP11_NAME_HOSTBASED;
        if (host != NULL && host[0] != '\0' &&
            X509_check_host(leaf, host, strlen(host),
                            X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1) {
            val = host;
            vlen = strlen(host);
        } else if ((san = san_first(sans, GEN_DNS)) != NULL) {
            val = (const char *)ASN1_STRING_get0_data(san);
            vlen = (size_t)ASN1_STRING_length(san);
        } else if (cn != NULL) {
            val = cn;
            vlen = cnlen;
        } else {
            ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                               "the acceptor's certificate has no DNS name "
                               "and no CN");
            goto done;
        }
    } else if ((san =
                    user_san == NULL || strcasecmp(user_san, "rfc822Name") == 0
                        ? san_first(sans, GEN_EMAIL)
                        : san_other(sans, user_san)) != NULL) {
        /* A user name only from the configured SAN type. */
        what = user_san == NULL || strcasecmp(user_san, "rfc822Name") == 0
                   ? "rfc822Name"
                   : "user name otherName";
        kind = GP11_NAME_USER;
        val = (const char *)ASN1_STRING_get0_data(san);
        vlen = (size_t)ASN1_STRING_length(san);
    } else if (sans == NULL && cn != NULL) {
        /* No subjectAltName at all: the CN is the only name it has. */
        what = "subject CN";
        kind = GP11_NAME_USER;
        val = cn;
        vlen = cnlen;
    } else if ((san = san_first(sans, GEN_DNS)) != NULL) {
        /* A machine certificate: its host, never a user. */
        what = "dNSName";
        kind = GP11_NAME_HOSTBASED;
        val = (const char *)ASN1_STRING_get0_data(san);
        vlen = (size_t)ASN1_STRING_length(san);
    }
    if (val != NULL && memchr(val, '\0', vlen) != NULL) {
        /* No NUL is stripped from a certificate's name: it is refused. */
        ret = gp11_err_set(GP11_ERR_CERT_INVALID,
                           "the certificate's %s holds a NUL byte", what);
        goto done;
    }
    if (kind == GP11_NAME_HOSTBASED) {
        ret = GP11_ERR_NOMEM;
        hb = malloc(slen + 1 + vlen);
        if (hb == NULL)
            goto done;
        memcpy(hb, service, slen);
        hb[slen] = '@';
        memcpy(hb + slen + 1, val, vlen);
        ret = name_make(GP11_NAME_HOSTBASED, hb, slen + 1 + vlen, out);
    } else if (kind == GP11_NAME_USER) {
        ret = name_make(GP11_NAME_USER, val, vlen, out);
    } else {
        ret = subject_name(leaf, out);
    }
    if (ret != GP11_OK)
        ret = cert_name_error(ret, what);
done:
    if (ret == GP11_ERR_NOMEM)
        gp11_err_set(ret, "out of memory making a peer name");
    GENERAL_NAMES_free(sans);
    free(cn);
    free(hb);
    return ret;
}
