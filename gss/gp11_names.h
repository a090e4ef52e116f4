/* SPDX-License-Identifier: Apache-2.0 */
/* The GSS-API name calls (gss/names.c, gss/name_attrs.c) over the
 * engine's names (core/gp11_name.h). */
#ifndef GP11_NAMES_H
#define GP11_NAMES_H

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include "gp11_name.h"

/* The X.509 subject name type: the mechanism OID with one more arc, 1. */
const gss_OID_desc *gp11_nt_x509_subject(void);

/* GSS-API name calls (RFC 2744 argument order and semantics). */
OM_uint32 gp11_gss_import_name(OM_uint32 *minor, gss_buffer_t input,
                               gss_OID type, gss_name_t *out);
OM_uint32 gp11_gss_display_name(OM_uint32 *minor, gss_name_t name,
                                gss_buffer_t out, gss_OID *type);
OM_uint32 gp11_gss_compare_name(OM_uint32 *minor, gss_name_t a, gss_name_t b,
                                int *equal);

/*
 * MIT's gss_internal_release_oid: claims (and sets to GSS_C_NO_OID) an OID
 * that is one of the plugin's static objects, which gss_release_oid must
 * not free; GSS_S_CONTINUE_NEEDED for any other OID.
 */
OM_uint32 gp11_gss_internal_release_oid(OM_uint32 *minor, gss_OID *oid);
OM_uint32 gp11_gss_canonicalize_name(OM_uint32 *minor, gss_name_t in,
                                     const gss_OID mech, gss_name_t *out);
OM_uint32 gp11_gss_export_name(OM_uint32 *minor, gss_name_t name,
                               gss_buffer_t out);
OM_uint32 gp11_gss_duplicate_name(OM_uint32 *minor, gss_name_t in,
                                  gss_name_t *out);
OM_uint32 gp11_gss_release_name(OM_uint32 *minor, gss_name_t *name);
OM_uint32 gp11_gss_inquire_names_for_mech(OM_uint32 *minor, gss_OID mech,
                                          gss_OID_set *types);
OM_uint32 gp11_gss_inquire_mechs_for_name(OM_uint32 *minor, gss_name_t name,
                                          gss_OID_set *mechs);
OM_uint32 gp11_gss_localname(OM_uint32 *minor, gss_name_t name, gss_OID mech,
                             gss_buffer_t localname);
/* gssspi_authorize_localname: COMPLETE when name's local account
 * (gp11_gss_localname) is exactly user, else GSS_S_UNAUTHORIZED. */
OM_uint32 gp11_gss_authorize_localname(OM_uint32 *minor, gss_name_t name,
                                       gss_const_buffer_t user,
                                       gss_const_OID user_type);

/* The name behind a gss_name_t, or NULL if it is not one of ours. */
struct gp11_name *gp11_name_from_gss(gss_name_t name);

/* RFC 6680 naming extensions (name_attrs.c). */
OM_uint32 gp11_gss_inquire_name(OM_uint32 *minor, gss_name_t name,
                                int *name_is_mn, gss_OID *mn_mech,
                                gss_buffer_set_t *attrs);
OM_uint32 gp11_gss_get_name_attribute(OM_uint32 *minor, gss_name_t name,
                                      gss_buffer_t attr, int *authenticated,
                                      int *complete, gss_buffer_t value,
                                      gss_buffer_t display_value, int *more);
OM_uint32 gp11_gss_set_name_attribute(OM_uint32 *minor, gss_name_t name,
                                      int complete, gss_buffer_t attr,
                                      gss_buffer_t value);
OM_uint32 gp11_gss_delete_name_attribute(OM_uint32 *minor, gss_name_t name,
                                         gss_buffer_t attr);
OM_uint32 gp11_gss_display_name_ext(OM_uint32 *minor, gss_name_t name,
                                    gss_OID type, gss_buffer_t out);
OM_uint32 gp11_gss_export_name_composite(OM_uint32 *minor, gss_name_t name,
                                         gss_buffer_t out);
/* Import of GSS_C_NT_COMPOSITE_EXPORT tokens (called by import_name). */
OM_uint32 gp11_import_name_composite(OM_uint32 *minor, gss_buffer_t in,
                                     gss_name_t *out);

#endif
