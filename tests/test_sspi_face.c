/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SSPI face (libgss-pkcs11-sspi.so.0) on each token, as an
 * application uses it, next to the GSS face through MIT's mechglue
 * (libgssapi_krb5 loading the plugin from GSS_MECH_CONFIG) in the same
 * process. Groups (argv[1]):
 *   main   the table, bad handles, SSPI <-> GSS and SSPI <-> SSPI
 *          establishment both ways, attributes, bindings, bad tokens
 *   extra  acceptors with an untrusted, a wrong-host and an expired
 *          certificate (extra.conf)
 *   export ExportSecurityContext / ImportSecurityContextA (export.conf):
 *          imports in other processes ("export-child PKG BLOB IN OUT",
 *          this program re-executed) with GSS and SSPI peers, once only,
 *          refusals, blobs shared with the GSS face
 * The handshake loop runs until both sides report completion, whatever
 * the number of legs.
 */
#include "gsslib.h"
#include "testlib.h"

#include "gss-pkcs11/sspi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PKG GSS_PKCS11_SSP_NAME
#define MAX_TOK 65536

/* ---- a handshake between any two faces --------------------------------- */

struct sp_side {
    bool sspi;
    /* SSPI */
    CredHandle *cred;
    CtxtHandle ctx;
    bool have_ctx;
    ULONG req, attrs;
    bool caller_buffers; /* no ALLOCATE_MEMORY: our own output buffer */
    const void *cb;      /* SEC_CHANNEL_BINDINGS blob */
    size_t cb_len;
    SECURITY_STATUS st;
    /* GSS */
    gss_ctx_id_t gctx;
    gss_channel_bindings_t gcb;
    OM_uint32 major, minor, flags;
    gss_name_t src;
    bool done;
};

struct sp_hs {
    const char *target;
    struct sp_side i, a;
    int legs;
    void (*mutate)(int leg, uint8_t *tok, size_t *len);
};

/* One initiator step; in/in_len is the acceptor's token (none first). */
static bool init_step(struct sp_hs *hs, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len)
{
    struct sp_side *s = &hs->i;

    *out_len = 0;
    if (s->sspi) {
        SecBuffer ib[2], ob = {0, SECBUFFER_TOKEN, NULL};
        SecBufferDesc id = {SECBUFFER_VERSION, 0, ib};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        uint8_t own[MAX_TOK];
        ULONG req = s->req | (s->caller_buffers ? 0 : ISC_REQ_ALLOCATE_MEMORY);
        TimeStamp exp;

        if (s->caller_buffers) {
            ob.pvBuffer = own;
            ob.cbBuffer = sizeof(own);
        }
        if (in) {
            ib[id.cBuffers++] =
                (SecBuffer){(ULONG)in_len, SECBUFFER_TOKEN, (void *)in};
        }
        if (s->cb && !s->have_ctx)
            ib[id.cBuffers++] = (SecBuffer){
                (ULONG)s->cb_len, SECBUFFER_CHANNEL_BINDINGS, (void *)s->cb};
        s->st = InitializeSecurityContextA(
            s->cred, s->have_ctx ? &s->ctx : NULL,
            s->have_ctx ? NULL : (SEC_CHAR *)hs->target, req, 0,
            SECURITY_NATIVE_DREP, id.cBuffers ? &id : NULL, 0, &s->ctx, &od,
            &s->attrs, &exp);
        if (s->st == SEC_E_OK || s->st == SEC_I_CONTINUE_NEEDED)
            s->have_ctx = true;
        if (s->st != SEC_E_OK && s->st != SEC_I_CONTINUE_NEEDED)
            return false;
        assert_true(ob.cbBuffer <= MAX_TOK);
        if (ob.cbBuffer)
            memcpy(out, ob.pvBuffer, ob.cbBuffer);
        *out_len = ob.cbBuffer;
        if (!s->caller_buffers && ob.pvBuffer) {
            assert_true(s->attrs & ISC_RET_ALLOCATED_MEMORY);
            FreeContextBuffer(ob.pvBuffer);
        }
        s->done = s->st == SEC_E_OK;
        return true;
    } else {
        gss_buffer_desc ib = {in_len, (void *)in}, ob = GSS_C_EMPTY_BUFFER;
        gss_name_t t = gl_service(hs->target);
        OM_uint32 minor;

        s->major = gss_init_sec_context(
            &s->minor, GSS_C_NO_CREDENTIAL, &s->gctx, t, gl_mech(),
            s->req ? s->req : GSS_C_MUTUAL_FLAG, 0, s->gcb,
            in ? &ib : GSS_C_NO_BUFFER, NULL, &ob, &s->flags, NULL);
        gss_release_name(&minor, &t);
        if (ob.length) {
            assert_true(ob.length <= MAX_TOK);
            memcpy(out, ob.value, ob.length);
            *out_len = ob.length;
        }
        gss_release_buffer(&minor, &ob);
        if (GSS_ERROR(s->major))
            return false;
        s->done = s->major == GSS_S_COMPLETE;
        return true;
    }
}

/* One acceptor step. A refusal may still produce a token (ERROR). */
static bool accept_step(struct sp_hs *hs, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t *out_len)
{
    struct sp_side *s = &hs->a;

    *out_len = 0;
    if (s->sspi) {
        SecBuffer ib[2], ob = {0, SECBUFFER_TOKEN, NULL};
        SecBufferDesc id = {SECBUFFER_VERSION, 1, ib};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        uint8_t own[MAX_TOK];
        ULONG req = s->req | (s->caller_buffers ? 0 : ASC_REQ_ALLOCATE_MEMORY);
        TimeStamp exp;

        if (s->caller_buffers) {
            ob.pvBuffer = own;
            ob.cbBuffer = sizeof(own);
        }
        ib[0] = (SecBuffer){(ULONG)in_len, SECBUFFER_TOKEN, (void *)in};
        if (s->cb && !s->have_ctx)
            ib[id.cBuffers++] = (SecBuffer){
                (ULONG)s->cb_len, SECBUFFER_CHANNEL_BINDINGS, (void *)s->cb};
        s->st = AcceptSecurityContext(s->cred, s->have_ctx ? &s->ctx : NULL,
                                      &id, req, SECURITY_NATIVE_DREP, &s->ctx,
                                      &od, &s->attrs, &exp);
        if (s->st == SEC_E_OK || s->st == SEC_I_CONTINUE_NEEDED)
            s->have_ctx = true;
        if (ob.cbBuffer && ob.pvBuffer) {
            assert_true(ob.cbBuffer <= MAX_TOK);
            memcpy(out, ob.pvBuffer, ob.cbBuffer);
            *out_len = ob.cbBuffer;
        }
        if (!s->caller_buffers && ob.pvBuffer)
            FreeContextBuffer(ob.pvBuffer);
        if (s->st != SEC_E_OK && s->st != SEC_I_CONTINUE_NEEDED)
            return false;
        s->done = s->st == SEC_E_OK;
        return true;
    } else {
        gss_buffer_desc ib = {in_len, (void *)in}, ob = GSS_C_EMPTY_BUFFER;
        OM_uint32 minor;

        if (s->src != GSS_C_NO_NAME)
            gss_release_name(&minor, &s->src);
        s->major = gss_accept_sec_context(
            &s->minor, &s->gctx, GSS_C_NO_CREDENTIAL, &ib, s->gcb, &s->src,
            NULL, &ob, &s->flags, NULL, NULL);
        if (ob.length) {
            assert_true(ob.length <= MAX_TOK);
            memcpy(out, ob.value, ob.length);
            *out_len = ob.length;
        }
        gss_release_buffer(&minor, &ob);
        if (GSS_ERROR(s->major))
            return false;
        s->done = s->major == GSS_S_COMPLETE;
        return true;
    }
}

/* Runs the handshake until both sides are complete (any number of legs)
 * or one fails; a refusing acceptor's token still reaches the initiator.
 * True if both completed. */
static bool sp_handshake(struct sp_hs *hs)
{
    uint8_t a[MAX_TOK], b[MAX_TOK]; /* per thread */
    uint8_t *in = NULL, *out = a;
    size_t in_len = 0, out_len = 0;

    for (hs->legs = 1; hs->legs <= 8; hs->legs++) {
        bool ok, initiator = hs->legs % 2 == 1;

        ok = initiator ? init_step(hs, in, in_len, out, &out_len)
                       : accept_step(hs, in, in_len, out, &out_len);
        if (!ok) {
            if (!initiator && out_len > 0) {
                /* Deliver the acceptor's refusal to the initiator. */
                hs->legs++;
                init_step(hs, out, out_len, in == a ? b : a, &in_len);
            }
            return false;
        }
        if (out_len == 0)
            return hs->i.done && hs->a.done;
        if (hs->mutate)
            hs->mutate(hs->legs, out, &out_len);
        in = out;
        in_len = out_len;
        out = out == a ? b : a;
    }
    fail_msg("the handshake did not end after 8 legs");
    return false;
}

static void sp_release(struct sp_hs *hs)
{
    OM_uint32 minor;

    if (hs->i.have_ctx)
        assert_int_equal(DeleteSecurityContext(&hs->i.ctx), SEC_E_OK);
    if (hs->a.have_ctx)
        assert_int_equal(DeleteSecurityContext(&hs->a.ctx), SEC_E_OK);
    if (hs->i.gctx)
        gss_delete_sec_context(&minor, &hs->i.gctx, GSS_C_NO_BUFFER);
    if (hs->a.gctx)
        gss_delete_sec_context(&minor, &hs->a.gctx, GSS_C_NO_BUFFER);
    if (hs->a.src)
        gss_release_name(&minor, &hs->a.src);
}

/* Asserts a status, naming both values on mismatch. */
#define assert_st(got, want)                                                   \
    do {                                                                       \
        SECURITY_STATUS g_ = (got), w_ = (want);                               \
        if (g_ != w_)                                                          \
            fail_msg("%s: status 0x%08x, expected %s (0x%08x)", #got,          \
                     (unsigned)g_, #want, (unsigned)w_);                       \
    } while (0)

/* The acceptor credential of a service. */
static void acceptor_cred(const char *svc, CredHandle *h)
{
    assert_st(AcquireCredentialsHandleA((SEC_CHAR *)svc, (SEC_CHAR *)PKG,
                                        SECPKG_CRED_INBOUND, NULL, NULL, NULL,
                                        NULL, h, NULL),
              SEC_E_OK);
}

/* ---- main group: the table and the package --------------------------------
 */

static void table_has_the_exported_functions(void **state)
{
    PSecurityFunctionTableA t = InitSecurityInterfaceA();

    (void)state;
    assert_non_null(t);
    assert_int_equal(t->dwVersion, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION);
    assert_ptr_equal(t->EnumerateSecurityPackagesA, EnumerateSecurityPackagesA);
    assert_ptr_equal(t->AcquireCredentialsHandleA, AcquireCredentialsHandleA);
    assert_ptr_equal(t->FreeCredentialsHandle, FreeCredentialsHandle);
    assert_ptr_equal(t->InitializeSecurityContextA, InitializeSecurityContextA);
    assert_ptr_equal(t->AcceptSecurityContext, AcceptSecurityContext);
    assert_ptr_equal(t->DeleteSecurityContext, DeleteSecurityContext);
    assert_ptr_equal(t->QueryContextAttributesA, QueryContextAttributesA);
    assert_ptr_equal(t->MakeSignature, MakeSignature);
    assert_ptr_equal(t->VerifySignature, VerifySignature);
    assert_ptr_equal(t->FreeContextBuffer, FreeContextBuffer);
    assert_ptr_equal(t->QuerySecurityPackageInfoA, QuerySecurityPackageInfoA);
    assert_ptr_equal(t->ExportSecurityContext, ExportSecurityContext);
    assert_ptr_equal(t->ImportSecurityContextA, ImportSecurityContextA);
    assert_ptr_equal(t->EncryptMessage, EncryptMessage);
    assert_ptr_equal(t->DecryptMessage, DecryptMessage);
    assert_null(t->Reserved2);
    assert_null(t->CompleteAuthToken);
}

static void package_is_listed(void **state)
{
    PSecPkgInfoA p = NULL;
    ULONG n = 0;

    (void)state;
    assert_st(EnumerateSecurityPackagesA(&n, &p), SEC_E_OK);
    assert_int_equal(n, 1);
    assert_string_equal(p->Name, PKG);
    assert_true(p->fCapabilities & SECPKG_FLAG_MUTUAL_AUTH);
    assert_int_equal(p->cbMaxToken, 65535);
    FreeContextBuffer(p);
    assert_st(QuerySecurityPackageInfoA((SEC_CHAR *)PKG, &p), SEC_E_OK);
    assert_string_equal(p->Name, PKG);
    FreeContextBuffer(p);
    assert_st(QuerySecurityPackageInfoA((SEC_CHAR *)"Kerberos", &p),
              SEC_E_SECPKG_NOT_FOUND);
}

static void credentials_refused(void **state)
{
    CredHandle h;
    char pw[] = "secret";

    (void)state;
    assert_st(AcquireCredentialsHandleA(NULL, (SEC_CHAR *)"NTLM",
                                        SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
                                        NULL, &h, NULL),
              SEC_E_SECPKG_NOT_FOUND);
    assert_st(AcquireCredentialsHandleA(NULL, (SEC_CHAR *)PKG,
                                        SECPKG_CRED_OUTBOUND, NULL, pw, NULL,
                                        NULL, &h, NULL),
              SEC_E_UNKNOWN_CREDENTIALS);
    /* No [acceptor] section for this service. */
    assert_st(AcquireCredentialsHandleA((SEC_CHAR *)"nosuch@localhost",
                                        (SEC_CHAR *)PKG, SECPKG_CRED_INBOUND,
                                        NULL, NULL, NULL, NULL, &h, NULL),
              SEC_E_NO_CREDENTIALS);
}

/* ---- main group: handles
 * ----------------------------------------------------- */

/* Every context call on h gives SEC_E_INVALID_HANDLE; with lsa, also
 * the Sp* calls on h->dwLower. */
static void refused_everywhere_lsa(CtxtHandle *h, bool lsa)
{
    SecPkgContext_Sizes sz;
    SecBuffer b[2] = {{4, SECBUFFER_DATA, (void *)"abcd"},
                      {0, SECBUFFER_TOKEN, NULL}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    SECPKG_USER_FUNCTION_TABLE *ut;
    ULONG ver, n, qop;
    uint8_t tok[64];
    SecBufferDesc out = {SECBUFFER_VERSION, 1,
                         &(SecBuffer){sizeof(tok), SECBUFFER_TOKEN, tok}};
    SecBufferDesc in = {SECBUFFER_VERSION, 1,
                        &(SecBuffer){sizeof(tok), SECBUFFER_TOKEN, tok}};

    b[1].pvBuffer = tok;
    b[1].cbBuffer = sizeof(tok);
    memset(tok, 0x55, sizeof(tok));
    assert_st(QueryContextAttributesA(h, SECPKG_ATTR_SIZES, &sz),
              SEC_E_INVALID_HANDLE);
    assert_st(MakeSignature(h, 0, &d, 0), SEC_E_INVALID_HANDLE);
    assert_st(VerifySignature(h, &d, 0, &qop), SEC_E_INVALID_HANDLE);
    assert_st(EncryptMessage(h, 0, &d, 0), SEC_E_INVALID_HANDLE);
    assert_st(DecryptMessage(h, &d, 0, &qop), SEC_E_INVALID_HANDLE);
    if (h != NULL && lsa) {
        CtxtHandle nh;
        ULONG attrs;

        assert_st(InitializeSecurityContextA(NULL, h, NULL, 0, 0,
                                             SECURITY_NATIVE_DREP, &in, 0, &nh,
                                             &out, &attrs, NULL),
                  SEC_E_INVALID_HANDLE);
        assert_st(AcceptSecurityContext(NULL, h, &in, 0, SECURITY_NATIVE_DREP,
                                        &nh, &out, &attrs, NULL),
                  SEC_E_INVALID_HANDLE);
        assert_st(SpUserModeInitialize(SECPKG_INTERFACE_VERSION, &ver, &ut, &n),
                  SEC_E_OK);
        assert_st(ut->MakeSignature(h->dwLower, 0, &d, 0),
                  SEC_E_INVALID_HANDLE);
        assert_st(ut->VerifySignature(h->dwLower, &d, 0, &qop),
                  SEC_E_INVALID_HANDLE);
        assert_st(ut->SealMessage(h->dwLower, 0, &d, 0), SEC_E_INVALID_HANDLE);
        assert_st(ut->UnsealMessage(h->dwLower, &d, 0, &qop),
                  SEC_E_INVALID_HANDLE);
        assert_st(
            ut->QueryContextAttributes(h->dwLower, SECPKG_ATTR_SIZES, &sz),
            SEC_E_INVALID_HANDLE);
    }
    {
        SecBuffer packed = {0, SECBUFFER_EMPTY, NULL};

        assert_st(ExportSecurityContext(h, 0, &packed, NULL),
                  SEC_E_INVALID_HANDLE);
        assert_null(packed.pvBuffer);
    }
    assert_st(DeleteSecurityContext(h), SEC_E_INVALID_HANDLE);
}

static void refused_everywhere(CtxtHandle *h)
{
    refused_everywhere_lsa(h, true);
}

/* A context pair through SSPI on both sides, established. */
static void sspi_pair(struct sp_hs *hs)
{
    memset(hs, 0, sizeof(*hs));
    hs->target = "host@localhost";
    hs->i.sspi = hs->a.sspi = true;
    hs->i.req = ISC_REQ_MUTUAL_AUTH;
    assert_true(sp_handshake(hs));
}

static void bad_handles_refused(void **state)
{
    CtxtHandle zero = {0, 0}, made_up = {0x12345678, 0x9abcdef0},
               ones = {~(ULONG_PTR)0, ~(ULONG_PTR)0};
    CtxtHandle kept, other_gen, other_slot, as_cred;
    SECPKG_USER_FUNCTION_TABLE *ut;
    CredHandle cred;
    struct sp_hs hs;
    ULONG ver, n;

    (void)state;
    refused_everywhere(NULL);
    refused_everywhere(&zero);
    refused_everywhere(&made_up);
    refused_everywhere(&ones);
    sspi_pair(&hs);
    /* The same slot with another generation, another slot, the right
     * bits as the wrong kind. */
    other_gen = hs.i.ctx;
    other_gen.dwLower ^= (ULONG_PTR)1 << 24;
    refused_everywhere(&other_gen);
    other_slot = hs.i.ctx;
    other_slot.dwLower += 1000;
    refused_everywhere(&other_slot);
    as_cred = hs.i.ctx;
    as_cred.dwUpper ^= 1;
    refused_everywhere_lsa(&as_cred, false); /* dwLower is the context's */
    /* A context handle is no credential handle, and vice versa. */
    assert_st(FreeCredentialsHandle(&hs.i.ctx), SEC_E_INVALID_HANDLE);
    acceptor_cred("host@localhost", &cred);
    /* A credential's dwLower is no LSA_SEC_HANDLE of a context: deleting
     * it so must leave the credential alone. */
    assert_st(SpUserModeInitialize(SECPKG_INTERFACE_VERSION, &ver, &ut, &n),
              SEC_E_OK);
    assert_st(ut->DeleteUserModeContext(cred.dwLower), SEC_E_INVALID_HANDLE);
    refused_everywhere(&cred);
    assert_st(FreeCredentialsHandle(&cred), SEC_E_OK);
    assert_st(FreeCredentialsHandle(&cred), SEC_E_INVALID_HANDLE);
    assert_st(FreeCredentialsHandle(NULL), SEC_E_INVALID_HANDLE);
    /* A deleted context, and one whose slot a new context took. */
    kept = hs.i.ctx;
    sp_release(&hs);
    refused_everywhere(&kept);
    sspi_pair(&hs);
    refused_everywhere(&kept);
    sp_release(&hs);
}

/* The initiator's context after its first leg, and the acceptor's after
 * its first: both half-established. */
static void half_established_refused(void **state)
{
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL}, ab = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    SecBufferDesc ad = {SECBUFFER_VERSION, 1, &ab};
    SecBufferDesc aid = {SECBUFFER_VERSION, 1, &ob};
    SecPkgContext_Sizes sz;
    SecBuffer b[2] = {{4, SECBUFFER_DATA, (void *)"abcd"},
                      {0, SECBUFFER_TOKEN, NULL}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    CtxtHandle ic, ac;
    ULONG attrs;
    SECURITY_STATUS st;

    (void)state;
    assert_st(InitializeSecurityContextA(
                  NULL, NULL, (SEC_CHAR *)"host/localhost",
                  ISC_REQ_ALLOCATE_MEMORY, 0, SECURITY_NATIVE_DREP, NULL, 0,
                  &ic, &od, &attrs, NULL),
              SEC_I_CONTINUE_NEEDED);
    assert_true(ob.cbBuffer > 0);
    assert_st(QueryContextAttributesA(&ic, SECPKG_ATTR_SIZES, &sz),
              SEC_E_INVALID_HANDLE);
    assert_st(MakeSignature(&ic, 0, &d, 0), SEC_E_INVALID_HANDLE);
    assert_st(ExportSecurityContext(&ic, SECPKG_CONTEXT_EXPORT_DELETE_OLD,
                                    &b[1], NULL),
              SEC_E_INVALID_HANDLE);
    st = AcceptSecurityContext(NULL, NULL, &aid, ASC_REQ_ALLOCATE_MEMORY,
                               SECURITY_NATIVE_DREP, &ac, &ad, &attrs, NULL);
    assert_st(st, SEC_I_CONTINUE_NEEDED);
    assert_st(QueryContextAttributesA(&ac, SECPKG_ATTR_FLAGS, &sz),
              SEC_E_INVALID_HANDLE);
    assert_st(EncryptMessage(&ac, 0, &d, 0), SEC_E_INVALID_HANDLE);
    /* Each side's handle is refused by the other side's call. */
    assert_st(AcceptSecurityContext(NULL, &ic, &aid, 0, SECURITY_NATIVE_DREP,
                                    &ic, &ad, &attrs, NULL),
              SEC_E_INVALID_HANDLE);
    FreeContextBuffer(ob.pvBuffer);
    FreeContextBuffer(ab.pvBuffer);
    assert_st(DeleteSecurityContext(&ic), SEC_E_OK);
    assert_st(DeleteSecurityContext(&ac), SEC_E_OK);
    refused_everywhere(&ic);
}

/* ---- main group: establishment ------------------------------------------- */

/* What an established pair reports: flags, names, sizes, lifespan. */
static void check_attributes(CtxtHandle *h, bool initiator)
{
    SecPkgContext_Sizes sz;
    SecPkgContext_StreamSizes ss;
    SecPkgContext_NamesA nm;
    SecPkgContext_Lifespan ls;
    SecPkgContext_Flags fl;
    SecPkgContext_SessionKey sk;
    int64_t start, expiry, now;

    assert_st(QueryContextAttributesA(h, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
    assert_int_equal(sz.cbMaxToken, 65535);
    assert_int_equal(sz.cbMaxSignature, 16 + 64);
    assert_int_equal(sz.cbSecurityTrailer, 16 + 64);
    assert_int_equal(sz.cbBlockSize, 1);
    assert_st(QueryContextAttributesA(h, SECPKG_ATTR_STREAM_SIZES, &ss),
              SEC_E_OK);
    assert_int_equal(ss.cbHeader, 16);
    assert_int_equal(ss.cbTrailer, 64);
    assert_int_equal(ss.cBuffers, 4);
    assert_st(QueryContextAttributesA(h, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
    assert_string_equal(nm.sUserName, "alice@localhost");
    FreeContextBuffer(nm.sUserName);
    assert_st(QueryContextAttributesA(h, SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
    assert_true(fl.Flags &
                (initiator ? ISC_RET_MUTUAL_AUTH : ASC_RET_MUTUAL_AUTH));
    assert_true(fl.Flags & (initiator ? ISC_RET_INTEGRITY : ASC_RET_INTEGRITY));
    assert_st(QueryContextAttributesA(h, SECPKG_ATTR_LIFESPAN, &ls), SEC_E_OK);
    start = (int64_t)((uint64_t)(uint32_t)ls.tsStart.HighPart << 32 |
                      ls.tsStart.LowPart);
    expiry = (int64_t)((uint64_t)(uint32_t)ls.tsExpiry.HighPart << 32 |
                       ls.tsExpiry.LowPart);
    now = ((int64_t)time(NULL) + 11644473600LL) * 10000000LL;
    assert_true(start <= now && start > now - 600 * 10000000LL);
    assert_true(expiry > now);
    /* Context keys never leave the token. */
    assert_st(QueryContextAttributesA(h, SECPKG_ATTR_SESSION_KEY, &sk),
              SEC_E_UNSUPPORTED_FUNCTION);
    assert_st(QueryContextAttributesA(h, SECPKG_ATTR_SIZES, NULL),
              SEC_E_INVALID_PARAMETER);
}

static void sspi_to_sspi(void **state)
{
    struct sp_hs hs = {0};
    CredHandle acred, icred;

    (void)state;
    hs.target = "host/localhost"; /* the Windows SPN form */
    hs.i.sspi = hs.a.sspi = true;
    hs.i.req = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY |
               ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT |
               ISC_REQ_SEQUENCE_DETECT;
    assert_st(AcquireCredentialsHandleA(NULL, (SEC_CHAR *)PKG,
                                        SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
                                        NULL, &icred, NULL),
              SEC_E_OK);
    acceptor_cred("host/localhost", &acred);
    hs.i.cred = &icred;
    hs.a.cred = &acred;
    assert_true(sp_handshake(&hs));
    assert_true(hs.legs >= 3);
    assert_true(hs.i.attrs & ISC_RET_CONFIDENTIALITY);
    assert_true(hs.i.attrs & ISC_RET_REPLAY_DETECT);
    assert_true(hs.a.attrs & ASC_RET_CONFIDENTIALITY);
    check_attributes(&hs.i.ctx, true);
    check_attributes(&hs.a.ctx, false);
    /* The credentials may go while the contexts live on. */
    assert_st(FreeCredentialsHandle(&icred), SEC_E_OK);
    assert_st(FreeCredentialsHandle(&acred), SEC_E_OK);
    check_attributes(&hs.i.ctx, true);
    sp_release(&hs);
}

/* The caller's own output buffers: a token that does not fit is
 * SEC_E_BUFFER_TOO_SMALL, one that does is copied. */
static void caller_buffers(void **state)
{
    struct sp_hs hs = {0};
    uint8_t small[8];
    SecBuffer ob = {sizeof(small), SECBUFFER_TOKEN, small};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    CtxtHandle ic = {0, 0};
    ULONG attrs;

    (void)state;
    hs.target = "host@localhost";
    hs.i.sspi = hs.a.sspi = true;
    hs.i.caller_buffers = hs.a.caller_buffers = true;
    assert_true(sp_handshake(&hs));
    assert_false(hs.i.attrs & ISC_RET_ALLOCATED_MEMORY);
    sp_release(&hs);
    assert_st(InitializeSecurityContextA(
                  NULL, NULL, (SEC_CHAR *)"host@localhost", 0, 0,
                  SECURITY_NATIVE_DREP, NULL, 0, &ic, &od, &attrs, NULL),
              SEC_E_BUFFER_TOO_SMALL);
    /* Nothing was made. */
    refused_everywhere(&ic);
}

static void sspi_initiator_gss_acceptor(void **state)
{
    struct sp_hs hs = {0};
    gss_buffer_desc name;
    OM_uint32 minor;

    (void)state;
    hs.target = "host@localhost";
    hs.i.sspi = true;
    hs.i.req = ISC_REQ_MUTUAL_AUTH;
    assert_true(sp_handshake(&hs));
    assert_int_equal(gss_display_name(&minor, hs.a.src, &name, NULL),
                     GSS_S_COMPLETE);
    assert_int_equal(name.length, strlen("alice@localhost"));
    assert_memory_equal(name.value, "alice@localhost", name.length);
    gss_release_buffer(&minor, &name);
    assert_true(hs.a.flags & GSS_C_MUTUAL_FLAG);
    check_attributes(&hs.i.ctx, true);
    sp_release(&hs);
}

static void gss_initiator_sspi_acceptor(void **state)
{
    struct sp_hs hs = {0};
    CredHandle acred;

    (void)state;
    hs.target = "host@localhost";
    hs.a.sspi = true;
    acceptor_cred("host@localhost", &acred);
    hs.a.cred = &acred;
    assert_true(sp_handshake(&hs));
    assert_int_equal(hs.i.major, GSS_S_COMPLETE);
    check_attributes(&hs.a.ctx, false);
    assert_st(FreeCredentialsHandle(&acred), SEC_E_OK);
    sp_release(&hs);
}

/* SEC_CHANNEL_BINDINGS blobs and the same bindings as GSS structures. */
struct cb_blob {
    SEC_CHANNEL_BINDINGS h;
    char data[32];
};

static void make_cb(struct cb_blob *b, const char *app)
{
    memset(b, 0, sizeof(*b));
    b->h.dwInitiatorAddrType = 2;
    b->h.cbInitiatorLength = 4;
    b->h.dwInitiatorOffset = sizeof(b->h);
    memcpy(b->data, "\x7f\x00\x00\x01", 4);
    b->h.cbApplicationDataLength = (uint32_t)strlen(app);
    b->h.dwApplicationDataOffset = sizeof(b->h) + 4;
    memcpy(b->data + 4, app, strlen(app));
}

static struct gss_channel_bindings_struct gcb_a = {
    2, {4, (void *)"\x7f\x00\x00\x01"}, 0, {0, NULL}, {7, (void *)"tls-abc"}};

static void bindings_interoperate(void **state)
{
    struct cb_blob a, b;
    struct sp_hs hs = {0};

    (void)state;
    make_cb(&a, "tls-abc");
    make_cb(&b, "tls-xyz");
    /* Equal bindings, SSPI -> GSS and GSS -> SSPI. */
    hs.target = "host@localhost";
    hs.i.sspi = true;
    hs.i.cb = &a;
    hs.i.cb_len = sizeof(a.h) + 4 + 7;
    hs.a.gcb = &gcb_a;
    assert_true(sp_handshake(&hs));
    sp_release(&hs);
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.a.sspi = true;
    hs.a.cb = &a;
    hs.a.cb_len = sizeof(a.h) + 4 + 7;
    hs.i.gcb = &gcb_a;
    assert_true(sp_handshake(&hs));
    sp_release(&hs);
    /* Different bindings: the GSS acceptor refuses, and its ERROR token
     * gives the SSPI initiator SEC_E_BAD_BINDINGS. */
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.i.sspi = true;
    hs.i.cb = &b;
    hs.i.cb_len = sizeof(b.h) + 4 + 7;
    hs.a.gcb = &gcb_a;
    assert_false(sp_handshake(&hs));
    assert_int_equal(hs.a.major, GSS_S_BAD_BINDINGS);
    assert_st(hs.i.st, SEC_E_BAD_BINDINGS);
    sp_release(&hs);
    /* A GSS initiator against an SSPI acceptor with other bindings. */
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.a.sspi = true;
    hs.a.cb = &b;
    hs.a.cb_len = sizeof(b.h) + 4 + 7;
    hs.i.gcb = &gcb_a;
    assert_false(sp_handshake(&hs));
    assert_st(hs.a.st, SEC_E_BAD_BINDINGS);
    assert_int_equal(hs.i.major, GSS_S_BAD_BINDINGS);
    sp_release(&hs);
    /* A bindings buffer whose offsets point outside it. */
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.i.sspi = hs.a.sspi = true;
    hs.i.cb = &b;
    hs.i.cb_len = sizeof(b.h) + 2;
    assert_false(sp_handshake(&hs));
    assert_st(hs.i.st, SEC_E_BAD_BINDINGS);
    sp_release(&hs);
}

/* Flips the last byte (in the MAC) of the token of one leg. A flipped
 * certificate byte would make the certificate untrusted instead. */
static int flip_leg;
static void flip(int leg, uint8_t *tok, size_t *len)
{
    if (leg == flip_leg)
        tok[*len - 1] ^= 0x01;
}

static void bad_tokens_refused(void **state)
{
    SecBuffer ib = {5, SECBUFFER_TOKEN, (void *)"junk!"};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    struct sp_hs hs = {0};
    CtxtHandle ac = {0, 0};
    ULONG attrs;

    (void)state;
    assert_st(AcceptSecurityContext(NULL, NULL, &id, ASC_REQ_ALLOCATE_MEMORY,
                                    SECURITY_NATIVE_DREP, &ac, &od, &attrs,
                                    NULL),
              SEC_E_INVALID_TOKEN);
    refused_everywhere(&ac);
    ib.cbBuffer = 0;
    assert_st(AcceptSecurityContext(NULL, NULL, &id, ASC_REQ_ALLOCATE_MEMORY,
                                    SECURITY_NATIVE_DREP, &ac, &od, &attrs,
                                    NULL),
              SEC_E_INVALID_TOKEN);
    /* The acceptor's token altered on its way: the SSPI initiator refuses
     * it (against a GSS acceptor and an SSPI one). */
    for (int sspi_acc = 0; sspi_acc < 2; sspi_acc++) {
        memset(&hs, 0, sizeof(hs));
        hs.target = "host@localhost";
        hs.i.sspi = true;
        hs.a.sspi = sspi_acc;
        flip_leg = 2;
        hs.mutate = flip;
        assert_false(sp_handshake(&hs));
        assert_st(hs.i.st, SEC_E_INVALID_TOKEN);
        /* The failed context answers nothing but DeleteSecurityContext. */
        {
            SecPkgContext_Flags fl;

            assert_true(hs.i.have_ctx);
            assert_st(
                QueryContextAttributesA(&hs.i.ctx, SECPKG_ATTR_FLAGS, &fl),
                SEC_E_INVALID_HANDLE);
        }
        sp_release(&hs);
    }
    /* The initiator's FINISH altered: the SSPI acceptor refuses it. */
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.i.sspi = hs.a.sspi = true;
    flip_leg = 3;
    hs.mutate = flip;
    assert_false(sp_handshake(&hs));
    assert_st(hs.a.st, SEC_E_INVALID_TOKEN);
    sp_release(&hs);
}

static void user_mode_table(void **state)
{
    SECPKG_USER_FUNCTION_TABLE *ut = NULL;
    ULONG ver = 0, n = 0;
    SecPkgContext_NamesA nm;
    struct sp_hs hs;

    (void)state;
    assert_st(SpUserModeInitialize(SECPKG_INTERFACE_VERSION, &ver, &ut, &n),
              SEC_E_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ver, SECPKG_INTERFACE_VERSION);
    assert_non_null(ut->MakeSignature);
    assert_non_null(ut->VerifySignature);
    assert_non_null(ut->SealMessage);
    assert_non_null(ut->UnsealMessage);
    assert_st(SpUserModeInitialize(1, &ver, &ut, &n),
              SEC_E_UNSUPPORTED_FUNCTION);
    /* A context's LSA_SEC_HANDLE is its dwLower. */
    sspi_pair(&hs);
    assert_st(
        ut->QueryContextAttributes(hs.a.ctx.dwLower, SECPKG_ATTR_NAMES, &nm),
        SEC_E_OK);
    assert_string_equal(nm.sUserName, "alice@localhost");
    FreeContextBuffer(nm.sUserName);
    assert_st(ut->DeleteUserModeContext(hs.a.ctx.dwLower), SEC_E_OK);
    hs.a.have_ctx = false;
    refused_everywhere(&hs.a.ctx);
    sp_release(&hs);
}

/* ---- main group: per-message calls ------------------------------------- */

#define ALL_FLAGS                                                              \
    (ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY |       \
     ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT)

/* MakeSignature over two DATA buffers (one READONLY) into tok. */
static SECURITY_STATUS sign(CtxtHandle *h, ULONG qop, uint8_t *tok,
                            ULONG *tok_len)
{
    SecBuffer b[3] = {{6, SECBUFFER_DATA, (void *)"hello "},
                      {5, SECBUFFER_DATA | SECBUFFER_READONLY, (void *)"world"},
                      {*tok_len, SECBUFFER_TOKEN, tok}};
    SecBufferDesc d = {SECBUFFER_VERSION, 3, b};
    SECURITY_STATUS st = MakeSignature(h, qop, &d, 0);

    *tok_len = b[2].cbBuffer;
    return st;
}

/* VerifySignature of "hello world" (one DATA buffer) against tok. */
static SECURITY_STATUS verify(CtxtHandle *h, const void *tok, size_t len,
                              ULONG *qop)
{
    SecBuffer b[2] = {{11, SECBUFFER_DATA, (void *)"hello world"},
                      {(ULONG)len, SECBUFFER_TOKEN, (void *)tok}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};

    return VerifySignature(h, &d, 0, qop);
}

/* EncryptMessage of msg in place: TOKEN, DATA, PADDING; the token bytes
 * followed by the data go to wire (what Kerberos' SSP users send). */
static SECURITY_STATUS seal(CtxtHandle *h, ULONG qop, const char *msg,
                            uint8_t *wire, size_t *wire_len)
{
    uint8_t tok[16 + 64], data[64], pad[16];
    SecBuffer b[3] = {{sizeof(tok), SECBUFFER_TOKEN, tok},
                      {(ULONG)strlen(msg), SECBUFFER_DATA, data},
                      {sizeof(pad), SECBUFFER_PADDING, pad}};
    SecBufferDesc d = {SECBUFFER_VERSION, 3, b};
    SECURITY_STATUS st;

    memcpy(data, msg, strlen(msg));
    st = EncryptMessage(h, qop, &d, 0);
    if (st != SEC_E_OK)
        return st;
    assert_int_equal(b[1].cbBuffer, strlen(msg));
    assert_int_equal(b[2].cbBuffer, 0); /* no QOP pads */
    if (qop != SECQOP_WRAP_NO_ENCRYPT)
        assert_memory_not_equal(data, msg, strlen(msg));
    else
        assert_memory_equal(data, msg, strlen(msg));
    memcpy(wire, tok, b[0].cbBuffer);
    memcpy(wire + b[0].cbBuffer, data, b[1].cbBuffer);
    *wire_len = b[0].cbBuffer + b[1].cbBuffer;
    return SEC_E_OK;
}

/* DecryptMessage of a whole token, stream layout. */
static SECURITY_STATUS unseal_stream(CtxtHandle *h, uint8_t *wire, size_t len,
                                     SecBuffer *data, ULONG *qop)
{
    SecBuffer b[2] = {{(ULONG)len, SECBUFFER_STREAM, wire},
                      {0, SECBUFFER_DATA, NULL}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    SECURITY_STATUS st = DecryptMessage(h, &d, 0, qop);

    *data = b[1];
    return st;
}

/* Every QOP both ways between an SSPI initiator and a GSS acceptor:
 * MakeSignature -> gss_verify_mic, gss_get_mic -> VerifySignature,
 * EncryptMessage -> gss_unwrap, gss_wrap -> DecryptMessage. */
static void messages_interoperate(void **state)
{
    struct sp_hs hs = {0};
    uint8_t tok[16 + 64], wire[256];
    size_t wire_len;
    OM_uint32 minor, major;
    int usable = 0;

    (void)state;
    hs.target = "host@localhost";
    hs.i.sspi = true;
    hs.i.req = ALL_FLAGS;
    hs.a.req = 0;
    assert_true(sp_handshake(&hs));
    for (ULONG q = 0; q <= 6; q++) {
        gss_buffer_desc m = {11, (void *)"hello world"}, t, out, in;
        gss_qop_t qs = 99;
        ULONG len = sizeof(tok), fq = 99;
        int conf = -1;
        SecBuffer data;

        major = gss_get_mic(&minor, hs.a.gctx, q, &m, &t);
        if (major == GSS_S_BAD_QOP) {
            /* Not on this token: the SSPI face says so too. */
            assert_st(sign(&hs.i.ctx, q, tok, &len), SEC_E_QOP_NOT_SUPPORTED);
            continue;
        }
        usable++;
        assert_int_equal(major, GSS_S_COMPLETE);
        assert_st(verify(&hs.i.ctx, t.value, t.length, &fq), SEC_E_OK);
        assert_int_equal(fq, q);
        gss_release_buffer(&minor, &t);
        assert_st(sign(&hs.i.ctx, q, tok, &len), SEC_E_OK);
        t = (gss_buffer_desc){len, tok};
        assert_int_equal(gss_verify_mic(&minor, hs.a.gctx, &m, &t, &qs),
                         GSS_S_COMPLETE);
        assert_int_equal(qs, q);
        /* Integrity-only wraps with the default QOP; sealed with AEADs. */
        for (int sealed = 0; sealed < 2; sealed++) {
            ULONG fqop = sealed ? q : SECQOP_WRAP_NO_ENCRYPT;
            SECURITY_STATUS st;

            if (!sealed && q != 0)
                continue;
            st = seal(&hs.i.ctx, fqop, "a secret", wire, &wire_len);
            if (st == SEC_E_QOP_NOT_SUPPORTED) {
                /* A MAC QOP cannot seal, through either face. */
                in = (gss_buffer_desc){8, (void *)"a secret"};
                assert_int_equal(
                    gss_wrap(&minor, hs.a.gctx, 1, q, &in, NULL, &out),
                    GSS_S_BAD_QOP);
                continue;
            }
            assert_st(st, SEC_E_OK);
            in = (gss_buffer_desc){wire_len, wire};
            assert_int_equal(
                gss_unwrap(&minor, hs.a.gctx, &in, &out, &conf, &qs),
                GSS_S_COMPLETE);
            assert_int_equal(out.length, 8);
            assert_memory_equal(out.value, "a secret", 8);
            assert_int_equal(conf, sealed);
            assert_int_equal(qs, sealed ? q : 0);
            gss_release_buffer(&minor, &out);
            in = (gss_buffer_desc){9, (void *)"a reply!!"};
            assert_int_equal(gss_wrap(&minor, hs.a.gctx, sealed, sealed ? q : 0,
                                      &in, &conf, &out),
                             GSS_S_COMPLETE);
            assert_true(out.length <= sizeof(wire));
            memcpy(wire, out.value, out.length);
            assert_st(unseal_stream(&hs.i.ctx, wire, out.length, &data, &fq),
                      SEC_E_OK);
            assert_int_equal(data.cbBuffer, 9);
            assert_memory_equal(data.pvBuffer, "a reply!!", 9);
            assert_true((uint8_t *)data.pvBuffer >= wire &&
                        (uint8_t *)data.pvBuffer < wire + out.length);
            assert_int_equal(fq, sealed ? q : SECQOP_WRAP_NO_ENCRYPT);
            gss_release_buffer(&minor, &out);
        }
    }
    assert_true(usable >= 5);
    sp_release(&hs);
}

/* SSPI on both sides: the split layout in place, tampering, replay,
 * buffer too small (nothing consumed), refused arguments, the Sp* calls. */
static void messages_sspi_to_sspi(void **state)
{
    SECPKG_USER_FUNCTION_TABLE *ut;
    struct sp_hs hs;
    uint8_t tok[16 + 64], wire[256], small[8];
    size_t wire_len;
    ULONG len, qop, ver, n;
    SecBuffer data;

    (void)state;
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.i.sspi = hs.a.sspi = true;
    hs.i.req = ALL_FLAGS;
    assert_true(sp_handshake(&hs));
    /* Split layout: TOKEN then DATA, decrypted in place. */
    {
        uint8_t t[16 + 64], d[16];
        SecBuffer b[2] = {{sizeof(t), SECBUFFER_TOKEN, t},
                          {5, SECBUFFER_DATA, d}};
        SecBufferDesc desc = {SECBUFFER_VERSION, 2, b};

        memcpy(d, "split", 5);
        assert_st(EncryptMessage(&hs.a.ctx, 0, &desc, 0), SEC_E_OK);
        assert_int_equal(b[0].cbBuffer, 16 + 16);
        assert_st(DecryptMessage(&hs.i.ctx, &desc, 0, &qop), SEC_E_OK);
        assert_memory_equal(d, "split", 5);
        assert_int_equal(qop, 0);
        /* The same token again: a replay. */
        memcpy(d, "split", 5);
        assert_st(EncryptMessage(&hs.a.ctx, 0, &desc, 0), SEC_E_OK);
        memcpy(wire, t, b[0].cbBuffer);
        memcpy(wire + b[0].cbBuffer, d, 5);
        wire_len = b[0].cbBuffer + 5;
        assert_st(DecryptMessage(&hs.i.ctx, &desc, 0, &qop), SEC_E_OK);
        assert_st(unseal_stream(&hs.i.ctx, wire, wire_len, &data, &qop),
                  SEC_E_OUT_OF_SEQUENCE);
        /* A flipped ciphertext byte. */
        memcpy(d, "split", 5);
        assert_st(EncryptMessage(&hs.a.ctx, 0, &desc, 0), SEC_E_OK);
        d[2] ^= 1;
        assert_st(DecryptMessage(&hs.i.ctx, &desc, 0, &qop),
                  SEC_E_MESSAGE_ALTERED);
    }
    /* A token buffer too small: refused, no sequence number spent (the
     * peer, checking sequence, sees no gap afterwards). */
    len = sizeof(small);
    assert_st(sign(&hs.i.ctx, 0, small, &len), SEC_E_BUFFER_TOO_SMALL);
    len = sizeof(tok);
    assert_st(sign(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    assert_int_equal(len, 16 + 16);
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_OK);
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_OUT_OF_SEQUENCE);
    tok[len - 1] ^= 1;
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_MESSAGE_ALTERED);
    /* A short stream, an unknown QOP, refused arguments. */
    assert_st(unseal_stream(&hs.i.ctx, wire, 20, &data, &qop),
              SEC_E_INCOMPLETE_MESSAGE);
    len = sizeof(tok);
    assert_st(sign(&hs.i.ctx, 99, tok, &len), SEC_E_QOP_NOT_SUPPORTED);
    assert_st(seal(&hs.i.ctx, 99, "x", wire, &wire_len),
              SEC_E_QOP_NOT_SUPPORTED);
    {
        SecBuffer b[2] = {{11, SECBUFFER_DATA, (void *)"hello world"},
                          {sizeof(tok), SECBUFFER_TOKEN, tok}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};

        d.ulVersion = 1;
        assert_st(MakeSignature(&hs.i.ctx, 0, &d, 0), SEC_E_INVALID_PARAMETER);
        d.ulVersion = SECBUFFER_VERSION;
        b[1].BufferType = SECBUFFER_DATA;
        assert_st(MakeSignature(&hs.i.ctx, 0, &d, 0), SEC_E_INVALID_TOKEN);
    }
    /* The Sp* calls on the LSA_SEC_HANDLE make and take the same tokens. */
    assert_st(SpUserModeInitialize(SECPKG_INTERFACE_VERSION, &ver, &ut, &n),
              SEC_E_OK);
    {
        uint8_t t[16 + 64], d[16];
        SecBuffer b[2] = {{sizeof(t), SECBUFFER_TOKEN, t},
                          {4, SECBUFFER_DATA, d}};
        SecBufferDesc desc = {SECBUFFER_VERSION, 2, b};

        memcpy(d, "seal", 4);
        assert_st(ut->SealMessage(hs.i.ctx.dwLower, 0, &desc, 0), SEC_E_OK);
        assert_st(ut->UnsealMessage(hs.a.ctx.dwLower, &desc, 0, &qop),
                  SEC_E_OK);
        assert_memory_equal(d, "seal", 4);
        b[0].cbBuffer = sizeof(t);
        b[1].BufferType = SECBUFFER_DATA;
        /* The acceptor's message altered above never arrived: under
         * SEQUENCE_DETECT the next one shows the gap, the one after is
         * in order. */
        assert_st(ut->MakeSignature(hs.a.ctx.dwLower, 0, &desc, 0), SEC_E_OK);
        assert_st(ut->VerifySignature(hs.i.ctx.dwLower, &desc, 0, &qop),
                  SEC_E_OUT_OF_SEQUENCE);
        b[0].cbBuffer = sizeof(t);
        assert_st(ut->MakeSignature(hs.a.ctx.dwLower, 0, &desc, 0), SEC_E_OK);
        assert_st(ut->VerifySignature(hs.i.ctx.dwLower, &desc, 0, &qop),
                  SEC_E_OK);
    }
    sp_release(&hs);
}

/* ---- main group: caller-assigned sequence numbers (MessageSeqNo) ------- */

/* The big-endian SND_SEQ of a token (docs/protocol.md 3). */
static uint64_t tok_seq(const uint8_t *t)
{
    uint64_t v = 0;

    for (int i = 8; i < 16; i++)
        v = v << 8 | t[i];
    return v;
}

/* MakeSignature of "hello world" numbered seqno into tok[80]. */
static SECURITY_STATUS sign_n(CtxtHandle *h, ULONG seqno, uint8_t *tok,
                              ULONG *len)
{
    SecBuffer b[2] = {{11, SECBUFFER_DATA, (void *)"hello world"},
                      {80, SECBUFFER_TOKEN, tok}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    SECURITY_STATUS st = MakeSignature(h, 0, &d, seqno);

    *len = b[1].cbBuffer;
    return st;
}

/* VerifySignature of "hello world" against tok, expecting seqno. */
static SECURITY_STATUS verify_n(CtxtHandle *h, ULONG seqno, const uint8_t *tok,
                                ULONG len)
{
    SecBuffer b[2] = {{11, SECBUFFER_DATA, (void *)"hello world"},
                      {len, SECBUFFER_TOKEN, (void *)tok}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    ULONG qop = 99;
    SECURITY_STATUS st = VerifySignature(h, &d, seqno, &qop);

    if (st == SEC_E_OK)
        assert_int_equal(qop, 0);
    return st;
}

/* An in-place sealed message: TOKEN + DATA in one struct. */
struct sealed {
    uint8_t tok[80], data[16];
    SecBuffer b[2];
    SecBufferDesc d;
};

/* EncryptMessage of "datagram" (QOP 0) numbered seqno, in place. */
static SECURITY_STATUS seal_n(CtxtHandle *h, ULONG seqno, struct sealed *m)
{
    memset(m->tok, 0xa5, sizeof(m->tok));
    memcpy(m->data, "datagram", 8);
    m->b[0] = (SecBuffer){sizeof(m->tok), SECBUFFER_TOKEN, m->tok};
    m->b[1] = (SecBuffer){8, SECBUFFER_DATA, m->data};
    m->d = (SecBufferDesc){SECBUFFER_VERSION, 2, m->b};
    return EncryptMessage(h, 0, &m->d, seqno);
}

/* DecryptMessage of a sealed message in place, expecting seqno. */
static SECURITY_STATUS open_n(CtxtHandle *h, ULONG seqno, struct sealed *m)
{
    ULONG qop = 99;
    SECURITY_STATUS st = DecryptMessage(h, &m->d, seqno, &qop);

    if (st == SEC_E_OK) {
        assert_int_equal(qop, 0);
        assert_memory_equal(m->data, "datagram", 8);
    }
    return st;
}

/* A refused send changed nothing: the token buffer keeps its bytes and
 * size, the message is still plaintext. */
static void assert_untouched(const struct sealed *m)
{
    for (size_t i = 0; i < sizeof(m->tok); i++)
        assert_int_equal(m->tok[i], 0xa5);
    assert_int_equal(m->b[0].cbBuffer, sizeof(m->tok));
    assert_memory_equal(m->data, "datagram", 8);
}

/*
 * SSPI on both sides, REPLAY and SEQUENCE detection on, with
 * caller-assigned numbers: in order, a gap, a receiver expecting another
 * number (refused, nothing consumed), reuse and non-increasing numbers
 * refused before anything is computed (nothing consumed, the token
 * buffer untouched), implicit and explicit numbers mixed (the counter
 * continues above the highest number used), on MIC and WRAP tokens.
 */
static void explicit_numbers_sspi(void **state)
{
    struct sp_hs hs;
    uint8_t tok[80], t2[80];
    ULONG len, len2;
    struct sealed m, m2;

    (void)state;
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.i.sspi = hs.a.sspi = true;
    hs.i.req = ALL_FLAGS;
    assert_true(sp_handshake(&hs));
    /* In order: the token carries the number, the receiver names it. */
    for (ULONG n = 1; n <= 3; n++) {
        assert_st(sign_n(&hs.i.ctx, n, tok, &len), SEC_E_OK);
        assert_int_equal(len, 16 + 16);
        assert_int_equal(tok_seq(tok), n);
        assert_st(verify_n(&hs.a.ctx, n, tok, len), SEC_E_OK);
    }
    /* The receiver expecting another number: refused, and nothing
     * consumed (the right number is then accepted, in order). */
    assert_st(sign_n(&hs.i.ctx, 4, tok, &len), SEC_E_OK);
    assert_st(verify_n(&hs.a.ctx, 5, tok, len), SEC_E_OUT_OF_SEQUENCE);
    assert_st(verify_n(&hs.a.ctx, 3, tok, len), SEC_E_OUT_OF_SEQUENCE);
    assert_st(verify_n(&hs.a.ctx, 4, tok, len), SEC_E_OK);
    /* A verified token seen before is still a replay. */
    assert_st(verify_n(&hs.a.ctx, 4, tok, len), SEC_E_OUT_OF_SEQUENCE);
    /* A gap the caller chose: accepted under its own numbering. */
    assert_st(sign_n(&hs.i.ctx, 10, tok, &len), SEC_E_OK);
    assert_int_equal(tok_seq(tok), 10);
    assert_st(verify_n(&hs.a.ctx, 10, tok, len), SEC_E_OK);
    /* Reuse and smaller numbers: refused, the token buffer untouched. */
    for (ULONG n = 1; n <= 10; n++) {
        memset(t2, 0xa5, sizeof(t2));
        assert_st(sign_n(&hs.i.ctx, n, t2, &len2), SEC_E_OUT_OF_SEQUENCE);
        assert_int_equal(len2, 80);
        for (size_t k = 0; k < sizeof(t2); k++)
            assert_int_equal(t2[k], 0xa5);
    }
    /* Nothing consumed: the implicit counter continues at 11, which the
     * receiver (implicit, SEQUENCE_DETECT) sees in order after 10. */
    assert_st(sign_n(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    assert_int_equal(tok_seq(tok), 11);
    assert_st(verify_n(&hs.a.ctx, 0, tok, len), SEC_E_OK);
    /* Mixed: explicit 12, then 12 again refused (also after the implicit
     * message: 11 is used), the implicit counter goes on at 13. */
    assert_st(sign_n(&hs.i.ctx, 11, tok, &len), SEC_E_OUT_OF_SEQUENCE);
    assert_st(sign_n(&hs.i.ctx, 12, tok, &len), SEC_E_OK);
    assert_st(verify_n(&hs.a.ctx, 0, tok, len), SEC_E_OK);
    assert_st(sign_n(&hs.i.ctx, 12, tok, &len), SEC_E_OUT_OF_SEQUENCE);
    assert_st(sign_n(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    assert_int_equal(tok_seq(tok), 13);
    assert_st(verify_n(&hs.a.ctx, 13, tok, len), SEC_E_OK);

    /* WRAP tokens, the other direction (the acceptor's counter is its
     * own): the AEAD nonce comes from the number. */
    assert_st(seal_n(&hs.a.ctx, 0, &m), SEC_E_OK);
    assert_int_equal(tok_seq(m.tok), 0);
    assert_st(open_n(&hs.i.ctx, 0, &m), SEC_E_OK);
    assert_st(seal_n(&hs.a.ctx, 7, &m), SEC_E_OK);
    assert_int_equal(tok_seq(m.tok), 7);
    assert_memory_not_equal(m.data, "datagram", 8);
    /* The receiver expecting 8: refused, the ciphertext not released
     * (DATA still encrypted), then 7 opens it. */
    assert_st(open_n(&hs.i.ctx, 8, &m), SEC_E_OUT_OF_SEQUENCE);
    assert_memory_not_equal(m.data, "datagram", 8);
    assert_st(open_n(&hs.i.ctx, 7, &m), SEC_E_OK);
    /* Number 7 again, or anything up to it: refused before anything is
     * computed (no second message under nonce 7). */
    for (ULONG n = 1; n <= 7; n++) {
        assert_st(seal_n(&hs.a.ctx, n, &m2), SEC_E_OUT_OF_SEQUENCE);
        assert_untouched(&m2);
    }
    assert_st(seal_n(&hs.a.ctx, 8, &m2), SEC_E_OK);
    assert_st(open_n(&hs.i.ctx, 8, &m2), SEC_E_OK);
    assert_st(seal_n(&hs.a.ctx, 0, &m2), SEC_E_OK);
    assert_int_equal(tok_seq(m2.tok), 9);
    assert_st(open_n(&hs.i.ctx, 9, &m2), SEC_E_OK);
    /* Explicit sealed, implicit opened: accepted (in order after 9). */
    assert_st(seal_n(&hs.a.ctx, 10, &m2), SEC_E_OK);
    assert_st(open_n(&hs.i.ctx, 0, &m2), SEC_E_OK);
    /* The stream layout takes the number too. */
    {
        uint8_t wire[128];
        size_t wire_len;
        SecBuffer data;
        ULONG qop;

        assert_st(seal_n(&hs.a.ctx, 20, &m2), SEC_E_OK);
        memcpy(wire, m2.tok, m2.b[0].cbBuffer);
        memcpy(wire + m2.b[0].cbBuffer, m2.data, 8);
        wire_len = m2.b[0].cbBuffer + 8;
        assert_st(unseal_stream(&hs.i.ctx, wire, wire_len, &data, &qop),
                  SEC_E_OUT_OF_SEQUENCE); /* an implicit gap: 11..19 */
        assert_st(seal_n(&hs.a.ctx, 21, &m2), SEC_E_OK);
        memcpy(wire, m2.tok, m2.b[0].cbBuffer);
        memcpy(wire + m2.b[0].cbBuffer, m2.data, 8);
        {
            SecBuffer b[2] = {{(ULONG)wire_len, SECBUFFER_STREAM, wire},
                              {0, SECBUFFER_DATA, NULL}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};

            assert_st(DecryptMessage(&hs.i.ctx, &d, 22, &qop),
                      SEC_E_OUT_OF_SEQUENCE);
            assert_null(b[1].pvBuffer);
            assert_st(DecryptMessage(&hs.i.ctx, &d, 21, &qop), SEC_E_OK);
            assert_int_equal(b[1].cbBuffer, 8);
            assert_memory_equal(b[1].pvBuffer, "datagram", 8);
        }
    }
    sp_release(&hs);
}

/* The numbers an SSPI sender assigns, as a GSS receiver (through the
 * mechglue) sees them: gaps under GSS_C_SEQUENCE_FLAG, normal tokens
 * without it; a GSS sender's implicit numbers to an SSPI receiver that
 * names them. */
static void explicit_numbers_gss_receiver(void **state)
{
    (void)state;
    for (int flags = 0; flags < 2; flags++) {
        struct sp_hs hs = {0};
        OM_uint32 minor, major,
            seq_flags = GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;
        uint8_t tok[80];
        ULONG len;
        struct sealed m;
        gss_buffer_desc msg = {11, (void *)"hello world"}, t, in, out;

        hs.target = "host@localhost";
        hs.i.sspi = true;
        hs.i.req =
            ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY |
            (flags ? ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT : 0);
        assert_true(sp_handshake(&hs));
        assert_int_equal(hs.a.flags & seq_flags, flags ? seq_flags : 0);
        /* 0 (implicit), then 1, 2 in order, then 5: a gap. */
        assert_st(sign_n(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
        t = (gss_buffer_desc){len, tok};
        assert_int_equal(gss_verify_mic(&minor, hs.a.gctx, &msg, &t, NULL),
                         GSS_S_COMPLETE);
        for (ULONG n = 1; n <= 2; n++) {
            assert_st(sign_n(&hs.i.ctx, n, tok, &len), SEC_E_OK);
            t = (gss_buffer_desc){len, tok};
            assert_int_equal(gss_verify_mic(&minor, hs.a.gctx, &msg, &t, NULL),
                             GSS_S_COMPLETE);
        }
        assert_st(seal_n(&hs.i.ctx, 5, &m), SEC_E_OK);
        {
            uint8_t wire[128];

            memcpy(wire, m.tok, m.b[0].cbBuffer);
            memcpy(wire + m.b[0].cbBuffer, m.data, 8);
            in = (gss_buffer_desc){m.b[0].cbBuffer + 8, wire};
            major = gss_unwrap(&minor, hs.a.gctx, &in, &out, NULL, NULL);
            assert_int_equal(major, flags ? GSS_S_GAP_TOKEN : GSS_S_COMPLETE);
            assert_int_equal(out.length, 8);
            assert_memory_equal(out.value, "datagram", 8);
            gss_release_buffer(&minor, &out);
        }
        /* The implicit counter after 5 is 6: in order for GSS. */
        assert_st(sign_n(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
        assert_int_equal(tok_seq(tok), 6);
        t = (gss_buffer_desc){len, tok};
        assert_int_equal(gss_verify_mic(&minor, hs.a.gctx, &msg, &t, NULL),
                         GSS_S_COMPLETE);
        /* GSS numbers its messages 0, 1, ...: an SSPI receiver naming
         * them accepts them, and refuses a token under another number
         * (GSS's first number, 0, is the one MessageSeqNo cannot name:
         * that message is received with 0, implicit). */
        for (ULONG n = 0; n <= 1; n++) {
            assert_int_equal(gss_get_mic(&minor, hs.a.gctx, 0, &msg, &t),
                             GSS_S_COMPLETE);
            assert_int_equal(tok_seq(t.value), n);
            if (n == 1)
                assert_st(verify_n(&hs.i.ctx, 2, t.value, (ULONG)t.length),
                          SEC_E_OUT_OF_SEQUENCE);
            assert_st(verify_n(&hs.i.ctx, n, t.value, (ULONG)t.length),
                      SEC_E_OK);
            gss_release_buffer(&minor, &t);
        }
        sp_release(&hs);
    }
}

/* Every byte of a MIC and of a WRAP token flipped, and every truncation:
 * refused as altered or invalid, and the intact token still accepted
 * afterwards (a refusal consumes nothing). */
static void flipped_and_truncated_tokens(void **state)
{
    struct sp_hs hs;
    uint8_t tok[16 + 64], wire[256], copy[256];
    size_t wire_len;
    ULONG len = sizeof(tok), qop;
    SecBuffer data;
    SECURITY_STATUS st;

    (void)state;
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.i.sspi = hs.a.sspi = true;
    hs.i.req = ALL_FLAGS;
    assert_true(sp_handshake(&hs));
    assert_st(sign(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    for (size_t i = 0; i < len * 8; i++) {
        memcpy(copy, tok, len);
        copy[i / 8] ^= (uint8_t)(1u << (i % 8));
        st = verify(&hs.a.ctx, copy, len, &qop);
        if (st != SEC_E_MESSAGE_ALTERED && st != SEC_E_INVALID_TOKEN)
            fail_msg("MIC bit %zu flipped: status 0x%08x", i, (unsigned)st);
    }
    for (size_t n = 0; n < len; n++) {
        st = verify(&hs.a.ctx, tok, n, &qop);
        if (st != SEC_E_MESSAGE_ALTERED && st != SEC_E_INVALID_TOKEN)
            fail_msg("MIC cut to %zu bytes: status 0x%08x", n, (unsigned)st);
    }
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_OK);
    assert_st(seal(&hs.i.ctx, 0, "a secret", wire, &wire_len), SEC_E_OK);
    for (size_t i = 0; i < wire_len; i++) {
        memcpy(copy, wire, wire_len);
        copy[i] ^= 0x80;
        st = unseal_stream(&hs.a.ctx, copy, wire_len, &data, &qop);
        if (st != SEC_E_MESSAGE_ALTERED && st != SEC_E_INVALID_TOKEN)
            fail_msg("WRAP byte %zu flipped: status 0x%08x", i, (unsigned)st);
    }
    for (size_t n = 0; n < wire_len; n++) {
        memcpy(copy, wire, n);
        st = unseal_stream(&hs.a.ctx, copy, n, &data, &qop);
        if (st != SEC_E_MESSAGE_ALTERED && st != SEC_E_INVALID_TOKEN &&
            !(n < 32 && st == SEC_E_INCOMPLETE_MESSAGE))
            fail_msg("WRAP cut to %zu bytes: status 0x%08x", n, (unsigned)st);
    }
    memcpy(copy, wire, wire_len);
    assert_st(unseal_stream(&hs.a.ctx, copy, wire_len, &data, &qop), SEC_E_OK);
    assert_memory_equal(data.pvBuffer, "a secret", 8);
    sp_release(&hs);
}

/* A forked child may not use its parent's handles (their token objects
 * belong to the parent); the parent's contexts keep working. */
static void forked_child_refused(void **state)
{
    struct sp_hs hs;
    uint8_t tok[16 + 64];
    ULONG len = sizeof(tok), qop;
    SecPkgContext_Sizes sz;
    int status;
    pid_t pid;

    (void)state;
    sspi_pair(&hs);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        bool ok = QueryContextAttributesA(&hs.i.ctx, SECPKG_ATTR_SIZES, &sz) ==
                      SEC_E_INVALID_HANDLE &&
                  sign(&hs.i.ctx, 0, tok, &len) == SEC_E_INVALID_HANDLE &&
                  DeleteSecurityContext(&hs.a.ctx) == SEC_E_INVALID_HANDLE;

        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    len = sizeof(tok);
    assert_st(sign(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_OK);
    sp_release(&hs);
}

/* Threads: each makes and deletes its own pairs while all sign on one
 * shared context and query it; every call must succeed. */
static CtxtHandle shared_ctx;

static void *thread_main(void *arg)
{
    intptr_t failures = 0;

    (void)arg;
    for (int round = 0; round < 8; round++) {
        struct sp_hs hs = {0};
        uint8_t tok[16 + 64];
        ULONG len = sizeof(tok), qop;
        SecPkgContext_Sizes sz;

        hs.target = "host@localhost";
        hs.i.sspi = hs.a.sspi = true;
        if (!sp_handshake(&hs))
            failures++;
        else if (sign(&hs.i.ctx, 0, tok, &len) != SEC_E_OK ||
                 verify(&hs.a.ctx, tok, len, &qop) != SEC_E_OK)
            failures++;
        len = sizeof(tok);
        if (sign(&shared_ctx, 0, tok, &len) != SEC_E_OK ||
            QueryContextAttributesA(&shared_ctx, SECPKG_ATTR_SIZES, &sz) !=
                SEC_E_OK)
            failures++;
        if ((hs.i.have_ctx && DeleteSecurityContext(&hs.i.ctx) != SEC_E_OK) ||
            (hs.a.have_ctx && DeleteSecurityContext(&hs.a.ctx) != SEC_E_OK))
            failures++;
    }
    return (void *)failures;
}

static void threads(void **state)
{
    pthread_t t[4];
    struct sp_hs hs;
    void *ret;
    intptr_t failures = 0;

    (void)state;
    sspi_pair(&hs);
    shared_ctx = hs.i.ctx;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, NULL), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], &ret), 0);
        failures += (intptr_t)ret;
    }
    assert_int_equal(failures, 0);
    sp_release(&hs);
}

/* ---- extra group: the acceptor's certificate is bad -------------------- */

/* An SSPI initiator against a GSS acceptor and against an SSPI one. */
static void refused_by_sspi_initiator(const char *service, SECURITY_STATUS want)
{
    for (int sspi_acc = 0; sspi_acc < 2; sspi_acc++) {
        struct sp_hs hs = {0};
        CredHandle acred;

        hs.target = service;
        hs.i.sspi = true;
        hs.a.sspi = sspi_acc;
        if (sspi_acc) {
            acceptor_cred(service, &acred);
            hs.a.cred = &acred;
        }
        assert_false(sp_handshake(&hs));
        assert_st(hs.i.st, want);
        if (sspi_acc)
            assert_st(FreeCredentialsHandle(&acred), SEC_E_OK);
        sp_release(&hs);
    }
}

static void untrusted_root(void **state)
{
    (void)state;
    refused_by_sspi_initiator("untrusted@localhost", SEC_E_UNTRUSTED_ROOT);
}

static void wrong_principal(void **state)
{
    (void)state;
    refused_by_sspi_initiator("wrong@localhost", SEC_E_WRONG_PRINCIPAL);
}

static void expired_identity(void **state)
{
    CredHandle h;

    (void)state;
    assert_st(AcquireCredentialsHandleA((SEC_CHAR *)"expired@localhost",
                                        (SEC_CHAR *)PKG, SECPKG_CRED_INBOUND,
                                        NULL, NULL, NULL, NULL, &h, NULL),
              SEC_E_CERT_EXPIRED);
}

/* [policy] allow-export = no (gss-pkcs11.conf): ExportSecurityContext is
 * refused with SEC_E_CANNOT_PACK, nothing is handed out and the context
 * stays usable both ways; ImportSecurityContextA checks the package name
 * and refuses what is not a blob. */
static void export_refused_by_policy(void **state)
{
    struct sp_hs hs;
    SecBuffer packed = {0, SECBUFFER_EMPTY, NULL};
    uint8_t tok[16 + 64], junk[64];
    ULONG len = sizeof(tok), qop;
    CtxtHandle h = {0, 0};

    (void)state;
    sspi_pair(&hs);
    assert_st(ExportSecurityContext(&hs.i.ctx, SECPKG_CONTEXT_EXPORT_DELETE_OLD,
                                    &packed, NULL),
              SEC_E_CANNOT_PACK);
    assert_null(packed.pvBuffer);
    assert_int_equal(packed.cbBuffer, 0);
    assert_st(ExportSecurityContext(&hs.a.ctx, 0, &packed, NULL),
              SEC_E_CANNOT_PACK);
    assert_st(sign(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_OK);
    len = sizeof(tok);
    assert_st(sign(&hs.a.ctx, 0, tok, &len), SEC_E_OK);
    assert_st(verify(&hs.i.ctx, tok, len, &qop), SEC_E_OK);
    memset(junk, 0, sizeof(junk));
    memcpy(junk, "GP11", 4);
    packed = (SecBuffer){sizeof(junk), SECBUFFER_EMPTY, junk};
    assert_st(ImportSecurityContextA((SEC_CHAR *)"Kerberos", &packed, NULL, &h),
              SEC_E_SECPKG_NOT_FOUND);
    assert_st(ImportSecurityContextA(NULL, &packed, NULL, &h),
              SEC_E_SECPKG_NOT_FOUND);
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, &packed, NULL, &h),
              SEC_E_INVALID_TOKEN);
    assert_int_equal(h.dwLower, 0);
    sp_release(&hs);
}

/* ---- export group: ExportSecurityContext / ImportSecurityContextA -------
 * (export.conf: [policy] allow-export = yes). A blob is imported in
 * another process (this program re-executed as "export-child"), with a
 * GSS peer and with an SSPI peer; refusals first, so that none of them
 * uses the blob up; then it imports once and only once. */

/* Child exit statuses. */
enum {
    CHILD_OK = 0,
    CHILD_INVALID_TOKEN = 3,
    CHILD_CANNOT_PACK = 4,
    CHILD_OTHER = 5,
    CHILD_MSG = 6, /* imported, but the messages failed */
    CHILD_NOT_FOUND = 7,
};

/* This program, as main found it (for the children). */
static char self_path[4096];

static void put_file(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The whole file, malloc'ed; NULL if unreadable. */
static uint8_t *get_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0) {
        rewind(f);
        p = malloc(n ? (size_t)n : 1);
        if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
            free(p);
            p = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return p;
}

/* A configuration file beside this suite's (GSS_PKCS11_CONF). */
static void sibling_conf(const char *file, char *out, size_t len)
{
    const char *conf = getenv("GSS_PKCS11_CONF");
    const char *slash = conf ? strrchr(conf, '/') : NULL;

    assert_non_null(slash);
    snprintf(out, len, "%.*s/%s", (int)(slash - conf), conf, file);
}

/* Runs "export-child PKG BLOB IN OUT" with GSS_PKCS11_CONF=conf (NULL:
 * this suite's); its exit status. */
static int run_child(const char *conf, const char *pkg, const char *blob,
                     const char *in, const char *out)
{
    pid_t pid = fork();
    int st;

    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {
            "test_sspi_face", "export-child", (char *)pkg, (char *)blob,
            (char *)in,       (char *)out,    NULL};

        if (conf)
            setenv("GSS_PKCS11_CONF", conf, 1);
        execv(self_path, argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* The child: ImportSecurityContextA(pkg, BLOB), DecryptMessage of the
 * WRAP token in IN (must be "to kid!"), EncryptMessage of "reply" into
 * OUT (TOKEN || DATA, a WRAP token); plain calls, no cmocka. */
static int export_child(const char *pkg, const char *blob_path,
                        const char *in_path, const char *out_path)
{
    uint8_t *blob = NULL, *in = NULL, tok[16 + 64], data[8];
    size_t blob_len = 0, in_len = 0;
    SecBuffer packed, sb[2], db[2];
    SecBufferDesc sd = {SECBUFFER_VERSION, 2, sb};
    SecBufferDesc dd = {SECBUFFER_VERSION, 2, db};
    CtxtHandle h;
    bool have = false;
    SECURITY_STATUS st;
    ULONG qop = 0;
    int rc = CHILD_OTHER;
    FILE *f;

    blob = get_file(blob_path, &blob_len);
    in = get_file(in_path, &in_len);
    if (blob == NULL || in == NULL)
        goto done;
    packed = (SecBuffer){(ULONG)blob_len, SECBUFFER_EMPTY, blob};
    st = ImportSecurityContextA((SEC_CHAR *)pkg, &packed, NULL, &h);
    if (st != SEC_E_OK) {
        fprintf(stderr, "export-child: ImportSecurityContextA: 0x%08x\n",
                (unsigned)st);
        rc = st == SEC_E_INVALID_TOKEN      ? CHILD_INVALID_TOKEN
             : st == SEC_E_CANNOT_PACK      ? CHILD_CANNOT_PACK
             : st == SEC_E_SECPKG_NOT_FOUND ? CHILD_NOT_FOUND
                                            : CHILD_OTHER;
        goto done;
    }
    have = true;
    rc = CHILD_MSG;
    sb[0] = (SecBuffer){(ULONG)in_len, SECBUFFER_STREAM, in};
    sb[1] = (SecBuffer){0, SECBUFFER_DATA, NULL};
    st = DecryptMessage(&h, &sd, 0, &qop);
    if (st != SEC_E_OK || sb[1].cbBuffer != 7 ||
        memcmp(sb[1].pvBuffer, "to kid!", 7) != 0) {
        fprintf(stderr, "export-child: DecryptMessage: 0x%08x\n", (unsigned)st);
        goto done;
    }
    memcpy(data, "reply", 5);
    db[0] = (SecBuffer){sizeof(tok), SECBUFFER_TOKEN, tok};
    db[1] = (SecBuffer){5, SECBUFFER_DATA, data};
    st = EncryptMessage(&h, 0, &dd, 0);
    if (st != SEC_E_OK) {
        fprintf(stderr, "export-child: EncryptMessage: 0x%08x\n", (unsigned)st);
        goto done;
    }
    f = fopen(out_path, "wb");
    if (f == NULL)
        goto done;
    if (fwrite(tok, 1, db[0].cbBuffer, f) == db[0].cbBuffer &&
        fwrite(data, 1, 5, f) == 5 && fclose(f) == 0)
        rc = CHILD_OK;
done:
    if (have && DeleteSecurityContext(&h) != SEC_E_OK)
        rc = CHILD_OTHER;
    free(blob);
    free(in);
    return rc;
}

/* Files of one export: the blob, a damaged copy, the message to the
 * child and its reply. */
struct xfiles {
    char dir[32], blob[64], bad[64], in[64], out[64];
};

static void xfiles_make(struct xfiles *x)
{
    snprintf(x->dir, sizeof(x->dir), "/tmp/gp11-sspix-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->blob, sizeof(x->blob), "%s/blob", x->dir);
    snprintf(x->bad, sizeof(x->bad), "%s/bad", x->dir);
    snprintf(x->in, sizeof(x->in), "%s/in", x->dir);
    snprintf(x->out, sizeof(x->out), "%s/out", x->dir);
}

static void xfiles_remove(struct xfiles *x)
{
    unlink(x->blob);
    unlink(x->bad);
    unlink(x->in);
    unlink(x->out);
    rmdir(x->dir);
}

/*
 * The child runs: refused with another package name, under a
 * configuration with allow-export = no, and for a damaged blob, none of
 * which uses the blob up; then it imports and answers; then a second
 * import (another child, this process) is refused. The child's reply is
 * left in x->out; the blob is freed.
 */
static void children_import_once(struct xfiles *x, SecBuffer *packed)
{
    uint8_t *bad = malloc(packed->cbBuffer);
    char noexp[4096];
    CtxtHandle h = {0, 0};

    assert_non_null(bad);
    sibling_conf("gss-pkcs11.conf", noexp, sizeof(noexp));
    put_file(x->blob, packed->pvBuffer, packed->cbBuffer);
    memcpy(bad, packed->pvBuffer, packed->cbBuffer);
    bad[packed->cbBuffer - 1] ^= 0x01; /* the MAC */
    put_file(x->bad, bad, packed->cbBuffer);
    free(bad);
    assert_int_equal(run_child(NULL, "Kerberos", x->blob, x->in, x->out),
                     CHILD_NOT_FOUND);
    assert_int_equal(run_child(noexp, PKG, x->blob, x->in, x->out),
                     CHILD_CANNOT_PACK);
    assert_int_equal(run_child(NULL, PKG, x->bad, x->in, x->out),
                     CHILD_INVALID_TOKEN);
    assert_int_not_equal(access(x->out, F_OK), 0);
    assert_int_equal(run_child(NULL, PKG, x->blob, x->in, x->out), CHILD_OK);
    /* At most once: in another process, then in this one. */
    rename(x->out, x->bad);
    assert_int_equal(run_child(NULL, PKG, x->blob, x->in, x->out),
                     CHILD_INVALID_TOKEN);
    assert_int_not_equal(access(x->out, F_OK), 0);
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, packed, NULL, &h),
              SEC_E_INVALID_TOKEN);
    assert_int_equal(h.dwLower, 0);
    rename(x->bad, x->out);
    assert_st(FreeContextBuffer(packed->pvBuffer), SEC_E_OK);
    packed->pvBuffer = NULL;
}

/* An SSPI initiator with a GSS acceptor (MIT's mechglue): exported with
 * SECPKG_CONTEXT_EXPORT_DELETE_OLD (the handle is gone), imported in a
 * child, which continues the conversation with the GSS acceptor both
 * ways in sequence. */
static void export_initiator_gss_peer(void **state)
{
    struct sp_hs hs = {0};
    SecBuffer packed = {0, SECBUFFER_EMPTY, NULL}, data;
    SecPkgContext_Sizes sz;
    struct xfiles x;
    uint8_t wire[256], *reply;
    size_t wire_len, reply_len = 0;
    gss_buffer_desc in, out, m = {7, (void *)"to kid!"};
    OM_uint32 minor;
    ULONG qop;
    int conf = 0;

    (void)state;
    hs.target = "host@localhost";
    hs.i.sspi = true;
    hs.i.req = ALL_FLAGS;
    assert_true(sp_handshake(&hs));
    /* A message each way before the export. */
    assert_st(seal(&hs.i.ctx, 0, "before", wire, &wire_len), SEC_E_OK);
    in = (gss_buffer_desc){wire_len, wire};
    assert_int_equal(gss_unwrap(&minor, hs.a.gctx, &in, &out, NULL, NULL),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &out);
    in = (gss_buffer_desc){4, (void *)"back"};
    assert_int_equal(gss_wrap(&minor, hs.a.gctx, 1, 0, &in, NULL, &out),
                     GSS_S_COMPLETE);
    memcpy(wire, out.value, out.length);
    assert_st(unseal_stream(&hs.i.ctx, wire, out.length, &data, &qop),
              SEC_E_OK);
    gss_release_buffer(&minor, &out);

    assert_st(ExportSecurityContext(&hs.i.ctx, SECPKG_CONTEXT_EXPORT_DELETE_OLD,
                                    &packed, NULL),
              SEC_E_OK);
    assert_true(packed.cbBuffer > 100);
    assert_memory_equal(packed.pvBuffer, "GP11", 4);
    /* DELETE_OLD: the handle is gone. */
    assert_st(QueryContextAttributesA(&hs.i.ctx, SECPKG_ATTR_SIZES, &sz),
              SEC_E_INVALID_HANDLE);
    refused_everywhere(&hs.i.ctx);
    hs.i.have_ctx = false;

    xfiles_make(&x);
    assert_int_equal(gss_wrap(&minor, hs.a.gctx, 1, 0, &m, NULL, &out),
                     GSS_S_COMPLETE);
    put_file(x.in, out.value, out.length);
    gss_release_buffer(&minor, &out);
    children_import_once(&x, &packed);
    reply = get_file(x.out, &reply_len);
    assert_non_null(reply);
    in = (gss_buffer_desc){reply_len, reply};
    /* In sequence: the child went on from the exporter's numbers. */
    assert_int_equal(gss_unwrap(&minor, hs.a.gctx, &in, &out, &conf, NULL),
                     GSS_S_COMPLETE);
    assert_true(conf);
    assert_int_equal(out.length, 5);
    assert_memory_equal(out.value, "reply", 5);
    gss_release_buffer(&minor, &out);
    free(reply);
    xfiles_remove(&x);
    sp_release(&hs);
}

/* SSPI on both sides, the acceptor exported without DELETE_OLD: the old
 * handle stays until DeleteSecurityContext but no other call takes it
 * (never two live copies); the child continues with the SSPI initiator. */
static void export_acceptor_sspi_peer(void **state)
{
    struct sp_hs hs;
    SecBuffer packed = {0, SECBUFFER_EMPTY, NULL}, data;
    SecPkgContext_Flags fl;
    struct xfiles x;
    uint8_t tok[16 + 64], wire[256], *reply;
    size_t wire_len, reply_len = 0;
    ULONG len = sizeof(tok), qop = 99;
    HANDLE imp = (HANDLE)&hs;

    (void)state;
    memset(&hs, 0, sizeof(hs));
    hs.target = "host@localhost";
    hs.i.sspi = hs.a.sspi = true;
    hs.i.req = ALL_FLAGS;
    assert_true(sp_handshake(&hs));
    assert_st(sign(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_OK);

    assert_st(ExportSecurityContext(&hs.a.ctx, 0, &packed, &imp), SEC_E_OK);
    assert_null(imp);
    assert_true(packed.cbBuffer > 100);
    /* The old context is dead, its handle still there. */
    len = sizeof(tok);
    assert_st(sign(&hs.a.ctx, 0, tok, &len), SEC_E_INVALID_HANDLE);
    assert_st(seal(&hs.a.ctx, 0, "copy", wire, &wire_len),
              SEC_E_INVALID_HANDLE);
    assert_st(QueryContextAttributesA(&hs.a.ctx, SECPKG_ATTR_FLAGS, &fl),
              SEC_E_INVALID_HANDLE);
    {
        SecBuffer again = {0, SECBUFFER_EMPTY, NULL};

        assert_st(ExportSecurityContext(&hs.a.ctx, 0, &again, NULL),
                  SEC_E_INVALID_HANDLE);
    }
    assert_st(DeleteSecurityContext(&hs.a.ctx), SEC_E_OK);
    hs.a.have_ctx = false;
    refused_everywhere(&hs.a.ctx);

    xfiles_make(&x);
    assert_st(seal(&hs.i.ctx, 0, "to kid!", wire, &wire_len), SEC_E_OK);
    put_file(x.in, wire, wire_len);
    children_import_once(&x, &packed);
    reply = get_file(x.out, &reply_len);
    assert_non_null(reply);
    assert_st(unseal_stream(&hs.i.ctx, reply, reply_len, &data, &qop),
              SEC_E_OK);
    assert_int_equal(data.cbBuffer, 5);
    assert_memory_equal(data.pvBuffer, "reply", 5);
    free(reply);
    xfiles_remove(&x);
    sp_release(&hs);
}

/* The SSP/AP user-mode table's ExportContext and ImportContext: the same
 * export as ExportSecurityContext, by LSA_SEC_HANDLE; the imported context
 * signs through the table and the peer verifies in sequence. */
static void export_through_user_table(void **state)
{
    struct sp_hs hs;
    SECPKG_USER_FUNCTION_TABLE *ut;
    SecBuffer packed = {0, SECBUFFER_EMPTY, NULL}, empty = {0, 0, NULL};
    uint8_t tok[16 + 64];
    SecBuffer b[2] = {{11, SECBUFFER_DATA, (void *)"hello world"},
                      {sizeof(tok), SECBUFFER_TOKEN, tok}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    LSA_SEC_HANDLE lsa = 77;
    ULONG ver, n, len = sizeof(tok), qop = 99;

    (void)state;
    sspi_pair(&hs);
    assert_st(SpUserModeInitialize(SECPKG_INTERFACE_VERSION, &ver, &ut, &n),
              SEC_E_OK);
    assert_non_null(ut->ExportContext);
    assert_non_null(ut->ImportContext);
    assert_st(sign(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    assert_st(ut->ExportContext(hs.a.ctx.dwLower + 1000, 0, &packed, NULL),
              SEC_E_INVALID_HANDLE);
    assert_st(ut->ExportContext(hs.i.ctx.dwLower,
                                SECPKG_CONTEXT_EXPORT_DELETE_OLD, &packed,
                                NULL),
              SEC_E_OK);
    hs.i.have_ctx = false;
    refused_everywhere(&hs.i.ctx);
    assert_st(ut->ImportContext(NULL, NULL, &lsa), SEC_E_INVALID_PARAMETER);
    assert_st(ut->ImportContext(&empty, NULL, &lsa), SEC_E_INVALID_TOKEN);
    assert_int_equal(lsa, 0);
    assert_st(ut->ImportContext(&packed, NULL, NULL), SEC_E_INVALID_PARAMETER);
    assert_st(ut->ImportContext(&packed, NULL, &lsa), SEC_E_OK);
    assert_int_not_equal(lsa, 0);
    /* The exporter's first MIC is verified now: the import goes on from
     * the next number. */
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_OK);
    assert_st(ut->MakeSignature(lsa, 0, &d, 0), SEC_E_OK);
    assert_st(verify(&hs.a.ctx, tok, b[1].cbBuffer, &qop), SEC_E_OK);
    assert_int_equal(qop, 0);
    assert_st(ut->DeleteUserModeContext(lsa), SEC_E_OK);
    assert_st(ut->MakeSignature(lsa, 0, &d, 0), SEC_E_INVALID_HANDLE);
    assert_st(FreeContextBuffer(packed.pvBuffer), SEC_E_OK);
    sp_release(&hs);
}

/* Arguments refused before anything is done (the context still works);
 * damaged blobs refused without using the blob up; in this process the
 * import makes a working handle. */
static void export_import_arguments(void **state)
{
    struct sp_hs hs;
    SecBuffer packed = {0, SECBUFFER_EMPTY, NULL}, bad, data;
    CtxtHandle made = {12345, 0x67705358}, h = {0, 0}, h2 = {0, 0};
    SecPkgContext_NamesA nm;
    SecPkgContext_Flags fl;
    uint8_t tok[16 + 64], wire[256], *copy;
    size_t wire_len;
    ULONG len = sizeof(tok), qop;
    const size_t offs[] = {0, 4, 9, 41, 57, 73, 100};

    (void)state;
    sspi_pair(&hs);
    assert_st(ExportSecurityContext(NULL, 0, &packed, NULL),
              SEC_E_INVALID_HANDLE);
    assert_st(ExportSecurityContext(&made, 0, &packed, NULL),
              SEC_E_INVALID_HANDLE);
    assert_st(ExportSecurityContext(&hs.i.ctx, 0, NULL, NULL),
              SEC_E_INVALID_PARAMETER);
    assert_st(ExportSecurityContext(&hs.i.ctx, SECPKG_CONTEXT_EXPORT_RESET_NEW,
                                    &packed, NULL),
              SEC_E_UNSUPPORTED_FUNCTION);
    assert_st(ExportSecurityContext(&hs.i.ctx, SECPKG_CONTEXT_EXPORT_TO_KERNEL,
                                    &packed, NULL),
              SEC_E_UNSUPPORTED_FUNCTION);
    assert_st(ExportSecurityContext(&hs.i.ctx, 0x100, &packed, NULL),
              SEC_E_INVALID_PARAMETER);
    assert_null(packed.pvBuffer);
    assert_st(sign(&hs.i.ctx, 0, tok, &len), SEC_E_OK);
    assert_st(verify(&hs.a.ctx, tok, len, &qop), SEC_E_OK);

    assert_st(ExportSecurityContext(&hs.i.ctx, SECPKG_CONTEXT_EXPORT_DELETE_OLD,
                                    &packed, NULL),
              SEC_E_OK);
    hs.i.have_ctx = false;
    assert_st(
        ImportSecurityContextA((SEC_CHAR *)"Negotiate", &packed, NULL, &h),
        SEC_E_SECPKG_NOT_FOUND);
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, NULL, NULL, &h),
              SEC_E_INVALID_PARAMETER);
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, &packed, NULL, NULL),
              SEC_E_INVALID_PARAMETER);
    bad = (SecBuffer){0, SECBUFFER_EMPTY, packed.pvBuffer};
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, &bad, NULL, &h),
              SEC_E_INVALID_TOKEN);
    bad.cbBuffer = packed.cbBuffer - 1;
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, &bad, NULL, &h),
              SEC_E_INVALID_TOKEN);
    copy = malloc(packed.cbBuffer);
    assert_non_null(copy);
    bad = (SecBuffer){packed.cbBuffer, SECBUFFER_EMPTY, copy};
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        memcpy(copy, packed.pvBuffer, packed.cbBuffer);
        copy[offs[i]] ^= 0x01;
        assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, &bad, NULL, &h),
                  SEC_E_INVALID_TOKEN);
    }
    free(copy);
    assert_int_equal(h.dwLower, 0);

    /* The genuine blob, once: an initiator, its flags and names. */
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, &packed, NULL, &h),
              SEC_E_OK);
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, &packed, NULL, &h2),
              SEC_E_INVALID_TOKEN);
    assert_int_equal(h2.dwLower, 0);
    FreeContextBuffer(packed.pvBuffer);
    assert_st(QueryContextAttributesA(&h, SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
    assert_true(fl.Flags & ISC_RET_MUTUAL_AUTH);
    assert_true(fl.Flags & ISC_RET_INTEGRITY);
    assert_false(fl.Flags & ASC_RET_INTEGRITY);
    assert_st(QueryContextAttributesA(&h, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
    assert_string_equal(nm.sUserName, "alice@localhost");
    FreeContextBuffer(nm.sUserName);
    assert_st(seal(&h, 0, "imported", wire, &wire_len), SEC_E_OK);
    assert_st(unseal_stream(&hs.a.ctx, wire, wire_len, &data, &qop), SEC_E_OK);
    assert_memory_equal(data.pvBuffer, "imported", 8);
    assert_st(seal(&hs.a.ctx, 0, "answer", wire, &wire_len), SEC_E_OK);
    assert_st(unseal_stream(&h, wire, wire_len, &data, &qop), SEC_E_OK);
    assert_memory_equal(data.pvBuffer, "answer", 6);
    assert_st(DeleteSecurityContext(&h), SEC_E_OK);
    sp_release(&hs);
}

/* One blob format for both faces: a GSS export (less the mechglue's
 * u32 length and OID) imports through SSPI, and an SSPI export (with
 * them put in front) through gss_import_sec_context. */
static void blobs_cross_faces(void **state)
{
    struct gl_hs hs = {0};
    gss_buffer_desc blob, in, out, glued;
    SecBuffer packed, data;
    CtxtHandle h;
    uint8_t wire[256], *p;
    size_t wire_len, pre;
    OM_uint32 minor;
    ULONG qop;
    gss_OID mech = gl_mech();

    (void)state;
    hs.target = gl_service("host@localhost");
    hs.req_flags = GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;
    assert_true(gl_handshake(&hs));
    assert_int_equal(gss_export_sec_context(&minor, &hs.ictx, &blob),
                     GSS_S_COMPLETE);
    pre = 4 + mech->length;
    assert_true(blob.length > pre);
    assert_memory_equal((uint8_t *)blob.value + pre, "GP11", 4);
    packed = (SecBuffer){(ULONG)(blob.length - pre), SECBUFFER_EMPTY,
                         (uint8_t *)blob.value + pre};
    assert_st(ImportSecurityContextA((SEC_CHAR *)PKG, &packed, NULL, &h),
              SEC_E_OK);
    gss_release_buffer(&minor, &blob);
    assert_st(seal(&h, 0, "sspi now", wire, &wire_len), SEC_E_OK);
    in = (gss_buffer_desc){wire_len, wire};
    assert_int_equal(gss_unwrap(&minor, hs.actx, &in, &out, NULL, NULL),
                     GSS_S_COMPLETE);
    gss_release_buffer(&minor, &out);
    in = (gss_buffer_desc){5, (void *)"to it"};
    assert_int_equal(gss_wrap(&minor, hs.actx, 1, 0, &in, NULL, &out),
                     GSS_S_COMPLETE);
    memcpy(wire, out.value, out.length);
    assert_st(unseal_stream(&h, wire, out.length, &data, &qop), SEC_E_OK);
    gss_release_buffer(&minor, &out);

    packed = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
    assert_st(ExportSecurityContext(&h, SECPKG_CONTEXT_EXPORT_DELETE_OLD,
                                    &packed, NULL),
              SEC_E_OK);
    p = malloc(pre + packed.cbBuffer);
    assert_non_null(p);
    p[0] = 0, p[1] = 0, p[2] = 0, p[3] = (uint8_t)mech->length;
    memcpy(p + 4, mech->elements, mech->length);
    memcpy(p + pre, packed.pvBuffer, packed.cbBuffer);
    glued = (gss_buffer_desc){pre + packed.cbBuffer, p};
    FreeContextBuffer(packed.pvBuffer);
    assert_int_equal(gss_import_sec_context(&minor, &glued, &hs.ictx),
                     GSS_S_COMPLETE);
    free(p);
    in = (gss_buffer_desc){7, (void *)"gss now"};
    assert_int_equal(gss_wrap(&minor, hs.ictx, 1, 0, &in, NULL, &out),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_unwrap(&minor, hs.actx, &out, &in, NULL, NULL),
                     GSS_S_COMPLETE);
    assert_int_equal(in.length, 7);
    gss_release_buffer(&minor, &in);
    gss_release_buffer(&minor, &out);
    gl_hs_release(&hs);
}

int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "main";
    const struct CMUnitTest main_tests[] = {
        cmocka_unit_test(table_has_the_exported_functions),
        cmocka_unit_test(package_is_listed),
        cmocka_unit_test(credentials_refused),
        cmocka_unit_test(bad_handles_refused),
        cmocka_unit_test(half_established_refused),
        cmocka_unit_test(sspi_to_sspi),
        cmocka_unit_test(caller_buffers),
        cmocka_unit_test(sspi_initiator_gss_acceptor),
        cmocka_unit_test(gss_initiator_sspi_acceptor),
        cmocka_unit_test(bindings_interoperate),
        cmocka_unit_test(bad_tokens_refused),
        cmocka_unit_test(export_refused_by_policy),
        cmocka_unit_test(user_mode_table),
        cmocka_unit_test(messages_interoperate),
        cmocka_unit_test(messages_sspi_to_sspi),
        cmocka_unit_test(explicit_numbers_sspi),
        cmocka_unit_test(explicit_numbers_gss_receiver),
        cmocka_unit_test(flipped_and_truncated_tokens),
        cmocka_unit_test(forked_child_refused),
        cmocka_unit_test(threads),
    };
    const struct CMUnitTest extra_tests[] = {
        cmocka_unit_test(untrusted_root),
        cmocka_unit_test(wrong_principal),
        cmocka_unit_test(expired_identity),
    };

    const struct CMUnitTest export_tests[] = {
        cmocka_unit_test(export_initiator_gss_peer),
        cmocka_unit_test(export_acceptor_sspi_peer),
        cmocka_unit_test(export_import_arguments),
        cmocka_unit_test(export_through_user_table),
        cmocka_unit_test(blobs_cross_faces),
    };

    if (strcmp(group, "export-child") == 0 && argc == 6)
        return export_child(argv[2], argv[3], argv[4], argv[5]);
    if (realpath(argv[0], self_path) == NULL)
        snprintf(self_path, sizeof(self_path), "%s", argv[0]);
    tl_config(); /* exits 77 if this token is not installed */
    if (strcmp(group, "export") == 0)
        return cmocka_run_group_tests_name("export", export_tests, NULL, NULL);
    if (strcmp(group, "extra") == 0)
        return cmocka_run_group_tests_name("extra", extra_tests, NULL, NULL);
    return cmocka_run_group_tests_name("main", main_tests, NULL, NULL);
}
