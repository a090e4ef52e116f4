/* SPDX-License-Identifier: Apache-2.0 */
/* Context export/import (docs/protocol.md 5) and the PRF (6): the
 * engine API, bytes and GP11 codes (the faces translate: gss/, sspi/). */
#ifndef GP11_EXPORT_H
#define GP11_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "gp11_context.h"
#include "gp11_runtime.h"

/* Blob format of protocol.md 5.2. */
#define GP11_BLOB_MAGIC "GP11"
#define GP11_BLOB_VERSION 1
#define GP11_BLOB_MAC_LEN 32
#define GP11_BLOB_MAC_LABEL "gss-pkcs11 v2 export"
/* Largest gss_pseudo_random output (protocol.md 6). */
#define GP11_PRF_MAX (1u << 20)
#define GP11_PRF_LABEL "gss-pkcs11 v2 prf"

/*
 * At runtime set-up: with [policy] allow-export = yes and the export KEK
 * on the token, context keys are made exportable from now on (and
 * wrap-with-trusted where the KEK is trusted); otherwise nothing changes.
 */
void gp11_export_setup(struct gp11_runtime *rt);

/* The context flag that says the context can be exported: the value of
 * GSS_C_TRANS_FLAG (RFC 2744; gss/ctx_export.c checks it), a local
 * property never sent to the peer. */
#define GP11_CTX_TRANS_FLAG 0x100u

/* flags with GP11_CTX_TRANS_FLAG set exactly when this context's keys can
 * be exported. */
uint32_t gp11_export_ret_flags(const struct gp11_ctx *ctx, uint32_t flags);

/*
 * Exports an established context into *blob (malloc'ed, *len bytes, the
 * blob of protocol.md 5.2, without any face's framing). On success the
 * context is freed (RFC 2743 2.2.8: never two live copies); on failure it
 * is left as it was and *blob is NULL.
 */
uint32_t gp11_ctx_export(struct gp11_ctx *ctx, uint8_t **blob, size_t *len);

/* Checks a blob, consumes it (a blob imports at most once, anywhere) and
 * makes a new established context of it in *out (NULL on failure). */
uint32_t gp11_ctx_import(const uint8_t *blob, size_t len,
                         struct gp11_ctx **out);

/* The context's pseudo-random function (protocol.md 6): len bytes (at
 * most GP11_PRF_MAX) of output for the input in into out; on failure out
 * is wiped. */
uint32_t gp11_ctx_prf(struct gp11_ctx *ctx, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t len);

#endif
