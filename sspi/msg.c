/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-message calls of the SSPI face (MakeSignature, VerifySignature,
 * EncryptMessage, DecryptMessage and their Sp* forms). Not implemented
 * yet: they wait for the span-based per-message core (issue 7 section 1)
 * and answer SEC_E_UNSUPPORTED_FUNCTION for a valid, established context.
 * The handle checks in sspi_exports.c run first, so a bad handle still
 * gives SEC_E_INVALID_HANDLE.
 */
#include "gp11_sspi.h"

SECURITY_STATUS gp11_sspi_make_signature(struct gp11_sspi_ctx *c, ULONG qop,
                                         SecBufferDesc *msg, ULONG seq)
{
    (void)qop, (void)msg, (void)seq;
    return gp11_sspi_engine_ctx(c) ? SEC_E_UNSUPPORTED_FUNCTION
                                   : SEC_E_INVALID_HANDLE;
}

SECURITY_STATUS gp11_sspi_verify_signature(struct gp11_sspi_ctx *c,
                                           SecBufferDesc *msg, ULONG seq,
                                           ULONG *qop)
{
    (void)qop, (void)msg, (void)seq;
    return gp11_sspi_engine_ctx(c) ? SEC_E_UNSUPPORTED_FUNCTION
                                   : SEC_E_INVALID_HANDLE;
}

SECURITY_STATUS gp11_sspi_encrypt(struct gp11_sspi_ctx *c, ULONG qop,
                                  SecBufferDesc *msg, ULONG seq)
{
    (void)qop, (void)msg, (void)seq;
    return gp11_sspi_engine_ctx(c) ? SEC_E_UNSUPPORTED_FUNCTION
                                   : SEC_E_INVALID_HANDLE;
}

SECURITY_STATUS gp11_sspi_decrypt(struct gp11_sspi_ctx *c, SecBufferDesc *msg,
                                  ULONG seq, ULONG *qop)
{
    (void)qop, (void)msg, (void)seq;
    return gp11_sspi_engine_ctx(c) ? SEC_E_UNSUPPORTED_FUNCTION
                                   : SEC_E_INVALID_HANDLE;
}
