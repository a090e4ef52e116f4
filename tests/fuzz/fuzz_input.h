/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a fuzz input as a little program: bytes, big-endian integers and
 * length-prefixed pieces, each read returning zeros once the input is
 * used up (so that every input means something). Header-only: each target
 * includes it once.
 */
#ifndef GP11_FUZZ_INPUT_H
#define GP11_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct fz_in {
    const uint8_t *p;
    size_t left;
};

/* One byte, 0 past the end. */
static inline uint8_t fz_u8(struct fz_in *in)
{
    uint8_t v = 0;

    if (in->left > 0) {
        v = *in->p++;
        in->left--;
    }
    return v;
}

/* A big-endian u16, 0 past the end. */
static inline uint16_t fz_u16(struct fz_in *in)
{
    uint16_t hi = fz_u8(in);

    return (uint16_t)(hi << 8 | fz_u8(in));
}

/* A big-endian u64. */
static inline uint64_t fz_u64(struct fz_in *in)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | fz_u8(in);
    return v;
}

/* A view of the next n bytes (fewer if the input ends first). */
static inline const uint8_t *fz_bytes(struct fz_in *in, size_t n, size_t *got)
{
    const uint8_t *p = in->p;

    if (n > in->left)
        n = in->left;
    in->p += n;
    in->left -= n;
    *got = n;
    return p;
}

/* A u16-length-prefixed piece. */
static inline const uint8_t *fz_piece16(struct fz_in *in, size_t *got)
{
    return fz_bytes(in, fz_u16(in), got);
}

/* Everything that is left. */
static inline const uint8_t *fz_rest(struct fz_in *in, size_t *got)
{
    return fz_bytes(in, in->left, got);
}

/* A malloc'ed copy of n bytes (at least one byte allocated). */
static inline uint8_t *fz_dup(const void *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);

    if (c == NULL)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

/*
 * Applies edits (u16 offset, u8 xor) from in to buf[0..len), offsets taken
 * modulo len; true if some byte of buf ends up different.
 */
static inline bool fz_edit(struct fz_in *in, uint8_t *buf, size_t len)
{
    const uint8_t *orig;
    bool changed;

    if (len == 0 || in->left < 3) {
        in->left = 0;
        return false;
    }
    orig = fz_dup(buf, len);
    while (in->left >= 3) {
        size_t off = fz_u16(in) % len;

        buf[off] ^= fz_u8(in);
    }
    changed = memcmp(orig, buf, len) != 0;
    free((void *)orig);
    return changed;
}

/* Stops the target with a message: an invariant does not hold. */
#define FZ_FAIL(...)                                                           \
    do {                                                                       \
        fprintf(stderr, "fuzz invariant broken at %s:%d: ", __FILE__,          \
                __LINE__);                                                     \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        abort();                                                               \
    } while (0)

#endif
