/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for tests that use gss-pkcs11 the way applications do: through
 * MIT's libgssapi_krb5, which loads the plugin named in GSS_MECH_CONFIG.
 */
#ifndef GP11_GSSLIB_H
#define GP11_GSSLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <cmocka.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

/* The mechanism OID, parsed from the dotted form of the build. */
gss_OID gl_mech(void);

/* A set holding only our mechanism (so the mechglue asks no other). */
gss_OID_set gl_mech_set(void);

/* Imports "service@host" as a host-based service name. */
gss_name_t gl_service(const char *service_at_host);

/* Fails the test with both statuses displayed through the mechglue. */
void gl_fail(const char *what, OM_uint32 major, OM_uint32 minor);

/* The minor status text as the mechglue displays it. */
void gl_minor_text(OM_uint32 minor, char *buf, size_t len);

/* One handshake, driven step by step. */
struct gl_hs {
    gss_ctx_id_t ictx, actx;
    gss_cred_id_t icred, acred;
    gss_name_t target, src;
    gss_OID mech; /* mech passed to init (default: ours) */
    OM_uint32 req_flags, time_req, iflags, aflags, itime, atime;
    gss_channel_bindings_t icb, acb;
    OM_uint32 imajor, iminor, amajor, aminor;
    gss_OID amech_out;
    int legs;
    /* Optional hook: may alter the token of leg n (1 INIT, 2 ACCEPT,
     * 3 FINISH) before it is delivered. */
    void (*mutate)(int leg, gss_buffer_t tok, void *arg);
    void *arg;
};

/* Runs the handshake to completion or the first failure. Returns true
 * if both sides completed. */
bool gl_handshake(struct gl_hs *hs);

/* Releases everything the handshake holds. */
void gl_hs_release(struct gl_hs *hs);

#endif
