/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Makes the seed corpora of the fuzz targets (README.md in this
 * directory). Run once; its output is committed.
 *
 *   mkseeds certs DIR   a test CA with gssp11's devca (the code that
 *                       `gssp11 setup-dev` issues certificates with), an
 *                       intermediate, leaves like setup-dev's and a few
 *                       odd ones; writes DIR/data/anchors.pem and the
 *                       certval, names, anchors and pin_file corpora
 *   mkseeds token DIR   real handshakes and per-message tokens on the
 *                       SoftHSM2 token of the test setup (the softhsm
 *                       suite's environment); writes the permsg, iov,
 *                       acceptor_legs and initiator_legs corpora, and
 *                       real v2 tokens into hs_init, hs_accept,
 *                       hs_finish and hs_confirm
 *
 * DIR is tests/fuzz of the source tree. Existing seed files are replaced.
 */
#include "devca.h"
#include "fuzz_ctx.h"
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_error.h"
#include "gp11_names.h"
#include "gp11_permsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400L
#define CA_DAYS 36500 /* the CA outlives the corpus */

static const char *out_dir;

/* Prints a message and exits. */
static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "mkseeds: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* A growing byte string. */
struct bytes {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            die("out of memory");
    }
    if (n && p != NULL)
        memcpy(b->p + b->len, p, n);
    else if (n)
        memset(b->p + b->len, 0, n); /* room the caller sized */
    b->len += n;
}

static void put8(struct bytes *b, unsigned v)
{
    uint8_t c = (uint8_t)v;

    put(b, &c, 1);
}

static void put16(struct bytes *b, size_t v)
{
    put8(b, (unsigned)(v >> 8) & 0xff);
    put8(b, (unsigned)v & 0xff);
}

static void put64(struct bytes *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        put8(b, (unsigned)(v >> (8 * i)) & 0xff);
}

static void put16s(struct bytes *b, const void *p, size_t n)
{
    put16(b, n);
    put(b, p, n);
}

static void putstr(struct bytes *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Writes a seed file DIR/corpus/<corpus>/<name> and empties b. */
static void seed(const char *corpus, const char *name, struct bytes *b)
{
    char path[4096];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/corpus/%s", out_dir, corpus);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die("mkdir %s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "%s/corpus/%s/%s", out_dir, corpus, name);
    fp = fopen(path, "wb");
    if (fp == NULL || (b->len && fwrite(b->p, 1, b->len, fp) != b->len) ||
        fclose(fp) != 0)
        die("cannot write %s", path);
    b->len = 0;
}

/* ---- certificates ------------------------------------------------------ */

/* A certificate with its key and DER. */
struct cert {
    EVP_PKEY *key;
    X509 *x;
    uint8_t *der;
    size_t len;
};

static EVP_PKEY *ec_key(const char *curve)
{
    EVP_PKEY *k = EVP_EC_gen(curve);

    if (k == NULL)
        die("cannot make an %s key", curve);
    return k;
}

static EVP_PKEY *rsa_key(unsigned bits)
{
    EVP_PKEY *k = EVP_RSA_gen(bits);

    if (k == NULL)
        die("cannot make an RSA key");
    return k;
}

/* Fills c->x and c->der from DER. */
static void cert_from_der(struct cert *c, uint8_t *der, size_t len)
{
    const unsigned char *q = der;

    c->der = der;
    c->len = len;
    c->x = d2i_X509(NULL, &q, (long)len);
    if (c->x == NULL)
        die("devca issued undecodable DER");
}

/* Issues a leaf with devca. */
static void issue(struct gp11_devca *ca, struct cert *c, EVP_PKEY *key,
                  const struct gp11_devca_profile *p)
{
    unsigned char *der = NULL;
    size_t len = 0;
    uint32_t ret;

    c->key = key;
    ret = gp11_devca_issue(ca, key, p, &der, &len);
    if (ret != GP11_OK)
        die("devca_issue %s: %s", p->cn, gp11_err_message(ret));
    cert_from_der(c, der, len);
}

/* Adds one extension in OpenSSL's configuration syntax. */
static void add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, v3, nid, value);

    if (e == NULL || X509_add_ext(x, e, -1) != 1)
        die("cannot add extension %d", nid);
    X509_EXTENSION_free(e);
}

/*
 * A CA certificate: self-signed (issuer NULL) or signed by issuer, valid
 * from an hour ago for days. devca's own CA has pathlen 0, so chains with
 * an intermediate need a root made here.
 */
static void make_ca(const char *cn, const struct cert *issuer, long days,
                    const char *constraints, struct cert *c)
{
    static long serial = 100;
    X509_NAME *name = X509_NAME_new();
    time_t now = time(NULL);
    unsigned char *der = NULL;
    X509V3_CTX v3;
    int n;

    c->key = ec_key("P-256");
    c->x = X509_new();
    if (name == NULL || c->x == NULL ||
        X509_set_version(c->x, X509_VERSION_3) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(c->x), serial++) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1 ||
        X509_set_subject_name(c->x, name) != 1 ||
        X509_set_issuer_name(c->x, issuer ? X509_get_subject_name(issuer->x)
                                          : name) != 1 ||
        X509_time_adj_ex(X509_getm_notBefore(c->x), 0, -3600, &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(c->x), (int)days, 0, &now) ==
            NULL ||
        X509_set_pubkey(c->x, c->key) != 1)
        die("cannot build the CA %s", cn);
    X509V3_set_ctx(&v3, issuer ? issuer->x : c->x, c->x, NULL, NULL, 0);
    add_ext(c->x, &v3, NID_basic_constraints, constraints);
    add_ext(c->x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(c->x, &v3, NID_subject_key_identifier, "hash");
    add_ext(c->x, &v3, NID_authority_key_identifier, "keyid:always");
    if (X509_sign(c->x, issuer ? issuer->key : c->key, EVP_sha256()) <= 0)
        die("cannot sign the CA %s", cn);
    n = i2d_X509(c->x, &der);
    if (n <= 0)
        die("cannot encode the CA %s", cn);
    c->der = der;
    c->len = (size_t)n;
    X509_NAME_free(name);
}

/* Writes key (if any), x and x2 (if any) as PEM to path. */
static void write_pem(const char *path, X509 *x, X509 *x2, EVP_PKEY *key)
{
    FILE *fp = fopen(path, "w");

    if (fp == NULL ||
        (key &&
         PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) != 1) ||
        (x && PEM_write_X509(fp, x) != 1) ||
        (x2 && PEM_write_X509(fp, x2) != 1) || fclose(fp) != 0)
        die("cannot write %s", path);
}

/* PEM text of x (and key before it), appended to b. */
static void put_pem(struct bytes *b, X509 *x, EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long n;

    if (bio == NULL ||
        (key &&
         PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) ||
        (x && PEM_write_bio_X509(bio, x) != 1))
        die("cannot write PEM");
    n = BIO_get_mem_data(bio, &p);
    put(b, p, (size_t)n);
    BIO_free(bio);
}

/* The transcript hash and labels the certval target uses. */
static void fuzz_th(uint8_t th[32])
{
    SHA256((const unsigned char *)"gss-pkcs11 fuzz transcript", 26, th);
}

/* A handshake signature (protocol.md 2.5) of label || th with key. */
static size_t sign_hs(EVP_PKEY *key, const char *label, uint8_t *sig,
                      size_t room)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t th[32], der[160];
    size_t der_len = sizeof(der), half;
    const char *md = "SHA256";
    ECDSA_SIG *es;
    const unsigned char *q = der;
    const BIGNUM *r, *s;

    fuzz_th(th);
    if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) == 384)
        md = "SHA384";
    if (m == NULL ||
        EVP_DigestSignInit_ex(m, &pctx, md, NULL, NULL, key, NULL) != 1)
        die("cannot start a signature");
    if (EVP_PKEY_is_a(key, "RSA") &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1))
        die("cannot set up RSA-PSS");
    if (EVP_DigestSignUpdate(m, label, strlen(label) + 1) != 1 ||
        EVP_DigestSignUpdate(m, th, sizeof(th)) != 1)
        die("cannot hash");
    if (EVP_PKEY_is_a(key, "RSA")) {
        if (EVP_DigestSignFinal(m, sig, &room) != 1)
            die("cannot sign");
        EVP_MD_CTX_free(m);
        return room;
    }
    if (EVP_DigestSignFinal(m, der, &der_len) != 1)
        die("cannot sign");
    EVP_MD_CTX_free(m);
    /* ECDSA on the wire is raw r || s. */
    es = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
    half = EVP_PKEY_get_bits(key) == 384 ? 48 : 32;
    if (es == NULL || 2 * half > room)
        die("cannot decode the ECDSA signature");
    ECDSA_SIG_get0(es, &r, &s);
    BN_bn2binpad(r, sig, (int)half);
    BN_bn2binpad(s, sig + half, (int)half);
    ECDSA_SIG_free(es);
    return 2 * half;
}

/* A certval seed: flags, sigalg, the list, a signature by key (if any). */
static void certval_seed(const char *name, unsigned flags, unsigned sigalg,
                         const struct cert *const *chain, size_t n,
                         EVP_PKEY *key, const char *label)
{
    struct bytes b = {0};
    uint8_t sig[1024];
    size_t sig_len;

    put8(&b, flags);
    put8(&b, sigalg);
    put8(&b, (unsigned)n);
    for (size_t i = 0; i < n; i++)
        put16s(&b, chain[i]->der, chain[i]->len);
    if (key != NULL) {
        sig_len = sign_hs(key, label, sig, sizeof(sig));
        put(&b, sig, sig_len);
    }
    seed("certval", name, &b);
    free(b.p);
}

/* A names seed: op, then the bytes. */
static void names_seed(const char *name, unsigned op, const void *p, size_t n)
{
    struct bytes b = {0};

    put8(&b, op);
    put(&b, p, n);
    seed("names", name, &b);
    free(b.p);
}

/* An exported name token made by the product from a name it imported. */
static void exported_seed(const char *name, gss_OID type, const char *text)
{
    gss_buffer_desc in = {strlen(text), (void *)text}, exp = {0, NULL};
    gss_name_t n = GSS_C_NO_NAME;
    OM_uint32 minor;

    if (gp11_gss_import_name(&minor, &in, type, &n) != GSS_S_COMPLETE ||
        gp11_gss_export_name(&minor, n, &exp) != GSS_S_COMPLETE)
        die("cannot export %s", text);
    names_seed(name, 6, exp.value, exp.length);
    free(exp.value);
    gp11_gss_release_name(&minor, &n);
}

/* The file content of a PIN seed. */
static void pin_seed(const char *name, unsigned how, const void *p, size_t n)
{
    struct bytes b = {0};

    put8(&b, how);
    put(&b, p, n);
    seed("pin_file", name, &b);
    free(b.p);
}

static void make_certs(void)
{
    static gss_OID_desc nt_user = {10,
                                   "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01"};
    static gss_OID_desc nt_hostbased = {
        10, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"};
    static gss_OID_desc nt_anonymous = {6, "\x2b\x06\x01\x05\x06\x03"};
    const char *acc = "gss-pkcs11 v1 acceptor";
    const char *ini = "gss-pkcs11 v1 initiator";
    char tmp[] = "/tmp/mkseeds-XXXXXX", path[4096], key_path[4096];
    char ipath[4096], ikey_path[4096];
    struct gp11_devca *ca = NULL, *ica = NULL, *other = NULL;
    struct cert host, alice, rsa, p384, wild, expired, both, stranger, inter;
    struct cert root = {0}, chain_root;
    struct bytes b = {0};
    FILE *fp;
    uint32_t ret;

    if (mkdtemp(tmp) == NULL)
        die("mkdtemp: %s", strerror(errno));
    snprintf(key_path, sizeof(key_path), "%s/ca.key", tmp);
    snprintf(path, sizeof(path), "%s/ca.pem", tmp);
    ret = gp11_devca_create("gss-pkcs11 fuzz CA", CA_DAYS, key_path, path, &ca);
    if (ret != GP11_OK)
        die("devca_create: %s", gp11_err_message(ret));
    fp = fopen(path, "r");
    root.x = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
    if (fp)
        fclose(fp);
    fp = fopen(key_path, "r");
    root.key = fp ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) : NULL;
    if (fp)
        fclose(fp);
    if (root.x == NULL || root.key == NULL)
        die("cannot read the CA back");
    root.len = (size_t)i2d_X509(root.x, &root.der);
    make_ca("gss-pkcs11 fuzz chain root", NULL, CA_DAYS, "critical,CA:TRUE",
            &chain_root);
    make_ca("gss-pkcs11 fuzz intermediate", &chain_root, CA_DAYS - 10,
            "critical,CA:TRUE,pathlen:0", &inter);
    /* The anchors: devca's CA first (its notBefore is the reference
     * time of fuzz_certval.c), then the root of the chains. */
    snprintf(ipath, sizeof(ipath), "%s/data/anchors.pem", out_dir);
    write_pem(ipath, root.x, chain_root.x, NULL);
    snprintf(ikey_path, sizeof(ikey_path), "%s/inter.key", tmp);
    snprintf(ipath, sizeof(ipath), "%s/inter.pem", tmp);
    write_pem(ikey_path, NULL, NULL, inter.key);
    write_pem(ipath, inter.x, NULL, NULL);
    ret = gp11_devca_load(ikey_path, ipath, &ica);
    if (ret != GP11_OK)
        die("devca_load: %s", gp11_err_message(ret));
    snprintf(key_path, sizeof(key_path), "%s/other.key", tmp);
    snprintf(path, sizeof(path), "%s/other.pem", tmp);
    ret = gp11_devca_create("another CA", 3650, key_path, path, &other);
    if (ret != GP11_OK)
        die("devca_create: %s", gp11_err_message(ret));

    /* setup-dev's three identities, and some the tests also make. */
    issue(ca, &alice, ec_key("P-256"),
          &(struct gp11_devca_profile){"alice", NULL, "alice@localhost", false,
                                       true, -3600, (CA_DAYS - 30) * DAY});
    issue(ca, &host, ec_key("P-256"),
          &(struct gp11_devca_profile){"host@localhost", "localhost", NULL,
                                       true, false, -3600,
                                       (CA_DAYS - 30) * DAY});
    issue(ca, &rsa, rsa_key(3072),
          &(struct gp11_devca_profile){"rsa@localhost", "localhost", NULL, true,
                                       false, -3600, (CA_DAYS - 30) * DAY});
    issue(ica, &p384, ec_key("P-384"),
          &(struct gp11_devca_profile){"host.example.org", "host.example.org",
                                       NULL, true, true, -3600,
                                       (CA_DAYS - 30) * DAY});
    issue(ca, &wild, ec_key("P-256"),
          &(struct gp11_devca_profile){"*.example.org", "*.example.org", NULL,
                                       true, false, -3600,
                                       (CA_DAYS - 30) * DAY});
    issue(ca, &expired, ec_key("P-256"),
          &(struct gp11_devca_profile){"expired@localhost", "localhost", NULL,
                                       true, true, -3 * DAY, DAY});
    issue(ca, &both, ec_key("P-256"),
          &(struct gp11_devca_profile){"both@localhost", "localhost",
                                       "both@localhost", true, true, -3600,
                                       (CA_DAYS - 30) * DAY});
    issue(other, &stranger, ec_key("P-256"),
          &(struct gp11_devca_profile){"host@localhost", "localhost", NULL,
                                       true, false, -3600, 3000 * DAY});

    /* certval: flags bit 0 initiator, bits 1-2 host, bits 3-4 time. */
    certval_seed("host-p256", 0x02, 1, (const struct cert *[]){&host}, 1,
                 host.key, acc);
    certval_seed("alice-initiator", 0x01, 1, (const struct cert *[]){&alice}, 1,
                 alice.key, ini);
    certval_seed("rsa-pss", 0x02, 3, (const struct cert *[]){&rsa}, 1, rsa.key,
                 acc);
    certval_seed("p384-chain", 0x04, 2, (const struct cert *[]){&p384, &inter},
                 2, p384.key, acc);
    certval_seed("p384-chain-initiator", 0x01, 2,
                 (const struct cert *[]){&p384, &inter}, 2, p384.key, ini);
    certval_seed("chain-with-root", 0x04, 2,
                 (const struct cert *[]){&p384, &inter, &chain_root}, 3,
                 p384.key, acc);
    certval_seed("wildcard", 0x04, 1, (const struct cert *[]){&wild}, 1,
                 wild.key, acc);
    certval_seed("wildcard-other-host", 0x06, 1, (const struct cert *[]){&wild},
                 1, wild.key, acc);
    certval_seed("expired", 0x02, 1, (const struct cert *[]){&expired}, 1,
                 expired.key, acc);
    certval_seed("both-initiator-own", 0x21, 1, (const struct cert *[]){&both},
                 1, both.key, ini);
    certval_seed("untrusted", 0x02, 1, (const struct cert *[]){&stranger}, 1,
                 stranger.key, acc);
    certval_seed("before-validity", 0x0a, 1, (const struct cert *[]){&host}, 1,
                 host.key, acc);
    certval_seed("after-validity", 0x12, 1, (const struct cert *[]){&host}, 1,
                 host.key, acc);
    certval_seed("just-expired", 0x1a, 1, (const struct cert *[]){&host}, 1,
                 host.key, acc);
    certval_seed("wrong-sigalg", 0x02, 3, (const struct cert *[]){&host}, 1,
                 host.key, acc);
    certval_seed("client-as-acceptor", 0x02, 1, (const struct cert *[]){&alice},
                 1, alice.key, acc);
    certval_seed("intermediate-missing", 0x04, 2,
                 (const struct cert *[]){&p384}, 1, p384.key, acc);
    certval_seed(
        "five-certs", 0x04, 2,
        (const struct cert *[]){&p384, &inter, &inter, &inter, &chain_root}, 5,
        NULL, acc);
    put8(&b, 0x02);
    put8(&b, 1);
    put(&b, host.der, host.len);
    seed("certval", "bare-der", &b);

    /* names: import forms of every type, exported names, certificates. */
    names_seed("user-at-realm", 0, "alice@localhost", 15);
    names_seed("user-no-oid", 1, "alice", 5);
    names_seed("hostbased", 2, "host@localhost", 14);
    names_seed("hostbased-mixed-case", 2, "HTTP@Host.Example.ORG", 21);
    names_seed("hostbased-service-only", 2, "host", 4);
    names_seed("hostbased-old-oid", 3, "nfs@server.example", 18);
    names_seed("anonymous", 4, "", 0);
    names_seed("x509-dn", 5, "CN=alice,O=Example\\, Inc.,C=DE", 30);
    names_seed("x509-dn-multi", 5, "cn=Host+OU=x,DC=example,DC=org", 30);
    names_seed("x509-dn-hex", 5, "CN=#0c05616c696365", 18);
    names_seed("unknown-type", 7, "alice", 5);
    exported_seed("exported-user", &nt_user, "alice@localhost");
    exported_seed("exported-hostbased", &nt_hostbased, "host@localhost");
    exported_seed("exported-anonymous", &nt_anonymous, "");
    exported_seed("exported-x509", (gss_OID)gp11_nt_x509_subject(),
                  "CN=alice,O=Example");
    names_seed("cert-host-acceptor", 8, host.der, host.len);
    names_seed("cert-p384-other-host", 9, p384.der, p384.len);
    names_seed("cert-wildcard", 10, wild.der, wild.len);
    names_seed("cert-alice-initiator", 11, alice.der, alice.len);
    names_seed("cert-intermediate", 11, inter.der, inter.len);
    names_seed("cert-rsa", 8, rsa.der, rsa.len);

    /* anchors: files as the configuration names them, and directories. */
    put8(&b, 0);
    put_pem(&b, root.x, NULL);
    seed("anchors", "one-pem", &b);
    put8(&b, 0);
    put_pem(&b, root.x, NULL);
    put_pem(&b, inter.x, NULL);
    seed("anchors", "bundle", &b);
    put8(&b, 0);
    put_pem(&b, NULL, inter.key);
    put_pem(&b, root.x, NULL);
    seed("anchors", "key-then-cert", &b);
    put8(&b, 1);
    put(&b, root.der, root.len);
    seed("anchors", "der", &b);
    put8(&b, 0);
    putstr(&b, "# no certificate here\n");
    seed("anchors", "no-cert", &b);
    put8(&b, 2);
    {
        struct bytes pem = {0};

        put_pem(&pem, root.x, NULL);
        put8(&b, 0);
        put16s(&b, pem.p, pem.len);
        put8(&b, 2);
        put16s(&b, "not an anchor\n", 14);
        put8(&b, 4);
        put16(&b, 0);
        put8(&b, 1);
        put16s(&b, inter.der, inter.len);
        put8(&b, 3);
        put16(&b, 0);
        free(pem.p);
    }
    seed("anchors", "directory", &b);

    /* pin_file: setup-dev's user.pin (16 hex digits and a newline). */
    pin_seed("setup-dev", 0x00, "3c640f8a4d3e742b\n", 17);
    pin_seed("file-prefix", 0x01, "3c640f8a4d3e742b\n", 17);
    pin_seed("file-url", 0x02, "3c640f8a4d3e742b", 16);
    pin_seed("uri-pin-source", 0x03, "3c640f8a4d3e742b\n", 17);
    pin_seed("symlink", 0x04, "3c640f8a4d3e742b\n", 17);
    pin_seed("directory", 0x08, "", 0);
    pin_seed("world-readable", 0x30, "3c640f8a4d3e742b\n", 17);
    pin_seed("owner-read-only", 0x10, "1234\r\nsecond line\n", 18);
    pin_seed("rejected", 0x00, "Xwrong\n", 7);
    pin_seed("nul-inside", 0x00,
             "12\0"
             "34\n",
             6);
    pin_seed("empty", 0x00, "", 0);
    {
        char longpin[256];

        memset(longpin, '7', sizeof(longpin));
        pin_seed("254-bytes", 0x00, longpin, 254);
        pin_seed("255-bytes", 0x00, longpin, 255);
    }

    free(b.p);
    gp11_devca_free(ca);
    gp11_devca_free(ica);
    gp11_devca_free(other);
    snprintf(path, sizeof(path), "rm -rf '%s'", tmp);
    if (system(path) != 0)
        die("cannot remove %s", tmp);
}

/* ---- tokens ------------------------------------------------------------ */

/* A permsg seed for the input's own token (raw). */
static void permsg_raw(const char *name, unsigned op, unsigned qop,
                       const char *msg, const gss_buffer_desc *tok)
{
    struct bytes b = {0};

    put8(&b, op);
    put8(&b, qop);
    put16s(&b, msg, strlen(msg));
    put(&b, tok->value, tok->length);
    seed("permsg", name, &b);
    free(b.p);
}

/* A permsg seed for a real token, with optional edits. */
static void permsg_real(const char *name, unsigned op, unsigned qop,
                        uint64_t seq, const char *msg, const uint8_t *edits,
                        size_t n_edits)
{
    struct bytes b = {0};

    put8(&b, op | 4);
    put8(&b, qop);
    put64(&b, seq);
    put16s(&b, msg, strlen(msg));
    put(&b, edits, n_edits);
    seed("permsg", name, &b);
    free(b.p);
}

/* One IOV buffer of a seed. */
struct sbuf {
    OM_uint32 type;
    uint8_t flags;
    const void *p;
    size_t len;
};

static void iov_seed(const char *name, unsigned op, unsigned qop,
                     const struct sbuf *bufs, size_t n)
{
    struct bytes b = {0};

    put8(&b, op);
    put8(&b, qop);
    put8(&b, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        put16(&b, bufs[i].type);
        put8(&b, bufs[i].flags);
        put16(&b, bufs[i].len);
        put(&b, bufs[i].p, bufs[i].len);
    }
    seed("iov", name, &b);
    free(b.p);
}

/* The tokens of one handshake (protocol.md 2: four legs). */
struct hs {
    gss_buffer_desc init, accept, finish, confirm;
    /* with flip_finish: the acceptor's MACed ERROR for a changed FINISH */
    OM_uint32 amajor;
};

/* Runs one handshake through gp11_gss_*, keeping its tokens; with
 * flip_finish the last byte of FINISH is changed, and h->confirm is the
 * acceptor's ERROR. */
static void handshake_ex(gss_name_t target, OM_uint32 flags,
                         gss_channel_bindings_t cb, bool flip_finish,
                         struct hs *h)
{
    gss_ctx_id_t ini = GSS_C_NO_CONTEXT, acc = GSS_C_NO_CONTEXT;
    gss_buffer_desc none = {0, NULL};
    OM_uint32 minor, major;

    memset(h, 0, sizeof(*h));
    major = gp11_gss_init_sec_context(&minor, fz_icred, &ini, target,
                                      GSS_C_NO_OID, flags, 0, cb, &none, NULL,
                                      &h->init, NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("INIT", major, minor);
    h->amajor =
        gp11_gss_accept_sec_context(&minor, &acc, fz_acred, &h->init, cb, NULL,
                                    NULL, &h->accept, NULL, NULL, NULL);
    if (h->amajor == GSS_S_CONTINUE_NEEDED) {
        major = gp11_gss_init_sec_context(
            &minor, fz_icred, &ini, target, GSS_C_NO_OID, flags, 0, cb,
            &h->accept, NULL, &h->finish, NULL, NULL);
        if (major != GSS_S_CONTINUE_NEEDED)
            fz_gss_fail("ACCEPT", major, minor);
        if (flip_finish)
            ((uint8_t *)h->finish.value)[h->finish.length - 1] ^= 1;
        major = gp11_gss_accept_sec_context(&minor, &acc, fz_acred, &h->finish,
                                            cb, NULL, NULL, &h->confirm, NULL,
                                            NULL, NULL);
        if (flip_finish) {
            if (!GSS_ERROR(major) || h->confirm.length == 0)
                die("the acceptor took a changed FINISH");
            ((uint8_t *)h->finish.value)[h->finish.length - 1] ^= 1;
        } else {
            if (major != GSS_S_COMPLETE)
                fz_gss_fail("FINISH", major, minor);
            major = gp11_gss_init_sec_context(
                &minor, fz_icred, &ini, target, GSS_C_NO_OID, flags, 0, cb,
                &h->confirm, NULL, &none, NULL, NULL);
            if (major != GSS_S_COMPLETE)
                fz_gss_fail("CONFIRM", major, minor);
        }
    }
    fz_delete(&ini);
    fz_delete(&acc);
}

static void handshake(gss_name_t target, OM_uint32 flags,
                      gss_channel_bindings_t cb, struct hs *h)
{
    handshake_ex(target, flags, cb, false, h);
}

static void hs_free(struct hs *h)
{
    free(h->init.value);
    free(h->accept.value);
    free(h->finish.value);
    free(h->confirm.value);
}

/* A seed that is one context token's inner bytes' framed form. */
static void token_seed(const char *corpus, const char *name,
                       const gss_buffer_desc *tok)
{
    struct bytes b = {0};

    put(&b, tok->value, tok->length);
    seed(corpus, name, &b);
    free(b.p);
}

/* An acceptor_legs or initiator_legs seed. */
static void legs_seed(const char *corpus, const char *name, unsigned mode,
                      const gss_buffer_desc *first,
                      const gss_buffer_desc *second)
{
    struct bytes b = {0};

    put8(&b, mode);
    if (first != NULL && second != NULL)
        put16s(&b, first->value, first->length);
    else if (first != NULL)
        put(&b, first->value, first->length);
    if (second != NULL)
        put(&b, second->value, second->length);
    seed(corpus, name, &b);
    free(b.p);
}

static void make_token_seeds(void)
{
    static struct gss_channel_bindings_struct cb = {
        0, {0, NULL}, 0, {0, NULL}, {11, (void *)"tls-unique1"}};
    const OM_uint32 base =
        GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG;
    const char *msg = "a message for the fuzzer";
    gss_buffer_desc m = {strlen(msg), (void *)msg}, tok = {0, NULL};
    gss_buffer_desc none = {0, NULL};
    gss_ctx_id_t ini, acc;
    OM_uint32 minor;
    struct hs h;
    const uint8_t edit_seq[] = {0x00, 0x0f, 0x01};
    const uint8_t edit_tag[] = {0x00, 0x14, 0x80};
    const uint8_t edit_msg[] = {0x00, 0x30, 0x20};
    const uint8_t edit_flags[] = {0x00, 0x02, 0x04};
    uint8_t hdr[64], data[64], tag[64];
    gss_iov_buffer_desc iov[4];

    fz_token_setup();
    fz_establish(fz_target_ec, base | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG,
                 &ini, &acc);

    /* permsg: tokens of a real context (raw), and real-token programs. */
    if (gp11_gss_get_mic(&minor, ini, 0, &m, &tok) != GSS_S_COMPLETE)
        die("get_mic");
    permsg_raw("raw-mic", 0x00, 0, msg, &tok);
    permsg_raw("raw-mic-iov", 0x40, 0, msg, &tok);
    free(tok.value);
    if (gp11_gss_get_mic(&minor, acc, 2, &m, &tok) != GSS_S_COMPLETE)
        die("get_mic qop 2");
    permsg_raw("raw-mic-acceptor-hmac384", 0x08, 0, msg, &tok);
    free(tok.value);
    if (gp11_gss_wrap(&minor, ini, 1, 0, &m, NULL, &tok) != GSS_S_COMPLETE)
        die("wrap");
    permsg_raw("raw-wrap-sealed", 0x01, 0, msg, &tok);
    permsg_raw("raw-stream-sealed", 0x02, 0, msg, &tok);
    permsg_raw("raw-split-sealed", 0x03, 1, msg, &tok);
    free(tok.value);
    if (gp11_gss_wrap(&minor, ini, 0, 1, &m, NULL, &tok) != GSS_S_COMPLETE)
        die("wrap qop 1");
    permsg_raw("raw-wrap-hmac256", 0x01, 0, msg, &tok);
    permsg_raw("raw-stream-alloc-hmac256", 0x42, 0, msg, &tok);
    free(tok.value);
    if (gp11_gss_wrap(&minor, ini, 0, 4, &m, NULL, &tok) != GSS_S_COMPLETE)
        die("wrap qop 4");
    permsg_raw("raw-wrap-cmac", 0x21, 0, msg, &tok);
    free(tok.value);
    permsg_real("real-mic", 0x00, 0, 0, msg, NULL, 0);
    permsg_real("real-mic-iov", 0x40, 0, 5, msg, NULL, 0);
    permsg_real("real-mic-hmac512", 0x00, 3, 1, msg, NULL, 0);
    permsg_real("real-mic-edit-message", 0x00, 0, 0, msg, edit_msg,
                sizeof(edit_msg));
    permsg_real("real-wrap-sealed", 0x11, 0, 0, msg, NULL, 0);
    permsg_real("real-wrap-aes128", 0x11, 5, 7, msg, NULL, 0);
    permsg_real("real-wrap-clear", 0x01, 0, 0, msg, NULL, 0);
    permsg_real("real-wrap-cmac", 0x01, 4, 0, msg, NULL, 0);
    permsg_real("real-wrap-acceptor", 0x19, 0, 3, msg, NULL, 0);
    permsg_real("real-wrap-replayed", 0x31, 0, 9, msg, NULL, 0);
    permsg_real("real-wrap-no-window", 0x91, 0, 9, msg, NULL, 0);
    permsg_real("real-wrap-last-seq", 0x11, 0, UINT64_MAX - 1, msg, NULL, 0);
    permsg_real("real-wrap-seq-exhausted", 0x11, 0, UINT64_MAX, msg, NULL, 0);
    permsg_real("real-wrap-edit-seq", 0x11, 0, 0, msg, edit_seq,
                sizeof(edit_seq));
    permsg_real("real-wrap-edit-tag", 0x11, 0, 0, msg, edit_tag,
                sizeof(edit_tag));
    permsg_real("real-wrap-edit-flags", 0x01, 0, 0, msg, edit_flags,
                sizeof(edit_flags));
    permsg_real("real-stream-alloc", 0x52, 0, 0, msg, NULL, 0);
    permsg_real("real-split-sealed", 0x13, 0, 0, msg, NULL, 0);
    permsg_real("real-split-hmac384", 0x03, 2, 0, msg, NULL, 0);

    /* iov: the layouts callers use (MIT's gss_wrap_aead, SASL's stream,
     * buffers the caller sized), and a real wrap_iov token laid out. */
    iov_seed("wrap-aead-layout", 0x16, 0,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_HEADER, 1, NULL, 0},
                             {GSS_IOV_BUFFER_TYPE_SIGN_ONLY, 0, "assoc", 5},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, "payload", 7},
                             {GSS_IOV_BUFFER_TYPE_PADDING, 1, NULL, 0},
                             {GSS_IOV_BUFFER_TYPE_TRAILER, 1, NULL, 0}},
             5);
    iov_seed("wrap-aead-unsealed", 0x06, 0,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_HEADER, 1, NULL, 0},
                             {GSS_IOV_BUFFER_TYPE_SIGN_ONLY, 0, "assoc", 5},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, "payload", 7},
                             {GSS_IOV_BUFFER_TYPE_TRAILER, 1, NULL, 0}},
             4);
    iov_seed("wrap-stream-receive", 0x36, 0,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_HEADER, 1, NULL, 0},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, "sasl frame", 10},
                             {GSS_IOV_BUFFER_TYPE_TRAILER, 1, NULL, 0}},
             3);
    iov_seed("wrap-tag-in-header", 0x16, 5,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_HEADER, 0, NULL, 32},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, "two", 3},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, " pieces", 7}},
             3);
    iov_seed("wrap-hmac-caller-sized", 0x06, 1,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_HEADER, 0, NULL, 16},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, "payload", 7},
                             {GSS_IOV_BUFFER_TYPE_EMPTY, 0, NULL, 0},
                             {GSS_IOV_BUFFER_TYPE_TRAILER, 0, NULL, 32}},
             4);
    iov_seed("wrap-length", 0x11, 0,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_HEADER, 0, NULL, 0},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, "payload", 7},
                             {GSS_IOV_BUFFER_TYPE_PADDING, 0, NULL, 0},
                             {GSS_IOV_BUFFER_TYPE_TRAILER, 0, NULL, 0}},
             4);
    iov_seed("mic-iov", 0x07, 0,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_SIGN_ONLY, 0, "hdr", 3},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, "payload", 7},
                             {GSS_IOV_BUFFER_TYPE_MIC_TOKEN, 1, NULL, 0}},
             3);
    iov_seed("mic-iov-length", 0x03, 3,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_DATA, 0, "payload", 7},
                             {GSS_IOV_BUFFER_TYPE_MIC_TOKEN, 0, NULL, 0}},
             2);
    iov_seed("wrap-iov-acceptor", 0x08, 2,
             (struct sbuf[]){{GSS_IOV_BUFFER_TYPE_HEADER, 1, NULL, 0},
                             {GSS_IOV_BUFFER_TYPE_DATA, 0, "payload", 7},
                             {GSS_IOV_BUFFER_TYPE_TRAILER, 1, NULL, 0}},
             3);
    memset(hdr, 0, sizeof(hdr));
    memcpy(data, "payload", 7);
    iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
    iov[0].buffer = (gss_buffer_desc){sizeof(hdr), hdr};
    iov[1].type = GSS_IOV_BUFFER_TYPE_SIGN_ONLY;
    iov[1].buffer = (gss_buffer_desc){5, "assoc"};
    iov[2].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[2].buffer = (gss_buffer_desc){7, data};
    iov[3].type = GSS_IOV_BUFFER_TYPE_TRAILER;
    iov[3].buffer = (gss_buffer_desc){sizeof(tag), tag};
    if (gp11_gss_wrap_iov(&minor, ini, 1, 0, NULL, iov, 4) != GSS_S_COMPLETE)
        die("wrap_iov");
    iov_seed("unwrap-real-layout", 0x04, 0,
             (struct sbuf[]){
                 {GSS_IOV_BUFFER_TYPE_HEADER, 0, hdr, iov[0].buffer.length},
                 {GSS_IOV_BUFFER_TYPE_SIGN_ONLY, 0, "assoc", 5},
                 {GSS_IOV_BUFFER_TYPE_DATA, 0, data, 7},
                 {GSS_IOV_BUFFER_TYPE_TRAILER, 0, tag, iov[3].buffer.length}},
             4);
    if (gp11_gss_get_mic(&minor, ini, 0, &m, &tok) != GSS_S_COMPLETE)
        die("get_mic");
    iov_seed("verify-mic-real", 0x05, 0,
             (struct sbuf[]){
                 {GSS_IOV_BUFFER_TYPE_DATA, 0, msg, strlen(msg)},
                 {GSS_IOV_BUFFER_TYPE_MIC_TOKEN, 0, tok.value, tok.length}},
             2);
    free(tok.value);
    fz_delete(&ini);
    fz_delete(&acc);

    /* Handshake legs: real tokens (raw) and real-token programs; the
     * decoder targets get the same real tokens. */
    handshake(fz_target_ec, base, GSS_C_NO_CHANNEL_BINDINGS, &h);
    legs_seed("acceptor_legs", "raw-p256", 0x00, &h.init, &h.finish);
    legs_seed("initiator_legs", "raw-p256", 0x00, &h.accept, &h.confirm);
    token_seed("hs_init", "v2-p256", &h.init);
    token_seed("hs_accept", "v2-p256", &h.accept);
    token_seed("hs_finish", "v2-ecdsa", &h.finish);
    token_seed("hs_confirm", "confirm", &h.confirm);
    hs_free(&h);
    handshake(fz_target_rsa, base | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG,
              GSS_C_NO_CHANNEL_BINDINGS, &h);
    legs_seed("acceptor_legs", "raw-rsa-replay", 0x14, &h.init, &h.finish);
    legs_seed("initiator_legs", "raw-rsa-replay", 0x14, &h.accept, &h.confirm);
    token_seed("hs_accept", "v2-rsa", &h.accept);
    hs_free(&h);
    handshake(fz_target_ec, base, &cb, &h);
    legs_seed("acceptor_legs", "raw-bindings", 0x60, &h.init, &h.finish);
    legs_seed("initiator_legs", "raw-bindings", 0x60, &h.accept, &h.confirm);
    hs_free(&h);
    handshake(fz_target_ec, base | GSS_C_ANON_FLAG, GSS_C_NO_CHANNEL_BINDINGS,
              &h);
    legs_seed("acceptor_legs", "raw-anonymous-refused", 0x08, &h.init, &none);
    legs_seed("initiator_legs", "raw-error-token", 0x08, &h.accept, &none);
    token_seed("hs_confirm", "error-unauthenticated", &h.accept);
    hs_free(&h);
    handshake_ex(fz_target_ec, base, GSS_C_NO_CHANNEL_BINDINGS, true, &h);
    legs_seed("initiator_legs", "raw-error-after-finish", 0x00, &h.accept,
              &h.confirm);
    token_seed("hs_confirm", "error-maced", &h.confirm);
    hs_free(&h);
    {
        const gss_buffer_desc no_edits = {0, NULL};
        const uint8_t one[] = {0x00, 0x28, 0x01};
        const gss_buffer_desc init_edit = {sizeof(one), (void *)one};
        const uint8_t conf[] = {0x00, 0x30, 0x01};
        const gss_buffer_desc confirm_edit = {sizeof(conf), (void *)conf};

        legs_seed("acceptor_legs", "real", 0x01, &no_edits, &no_edits);
        legs_seed("acceptor_legs", "real-rsa", 0x11, &no_edits, &no_edits);
        legs_seed("acceptor_legs", "real-replay-no-cred", 0x07, &no_edits,
                  &no_edits);
        legs_seed("acceptor_legs", "real-anonymous", 0x09, &no_edits,
                  &no_edits);
        legs_seed("acceptor_legs", "real-bindings", 0x61, &no_edits, &no_edits);
        legs_seed("acceptor_legs", "real-bindings-differ", 0xe1, &no_edits,
                  &no_edits);
        legs_seed("acceptor_legs", "real-no-flags", 0x0d, &no_edits, &no_edits);
        legs_seed("acceptor_legs", "real-init-edited", 0x01, &init_edit,
                  &no_edits);
        legs_seed("acceptor_legs", "real-finish-edited", 0x01, &no_edits,
                  &init_edit);
        legs_seed("initiator_legs", "real", 0x01, &no_edits, &no_edits);
        legs_seed("initiator_legs", "real-rsa-no-cred", 0x13, &no_edits,
                  &no_edits);
        legs_seed("initiator_legs", "real-anonymous", 0x09, &no_edits,
                  &no_edits);
        legs_seed("initiator_legs", "real-bindings-initiator-only", 0x21,
                  &no_edits, &no_edits);
        legs_seed("initiator_legs", "real-accept-edited", 0x01, &init_edit,
                  &no_edits);
        legs_seed("initiator_legs", "real-confirm-edited", 0x01, &no_edits,
                  &confirm_edit);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 ||
        (strcmp(argv[1], "certs") != 0 && strcmp(argv[1], "token") != 0)) {
        fprintf(stderr, "usage: mkseeds certs|token tests/fuzz\n");
        return 2;
    }
    out_dir = argv[2];
    if (strcmp(argv[1], "certs") == 0)
        make_certs();
    else
        make_token_seeds();
    return 0;
}
