/* SPDX-License-Identifier: Apache-2.0 */
/* Context export/import (docs/protocol.md 5) and gss_pseudo_random (6). */
#ifndef GP11_EXPORT_H
#define GP11_EXPORT_H

#include <gssapi/gssapi.h>

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

/* flags with GSS_C_TRANS_FLAG set exactly when this context's keys can be
 * exported (a local property: never sent to the peer). */
OM_uint32 gp11_export_ret_flags(const struct gp11_ctx *ctx, OM_uint32 flags);

OM_uint32 gp11_gss_export_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                      gss_buffer_t token);
OM_uint32 gp11_gss_import_sec_context(OM_uint32 *minor, gss_buffer_t token,
                                      gss_ctx_id_t *context);
OM_uint32 gp11_gss_import_sec_context_by_mech(OM_uint32 *minor, gss_OID mech,
                                              gss_buffer_t token,
                                              gss_ctx_id_t *context);
/* The context's pseudo-random function (protocol.md 6): len bytes (at
 * most GP11_PRF_MAX) of output for the input in into out; on failure out
 * is wiped. */
uint32_t gp11_ctx_prf(struct gp11_ctx *ctx, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t len);
OM_uint32 gp11_gss_pseudo_random(OM_uint32 *minor, gss_ctx_id_t context,
                                 int prf_key, const gss_buffer_t prf_in,
                                 ssize_t desired_output_len,
                                 gss_buffer_t prf_out);

#endif
