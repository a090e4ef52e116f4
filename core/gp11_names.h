/* SPDX-License-Identifier: Apache-2.0 */
/* GSS names of gss-pkcs11 (docs/names.md describes forms and rules). */
#ifndef GP11_NAMES_H
#define GP11_NAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <openssl/x509.h>

/* Longest name string accepted by import (bytes, without terminator). */
#define GP11_NAME_MAX 1024

/* The display form of every anonymous name. */
#define GP11_ANONYMOUS_TEXT "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"

/*
 * A name. Immutable once made, so it may be shared between threads for
 * reading. A gss_name_t handed to the mechglue is a struct gp11_name *.
 */
struct gp11_name;

enum gp11_name_kind {
    GP11_NAME_HOSTBASED,
    GP11_NAME_USER,
    GP11_NAME_ANONYMOUS,
    GP11_NAME_X509
};

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

/*
 * Makes a name of kind from a NUL-terminated string in the form import
 * takes for that kind ("service[@host]", a user name, an RFC 4514 DN;
 * NULL or "" for anonymous). Returns GP11_OK or a gp11_err code.
 */
uint32_t gp11_name_new(enum gp11_name_kind kind, const char *value,
                       struct gp11_name **out);

/* Deep copy of n. Returns GP11_OK or GP11_ERR_NOMEM. */
uint32_t gp11_name_dup(const struct gp11_name *n, struct gp11_name **out);

/* Frees n; NULL is allowed. */
void gp11_name_free(struct gp11_name *n);

/* The name behind a gss_name_t, or NULL if it is not one of ours. */
struct gp11_name *gp11_name_from_gss(gss_name_t name);

/* Accessors; n must be a valid name. */
enum gp11_name_kind gp11_name_kind(const struct gp11_name *n);
/* HOSTBASED only, else NULL. */
const char *gp11_name_service(const struct gp11_name *n);
/* HOSTBASED with a host (lower-case), else NULL. */
const char *gp11_name_host(const struct gp11_name *n);
/* Display form. */
const char *gp11_name_text(const struct gp11_name *n);

/*
 * The peer name from a validated certificate (docs/names.md, "Peer names
 * from certificates"). Peer is the acceptor: with service_proven,
 * HOSTBASED service@host, host being `host` if the certificate matches it
 * (X509_check_host: SAN dNSNames, or the CN when there is none), else the
 * first non-wildcard dNSName, else the last subject CN (service NULL means
 * "host"); without service_proven (the certificate binds no such service)
 * the X.509 subject. Peer is the initiator: USER from the first SAN entry
 * of the user_san type (NULL or "rfc822Name": rfc822Name; else the dotted
 * OID of an otherName holding a UTF8String, such as the UPN); else, only
 * when the certificate has no subjectAltName, USER from the last subject
 * CN; else HOSTBASED host@dNSName from the first non-wildcard dNSName (a
 * machine certificate); else X509 with the RFC 4514 subject. A name with a
 * NUL byte is refused, never shortened. Returns GP11_OK,
 * GP11_ERR_CERT_INVALID, GP11_ERR_BAD_ARG or GP11_ERR_NOMEM.
 */
uint32_t gp11_name_from_cert_ex(X509 *leaf, bool peer_is_acceptor,
                                const char *service, bool service_proven,
                                const char *host, const char *user_san,
                                struct gp11_name **out);

/* gp11_name_from_cert_ex with the service proven and rfc822Name users. */
uint32_t gp11_name_from_cert(X509 *leaf, bool peer_is_acceptor,
                             const char *service, const char *host,
                             struct gp11_name **out);

/*
 * The certificate a name stands for (RFC 6680 attributes, name_attrs.c):
 * attach takes a reference (cert NULL: nothing); proven says it was
 * validated in context establishment. gp11_name_cert returns NULL when
 * the name has none.
 */
void gp11_name_attach_cert(struct gp11_name *n, X509 *cert, bool proven);
X509 *gp11_name_cert(const struct gp11_name *n, bool *proven);

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
