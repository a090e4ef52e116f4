/* SPDX-License-Identifier: Apache-2.0 */
/* The GSS-API face of per-message protection: its pieces shared by the
 * buffer calls (permsg.c) and the IOV calls (permsg_iov.c), both thin
 * translations onto the per-message core (gp11_msg_core.h). */
#ifndef GP11_PERMSG_H
#define GP11_PERMSG_H

#include "gp11_context.h"
#include "gp11_msg_core.h"

#include <gssapi/gssapi_ext.h>

/* The RFC 2743 supplementary status of a window position. */
OM_uint32 gp11_pm_window_status(enum gp11_seq_status s);

/* Sets *minor and maps a check failure: a bad tag or reflection gives
 * `bad` (GSS_S_BAD_SIG or GSS_S_BAD_MIC), the rest their own major. */
OM_uint32 gp11_pm_check_failed(OM_uint32 *minor, uint32_t ret, OM_uint32 bad);

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
