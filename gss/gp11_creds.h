/* SPDX-License-Identifier: Apache-2.0 */
/* The GSS-API credential calls (gss/creds.c) over the engine's
 * credentials (core/gp11_cred.h). */
#ifndef GP11_CREDS_H
#define GP11_CREDS_H

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include "gp11_cred.h"
#include "gp11_names.h"

OM_uint32 gp11_gss_acquire_cred_from(OM_uint32 *minor, gss_name_t name,
                                     OM_uint32 time_req, gss_OID_set mechs,
                                     gss_cred_usage_t usage,
                                     gss_const_key_value_set_t store,
                                     gss_cred_id_t *cred, gss_OID_set *actual,
                                     OM_uint32 *time_rec);
OM_uint32 gp11_gss_acquire_cred(OM_uint32 *minor, gss_name_t name,
                                OM_uint32 time_req, gss_OID_set mechs,
                                gss_cred_usage_t usage, gss_cred_id_t *cred,
                                gss_OID_set *actual, OM_uint32 *time_rec);
OM_uint32 gp11_gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred);
OM_uint32 gp11_gss_inquire_cred(OM_uint32 *minor, gss_cred_id_t cred,
                                gss_name_t *name, OM_uint32 *lifetime,
                                gss_cred_usage_t *usage, gss_OID_set *mechs);
OM_uint32 gp11_gss_inquire_cred_by_mech(OM_uint32 *minor, gss_cred_id_t cred,
                                        gss_OID mech, gss_name_t *name,
                                        OM_uint32 *init_lifetime,
                                        OM_uint32 *accept_lifetime,
                                        gss_cred_usage_t *usage);
OM_uint32 gp11_gss_add_cred(OM_uint32 *minor, gss_cred_id_t in, gss_name_t name,
                            gss_OID mech, gss_cred_usage_t usage,
                            OM_uint32 itime_req, OM_uint32 atime_req,
                            gss_cred_id_t *out, gss_OID_set *actual,
                            OM_uint32 *itime, OM_uint32 *atime);

#endif
