/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a peer's certificate list as ACCEPT and FINISH carry
 * it (protocol.md 2.2/2.3: u8 n_certs, then opaque16 DER certificates),
 * validated by gp11_certval_verify against a fixed trust store (the test
 * CA in tests/fuzz/data/anchors.pem, made by mkseeds), then what the
 * handshake does with a leaf that verified: its sigalg, the handshake
 * signature over a fixed transcript hash, and the peer name.
 *
 * Input: u8 flags (bit 0: the peer is the initiator; bits 1-2: the host
 * the initiator asked for: none, "localhost", "host.example.org",
 * "other.example.org"; bits 3-4: the time: the reference time, ten years
 * before, two hundred years after, or one second past the leaf's
 * notAfter; bit 5: check the leaf as our own certificate too), u8 sigalg,
 * the certificate list, then the signature (the rest). A list that does
 * not parse is taken as one DER certificate (the whole rest).
 *
 * The reference time is two days after the CA's notBefore, so that the
 * corpus keeps its meaning for as long as the CA is valid (100 years).
 */
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "fuzz_input.h"
#include "gp11_certval.h"
#include "gp11_error.h"
#include "gp11_names.h"

#ifndef GP11_FUZZ_DATA
#error "GP11_FUZZ_DATA must name tests/fuzz/data"
#endif

/* The label of the acceptor's handshake signature (protocol.md 2.2). */
#define LABEL_ACCEPTOR "gss-pkcs11 v1 acceptor"
#define LABEL_INITIATOR "gss-pkcs11 v1 initiator"

static struct gp11_trust *trust;
static time_t ref_now;
static uint8_t th[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = GP11_FUZZ_DATA "/anchors.pem";
    struct tm tm;
    uint32_t ret;
    X509 *ca;
    FILE *fp;

    (void)argc;
    (void)argv;
    ret = gp11_trust_load(path, &trust);
    if (ret != GP11_OK)
        FZ_FAIL("cannot load %s: %s", path, gp11_err_message(ret));
    fp = fopen(path, "re");
    ca = fp != NULL ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
    if (fp != NULL)
        fclose(fp);
    if (ca == NULL || ASN1_TIME_to_tm(X509_get0_notBefore(ca), &tm) != 1)
        FZ_FAIL("cannot read the notBefore of %s", path);
    ref_now = timegm(&tm) + 2 * 86400;
    X509_free(ca);
    /* The transcript hash the seeds' signatures cover (mkseeds.c). */
    SHA256((const unsigned char *)"gss-pkcs11 fuzz transcript", 26, th);
    return 0;
}

/* Parses u8 n_certs and opaque16 certificates; false if they do not. */
static bool cert_list(struct fz_in *in, struct gp11_buf *certs, size_t *n)
{
    struct fz_in save = *in;
    size_t count = fz_u8(in), len;

    if (count == 0 || count > GP11_CERTVAL_MAX_CHAIN + 1)
        goto bad;
    for (size_t i = 0; i < count; i++) {
        if (in->left < 2)
            goto bad;
        len = fz_u16(in);
        if (len == 0 || len > in->left)
            goto bad;
        certs[i].data = fz_bytes(in, len, &certs[i].len);
    }
    *n = count;
    return true;
bad:
    *in = save;
    return false;
}

/* What the handshake does with a leaf that verified. */
static void use_leaf(X509 *leaf, bool initiator, const char *host,
                     uint8_t sigalg, const uint8_t *sig, size_t sig_len)
{
    static const char *const services[] = {NULL, "host", "HTTP"};
    const char *label = initiator ? LABEL_INITIATOR : LABEL_ACCEPTOR;
    struct gp11_name *name = NULL;
    uint8_t have = gp11_cert_sigalg(leaf);

    if (sigalg == 0xff)
        sigalg = have;
    (void)gp11_sig_verify(leaf, sigalg, (const uint8_t *)label,
                          strlen(label) + 1, th, sizeof(th), sig, sig_len);
    for (size_t i = 0; i < 3; i++) {
        if (gp11_name_from_cert(leaf, !initiator, services[i], host, &name) ==
            GP11_OK) {
            if (gp11_name_text(name) == NULL)
                FZ_FAIL("a peer name without text");
            gp11_name_free(name);
            name = NULL;
        }
        if (initiator)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hosts[] = {NULL, "localhost", "host.example.org",
                                        "other.example.org"};
    struct gp11_buf certs[GP11_CERTVAL_MAX_CHAIN + 1];
    struct fz_in in = {data, size};
    uint8_t flags = fz_u8(&in), sigalg = fz_u8(&in);
    bool initiator = flags & 1;
    const char *host = hosts[(flags >> 1) & 3];
    enum gp11_peer_role role =
        initiator ? GP11_PEER_INITIATOR : GP11_PEER_ACCEPTOR;
    time_t now = ref_now, not_after = 0, own_after;
    const uint8_t *sig = NULL;
    size_t n = 0, sig_len = 0;
    X509 *leaf = NULL;
    uint8_t own_alg;
    uint32_t ret;

    switch ((flags >> 3) & 3) {
    case 1:
        now -= 10L * 365 * 86400;
        break;
    case 2:
        now += 200L * 365 * 86400;
        break;
    default:
        break;
    }
    if (cert_list(&in, certs, &n)) {
        sig = fz_rest(&in, &sig_len);
    } else {
        certs[0].data = fz_rest(&in, &certs[0].len);
        n = 1;
    }
    if (((flags >> 3) & 3) == 3 &&
        gp11_cert_check_own(certs[0].data, certs[0].len, ref_now, &own_after,
                            &own_alg) == GP11_OK)
        now = own_after + 1;
    if (flags & 0x20)
        (void)gp11_cert_check_own(certs[0].data, certs[0].len, now, &own_after,
                                  &own_alg);
    ret = gp11_certval_verify(trust, certs, n, role, initiator ? NULL : host,
                              now, &leaf, &not_after);
    if (ret == GP11_OK) {
        if (leaf == NULL || not_after < now)
            FZ_FAIL("a chain verified at %lld that ends at %lld",
                    (long long)now, (long long)not_after);
        use_leaf(leaf, initiator, host, sigalg, sig, sig_len);
        X509_free(leaf);
    } else if (leaf != NULL) {
        FZ_FAIL("a refused chain returned its leaf");
    }
    gp11_err_clear();
    return 0;
}
