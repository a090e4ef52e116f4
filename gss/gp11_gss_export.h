/* SPDX-License-Identifier: Apache-2.0 */
/* gss_export_sec_context / gss_import_sec_context (gss/ctx_export.c) and
 * gss_pseudo_random (gss/prf.c): translations onto core/gp11_export.h. */
#ifndef GP11_GSS_EXPORT_H
#define GP11_GSS_EXPORT_H

#include <gssapi/gssapi.h>
#include <sys/types.h>

OM_uint32 gp11_gss_export_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                      gss_buffer_t token);
OM_uint32 gp11_gss_import_sec_context(OM_uint32 *minor, gss_buffer_t token,
                                      gss_ctx_id_t *context);
OM_uint32 gp11_gss_import_sec_context_by_mech(OM_uint32 *minor, gss_OID mech,
                                              gss_buffer_t token,
                                              gss_ctx_id_t *context);
OM_uint32 gp11_gss_pseudo_random(OM_uint32 *minor, gss_ctx_id_t context,
                                 int prf_key, const gss_buffer_t prf_in,
                                 ssize_t desired_output_len,
                                 gss_buffer_t prf_out);

#endif
