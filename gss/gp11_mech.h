/* SPDX-License-Identifier: Apache-2.0 */
/* Mechanism-level calls: mechanism lists, attributes, SASL names, and the
 * entry points whose capability is not implemented yet. */
#ifndef GP11_MECH_H
#define GP11_MECH_H

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

OM_uint32 gp11_gss_indicate_mechs(OM_uint32 *minor, gss_OID_set *mechs);
OM_uint32 gp11_gss_inquire_attrs_for_mech(OM_uint32 *minor, gss_const_OID mech,
                                          gss_OID_set *attrs,
                                          gss_OID_set *known);
OM_uint32 gp11_gss_inquire_saslname_for_mech(OM_uint32 *minor,
                                             const gss_OID mech,
                                             gss_buffer_t sasl_name,
                                             gss_buffer_t mech_name,
                                             gss_buffer_t mech_description);
OM_uint32 gp11_gss_inquire_mech_for_saslname(OM_uint32 *minor,
                                             const gss_buffer_t sasl_name,
                                             gss_OID *mech);

/* The GS2 SASL mechanism name of our OID (RFC 5801 section 3.1). */
const char *gp11_gs2_name(void);

/* Entry points whose capability comes later: GSS_S_UNAVAILABLE. */
OM_uint32 gp11_gss_unavailable(OM_uint32 *minor, const char *call);

#endif
