/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Big-endian wire fields: a bounds-checked reader with a sticky error and
 * a growable writer with a sticky error.
 *
 * Reader: read every field in order, then check the status once. The first
 * failure (truncation, a rule broken, trailing bytes) is remembered with the
 * field name and offset; every later read returns zeros or an empty view
 * and never touches memory. No read goes past the end of the input.
 *
 * Writer: append fields, then check the status once. A failed allocation
 * (or a length that does not fit its prefix) makes every later write a
 * no-op. The bytes are malloc'ed, so they can be handed out as a
 * gss_buffer_t value.
 */
#ifndef GP11_WIRE_H
#define GP11_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp11_buf.h"

enum gp11_rd_fail {
    GP11_RD_OK = 0,
    GP11_RD_TRUNCATED, /* a field needs more bytes than are left */
    GP11_RD_INVALID,   /* gp11_rd_check() saw a broken rule */
    GP11_RD_TRAILING,  /* gp11_rd_end() found bytes after the last field */
};

struct gp11_rbuf {
    const uint8_t *data;
    size_t len;
    size_t off;       /* next byte to read; always <= len */
    size_t field_off; /* where the last successful read started */
    enum gp11_rd_fail fail;
    const char *fail_field; /* field name given to the failing call */
    const char *fail_why;   /* GP11_RD_INVALID: the rule, as a phrase */
    size_t fail_off;        /* offset of the failure */
    size_t fail_need;       /* TRUNCATED: bytes needed; TRAILING: extra */
};

/* Starts reading len bytes at data (NULL reads as empty). */
void gp11_rd_init(struct gp11_rbuf *r, const void *data, size_t len);

uint8_t gp11_rd_u8(struct gp11_rbuf *r, const char *field);
uint16_t gp11_rd_u16(struct gp11_rbuf *r, const char *field);
uint32_t gp11_rd_u32(struct gp11_rbuf *r, const char *field);

/* Copies n bytes into out; zero-fills out on failure. */
void gp11_rd_bytes(struct gp11_rbuf *r, void *out, size_t n, const char *field);

/*
 * Views of the input (never copies). On failure the view is empty and its
 * data pointer is still not NULL.
 */
struct gp11_buf gp11_rd_view(struct gp11_rbuf *r, size_t n, const char *field);
struct gp11_buf gp11_rd_opaque8(struct gp11_rbuf *r, const char *field);
struct gp11_buf gp11_rd_opaque16(struct gp11_rbuf *r, const char *field);

/*
 * Records "field <why>" at the start of the last read when ok is false and
 * nothing failed before. ok is evaluated by the caller even after a
 * failure, so it must not index into a view without checking its length.
 */
void gp11_rd_check(struct gp11_rbuf *r, bool ok, const char *field,
                   const char *why);

/* Records a failure if bytes are left after the last field. */
void gp11_rd_end(struct gp11_rbuf *r);

static inline bool gp11_rd_ok(const struct gp11_rbuf *r)
{
    return r->fail == GP11_RD_OK;
}

static inline size_t gp11_rd_left(const struct gp11_rbuf *r)
{
    return r->len - r->off;
}

/*
 * GP11_OK, or records "<what>: <the first failure>" under code and
 * returns code.
 */
uint32_t gp11_rd_status(const struct gp11_rbuf *r, uint32_t code,
                        const char *what);

struct gp11_wbuf {
    uint8_t *data; /* malloc'ed, NULL until the first write */
    size_t len;
    size_t cap;
    uint32_t err; /* GP11_OK, GP11_ERR_NOMEM or GP11_ERR_BAD_ARG; sticky */
};

void gp11_wr_init(struct gp11_wbuf *w);
/* Frees the bytes and resets w to empty. */
void gp11_wr_free(struct gp11_wbuf *w);

void gp11_wr_u8(struct gp11_wbuf *w, uint8_t v);
void gp11_wr_u16(struct gp11_wbuf *w, uint16_t v);
void gp11_wr_u32(struct gp11_wbuf *w, uint32_t v);
void gp11_wr_bytes(struct gp11_wbuf *w, const void *p, size_t n);
/* Length prefix and bytes; a length over 255 / 65535 fails (BAD_ARG). */
void gp11_wr_opaque8(struct gp11_wbuf *w, const void *p, size_t n);
void gp11_wr_opaque16(struct gp11_wbuf *w, const void *p, size_t n);

static inline bool gp11_wr_ok(const struct gp11_wbuf *w)
{
    return w->err == 0;
}

/* The bytes written so far (valid until the next write or free). */
static inline struct gp11_buf gp11_wr_view(const struct gp11_wbuf *w)
{
    struct gp11_buf b = {w->data, w->len};

    return b;
}

/* GP11_OK, or records why writing <what> failed and returns the code. */
uint32_t gp11_wr_status(const struct gp11_wbuf *w, const char *what);

#endif
