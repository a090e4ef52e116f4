/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The only file that defines exported gss_* names: one-line trampolines
 * into gp11_* functions. Internal code never calls a gss_* name, which
 * would bind to the application's mechglue (symbol interposition). The
 * list covers what MIT's mechglue looks up and Heimdal's mandatory set;
 * gss_pkcs11.map exports exactly these. Those that return an OID set
 * hand it to gp11_oid_set_for_caller with their return address, so that
 * it is laid out as the calling mechglue frees it.
 */
#include "gp11_context.h"
#include "gp11_creds.h"
#include "gp11_export.h"
#include "gp11_gss_export.h"
#include "gp11_gss.h"
#include "gp11_mech.h"
#include "gp11_names.h"
#include "gp11_permsg.h"
#include "gp11_status.h"

#define EXPORT __attribute__((visibility("default")))

/* Where in the mechglue the trampoline was called from. */
#define CALLER __builtin_return_address(0)

EXPORT OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t name,
                                  OM_uint32 time_req, gss_OID_set mechs,
                                  gss_cred_usage_t usage, gss_cred_id_t *cred,
                                  gss_OID_set *actual, OM_uint32 *time_rec)
{
    OM_uint32 major = gp11_gss_acquire_cred(minor, name, time_req, mechs, usage,
                                            cred, actual, time_rec);

    gp11_oid_set_for_caller(major, actual, CALLER);
    return major;
}

EXPORT OM_uint32 gss_acquire_cred_from(OM_uint32 *minor, gss_name_t name,
                                       OM_uint32 time_req, gss_OID_set mechs,
                                       gss_cred_usage_t usage,
                                       gss_const_key_value_set_t store,
                                       gss_cred_id_t *cred, gss_OID_set *actual,
                                       OM_uint32 *time_rec)
{
    OM_uint32 major = gp11_gss_acquire_cred_from(
        minor, name, time_req, mechs, usage, store, cred, actual, time_rec);

    gp11_oid_set_for_caller(major, actual, CALLER);
    return major;
}

EXPORT OM_uint32 gss_add_cred(OM_uint32 *minor, gss_cred_id_t in,
                              gss_name_t name, gss_OID mech,
                              gss_cred_usage_t usage, OM_uint32 itime_req,
                              OM_uint32 atime_req, gss_cred_id_t *out,
                              gss_OID_set *actual, OM_uint32 *itime,
                              OM_uint32 *atime)
{
    OM_uint32 major = gp11_gss_add_cred(minor, in, name, mech, usage, itime_req,
                                        atime_req, out, actual, itime, atime);

    gp11_oid_set_for_caller(major, actual, CALLER);
    return major;
}

EXPORT OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred)
{
    return gp11_gss_release_cred(minor, cred);
}

EXPORT OM_uint32 gss_inquire_cred(OM_uint32 *minor, gss_cred_id_t cred,
                                  gss_name_t *name, OM_uint32 *lifetime,
                                  gss_cred_usage_t *usage, gss_OID_set *mechs)
{
    OM_uint32 major =
        gp11_gss_inquire_cred(minor, cred, name, lifetime, usage, mechs);

    gp11_oid_set_for_caller(major, mechs, CALLER);
    return major;
}

EXPORT OM_uint32 gss_inquire_cred_by_mech(OM_uint32 *minor, gss_cred_id_t cred,
                                          gss_OID mech, gss_name_t *name,
                                          OM_uint32 *init_lifetime,
                                          OM_uint32 *accept_lifetime,
                                          gss_cred_usage_t *usage)
{
    return gp11_gss_inquire_cred_by_mech(minor, cred, mech, name, init_lifetime,
                                         accept_lifetime, usage);
}

EXPORT OM_uint32 gss_init_sec_context(
    OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *context,
    gss_name_t target, gss_OID mech, OM_uint32 req_flags, OM_uint32 time_req,
    gss_channel_bindings_t cb, gss_buffer_t input, gss_OID *actual_mech,
    gss_buffer_t output, OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
    return gp11_gss_init_sec_context(minor, cred, context, target, mech,
                                     req_flags, time_req, cb, input,
                                     actual_mech, output, ret_flags, time_rec);
}

EXPORT OM_uint32 gss_accept_sec_context(
    OM_uint32 *minor, gss_ctx_id_t *context, gss_cred_id_t cred,
    gss_buffer_t input, gss_channel_bindings_t cb, gss_name_t *src_name,
    gss_OID *mech, gss_buffer_t output, OM_uint32 *ret_flags,
    OM_uint32 *time_rec, gss_cred_id_t *delegated)
{
    return gp11_gss_accept_sec_context(minor, context, cred, input, cb,
                                       src_name, mech, output, ret_flags,
                                       time_rec, delegated);
}

EXPORT OM_uint32 gss_process_context_token(OM_uint32 *minor,
                                           gss_ctx_id_t context,
                                           gss_buffer_t token)
{
    return gp11_gss_process_context_token(minor, context, token);
}

EXPORT OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                        gss_buffer_t output)
{
    return gp11_gss_delete_sec_context(minor, context, output);
}

EXPORT OM_uint32 gss_context_time(OM_uint32 *minor, gss_ctx_id_t context,
                                  OM_uint32 *time_rec)
{
    return gp11_gss_context_time(minor, context, time_rec);
}

EXPORT OM_uint32 gss_inquire_context(OM_uint32 *minor, gss_ctx_id_t context,
                                     gss_name_t *src, gss_name_t *targ,
                                     OM_uint32 *lifetime, gss_OID *mech,
                                     OM_uint32 *flags, int *locally_initiated,
                                     int *open)
{
    return gp11_gss_inquire_context(minor, context, src, targ, lifetime, mech,
                                    flags, locally_initiated, open);
}

EXPORT OM_uint32 gss_get_mic(OM_uint32 *minor, gss_ctx_id_t context,
                             gss_qop_t qop, gss_buffer_t message,
                             gss_buffer_t token)
{
    return gp11_gss_get_mic(minor, context, qop, message, token);
}

EXPORT OM_uint32 gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t context,
                                gss_buffer_t message, gss_buffer_t token,
                                gss_qop_t *qop)
{
    return gp11_gss_verify_mic(minor, context, message, token, qop);
}

EXPORT OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                          gss_qop_t qop, gss_buffer_t in, int *conf_state,
                          gss_buffer_t out)
{
    return gp11_gss_wrap(minor, context, conf, qop, in, conf_state, out);
}

EXPORT OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context,
                            gss_buffer_t in, gss_buffer_t out, int *conf_state,
                            gss_qop_t *qop)
{
    return gp11_gss_unwrap(minor, context, in, out, conf_state, qop);
}

EXPORT OM_uint32 gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t context,
                                     int conf, gss_qop_t qop,
                                     OM_uint32 req_output_size,
                                     OM_uint32 *max_input_size)
{
    return gp11_gss_wrap_size_limit(minor, context, conf, qop, req_output_size,
                                    max_input_size);
}

EXPORT OM_uint32 gss_wrap_iov(OM_uint32 *minor, gss_ctx_id_t context, int conf,
                              gss_qop_t qop, int *conf_state,
                              gss_iov_buffer_desc *iov, int n)
{
    return gp11_gss_wrap_iov(minor, context, conf, qop, conf_state, iov, n);
}

EXPORT OM_uint32 gss_unwrap_iov(OM_uint32 *minor, gss_ctx_id_t context,
                                int *conf_state, gss_qop_t *qop,
                                gss_iov_buffer_desc *iov, int n)
{
    return gp11_gss_unwrap_iov(minor, context, conf_state, qop, iov, n);
}

EXPORT OM_uint32 gss_wrap_iov_length(OM_uint32 *minor, gss_ctx_id_t context,
                                     int conf, gss_qop_t qop, int *conf_state,
                                     gss_iov_buffer_desc *iov, int n)
{
    return gp11_gss_wrap_iov_length(minor, context, conf, qop, conf_state, iov,
                                    n);
}

EXPORT OM_uint32 gss_get_mic_iov(OM_uint32 *minor, gss_ctx_id_t context,
                                 gss_qop_t qop, gss_iov_buffer_desc *iov, int n)
{
    return gp11_gss_get_mic_iov(minor, context, qop, iov, n);
}

EXPORT OM_uint32 gss_get_mic_iov_length(OM_uint32 *minor, gss_ctx_id_t context,
                                        gss_qop_t qop, gss_iov_buffer_desc *iov,
                                        int n)
{
    return gp11_gss_get_mic_iov_length(minor, context, qop, iov, n);
}

EXPORT OM_uint32 gss_verify_mic_iov(OM_uint32 *minor, gss_ctx_id_t context,
                                    gss_qop_t *qop, gss_iov_buffer_desc *iov,
                                    int n)
{
    return gp11_gss_verify_mic_iov(minor, context, qop, iov, n);
}

EXPORT OM_uint32 gss_export_sec_context(OM_uint32 *minor, gss_ctx_id_t *context,
                                        gss_buffer_t token)
{
    return gp11_gss_export_sec_context(minor, context, token);
}

EXPORT OM_uint32 gss_import_sec_context(OM_uint32 *minor, gss_buffer_t token,
                                        gss_ctx_id_t *context)
{
    return gp11_gss_import_sec_context(minor, token, context);
}

/* MIT's mechglue prefers this one when a module has it. */
EXPORT OM_uint32 gssspi_import_sec_context_by_mech(OM_uint32 *minor,
                                                   gss_OID mech,
                                                   gss_buffer_t token,
                                                   gss_ctx_id_t *context);
EXPORT OM_uint32 gssspi_import_sec_context_by_mech(OM_uint32 *minor,
                                                   gss_OID mech,
                                                   gss_buffer_t token,
                                                   gss_ctx_id_t *context)
{
    return gp11_gss_import_sec_context_by_mech(minor, mech, token, context);
}

EXPORT OM_uint32 gss_pseudo_random(OM_uint32 *minor, gss_ctx_id_t context,
                                   int prf_key, const gss_buffer_t prf_in,
                                   ssize_t desired_output_len,
                                   gss_buffer_t prf_out)
{
    return gp11_gss_pseudo_random(minor, context, prf_key, prf_in,
                                  desired_output_len, prf_out);
}

EXPORT OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status_value,
                                    int status_type, gss_OID mech_type,
                                    OM_uint32 *message_context,
                                    gss_buffer_t status_string)
{
    return gp11_display_status(minor, status_value, status_type, mech_type,
                               message_context, status_string);
}

EXPORT OM_uint32 gss_indicate_mechs(OM_uint32 *minor, gss_OID_set *mechs)
{
    OM_uint32 major = gp11_gss_indicate_mechs(minor, mechs);

    gp11_oid_set_for_caller(major, mechs, CALLER);
    return major;
}

EXPORT OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t input,
                                 gss_OID type, gss_name_t *out)
{
    return gp11_gss_import_name(minor, input, type, out);
}

EXPORT OM_uint32 gss_display_name(OM_uint32 *minor, gss_name_t name,
                                  gss_buffer_t out, gss_OID *type)
{
    return gp11_gss_display_name(minor, name, out, type);
}

/* In no public header: MIT's mechglue looks it up in every plugin and
 * asks it first in gss_release_oid. */
EXPORT OM_uint32 gss_internal_release_oid(OM_uint32 *minor, gss_OID *oid);

EXPORT OM_uint32 gss_internal_release_oid(OM_uint32 *minor, gss_OID *oid)
{
    return gp11_gss_internal_release_oid(minor, oid);
}

EXPORT OM_uint32 gss_compare_name(OM_uint32 *minor, gss_name_t a, gss_name_t b,
                                  int *equal)
{
    return gp11_gss_compare_name(minor, a, b, equal);
}

EXPORT OM_uint32 gss_canonicalize_name(OM_uint32 *minor, gss_name_t in,
                                       const gss_OID mech, gss_name_t *out)
{
    return gp11_gss_canonicalize_name(minor, in, mech, out);
}

EXPORT OM_uint32 gss_export_name(OM_uint32 *minor, gss_name_t name,
                                 gss_buffer_t out)
{
    return gp11_gss_export_name(minor, name, out);
}

EXPORT OM_uint32 gss_duplicate_name(OM_uint32 *minor, gss_name_t in,
                                    gss_name_t *out)
{
    return gp11_gss_duplicate_name(minor, in, out);
}

EXPORT OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name)
{
    return gp11_gss_release_name(minor, name);
}

EXPORT OM_uint32 gss_inquire_names_for_mech(OM_uint32 *minor, gss_OID mech,
                                            gss_OID_set *types)
{
    OM_uint32 major = gp11_gss_inquire_names_for_mech(minor, mech, types);

    gp11_oid_set_for_caller(major, types, CALLER);
    return major;
}

EXPORT OM_uint32 gss_inquire_mechs_for_name(OM_uint32 *minor, gss_name_t name,
                                            gss_OID_set *mechs)
{
    OM_uint32 major = gp11_gss_inquire_mechs_for_name(minor, name, mechs);

    gp11_oid_set_for_caller(major, mechs, CALLER);
    return major;
}

EXPORT OM_uint32 gss_inquire_sec_context_by_oid(OM_uint32 *minor,
                                                const gss_ctx_id_t context,
                                                const gss_OID oid,
                                                gss_buffer_set_t *data)
{
    return gp11_gss_inquire_sec_context_by_oid(minor, context, oid, data);
}

EXPORT OM_uint32 gss_inquire_name(OM_uint32 *minor, gss_name_t name,
                                  int *name_is_mn, gss_OID *mn_mech,
                                  gss_buffer_set_t *attrs)
{
    return gp11_gss_inquire_name(minor, name, name_is_mn, mn_mech, attrs);
}

EXPORT OM_uint32 gss_get_name_attribute(OM_uint32 *minor, gss_name_t name,
                                        gss_buffer_t attr, int *authenticated,
                                        int *complete, gss_buffer_t value,
                                        gss_buffer_t display_value, int *more)
{
    return gp11_gss_get_name_attribute(minor, name, attr, authenticated,
                                       complete, value, display_value, more);
}

EXPORT OM_uint32 gss_set_name_attribute(OM_uint32 *minor, gss_name_t name,
                                        int complete, gss_buffer_t attr,
                                        gss_buffer_t value)
{
    return gp11_gss_set_name_attribute(minor, name, complete, attr, value);
}

EXPORT OM_uint32 gss_delete_name_attribute(OM_uint32 *minor, gss_name_t name,
                                           gss_buffer_t attr)
{
    return gp11_gss_delete_name_attribute(minor, name, attr);
}

EXPORT OM_uint32 gss_display_name_ext(OM_uint32 *minor, gss_name_t name,
                                      gss_OID type, gss_buffer_t out)
{
    return gp11_gss_display_name_ext(minor, name, type, out);
}

EXPORT OM_uint32 gss_export_name_composite(OM_uint32 *minor, gss_name_t name,
                                           gss_buffer_t out)
{
    return gp11_gss_export_name_composite(minor, name, out);
}

EXPORT OM_uint32 gss_localname(OM_uint32 *minor, const gss_name_t name,
                               gss_const_OID mech, gss_buffer_t localname)
{
    return gp11_gss_localname(minor, name, (gss_OID)mech, localname);
}

/* MIT's and Heimdal's gss_authorize_localname and gss_userok ask this. */
EXPORT OM_uint32 gssspi_authorize_localname(OM_uint32 *minor,
                                            const gss_name_t name,
                                            gss_const_buffer_t user,
                                            gss_const_OID user_type);
EXPORT OM_uint32 gssspi_authorize_localname(OM_uint32 *minor,
                                            const gss_name_t name,
                                            gss_const_buffer_t user,
                                            gss_const_OID user_type)
{
    return gp11_gss_authorize_localname(minor, name, user, user_type);
}

EXPORT OM_uint32 gss_inquire_attrs_for_mech(OM_uint32 *minor,
                                            gss_const_OID mech,
                                            gss_OID_set *attrs,
                                            gss_OID_set *known)
{
    OM_uint32 major =
        gp11_gss_inquire_attrs_for_mech(minor, mech, attrs, known);

    gp11_oid_set_for_caller(major, attrs, CALLER);
    gp11_oid_set_for_caller(major, known, CALLER);
    return major;
}

EXPORT OM_uint32 gss_inquire_saslname_for_mech(OM_uint32 *minor,
                                               const gss_OID mech,
                                               gss_buffer_t sasl_name,
                                               gss_buffer_t mech_name,
                                               gss_buffer_t mech_description)
{
    return gp11_gss_inquire_saslname_for_mech(minor, mech, sasl_name, mech_name,
                                              mech_description);
}

EXPORT OM_uint32 gss_inquire_mech_for_saslname(OM_uint32 *minor,
                                               const gss_buffer_t sasl_name,
                                               gss_OID *mech)
{
    return gp11_gss_inquire_mech_for_saslname(minor, sasl_name, mech);
}
