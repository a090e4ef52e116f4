/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pass-through PKCS#11 module that simulates a network HSM and counts
 * what the mechanism asks of the token (issue 11 item 5). It forwards every
 * call to the real module named by GP11_LATENCY_MODULE, after sleeping
 * GP11_LATENCY_US microseconds (a round trip; 0 or unset: no delay), and
 * counts the calls of each function and the time spent inside the real
 * module (the delay excluded).
 *
 * Both loading styles pass through: C_GetFunctionList (a 2.40 list), and,
 * when the real module has them, C_GetInterfaceList / C_GetInterface
 * ("PKCS 11" interfaces, 2.40 and 3.0; other interfaces are not offered).
 *
 * Reading the counts:
 *  - in process: dlopen(path, RTLD_NOLOAD) the module the mechanism
 *    loaded and dlsym the functions of tests/latency.h
 *    (gp11_latency_snapshot, gp11_latency_name, gp11_latency_set_us, ...);
 *  - from outside: GP11_LATENCY_COUNTS=FILE makes the module write
 *    "C_Name calls ns" lines for every function called at least once when
 *    the process exits (or at C_Finalize).
 * It never replaces the token: every operation runs on the real one.
 */
#include "latency.h"
#include "p11_passthru.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

enum {
#define P11_CALL(n, params, args) IX_##n,
#include "p11_calls.h"
    IX_COUNT
};

static const char *const names[IX_COUNT] = {
#define P11_CALL(n, params, args) "C_" #n,
#include "p11_calls.h"
};

static struct p11_target target;
static struct p11_list30 real;    /* the real module's functions */
static struct p11_list30 wrapped; /* ours, handed out */
static atomic_ulong calls[IX_COUNT];
static atomic_ullong inside_ns[IX_COUNT];
static atomic_long delay_us = -1; /* -1: not read from the environment yet */

/* Nanoseconds of the monotonic clock. */
static unsigned long long now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned long long)t.tv_sec * 1000000000ull +
           (unsigned long long)t.tv_nsec;
}

/* The delay per call, from GP11_LATENCY_US unless set since. */
static long delay(void)
{
    long us = atomic_load(&delay_us);
    const char *s;

    if (us < 0) {
        s = getenv("GP11_LATENCY_US");
        us = s ? strtol(s, NULL, 10) : 0;
        if (us < 0)
            us = 0;
        atomic_store(&delay_us, us);
    }
    return us;
}

/* The round trip: sleeps the configured delay (EINTR resumes). */
static void round_trip(void)
{
    long us = delay();
    struct timespec t = {us / 1000000, (us % 1000000) * 1000L};

    if (us <= 0)
        return;
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* One wrapper per function: delay, count, time the real call. */
#define P11_CALL(n, params, args)                                              \
    static CK_RV lat_##n params                                                \
    {                                                                          \
        unsigned long long t0;                                                 \
        CK_RV rv;                                                              \
                                                                               \
        if (real.C_##n == NULL)                                                \
            return CKR_FUNCTION_NOT_SUPPORTED;                                 \
        round_trip();                                                          \
        t0 = now_ns();                                                         \
        rv = real.C_##n args;                                                  \
        atomic_fetch_add(&inside_ns[IX_##n], now_ns() - t0);                   \
        atomic_fetch_add(&calls[IX_##n], 1);                                   \
        return rv;                                                             \
    }
#include "p11_calls.h"

/* Writes the counts to GP11_LATENCY_COUNTS, if set. */
static void dump_counts(void)
{
    const char *path = getenv("GP11_LATENCY_COUNTS");

    if (path != NULL)
        gp11_latency_dump(path);
}

/* C_Finalize also writes the counts (the process may live on). */
static CK_RV lat_finalize(void *reserved)
{
    CK_RV rv = lat_Finalize(reserved);

    dump_counts();
    return rv;
}

static void __attribute__((destructor)) at_exit(void)
{
    if (target.list != NULL)
        dump_counts();
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);
EXPORT CK_RV C_GetInterfaceList(P11_INTERFACE *list, CK_ULONG_PTR count);
EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version,
                            P11_INTERFACE **out, CK_FLAGS flags);

static CK_UTF8CHAR iface_name[] = "PKCS 11";
static struct p11_list30 wrapped_240; /* C_GetFunctionList's */
static P11_INTERFACE ours[2];         /* "PKCS 11" 3.0 (if any), 2.40 */
static CK_ULONG n_ours;

/* Loads the real module and builds the wrapped lists, once. */
static CK_RV setup(void)
{
    P11_INTERFACE *v3 = NULL;

    if (target.list != NULL)
        return CKR_OK;
    if (p11_passthru_load("GP11_LATENCY_MODULE", &target) != 0)
        return CKR_GENERAL_ERROR;
    memcpy(&real, target.list, sizeof(CK_FUNCTION_LIST));
    /* The 3.0 functions, when the real module offers the 3.0 list. */
    if (target.get_interface != NULL &&
        target.get_interface(iface_name, &(CK_VERSION){3, 0}, &v3, 0) ==
            CKR_OK &&
        v3 != NULL && v3->pFunctionList != NULL)
        memcpy(&real, v3->pFunctionList, sizeof(real));
    else
        v3 = NULL;
#define P11_CALL(n, params, args) wrapped.C_##n = lat_##n;
#include "p11_calls.h"
    /* Our own entry points hand out our lists, uncounted. */
    wrapped.C_GetFunctionList = C_GetFunctionList;
    wrapped.C_GetInterfaceList = C_GetInterfaceList;
    wrapped.C_GetInterface = C_GetInterface;
    wrapped.C_Finalize = lat_finalize;
    wrapped_240 = wrapped;
    wrapped_240.version = target.list->version;
    if (wrapped_240.version.major >= 3)
        wrapped_240.version = (CK_VERSION){2, 40};
    wrapped.version = v3 ? (CK_VERSION){3, 0} : wrapped_240.version;
    if (v3 != NULL)
        ours[n_ours++] = (P11_INTERFACE){iface_name, &wrapped, v3->flags};
    ours[n_ours++] = (P11_INTERFACE){iface_name, &wrapped_240, 0};
    return CKR_OK;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    CK_RV rv = setup();

    if (rv != CKR_OK)
        return rv;
    if (list == NULL)
        return CKR_ARGUMENTS_BAD;
    *list = (CK_FUNCTION_LIST *)&wrapped_240;
    return CKR_OK;
}

/* The real module's C_GetInterface decides whether there are any. */
static CK_RV list_interfaces(void)
{
    CK_RV rv = setup();

    if (rv != CKR_OK)
        return rv;
    return target.get_interface ? CKR_OK : CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_GetInterfaceList(P11_INTERFACE *list, CK_ULONG_PTR count)
{
    CK_RV rv = list_interfaces();

    if (rv != CKR_OK)
        return rv;
    if (count == NULL)
        return CKR_ARGUMENTS_BAD;
    if (list == NULL) {
        *count = n_ours;
        return CKR_OK;
    }
    if (*count < n_ours) {
        *count = n_ours;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(list, ours, n_ours * sizeof(*list));
    *count = n_ours;
    return CKR_OK;
}

CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version,
                     P11_INTERFACE **out, CK_FLAGS flags)
{
    CK_RV rv = list_interfaces();

    if (rv != CKR_OK)
        return rv;
    if (out == NULL)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n_ours; i++) {
        const CK_VERSION *v = ours[i].pFunctionList;

        if (name != NULL && strcmp((char *)name, "PKCS 11") != 0)
            break;
        if (version != NULL &&
            (version->major != v->major || version->minor != v->minor))
            continue;
        if ((ours[i].flags & flags) != flags)
            continue;
        *out = &ours[i];
        return CKR_OK;
    }
    return CKR_ARGUMENTS_BAD;
}

size_t gp11_latency_snapshot(unsigned long *c, unsigned long long *ns,
                             size_t max)
{
    for (size_t i = 0; i < IX_COUNT && i < max; i++) {
        if (c)
            c[i] = atomic_load(&calls[i]);
        if (ns)
            ns[i] = atomic_load(&inside_ns[i]);
    }
    return IX_COUNT;
}

const char *gp11_latency_name(size_t i)
{
    return i < IX_COUNT ? names[i] : NULL;
}

void gp11_latency_set_us(long us)
{
    atomic_store(&delay_us, us < 0 ? 0 : us);
}

long gp11_latency_get_us(void)
{
    return delay();
}

void gp11_latency_reset(void)
{
    for (size_t i = 0; i < IX_COUNT; i++) {
        atomic_store(&calls[i], 0);
        atomic_store(&inside_ns[i], 0);
    }
}

int gp11_latency_dump(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    for (size_t i = 0; i < IX_COUNT; i++)
        if (atomic_load(&calls[i]) > 0)
            fprintf(f, "%s %lu %llu\n", names[i], atomic_load(&calls[i]),
                    atomic_load(&inside_ns[i]));
    return fclose(f) == 0 ? 0 : -1;
}
