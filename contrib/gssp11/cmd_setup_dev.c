/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gssp11 setup-dev DIR: a complete development environment from nothing:
 * a token (SoftHSM2 or NSS softoken), a test CA, identities generated in
 * the token with certificates from that CA, and the configuration files.
 */
#include "devca.h"
#include "gp11_build_config.h"
#include "gp11_pkcs11.h"
#include "gssp11.h"
#include "gp11_kek.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEV_LABEL "gss-pkcs11-dev"
#define NSS_LABEL "NSS Certificate DB"
#define CERT_DAYS 365

static const char *const softhsm_paths[] = {
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    NULL,
};

static const char *const softokn_paths[] = {
    "/usr/lib/x86_64-linux-gnu/libsoftokn3.so",
    "/usr/lib/aarch64-linux-gnu/libsoftokn3.so",
    "/usr/lib64/libsoftokn3.so",
    "/usr/lib/libsoftokn3.so",
    NULL,
};

/* Everything the set-up decides, shared by its steps. */
struct devenv {
    char dir[PATH_MAX];
    bool nss;
    const char *module;
    char init_params[PATH_MAX + 128];
    char label[33];
    char uri_token[128]; /* "pkcs11:token=..." */
    char user_pin[33];
    char so_pin[33];
    char mech_module[PATH_MAX];
};

/* One identity that setup-dev creates. */
struct dev_identity {
    const char *label;
    unsigned char id;
    bool rsa;
    struct gp11_devca_profile profile;
    const char *service; /* acceptor service name, NULL for the initiator */
};

static const struct dev_identity identities[] = {
    {"alice",
     1,
     false,
     {"alice", NULL, "alice@localhost", false, true, -3600, CERT_DAYS * 86400L},
     NULL},
    {"host",
     2,
     false,
     {"host@localhost", "localhost", NULL, true, false, -3600,
      CERT_DAYS * 86400L, "host", 0},
     "host@localhost"},
    {"rsa",
     3,
     true,
     {"rsa@localhost", "localhost", NULL, true, false, -3600,
      CERT_DAYS * 86400L, "rsa", 0},
     "rsa@localhost"},
};

#define N_IDENTITIES (sizeof(identities) / sizeof(identities[0]))

/* On a terminal: the token, the CA, each identity, the KEK. */
static struct gssp11_progress progress;

static void setup_usage(FILE *f)
{
    fprintf(f,
            "Usage: gssp11 setup-dev [--token softhsm|nss] [--module PATH]\n"
            "                        [--mech-module PATH] DIR\n\n"
            "Creates a development environment in DIR (created if needed; it "
            "must\nbe empty): a token with a random PIN "
            "(DIR/user.pin),\na test CA (DIR/ca), the identities 'alice' "
            "(EC P-256, initiator),\n'host' (EC P-256, host@localhost) and "
            "'rsa' (RSA-3072, rsa@localhost)\ngenerated inside the token, "
            "and DIR/gss-pkcs11.conf, DIR/mech.conf,\nDIR/env (source it "
            "to use the environment).\n\n"
            "  -t, --token KIND      softhsm (default) or nss (NSS softoken)\n"
            "  -m, --module PATH     PKCS#11 module to use instead of the "
            "default\n"
            "  -M, --mech-module P   gss_pkcs11.so to name in DIR/mech.conf\n"
            "  -h, --help            this text\n");
}

/* First existing file of a candidate list. */
static const char *first_existing(const char *const *paths)
{
    for (size_t i = 0; paths[i]; i++)
        if (access(paths[i], R_OK) == 0)
            return paths[i];
    return NULL;
}

/* The plugin to register: the build tree's when run from it. */
static void default_mech_module(char *out, size_t len)
{
    char exe[PATH_MAX - 32], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    snprintf(out, len, "%s", GP11_MODULE_INSTALL_PATH);
    if (n <= 0)
        return;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    /* Build tree layout: <build>/contrib/gssp11 and <build>/gss/. */
    slash = strrchr(exe, '/');
    if (slash && strcmp(slash, "/contrib") == 0) {
        *slash = '\0';
        snprintf(out, len, "%s/gss/gss_pkcs11.so", exe);
        if (access(out, R_OK) != 0)
            snprintf(out, len, "%s", GP11_MODULE_INSTALL_PATH);
    }
}

/* A random PIN of 2*bytes hex digits. */
static uint32_t random_pin(char *out, size_t bytes)
{
    unsigned char r[16];

    if (bytes > sizeof(r) || RAND_bytes(r, (int)bytes) != 1)
        return gp11_err_set(GP11_ERR_INTERNAL, "cannot generate a random PIN");
    for (size_t i = 0; i < bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return GP11_OK;
}

/* Writes a new file (never overwriting) with the given mode. */
static uint32_t write_new_file(const char *path, mode_t mode, const char *text)
{
    size_t len = strlen(text);
    uint32_t ret = GP11_OK;
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return gp11_err_set(GP11_ERR_BAD_ARG, "cannot create %s: %s", path,
                            strerror(errno));
    if (write(fd, text, len) != (ssize_t)len)
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "cannot write %s: %s", path,
                           strerror(errno));
    if (close(fd) != 0 && ret == GP11_OK)
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "cannot write %s: %s", path,
                           strerror(errno));
    return ret;
}

/* DIR/name into buf. */
static const char *in_dir(const struct devenv *e, const char *name, char *buf,
                          size_t len)
{
    snprintf(buf, len, "%s/%s", e->dir, name);
    return buf;
}

/* mkdir that accepts an existing directory. */
static uint32_t make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST)
        return gp11_err_set(GP11_ERR_BAD_ARG, "cannot create directory %s: %s",
                            path, strerror(errno));
    return GP11_OK;
}

/* GP11_OK if the directory has no entries but . and ..; one it cannot list
 * is refused, not taken for empty. */
static uint32_t check_dir_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    bool any = false;

    if (d == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "cannot read directory %s: %s (setup-dev must "
                            "see that it is empty)",
                            path, strerror(errno));
    while (!any && (e = readdir(d)) != NULL)
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    if (any)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "%s is not empty; setup-dev only writes into a "
                            "new or empty directory",
                            path);
    return GP11_OK;
}

/* Creates DIR, refusing one that is not empty (an earlier environment, or
 * the remains of a failed set-up): nothing is ever overwritten. */
static uint32_t prepare_dir(struct devenv *e, const char *dir)
{
    char path[PATH_MAX + 32];
    struct stat st;
    uint32_t ret;

    ret = make_dir(dir, 0700);
    if (ret != GP11_OK)
        return ret;
    /* A file, FIFO or device already there (mkdir said EEXIST). */
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "%s exists and is not a directory", dir);
    if (realpath(dir, e->dir) == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "cannot resolve %s: %s", dir,
                            strerror(errno));
    if (access(in_dir(e, "gss-pkcs11.conf", path, sizeof(path)), F_OK) == 0)
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "%s already holds a development environment "
                            "(%s exists); remove the directory or choose "
                            "another",
                            e->dir, path);
    ret = check_dir_empty(e->dir);
    if (ret != GP11_OK)
        return ret;
    return make_dir(in_dir(e, "ca", path, sizeof(path)), 0700);
}

/* SoftHSM2: private softhsm2.conf and token directory, then init. */
static uint32_t init_softhsm(struct devenv *e)
{
    char conf[PATH_MAX + 32], tokens[PATH_MAX + 32], text[2 * PATH_MAX];
    uint32_t ret;

    in_dir(e, "softhsm", tokens, sizeof(tokens));
    ret = make_dir(tokens, 0700);
    if (ret != GP11_OK)
        return ret;
    in_dir(e, "softhsm/tokens", tokens, sizeof(tokens));
    ret = make_dir(tokens, 0700);
    if (ret != GP11_OK)
        return ret;
    snprintf(text, sizeof(text),
             "# Generated by gssp11 setup-dev: a private SoftHSM2 store.\n"
             "directories.tokendir = %s\nobjectstore.backend = file\n"
             "log.level = ERROR\nslots.removable = false\n",
             tokens);
    ret = write_new_file(in_dir(e, "softhsm2.conf", conf, sizeof(conf)), 0600,
                         text);
    if (ret != GP11_OK)
        return ret;
    /* SoftHSM2 reads its configuration from the environment at load. */
    setenv("SOFTHSM2_CONF", conf, 1);
    snprintf(e->label, sizeof(e->label), "%s", DEV_LABEL);
    return gp11_dev_init_token(e->module, NULL, e->label, e->so_pin,
                               e->user_pin);
}

/* NSS softoken: a new sql: database, then its first user PIN. */
static uint32_t init_nss(struct devenv *e)
{
    char db[PATH_MAX + 32];
    uint32_t ret;

    ret = make_dir(in_dir(e, "nssdb", db, sizeof(db)), 0700);
    if (ret != GP11_OK)
        return ret;
    snprintf(e->init_params, sizeof(e->init_params),
             "configdir='sql:%s' certPrefix='' keyPrefix='' "
             "secmod='secmod.db' flags=",
             db);
    snprintf(e->label, sizeof(e->label), "%s", NSS_LABEL);
    return gp11_dev_init_user_pin(e->module, e->init_params, e->label,
                                  e->user_pin);
}

/* "pkcs11:token=<label>" with the label percent-encoded. */
static void token_uri(struct devenv *e)
{
    size_t n =
        (size_t)snprintf(e->uri_token, sizeof(e->uri_token), "pkcs11:token=");

    for (const char *p = e->label; *p && n + 4 < sizeof(e->uri_token); p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~", *p))
            e->uri_token[n++] = *p;
        else
            n += (size_t)snprintf(e->uri_token + n, 4, "%%%02X",
                                  (unsigned char)*p);
    }
    e->uri_token[n] = '\0';
}

/* Generates the identity's key pair inside the token (token objects). */
static uint32_t generate_key(struct gp11_token *tok,
                             const struct dev_identity *d,
                             struct gp11_object *pub, struct gp11_object *priv)
{
    /* DER of the prime256v1 OID. */
    static const unsigned char p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
    static const unsigned char f4[] = {0x01, 0x00, 0x01};
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG bits = 3072;
    CK_BYTE id = d->id;
    CK_MECHANISM ec = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_MECHANISM rsa = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_t[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_VERIFY, &yes, sizeof(yes)},
        {CKA_ID, &id, 1},
        {CKA_LABEL, (void *)d->label, strlen(d->label)},
        d->rsa ? (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)}
               : (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
        {CKA_PUBLIC_EXPONENT, (void *)f4, sizeof(f4)},
    };
    CK_ATTRIBUTE priv_t[] = {
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_SIGN, &yes, sizeof(yes)},
        {CKA_DERIVE, &no, sizeof(no)},
        {CKA_ID, &id, 1},
        {CKA_LABEL, (void *)d->label, strlen(d->label)},
    };

    return gp11_object_generate_pair(tok, d->rsa ? &rsa : &ec, pub_t,
                                     d->rsa ? 6 : 5, priv_t, 8, pub, priv);
}

/* Reads two attributes of the public key into malloc'ed buffers. */
static uint32_t read_pub_pair(struct gp11_token *tok,
                              const struct gp11_object *pub,
                              CK_ATTRIBUTE_TYPE t1, CK_ATTRIBUTE_TYPE t2,
                              void **v1, CK_ULONG *l1, void **v2, CK_ULONG *l2)
{
    uint32_t ret = gp11_object_get_attr(tok, pub, t1, v1, l1);

    if (ret == GP11_OK) {
        ret = gp11_object_get_attr(tok, pub, t2, v2, l2);
        if (ret != GP11_OK) {
            free(*v1);
            *v1 = NULL;
        }
    }
    return ret;
}

/* The public key of a generated pair as an OpenSSL key. */
static uint32_t public_key(struct gp11_token *tok, bool rsa,
                           const struct gp11_object *pub, EVP_PKEY **out)
{
    void *a = NULL, *b = NULL;
    CK_ULONG la = 0, lb = 0;
    uint32_t ret;

    if (rsa)
        ret = read_pub_pair(tok, pub, CKA_MODULUS, CKA_PUBLIC_EXPONENT, &a, &la,
                            &b, &lb);
    else
        ret = read_pub_pair(tok, pub, CKA_EC_PARAMS, CKA_EC_POINT, &a, &la, &b,
                            &lb);
    if (ret != GP11_OK)
        return ret;
    if (rsa)
        ret = gp11_devca_pubkey_rsa(a, la, b, lb, out);
    else
        ret = gp11_devca_pubkey_ec(a, la, b, lb, out);
    free(a);
    free(b);
    return ret;
}

/* Stores the certificate on the token next to its key (same CKA_ID). */
static uint32_t store_cert(struct gp11_token *tok, const struct dev_identity *d,
                           const unsigned char *der, size_t len)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    unsigned char *subj = NULL, *iss = NULL, *ser = NULL;
    size_t ls, li, lr;
    struct gp11_object obj;
    CK_BYTE id = d->id;
    uint32_t ret;

    ret = gp11_devca_cert_fields(der, len, &subj, &ls, &iss, &li, &ser, &lr);
    if (ret != GP11_OK)
        return ret;
    {
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_CERTIFICATE_TYPE, &x509, sizeof(x509)},
            {CKA_TOKEN, &yes, sizeof(yes)},
            {CKA_PRIVATE, &no, sizeof(no)},
            {CKA_ID, &id, 1},
            {CKA_LABEL, (void *)d->label, strlen(d->label)},
            {CKA_SUBJECT, subj, ls},
            {CKA_ISSUER, iss, li},
            {CKA_SERIAL_NUMBER, ser, lr},
            {CKA_VALUE, (void *)der, len},
        };
        ret = gp11_object_create(tok, t, sizeof(t) / sizeof(t[0]), &obj);
    }
    free(subj);
    free(iss);
    free(ser);
    return ret;
}

/* Writes DIR/certs/<label>.pem for use by other tools. */
static uint32_t export_cert_pem(const struct devenv *e, const char *label,
                                const unsigned char *der, size_t len)
{
    char path[PATH_MAX + 64];
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    uint32_t ret = GP11_OK;
    FILE *f = NULL;
    int fd;

    snprintf(path, sizeof(path), "%s/certs/%s.pem", e->dir, label);
    if (cert == NULL)
        return gp11_err_set(GP11_ERR_CERT_INVALID,
                            "the certificate for %s does not parse", label);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0)
        f = fdopen(fd, "w");
    if (f == NULL || PEM_write_X509(f, cert) != 1)
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "cannot write %s: %s", path,
                           strerror(errno));
    if (f != NULL && fclose(f) != 0 && ret == GP11_OK)
        ret = gp11_err_set(GP11_ERR_BAD_ARG, "cannot write %s: %s", path,
                           strerror(errno));
    if (f == NULL && fd >= 0)
        close(fd);
    X509_free(cert);
    return ret;
}

/* One identity: key pair in the token, certificate, stored and exported. */
static uint32_t make_identity(const struct devenv *e, struct gp11_token *tok,
                              struct gp11_devca *ca,
                              const struct dev_identity *d)
{
    struct gp11_object pub, priv;
    unsigned char *der = NULL;
    EVP_PKEY *key = NULL;
    size_t len = 0;
    uint32_t ret;

    ret = generate_key(tok, d, &pub, &priv);
    if (ret == GP11_OK)
        ret = public_key(tok, d->rsa, &pub, &key);
    if (ret == GP11_OK)
        ret = gp11_devca_issue(ca, key, &d->profile, &der, &len);
    if (ret == GP11_OK)
        ret = store_cert(tok, d, der, len);
    if (ret == GP11_OK)
        ret = export_cert_pem(e, d->label, der, len);
    EVP_PKEY_free(key);
    free(der);
    return ret;
}

/* Opens the new token, logs in and creates every identity. */
static uint32_t make_identities(struct devenv *e)
{
    char pin[PATH_MAX + 32], ca_key[PATH_MAX + 32], ca_pem[PATH_MAX + 32];
    char certs[PATH_MAX + 32];
    struct gp11_token_opts o = {0};
    struct gp11_token *tok = NULL;
    struct gp11_devca *ca = NULL;
    uint32_t ret;

    o.module = e->module;
    o.init_params = e->nss ? e->init_params : NULL;
    o.uri = e->uri_token;
    o.pin_source = in_dir(e, "user.pin", pin, sizeof(pin));
    ret = make_dir(in_dir(e, "certs", certs, sizeof(certs)), 0755);
    if (ret == GP11_OK)
        gssp11_progress_step(&progress, "development CA");
    if (ret == GP11_OK)
        ret = gp11_devca_create("gss-pkcs11 development CA", CERT_DAYS * 10,
                                in_dir(e, "ca/ca.key", ca_key, sizeof(ca_key)),
                                in_dir(e, "ca/ca.pem", ca_pem, sizeof(ca_pem)),
                                &ca);
    if (ret == GP11_OK)
        ret = gp11_token_open(&o, &tok);
    if (ret == GP11_OK)
        ret = gp11_token_login(tok);
    for (size_t i = 0; ret == GP11_OK && i < N_IDENTITIES; i++) {
        gssp11_progress_step(&progress, "identity %s (%s)", identities[i].label,
                             identities[i].rsa ? "RSA-3072" : "EC P-256");
        ret = make_identity(e, tok, ca, &identities[i]);
    }
    /* The export KEK (protocol.md 5); used once allow-export = yes. */
    if (ret == GP11_OK) {
        bool trusted;

        gssp11_progress_step(&progress, "export KEK");
        ret = gp11_kek_create(tok, GP11_KEK_DEFAULT_LABEL, &trusted);
    }
    gp11_token_close(tok);
    gp11_devca_free(ca);
    return ret;
}

/* DIR/gss-pkcs11.conf naming the token, CA and identities. */
static uint32_t write_config(const struct devenv *e)
{
    char path[PATH_MAX + 32], text[8192];
    size_t n;

    n = (size_t)snprintf(
        text, sizeof(text),
        "# gss-pkcs11 development configuration, made by gssp11 setup-dev.\n"
        "# See gss-pkcs11.conf(5). Not for production: the CA key is a "
        "file.\n\n[token]\nmodule = %s\n",
        e->module);
    if (e->nss)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "module-init-params = %s\n", e->init_params);
    n += (size_t)snprintf(
        text + n, sizeof(text) - n,
        "uri = %s\npin-source = %s/user.pin\n\n[trust]\nanchors = "
        "%s/ca/ca.pem\n\n[initiator]\nidentity = %s;object=alice;"
        "type=private\n",
        e->uri_token, e->dir, e->dir, e->uri_token);
    for (size_t i = 0; i < N_IDENTITIES; i++)
        if (identities[i].service)
            n += (size_t)snprintf(text + n, sizeof(text) - n,
                                  "\n[acceptor %s]\nidentity = "
                                  "%s;object=%s;type=private\n",
                                  identities[i].service, e->uri_token,
                                  identities[i].label);
    snprintf(text + n, sizeof(text) - n,
             "\n[policy]\nallow-anonymous = no\nmax-lifetime = 10h\n"
             "allow-export = no\nexport-kek = " GP11_KEK_DEFAULT_LABEL "\n");
    return write_new_file(in_dir(e, "gss-pkcs11.conf", path, sizeof(path)),
                          0600, text);
}

/* DIR/mech.conf (for GSS_MECH_CONFIG) and DIR/env (shell exports). */
static uint32_t write_mech_and_env(const struct devenv *e)
{
    char path[PATH_MAX + 32], text[4 * PATH_MAX];
    uint32_t ret;

    snprintf(text, sizeof(text), "gss-pkcs11 %s %s\n", GP11_MECH_OID,
             e->mech_module);
    ret =
        write_new_file(in_dir(e, "mech.conf", path, sizeof(path)), 0644, text);
    if (ret != GP11_OK)
        return ret;
    if (e->nss)
        snprintf(text, sizeof(text),
                 "export GSS_PKCS11_CONF='%s/gss-pkcs11.conf'\n"
                 "export GSS_MECH_CONFIG='%s/mech.conf'\n",
                 e->dir, e->dir);
    else
        snprintf(text, sizeof(text),
                 "export SOFTHSM2_CONF='%s/softhsm2.conf'\n"
                 "export GSS_PKCS11_CONF='%s/gss-pkcs11.conf'\n"
                 "export GSS_MECH_CONFIG='%s/mech.conf'\n",
                 e->dir, e->dir, e->dir);
    return write_new_file(in_dir(e, "env", path, sizeof(path)), 0644, text);
}

/* The whole set-up, in order; the PINs are written before the token is
 * initialised, so a token is never left with a PIN nobody knows. */
static uint32_t setup(struct devenv *e, const char *dir)
{
    char path[PATH_MAX + 32];
    char pin_line[40];
    uint32_t ret;

    ret = prepare_dir(e, dir);
    if (ret == GP11_OK)
        ret = random_pin(e->user_pin, 8);
    if (ret == GP11_OK)
        ret = random_pin(e->so_pin, 8);
    if (ret != GP11_OK)
        return ret;
    snprintf(pin_line, sizeof(pin_line), "%s\n", e->user_pin);
    ret = write_new_file(in_dir(e, "user.pin", path, sizeof(path)), 0600,
                         pin_line);
    /* NSS softoken has no SO PIN of ours: its SO logs in with "". */
    snprintf(pin_line, sizeof(pin_line), "%s\n", e->so_pin);
    if (ret == GP11_OK && !e->nss)
        ret = write_new_file(in_dir(e, "so.pin", path, sizeof(path)), 0600,
                             pin_line);
    gp11_wipe_str(pin_line);
    if (ret != GP11_OK)
        return ret;
    gssp11_progress_start(&progress, "setup-dev", 3 + N_IDENTITIES);
    gssp11_progress_step(&progress, "%s token", e->nss ? "NSS" : "SoftHSM2");
    ret = e->nss ? init_nss(e) : init_softhsm(e);
    if (ret != GP11_OK) {
        gssp11_progress_end(&progress);
        return ret;
    }
    token_uri(e);
    ret = make_identities(e);
    gssp11_progress_end(&progress);
    if (ret == GP11_OK)
        ret = write_config(e);
    if (ret == GP11_OK)
        ret = write_mech_and_env(e);
    return ret;
}

/* Parses options into e; returns -1 to go on, else an exit code. */
static int parse_options(int argc, char **argv, struct devenv *e)
{
    static const struct option opts[] = {
        {"token", required_argument, 0, 't'},
        {"module", required_argument, 0, 'm'},
        {"mech-module", required_argument, 0, 'M'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "t:m:M:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (strcmp(optarg, "nss") != 0 && strcmp(optarg, "softhsm") != 0) {
                gssp11_failf("setup-dev: unknown token kind '%s' (softhsm "
                             "or nss)",
                             optarg);
                return 2;
            }
            e->nss = strcmp(optarg, "nss") == 0;
            break;
        case 'm':
            e->module = optarg;
            break;
        case 'M':
            snprintf(e->mech_module, sizeof(e->mech_module), "%s", optarg);
            break;
        case 'h':
            setup_usage(stdout);
            return 0;
        default:
            setup_usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        setup_usage(stderr);
        return 2;
    }
    return -1;
}

int gssp11_cmd_setup_dev(int argc, char **argv)
{
    static struct devenv e;
    uint32_t ret;
    int rc;

    memset(&e, 0, sizeof(e));
    rc = parse_options(argc, argv, &e);
    if (rc >= 0)
        return rc;
    if (e.module == NULL)
        e.module = first_existing(e.nss ? softokn_paths : softhsm_paths);
    if (e.module == NULL)
        return gssp11_failf("setup-dev: %s is not installed (package %s)",
                            e.nss ? "NSS softoken (libsoftokn3.so)"
                                  : "SoftHSM2 (libsofthsm2.so)",
                            e.nss ? "libnss3" : "softhsm2");
    if (e.mech_module[0] == '\0')
        default_mech_module(e.mech_module, sizeof(e.mech_module));
    ret = setup(&e, argv[optind]);
    gp11_wipe_str(e.user_pin);
    gp11_wipe_str(e.so_pin);
    if (ret != GP11_OK)
        return gssp11_fail(ret);
    printf("Development environment ready in %s\n"
           "  token:      %s (%s)\n"
           "  identities: alice (initiator), host@localhost, rsa@localhost\n"
           "  use it:     . %s/env\n",
           e.dir, e.label, e.module, e.dir);
    return 0;
}
