/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared set-up of the fuzz targets that need a token: the SoftHSM2 token
 * the test setup made (the softhsm suite's environment: GSS_PKCS11_CONF,
 * SOFTHSM2_CONF, GP11_TEST_SKIP_FILE), credentials acquired once, and
 * handshakes run through the internal gp11_gss_* calls (no mechglue).
 */
#ifndef GP11_FUZZ_CTX_H
#define GP11_FUZZ_CTX_H

#include <stdbool.h>

#include <gssapi/gssapi.h>

/* Credentials and target names, set by fz_token_setup. */
extern gss_cred_id_t fz_icred;   /* the configured initiator (alice) */
extern gss_cred_id_t fz_acred;   /* every configured acceptor identity */
extern gss_name_t fz_target_ec;  /* host@localhost (EC P-256) */
extern gss_name_t fz_target_rsa; /* rsa@localhost (RSA-PSS) */

/*
 * Checks the environment (exit 77, "skipped", when the setup recorded the
 * token as missing; exit 1 with a message when it is not configured),
 * acquires the credentials and imports the names.
 */
void fz_token_setup(void);

/*
 * One complete handshake with req_flags to target; aborts with the
 * reason if it fails (the fixed set-up must always work).
 */
void fz_establish(gss_name_t target, OM_uint32 req_flags, gss_ctx_id_t *ini,
                  gss_ctx_id_t *acc);

/* Deletes a context (GSS_C_NO_CONTEXT allowed). */
void fz_delete(gss_ctx_id_t *ctx);

/* Aborts with the GSS statuses and the recorded sentence. */
void fz_gss_fail(const char *what, OM_uint32 major, OM_uint32 minor)
    __attribute__((noreturn));

#endif
