/* SPDX-License-Identifier: Apache-2.0 */
/* Shared set-up of the fuzz targets that need a token (fuzz_ctx.h). */
#include "fuzz_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_creds.h"
#include "gp11_error.h"
#include "gp11_names.h"

gss_cred_id_t fz_icred = GSS_C_NO_CREDENTIAL;
gss_cred_id_t fz_acred = GSS_C_NO_CREDENTIAL;
gss_name_t fz_target_ec = GSS_C_NO_NAME;
gss_name_t fz_target_rsa = GSS_C_NO_NAME;

void fz_gss_fail(const char *what, OM_uint32 major, OM_uint32 minor)
{
    fprintf(stderr, "%s: major 0x%x, minor 0x%x: %s\n", what, major, minor,
            minor ? gp11_err_message(minor) : "");
    abort();
}

/* GSS_C_NT_HOSTBASED_SERVICE by value: the provider links no mechglue. */
static gss_OID_desc nt_hostbased = {10,
                                    "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"};

/* Imports "service@host" as a host-based name. */
static gss_name_t service(const char *s)
{
    gss_buffer_desc b = {strlen(s), (void *)s};
    gss_name_t n = GSS_C_NO_NAME;
    OM_uint32 minor, major;

    major = gp11_gss_import_name(&minor, &b, &nt_hostbased, &n);
    if (major != GSS_S_COMPLETE)
        fz_gss_fail("import_name", major, minor);
    return n;
}

void fz_token_setup(void)
{
    const char *skip = getenv("GP11_TEST_SKIP_FILE");
    OM_uint32 minor, major;

    if (skip != NULL && access(skip, F_OK) == 0) {
        fprintf(stderr, "the test token is not installed: skipping\n");
        exit(77);
    }
    if (getenv("GSS_PKCS11_CONF") == NULL) {
        fprintf(stderr, "GSS_PKCS11_CONF is not set: run through meson test "
                        "(softhsm environment) or contrib/fuzz.sh\n");
        exit(1);
    }
    major = gp11_gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, GSS_C_NO_OID_SET,
                                  GSS_C_INITIATE, &fz_icred, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        fz_gss_fail("acquire_cred(initiate) (did the setup suite run?)", major,
                    minor);
    major = gp11_gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, GSS_C_NO_OID_SET,
                                  GSS_C_ACCEPT, &fz_acred, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        fz_gss_fail("acquire_cred(accept)", major, minor);
    fz_target_ec = service("host@localhost");
    fz_target_rsa = service("rsa@localhost");
}

void fz_establish(gss_name_t target, OM_uint32 req_flags, gss_ctx_id_t *ini,
                  gss_ctx_id_t *acc)
{
    gss_buffer_desc init = {0, NULL}, accept = {0, NULL}, finish = {0, NULL};
    gss_buffer_desc none = {0, NULL}, confirm = {0, NULL};
    OM_uint32 minor, major;

    *ini = *acc = GSS_C_NO_CONTEXT;
    major = gp11_gss_init_sec_context(&minor, fz_icred, ini, target,
                                      GSS_C_NO_OID, req_flags, 0, NULL, &none,
                                      NULL, &init, NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("init_sec_context (INIT)", major, minor);
    major = gp11_gss_accept_sec_context(&minor, acc, fz_acred, &init, NULL,
                                        NULL, NULL, &accept, NULL, NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("accept_sec_context (INIT)", major, minor);
    major = gp11_gss_init_sec_context(&minor, fz_icred, ini, target,
                                      GSS_C_NO_OID, req_flags, 0, NULL, &accept,
                                      NULL, &finish, NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED)
        fz_gss_fail("init_sec_context (ACCEPT)", major, minor);
    major = gp11_gss_accept_sec_context(&minor, acc, fz_acred, &finish, NULL,
                                        NULL, NULL, &confirm, NULL, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        fz_gss_fail("accept_sec_context (FINISH)", major, minor);
    major = gp11_gss_init_sec_context(&minor, fz_icred, ini, target,
                                      GSS_C_NO_OID, req_flags, 0, NULL,
                                      &confirm, NULL, &none, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        fz_gss_fail("init_sec_context (CONFIRM)", major, minor);
    free(init.value);
    free(accept.value);
    free(finish.value);
    free(confirm.value);
}

void fz_delete(gss_ctx_id_t *ctx)
{
    OM_uint32 minor;

    if (*ctx != GSS_C_NO_CONTEXT)
        gp11_gss_delete_sec_context(&minor, ctx, GSS_C_NO_BUFFER);
}
