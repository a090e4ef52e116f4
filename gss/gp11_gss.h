/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the GSS-facing code: OID sets and status mapping. */
#ifndef GP11_GSS_H
#define GP11_GSS_H

#include <stddef.h>
#include <stdint.h>

#include <gssapi/gssapi.h>

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

#endif
