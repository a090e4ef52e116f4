/* SPDX-License-Identifier: Apache-2.0 */
/* The 16-byte header of MIC and WRAP tokens (docs/protocol.md 3). */
#ifndef GP11_MSGTOK_H
#define GP11_MSGTOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GP11_MSG_HDR_LEN 16
#define GP11_TOK_MIC 0x0B01
#define GP11_TOK_WRAP 0x0B02
#define GP11_FLAG_SENT_BY_ACCEPTOR 0x01
#define GP11_FLAG_SEALED 0x02
#define GP11_FLAG_TAG_FIRST 0x04

/* IV kinds (protocol.md 3.1). */
enum gp11_iv_kind {
    GP11_IV_MIC = 1,
    GP11_IV_WRAP_CLEAR = 2,
    GP11_IV_WRAP_SEALED = 3,
};

struct gp11_msg_hdr {
    uint16_t tok_id;
    uint8_t flags;
    uint16_t qop;
    uint64_t seq;
};

/* Writes the header into out[16]. */
void gp11_msg_hdr_write(uint8_t out[GP11_MSG_HDR_LEN],
                        const struct gp11_msg_hdr *h);

/*
 * Parses and checks a header: at least 16 + tag_len bytes, the expected
 * TOK_ID, known flags (Sealed only in WRAP), FILLER and RESERVED.
 * SentByAcceptor must equal from_acceptor, else GP11_ERR_REFLECTED.
 * Other failures are GP11_ERR_TOKEN_MALFORMED.
 */
uint32_t gp11_msg_hdr_parse(const uint8_t *tok, size_t len, uint16_t tok_id,
                            size_t tag_len, bool from_acceptor,
                            struct gp11_msg_hdr *h);

/* The GCM IV for a direction, kind and sequence number. */
void gp11_msg_iv(uint8_t iv[12], bool from_acceptor, enum gp11_iv_kind kind,
                 uint64_t seq);

#endif
