/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gp11-bench -E / -L: establishment at the token's floor and a network HSM
 * simulated by tests/latency_module.c (see bench_establish.h).
 */
#include "bench_establish.h"

#include "../../tests/latency.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FN 128

static char module_path[PATH_MAX];
static long delay_us;
static gp11_latency_snapshot_fn snap;
static gp11_latency_name_fn fn_name;

/* Seconds of the monotonic clock. */
static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The latency module: $GP11_LATENCY_MODULE_PATH, else next to us. */
static bool find_module(void)
{
    const char *env = getenv("GP11_LATENCY_MODULE_PATH");
    char self[PATH_MAX];
    ssize_t n;
    char *slash;

    if (env != NULL) {
        snprintf(module_path, sizeof(module_path), "%s", env);
        return access(module_path, R_OK) == 0;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    snprintf(module_path, sizeof(module_path),
             "%.3900s/../tests/latency_module.so", self);
    return access(module_path, R_OK) == 0;
}

bool gp11_bench_latency_setup(long us)
{
    const char *src = getenv("GSS_PKCS11_CONF");
    char line[4096], real[PATH_MAX] = "", conf[PATH_MAX + 32];
    FILE *in, *out;
    int fd;

    delay_us = us;
    if (!find_module()) {
        fprintf(stderr, "gp11-bench: tests/latency_module.so not found (set "
                        "GP11_LATENCY_MODULE_PATH)\n");
        return false;
    }
    if (src == NULL || (in = fopen(src, "r")) == NULL) {
        fprintf(stderr, "gp11-bench: -L/-E need GSS_PKCS11_CONF\n");
        return false;
    }
    snprintf(conf, sizeof(conf), "/tmp/gp11-bench-XXXXXX");
    fd = mkstemp(conf);
    out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) {
        fclose(in);
        fprintf(stderr, "gp11-bench: cannot write a temporary file\n");
        return false;
    }
    while (fgets(line, sizeof(line), in)) {
        if (sscanf(line, " module = %4095s", real) == 1)
            fprintf(out, "module = %s\n", module_path);
        else
            fputs(line, out);
    }
    fclose(in);
    fclose(out);
    if (real[0] == '\0') {
        fprintf(stderr, "gp11-bench: %s names no module\n", src);
        unlink(conf);
        return false;
    }
    /* The file stays until exit: gss-pkcs11 reads it on first use. */
    setenv("GP11_LATENCY_MODULE", real, 1);
    snprintf(line, sizeof(line), "%ld", us);
    setenv("GP11_LATENCY_US", line, 1);
    setenv("GSS_PKCS11_CONF", conf, 1);
    return true;
}

/* The module's counters, once the plugin has loaded it. */
static bool bind_counters(void)
{
    void *dl;

    if (snap != NULL)
        return true;
    dl = dlopen(module_path, RTLD_NOW | RTLD_NOLOAD);
    if (dl == NULL)
        return false;
    snap = (gp11_latency_snapshot_fn)dlsym(dl, "gp11_latency_snapshot");
    fn_name = (gp11_latency_name_fn)dlsym(dl, "gp11_latency_name");
    dlclose(dl);
    return snap != NULL && fn_name != NULL;
}

/* Calls and nanoseconds inside the token since a snapshot. */
struct tally {
    unsigned long c[MAX_FN];
    unsigned long long ns[MAX_FN];
    size_t n;
};

/* Before the plugin has loaded the module, every counter is zero. */
static void take(struct tally *t)
{
    if (snap == NULL)
        bind_counters();
    t->n = snap ? snap(t->c, t->ns, MAX_FN) : 0;
    if (snap == NULL)
        memset(t, 0, sizeof(*t));
}

/* Adds b - a to sum. */
static void accumulate(struct tally *sum, const struct tally *a,
                       const struct tally *b)
{
    sum->n = b->n;
    for (size_t i = 0; i < b->n && i < MAX_FN; i++) {
        sum->c[i] += b->c[i] - a->c[i];
        sum->ns[i] += b->ns[i] - a->ns[i];
    }
}

/* Calls of function name in t, or all but C_DestroyObject (name NULL). */
static unsigned long calls(const struct tally *t, const char *name)
{
    unsigned long sum = 0;

    for (size_t i = 0; i < t->n && i < MAX_FN; i++) {
        bool destroy = strcmp(fn_name(i), "C_DestroyObject") == 0;

        if (name ? strcmp(fn_name(i), name) == 0 : !destroy)
            sum += t->c[i];
    }
    return sum;
}

static unsigned long long inside_ns(const struct tally *t)
{
    unsigned long long sum = 0;

    for (size_t i = 0; i < t->n && i < MAX_FN; i++)
        sum += t->ns[i];
    return sum;
}

/* One run: what each side did, and the wall time of both. */
struct est_run {
    struct tally ini, acc;
    double wall;
};

/* Establishes a pair with the default credentials, timing and counting
 * each side; the contexts are deleted afterwards (not timed). */
static bool one_pair(gss_OID mech, gss_name_t target, struct est_run *r)
{
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    OM_uint32 major = GSS_S_FAILURE, minor;
    bool idone = false, adone = false;
    struct tally a, b;
    double t0;

    memset(r, 0, sizeof(*r));
    t0 = now_s();
    for (int leg = 1; leg <= 5; leg++) {
        take(&a);
        if (leg % 2)
            major = gss_init_sec_context(
                &minor, GSS_C_NO_CREDENTIAL, &ictx, target, mech,
                GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG |
                    GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG,
                0, GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out, NULL, NULL);
        else
            major = gss_accept_sec_context(&minor, &actx, GSS_C_NO_CREDENTIAL,
                                           &in, GSS_C_NO_CHANNEL_BINDINGS, NULL,
                                           NULL, &out, NULL, NULL, NULL);
        take(&b);
        accumulate(leg % 2 ? &r->ini : &r->acc, &a, &b);
        gss_release_buffer(&minor, &in);
        if (GSS_ERROR(major))
            break;
        if (leg % 2)
            idone = major == GSS_S_COMPLETE;
        else
            adone = major == GSS_S_COMPLETE;
        in = out;
        out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
        if (in.length == 0)
            break;
    }
    r->wall = now_s() - t0;
    gss_release_buffer(&minor, &in);
    gss_release_buffer(&minor, &out);
    gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);
    return idone && adone;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median of n values (sorted in place). */
static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Prints one row of the establishment table. */
static void row(const char *target, const char *what, const struct est_run *r,
                double wall, double in_tok)
{
    double rt =
        (double)(calls(&r->ini, NULL) + calls(&r->ini, "C_DestroyObject") +
                 calls(&r->acc, NULL) + calls(&r->acc, "C_DestroyObject")) *
        (double)delay_us / 1e6;

    printf("| %s | %s | %lu | %lu | %lu + %lu | %.3f | %.3f | %.2f |", target,
           what, calls(&r->ini, NULL), calls(&r->acc, NULL),
           calls(&r->ini, "C_DestroyObject"), calls(&r->acc, "C_DestroyObject"),
           in_tok * 1e3, wall * 1e3, in_tok > 0 ? wall / (in_tok + rt) : 0.0);
    if (delay_us > 0)
        printf(" %.3f |", rt * 1e3);
    printf("\n");
}

/* Prints the calls one side made, by function. */
static void breakdown(const char *side, const struct tally *t)
{
    printf("- %s:", side);
    for (size_t i = 0; i < t->n && i < MAX_FN; i++)
        if (t->c[i])
            printf(" %s %lu (%.0f us)", fn_name(i), t->c[i],
                   (double)t->ns[i] / 1e3);
    printf("\n");
}

bool gp11_bench_establish_table(gss_OID mech, unsigned n)
{
    static const char *const targets[] = {"host@localhost", "rsa@localhost"};
    struct est_run first[2], *warm = calloc(n ? n : 1, sizeof(*warm));
    double *wall = calloc(n ? n : 1, sizeof(double));
    double *tok = calloc(n ? n : 1, sizeof(double));
    gss_name_t names[2] = {GSS_C_NO_NAME, GSS_C_NO_NAME};
    bool ok = warm && wall && tok;
    OM_uint32 minor;

    for (int t = 0; t < 2 && ok; t++) {
        gss_buffer_desc b = {strlen(targets[t]), (void *)targets[t]};

        ok = !GSS_ERROR(
            gss_import_name(&minor, &b, GSS_C_NT_HOSTBASED_SERVICE, &names[t]));
    }
    /* Cold: the first context of the process (plugin, module, token,
     * identities and anchors all loaded by it). */
    if (ok && !(ok = one_pair(mech, names[0], &first[0])))
        fprintf(stderr, "gp11-bench: the first establishment failed\n");
    if (ok && !bind_counters()) {
        fprintf(stderr, "gp11-bench: the latency module is not loaded\n");
        ok = false;
    }
    printf("## Establishment (initiator and acceptor in one process, "
           "default credentials)\n\n");
    printf("Token calls per side besides C_DestroyObject; destructions "
           "(initiator + acceptor); time inside the token (both sides, "
           "measured by the latency module) and wall time (both sides); "
           "warm = median of %u. Delay per call: %ld us.\n\n",
           n, delay_us);
    printf("| target | run | initiator calls | acceptor calls | "
           "C_DestroyObject | in token ms | wall ms | wall / (in token + "
           "delays) |%s\n",
           delay_us > 0 ? " delays ms |" : "");
    printf("|---|---|---:|---:|---:|---:|---:|---:|%s\n",
           delay_us > 0 ? "---:|" : "");
    for (int t = 0; t < 2 && ok; t++) {
        if (t == 1 && !one_pair(mech, names[1], &first[1]))
            break; /* no RSA acceptor configured: the row is left out */
        if (t == 0)
            row(targets[t], "cold (first of the process)", &first[0],
                first[0].wall,
                (double)(inside_ns(&first[0].ini) + inside_ns(&first[0].acc)) /
                    1e9);
        else
            row(targets[t], "first for this target", &first[1], first[1].wall,
                (double)(inside_ns(&first[1].ini) + inside_ns(&first[1].acc)) /
                    1e9);
        for (unsigned i = 0; i < n && ok; i++) {
            ok = one_pair(mech, names[t], &warm[i]);
            wall[i] = warm[i].wall;
            tok[i] =
                (double)(inside_ns(&warm[i].ini) + inside_ns(&warm[i].acc)) /
                1e9;
        }
        if (!ok || n == 0)
            break;
        {
            char what[64];
            struct est_run last = warm[n - 1];

            snprintf(what, sizeof(what), "warm (median of %u)", n);
            row(targets[t], what, &last, median(wall, n), median(tok, n));
        }
    }
    if (ok && n > 0) {
        printf("\nCalls of one more warm establishment with "
               "host@localhost, by function (time inside the token):\n\n");
        one_pair(mech, names[0], &warm[0]);
        breakdown("initiator", &warm[0].ini);
        breakdown("acceptor", &warm[0].acc);
        breakdown("cold initiator", &first[0].ini);
        breakdown("cold acceptor", &first[0].acc);
        printf("\n");
    }
    for (int t = 0; t < 2; t++)
        gss_release_name(&minor, &names[t]);
    free(warm);
    free(wall);
    free(tok);
    return ok;
}

void gp11_bench_msg_calls(gss_ctx_id_t ictx, gss_ctx_id_t actx)
{
    static const char *const ops[] = {"get_mic", "verify_mic", "wrap",
                                      "unwrap"};
    gss_buffer_desc msg = {64, (char[64]){0}}, mic = GSS_C_EMPTY_BUFFER,
                    tok = GSS_C_EMPTY_BUFFER, back = GSS_C_EMPTY_BUFFER;
    OM_uint32 major = GSS_S_COMPLETE, minor;
    struct tally a, b, d;
    double t0, wall;
    int conf;

    if (!bind_counters())
        return;
    printf("## Token calls per message (64 bytes; delay %ld us per call)"
           "\n\n| op | calls | wall ms | calls by function |\n"
           "|---|---:|---:|---|\n",
           delay_us);
    for (int op = 0; op < 4; op++) {
        memset(&d, 0, sizeof(d));
        take(&a);
        t0 = now_s();
        switch (op) {
        case 0:
            major = gss_get_mic(&minor, ictx, 0, &msg, &mic);
            break;
        case 1:
            major = gss_verify_mic(&minor, actx, &msg, &mic, NULL);
            break;
        case 2:
            major = gss_wrap(&minor, ictx, 1, 0, &msg, &conf, &tok);
            break;
        default:
            major = gss_unwrap(&minor, actx, &tok, &back, &conf, NULL);
        }
        wall = now_s() - t0;
        take(&b);
        accumulate(&d, &a, &b);
        printf("| %s | %lu | %.3f | ", ops[op],
               GSS_ERROR(major) ? 0 : calls(&d, NULL), wall * 1e3);
        for (size_t i = 0; i < d.n && i < MAX_FN; i++)
            if (d.c[i])
                printf("%s %lu ", fn_name(i), d.c[i]);
        printf("|\n");
    }
    printf("\n");
    gss_release_buffer(&minor, &mic);
    gss_release_buffer(&minor, &tok);
    gss_release_buffer(&minor, &back);
}
