/* SPDX-License-Identifier: Apache-2.0 */
/* Context-establishment tokens: framing, INIT, ACCEPT, FINISH, CONFIRM,
 * ERROR. */
#include "gp11_hs_msg.h"
#include "gp11_error.h"
#include "gp11_mech_oid.h"

#include <stdbool.h>
#include <string.h>

/* RFC 2743 section 3.1: [APPLICATION 0] constructed, then an OID. */
#define TAG_APP0 0x60
#define TAG_OID 0x06
/* Framed tokens are limited to 4 GiB: at most 4 DER length bytes. */
#define DER_MAX_LEN_BYTES 4

size_t gp11_point_len(uint8_t group)
{
    switch (group) {
    case GP11_GROUP_P256:
        return 65;
    case GP11_GROUP_P384:
        return 97;
    default:
        return 0;
    }
}

static bool profile_known(uint8_t profile)
{
    return profile == GP11_PROFILE_KDF_240 ||
           profile == GP11_PROFILE_KDF_30_HKDF;
}

/* A signature algorithm other than GP11_SIGALG_NONE. */
static bool sigalg_known(uint8_t sigalg)
{
    return sigalg >= GP11_SIGALG_ECDSA_P256_SHA256 &&
           sigalg <= GP11_SIGALG_RSA_PSS_SHA256;
}

/* An uncompressed point of a known group. */
static bool point_ok(uint8_t group, const struct gp11_buf *p)
{
    size_t len = gp11_point_len(group);

    return len != 0 && p->len == len && p->data != NULL && p->data[0] == 0x04;
}

/* A view that can be written with a prefix able to count max bytes. */
static bool buf_ok(const struct gp11_buf *b, size_t max)
{
    return b->len <= max && (b->data != NULL || b->len == 0);
}

static uint32_t no_mech_oid(void)
{
    return gp11_err_set(GP11_ERR_INTERNAL,
                        "the mechanism OID configured at build time is not "
                        "a valid dotted OID");
}

/* Reads a DER definite length: short form, or minimal long form. */
static size_t rd_der_len(struct gp11_rbuf *r, const char *field)
{
    size_t start = r->off;
    size_t n, i, v = 0;
    uint8_t first;

    first = gp11_rd_u8(r, field);
    if (first < 0x80)
        return first;
    n = first & 0x7f;
    gp11_rd_check(r, n != 0, field, "uses the indefinite form");
    gp11_rd_check(r, n <= DER_MAX_LEN_BYTES, field,
                  "has more than 4 length bytes");
    if (!gp11_rd_ok(r))
        return 0;
    for (i = 0; i < n; i++)
        v = v << 8 | gp11_rd_u8(r, field);
    if (gp11_rd_ok(r))
        r->field_off = start;
    gp11_rd_check(r, v >= 0x80 && (v >> (8 * (n - 1))) != 0, field,
                  "is not in minimal DER form");
    return gp11_rd_ok(r) ? v : 0;
}

/* Bytes taken by the DER encoding of length n. */
static size_t der_len_size(size_t n)
{
    size_t k = 1;

    if (n < 0x80)
        return 1;
    while (n > 0xff) {
        n >>= 8;
        k++;
    }
    return 1 + k;
}

/* Writes the minimal DER encoding of length n. */
static void wr_der_len(struct gp11_wbuf *w, size_t n)
{
    size_t k = der_len_size(n) - 1;

    if (n < 0x80) {
        gp11_wr_u8(w, (uint8_t)n);
        return;
    }
    gp11_wr_u8(w, (uint8_t)(0x80 | k));
    while (k > 0) {
        k--;
        gp11_wr_u8(w, (uint8_t)(n >> (8 * k)));
    }
}

uint32_t gp11_hs_unframe(const void *token, size_t len, struct gp11_buf *inner)
{
    const struct gp11_buf *mech = gp11_mech_oid_der();
    struct gp11_rbuf r;
    struct gp11_buf oid;
    size_t outer, oid_len, oid_off;
    uint8_t tag;
    uint32_t ret;

    if (inner == NULL || (token == NULL && len != 0))
        return gp11_err_set(GP11_ERR_BAD_ARG, "no context token to unframe");
    inner->data = NULL;
    inner->len = 0;
    if (mech == NULL)
        return no_mech_oid();

    gp11_rd_init(&r, token, len);
    tag = gp11_rd_u8(&r, "outer tag");
    gp11_rd_check(&r, tag == TAG_APP0, "outer tag",
                  "is not [APPLICATION 0] (0x60)");
    outer = rd_der_len(&r, "outer length");
    gp11_rd_check(&r, outer == gp11_rd_left(&r), "outer length",
                  "does not match the bytes that follow");
    tag = gp11_rd_u8(&r, "OID tag");
    gp11_rd_check(&r, tag == TAG_OID, "OID tag",
                  "is not OBJECT IDENTIFIER (0x06)");
    oid_len = rd_der_len(&r, "OID length");
    oid = gp11_rd_view(&r, oid_len, "mechanism OID");
    oid_off = r.field_off;
    gp11_rd_check(&r, oid.len > 0 && (oid.data[oid.len - 1] & 0x80) == 0,
                  "mechanism OID", "is not a valid OID encoding");
    *inner = gp11_rd_view(&r, gp11_rd_left(&r), "inner token");
    ret =
        gp11_rd_status(&r, GP11_ERR_TOKEN_MALFORMED, "malformed context token");
    if (ret != GP11_OK)
        goto done;

    if (oid.len != mech->len || memcmp(oid.data, mech->data, oid.len) != 0)
        ret = gp11_err_set(GP11_ERR_TOKEN_WRONG_MECH,
                           "the context token carries another mechanism's "
                           "OID (%zu bytes at offset %zu)",
                           oid.len, oid_off);
done:
    if (ret != GP11_OK) {
        inner->data = NULL;
        inner->len = 0;
    }
    return ret;
}

uint32_t gp11_hs_frame_bytes(const struct gp11_buf *inner, uint8_t **out,
                             size_t *out_len)
{
    const struct gp11_buf *mech = gp11_mech_oid_der();
    struct gp11_wbuf w;
    size_t body;
    uint32_t ret;

    gp11_wr_init(&w);
    if (out == NULL || out_len == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no buffer for the token");
    *out = NULL;
    *out_len = 0;
    if (inner == NULL || !buf_ok(inner, SIZE_MAX))
        return gp11_err_set(GP11_ERR_BAD_ARG, "no inner token to frame");
    if (mech == NULL)
        return no_mech_oid();

    body = 1 + der_len_size(mech->len) + mech->len;
    if (inner->len > UINT32_MAX - body) {
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "an inner token of %zu bytes is too long to frame",
                           inner->len);
        goto done;
    }
    body += inner->len;
    gp11_wr_u8(&w, TAG_APP0);
    wr_der_len(&w, body);
    gp11_wr_u8(&w, TAG_OID);
    wr_der_len(&w, mech->len);
    gp11_wr_bytes(&w, mech->data, mech->len);
    gp11_wr_bytes(&w, inner->data, inner->len);
    ret = gp11_wr_status(&w, "a context token");
    if (ret != GP11_OK)
        goto done;
    *out = w.data;
    *out_len = w.len;
    gp11_wr_init(&w);
done:
    gp11_wr_free(&w);
    return ret;
}

uint16_t gp11_hs_tok_id(const struct gp11_buf *inner)
{
    if (inner == NULL || inner->data == NULL || inner->len < 2)
        return 0;
    return (uint16_t)(inner->data[0] << 8 | inner->data[1]);
}

/* Name of a context token for messages, from its TOK_ID. */
static const char *tok_name(uint16_t id)
{
    switch (id) {
    case GP11_TOK_INIT:
        return "INIT";
    case GP11_TOK_ACCEPT:
        return "ACCEPT";
    case GP11_TOK_FINISH:
        return "FINISH";
    case GP11_TOK_CONFIRM:
        return "CONFIRM";
    case GP11_TOK_ERROR:
        return "ERROR";
    default:
        return NULL;
    }
}

/*
 * Clears *m, starts reading inner and reads its TOK_ID, which must be want.
 * what is the sentence prefix of structural errors.
 */
static uint32_t rd_start(struct gp11_rbuf *r, const struct gp11_buf *inner,
                         uint16_t want, const char *what, void *m, size_t size)
{
    const char *got_name;
    uint16_t id;

    if (m == NULL || inner == NULL || !buf_ok(inner, SIZE_MAX))
        return gp11_err_set(GP11_ERR_BAD_ARG, "no %s token to decode",
                            tok_name(want));
    memset(m, 0, size);
    gp11_rd_init(r, inner->data, inner->len);
    id = gp11_rd_u16(r, "TOK_ID");
    if (!gp11_rd_ok(r))
        return gp11_rd_status(r, GP11_ERR_TOKEN_MALFORMED, what);
    if (id == want)
        return GP11_OK;
    got_name = tok_name(id);
    if (got_name != NULL)
        return gp11_err_set(GP11_ERR_TOKEN_UNEXPECTED,
                            "TOK_ID is %s where %s was expected", got_name,
                            tok_name(want));
    return gp11_err_set(GP11_ERR_TOKEN_UNEXPECTED,
                        "TOK_ID is unknown where %s was expected",
                        tok_name(want));
}

/* Checks for trailing bytes; on any failure clears *m and says why. */
static uint32_t rd_done(struct gp11_rbuf *r, const char *what, void *m,
                        size_t size)
{
    gp11_rd_end(r);
    if (gp11_rd_ok(r))
        return GP11_OK;
    memset(m, 0, size);
    return gp11_rd_status(r, GP11_ERR_TOKEN_MALFORMED, what);
}

/* Reads an opaque8 list of 1..GP11_HS_MAX_LIST one-byte values. */
static void rd_list(struct gp11_rbuf *r, uint8_t *out, size_t *n,
                    const char *field)
{
    struct gp11_buf b = gp11_rd_opaque8(r, field);

    gp11_rd_check(r, b.len >= 1 && b.len <= GP11_HS_MAX_LIST, field,
                  "must hold 1 to 16 entries");
    if (!gp11_rd_ok(r))
        return;
    memcpy(out, b.data, b.len);
    *n = b.len;
}

/* Reads an opaque16 uncompressed point of group (already checked known). */
static struct gp11_buf rd_point(struct gp11_rbuf *r, uint8_t group,
                                const char *field)
{
    struct gp11_buf p = gp11_rd_opaque16(r, field);

    gp11_rd_check(r, p.len == gp11_point_len(group), field,
                  "does not have the point length of the group");
    gp11_rd_check(r, p.len > 0 && p.data[0] == 0x04, field,
                  "is not an uncompressed point");
    return p;
}

/* Reads n (at most GP11_HS_MAX_CERTS) non-empty opaque16 certificates. */
static void rd_certs(struct gp11_rbuf *r, size_t n, struct gp11_buf *certs)
{
    for (size_t i = 0; i < n && i < GP11_HS_MAX_CERTS && gp11_rd_ok(r); i++) {
        certs[i] = gp11_rd_opaque16(r, "cert");
        gp11_rd_check(r, certs[i].len > 0, "cert", "is empty");
    }
}

uint32_t gp11_hs_decode_init(const struct gp11_buf *inner,
                             struct gp11_hs_init *m)
{
    const char *what = "malformed INIT token";
    struct gp11_rbuf r;
    uint32_t ret;

    ret = rd_start(&r, inner, GP11_TOK_INIT, what, m, sizeof(*m));
    if (ret != GP11_OK)
        return ret;
    m->version_min = gp11_rd_u8(&r, "version_min");
    gp11_rd_check(&r, m->version_min != 0, "version_min", "is 0");
    m->version_max = gp11_rd_u8(&r, "version_max");
    gp11_rd_check(&r, m->version_max >= m->version_min, "version_max",
                  "is below version_min");
    m->req_flags = gp11_rd_u32(&r, "req_flags");
    rd_list(&r, m->profiles, &m->n_profiles, "profiles");
    rd_list(&r, m->sigalgs, &m->n_sigalgs, "sigalgs");
    m->group = gp11_rd_u8(&r, "group");
    gp11_rd_check(&r, gp11_point_len(m->group) != 0, "group",
                  "is not a known group");
    m->eph = rd_point(&r, m->group, "eph_i");
    gp11_rd_bytes(&r, m->nonce, sizeof(m->nonce), "nonce_i");
    gp11_rd_bytes(&r, m->cb_hash, sizeof(m->cb_hash), "cb_hash");
    m->target = gp11_rd_opaque16(&r, "target");
    m->lifetime_req = gp11_rd_u32(&r, "lifetime_req");
    m->caps = gp11_rd_u32(&r, "caps_i");
    return rd_done(&r, what, m, sizeof(*m));
}

uint32_t gp11_hs_decode_accept(const struct gp11_buf *inner,
                               struct gp11_hs_accept *m)
{
    const char *what = "malformed ACCEPT token";
    struct gp11_rbuf r;
    uint8_t n_certs;
    uint32_t ret;

    ret = rd_start(&r, inner, GP11_TOK_ACCEPT, what, m, sizeof(*m));
    if (ret != GP11_OK)
        return ret;
    m->version = gp11_rd_u8(&r, "version");
    gp11_rd_check(&r, m->version != 0, "version", "is 0");
    m->profile = gp11_rd_u8(&r, "profile");
    gp11_rd_check(&r, profile_known(m->profile), "profile",
                  "is not a known key-derivation profile");
    m->sigalg = gp11_rd_u8(&r, "sigalg_a");
    gp11_rd_check(&r, sigalg_known(m->sigalg), "sigalg_a",
                  "is not a known signature algorithm");
    m->group = gp11_rd_u8(&r, "group");
    gp11_rd_check(&r, gp11_point_len(m->group) != 0, "group",
                  "is not a known group");
    m->ret_flags = gp11_rd_u32(&r, "ret_flags");
    m->eph = rd_point(&r, m->group, "eph_a");
    gp11_rd_bytes(&r, m->nonce, sizeof(m->nonce), "nonce_a");
    m->lifetime = gp11_rd_u32(&r, "lifetime");
    m->caps = gp11_rd_u32(&r, "caps_a");
    n_certs = gp11_rd_u8(&r, "n_certs");
    gp11_rd_check(&r, n_certs >= 1 && n_certs <= GP11_HS_MAX_CERTS, "n_certs",
                  "is not 1 to 4");
    rd_certs(&r, n_certs, m->certs);
    m->n_certs = n_certs;
    m->core_len = r.off;
    m->sig = gp11_rd_opaque16(&r, "sig_a");
    gp11_rd_check(&r, m->sig.len > 0, "sig_a", "is empty");
    gp11_rd_bytes(&r, m->mac, sizeof(m->mac), "mac_a");
    return rd_done(&r, what, m, sizeof(*m));
}

uint32_t gp11_hs_decode_finish(const struct gp11_buf *inner,
                               struct gp11_hs_finish *m)
{
    const char *what = "malformed FINISH token";
    struct gp11_rbuf r;
    uint8_t n_certs;
    uint32_t ret;

    ret = rd_start(&r, inner, GP11_TOK_FINISH, what, m, sizeof(*m));
    if (ret != GP11_OK)
        return ret;
    m->sigalg = gp11_rd_u8(&r, "sigalg_i");
    gp11_rd_check(&r, m->sigalg == GP11_SIGALG_NONE || sigalg_known(m->sigalg),
                  "sigalg_i", "is not a known signature algorithm");
    n_certs = gp11_rd_u8(&r, "n_certs");
    gp11_rd_check(&r, n_certs <= GP11_HS_MAX_CERTS, "n_certs",
                  "is more than 4");
    gp11_rd_check(&r, (n_certs == 0) == (m->sigalg == GP11_SIGALG_NONE),
                  "n_certs", "must be 0 exactly when sigalg_i is 0");
    rd_certs(&r, n_certs, m->certs);
    m->n_certs = n_certs;
    m->core_len = r.off;
    m->sig = gp11_rd_opaque16(&r, "sig_i");
    gp11_rd_check(&r, (m->sig.len == 0) == (m->sigalg == GP11_SIGALG_NONE),
                  "sig_i", "must be empty exactly when sigalg_i is 0");
    gp11_rd_bytes(&r, m->mac, sizeof(m->mac), "mac_i");
    return rd_done(&r, what, m, sizeof(*m));
}

uint32_t gp11_hs_decode_error(const struct gp11_buf *inner,
                              struct gp11_hs_error *m)
{
    const char *what = "malformed ERROR token";
    struct gp11_rbuf r;
    struct gp11_buf mac;
    uint32_t ret;

    ret = rd_start(&r, inner, GP11_TOK_ERROR, what, m, sizeof(*m));
    if (ret != GP11_OK)
        return ret;
    m->major = gp11_rd_u32(&r, "major");
    m->reason = gp11_rd_u32(&r, "reason");
    m->core_len = r.off;
    mac = gp11_rd_opaque8(&r, "mac_e");
    gp11_rd_check(&r, mac.len == 0 || mac.len == GP11_HS_MAC_LEN, "mac_e",
                  "is neither empty nor 16 bytes");
    if (gp11_rd_ok(&r) && mac.len == GP11_HS_MAC_LEN) {
        m->has_mac = true;
        memcpy(m->mac, mac.data, GP11_HS_MAC_LEN);
    }
    return rd_done(&r, what, m, sizeof(*m));
}

uint32_t gp11_hs_decode_confirm(const struct gp11_buf *inner,
                                struct gp11_hs_confirm *m)
{
    const char *what = "malformed CONFIRM token";
    struct gp11_rbuf r;
    uint32_t ret;

    ret = rd_start(&r, inner, GP11_TOK_CONFIRM, what, m, sizeof(*m));
    if (ret != GP11_OK)
        return ret;
    gp11_rd_bytes(&r, m->mac, sizeof(m->mac), "mac_c");
    return rd_done(&r, what, m, sizeof(*m));
}

/* Records that field of a message to encode breaks a rule. */
static uint32_t bad_field(const char *msg, const char *field)
{
    return gp11_err_set(GP11_ERR_BAD_ARG,
                        "cannot encode %s: field %s is invalid", msg, field);
}

/* Checks certificates to encode: count in min..4, each 1..65535 bytes. */
static uint32_t check_certs(const char *msg, const struct gp11_buf *certs,
                            size_t n, size_t min)
{
    if (n < min || n > GP11_HS_MAX_CERTS)
        return bad_field(msg, "n_certs");
    for (size_t i = 0; i < n; i++) {
        if (certs[i].len == 0 || !buf_ok(&certs[i], UINT16_MAX))
            return bad_field(msg, "cert");
    }
    return GP11_OK;
}

/* Writes u8 n_certs and the opaque16 certificates (already checked). */
static void wr_certs(struct gp11_wbuf *w, const struct gp11_buf *certs,
                     size_t n)
{
    gp11_wr_u8(w, (uint8_t)n);
    for (size_t i = 0; i < n; i++)
        gp11_wr_opaque16(w, certs[i].data, certs[i].len);
}

uint32_t gp11_hs_encode_init(struct gp11_wbuf *w, const struct gp11_hs_init *m)
{
    const char *msg = "INIT";

    if (w == NULL || m == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no INIT token to encode");
    if (m->version_min == 0)
        return bad_field(msg, "version_min");
    if (m->version_max < m->version_min)
        return bad_field(msg, "version_max");
    if (m->n_profiles < 1 || m->n_profiles > GP11_HS_MAX_LIST)
        return bad_field(msg, "profiles");
    if (m->n_sigalgs < 1 || m->n_sigalgs > GP11_HS_MAX_LIST)
        return bad_field(msg, "sigalgs");
    if (gp11_point_len(m->group) == 0)
        return bad_field(msg, "group");
    if (!point_ok(m->group, &m->eph))
        return bad_field(msg, "eph_i");
    if (!buf_ok(&m->target, UINT16_MAX))
        return bad_field(msg, "target");

    gp11_wr_u16(w, GP11_TOK_INIT);
    gp11_wr_u8(w, m->version_min);
    gp11_wr_u8(w, m->version_max);
    gp11_wr_u32(w, m->req_flags);
    gp11_wr_opaque8(w, m->profiles, m->n_profiles);
    gp11_wr_opaque8(w, m->sigalgs, m->n_sigalgs);
    gp11_wr_u8(w, m->group);
    gp11_wr_opaque16(w, m->eph.data, m->eph.len);
    gp11_wr_bytes(w, m->nonce, sizeof(m->nonce));
    gp11_wr_bytes(w, m->cb_hash, sizeof(m->cb_hash));
    gp11_wr_opaque16(w, m->target.data, m->target.len);
    gp11_wr_u32(w, m->lifetime_req);
    gp11_wr_u32(w, m->caps);
    return gp11_wr_status(w, "an INIT token");
}

uint32_t gp11_hs_encode_accept_core(struct gp11_wbuf *w,
                                    const struct gp11_hs_accept *m)
{
    const char *msg = "ACCEPT";
    uint32_t ret;

    if (w == NULL || m == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no ACCEPT token to encode");
    if (m->version == 0)
        return bad_field(msg, "version");
    if (!profile_known(m->profile))
        return bad_field(msg, "profile");
    if (!sigalg_known(m->sigalg))
        return bad_field(msg, "sigalg_a");
    if (gp11_point_len(m->group) == 0)
        return bad_field(msg, "group");
    if (!point_ok(m->group, &m->eph))
        return bad_field(msg, "eph_a");
    ret = check_certs(msg, m->certs, m->n_certs, 1);
    if (ret != GP11_OK)
        return ret;

    gp11_wr_u16(w, GP11_TOK_ACCEPT);
    gp11_wr_u8(w, m->version);
    gp11_wr_u8(w, m->profile);
    gp11_wr_u8(w, m->sigalg);
    gp11_wr_u8(w, m->group);
    gp11_wr_u32(w, m->ret_flags);
    gp11_wr_opaque16(w, m->eph.data, m->eph.len);
    gp11_wr_bytes(w, m->nonce, sizeof(m->nonce));
    gp11_wr_u32(w, m->lifetime);
    gp11_wr_u32(w, m->caps);
    wr_certs(w, m->certs, m->n_certs);
    return gp11_wr_status(w, "an ACCEPT token");
}

uint32_t gp11_hs_encode_finish_core(struct gp11_wbuf *w,
                                    const struct gp11_hs_finish *m)
{
    const char *msg = "FINISH";
    uint32_t ret;

    if (w == NULL || m == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no FINISH token to encode");
    if (m->sigalg != GP11_SIGALG_NONE && !sigalg_known(m->sigalg))
        return bad_field(msg, "sigalg_i");
    if ((m->n_certs == 0) != (m->sigalg == GP11_SIGALG_NONE))
        return bad_field(msg, "n_certs");
    ret = check_certs(msg, m->certs, m->n_certs, 0);
    if (ret != GP11_OK)
        return ret;

    gp11_wr_u16(w, GP11_TOK_FINISH);
    gp11_wr_u8(w, m->sigalg);
    wr_certs(w, m->certs, m->n_certs);
    return gp11_wr_status(w, "a FINISH token");
}

uint32_t gp11_hs_encode_tail(struct gp11_wbuf *w, const struct gp11_buf *sig,
                             const uint8_t mac[GP11_HS_MAC_LEN])
{
    if (w == NULL || sig == NULL || mac == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no token tail to encode");
    if (!buf_ok(sig, UINT16_MAX))
        return gp11_err_set(GP11_ERR_BAD_ARG,
                            "cannot encode a signature of %zu bytes", sig->len);
    gp11_wr_opaque16(w, sig->data, sig->len);
    gp11_wr_bytes(w, mac, GP11_HS_MAC_LEN);
    return gp11_wr_status(w, "a token tail");
}

uint32_t gp11_hs_encode_confirm(struct gp11_wbuf *w,
                                const struct gp11_hs_confirm *m)
{
    if (w == NULL || m == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no CONFIRM token to encode");
    gp11_wr_u16(w, GP11_TOK_CONFIRM);
    gp11_wr_bytes(w, m->mac, sizeof(m->mac));
    return gp11_wr_status(w, "a CONFIRM token");
}

uint32_t gp11_hs_encode_error_core(struct gp11_wbuf *w,
                                   const struct gp11_hs_error *m)
{
    if (w == NULL || m == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no ERROR token to encode");
    gp11_wr_u16(w, GP11_TOK_ERROR);
    gp11_wr_u32(w, m->major);
    gp11_wr_u32(w, m->reason);
    return gp11_wr_status(w, "an ERROR token");
}

uint32_t gp11_hs_encode_error_tail(struct gp11_wbuf *w, const uint8_t *mac)
{
    if (w == NULL)
        return gp11_err_set(GP11_ERR_BAD_ARG, "no ERROR token to encode");
    gp11_wr_opaque8(w, mac, mac ? GP11_HS_MAC_LEN : 0);
    return gp11_wr_status(w, "an ERROR token");
}

uint32_t gp11_hs_encode_error(struct gp11_wbuf *w,
                              const struct gp11_hs_error *m)
{
    uint32_t ret = gp11_hs_encode_error_core(w, m);

    if (ret != GP11_OK)
        return ret;
    return gp11_hs_encode_error_tail(w, m->has_mac ? m->mac : NULL);
}
