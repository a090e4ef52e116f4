/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gss_inquire_sec_context_by_oid: the context properties other mechanisms
 * answer by OID. gss-pkcs11 has none to give: the ones applications ask
 * for (the SSPI/NegoEx session keys, Kerberos' lucid context) are key
 * bytes, and context keys never leave the token. Those are refused with a
 * minor that says so; any other OID is GSS_S_UNAVAILABLE.
 */
#include <string.h>

#include <gssapi/gssapi_ext.h>

#include "gp11_context.h"
#include "gp11_error.h"
#include "gp11_gss.h"
#include "gp11_oid.h"

/* Properties that are key material (content bytes of the OIDs). */
static const struct {
    const char *name;
    gss_OID_desc oid;
} key_oids[] = {
    /* 1.2.840.113554.1.2.2.5.5 */
    {"GSS_C_INQ_SSPI_SESSION_KEY",
     {11, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x05\x05"}},
    /* 1.2.840.113554.1.2.2.5.6 (with its version arc, any) */
    {"GSS_KRB5_EXPORT_LUCID_SEC_CONTEXT",
     {11, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x05\x06"}},
    /* 1.2.840.113554.1.2.2.5.16 */
    {"GSS_C_INQ_NEGOEX_KEY",
     {11, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x05\x10"}},
    /* 1.2.840.113554.1.2.2.5.17 */
    {"GSS_C_INQ_NEGOEX_VERIFY_KEY",
     {11, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x05\x11"}},
};

/* The name of a key-material property oid is, or its prefix, else NULL. */
static const char *key_property(const gss_OID_desc *oid)
{
    for (size_t i = 0; i < sizeof(key_oids) / sizeof(key_oids[0]); i++) {
        const gss_OID_desc *k = &key_oids[i].oid;

        if (oid->length >= k->length &&
            memcmp(oid->elements, k->elements, k->length) == 0)
            return key_oids[i].name;
    }
    return NULL;
}

OM_uint32 gp11_gss_inquire_sec_context_by_oid(OM_uint32 *minor,
                                              gss_ctx_id_t context,
                                              const gss_OID oid,
                                              gss_buffer_set_t *data)
{
    uint32_t ret;
    const char *what;

    if (minor == NULL || data == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *data = GSS_C_NO_BUFFER_SET;
    ret = gp11_ctx_usable((const struct gp11_ctx *)context);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    if (oid == GSS_C_NO_OID)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_BAD_ARG,
                                             "inquire_sec_context_by_oid: "
                                             "no OID"));
    what = key_property(oid);
    if (what != NULL)
        return gp11_fail(minor,
                         gp11_err_set(GP11_ERR_KEYS_STAY_IN_TOKEN,
                                      "%s refused: gss-pkcs11 context keys "
                                      "never leave the token",
                                      what));
    return gp11_fail(minor, gp11_err_set(GP11_ERR_UNAVAILABLE,
                                         "gss-pkcs11 has no context property "
                                         "with that OID"));
}
