/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: certificate lists and CRLs together (protocol.md
 * 2.11), through gp11_certval_verify with a CRL set attached to the
 * anchors (core/certval.c, core/revocation.c).
 *
 * The PKI is made at start-up (a root, an intermediate, a leaf; fresh
 * keys each process), because a CRL the fuzzer writes can never carry a
 * valid signature: the input therefore describes CRLs that the target
 * signs, and adds raw bytes parsed as one more CRL file.
 *
 * Input: u8 flags (bit 0: the peer is the initiator; bit 1: crl-policy
 * if-present, else require; bit 2: send the intermediate; bit 3: a root
 * CRL; bit 4: an intermediate CRL; bit 5: CRLs in DER, else PEM; bit 6:
 * the root CRL signed by a stranger's key; bit 7: the certificate list is
 * raw input, u8 n then opaque16 DER, instead of the made chain), s8
 * thisUpdate and s8 nextUpdate of the root CRL in days from now, the same
 * for the intermediate CRL, u8 revocations (bit 0: the leaf on the
 * intermediate CRL; bit 1: the intermediate on the root CRL; bit 2: a
 * serial from the next 8 bytes on both), u64 that serial, opaque16 bytes
 * of one more CRL file (PEM or DER), then the raw certificate list.
 *
 * Invariant: a chain made here that verifies is not listed by any CRL
 * that was included, signed by its issuer and already in force.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fuzz_input.h"
#include "gp11_certval.h"
#include "gp11_error.h"
#include "gp11_revocation.h"

#define DAY 86400L

struct ca {
    EVP_PKEY *key;
    X509 *x;
    uint8_t *der;
    size_t len;
};

static struct ca root, inter, leaf, stranger;
static struct gp11_trust *trust;

/* Adds one v3 extension in openssl.cnf syntax or fails. */
static void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *e;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (e == NULL || X509_add_ext(x, e, -1) != 1)
        FZ_FAIL("cannot add extension %d", nid);
    X509_EXTENSION_free(e);
}

/* Makes a certificate for a new P-256 key (issuer NULL: self-signed). */
static void make(struct ca *c, const char *cn, struct ca *issuer, bool is_ca,
                 long serial)
{
    X509_NAME *name = X509_NAME_new();
    unsigned char *p = NULL;
    int n;

    c->key = EVP_EC_gen("P-256");
    c->x = X509_new();
    if (c->key == NULL || c->x == NULL || name == NULL ||
        X509_set_version(c->x, X509_VERSION_3) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(c->x), serial) != 1 ||
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1 ||
        X509_set_subject_name(c->x, name) != 1 ||
        X509_set_issuer_name(c->x, issuer ? X509_get_subject_name(issuer->x)
                                          : name) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(c->x), -30 * DAY) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(c->x), 3650 * DAY) == NULL ||
        X509_set_pubkey(c->x, c->key) != 1)
        FZ_FAIL("cannot make %s", cn);
    X509_NAME_free(name);
    ext(c->x, issuer ? issuer->x : c->x, NID_basic_constraints,
        is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    ext(c->x, issuer ? issuer->x : c->x, NID_key_usage,
        is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    ext(c->x, issuer ? issuer->x : c->x, NID_subject_key_identifier, "hash");
    ext(c->x, issuer ? issuer->x : c->x, NID_authority_key_identifier,
        "keyid:always");
    if (!is_ca) {
        ext(c->x, issuer->x, NID_ext_key_usage, "serverAuth,clientAuth");
        ext(c->x, issuer->x, NID_subject_alt_name, "DNS:localhost");
    }
    if (X509_sign(c->x, issuer ? issuer->key : c->key, EVP_sha256()) <= 0)
        FZ_FAIL("cannot sign %s", cn);
    n = i2d_X509(c->x, &p);
    if (n <= 0)
        FZ_FAIL("cannot encode %s", cn);
    c->der = p;
    c->len = (size_t)n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[] = "/tmp/fuzz_revocation-XXXXXX";
    uint32_t ret;
    FILE *fp;
    int fd;

    (void)argc;
    (void)argv;
    make(&root, "fuzz revocation root", NULL, true, 1);
    make(&stranger, "fuzz revocation root", NULL, true, 1);
    make(&inter, "fuzz revocation intermediate", &root, true, 2);
    make(&leaf, "localhost", &inter, false, 3);
    fd = mkstemp(path);
    fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fp == NULL || PEM_write_X509(fp, root.x) != 1)
        FZ_FAIL("cannot write the anchors to %s", path);
    fclose(fp);
    ret = gp11_trust_load(path, &trust);
    unlink(path);
    if (ret != GP11_OK)
        FZ_FAIL("cannot load the anchors: %s", gp11_err_message(ret));
    return 0;
}

/* Signs a CRL of issuer (with key) and adds it to c in PEM or DER. */
static void add_made_crl(struct gp11_crls *c, const struct ca *issuer,
                         EVP_PKEY *key, int this_days, int next_days,
                         const ASN1_INTEGER *rev1, const ASN1_INTEGER *rev2,
                         bool der)
{
    const ASN1_INTEGER *revs[2] = {rev1, rev2};
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_TIME *when = NULL; /* revocation date: the CRL's thisUpdate */
    unsigned char *out = NULL;
    BIO *bio = NULL;
    char *pem;
    long n = 0;

    if (crl == NULL || t == NULL || X509_CRL_set_version(crl, 1) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->x)) != 1 ||
        X509_gmtime_adj(t, this_days * DAY) == NULL ||
        X509_CRL_set1_lastUpdate(crl, t) != 1 ||
        (when = ASN1_TIME_dup(t)) == NULL ||
        X509_gmtime_adj(t, next_days * DAY) == NULL ||
        X509_CRL_set1_nextUpdate(crl, t) != 1)
        FZ_FAIL("cannot make a CRL");
    for (int i = 0; i < 2; i++) {
        X509_REVOKED *r;

        if (revs[i] == NULL)
            continue;
        r = X509_REVOKED_new();
        if (r == NULL ||
            X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)revs[i]) != 1 ||
            X509_REVOKED_set_revocationDate(r, when) != 1 ||
            X509_CRL_add0_revoked(crl, r) != 1)
            FZ_FAIL("cannot revoke");
    }
    if (X509_CRL_sort(crl) != 1 || X509_CRL_sign(crl, key, EVP_sha256()) <= 0)
        FZ_FAIL("cannot sign a CRL");
    if (der) {
        n = i2d_X509_CRL(crl, &out);
        if (n <= 0)
            FZ_FAIL("cannot encode a CRL");
        (void)gp11_crls_add_mem(c, out, (size_t)n, "made.der");
        OPENSSL_free(out);
    } else {
        bio = BIO_new(BIO_s_mem());
        if (bio == NULL || PEM_write_bio_X509_CRL(bio, crl) != 1)
            FZ_FAIL("cannot write a CRL");
        n = BIO_get_mem_data(bio, &pem);
        (void)gp11_crls_add_mem(c, (const uint8_t *)pem, (size_t)n, "made.pem");
        BIO_free(bio);
    }
    ASN1_TIME_free(t);
    ASN1_TIME_free(when);
    X509_CRL_free(crl);
}

/* Parses u8 n_certs and opaque16 certificates; false if they do not. */
static bool cert_list(struct fz_in *in, struct gp11_buf *certs, size_t *n)
{
    size_t count = fz_u8(in), len;

    if (count == 0 || count > GP11_CERTVAL_MAX_CHAIN)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (in->left < 2)
            return false;
        len = fz_u16(in);
        if (len == 0 || len > in->left)
            return false;
        certs[i].data = fz_bytes(in, len, &certs[i].len);
    }
    *n = count;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gp11_buf certs[GP11_CERTVAL_MAX_CHAIN];
    struct fz_in in = {data, size};
    uint8_t flags = fz_u8(&in);
    int r_this = (int8_t)fz_u8(&in), r_next = (int8_t)fz_u8(&in);
    int i_this = (int8_t)fz_u8(&in), i_next = (int8_t)fz_u8(&in);
    uint8_t revs = fz_u8(&in);
    uint64_t extra_serial = fz_u64(&in);
    const uint8_t *raw;
    size_t raw_len = 0, n = 0;
    ASN1_INTEGER *extra = ASN1_INTEGER_new();
    struct gp11_crls *c = NULL;
    enum gp11_peer_role role =
        (flags & 1) ? GP11_PEER_INITIATOR : GP11_PEER_ACCEPTOR;
    bool made_chain = (flags & 0x80) == 0;
    bool leaf_listed, inter_listed;
    X509 *got = NULL;
    uint32_t ret;

    raw = fz_piece16(&in, &raw_len);
    if (extra == NULL || ASN1_INTEGER_set_uint64(extra, extra_serial) != 1)
        FZ_FAIL("cannot hold a serial");
    if (gp11_crls_new((flags & 2) ? GP11_CRL_IF_PRESENT : GP11_CRL_REQUIRE,
                      &c) != GP11_OK)
        FZ_FAIL("cannot make a CRL set");
    if (flags & 0x08)
        add_made_crl(c, &root, (flags & 0x40) ? stranger.key : root.key, r_this,
                     r_next,
                     (revs & 2) ? X509_get0_serialNumber(inter.x) : NULL,
                     (revs & 4) ? extra : NULL, flags & 0x20);
    if (flags & 0x10)
        add_made_crl(c, &inter, inter.key, i_this, i_next,
                     (revs & 1) ? X509_get0_serialNumber(leaf.x) : NULL,
                     (revs & 4) ? extra : NULL, flags & 0x20);
    if (raw_len > 0)
        (void)gp11_crls_add_mem(c, raw, raw_len, "input");
    if (made_chain) {
        certs[0] = (struct gp11_buf){leaf.der, leaf.len};
        certs[1] = (struct gp11_buf){inter.der, inter.len};
        n = (flags & 4) ? 2 : 1;
    } else if (!cert_list(&in, certs, &n)) {
        goto done;
    }
    gp11_trust_set_crls(trust, c);
    ret = gp11_certval_verify(trust, certs, n, role, NULL, time(NULL), &got,
                              NULL);
    gp11_trust_set_crls(trust, NULL);
    leaf_listed = (flags & 0x10) && (revs & 1) && i_this <= 0;
    inter_listed =
        (flags & 0x08) && !(flags & 0x40) && (revs & 2) && r_this <= 0;
    if (ret == GP11_OK && made_chain && (leaf_listed || inter_listed))
        FZ_FAIL("a chain verified although its %s is on a CRL in force",
                leaf_listed ? "leaf" : "intermediate");
    if (ret == GP11_OK && made_chain && !(flags & 2) &&
        (!(flags & 0x10) || i_next < 0 || i_this > 0))
        FZ_FAIL("crl-policy require accepted a leaf without a current CRL");
    if ((ret == GP11_OK) != (got != NULL))
        FZ_FAIL("the leaf is returned exactly when the chain verifies");
    X509_free(got);
done:
    gp11_crls_free(c);
    ASN1_INTEGER_free(extra);
    gp11_err_clear();
    return 0;
}
