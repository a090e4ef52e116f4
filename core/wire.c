/* SPDX-License-Identifier: Apache-2.0 */
/* Bounds-checked big-endian reader and growable writer (see gp11_wire.h). */
#include "gp11_wire.h"
#include "gp11_error.h"

#include <stdlib.h>
#include <string.h>

/* Where empty and failed views point, so that data is never NULL. */
static const uint8_t no_bytes[1];

void gp11_rd_init(struct gp11_rbuf *r, const void *data, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->data = data != NULL ? data : no_bytes;
    r->len = data != NULL ? len : 0;
}

/* Remembers the first failure; later ones are ignored. */
static void rd_fail(struct gp11_rbuf *r, enum gp11_rd_fail kind,
                    const char *field, size_t off, size_t need)
{
    if (r->fail != GP11_RD_OK)
        return;
    r->fail = kind;
    r->fail_field = field != NULL ? field : "(unnamed)";
    r->fail_off = off;
    r->fail_need = need;
}

/* Consumes n bytes for field; NULL, and a sticky failure, if too few. */
static const uint8_t *rd_take(struct gp11_rbuf *r, size_t n, const char *field)
{
    const uint8_t *p;

    if (r->fail != GP11_RD_OK)
        return NULL;
    if (n > r->len - r->off) {
        rd_fail(r, GP11_RD_TRUNCATED, field, r->off, n);
        return NULL;
    }
    p = r->data + r->off;
    r->field_off = r->off;
    r->off += n;
    return p;
}

uint8_t gp11_rd_u8(struct gp11_rbuf *r, const char *field)
{
    const uint8_t *p = rd_take(r, 1, field);

    return p != NULL ? p[0] : 0;
}

uint16_t gp11_rd_u16(struct gp11_rbuf *r, const char *field)
{
    const uint8_t *p = rd_take(r, 2, field);

    return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t gp11_rd_u32(struct gp11_rbuf *r, const char *field)
{
    const uint8_t *p = rd_take(r, 4, field);

    if (p == NULL)
        return 0;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

void gp11_rd_bytes(struct gp11_rbuf *r, void *out, size_t n, const char *field)
{
    const uint8_t *p = rd_take(r, n, field);

    if (n == 0)
        return;
    if (p != NULL)
        memcpy(out, p, n);
    else
        memset(out, 0, n);
}

struct gp11_buf gp11_rd_view(struct gp11_rbuf *r, size_t n, const char *field)
{
    const uint8_t *p = rd_take(r, n, field);
    struct gp11_buf b = {r->data + r->off, 0};

    if (p != NULL) {
        b.data = p;
        b.len = n;
    }
    return b;
}

/* Reads a length prefix of prefix_len bytes and the bytes it counts. */
static struct gp11_buf rd_opaque(struct gp11_rbuf *r, size_t prefix_len,
                                 const char *field)
{
    size_t start = r->off;
    size_t n;
    struct gp11_buf b;

    n = prefix_len == 1 ? gp11_rd_u8(r, field) : gp11_rd_u16(r, field);
    b = gp11_rd_view(r, n, field);
    if (r->fail == GP11_RD_OK)
        r->field_off = start;
    return b;
}

struct gp11_buf gp11_rd_opaque8(struct gp11_rbuf *r, const char *field)
{
    return rd_opaque(r, 1, field);
}

struct gp11_buf gp11_rd_opaque16(struct gp11_rbuf *r, const char *field)
{
    return rd_opaque(r, 2, field);
}

void gp11_rd_check(struct gp11_rbuf *r, bool ok, const char *field,
                   const char *why)
{
    if (ok || r->fail != GP11_RD_OK)
        return;
    rd_fail(r, GP11_RD_INVALID, field, r->field_off, 0);
    r->fail_why = why != NULL ? why : "is invalid";
}

void gp11_rd_end(struct gp11_rbuf *r)
{
    if (r->fail == GP11_RD_OK && r->off != r->len)
        rd_fail(r, GP11_RD_TRAILING, NULL, r->off, r->len - r->off);
}

uint32_t gp11_rd_status(const struct gp11_rbuf *r, uint32_t code,
                        const char *what)
{
    switch (r->fail) {
    case GP11_RD_OK:
        return GP11_OK;
    case GP11_RD_TRUNCATED:
        return gp11_err_set(code,
                            "%s: field %s at offset %zu needs %zu bytes, "
                            "only %zu left",
                            what, r->fail_field, r->fail_off, r->fail_need,
                            r->len - r->fail_off);
    case GP11_RD_TRAILING:
        return gp11_err_set(code, "%s: %zu trailing bytes at offset %zu", what,
                            r->fail_need, r->fail_off);
    case GP11_RD_INVALID:
    default:
        return gp11_err_set(code, "%s: field %s at offset %zu %s", what,
                            r->fail_field, r->fail_off, r->fail_why);
    }
}

void gp11_wr_init(struct gp11_wbuf *w)
{
    memset(w, 0, sizeof(*w));
}

void gp11_wr_free(struct gp11_wbuf *w)
{
    free(w->data);
    memset(w, 0, sizeof(*w));
}

/* Makes room for n more bytes; returns where they go, or NULL (sticky). */
static uint8_t *wr_room(struct gp11_wbuf *w, size_t n)
{
    size_t need, cap;
    uint8_t *p;

    if (w->err != GP11_OK)
        return NULL;
    if (n > SIZE_MAX - w->len) {
        w->err = GP11_ERR_NOMEM;
        return NULL;
    }
    need = w->len + n;
    if (need > w->cap) {
        cap = w->cap < 256 ? 256 : w->cap;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        p = realloc(w->data, cap);
        if (p == NULL) {
            w->err = GP11_ERR_NOMEM;
            return NULL;
        }
        w->data = p;
        w->cap = cap;
    }
    p = w->data + w->len;
    w->len = need;
    return p;
}

void gp11_wr_u8(struct gp11_wbuf *w, uint8_t v)
{
    uint8_t *p = wr_room(w, 1);

    if (p != NULL)
        p[0] = v;
}

void gp11_wr_u16(struct gp11_wbuf *w, uint16_t v)
{
    uint8_t *p = wr_room(w, 2);

    if (p == NULL)
        return;
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void gp11_wr_u32(struct gp11_wbuf *w, uint32_t v)
{
    uint8_t *p = wr_room(w, 4);

    if (p == NULL)
        return;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void gp11_wr_bytes(struct gp11_wbuf *w, const void *src, size_t n)
{
    uint8_t *p;

    if (n == 0)
        return;
    p = wr_room(w, n);
    if (p != NULL)
        memcpy(p, src, n);
}

void gp11_wr_opaque8(struct gp11_wbuf *w, const void *src, size_t n)
{
    if (n > UINT8_MAX) {
        if (w->err == GP11_OK)
            w->err = GP11_ERR_BAD_ARG;
        return;
    }
    gp11_wr_u8(w, (uint8_t)n);
    gp11_wr_bytes(w, src, n);
}

void gp11_wr_opaque16(struct gp11_wbuf *w, const void *src, size_t n)
{
    if (n > UINT16_MAX) {
        if (w->err == GP11_OK)
            w->err = GP11_ERR_BAD_ARG;
        return;
    }
    gp11_wr_u16(w, (uint16_t)n);
    gp11_wr_bytes(w, src, n);
}

uint32_t gp11_wr_status(const struct gp11_wbuf *w, const char *what)
{
    switch (w->err) {
    case GP11_OK:
        return GP11_OK;
    case GP11_ERR_NOMEM:
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory writing %s", what);
    default:
        return gp11_err_set(w->err,
                            "cannot write %s: a field is too long for its "
                            "length prefix",
                            what);
    }
}
