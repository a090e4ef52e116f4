/* SPDX-License-Identifier: Apache-2.0 */
/* MIC and WRAP token headers and GCM IVs (docs/protocol.md 3). */
#include "gp11_msgtok.h"
#include "gp11_error.h"

#define FILLER 0xFF

/* Big-endian stores and loads. */
static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

void gp11_msg_hdr_write(uint8_t out[GP11_MSG_HDR_LEN],
                        const struct gp11_msg_hdr *h)
{
    put_be(out, h->tok_id, 2);
    out[2] = h->flags;
    out[3] = FILLER;
    put_be(out + 4, h->qop, 2);
    out[6] = out[7] = 0;
    put_be(out + 8, h->seq, 8);
}

uint32_t gp11_msg_hdr_parse(const uint8_t *tok, size_t len, uint16_t tok_id,
                            size_t tag_len, bool from_acceptor,
                            struct gp11_msg_hdr *h)
{
    const char *what = tok_id == GP11_TOK_MIC ? "MIC" : "WRAP";
    uint8_t known =
        GP11_FLAG_SENT_BY_ACCEPTOR |
        (tok_id == GP11_TOK_WRAP ? GP11_FLAG_SEALED | GP11_FLAG_TAG_FIRST : 0);

    if (tok == NULL || len < GP11_MSG_HDR_LEN + tag_len)
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the %s token has %zu bytes, fewer than its "
                            "header and tag",
                            what, tok ? len : 0);
    h->tok_id = (uint16_t)get_be(tok, 2);
    h->flags = tok[2];
    h->qop = (uint16_t)get_be(tok + 4, 2);
    h->seq = get_be(tok + 8, 8);
    if (h->tok_id != tok_id)
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the token is not a %s token (TOK_ID %04x)", what,
                            h->tok_id);
    if (h->flags & ~known)
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the %s token has unknown flags 0x%02x", what,
                            h->flags);
    if (tok[3] != FILLER || tok[6] != 0 || tok[7] != 0)
        return gp11_err_set(GP11_ERR_TOKEN_MALFORMED,
                            "the %s token's filler bytes are wrong", what);
    if (((h->flags & GP11_FLAG_SENT_BY_ACCEPTOR) != 0) != from_acceptor)
        return gp11_err_set(GP11_ERR_REFLECTED,
                            "the %s token was sent by this side of the "
                            "context, not by the peer (reflected)",
                            what);
    return GP11_OK;
}

void gp11_msg_iv(uint8_t iv[12], bool from_acceptor, enum gp11_iv_kind kind,
                 uint64_t seq)
{
    iv[0] = from_acceptor ? 1 : 0;
    iv[1] = (uint8_t)kind;
    iv[2] = iv[3] = 0;
    put_be(iv + 4, seq, 8);
}
