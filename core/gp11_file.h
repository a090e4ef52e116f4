/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded reads of the small files the configuration names (anchors, CRLs). */
#ifndef GP11_FILE_H
#define GP11_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads the regular file path, of at most max bytes, into a new buffer
 * (*buf, to be freed; one byte is allocated past *len). what names the
 * file in the messages ("trust anchors file", "CRL file"). A FIFO, device
 * or directory in its place is refused without blocking. Returns GP11_OK
 * or a GP11_ERR_CONFIG_* / GP11_ERR_NOMEM code with its message set.
 */
uint32_t gp11_file_read(const char *path, const char *what, size_t max,
                        uint8_t **buf, size_t *len);

#endif
