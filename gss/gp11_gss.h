/* SPDX-License-Identifier: Apache-2.0 */
/* The GSS face inside: the gp11_gss_* context calls and the helpers
 * shared by its files (OID sets, status mapping). */
#ifndef GP11_GSS_H
#define GP11_GSS_H

#include <stddef.h>
#include <stdint.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

/* A malloc'ed OID set as gss_release_oid_set frees it (NULL on ENOMEM). */
gss_OID_set gp11_oid_set_new(const gss_OID_desc *const *oids, size_t n);

/* Frees a set made by gp11_oid_set_new; NULL allowed. */
void gp11_oid_set_free(gss_OID_set set);

/*
 * Adapts a set made by gp11_oid_set_new, about to be returned to the
 * mechglue whose code called the plugin at caller (the trampoline's
 * return address): for Heimdal's, whose gss_release_oid_set never frees
 * the OIDs' bytes, they are replaced by permanent copies; MIT's frees
 * them and gets the set as it is. Nothing is done when major is an error
 * (the set may not have been written); NULL and GSS_C_NO_OID_SET allowed.
 */
void gp11_oid_set_for_caller(OM_uint32 major, gss_OID_set *set,
                             const void *caller);

/* The GSS major status that goes with a gss-pkcs11 minor code. */
OM_uint32 gp11_major_for(uint32_t minor);

/* Sets *minor to code and returns its major status. */
static inline OM_uint32 gp11_fail(OM_uint32 *minor, uint32_t code)
{
    *minor = code;
    return gp11_major_for(code);
}

/*
 * Start of a call that writes a buffer: GSS_S_CALL_INACCESSIBLE_WRITE if
 * minor or out is missing, else *minor = 0, out emptied and
 * GSS_S_COMPLETE.
 */
static inline OM_uint32 gp11_out_start(OM_uint32 *minor, gss_buffer_t out)
{
    if (minor == NULL || out == GSS_C_NO_BUFFER)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    out->length = 0;
    out->value = NULL;
    return GSS_S_COMPLETE;
}

struct gp11_buf;

/* gp11_hs_frame_bytes (core/gp11_hs_msg.h) into a gss_buffer_t: a framed
 * context token of an inner one (the tests' and fuzz harnesses' form;
 * establish.c). */
uint32_t gp11_hs_frame(const struct gp11_buf *inner, gss_buffer_t out);

/* ---- the context calls (establish.c, context.c, permsg.c, ctx_oid.c) --- */

/* gss_init_sec_context / gss_accept_sec_context onto the engine's
 * gp11_ctx_init_step / gp11_ctx_accept_step (core/gp11_establish.h). */
OM_uint32 gp11_gss_init_sec_context(
    OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *context,
    gss_name_t target, gss_OID mech, OM_uint32 req_flags, OM_uint32 time_req,
    gss_channel_bindings_t cb, gss_buffer_t input, gss_OID *actual_mech,
    gss_buffer_t output, OM_uint32 *ret_flags, OM_uint32 *time_rec);
OM_uint32 gp11_gss_accept_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                      gss_cred_id_t cred, gss_buffer_t input,
                                      gss_channel_bindings_t cb,
                                      gss_name_t *src_name, gss_OID *mech,
                                      gss_buffer_t output, OM_uint32 *ret_flags,
                                      OM_uint32 *time_rec,
                                      gss_cred_id_t *delegated);
OM_uint32 gp11_gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                      gss_buffer_t output);
OM_uint32 gp11_gss_context_time(OM_uint32 *minor, gss_ctx_id_t context,
                                OM_uint32 *time_rec);
OM_uint32 gp11_gss_inquire_context(OM_uint32 *minor, gss_ctx_id_t context,
                                   gss_name_t *src, gss_name_t *targ,
                                   OM_uint32 *lifetime, gss_OID *mech,
                                   OM_uint32 *flags, int *locally_initiated,
                                   int *open);
OM_uint32 gp11_gss_get_mic(OM_uint32 *minor, gss_ctx_id_t context,
                           gss_qop_t qop, gss_buffer_t message,
                           gss_buffer_t token);
OM_uint32 gp11_gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t context,
                              gss_buffer_t message, gss_buffer_t token,
                              gss_qop_t *qop);
OM_uint32 gp11_gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                        gss_qop_t qop, gss_buffer_t in, int *conf_state,
                        gss_buffer_t out);
OM_uint32 gp11_gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context,
                          gss_buffer_t in, gss_buffer_t out, int *conf_state,
                          gss_qop_t *qop);
OM_uint32 gp11_gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t context,
                                   int conf, gss_qop_t qop,
                                   OM_uint32 req_output_size,
                                   OM_uint32 *max_input_size);
/* gss_inquire_sec_context_by_oid (ctx_oid.c): nothing to give; key
 * material is refused with GP11_ERR_KEYS_STAY_IN_TOKEN. */
OM_uint32 gp11_gss_inquire_sec_context_by_oid(OM_uint32 *minor,
                                              gss_ctx_id_t context,
                                              const gss_OID oid,
                                              gss_buffer_set_t *data);
OM_uint32 gp11_gss_process_context_token(OM_uint32 *minor, gss_ctx_id_t context,
                                         gss_buffer_t token);

#endif
