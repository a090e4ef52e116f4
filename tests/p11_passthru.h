/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the pass-through test modules (fault_module.c, latency_module.c)
 * share: loading the real module named by an environment variable, and the
 * PKCS#11 3.0 types p11-kit 0.24's pkcs11.h lacks (C_GetInterface and the
 * 3.0 function list), so that a module can pass a 3.0 token through.
 */
#ifndef P11_PASSTHRU_H
#define P11_PASSTHRU_H

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdlib.h>

/* PKCS#11 3.0 section 5.1 (absent from p11-kit 0.24). */
typedef struct {
    CK_UTF8CHAR *pInterfaceName;
    void *pFunctionList;
    CK_FLAGS flags;
} P11_INTERFACE;
typedef CK_RV (*P11_C_GetInterface)(CK_UTF8CHAR_PTR, CK_VERSION_PTR,
                                    P11_INTERFACE **, CK_FLAGS);
typedef CK_RV (*P11_C_GetInterfaceList)(P11_INTERFACE *, CK_ULONG_PTR);

/* CK_FUNCTION_LIST_3_0: the 2.40 list, then the 3.0 functions. */
struct p11_list30 {
    CK_VERSION version;
#define P11_CALL(n, params, args) CK_RV(*C_##n) params;
#include "p11_calls.h"
};
_Static_assert(offsetof(struct p11_list30, C_WaitForSlotEvent) ==
                   offsetof(CK_FUNCTION_LIST, C_WaitForSlotEvent),
               "the 2.40 part of struct p11_list30 is CK_FUNCTION_LIST");
_Static_assert(offsetof(struct p11_list30, C_WaitForSlotEvent) +
                       sizeof(void *) ==
                   offsetof(struct p11_list30, C_GetInterfaceList),
               "the 3.0 functions follow the 2.40 ones");

/* The real module: its 2.40 list, and C_GetInterface when it has one. */
struct p11_target {
    void *dl;
    CK_FUNCTION_LIST *list;
    P11_C_GetInterface get_interface;          /* NULL for a 2.40 module */
    P11_C_GetInterfaceList get_interface_list; /* NULL for a 2.40 module */
};

/* Loads the module the environment variable names, once; 0 on success. */
static inline int p11_passthru_load(const char *env, struct p11_target *t)
{
    const char *path = getenv(env);
    CK_C_GetFunctionList get;

    if (t->list != NULL)
        return 0;
    if (path == NULL || (t->dl = dlopen(path, RTLD_NOW)) == NULL)
        return -1;
    get = (CK_C_GetFunctionList)dlsym(t->dl, "C_GetFunctionList");
    if (get == NULL || get(&t->list) != CKR_OK) {
        t->list = NULL;
        return -1;
    }
    t->get_interface = (P11_C_GetInterface)dlsym(t->dl, "C_GetInterface");
    t->get_interface_list =
        (P11_C_GetInterfaceList)dlsym(t->dl, "C_GetInterfaceList");
    return 0;
}

#endif
