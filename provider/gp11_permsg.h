/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces of per-message protection shared by the buffer and IOV calls. */
#ifndef GP11_PERMSG_H
#define GP11_PERMSG_H

#include "gp11_context.h"
#include "gp11_msgtok.h"

#include <gssapi/gssapi_ext.h>

#define OVERHEAD (GP11_MSG_HDR_LEN + GP11_GCM_TAG_LEN)
#define QOP_DEFAULT 0

/* GP11_OK if the context can protect or check messages now. */
uint32_t gp11_pm_ready(const struct gp11_ctx *ctx);

/* GP11_OK for a QOP this context can use, else GP11_ERR_BAD_QOP. */
uint32_t gp11_pm_check_qop(gss_qop_t qop);

/* Records a verified sequence number; returns supplementary status bits. */
OM_uint32 gp11_pm_window(struct gp11_ctx *ctx, uint64_t seq);

/* Sets *minor and maps a check failure: a bad tag or reflection gives
 * `bad` (GSS_S_BAD_SIG or GSS_S_BAD_MIC), the rest their own major. */
OM_uint32 gp11_pm_check_failed(OM_uint32 *minor, uint32_t ret, OM_uint32 bad);

/* Decrypts a sealed WRAP body whose tag may not follow it (TagFirst, IOV):
 * out needs len + 16 bytes of room. */
uint32_t gp11_pm_open_sealed(struct gp11_ctx *ctx, const uint8_t *iv,
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
