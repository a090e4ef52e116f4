/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A program built against an installed SSPI face with nothing but
 * `pkg-config --cflags --libs gss-pkcs11-sspi` (tests/install-pc.sh): the
 * installed <gss-pkcs11/sspi.h> alone (no WinPR), linked to the installed
 * libgss-pkcs11-sspi. It prints, one a line: the package's name and
 * cbMaxToken as EnumerateSecurityPackagesA reports them, and the file the
 * table's functions were loaded from.
 */
#define _GNU_SOURCE
#include <gss-pkcs11/sspi.h>

#include <dlfcn.h>
#include <stdio.h>

/* WinPR's LP64 layout (docs/sspi.md, "The header"). */
_Static_assert(sizeof(SecBuffer) == 16, "sizeof(SecBuffer)");
_Static_assert(sizeof(SecBufferDesc) == 16, "sizeof(SecBufferDesc)");
_Static_assert(sizeof(SecHandle) == 16, "sizeof(SecHandle)");
_Static_assert(sizeof(SecurityFunctionTableA) == 224,
               "sizeof(SecurityFunctionTableA)");

int main(void)
{
    PSecurityFunctionTableA t = InitSecurityInterfaceA();
    PSecPkgInfoA info = NULL;
    ULONG n = 0;
    Dl_info di;
    SECURITY_STATUS st;

    if (t == NULL || t->EnumerateSecurityPackagesA == NULL ||
        t->FreeContextBuffer == NULL) {
        fprintf(stderr, "InitSecurityInterfaceA: no table\n");
        return 1;
    }
    st = t->EnumerateSecurityPackagesA(&n, &info);
    if (st != SEC_E_OK || n != 1 || info == NULL) {
        fprintf(stderr, "EnumerateSecurityPackagesA: 0x%08x, %u packages\n",
                (unsigned)st, (unsigned)n);
        return 1;
    }
    printf("%s\n%u\n", info->Name, (unsigned)info->cbMaxToken);
    t->FreeContextBuffer(info);
    st = QuerySecurityPackageInfoA((SEC_CHAR *)"Kerberos", &info);
    if (st != SEC_E_SECPKG_NOT_FOUND) {
        fprintf(stderr, "QuerySecurityPackageInfoA(Kerberos): 0x%08x\n",
                (unsigned)st);
        return 1;
    }
    /* The table's pointers point into the library itself. */
    if (dladdr((void *)t->EnumerateSecurityPackagesA, &di) == 0 ||
        di.dli_fname == NULL) {
        fprintf(stderr, "dladdr: the table's functions are in no file\n");
        return 1;
    }
    printf("%s\n", di.dli_fname);
    return 0;
}
