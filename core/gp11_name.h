/* SPDX-License-Identifier: Apache-2.0 */
/* The mechanism's names (docs/names.md describes forms and rules): the
 * engine's name object, no GSS-API type; gss/gp11_names.h adds the
 * gss_* name calls. */
#ifndef GP11_NAME_H
#define GP11_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

/* Longest name string accepted by import (bytes, without terminator). */
#define GP11_NAME_MAX 1024

/* The display form of every anonymous name. */
#define GP11_ANONYMOUS_TEXT "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"

/*
 * A name. Immutable once made, so it may be shared between threads for
 * reading. A gss_name_t handed to the mechglue is a struct gp11_name *
 * (gss/names.c).
 */
struct gp11_name;

enum gp11_name_kind {
    GP11_NAME_HOSTBASED,
    GP11_NAME_USER,
    GP11_NAME_ANONYMOUS,
    GP11_NAME_X509
};

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

/* p as a name if it is one of ours (its magic matches), else NULL. */
struct gp11_name *gp11_name_checked(void *p);

/*
 * Makes a name of kind from s[0..len), the import form of that kind
 * (one trailing NUL is dropped, as MIT's sample programs send it).
 */
uint32_t gp11_name_make(enum gp11_name_kind kind, const char *s, size_t len,
                        struct gp11_name **out);

/* True if a and b name the same principal (never for anonymous). */
bool gp11_name_equal(const struct gp11_name *a, const struct gp11_name *b);

/*
 * The mechanism's part of an exported name (RFC 2743 3.2 NAME, docs/
 * names.md): a kind letter, ':' and the display form (empty for
 * anonymous). import_body makes a name of nlen bytes at p;
 * export_body writes the body at out (NULL: nothing written) and returns
 * its length.
 */
uint32_t gp11_name_import_body(const uint8_t *p, size_t nlen,
                               struct gp11_name **out);
size_t gp11_name_export_body(const struct gp11_name *n, uint8_t *out);

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

#endif
