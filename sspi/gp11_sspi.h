/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SSPI face, inside: the handle table, the status table and the
 * calls behind the exported names of sspi_exports.c (docs/sspi.md).
 */
#ifndef GP11_SSPI_H
#define GP11_SSPI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gss-pkcs11/sspi.h"

struct gp11_cred;
struct gp11_ctx;

/* ---- handles.c: the handle table ----------------------------------------- */

/* The first member of every object in the table: where it sits. */
struct gp11_sspi_obj {
    uint32_t slot;
};

/* What a handle designates; also its SecHandle.dwUpper. */
enum gp11_sspi_kind {
    GP11_SSPI_CRED = 0x67705343, /* "gpSC" */
    GP11_SSPI_CTX = 0x67705358,  /* "gpSX" */
};

/*
 * Enters obj into the table; free_fn destroys it once the handle is
 * removed and no call uses it any more. Fills *h (dwLower = generation
 * and slot, dwUpper = kind). SEC_E_INSUFFICIENT_MEMORY if the table is
 * full (free_fn is then not called).
 */
SECURITY_STATUS gp11_sspi_handle_new(enum gp11_sspi_kind kind,
                                     struct gp11_sspi_obj *obj,
                                     void (*free_fn)(void *), SecHandle *h);

/*
 * The object behind a handle of this kind, held until gp11_sspi_put: NULL
 * for a NULL pointer, a made-up, stale (removed) or other-kind handle.
 * The handle's bits are only compared with the table, never dereferenced.
 */
void *gp11_sspi_get(enum gp11_sspi_kind kind, const SecHandle *h);

/* The same for a context's LSA_SEC_HANDLE (its dwLower). */
void *gp11_sspi_get_lsa(LSA_SEC_HANDLE lsa);

/* Releases what gp11_sspi_get returned (NULL allowed). */
void gp11_sspi_put(void *obj);

/* Removes a handle: later lookups fail, the object is destroyed when the
 * last user puts it. SEC_E_INVALID_HANDLE if there is no such handle. */
SECURITY_STATUS gp11_sspi_handle_remove(enum gp11_sspi_kind kind,
                                        const SecHandle *h);

/* ---- status.c: GP11 codes to SEC_E_* ---------------------------------------
 */

/* The SECURITY_STATUS for a failure of the engine with this GP11 code. */
SECURITY_STATUS gp11_sspi_status(uint32_t code);

/* ---- engine.c: credentials, establishment, attributes -----------------------
 */

struct gp11_sspi_cred {
    struct gp11_sspi_obj hdr;
    struct gp11_cred *cred;
    ULONG use; /* SECPKG_CRED_* */
};

struct gp11_sspi_ctx {
    struct gp11_sspi_obj hdr;
    pthread_mutex_t lock;  /* one call at a time on a context */
    struct gp11_ctx *ectx; /* the engine's; NULL once a handshake step failed */
    bool initiator;
    bool open;    /* established */
    ULONG req;    /* ISC_REQ_* / ASC_REQ_* asked for */
    ULONG attrs;  /* ISC_RET_* / ASC_RET_* */
    time_t start; /* when it was established */
};

SECURITY_STATUS gp11_sspi_acquire(const char *principal, const char *package,
                                  ULONG use, void *auth_data, CredHandle *out,
                                  TimeStamp *expiry);
SECURITY_STATUS gp11_sspi_free_cred(CredHandle *h);
SECURITY_STATUS gp11_sspi_init(CredHandle *cred, CtxtHandle *ctx,
                               const char *target, ULONG req, ULONG drep,
                               SecBufferDesc *in, CtxtHandle *new_ctx,
                               SecBufferDesc *out, ULONG *attrs,
                               TimeStamp *expiry);
SECURITY_STATUS gp11_sspi_accept(CredHandle *cred, CtxtHandle *ctx,
                                 SecBufferDesc *in, ULONG req, ULONG drep,
                                 CtxtHandle *new_ctx, SecBufferDesc *out,
                                 ULONG *attrs, TimeStamp *expiry);
SECURITY_STATUS gp11_sspi_delete(CtxtHandle *h);
SECURITY_STATUS gp11_sspi_query(struct gp11_sspi_ctx *c, ULONG attr, void *buf);

/*
 * ExportSecurityContext onto the mechanism's context export (protocol.md
 * 5): the packed context is the blob, malloc'ed (FreeContextBuffer). The
 * context's keys are gone afterwards whatever fFlags says: with
 * SECPKG_CONTEXT_EXPORT_DELETE_OLD the handle is removed, without it the
 * handle stays (for DeleteSecurityContext) but nothing else accepts it.
 */
SECURITY_STATUS gp11_sspi_export(CtxtHandle *h, ULONG flags, SecBuffer *packed,
                                 HANDLE *token);
/* ImportSecurityContextA: a blob of ExportSecurityContext (or of the GSS
 * face's export, without the mechglue's OID prefix) into a new handle. */
SECURITY_STATUS gp11_sspi_import(const char *package, SecBuffer *packed,
                                 CtxtHandle *out);

/* An established context's engine context, or NULL (not established,
 * failed); c->lock must be held. */
struct gp11_ctx *gp11_sspi_engine_ctx(struct gp11_sspi_ctx *c);

/* Absolute time t as a Windows FILETIME (100 ns since 1601). */
void gp11_sspi_timestamp(time_t t, TimeStamp *ts);

/* ---- msg.c: per-message calls ------------------------------------------- */

SECURITY_STATUS gp11_sspi_make_signature(struct gp11_sspi_ctx *c, ULONG qop,
                                         SecBufferDesc *msg, ULONG seq);
SECURITY_STATUS gp11_sspi_verify_signature(struct gp11_sspi_ctx *c,
                                           SecBufferDesc *msg, ULONG seq,
                                           ULONG *qop);
SECURITY_STATUS gp11_sspi_encrypt(struct gp11_sspi_ctx *c, ULONG qop,
                                  SecBufferDesc *msg, ULONG seq);
SECURITY_STATUS gp11_sspi_decrypt(struct gp11_sspi_ctx *c, SecBufferDesc *msg,
                                  ULONG seq, ULONG *qop);

#endif
