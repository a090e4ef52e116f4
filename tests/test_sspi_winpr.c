/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gss-pkcs11's SSPI face in a process that also uses WinPR's SSPI: the
 * program is built against <winpr/sspi.h> and linked to libwinpr2 only;
 * our library is reached as FreeRDP reaches a custom SSPI module, with
 * dlopen(RTLD_LOCAL) and its InitSecurityInterfaceA. Both tables work
 * side by side, each with its own packages, and a context made through
 * ours (with WinPR's types) is established and answers its attributes.
 */
#include <winpr/sspi.h>

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define PKG "gss-pkcs11"
#define MAX_TOK 65536

static void *lib;
static PSecurityFunctionTableA ours, winpr;

#define assert_st(got, want)                                                   \
    do {                                                                       \
        SECURITY_STATUS g_ = (got), w_ = (want);                               \
        if (g_ != w_)                                                          \
            fail_msg("%s: status 0x%08x, expected %s (0x%08x)", #got,          \
                     (unsigned)g_, #want, (unsigned)w_);                       \
    } while (0)

static int setup(void **state)
{
    INIT_SECURITY_INTERFACE_A init;

    (void)state;
    winpr = InitSecurityInterfaceA();
    lib = dlopen(GP11_SSPI_LIB, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", GP11_SSPI_LIB, dlerror());
        return -1;
    }
    init = (INIT_SECURITY_INTERFACE_A)dlsym(lib, "InitSecurityInterfaceA");
    if (init == NULL)
        return -1;
    ours = init();
    return ours != NULL && winpr != NULL ? 0 : -1;
}

/* The library stays loaded, as FreeRDP keeps its SSPI module: its
 * process-wide runtime (configuration, token, anchors) is never freed,
 * so a dlclose() would turn it into a leak. */
static int teardown(void **state)
{
    (void)state;
    return 0;
}

/* Whether a table lists a package. */
static bool lists(PSecurityFunctionTableA t, const char *name, ULONG *count)
{
    PSecPkgInfoA p = NULL;
    bool found = false;
    ULONG n = 0;

    assert_st(t->EnumerateSecurityPackagesA(&n, &p), SEC_E_OK);
    for (ULONG i = 0; i < n; i++)
        if (strcmp(p[i].Name, name) == 0)
            found = true;
    t->FreeContextBuffer(p);
    *count = n;
    return found;
}

static void two_tables_side_by_side(void **state)
{
    PSecPkgInfoA p = NULL;
    ULONG n;

    (void)state;
    assert_ptr_not_equal(ours, winpr);
    /* The process's InitSecurityInterfaceA stays WinPR's. */
    assert_ptr_equal(dlsym(RTLD_DEFAULT, "InitSecurityInterfaceA"),
                     (void *)InitSecurityInterfaceA);
    assert_ptr_not_equal(dlsym(lib, "InitSecurityInterfaceA"),
                         (void *)InitSecurityInterfaceA);
    assert_true(lists(ours, PKG, &n));
    assert_int_equal(n, 1);
    assert_false(lists(winpr, PKG, &n));
    assert_true(lists(winpr, "NTLM", &n));
    assert_st(winpr->QuerySecurityPackageInfoA((SEC_CHAR *)"NTLM", &p),
              SEC_E_OK);
    winpr->FreeContextBuffer(p);
    assert_st(ours->QuerySecurityPackageInfoA((SEC_CHAR *)"NTLM", &p),
              SEC_E_SECPKG_NOT_FOUND);
    assert_st(ours->QuerySecurityPackageInfoA((SEC_CHAR *)PKG, &p), SEC_E_OK);
    assert_string_equal(p->Name, PKG);
    ours->FreeContextBuffer(p);
}

/* A context through our table, with WinPR's types, until both sides
 * report SEC_E_OK (any number of legs). */
static void context_through_our_table(void **state)
{
    static BYTE a[MAX_TOK], b[MAX_TOK];
    CredHandle icred, acred;
    CtxtHandle ictx, actx;
    BOOL have_i = FALSE, have_a = FALSE, i_done = FALSE, a_done = FALSE;
    BYTE *in = NULL, *out = a;
    ULONG in_len = 0, attrs;
    SecPkgContext_Names nm;
    SecPkgContext_Sizes sz;
    TimeStamp exp;
    int leg;

    (void)state;
    assert_st(ours->AcquireCredentialsHandleA(NULL, (SEC_CHAR *)PKG,
                                              SECPKG_CRED_OUTBOUND, NULL, NULL,
                                              NULL, NULL, &icred, &exp),
              SEC_E_OK);
    assert_st(ours->AcquireCredentialsHandleA(
                  (SEC_CHAR *)"host@localhost", (SEC_CHAR *)PKG,
                  SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &acred, &exp),
              SEC_E_OK);
    for (leg = 1; leg <= 8; leg++) {
        SecBuffer ib = {in_len, SECBUFFER_TOKEN, in};
        SecBuffer ob = {MAX_TOK, SECBUFFER_TOKEN, out};
        SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        SECURITY_STATUS st;

        if (leg % 2) {
            st = ours->InitializeSecurityContextA(
                &icred, have_i ? &ictx : NULL, (SEC_CHAR *)"host/localhost",
                ISC_REQ_MUTUAL_AUTH, 0, SECURITY_NATIVE_DREP, in ? &id : NULL,
                0, &ictx, &od, &attrs, &exp);
            have_i = TRUE;
            i_done = st == SEC_E_OK;
        } else {
            st = ours->AcceptSecurityContext(&acred, have_a ? &actx : NULL, &id,
                                             0, SECURITY_NATIVE_DREP, &actx,
                                             &od, &attrs, &exp);
            have_a = TRUE;
            a_done = st == SEC_E_OK;
        }
        if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
            fail_msg("leg %d: status 0x%08x", leg, (unsigned)st);
        if (ob.cbBuffer == 0)
            break;
        in = out;
        in_len = ob.cbBuffer;
        out = out == a ? b : a;
    }
    assert_true(i_done && a_done);
    assert_st(ours->QueryContextAttributesA(&actx, SECPKG_ATTR_NAMES, &nm),
              SEC_E_OK);
    assert_string_equal(nm.sUserName, "alice@localhost");
    ours->FreeContextBuffer(nm.sUserName);
    assert_st(ours->QueryContextAttributesA(&ictx, SECPKG_ATTR_SIZES, &sz),
              SEC_E_OK);
    assert_int_equal(sz.cbMaxToken, 65535);
    /* WinPR does not know our handles, nor we its. */
    assert_st(ours->DeleteSecurityContext(&ictx), SEC_E_OK);
    assert_st(ours->DeleteSecurityContext(&ictx), SEC_E_INVALID_HANDLE);
    assert_st(ours->DeleteSecurityContext(&actx), SEC_E_OK);
    assert_st(ours->FreeCredentialsHandle(&icred), SEC_E_OK);
    assert_st(ours->FreeCredentialsHandle(&acred), SEC_E_OK);
}

/* WinPR's NTLM still works next to ours: credentials and a first token. */
static void winpr_ntlm_still_works(void **state)
{
    SEC_WINNT_AUTH_IDENTITY_A id = {0};
    static BYTE out[MAX_TOK];
    SecBuffer ob = {MAX_TOK, SECBUFFER_TOKEN, out};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    CredHandle cred;
    CtxtHandle ctx;
    TimeStamp exp;
    ULONG attrs;

    (void)state;
    id.User = (BYTE *)"user";
    id.UserLength = 4;
    id.Domain = (BYTE *)"DOMAIN";
    id.DomainLength = 6;
    id.Password = (BYTE *)"password";
    id.PasswordLength = 8;
    id.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
    assert_st(winpr->AcquireCredentialsHandleA(NULL, (SEC_CHAR *)"NTLM",
                                               SECPKG_CRED_OUTBOUND, NULL, &id,
                                               NULL, NULL, &cred, &exp),
              SEC_E_OK);
    assert_st(winpr->InitializeSecurityContextA(
                  &cred, NULL, (SEC_CHAR *)"HTTP/localhost", 0, 0,
                  SECURITY_NATIVE_DREP, NULL, 0, &ctx, &od, &attrs, &exp),
              SEC_I_CONTINUE_NEEDED);
    assert_true(ob.cbBuffer > 8);
    assert_memory_equal(out, "NTLMSSP", 8);
    winpr->DeleteSecurityContext(&ctx);
    winpr->FreeCredentialsHandle(&cred);
}

int main(void)
{
    const char *skip = getenv("GP11_TEST_SKIP_FILE");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_tables_side_by_side),
        cmocka_unit_test(context_through_our_table),
        cmocka_unit_test(winpr_ntlm_still_works),
    };

    if (skip && access(skip, F_OK) == 0)
        return 77; /* this token's package is not installed */
    return cmocka_run_group_tests_name("winpr", tests, setup, teardown);
}
