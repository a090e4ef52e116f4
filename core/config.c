/* SPDX-License-Identifier: Apache-2.0 */
/* Reader of gss-pkcs11.conf: sections, keys and the check of each value. */
#include "gp11_config.h"
#include "gp11_build_config.h"
#include "gp11_debug.h"
#include "gp11_log.h"
#include "gp11_error.h"
#include "gp11_pkcs11.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <p11-kit/uri.h>

/* At most this many [acceptor ...] sections (keeps the checks linear). */
#define MAX_ACCEPTORS 1024

enum section {
    SEC_NONE,
    SEC_TOKEN,
    SEC_TRUST,
    SEC_INITIATOR,
    SEC_ACCEPTOR,
    SEC_POLICY,
    SEC_LOG,
    SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {
    [SEC_TOKEN] = "token",         [SEC_TRUST] = "trust",
    [SEC_INITIATOR] = "initiator", [SEC_ACCEPTOR] = "acceptor",
    [SEC_POLICY] = "policy",       [SEC_LOG] = "log",
};

/* How a value is checked and stored. */
enum kind {
    K_MODULE,   /* path (resolved when it has a '/'), name or p11-kit:NAME */
    K_SECRET,   /* free text kept as is, never shown in messages */
    K_URI,      /* PKCS#11 URI */
    K_PATH,     /* file path, resolved, not checked here */
    K_ANCHORS,  /* file path, resolved, must exist */
    K_QUIRKS,   /* quirk list */
    K_SESSIONS, /* 1..GP11_CONFIG_MAX_SESSIONS */
    K_LIFETIME, /* duration with optional suffix */
    K_BOOL,     /* yes/no/true/false/1/0 */
    K_NAMESAN,  /* rfc822Name, upn or a dotted otherName OID */
    K_COUNT,    /* decimal 1..10^18 (a usage limit) */
    K_CRL_POL,  /* require / if-present (gp11_revocation.h) */
};

struct key_def {
    enum section section;
    const char *name;
    enum kind kind;
    size_t offset; /* field in struct gp11_config; unused for acceptors */
};

#define FIELD(f) offsetof(struct gp11_config, f)

static const struct key_def keys[] = {
    {SEC_TOKEN, "module", K_MODULE, FIELD(module)},
    {SEC_TOKEN, "module-init-params", K_SECRET, FIELD(init_params)},
    {SEC_TOKEN, "uri", K_URI, FIELD(token_uri)},
    {SEC_TOKEN, "pin-source", K_PATH, FIELD(pin_source)},
    {SEC_TOKEN, "quirks", K_QUIRKS, FIELD(quirks)},
    {SEC_TOKEN, "max-sessions", K_SESSIONS, FIELD(max_sessions)},
    {SEC_TRUST, "anchors", K_ANCHORS, FIELD(trust_anchors)},
    {SEC_TRUST, "initiator-anchors", K_ANCHORS, FIELD(initiator_anchors)},
    {SEC_TRUST, "acceptor-anchors", K_ANCHORS, FIELD(acceptor_anchors)},
    {SEC_TRUST, "crls", K_ANCHORS, FIELD(trust_crls)},
    {SEC_TRUST, "crl-policy", K_CRL_POL, FIELD(crl_policy)},
    {SEC_INITIATOR, "identity", K_URI, FIELD(initiator_identity)},
    {SEC_ACCEPTOR, "identity", K_URI, 0},
    {SEC_POLICY, "allow-anonymous", K_BOOL, FIELD(allow_anonymous)},
    {SEC_POLICY, "max-lifetime", K_LIFETIME, FIELD(max_lifetime)},
    {SEC_POLICY, "allow-export", K_BOOL, FIELD(allow_export)},
    {SEC_POLICY, "export-kek", K_SECRET, FIELD(export_kek)},
    {SEC_POLICY, "extra-qops", K_BOOL, FIELD(extra_qops)},
    {SEC_POLICY, "require-service-binding", K_BOOL,
     FIELD(require_service_binding)},
    {SEC_POLICY, "user-name-san", K_NAMESAN, FIELD(user_name_san)},
    {SEC_POLICY, "aead-message-limit", K_COUNT, FIELD(aead_message_limit)},
    {SEC_POLICY, "aead-block-limit", K_COUNT, FIELD(aead_block_limit)},
    {SEC_POLICY, "forgery-limit", K_COUNT, FIELD(forgery_limit)},
    {SEC_POLICY, "allow-extractable-identity", K_BOOL,
     FIELD(allow_extractable_identity)},
    {SEC_LOG, "syslog", K_BOOL, FIELD(syslog)},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

struct parser {
    const char *file;               /* path as given, may be NULL */
    const char *path;               /* path shown in messages */
    size_t line;                    /* current line, from 1 */
    struct gp11_config *cfg;        /* being filled */
    enum section section;           /* current section */
    size_t section_line[SEC_COUNT]; /* header line of each single section */
    size_t *acceptor_line;          /* header line of each acceptor section */
    size_t acceptor_cap;     /* slots in cfg->acceptors and acceptor_line */
    size_t key_line[N_KEYS]; /* line each key was set on in this section */
    char *base;              /* directory for relative paths, made lazily */
};

/* Records "PATH:LINE: message" with code and returns code. */
__attribute__((format(printf, 3, 4))) static uint32_t
line_err(const struct parser *p, uint32_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return gp11_err_set(code, "%s:%zu: %s", p->path, p->line, msg);
}

static uint32_t nomem(void)
{
    return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
}

/* Copies at most 40 bytes of v for a message, non-printables as '?'. */
static const char *shown(const char *v, char out[48])
{
    size_t i;

    for (i = 0; v[i] != '\0' && i < 40; i++)
        out[i] = (v[i] >= ' ' && v[i] <= '~') ? v[i] : '?';
    if (v[i] != '\0') {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Strips blanks at both ends of s, in place. */
static char *trim(char *s)
{
    size_t n;

    while (is_blank(*s))
        s++;
    n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Frees a string after overwriting it (it may hold a pin-value). */
static void wipe_free(char *s)
{
    if (s == NULL)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

/* Writes the current section as shown in messages ("acceptor host@x"). */
static const char *section_label(const struct parser *p, char *buf, size_t size)
{
    const struct gp11_config *cfg = p->cfg;

    if (p->section == SEC_ACCEPTOR)
        snprintf(buf, size, "acceptor %.200s",
                 cfg->acceptors[cfg->n_acceptors - 1].service);
    else
        snprintf(buf, size, "%s", section_names[p->section]);
    return buf;
}

/* True for "service" or "service@host" made of printable characters. */
static bool valid_service(const char *name)
{
    const char *at = strchr(name, '@');

    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c <= ' ' || *c > '~' || *c == '[' || *c == ']')
            return false;
    if (at == name || (at != NULL && (at[1] == '\0' || strchr(at + 1, '@'))))
        return false;
    return true;
}

/* Compares service names: service part exactly, host part ignoring case. */
static bool same_service(const char *a, const char *b)
{
    size_t la = strcspn(a, "@");
    size_t lb = strcspn(b, "@");

    if (la != lb || memcmp(a, b, la) != 0 || a[la] != b[lb])
        return false;
    return a[la] == '\0' || strcasecmp(a + la + 1, b + lb + 1) == 0;
}

/* Appends a new acceptor section named name. */
static uint32_t add_acceptor(struct parser *p, const char *name)
{
    struct gp11_config *cfg = p->cfg;
    struct gp11_acceptor_conf *acc;
    size_t *lines;
    size_t cap;
    char *service;

    if (cfg->n_acceptors == p->acceptor_cap) {
        cap = p->acceptor_cap ? p->acceptor_cap * 2 : 4;
        acc = realloc(cfg->acceptors, cap * sizeof(*acc));
        if (acc == NULL)
            return nomem();
        cfg->acceptors = acc;
        lines = realloc(p->acceptor_line, cap * sizeof(*lines));
        if (lines == NULL)
            return nomem();
        p->acceptor_line = lines;
        p->acceptor_cap = cap;
    }
    service = strdup(name);
    if (service == NULL)
        return nomem();
    cfg->acceptors[cfg->n_acceptors].service = service;
    cfg->acceptors[cfg->n_acceptors].identity = NULL;
    p->acceptor_line[cfg->n_acceptors] = p->line;
    cfg->n_acceptors++;
    return GP11_OK;
}

/* Handles an "[acceptor NAME]" header. */
static uint32_t open_acceptor(struct parser *p, const char *name)
{
    const struct gp11_config *cfg = p->cfg;
    char buf[48];

    if (*name == '\0')
        return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                        "section [acceptor] needs a service name, as in "
                        "[acceptor host@localhost]");
    if (!valid_service(name))
        return line_err(p, GP11_ERR_CONFIG_VALUE,
                        "invalid acceptor name '%s' (expected service@host "
                        "or service, without spaces)",
                        shown(name, buf));
    for (size_t i = 0; i < cfg->n_acceptors; i++)
        if (same_service(cfg->acceptors[i].service, name))
            return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                            "duplicate section [acceptor %.200s] (first on "
                            "line %zu)",
                            name, p->acceptor_line[i]);
    if (cfg->n_acceptors >= MAX_ACCEPTORS)
        return line_err(p, GP11_ERR_CONFIG_VALUE,
                        "too many acceptor sections (at most %d)",
                        MAX_ACCEPTORS);
    return add_acceptor(p, name);
}

/* Handles a "[section]" line; s is trimmed and starts with '['. */
static uint32_t parse_header(struct parser *p, char *s)
{
    size_t n = strlen(s);
    enum section sec = SEC_NONE;
    char *name, *arg;
    char buf[48];
    uint32_t rc;

    if (n < 2 || s[n - 1] != ']')
        return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                        "malformed section header (expected '[name]')");
    s[n - 1] = '\0';
    name = trim(s + 1);
    if (strpbrk(name, "[]") != NULL)
        return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                        "malformed section header (expected '[name]')");
    if (*name == '\0')
        return line_err(p, GP11_ERR_CONFIG_SYNTAX, "empty section name");
    arg = name + strcspn(name, " \t\r\f\v");
    if (*arg != '\0') {
        *arg = '\0';
        arg = trim(arg + 1);
    }
    for (int i = SEC_NONE + 1; i < SEC_COUNT; i++)
        if (strcmp(name, section_names[i]) == 0)
            sec = (enum section)i;
    if (sec == SEC_NONE)
        return line_err(p, GP11_ERR_CONFIG_VALUE,
                        "unknown section [%s] (known: token, trust, "
                        "initiator, acceptor NAME, policy)",
                        shown(name, buf));
    if (sec == SEC_ACCEPTOR) {
        rc = open_acceptor(p, arg);
        if (rc != GP11_OK)
            return rc;
    } else {
        if (*arg != '\0')
            return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                            "section [%s] takes no name", name);
        if (p->section_line[sec] != 0)
            return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                            "duplicate section [%s] (first on line %zu)", name,
                            p->section_line[sec]);
        p->section_line[sec] = p->line;
    }
    p->section = sec;
    memset(p->key_line, 0, sizeof(p->key_line));
    return GP11_OK;
}

/* The configuration file's directory as an absolute path, or NULL. */
static const char *config_base(struct parser *p)
{
    char cwd[PATH_MAX];
    const char *slash = p->file ? strrchr(p->file, '/') : NULL;
    size_t dirlen = slash ? (size_t)(slash - p->file) : 0;
    size_t size;

    if (p->base != NULL)
        return p->base;
    if (slash == p->file && slash != NULL) {
        p->base = strdup("/");
    } else if (slash != NULL && p->file[0] == '/') {
        p->base = strndup(p->file, dirlen);
    } else {
        /* Relative (or no) directory: anchor it at the working directory. */
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            snprintf(cwd, sizeof(cwd), ".");
        if (slash == NULL)
            return p->base = strdup(cwd);
        size = strlen(cwd) + 1 + dirlen + 1;
        p->base = malloc(size);
        if (p->base != NULL)
            snprintf(p->base, size, "%s/%.*s", cwd, (int)dirlen, p->file);
    }
    return p->base;
}

/* Makes value absolute against the configuration file's directory. */
static uint32_t resolve_path(struct parser *p, const char *value, char **out)
{
    const char *base;
    size_t size;

    *out = NULL;
    if (value[0] == '/') {
        *out = strdup(value);
        return *out ? GP11_OK : nomem();
    }
    base = config_base(p);
    if (base == NULL)
        return nomem();
    while (value[0] == '.' && value[1] == '/') {
        value += 2;
        while (*value == '/')
            value++;
    }
    size = strlen(base) + 1 + strlen(value) + 1;
    *out = malloc(size);
    if (*out == NULL)
        return nomem();
    if (*value == '\0')
        snprintf(*out, size, "%s", base);
    else if (base[strlen(base) - 1] == '/')
        snprintf(*out, size, "%s%s", base, value);
    else
        snprintf(*out, size, "%s/%s", base, value);
    return GP11_OK;
}

/* Checks that value parses as a PKCS#11 URI; never shows the value. */
static uint32_t check_uri(struct parser *p, const char *key, const char *value)
{
    P11KitUri *uri = p11_kit_uri_new();
    const char *why;
    int r;

    if (uri == NULL)
        return nomem();
    /* RFC 7512 URIs are printable ASCII; p11-kit silently drops spaces
     * ("My Token" matches "MyToken"). Positions only: never the byte, which
     * may belong to a pin-value. */
    for (size_t i = 0; value[i] != '\0'; i++) {
        unsigned char c = (unsigned char)value[i];

        if (c > ' ' && c <= '~')
            continue;
        p11_kit_uri_free(uri);
        if (c == ' ')
            return line_err(p, GP11_ERR_CONFIG_VALUE,
                            "%s is not a valid PKCS#11 URI: it contains a "
                            "space (character %zu), which p11-kit ignores; "
                            "write a space as %%20",
                            key, i + 1);
        return line_err(p, GP11_ERR_CONFIG_VALUE,
                        "%s is not a valid PKCS#11 URI: it contains a byte "
                        "that is not printable ASCII (character %zu); "
                        "percent-encode it (as %%XX)",
                        key, i + 1);
    }
    r = p11_kit_uri_parse(value, P11_KIT_URI_FOR_ANY, uri);
    p11_kit_uri_free(uri);
    switch (r) {
    case P11_KIT_URI_OK:
        return GP11_OK;
    case P11_KIT_URI_BAD_SCHEME:
        why = "it does not start with 'pkcs11:'";
        break;
    case P11_KIT_URI_BAD_ENCODING:
        why = "bad percent-encoding";
        break;
    case P11_KIT_URI_BAD_SYNTAX:
        why = "bad syntax";
        break;
    case P11_KIT_URI_BAD_VERSION:
        why = "bad library-version";
        break;
    default:
        why = p11_kit_uri_message(r);
        break;
    }
    return line_err(p, GP11_ERR_CONFIG_VALUE,
                    "%s is not a valid PKCS#11 URI: %s", key, why);
}

/* Checks a quirk list, wrapping gp11_quirks_parse's sentence. */
static uint32_t check_quirks(struct parser *p, const char *value)
{
    char why[512];
    unsigned set, clear;
    bool use_auto;
    uint32_t rc;

    rc = gp11_quirks_parse(value, &set, &clear, &use_auto);
    if (rc == GP11_OK)
        return GP11_OK;
    snprintf(why, sizeof(why), "%s", gp11_err_message(rc));
    return line_err(p, GP11_ERR_CONFIG_VALUE, "quirks: %s", why);
}

/* Parses n decimal digits of s; false if not digits or above max. */
static bool parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

/* Parses "N", "Ns", "Nm", "Nh" or "Nd" into seconds within bounds. */
static bool parse_lifetime(const char *s, uint32_t *out)
{
    size_t n = strspn(s, "0123456789");
    uint64_t v, mult = 1;

    if (s[n] != '\0') {
        if (s[n + 1] != '\0')
            return false;
        switch (s[n]) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        default:
            return false;
        }
    }
    if (!parse_decimal(s, n, GP11_CONFIG_MAX_LIFETIME, &v))
        return false;
    v *= mult;
    if (v == 0 || v > GP11_CONFIG_MAX_LIFETIME)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Parses a boolean: yes/no, true/false, 1/0 in any case. */
static bool parse_bool(const char *s, bool *out)
{
    if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
        strcmp(s, "1") == 0) {
        *out = true;
        return true;
    }
    if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
        strcmp(s, "0") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* True for "N.N[.N...]": digits separated by single dots, 2 arcs or more. */
static bool dotted_oid(const char *v)
{
    size_t arcs = 0;
    const char *q = v;

    for (;;) {
        if (*q < '0' || *q > '9')
            return false;
        while (*q >= '0' && *q <= '9')
            q++;
        arcs++;
        if (*q == '\0')
            return arcs >= 2 && q - v <= 128;
        if (*q++ != '.')
            return false;
    }
}

/* Checks value for key def and stores it in the configuration. */
static uint32_t set_value(struct parser *p, const struct key_def *def,
                          const char *value)
{
    struct gp11_config *cfg = p->cfg;
    void *field = (char *)cfg + def->offset;
    char *copy = NULL;
    struct stat st;
    char buf[48];
    uint64_t num;
    uint32_t rc = GP11_OK;

    if (def->section == SEC_ACCEPTOR)
        field = &cfg->acceptors[cfg->n_acceptors - 1].identity;

    switch (def->kind) {
    case K_BOOL:
        if (!parse_bool(value, field))
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "%s must be yes, no, true, false, 1 or 0, not '%s'",
                          def->name, shown(value, buf));
        goto done;
    case K_CRL_POL:
        if (strcmp(value, "require") == 0)
            *(int *)field = GP11_CONFIG_CRL_REQUIRE;
        else if (strcmp(value, "if-present") == 0)
            *(int *)field = GP11_CONFIG_CRL_IF_PRESENT;
        else
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "%s must be require or if-present, not '%s'",
                          def->name, shown(value, buf));
        goto done;
    case K_SESSIONS:
        if (!parse_decimal(value, strlen(value), GP11_CONFIG_MAX_SESSIONS,
                           &num) ||
            num == 0)
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "%s must be a number from 1 to %u, not '%s'",
                          def->name, GP11_CONFIG_MAX_SESSIONS,
                          shown(value, buf));
        else
            *(unsigned *)field = (unsigned)num;
        goto done;
    case K_COUNT:
        /* 10^18: parse_decimal's v * 10 + 9 cannot wrap below it. */
        if (!parse_decimal(value, strlen(value), UINT64_C(1000000000000000000),
                           &num) ||
            num == 0)
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "%s must be a number from 1 to 10^18, not '%s'",
                          def->name, shown(value, buf));
        else
            *(uint64_t *)field = num;
        goto done;
    case K_LIFETIME:
        if (!parse_lifetime(value, field))
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "%s must be seconds, or a number with suffix s, m, "
                          "h or d, from 1 second to 3650 days, not '%s'",
                          def->name, shown(value, buf));
        goto done;
    case K_URI:
        rc = check_uri(p, def->name, value);
        if (rc == GP11_OK && (copy = strdup(value)) == NULL)
            rc = nomem();
        break;
    case K_QUIRKS:
        rc = check_quirks(p, value);
        if (rc == GP11_OK && (copy = strdup(value)) == NULL)
            rc = nomem();
        break;
    case K_NAMESAN:
        if (strcasecmp(value, "rfc822Name") == 0)
            copy = strdup("rfc822Name");
        else if (strcasecmp(value, "upn") == 0)
            copy = strdup(GP11_OID_UPN);
        else if (dotted_oid(value))
            copy = strdup(value);
        else {
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "%s must be rfc822Name, upn or a dotted otherName "
                          "OID such as 1.3.6.1.4.1.311.20.2.3, not '%s'",
                          def->name, shown(value, buf));
            break;
        }
        if (copy == NULL)
            rc = nomem();
        break;
    case K_SECRET:
        copy = strdup(value);
        if (copy == NULL)
            rc = nomem();
        break;
    case K_MODULE:
        if (strncmp(value, "p11-kit:", 8) == 0 && value[8] == '\0')
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "module p11-kit: needs a module name, as in "
                          "p11-kit:softhsm2");
        else if (strncmp(value, "p11-kit:", 8) == 0 ||
                 strchr(value, '/') == NULL)
            rc = (copy = strdup(value)) ? GP11_OK : nomem();
        else
            rc = resolve_path(p, value, &copy);
        break;
    case K_PATH:
        rc = resolve_path(p, value, &copy);
        break;
    case K_ANCHORS:
        rc = resolve_path(p, value, &copy);
        if (rc != GP11_OK)
            break;
        if (stat(copy, &st) != 0)
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "%s: cannot access '%.300s': %s", def->name, copy,
                          strerror(errno));
        else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            rc = line_err(p, GP11_ERR_CONFIG_VALUE,
                          "%s: '%.300s' is neither a file nor a directory",
                          def->name, copy);
        break;
    }
    if (rc == GP11_OK) {
        *(char **)field = copy;
        copy = NULL;
    }
done:
    wipe_free(copy);
    return rc;
}

/* True if key is made of letters, digits, '-' and '_' only. */
static bool valid_key(const char *key)
{
    return key[strspn(key, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")] == '\0';
}

/* Handles a "key = value" line; s is trimmed and not a header. */
static uint32_t parse_pair(struct parser *p, char *s)
{
    const struct key_def *def = NULL;
    char *eq = strchr(s, '=');
    char label[256];
    char *key, *value;
    size_t n, idx = 0;

    if (eq == NULL)
        return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                        "malformed line (expected 'key = value', "
                        "'[section]' or '# comment')");
    *eq = '\0';
    key = trim(s);
    value = trim(eq + 1);
    if (*key == '\0')
        return line_err(p, GP11_ERR_CONFIG_SYNTAX, "missing key before '='");
    if (!valid_key(key))
        return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                        "malformed key name (letters, digits, '-' and '_' "
                        "only)");
    if (p->section == SEC_NONE)
        return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                        "key '%.64s' before any [section]", key);
    for (size_t i = 0; i < N_KEYS && def == NULL; i++) {
        if (keys[i].section == p->section && strcmp(keys[i].name, key) == 0) {
            def = &keys[i];
            idx = i;
        }
    }
    if (def == NULL)
        return line_err(p, GP11_ERR_CONFIG_VALUE, "unknown key '%.64s' in [%s]",
                        key, section_label(p, label, sizeof(label)));
    if (p->key_line[idx] != 0)
        return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                        "duplicate key '%s' in [%s] (first set on line %zu)",
                        key, section_label(p, label, sizeof(label)),
                        p->key_line[idx]);
    n = strlen(value);
    if (value[0] == '"') {
        if (n < 2 || value[n - 1] != '"')
            return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                            "unterminated double quote in the value of '%s'",
                            key);
        value[n - 1] = '\0';
        value++;
    }
    if (*value == '\0')
        return line_err(p, GP11_ERR_CONFIG_VALUE, "empty value for '%s'", key);
    p->key_line[idx] = p->line;
    return set_value(p, def, value);
}

/* Handles one line (NUL-terminated, without its newline). */
static uint32_t parse_line(struct parser *p, char *line)
{
    char *s = trim(line);

    if (*s == '\0' || *s == '#')
        return GP11_OK;
    if (*s == '[')
        return parse_header(p, s);
    return parse_pair(p, s);
}

/*
 * Checks a line (n bytes, without its LF) for bytes that are no text: a NUL,
 * a carriage return other than the one of a CR LF line end, and any other
 * control character but tab (they would reach messages and paths as is).
 */
static uint32_t check_line_bytes(const struct parser *p, const char *s,
                                 size_t n)
{
    if (memchr(s, '\0', n) != NULL)
        return line_err(p, GP11_ERR_CONFIG_SYNTAX, "NUL byte in line");
    if (n > 0 && s[n - 1] == '\r')
        n--;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\r')
            return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                            "carriage return inside the line (lines end in "
                            "LF or CR LF; was the file saved with CR line "
                            "endings?)");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return line_err(p, GP11_ERR_CONFIG_SYNTAX,
                            "control character 0x%02X in line (only tab is "
                            "allowed)",
                            c);
    }
    return GP11_OK;
}

/* Checks the keys that must be present once the whole file is read. */
static uint32_t check_required(struct parser *p)
{
    const struct gp11_config *cfg = p->cfg;

    if (p->section_line[SEC_TOKEN] == 0)
        return gp11_err_set(GP11_ERR_CONFIG_VALUE,
                            "%s: no [token] section (it must set 'module' and "
                            "'uri')",
                            p->path);
    /* A missing key is reported at its section's header. */
    p->line = p->section_line[SEC_TOKEN];
    if (cfg->module == NULL)
        return line_err(p, GP11_ERR_CONFIG_VALUE,
                        "missing key 'module' in [token]");
    if (cfg->token_uri == NULL)
        return line_err(p, GP11_ERR_CONFIG_VALUE,
                        "missing key 'uri' in [token]");
    for (size_t i = 0; i < cfg->n_acceptors; i++) {
        if (cfg->acceptors[i].identity != NULL)
            continue;
        p->line = p->acceptor_line[i];
        return line_err(p, GP11_ERR_CONFIG_VALUE,
                        "missing key 'identity' in [acceptor %.200s]",
                        cfg->acceptors[i].service);
    }
    /* A policy without CRLs would read as if revocation were checked. */
    if (cfg->crl_policy != 0 && cfg->trust_crls == NULL) {
        p->line = p->section_line[SEC_TRUST];
        return line_err(p, GP11_ERR_CONFIG_VALUE,
                        "crl-policy is set but [trust] crls is not: no "
                        "revocation would be checked");
    }
    return GP11_OK;
}

const char *gp11_config_default_path(void)
{
    const char *env = secure_getenv("GSS_PKCS11_CONF");

    return (env != NULL && env[0] != '\0') ? env : GP11_DEFAULT_CONF;
}

uint32_t gp11_config_parse(const char *path, const char *text, size_t len,
                           struct gp11_config **out)
{
    struct parser p = {.file = path, .path = path ? path : "<string>"};
    char line[GP11_CONFIG_MAX_LINE + 1];
    const char *nl;
    size_t pos = 0, n;
    uint32_t rc;

    if (out == NULL || (text == NULL && len > 0))
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "gp11_config_parse: invalid argument");
    *out = NULL;
    line[0] = '\0';
    if (len > GP11_CONFIG_MAX_SIZE) {
        rc = gp11_err_set(GP11_ERR_CONFIG_SYNTAX,
                          "%s: file is larger than 1 MiB", p.path);
        goto done;
    }
    p.cfg = calloc(1, sizeof(*p.cfg));
    if (p.cfg == NULL || (p.cfg->path = strdup(p.path)) == NULL) {
        rc = nomem();
        goto done;
    }
    p.cfg->max_lifetime = GP11_CONFIG_DEFAULT_LIFETIME;
    p.cfg->extra_qops = true;
    p.cfg->require_service_binding = true;
    p.cfg->syslog = true;

    /* Invisible in an editor, and it would make line 1 malformed. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        p.line = 1;
        rc = line_err(&p, GP11_ERR_CONFIG_SYNTAX,
                      "the file starts with a UTF-8 byte order mark (EF BB "
                      "BF); save it without one");
        goto done;
    }
    while (pos < len) {
        p.line++;
        nl = memchr(text + pos, '\n', len - pos);
        n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        /* Before the length: a file with CR line ends is one long line. */
        rc = check_line_bytes(&p, text + pos, n);
        if (rc != GP11_OK)
            goto done;
        if (n > GP11_CONFIG_MAX_LINE) {
            rc = line_err(&p, GP11_ERR_CONFIG_SYNTAX,
                          "line is longer than %d bytes", GP11_CONFIG_MAX_LINE);
            goto done;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl ? 1 : 0);
        rc = parse_line(&p, line);
        if (rc != GP11_OK)
            goto done;
    }
    rc = check_required(&p);
    if (rc != GP11_OK)
        goto done;
    GP11_DEBUG("read %s: %zu line(s), %zu acceptor section(s)", p.path, p.line,
               p.cfg->n_acceptors);
    *out = p.cfg;
    p.cfg = NULL;
done:
    explicit_bzero(line, sizeof(line));
    free(p.acceptor_line);
    free(p.base);
    gp11_config_free(p.cfg);
    return rc;
}

uint32_t gp11_config_load(const char *path, struct gp11_config **out)
{
    struct stat st;
    char *buf = NULL, *grown;
    size_t cap, len = 0;
    ssize_t r;
    int fd = -1;
    uint32_t rc;

    if (out == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "gp11_config_load: invalid argument");
    *out = NULL;
    if (path == NULL)
        path = gp11_config_default_path();
    if (path[0] == '\0') {
        rc = gp11_err_set(GP11_ERR_CONFIG_MISSING,
                          "cannot read the configuration: the file name is "
                          "empty");
        goto done;
    }
    /* O_NONBLOCK: a FIFO in place of the file must not hang the caller. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    /* A socket fails with ENXIO ("No such device or address"). */
    if (fd < 0 && errno == ENXIO && stat(path, &st) == 0 &&
        !S_ISREG(st.st_mode)) {
        rc = gp11_err_set(GP11_ERR_CONFIG_MISSING,
                          "cannot read %s: not a regular file", path);
        goto done;
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = gp11_err_set(GP11_ERR_CONFIG_MISSING, "cannot read %s: %s", path,
                          strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = gp11_err_set(GP11_ERR_CONFIG_MISSING,
                          "cannot read %s: not a regular file", path);
        goto done;
    }
    /* One byte more than the limit, so that an oversized file shows. */
    cap = st.st_size < GP11_CONFIG_MAX_SIZE ? (size_t)st.st_size + 1
                                            : GP11_CONFIG_MAX_SIZE + 1;
    buf = malloc(cap);
    if (buf == NULL) {
        rc = nomem();
        goto done;
    }
    for (;;) {
        if (len == cap) {
            if (cap > GP11_CONFIG_MAX_SIZE)
                break;
            /* The file grew since fstat(). */
            grown = realloc(buf, GP11_CONFIG_MAX_SIZE + 1);
            if (grown == NULL) {
                rc = nomem();
                goto done;
            }
            buf = grown;
            cap = GP11_CONFIG_MAX_SIZE + 1;
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = gp11_err_set(GP11_ERR_CONFIG_MISSING, "cannot read %s: %s",
                              path, strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    rc = gp11_config_parse(path, buf, len, out);
    /* The file read decides whether failures go to syslog (log.c). */
    if (rc == GP11_OK)
        gp11_log_configure((*out)->syslog);
done:
    if (fd >= 0)
        close(fd);
    if (buf != NULL) {
        explicit_bzero(buf, len);
        free(buf);
    }
    return rc;
}

const char *gp11_config_acceptor_identity(const struct gp11_config *cfg,
                                          const char *service)
{
    const char *fallback = NULL;
    size_t slen;

    if (cfg == NULL || service == NULL)
        return NULL;
    slen = strcspn(service, "@");
    for (size_t i = 0; i < cfg->n_acceptors; i++) {
        const struct gp11_acceptor_conf *a = &cfg->acceptors[i];

        if (same_service(a->service, service))
            return a->identity;
        if (fallback == NULL && strchr(a->service, '@') == NULL &&
            strlen(a->service) == slen &&
            memcmp(a->service, service, slen) == 0)
            fallback = a->identity;
    }
    return fallback;
}

void gp11_config_free(struct gp11_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_acceptors; i++) {
        wipe_free(cfg->acceptors[i].service);
        wipe_free(cfg->acceptors[i].identity);
    }
    free(cfg->acceptors);
    wipe_free(cfg->path);
    wipe_free(cfg->module);
    wipe_free(cfg->init_params);
    wipe_free(cfg->token_uri);
    wipe_free(cfg->pin_source);
    wipe_free(cfg->quirks);
    wipe_free(cfg->trust_anchors);
    wipe_free(cfg->initiator_anchors);
    wipe_free(cfg->acceptor_anchors);
    wipe_free(cfg->user_name_san);
    wipe_free(cfg->trust_crls);
    wipe_free(cfg->initiator_identity);
    wipe_free(cfg->export_kek);
    free(cfg);
}
