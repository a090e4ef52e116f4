/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gssp11 check: the administrator's first command on a host that does
 * not work. Runs what the plugin runs (configuration, token, login,
 * anchors, CRLs, identities, mech.d registration, export KEK) with the
 * plugin's own code, then establishes a context to each configured
 * acceptor in-process through the internal gp11_gss_* entry points.
 * One line per check: ok / WARN / FAIL, the cause and the fix.
 */
#include "gp11_build_config.h"
#include "gp11_certval.h"
#include "gp11_config.h"
#include "gp11_context.h"
#include "gp11_creds.h"
#include "gp11_gss.h"
#include "gp11_kek.h"
#include "gp11_names.h"
#include "gp11_oid.h"
#include "gp11_pkcs11.h"
#include "gp11_revocation.h"
#include "gp11_runtime.h"
#include "gssp11.h"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Certificates that expire within this many seconds get a WARN. */
#define WARN_AHEAD (30 * 86400)

enum level { L_OK, L_WARN, L_FAIL };

struct report {
    bool json;
    int n_ok, n_warn, n_fail;
    bool first; /* no JSON entry printed yet */
};

/* Writes s as a JSON string. */
static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* One check's result: item names what was checked, fix may be NULL. */
static void emit(struct report *r, enum level lv, const char *item,
                 const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void emit(struct report *r, enum level lv, const char *item,
                 const char *fix, const char *fmt, ...)
{
    static const char *const word[] = {"ok", "WARN", "FAIL"};
    char msg[2048];
    va_list ap;

    gssp11_progress_clear(); /* a result line replaces the progress line */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (lv == L_OK)
        r->n_ok++;
    else if (lv == L_WARN)
        r->n_warn++;
    else
        r->n_fail++;
    if (!r->json) {
        printf("%-4s %s: %s", word[lv], item, msg);
        if (lv != L_OK && fix)
            printf(" (fix: %s)", fix);
        printf("\n");
        return;
    }
    printf("%s\n    {\"status\": ", r->first ? "" : ",");
    r->first = false;
    json_str(word[lv]);
    printf(", \"item\": ");
    json_str(item);
    printf(", \"message\": ");
    json_str(msg);
    if (lv != L_OK && fix) {
        printf(", \"fix\": ");
        json_str(fix);
    }
    printf("}");
}

/* Date of t as "YYYY-MM-DD" (UTC). */
static const char *date_of(time_t t, char *buf, size_t len)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
    return buf;
}

static void check_usage(FILE *f)
{
    fprintf(f, "Usage: gssp11 check [--config FILE] [--json]\n\n"
               "Checks what the plugin needs on this host, one line per check\n"
               "(ok, WARN or FAIL with the cause and the fix): the "
               "configuration,\nthe module and token, the login, the trust "
               "anchors and CRLs, each\nconfigured identity (key and "
               "certificate, chain, EKU, service\nbinding, expiry), the export "
               "KEK, the mech.d registration that\nMIT's and Heimdal's "
               "mechglues read, and a context established\nin-process to each "
               "configured acceptor. Exits 1 if any check fails.\n\n"
               "  -c, --config FILE  configuration file (default: "
               "$GSS_PKCS11_CONF\n                     or the system "
               "gss-pkcs11.conf)\n"
               "  -j, --json         one JSON document instead of lines\n"
               "  -h, --help         this text\n");
}

/* ---- mech.d registration ------------------------------------------------ */

/*
 * Scans one mech file for the line naming our OID. Returns 1 and copies
 * the module path when found, 0 when not, -1 when the file cannot be read.
 */
static int scan_mech_file(const char *path, char *module, size_t len)
{
    char line[4096], name[256], oid[512], mod[2048];
    FILE *f = fopen(path, "r");
    int found = 0;

    if (f == NULL)
        return -1;
    while (!found && fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#');

        if (hash)
            *hash = '\0';
        if (sscanf(line, "%255s %511s %2047s", name, oid, mod) != 3)
            continue;
        if (strcmp(oid, GP11_MECH_OID) == 0) {
            snprintf(module, len, "%s", mod);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* Reports whether the registration names our OID with a module that
 * exists; what = "MIT" or "Heimdal". Returns false if not found. */
static bool report_registration(struct report *r, const char *what,
                                const char *file, const char *module,
                                enum level missing_level, const char *where)
{
    char item[64];
    struct stat st;

    snprintf(item, sizeof(item), "mech registration (%s)", what);
    if (file == NULL) {
        emit(r, missing_level, item,
             "add the line 'gss-pkcs11 " GP11_MECH_OID
             " " GP11_MODULE_INSTALL_PATH "' (see gss-pkcs11.pc)",
             "no line names the OID " GP11_MECH_OID " in %s", where);
        return false;
    }
    if (module[0] != '/' || stat(module, &st) != 0 || !S_ISREG(st.st_mode)) {
        emit(r, L_FAIL, item,
             "correct the module path on that line to the installed "
             "gss_pkcs11.so",
             "%s names the OID with module %s, which does not exist or is "
             "not an absolute path to a file",
             file, module);
        return false;
    }
    emit(r, L_OK, item, NULL, "%s: module %s", file, module);
    return true;
}

/* Compares directory entries by name (qsort). */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The registration MIT's and Heimdal's mechglues see. */
static void check_mech(struct report *r)
{
    char module[2048], found_in[4096], where[4096];
    const char *env = secure_getenv("GSS_MECH_CONFIG");
    const char *file = NULL;
    int rc;

    module[0] = '\0';
    if (env && *env) {
        /* MIT >= 1.18: the file replaces /etc/gss/mech and mech.d. */
        snprintf(where, sizeof(where), "%s ($GSS_MECH_CONFIG)", env);
        rc = scan_mech_file(env, module, sizeof(module));
        if (rc < 0) {
            emit(r, L_FAIL, "mech registration (MIT)",
                 "point GSS_MECH_CONFIG at a readable file, or unset it",
                 "cannot read %s", where);
        } else {
            snprintf(found_in, sizeof(found_in), "%s", env);
            report_registration(r, "MIT", rc ? found_in : NULL, module, L_FAIL,
                                where);
        }
    } else {
        DIR *d;
        struct dirent *e;
        char **names = NULL;
        size_t n = 0;

        snprintf(where, sizeof(where),
                 "/etc/gss/mech or /etc/gss/mech.d/*.conf");
        if (scan_mech_file("/etc/gss/mech", module, sizeof(module)) == 1)
            file = "/etc/gss/mech";
        d = opendir("/etc/gss/mech.d");
        while (file == NULL && d && (e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);
            char **grown;

            if (l < 5 || strcmp(e->d_name + l - 5, ".conf") != 0)
                continue;
            grown = realloc(names, (n + 1) * sizeof(*names));
            if (grown == NULL)
                break;
            names = grown;
            if ((names[n] = strdup(e->d_name)) != NULL)
                n++;
        }
        if (d)
            closedir(d);
        if (n)
            qsort(names, n, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n; i++) {
            if (file == NULL) {
                snprintf(found_in, sizeof(found_in), "/etc/gss/mech.d/%s",
                         names[i]);
                if (scan_mech_file(found_in, module, sizeof(module)) == 1)
                    file = found_in;
            }
            free(names[i]);
        }
        free(names);
        report_registration(r, "MIT", file, module, L_FAIL, where);
    }
    /* Heimdal reads /etc/gss/mech only, whatever the environment says. */
    module[0] = '\0';
    rc = scan_mech_file("/etc/gss/mech", module, sizeof(module));
    report_registration(r, "Heimdal", rc == 1 ? "/etc/gss/mech" : NULL, module,
                        L_WARN,
                        "/etc/gss/mech (only Heimdal applications need it)");
}

/* ---- trust: anchors and CRLs ------------------------------------------- */

/* Reports the nextUpdate of each CRL in one file. */
static void crl_file_dates(struct report *r, const char *path, int policy)
{
    FILE *f = fopen(path, "r");
    X509_CRL *crl;
    int n = 0;

    if (f == NULL)
        return;
    for (;;) {
        crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
        if (crl == NULL && n == 0) { /* a DER file holds exactly one */
            rewind(f);
            crl = d2i_X509_CRL_fp(f, NULL);
            n = crl ? 0 : -1;
        }
        if (crl == NULL)
            break;
        const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
        char issuer[256], item[512];
        int day = 0, sec = 0;

        n++;
        X509_NAME_oneline(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
        snprintf(item, sizeof(item), "CRL %s", issuer);
        if (next && ASN1_TIME_diff(&day, &sec, NULL, next) &&
            (day < 0 || sec < 0))
            emit(r, policy == GP11_CRL_REQUIRE ? L_FAIL : L_WARN, item,
                 "fetch a current CRL from the issuer and replace the file",
                 "%s: expired (nextUpdate passed %d days ago)%s", path, -day,
                 policy == GP11_CRL_REQUIRE
                     ? "; under crl-policy require every chain it covers is "
                       "refused"
                     : "");
        else if (next && day < 7)
            emit(r, L_WARN, item, "fetch a fresh CRL before it expires",
                 "%s: nextUpdate in %d days", path, day);
        else
            emit(r, L_OK, item, NULL, "%s: current", path);
        X509_CRL_free(crl);
        if (n > GP11_CRL_MAX)
            break;
    }
    ERR_clear_error();
    fclose(f);
}

/* The CRLs as the plugin loads them, then each one's dates. */
static void check_crls(struct report *r, const struct gp11_config *cfg)
{
    int policy = cfg->crl_policy != 0 ? cfg->crl_policy : GP11_CRL_REQUIRE;
    struct gp11_crls *crls = NULL;
    struct stat st;
    uint32_t ret;

    if (cfg->trust_crls == NULL) {
        emit(r, L_OK, "CRLs", NULL,
             "none configured: revocation is not checked");
        return;
    }
    ret = gp11_crls_load(cfg->trust_crls, policy, &crls);
    gp11_crls_free(crls);
    if (ret != GP11_OK) {
        emit(r, L_FAIL, "CRLs", "put the issuers' CRLs at that path", "%s",
             gp11_err_message(ret));
        return;
    }
    emit(r, L_OK, "CRLs", NULL, "%s loaded (crl-policy %s)", cfg->trust_crls,
         policy == GP11_CRL_REQUIRE ? "require" : "if-present");
    if (stat(cfg->trust_crls, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(cfg->trust_crls);
        struct dirent *e;
        char p[4096];

        while (d && (e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);

            /* The files gp11_crls_load reads. */
            if (e->d_name[0] == '.' || l < 4 ||
                (strcasecmp(e->d_name + l - 4, ".pem") != 0 &&
                 strcasecmp(e->d_name + l - 4, ".crl") != 0 &&
                 strcasecmp(e->d_name + l - 4, ".der") != 0))
                continue;
            snprintf(p, sizeof(p), "%s/%s", cfg->trust_crls, e->d_name);
            crl_file_dates(r, p, policy);
        }
        if (d)
            closedir(d);
    } else {
        crl_file_dates(r, cfg->trust_crls, policy);
    }
}

/* What to do about a refusal of gp11_cred_acquire. */
static const char *acquire_fix(uint32_t code)
{
    switch (code) {
    case GP11_ERR_IDENTITY_NOT_FOUND:
    case GP11_ERR_NO_IDENTITY_FOR_SERVICE:
        return "correct the object= label of the identity URI ('gssp11 info' "
               "lists the identities on the token)";
    case GP11_ERR_CERT_MISSING:
        return "store the key's certificate on the token with the key's "
               "CKA_ID";
    case GP11_ERR_CERT_INVALID:
        return "store the certificate issued for this key under its CKA_ID "
               "and remove the other one";
    case GP11_ERR_CERT_EXPIRED:
    case GP11_ERR_CERT_NOT_YET_VALID:
        return "renew the certificate and store it under the key's CKA_ID";
    case GP11_ERR_IDENTITY_EXPOSED:
        return "generate a new key pair inside the token (sensitive, not "
               "extractable) and certify it";
    default:
        return "see the message; 'gssp11 info' shows the token's identities";
    }
}

/* What to do about a chain its peers would refuse. */
static const char *chain_fix(uint32_t code, bool acceptor)
{
    switch (code) {
    case GP11_ERR_CRL_MISSING:
    case GP11_ERR_CRL_EXPIRED:
        return "put a current CRL of each issuer in [trust] crls, or set "
               "crl-policy = if-present";
    case GP11_ERR_CERT_REVOKED:
        return "issue a new certificate (from a CA that is not revoked)";
    case GP11_ERR_CERT_EXPIRED:
    case GP11_ERR_CERT_NOT_YET_VALID:
        return "renew the certificate, or the CA certificate that expired";
    case GP11_ERR_CERT_HOSTNAME:
        return "reissue it with the host name of the [acceptor] section in "
               "its dNSName";
    case GP11_ERR_CERT_USAGE:
        return acceptor ? "reissue it with keyUsage digitalSignature and "
                          "extendedKeyUsage serverAuth"
                        : "reissue it with keyUsage digitalSignature and "
                          "extendedKeyUsage clientAuth";
    default:
        return acceptor ? "issue it from a CA among the acceptor anchors "
                          "([trust] anchors or acceptor-anchors)"
                        : "issue it from a CA among the initiator anchors "
                          "([trust] anchors or initiator-anchors)";
    }
}

/* ---- identities --------------------------------------------------------- */

/*
 * One configured identity: acquired as the plugin acquires it (key and
 * certificate found, key matches certificate, key not exposed,
 * certificate valid now), then its chain validated as its peers validate
 * it (anchors and EKU of its role, host name and service binding of an
 * acceptor), and its expiry. service NULL: the initiator identity.
 */
static void check_identity(struct report *r, struct gp11_runtime *rt,
                           const char *service, const char *uri)
{
    const struct gp11_cred_id *ci;
    struct gp11_cred_store store = {0};
    struct gp11_cred *cred = NULL;
    struct gp11_name *name = NULL;
    struct gp11_buf certs[1 + GP11_IDENTITY_MAX_CHAIN];
    char item[512], host[256], svc[256], d[32];
    const char *at;
    X509 *leaf = NULL;
    time_t not_after = 0, now = time(NULL);
    size_t n = 0;
    uint32_t ret;

    snprintf(item, sizeof(item), "%s identity %s",
             service ? "acceptor" : "initiator", service ? service : uri);
    if (service) {
        ret = gp11_name_new(GP11_NAME_HOSTBASED, service, &name);
        if (ret == GP11_OK)
            ret = gp11_cred_acquire(name, GSS_C_ACCEPT, NULL, &cred);
    } else {
        store.identity = uri;
        ret = gp11_cred_acquire(NULL, GSS_C_INITIATE, &store, &cred);
    }
    if (ret != GP11_OK) {
        emit(r, L_FAIL, item, acquire_fix(ret), "%s", gp11_err_message(ret));
        goto done;
    }
    ci =
        service ? gp11_cred_acceptor(cred, service) : gp11_cred_initiator(cred);
    if (ci == NULL)
        ci = cred->n_ids ? &cred->ids[0] : NULL;
    if (ci == NULL) {
        emit(r, L_FAIL, item, "check the identity URI", "no identity acquired");
        goto done;
    }
    emit(r, L_OK, item, NULL,
         "key '%s' and its certificate found on token '%s', key matches "
         "certificate",
         ci->id->label ? ci->id->label : "", ci->id->token_label);
    certs[n].data = ci->id->cert_der;
    certs[n++].len = ci->id->cert_len;
    for (size_t i = 0; i < ci->id->n_chain; i++, n++) {
        certs[n].data = ci->id->chain_der[i];
        certs[n].len = ci->id->chain_len[i];
    }
    host[0] = svc[0] = '\0';
    at = service ? strchr(service, '@') : NULL;
    if (at) {
        snprintf(svc, sizeof(svc), "%.*s", (int)(at - service), service);
        snprintf(host, sizeof(host), "%s", at + 1);
    }
    if (rt->trust == NULL) {
        emit(r, L_FAIL, item, "set [trust] anchors",
             "no trust anchors are configured: no peer can verify it");
        goto done;
    }
    ret = gp11_certval_verify(
        rt->trust, certs, n, service ? GP11_PEER_ACCEPTOR : GP11_PEER_INITIATOR,
        host[0] ? host : NULL, now, &leaf, &not_after);
    if (ret != GP11_OK) {
        emit(r, L_FAIL, item, chain_fix(ret, service != NULL),
             "its peers refuse it: %s", gp11_err_message(ret));
        goto done;
    }
    emit(r, L_OK, item, NULL, "chains to the %s anchors with %s%s%s",
         service ? "acceptor" : "initiator",
         service ? "serverAuth" : "clientAuth", host[0] ? ", host " : "", host);
    if (service && rt->cfg->require_service_binding) {
        if (!host[0]) {
            emit(r, L_WARN, item, "name the host: [acceptor service@host]",
                 "no host in the section name: the service binding is "
                 "checked by each initiator against the host it names");
        } else if ((ret = gp11_certval_service(leaf, svc, host)) != GP11_OK) {
            emit(r, L_FAIL, item,
                 "reissue the certificate with an SRVName otherName "
                 "(RFC 4985) for the service, or set [policy] "
                 "require-service-binding = no",
                 "%s", gp11_err_message(ret));
        } else {
            emit(r, L_OK, item, NULL, "service binding SRVName _%s.%s", svc,
                 host);
        }
    }
    if (not_after - now < WARN_AHEAD)
        emit(r, L_WARN, item, "renew the certificate (or the CA) in time",
             "the chain expires on %s, in %lld days",
             date_of(not_after, d, sizeof(d)),
             (long long)((not_after - now) / 86400));
    else
        emit(r, L_OK, item, NULL, "valid until %s",
             date_of(not_after, d, sizeof(d)));
done:
    X509_free(leaf);
    gp11_cred_free(cred);
    gp11_name_free(name);
}

/* ---- export KEK --------------------------------------------------------- */

static void check_kek(struct report *r, struct gp11_runtime *rt)
{
    const char *label =
        rt->cfg->export_kek ? rt->cfg->export_kek : GP11_KEK_DEFAULT_LABEL;
    struct gp11_kek kek;
    uint32_t ret;

    if (!rt->cfg->allow_export)
        return;
    ret = gp11_kek_find(rt->tok, label, &kek);
    if (ret != GP11_OK)
        emit(r, L_FAIL, "export KEK",
             "create it with 'gssp11 kek create', or set allow-export = no",
             "allow-export = yes but: %s", gp11_err_message(ret));
    else
        emit(r, L_OK, "export KEK", NULL, "'%s' found%s", label,
             kek.trusted ? " (CKA_TRUSTED)" : "");
}

/* ---- establishment ------------------------------------------------------ */

/* A context from the configured initiator to one acceptor, in-process. */
static void check_context(struct report *r, const char *service)
{
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    struct gp11_name *tname = NULL;
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    gss_cred_id_t icred = GSS_C_NO_CREDENTIAL, acred = GSS_C_NO_CREDENTIAL;
    gss_name_t target = GSS_C_NO_NAME;
    OM_uint32 imaj = GSS_S_CONTINUE_NEEDED, amaj = GSS_S_CONTINUE_NEEDED;
    OM_uint32 major, minor = 0, tmp;
    char item[512];
    const char *step = "importing the name";

    snprintf(item, sizeof(item), "context to %s", service);
    /* As the SSPI face does: an internal name is a gss_name_t here. */
    major = gp11_name_new(GP11_NAME_HOSTBASED, service, &tname) == GP11_OK
                ? GSS_S_COMPLETE
                : GSS_S_BAD_NAME;
    target = (gss_name_t)tname;
    if (!GSS_ERROR(major)) {
        step = "acquiring the acceptor's credential";
        major = gp11_gss_acquire_cred(&minor, target, 0, GSS_C_NO_OID_SET,
                                      GSS_C_ACCEPT, &acred, NULL, NULL);
    }
    if (!GSS_ERROR(major)) {
        step = "acquiring the initiator's credential";
        major =
            gp11_gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, GSS_C_NO_OID_SET,
                                  GSS_C_INITIATE, &icred, NULL, NULL);
    }
    for (int legs = 0; !GSS_ERROR(major) && legs < 8; legs++) {
        if (imaj == GSS_S_CONTINUE_NEEDED) {
            step = "gss_init_sec_context";
            major = imaj = gp11_gss_init_sec_context(
                &minor, icred, &ictx, target, (gss_OID)gp11_mech_oid(),
                GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG, 0,
                GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out, NULL, NULL);
            free(in.value);
            in = out;
            out.value = NULL;
            out.length = 0;
            if (GSS_ERROR(major))
                break;
        }
        if (in.length == 0 && imaj == GSS_S_COMPLETE)
            break;
        if (amaj == GSS_S_CONTINUE_NEEDED) {
            step = "gss_accept_sec_context";
            major = amaj = gp11_gss_accept_sec_context(
                &minor, &actx, acred, &in, GSS_C_NO_CHANNEL_BINDINGS, NULL,
                NULL, &out, NULL, NULL, NULL);
            free(in.value);
            in = out;
            out.value = NULL;
            out.length = 0;
        }
        if (imaj == GSS_S_COMPLETE && amaj == GSS_S_COMPLETE)
            break;
    }
    if (GSS_ERROR(major))
        emit(r, L_FAIL, item,
             "fix the failures above; run with GSS_PKCS11_DEBUG=FILE for "
             "the handshake's log",
             "%s failed: %s", step,
             minor ? gp11_err_message(minor) : "(no detail)");
    else if (imaj != GSS_S_COMPLETE || amaj != GSS_S_COMPLETE)
        emit(r, L_FAIL, item, "report a bug", "the handshake did not complete");
    else
        emit(r, L_OK, item, NULL,
             "established in-process (mutual, integrity, confidentiality)");
    free(in.value);
    gp11_gss_delete_sec_context(&tmp, &ictx, GSS_C_NO_BUFFER);
    gp11_gss_delete_sec_context(&tmp, &actx, GSS_C_NO_BUFFER);
    gp11_gss_release_cred(&tmp, &icred);
    gp11_gss_release_cred(&tmp, &acred);
    gp11_name_free(tname);
}

/* ---- the command -------------------------------------------------------- */

/* Config, token, login, anchors, CRLs: each step the plugin's start-up
 * takes, reported one by one. Returns false when a later check cannot run. */
static bool check_startup(struct report *r, const char *path,
                          struct gp11_config **cfgp)
{
    struct gp11_token_opts o = {0};
    struct gp11_token *tok = NULL;
    struct gp11_trust *trust = NULL;
    struct gp11_config *cfg;
    uint32_t ret;
    bool good = false;

    ret = gp11_config_load(path, cfgp);
    if (ret != GP11_OK) {
        emit(r, L_FAIL, "configuration",
             "write the file (see gss-pkcs11.conf(5)) or point "
             "GSS_PKCS11_CONF at it",
             "%s", gp11_err_message(ret));
        return false;
    }
    cfg = *cfgp;
    emit(r, L_OK, "configuration", NULL, "%s", cfg->path);
    o.module = cfg->module;
    o.init_params = cfg->init_params;
    o.uri = cfg->token_uri;
    o.pin_source = cfg->pin_source;
    o.quirks = cfg->quirks;
    o.max_sessions = cfg->max_sessions;
    ret = gp11_token_open(&o, &tok);
    if (ret != GP11_OK) {
        emit(r, L_FAIL, "module and token",
             "correct [token] module and uri ('p11-kit list-modules' shows "
             "tokens)",
             "%s", gp11_err_message(ret));
        goto done;
    }
    {
        char label[33];

        gp11_token_label(gp11_token_info(tok), label);
        emit(r, L_OK, "module and token", NULL, "%s, token '%s' in slot %lu",
             gp11_module_path(gp11_token_module(tok)), label,
             (unsigned long)gp11_token_slot(tok));
    }
    ret = gp11_token_login(tok);
    if (ret != GP11_OK) {
        emit(r, L_FAIL, "login",
             "put the user PIN in the [token] pin-source file (mode 0600)",
             "%s", gp11_err_message(ret));
        goto done;
    }
    emit(r, L_OK, "login", NULL, "%s",
         (gp11_token_info(tok)->flags & CKF_LOGIN_REQUIRED)
             ? "logged in as user"
             : "not required by the token");
    ret = gp11_trust_load_roles(cfg->trust_anchors, cfg->initiator_anchors,
                                cfg->acceptor_anchors, NULL, &trust);
    if (ret != GP11_OK) {
        emit(r, L_FAIL, "trust anchors",
             "point [trust] anchors at the CA certificates (PEM)", "%s",
             gp11_err_message(ret));
        goto done;
    }
    if (trust == NULL)
        emit(r, L_WARN, "trust anchors", "set [trust] anchors",
             "none configured: no peer certificate can be verified");
    else {
        /* "anchors A, initiator-anchors I, acceptor-anchors C", the
         * keys that are set only. */
        const char *key[] = {"anchors", "initiator-anchors",
                             "acceptor-anchors"};
        const char *val[] = {cfg->trust_anchors, cfg->initiator_anchors,
                             cfg->acceptor_anchors};
        char what[3 * 4200];
        size_t n = 0;

        what[0] = '\0';
        for (size_t i = 0; i < 3; i++)
            if (val[i] && n < sizeof(what))
                n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s %s",
                                      n ? ", " : "", key[i], val[i]);
        emit(r, L_OK, "trust anchors", NULL, "%s", what);
    }
    check_crls(r, cfg);
    good = true;
done:
    gp11_trust_free(trust);
    gp11_token_close(tok);
    return good;
}

int gssp11_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct report r = {.first = true};
    struct gssp11_progress progress = {0};
    struct gp11_config *cfg = NULL;
    struct gp11_runtime *rt = NULL;
    const char *path = NULL;
    uint32_t ret;
    int c;

    while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'j') {
            r.json = true;
        } else if (c == 'h') {
            check_usage(stdout);
            return 0;
        } else {
            check_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        gssp11_failf("check: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    /* The plugin reads GSS_PKCS11_CONF: make it read the same file. */
    if (path && setenv("GSS_PKCS11_CONF", path, 1) != 0)
        return gssp11_failf("check: cannot set GSS_PKCS11_CONF");
    if (r.json) {
        printf("{\n  \"config\": ");
        json_str(path ? path : gp11_config_default_path());
        printf(",\n  \"checks\": [");
    }
    if (!check_startup(&r, path, &cfg))
        goto mech;
    /* The plugin's start-up as one piece: what gss_* calls will get. */
    ret = gp11_runtime_get(&rt);
    if (ret != GP11_OK) {
        emit(&r, L_FAIL, "plugin start-up", "fix the failures above", "%s",
             gp11_err_message(ret));
        goto mech;
    }
    /* On a terminal: each identity, then each context. */
    gssp11_progress_start(&progress, "check",
                          (cfg->initiator_identity ? 1 : 0) +
                              (unsigned)cfg->n_acceptors *
                                  (cfg->initiator_identity ? 2 : 1));
    if (cfg->initiator_identity) {
        gssp11_progress_step(&progress, "initiator identity %s",
                             cfg->initiator_identity);
        check_identity(&r, rt, NULL, cfg->initiator_identity);
    } else {
        emit(&r, L_OK, "initiator identity", NULL,
             "none configured (this host does not initiate by default)");
    }
    for (size_t i = 0; i < cfg->n_acceptors; i++) {
        gssp11_progress_step(&progress, "acceptor identity %s",
                             cfg->acceptors[i].service);
        check_identity(&r, rt, cfg->acceptors[i].service,
                       cfg->acceptors[i].identity);
    }
    check_kek(&r, rt);
mech:
    check_mech(&r);
    if (rt != NULL) {
        if (cfg->initiator_identity == NULL && cfg->n_acceptors)
            emit(&r, L_WARN, "contexts",
                 "configure an [initiator] identity to test establishment",
                 "not established: no [initiator] identity on this host");
        else
            for (size_t i = 0; i < cfg->n_acceptors; i++) {
                gssp11_progress_step(&progress, "context to %s",
                                     cfg->acceptors[i].service);
                check_context(&r, cfg->acceptors[i].service);
            }
    }
    gssp11_progress_end(&progress);
    if (r.json) {
        printf("\n  ],\n  \"ok\": %d,\n  \"warnings\": %d,\n  \"failures\": "
               "%d\n}\n",
               r.n_ok, r.n_warn, r.n_fail);
    } else {
        printf("%d ok, %d WARN, %d FAIL\n", r.n_ok, r.n_warn, r.n_fail);
    }
    gp11_config_free(cfg);
    return r.n_fail ? 1 : 0;
}
