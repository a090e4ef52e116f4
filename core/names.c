/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The name object of the mechanism: parsing of every name form,
 * comparison, the body of an exported name and the mapping from
 * certificates to peer names. The gss_* name calls are in gss/names.c.
 */
#include "gp11_name.h"
#include "gp11_error.h"

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

uint32_t gp11_name_make(enum gp11_name_kind kind, const char *s, size_t len,
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
    return gp11_name_make(kind, value, strlen(value), out);
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

struct gp11_name *gp11_name_checked(void *p)
{
    struct gp11_name *n = p;

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

/* Letters of the kinds in an exported name's body (docs/names.md). */
static const char kind_letter[] = {
    [GP11_NAME_HOSTBASED] = 'h',
    [GP11_NAME_USER] = 'u',
    [GP11_NAME_ANONYMOUS] = 'a',
    [GP11_NAME_X509] = 'x',
};

uint32_t gp11_name_import_body(const uint8_t *p, size_t nlen,
                               struct gp11_name **out)
{
    enum gp11_name_kind kind;

    if (nlen < 2 || p[1] != ':')
        return gp11_err_set(GP11_ERR_BAD_NAME,
                            "exported name lacks the kind prefix");
    switch (p[0]) {
    case 'h':
        kind = GP11_NAME_HOSTBASED;
        break;
    case 'u':
        kind = GP11_NAME_USER;
        break;
    case 'a':
        kind = GP11_NAME_ANONYMOUS;
        if (nlen != 2)
            return gp11_err_set(GP11_ERR_BAD_NAME,
                                "exported anonymous name is not empty");
        break;
    case 'x':
        kind = GP11_NAME_X509;
        break;
    default:
        return gp11_err_set(GP11_ERR_BAD_NAME,
                            "exported name has unknown kind 0x%02x", p[0]);
    }
    return gp11_name_make(kind, (const char *)p + 2, nlen - 2, out);
}

size_t gp11_name_export_body(const struct gp11_name *n, uint8_t *out)
{
    size_t vlen = n->kind == GP11_NAME_ANONYMOUS ? 0 : strlen(n->text);

    if (out != NULL) {
        out[0] = (uint8_t)kind_letter[n->kind];
        out[1] = ':';
        memcpy(out + 2, n->text, vlen);
    }
    return 2 + vlen;
}

/* True if a and b name the same principal (never for anonymous). */
bool gp11_name_equal(const struct gp11_name *a, const struct gp11_name *b)
{
    if (a->kind != b->kind || a->kind == GP11_NAME_ANONYMOUS)
        return false;
    if (a->kind == GP11_NAME_X509)
        return strcmp(a->key, b->key) == 0;
    /* host-based hosts are stored lower-case, so this is case-insensitive */
    return strcmp(a->text, b->text) == 0;
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
    ret = gp11_name_make(GP11_NAME_X509, dnlen > 0 ? dn : "",
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
        ret = gp11_name_make(GP11_NAME_HOSTBASED, hb, slen + 1 + vlen, out);
    } else if (kind == GP11_NAME_USER) {
        ret = gp11_name_make(GP11_NAME_USER, val, vlen, out);
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
