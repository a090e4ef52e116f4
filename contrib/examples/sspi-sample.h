/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The framing of MIT krb5's sample programs (src/appl/gss-sample,
 * gss-misc.c), shared by sspi-client.c and sspi-server.c: each token is
 * a 1-byte flag set, a 4-byte big-endian length and the bytes. A flag
 * byte of 0 (the old v1 format) is not spoken. Only sockets and stdio
 * here; the security calls are in the programs.
 */
#ifndef SSPI_SAMPLE_H
#define SSPI_SAMPLE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* gss-misc.h's token flags. */
#define TOKEN_NOOP (1 << 0)
#define TOKEN_CONTEXT (1 << 1)
#define TOKEN_DATA (1 << 2)
#define TOKEN_MIC (1 << 3)
#define TOKEN_CONTEXT_NEXT (1 << 4)
#define TOKEN_WRAPPED (1 << 5)
#define TOKEN_ENCRYPTED (1 << 6)
#define TOKEN_SEND_MIC (1 << 7)

/* Longest token accepted from the peer. */
#define SAMPLE_MAX_TOKEN (16u << 20)

/* Writes all of buf; -1 on error. */
static int sample_write_all(int s, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = write(s, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes; -1 on error or end of stream. */
static int sample_read_all(int s, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = read(s, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends one token: flags, length, bytes. */
static int sample_send(int s, int flags, const void *tok, size_t len)
{
    uint8_t hdr[5] = {(uint8_t)flags, (uint8_t)(len >> 24),
                      (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};

    if (sample_write_all(s, hdr, sizeof(hdr)) < 0 ||
        (len && sample_write_all(s, tok, len) < 0)) {
        perror("sending token");
        return -1;
    }
    return 0;
}

/* Receives one token into a new buffer (free() it); -1 on error. */
static int sample_recv(int s, int *flags, uint8_t **tok, size_t *len)
{
    uint8_t hdr[5];

    *tok = NULL;
    if (sample_read_all(s, hdr, sizeof(hdr)) < 0) {
        fprintf(stderr, "reading token: connection closed\n");
        return -1;
    }
    if (hdr[0] == 0) {
        fprintf(stderr, "reading token: the v1 sample format is not spoken\n");
        return -1;
    }
    *flags = hdr[0];
    *len = (size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 8 |
           hdr[4];
    if (*len > SAMPLE_MAX_TOKEN) {
        fprintf(stderr, "reading token: %zu bytes is too long\n", *len);
        return -1;
    }
    *tok = malloc(*len ? *len : 1);
    if (*tok == NULL || sample_read_all(s, *tok, *len) < 0) {
        fprintf(stderr, "reading token data failed\n");
        free(*tok);
        *tok = NULL;
        return -1;
    }
    return 0;
}

#endif
