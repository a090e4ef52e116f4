/* SPDX-License-Identifier: Apache-2.0 */
/* The mechanism OID, from the dotted text chosen at build time. */
#include "gp11_mech_oid.h"
#include "gp11_build_config.h"

#include <pthread.h>
#include <stdbool.h>

static pthread_once_t mech_once = PTHREAD_ONCE_INIT;
static uint8_t mech_bytes[GP11_OID_MAX_LEN];
static struct gp11_buf mech_der;

/* Parses one decimal arc at *s (no sign, no leading zero); false if bad. */
static bool parse_arc(const char **s, uint64_t *arc)
{
    const char *p = *s;
    uint64_t v = 0;

    if (*p < '0' || *p > '9')
        return false;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *s = p;
    *arc = v;
    return true;
}

/* Appends v in base 128 (high bit set on all but the last byte). */
static bool put_base128(uint64_t v, uint8_t *out, size_t size, size_t *len)
{
    uint8_t tmp[10];
    size_t n = 0;

    do {
        tmp[n++] = (uint8_t)(v & 0x7f);
        v >>= 7;
    } while (v != 0);
    if (n > size - *len)
        return false;
    while (n > 0) {
        n--;
        out[(*len)++] = (uint8_t)(tmp[n] | (n > 0 ? 0x80 : 0));
    }
    return true;
}

size_t gp11_oid_from_dotted(const char *text, uint8_t *out, size_t size)
{
    const char *p = text;
    uint64_t first, arc;
    size_t len = 0;

    if (text == NULL || out == NULL)
        return 0;
    if (!parse_arc(&p, &first) || first > 2 || *p++ != '.' ||
        !parse_arc(&p, &arc))
        return 0;
    if ((first < 2 && arc > 39) || arc > UINT64_MAX - 80)
        return 0;
    if (!put_base128(first * 40 + arc, out, size, &len))
        return 0;
    while (*p != '\0') {
        if (*p++ != '.' || !parse_arc(&p, &arc) ||
            !put_base128(arc, out, size, &len))
            return 0;
    }
    return len;
}

/* pthread_once routine: encodes GP11_MECH_OID into mech_der. */
static void mech_init(void)
{
    mech_der.len =
        gp11_oid_from_dotted(GP11_MECH_OID, mech_bytes, sizeof(mech_bytes));
    mech_der.data = mech_bytes;
}

const struct gp11_buf *gp11_mech_oid_der(void)
{
    if (pthread_once(&mech_once, mech_init) != 0 || mech_der.len == 0)
        return NULL;
    return &mech_der;
}
