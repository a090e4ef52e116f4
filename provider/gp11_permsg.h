/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces of per-message protection shared by the buffer and IOV calls. */
#ifndef GP11_PERMSG_H
#define GP11_PERMSG_H

#include "gp11_context.h"
#include "gp11_msgtok.h"

#include <gssapi/gssapi_ext.h>

#include "gp11_qop.h"

/* GP11_OK if the context can protect or check messages now. */
uint32_t gp11_pm_ready(const struct gp11_ctx *ctx);

/* A QOP both tokens can run, and its key for one direction (derived on
 * first use). */
uint32_t gp11_pm_qop_key(struct gp11_ctx *ctx, uint32_t value, bool send,
                         const struct gp11_qop **q,
                         const struct gp11_object **key);

/* Starts a send: the context is ready, the QOP usable (and able to seal
 * when conf), and its send key at hand. */
uint32_t gp11_pm_prepare_send(struct gp11_ctx *ctx, gss_qop_t qop, bool conf,
                              const struct gp11_qop **q,
                              const struct gp11_object **key);

/* Makes a tag: AEAD over aad (and in, into out before the tag), or a MAC
 * over hdr || aad into out. */
uint32_t gp11_pm_make_tag(struct gp11_ctx *ctx, const struct gp11_qop *q,
                          const struct gp11_object *key, const uint8_t *iv,
                          const uint8_t *hdr, const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t in_len,
                          uint8_t *out);

/* Checks a tag: AEAD with data as AAD (empty plaintext), or a MAC over
 * hdr || data compared in constant time. GP11_ERR_BAD_TAG if wrong. */
uint32_t gp11_pm_check_tag(struct gp11_ctx *ctx, const struct gp11_qop *q,
                           const struct gp11_object *key, const uint8_t *iv,
                           const uint8_t *hdr, const uint8_t *data, size_t len,
                           const uint8_t *tag);

/* Records a verified sequence number; returns supplementary status bits. */
OM_uint32 gp11_pm_window(struct gp11_ctx *ctx, uint64_t seq);

/* Sets *minor and maps a check failure: a bad tag or reflection gives
 * `bad` (GSS_S_BAD_SIG or GSS_S_BAD_MIC), the rest their own major. */
OM_uint32 gp11_pm_check_failed(OM_uint32 *minor, uint32_t ret, OM_uint32 bad);

/* Decrypts a sealed WRAP body whose tag may not follow it (TagFirst, IOV):
 * out needs len + 16 bytes of room. */
uint32_t gp11_pm_open_sealed(struct gp11_ctx *ctx, const struct gp11_qop *q,
                             const struct gp11_object *key, const uint8_t *iv,
                             const uint8_t *hdr, const uint8_t *ct, size_t len,
                             const uint8_t *tag, uint8_t *out);

/* The IOV calls (permsg_iov.c), RFC 2744 style arguments. */
OM_uint32 gp11_gss_wrap_iov(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                            gss_qop_t qop, int *conf_state,
                            gss_iov_buffer_desc *iov, int n);
OM_uint32 gp11_gss_unwrap_iov(OM_uint32 *minor, gss_ctx_id_t context,
                              int *conf_state, gss_qop_t *qop,
                              gss_iov_buffer_desc *iov, int n);
OM_uint32 gp11_gss_wrap_iov_length(OM_uint32 *minor, gss_ctx_id_t context,
                                   int conf, gss_qop_t qop, int *conf_state,
                                   gss_iov_buffer_desc *iov, int n);
OM_uint32 gp11_gss_get_mic_iov(OM_uint32 *minor, gss_ctx_id_t context,
                               gss_qop_t qop, gss_iov_buffer_desc *iov, int n);
OM_uint32 gp11_gss_get_mic_iov_length(OM_uint32 *minor, gss_ctx_id_t context,
                                      gss_qop_t qop, gss_iov_buffer_desc *iov,
                                      int n);
OM_uint32 gp11_gss_verify_mic_iov(OM_uint32 *minor, gss_ctx_id_t context,
                                  gss_qop_t *qop, gss_iov_buffer_desc *iov,
                                  int n);

#endif
