/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gp11-bench: per-message throughput of gss-pkcs11 through the MIT
 * mechglue, next to the token doing the same AES-256-GCM work directly.
 *
 *   gp11-bench [-t SECONDS] [-s SIZES] [-n THREADS] [-i SLICES] [-r REPEATS]
 *              [-o OPS] [-P default|true|false] [-M]
 *
 * The mechanism is reached through libgssapi_krb5 (GSS_MECH_CONFIG names
 * the plugin); the raw side opens the token named by GSS_PKCS11_CONF with
 * the token layer. Each (operation, size) cell runs for a fixed time, in
 * one thread and then in THREADS threads (each with its own pair of
 * contexts, or its own session for the raw side). The two sides alternate
 * in SLICES slices per cell, so that drifts of the machine hit both; with
 * -r each cell is measured REPEATS times and the best rate of each side is
 * kept (other load only ever slows a run down). The output is Markdown.
 *
 * Built with the SSPI face (GP11_BENCH_SSPI), a third side runs the same
 * operations through libgss-pkcs11-sspi.so.0 in the same run and cells:
 * MakeSignature, VerifySignature, EncryptMessage and DecryptMessage on an
 * SSPI context pair, in place in the caller's buffers (no mechglue).
 */
#include <errno.h>
#include <gssapi/gssapi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_establish.h"
#include "gp11_bench.h"
#include "gp11_build_config.h"
#include "gp11_config.h"
#include "gp11_pkcs11.h"

#ifdef GP11_BENCH_SSPI
#include "gss-pkcs11/sspi.h"
#define SIDES 3
#else
#define SIDES 2
#endif

#define MAX_SIZES 16
#define MAX_THREADS 64
#define OP_COUNT 4

static const char *const op_names[OP_COUNT] = {"get_mic", "verify_mic", "wrap",
                                               "unwrap"};

/* Parses "get_mic,wrap" into a bit set of operations; 0 if malformed. */
static unsigned parse_ops(const char *s)
{
    unsigned set = 0;

    while (*s) {
        size_t len = strcspn(s, ",");
        int op;

        for (op = 0; op < OP_COUNT; op++)
            if (strlen(op_names[op]) == len &&
                strncmp(s, op_names[op], len) == 0)
                break;
        if (op == OP_COUNT)
            return 0;
        set |= 1u << op;
        s += len;
        if (*s == ',')
            s++;
    }
    return set;
}

static const size_t default_sizes[] = {0, 64, 1024, 16384, 1048576};

/* One initiator/acceptor pair established through the mechglue. */
struct pair {
    gss_ctx_id_t ictx;
    gss_ctx_id_t actx;
};

/* The sides of a cell. */
enum side { SIDE_MG, SIDE_RAW, SIDE_SSPI, SIDE_RAWMSG };

/* The token offers the PKCS#11 3.0 message API: a fourth side, the raw
 * token driven by C_MessageEncryptInit once + C_EncryptMessage per call. */
static bool with_msg;

/* One SSPI initiator/acceptor pair. */
struct sspi_pair {
#ifdef GP11_BENCH_SSPI
    CtxtHandle ictx, actx;
#endif
    int unused;
};

/* What one thread measures and what it found. */
struct job {
    enum side side;
    struct sspi_pair *sp; /* SSPI side */
    int op;
    size_t size;
    double seconds;
    struct pair *pair;        /* mechglue side */
    struct gp11_token *tok;   /* raw side */
    struct gp11_object *key;  /* raw side */
    pthread_barrier_t *start; /* NULL for one thread */
    uint64_t ops;
    double elapsed;
    bool failed;
    char why[512];
};

/* One measured cell: total operations per second over all threads. */
struct result {
    double rate;
    bool failed;
};

/* How a cell is measured. */
struct plan {
    double seconds;   /* per side and cell */
    unsigned slices;  /* the two sides alternate in this many slices */
    unsigned repeats; /* the best of this many measurements is kept */
    struct pair *pairs;
    struct gp11_token *tok;
    struct gp11_object *keys;
    struct sspi_pair *sps;
};

/* Monotonic time in seconds. */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends the messages of one GSS status to buf. */
static void gss_text(OM_uint32 code, int type, char *buf, size_t len)
{
    OM_uint32 mctx = 0, minor;
    gss_buffer_desc msg;
    size_t used = strlen(buf);

    do {
        if (GSS_ERROR(gss_display_status(&minor, code, type, GSS_C_NO_OID,
                                         &mctx, &msg)))
            break;
        snprintf(buf + used, len - used, "%s%.*s", used ? "; " : "",
                 (int)msg.length, (char *)msg.value);
        used = strlen(buf);
        gss_release_buffer(&minor, &msg);
    } while (mctx != 0 && used + 1 < len);
}

/* Records a GSS failure in buf. */
static void gss_why(const char *what, OM_uint32 major, OM_uint32 minor,
                    char *buf, size_t len)
{
    snprintf(buf, len, "%s: ", what);
    gss_text(major, GSS_C_GSS_CODE, buf, len);
    if (minor)
        gss_text(minor, GSS_C_MECH_CODE, buf, len);
}

/* Establishes one context pair with host@localhost and the default
 * credentials of both sides; false with a message on failure. */
static bool establish(gss_OID mech, gss_name_t target, struct pair *p,
                      char *why, size_t len)
{
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 imajor = GSS_S_CONTINUE_NEEDED, amajor = GSS_S_CONTINUE_NEEDED;
    OM_uint32 minor, m;
    bool ok = true;

    p->ictx = p->actx = GSS_C_NO_CONTEXT;
    for (int leg = 1; leg <= 8 && ok; leg++) {
        if (leg % 2) {
            imajor = gss_init_sec_context(
                &minor, GSS_C_NO_CREDENTIAL, &p->ictx, target, mech,
                GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG |
                    GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG,
                0, GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out, NULL, NULL);
            if (GSS_ERROR(imajor)) {
                gss_why("gss_init_sec_context", imajor, minor, why, len);
                ok = false;
            }
        } else {
            amajor = gss_accept_sec_context(
                &minor, &p->actx, GSS_C_NO_CREDENTIAL, &in,
                GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL, &out, NULL, NULL, NULL);
            if (GSS_ERROR(amajor)) {
                gss_why("gss_accept_sec_context", amajor, minor, why, len);
                ok = false;
            }
        }
        gss_release_buffer(&m, &in);
        in = out;
        out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
        if (ok && in.length == 0 && imajor == GSS_S_COMPLETE &&
            amajor == GSS_S_COMPLETE)
            break;
    }
    gss_release_buffer(&m, &in);
    if (ok && (imajor != GSS_S_COMPLETE || amajor != GSS_S_COMPLETE)) {
        snprintf(why, len, "the establishment did not complete");
        ok = false;
    }
    return ok;
}

/* Makes the token a verifying operation consumes (by the initiator). */
static OM_uint32 mg_prepare(struct job *j, gss_buffer_t msg, gss_buffer_t tok,
                            OM_uint32 *minor)
{
    if (j->op == GP11_BENCH_VERIFY)
        return gss_get_mic(minor, j->pair->ictx, GSS_C_QOP_DEFAULT, msg, tok);
    if (j->op == GP11_BENCH_UNWRAP)
        return gss_wrap(minor, j->pair->ictx, 1, GSS_C_QOP_DEFAULT, msg, NULL,
                        tok);
    return GSS_S_COMPLETE;
}

/* One operation through the mechglue; the output is released as an
 * application would. The verifying operations check the same token again
 * and again: the tag is checked before the replay window, so each call
 * does the full work and only adds GSS_S_DUPLICATE_TOKEN (accepted). */
static OM_uint32 mg_one(struct job *j, gss_buffer_t msg, gss_buffer_t tok,
                        OM_uint32 *minor)
{
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, m;
    int conf = 0;

    switch (j->op) {
    case GP11_BENCH_MIC:
        major = gss_get_mic(minor, j->pair->ictx, GSS_C_QOP_DEFAULT, msg, &out);
        break;
    case GP11_BENCH_VERIFY:
        return gss_verify_mic(minor, j->pair->actx, msg, tok, NULL);
    case GP11_BENCH_WRAP:
        major = gss_wrap(minor, j->pair->ictx, 1, GSS_C_QOP_DEFAULT, msg, &conf,
                         &out);
        if (!GSS_ERROR(major) && !conf)
            major = GSS_S_FAILURE;
        break;
    default:
        major = gss_unwrap(minor, j->pair->actx, tok, &out, &conf, NULL);
        if (!GSS_ERROR(major) && (!conf || out.length != msg->length))
            major = GSS_S_FAILURE;
        break;
    }
    gss_release_buffer(&m, &out);
    return major;
}

/* Waits at the start line of a multi-thread run. */
static void start_line(void *arg)
{
    pthread_barrier_t *b = arg;

    if (b)
        pthread_barrier_wait(b);
}

/* The mechglue side of one job: loop for j->seconds. */
static void mg_run(struct job *j)
{
    gss_buffer_desc msg = {j->size, NULL}, tok = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor = 0, m;
    uint64_t n = 0;
    double start, t;

    msg.value = malloc(j->size ? j->size : 1);
    if (msg.value == NULL) {
        snprintf(j->why, sizeof(j->why), "out of memory");
        j->failed = true;
        start_line(j->start);
        return;
    }
    for (size_t i = 0; i < j->size; i++)
        ((unsigned char *)msg.value)[i] = (unsigned char)(i * 131u + 7u);
    major = mg_prepare(j, &msg, &tok, &minor);
    start_line(j->start);
    start = t = now();
    while (!GSS_ERROR(major) && t - start < j->seconds) {
        major = mg_one(j, &msg, &tok, &minor);
        if (!GSS_ERROR(major))
            n++;
        t = now();
    }
    if (GSS_ERROR(major)) {
        gss_why(op_names[j->op], major, minor, j->why, sizeof(j->why));
        j->failed = true;
    }
    j->ops = n;
    j->elapsed = t - start;
    gss_release_buffer(&m, &tok);
    free(msg.value);
}

/* GP11_BENCH_MODE_MSG_AAD with -A: the raw side's older, shorter AAD. */
static unsigned raw_aad_mode;

/* The raw side of one job. */
static void raw_run(struct job *j)
{
    unsigned mode = GP11_BENCH_MODE_ALLOC | raw_aad_mode |
                    (j->side == SIDE_RAWMSG ? GP11_BENCH_MODE_MSGAPI : 0);
    uint32_t ret;

    ret = gp11_bench_gcm_mode(j->tok, j->key, j->op, j->size, j->seconds, mode,
                              start_line, j->start, &j->ops, &j->elapsed);
    if (ret != GP11_OK) {
        snprintf(j->why, sizeof(j->why), "raw %s: %s", op_names[j->op],
                 gp11_err_message(ret));
        j->failed = true;
    }
}

#ifdef GP11_BENCH_SSPI
/* Establishes an SSPI pair with host@localhost (the same flags as the
 * mechglue pairs); false with a message on failure. */
static bool sspi_establish(struct sspi_pair *p, char *why, size_t len)
{
    static CredHandle icred, acred;
    static bool have_creds;
    SECURITY_STATUS ist = SEC_I_CONTINUE_NEEDED, ast = SEC_I_CONTINUE_NEEDED;
    static uint8_t a[65536], b[65536];
    ULONG in_len = 0, attrs;
    TimeStamp exp;
    bool first_i = true, first_a = true;

    if (!have_creds) {
        ist = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)GSS_PKCS11_SSP_NAME,
                                        SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
                                        NULL, &icred, NULL);
        if (ist == SEC_E_OK)
            ist = AcquireCredentialsHandleA(
                (SEC_CHAR *)"host@localhost", (SEC_CHAR *)GSS_PKCS11_SSP_NAME,
                SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &acred, NULL);
        if (ist != SEC_E_OK) {
            snprintf(why, len, "AcquireCredentialsHandleA: 0x%08x",
                     (unsigned)ist);
            return false;
        }
        have_creds = true;
        ist = SEC_I_CONTINUE_NEEDED;
    }
    while (ist == SEC_I_CONTINUE_NEEDED) {
        SecBuffer ib = {in_len, SECBUFFER_TOKEN, b},
                  ob = {sizeof(a), SECBUFFER_TOKEN, a};
        SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};

        ist = InitializeSecurityContextA(
            &icred, first_i ? NULL : &p->ictx,
            first_i ? (SEC_CHAR *)"host@localhost" : NULL,
            ISC_REQ_MUTUAL_AUTH | ISC_REQ_REPLAY_DETECT |
                ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONFIDENTIALITY |
                ISC_REQ_INTEGRITY,
            0, SECURITY_NATIVE_DREP, first_i ? NULL : &id, 0, &p->ictx, &od,
            &attrs, &exp);
        first_i = false;
        if (ist == SEC_E_OK)
            break;
        if (ist != SEC_I_CONTINUE_NEEDED) {
            snprintf(why, len, "InitializeSecurityContextA: 0x%08x",
                     (unsigned)ist);
            return false;
        }
        ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, a};
        ob = (SecBuffer){sizeof(b), SECBUFFER_TOKEN, b};
        ast = AcceptSecurityContext(&acred, first_a ? NULL : &p->actx, &id, 0,
                                    SECURITY_NATIVE_DREP, &p->actx, &od, &attrs,
                                    &exp);
        first_a = false;
        if (ast != SEC_E_OK && ast != SEC_I_CONTINUE_NEEDED) {
            snprintf(why, len, "AcceptSecurityContext: 0x%08x", (unsigned)ast);
            return false;
        }
        in_len = ob.cbBuffer;
    }
    if (ast != SEC_E_OK) {
        snprintf(why, len, "the SSPI establishment did not complete");
        return false;
    }
    return true;
}

/*
 * The SSPI side of one job, in place: MakeSignature over a READONLY DATA
 * buffer into a TOKEN buffer; EncryptMessage of TOKEN + DATA (the DATA
 * buffer encrypted again and again); VerifySignature of one MIC and
 * DecryptMessage of one token made before the loop. DecryptMessage
 * decrypts in place, so each round first copies the received token
 * (TOKEN || DATA) into the working buffers, as a receiver gets fresh
 * bytes. As on the mechglue side the same token is checked again and
 * again: the tag is checked before the replay window, so each call does
 * the full work. SEC_E_OUT_OF_SEQUENCE counts as done: the receiving
 * calls return it only for a token whose tag verified (a repeat is a
 * replay under REPLAY_DETECT; the first token of a slice may follow a gap,
 * the other cells' messages never reaching this acceptor), as the
 * mechglue side accepts GSS_S_DUPLICATE_TOKEN and GSS_S_GAP_TOKEN.
 */
static void sspi_run(struct job *j)
{
    uint8_t tok[16 + 64], wtok[16 + 64];
    uint8_t *msg = malloc(j->size ? j->size : 1);
    uint8_t *work = malloc(j->size ? j->size : 1);
    SecBuffer b[2];
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    SECURITY_STATUS st = SEC_E_OK;
    ULONG tok_len = 0, qop;
    uint64_t n = 0;
    double start, t;

    if (msg == NULL || work == NULL) {
        snprintf(j->why, sizeof(j->why), "out of memory");
        j->failed = true;
        start_line(j->start);
        free(msg);
        free(work);
        return;
    }
    for (size_t i = 0; i < j->size; i++)
        msg[i] = (uint8_t)(i * 131u + 7u);
    memcpy(work, msg, j->size);
    /* The token the checking operations consume (by the initiator). */
    if (j->op == GP11_BENCH_VERIFY) {
        b[0] = (SecBuffer){(ULONG)j->size, SECBUFFER_DATA | SECBUFFER_READONLY,
                           msg};
        b[1] = (SecBuffer){sizeof(tok), SECBUFFER_TOKEN, tok};
        st = MakeSignature(&j->sp->ictx, 0, &d, 0);
        tok_len = b[1].cbBuffer;
    } else if (j->op == GP11_BENCH_UNWRAP) {
        b[0] = (SecBuffer){sizeof(tok), SECBUFFER_TOKEN, tok};
        b[1] = (SecBuffer){(ULONG)j->size, SECBUFFER_DATA, msg};
        st = EncryptMessage(&j->sp->ictx, 0, &d, 0);
        tok_len = b[0].cbBuffer;
    }
    start_line(j->start);
    start = t = now();
    while (st == SEC_E_OK && t - start < j->seconds) {
        switch (j->op) {
        case GP11_BENCH_MIC:
            b[0] = (SecBuffer){(ULONG)j->size,
                               SECBUFFER_DATA | SECBUFFER_READONLY, work};
            b[1] = (SecBuffer){sizeof(wtok), SECBUFFER_TOKEN, wtok};
            st = MakeSignature(&j->sp->ictx, 0, &d, 0);
            break;
        case GP11_BENCH_VERIFY:
            b[0] = (SecBuffer){(ULONG)j->size,
                               SECBUFFER_DATA | SECBUFFER_READONLY, msg};
            b[1] = (SecBuffer){tok_len, SECBUFFER_TOKEN, tok};
            st = VerifySignature(&j->sp->actx, &d, 0, &qop);
            break;
        case GP11_BENCH_WRAP:
            b[0] = (SecBuffer){sizeof(wtok), SECBUFFER_TOKEN, wtok};
            b[1] = (SecBuffer){(ULONG)j->size, SECBUFFER_DATA, work};
            st = EncryptMessage(&j->sp->ictx, 0, &d, 0);
            break;
        default:
            memcpy(wtok, tok, tok_len);
            memcpy(work, msg, j->size);
            b[0] = (SecBuffer){tok_len, SECBUFFER_TOKEN, wtok};
            b[1] = (SecBuffer){(ULONG)j->size, SECBUFFER_DATA, work};
            st = DecryptMessage(&j->sp->actx, &d, 0, &qop);
            break;
        }
        if (st == SEC_E_OUT_OF_SEQUENCE &&
            (j->op == GP11_BENCH_VERIFY || j->op == GP11_BENCH_UNWRAP))
            st = SEC_E_OK;
        if (st == SEC_E_OK)
            n++;
        t = now();
    }
    if (st != SEC_E_OK) {
        snprintf(j->why, sizeof(j->why), "SSPI %s: status 0x%08x",
                 op_names[j->op], (unsigned)st);
        j->failed = true;
    }
    j->ops = n;
    j->elapsed = t - start;
    free(msg);
    free(work);
}
#endif

/* Thread body: one job. */
static void *job_main(void *arg)
{
    struct job *j = arg;

    if (j->side == SIDE_RAW || j->side == SIDE_RAWMSG)
        raw_run(j);
#ifdef GP11_BENCH_SSPI
    else if (j->side == SIDE_SSPI)
        sspi_run(j);
#endif
    else
        mg_run(j);
    return NULL;
}

/* Runs one cell in nthreads threads; the rate is the sum over threads. */
static struct result measure(enum side side, int op, size_t size,
                             double seconds, unsigned nthreads,
                             struct pair *pairs, struct gp11_token *tok,
                             struct gp11_object *keys, struct sspi_pair *sps)
{
    struct job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    pthread_barrier_t bar;
    struct result r = {0, false};

    if (nthreads > 1)
        pthread_barrier_init(&bar, NULL, nthreads);
    for (unsigned i = 0; i < nthreads; i++) {
        jobs[i] = (struct job){
            .side = side,
            .sp = &sps[i],
            .op = op,
            .size = size,
            .seconds = seconds,
            .pair = &pairs[i],
            .tok = tok,
            .key = &keys[i],
            .start = nthreads > 1 ? &bar : NULL,
        };
    }
    /* Even one job runs in a worker thread, as in the multi-thread runs:
     * in the main thread glibc trims the main arena after every large
     * free, and SoftHSM2's 1 MiB operations then fault in ~1000 pages
     * each. */
    for (unsigned i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, job_main, &jobs[i]) != 0) {
            fprintf(stderr, "gp11-bench: cannot create a thread\n");
            exit(1);
        }
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    if (nthreads > 1)
        pthread_barrier_destroy(&bar);
    for (unsigned i = 0; i < nthreads; i++) {
        if (jobs[i].failed) {
            fprintf(stderr, "gp11-bench: %s\n", jobs[i].why);
            r.failed = true;
        } else if (jobs[i].elapsed > 0) {
            r.rate += (double)jobs[i].ops / jobs[i].elapsed;
        }
    }
    return r;
}

/* A size as the table shows it ("1 KiB"). */
static void size_text(size_t size, char *buf, size_t len)
{
    if (size >= 1048576 && size % 1048576 == 0)
        snprintf(buf, len, "%zu MiB", size / 1048576);
    else if (size >= 1024 && size % 1024 == 0)
        snprintf(buf, len, "%zu KiB", size / 1024);
    else
        snprintf(buf, len, "%zu", size);
}

/* Parses "0,64,1k,16k,1m" into sizes; false on a malformed list. */
static bool parse_sizes(const char *s, size_t *sizes, size_t *n)
{
    *n = 0;
    while (*s) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *n == MAX_SIZES)
            return false;
        if (*end == 'k' || *end == 'K') {
            v *= 1024;
            end++;
        } else if (*end == 'm' || *end == 'M') {
            v *= 1048576;
            end++;
        }
        if (v > 256ull * 1048576 || (*end != ',' && *end != '\0'))
            return false;
        sizes[(*n)++] = (size_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    return *n > 0;
}

/* Copies a blank-padded PKCS#11 string into a C string. */
static void ck_text(const unsigned char *in, size_t len, char *out)
{
    while (len > 0 && in[len - 1] == ' ')
        len--;
    memcpy(out, in, len);
    out[len] = '\0';
}

/* Prints the machine, the software, the token and the date. */
static void print_header(const struct plan *pl, const struct gp11_config *cfg,
                         const char *key_private)
{
    struct gp11_token *tok = pl->tok;
    char cpu[256] = "unknown", line[512], label[33], text[65];
    const CK_TOKEN_INFO *ti = gp11_token_info(tok);
    const CK_INFO *mi = gp11_module_info(gp11_token_module(tok));
    const char *mc = getenv("GSS_MECH_CONFIG");
    struct utsname un;
    time_t t = time(NULL);
    char date[64];
    FILE *f;

    f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');

        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(cpu, sizeof(cpu), "%s", colon + 2);
            cpu[strcspn(cpu, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
    printf("# gp11-bench\n\n");
    printf("- date: %s\n", date);
    printf("- machine: %s, %ld cores online", cpu,
           sysconf(_SC_NPROCESSORS_ONLN));
    if (uname(&un) == 0)
        printf(", %s %s", un.sysname, un.release);
    printf("\n");
    ck_text(mi->libraryDescription, sizeof(mi->libraryDescription), text);
    printf("- module: %s (%s %u.%u)\n", cfg->module, text,
           mi->libraryVersion.major, mi->libraryVersion.minor);
    gp11_token_label(ti, label);
    ck_text(ti->model, sizeof(ti->model), text);
    printf("- token: \"%s\" (model %s), config %s\n", label, text, cfg->path);
    printf("- mechglue: libgssapi_krb5, GSS_MECH_CONFIG=%s\n",
           mc ? mc : "(unset)");
#ifdef __OPTIMIZE__
    printf("- build: optimised");
#else
    printf("- build: NOT optimised");
#endif
#ifdef NDEBUG
    printf(", NDEBUG");
#endif
    printf("\n- %.2f s per side and cell in %u alternating slices, best "
           "of %u; MB/s counts message bytes "
           "(10^6 B/s); raw key CKA_PRIVATE=%s; raw AAD %s\n\n",
           pl->seconds, pl->slices, pl->repeats, key_private,
           raw_aad_mode ? "the message alone (MIC) or 16 bytes (WRAP), -A"
                        : "as long as the tokens' (header, run framing and, "
                          "in a MIC, the message)");
}

/*
 * One cell: the mechglue and the raw side alternate in short slices (the
 * order flipping each slice), so that drifts of the machine's speed hit
 * both alike; the rate of a side is its mean over the slices. Of several
 * repeats, the best rate of each side is kept. out[SIDE_MG] is the
 * mechglue side, out[SIDE_RAW] the raw side, out[SIDE_SSPI] the SSPI
 * face (when built with it); the order of the sides rotates each slice.
 */
static void measure_cell(const struct plan *pl, int op, size_t size,
                         unsigned nthreads, struct result out[4])
{
    double slice = pl->seconds / pl->slices;
    int sides[4] = {SIDE_MG, SIDE_RAW, SIDE_SSPI, SIDE_RAWMSG}, n = SIDES;

    if (with_msg)
        sides[n++] = SIDE_RAWMSG;
    out[0] = out[1] = out[2] = out[3] = (struct result){0, false};
    for (unsigned r = 0; r < pl->repeats; r++) {
        double sum[4] = {0, 0, 0, 0};

        for (unsigned k = 0; k < pl->slices; k++) {
            for (int i = 0; i < n; i++) {
                int side = sides[(k + (unsigned)i) % (unsigned)n];
                struct result x =
                    measure((enum side)side, op, size, slice, nthreads,
                            pl->pairs, pl->tok, pl->keys, pl->sps);

                out[side].failed |= x.failed;
                sum[side] += x.rate;
            }
        }
        for (int side = 0; side < 4; side++)
            if (sum[side] / pl->slices > out[side].rate)
                out[side].rate = sum[side] / pl->slices;
    }
}

/* Prints one table row, with scaling columns when base is not NULL; the
 * SSPI columns (rate, MB/s, ratio to raw) when sspi is not NULL. */
static void print_row(int op, size_t size, struct result mg, struct result raw,
                      const struct result *mg1, const struct result *raw1,
                      const struct result *sspi, const struct result *rawmsg)
{
    char sz[32];

    size_text(size, sz, sizeof(sz));
    printf("| %s | %s | ", op_names[op], sz);
    if (mg.failed)
        printf("failed | - | ");
    else
        printf("%.0f | %.1f | ", mg.rate, mg.rate * (double)size / 1e6);
    if (mg1)
        mg1->rate > 0 ? printf("%.2fx | ", mg.rate / mg1->rate)
                      : printf("- | ");
    if (raw.failed)
        printf("failed | - | ");
    else
        printf("%.0f | %.1f | ", raw.rate, raw.rate * (double)size / 1e6);
    if (raw1)
        raw1->rate > 0 ? printf("%.2fx | ", raw.rate / raw1->rate)
                       : printf("- | ");
    if (mg.failed || raw.failed || raw.rate <= 0)
        printf("- |");
    else
        printf("%.3f |", mg.rate / raw.rate);
    if (sspi && (sspi->failed || raw.failed || raw.rate <= 0))
        printf(" %s | - | - |", sspi->failed ? "failed" : "-");
    else if (sspi)
        printf(" %.0f | %.1f | %.3f |", sspi->rate,
               sspi->rate * (double)size / 1e6, sspi->rate / raw.rate);
    if (rawmsg && (rawmsg->failed || mg.failed || rawmsg->rate <= 0))
        printf(" %s | - |", rawmsg->failed ? "failed" : "-");
    else if (rawmsg)
        printf(" %.0f | %.3f |", rawmsg->rate, mg.rate / rawmsg->rate);
    printf("\n");
    fflush(stdout);
}

/* Prints the usage and exits with status. */
static void usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: gp11-bench [-t SECONDS] [-s SIZES] [-n THREADS] "
            "[-i SLICES] [-r REPEATS]\n"
            "                  [-o OPS] [-P default|true|false] [-M] [-A]\n"
            "  -t  seconds per side and cell (default 1)\n"
            "  -i  slices in which the two sides alternate (default 10)\n"
            "  -r  measure each cell REPEATS times, keep the best (default "
            "1)\n"
            "  -s  message sizes, e.g. 0,64,1k,16k,1m (the default)\n"
            "  -o  operations (default get_mic,verify_mic,wrap,unwrap)\n"
            "  -n  threads of the second table (default 2)\n"
            "  -M  only the second table (for profiling)\n"
            "  -P  CKA_PRIVATE of the raw key (default: left to the token,\n"
            "      as for context keys)\n"
            "  -A  raw AAD = the message alone (MIC) or 16 bytes (WRAP), as\n"
            "      before 2026-12-02; default: as many bytes as the tokens\n"
            "      authenticate (protocol.md 3.1)\n"
            "  -E  the establishment table only, median of N warm runs\n"
            "  -L  the token behind tests/latency_module.so with US us per\n"
            "      call: establishment table (N of -E, default 30), call\n"
            "      counts per message, then the per-message tables\n"
            "GSS_MECH_CONFIG must name the plugin; GSS_PKCS11_CONF the "
            "token.\n");
    exit(status);
}

int main(int argc, char **argv)
{
    gss_buffer_desc oid_text = {strlen(GP11_MECH_OID), (void *)GP11_MECH_OID};
    gss_buffer_desc tname = {strlen("host@localhost"),
                             (void *)"host@localhost"};
    enum gp11_bench_private priv = GP11_BENCH_PRIVATE_DEFAULT;
    size_t sizes[MAX_SIZES], n_sizes, n_priv = 0, n_pub = 0;
    struct result(*one)[MAX_SIZES][2];
    struct result(*sspi_one)[MAX_SIZES] = NULL;
    struct result *sp_r;
    struct gp11_object keys[MAX_THREADS];
    struct pair pairs[MAX_THREADS];
    static struct sspi_pair sps[MAX_THREADS];
    struct gp11_token_opts o = {0};
    struct gp11_config *cfg = NULL;
    struct gp11_caps caps;
    struct gp11_token *tok = NULL;
    gss_name_t target = GSS_C_NO_NAME;
    gss_OID mech = GSS_C_NO_OID;
    unsigned nthreads = 2, repeats = 1, slices = 10;
    unsigned ops = (1u << OP_COUNT) - 1;
    bool multi_only = false;
    struct plan pl;
    double seconds = 1.0;
    OM_uint32 major, minor;
    char why[1024] = "", kp[32];
    uint32_t ret;
    int c, kpriv;
    long est_n = -1, lat_us = -1;

    memcpy(sizes, default_sizes, sizeof(default_sizes));
    n_sizes = sizeof(default_sizes) / sizeof(default_sizes[0]);
    while ((c = getopt(argc, argv, "t:s:n:r:i:o:P:MAE:L:h")) != -1) {
        switch (c) {
        case 'E':
            est_n = strtol(optarg, NULL, 10);
            if (est_n < 1 || est_n > 100000)
                usage(2);
            break;
        case 'L':
            lat_us = strtol(optarg, NULL, 10);
            if (lat_us < 0 || lat_us > 10000000)
                usage(2);
            break;
        case 't':
            seconds = strtod(optarg, NULL);
            if (!(seconds > 0 && seconds <= 3600))
                usage(2);
            break;
        case 's':
            if (!parse_sizes(optarg, sizes, &n_sizes))
                usage(2);
            break;
        case 'n':
            nthreads = (unsigned)strtoul(optarg, NULL, 10);
            if (nthreads < 1 || nthreads > MAX_THREADS)
                usage(2);
            break;
        case 'r':
            repeats = (unsigned)strtoul(optarg, NULL, 10);
            if (repeats < 1 || repeats > 100)
                usage(2);
            break;
        case 'i':
            slices = (unsigned)strtoul(optarg, NULL, 10);
            if (slices < 1 || slices > 1000)
                usage(2);
            break;
        case 'o':
            ops = parse_ops(optarg);
            if (ops == 0)
                usage(2);
            break;
        case 'P':
            if (strcmp(optarg, "true") == 0)
                priv = GP11_BENCH_PRIVATE_TRUE;
            else if (strcmp(optarg, "false") == 0)
                priv = GP11_BENCH_PRIVATE_FALSE;
            else if (strcmp(optarg, "default") != 0)
                usage(2);
            break;
        case 'A':
            raw_aad_mode = GP11_BENCH_MODE_MSG_AAD;
            break;
        case 'M':
            multi_only = true;
            break;
        case 'h':
            usage(0);
            break;
        default:
            usage(2);
        }
    }
    if (optind != argc)
        usage(2);
    /* Establishment and network-HSM figures: bench_establish.c. */
    if ((est_n > 0 || lat_us >= 0) &&
        !gp11_bench_latency_setup(lat_us > 0 ? lat_us : 0))
        return 1;

    /* The mechglue side first: the plugin initialises the module, and
     * the raw side joins it (never finalising it under the plugin). */
    major = gss_str_to_oid(&minor, &oid_text, &mech);
    if (!GSS_ERROR(major))
        major = gss_import_name(&minor, &tname, GSS_C_NT_HOSTBASED_SERVICE,
                                &target);
    if (GSS_ERROR(major)) {
        gss_why("gss_str_to_oid/gss_import_name", major, minor, why,
                sizeof(why));
        fprintf(stderr, "gp11-bench: %s\n", why);
        return 1;
    }
    if ((est_n > 0 || lat_us >= 0) &&
        !gp11_bench_establish_table(mech, est_n > 0 ? (unsigned)est_n : 30))
        return 1;
    if (est_n > 0 && lat_us < 0)
        return 0;
    for (unsigned i = 0; i < nthreads; i++) {
        if (!establish(mech, target, &pairs[i], why, sizeof(why))) {
            fprintf(stderr, "gp11-bench: %s\n", why);
            return 1;
        }
#ifdef GP11_BENCH_SSPI
        if (!sspi_establish(&sps[i], why, sizeof(why))) {
            fprintf(stderr, "gp11-bench: %s\n", why);
            return 1;
        }
#endif
    }

    ret = gp11_config_load(NULL, &cfg);
    if (ret == GP11_OK) {
        o.module = cfg->module;
        o.init_params = cfg->init_params;
        o.uri = cfg->token_uri;
        o.pin_source = cfg->pin_source;
        o.quirks = cfg->quirks;
        o.max_sessions = cfg->max_sessions;
        ret = gp11_token_open(&o, &tok);
    }
    if (ret == GP11_OK)
        ret = gp11_token_login(tok);
    if (ret == GP11_OK)
        ret = gp11_bench_count_aes_keys(tok, &n_priv, &n_pub);
    for (unsigned i = 0; ret == GP11_OK && i < nthreads; i++)
        ret = gp11_bench_key_ex(tok, priv, &keys[i]);
    if (ret != GP11_OK) {
        fprintf(stderr, "gp11-bench: raw token: %s\n", gp11_err_message(ret));
        return 1;
    }
    kpriv = gp11_bench_key_private(tok, &keys[0]);
    snprintf(kp, sizeof(kp), "%s%s",
             kpriv < 0 ? "?"
             : kpriv   ? "TRUE"
                       : "FALSE",
             priv == GP11_BENCH_PRIVATE_DEFAULT ? " (token default)" : "");
    pl = (struct plan){seconds, slices, repeats, pairs, tok, keys, sps};
    print_header(&pl, cfg, kp);
    printf("Context keys visible on the token before the benchmark's own: "
           "%zu AES keys with CKA_PRIVATE=TRUE, %zu with FALSE.\n\n",
           n_priv, n_pub);
    if (lat_us >= 0)
        gp11_bench_msg_calls(pairs[0].ictx, pairs[0].actx);

    /* The probe chooses the raw message-API side, as it does the
     * mechanism's per-message path. */
    if (gp11_caps_probe(tok, &caps) == GP11_OK)
        with_msg = (gp11_token_msg_api(tok) & 1u << GP11_AEAD_AES_GCM) != 0;
    /* Warm-up (not shown): first sessions, caches, CPU frequency. */
    for (int side = 0; side < SIDES; side++)
        measure((enum side)side, GP11_BENCH_MIC, 64, seconds / 4, 1, pairs, tok,
                keys, sps);

    one = calloc(OP_COUNT, sizeof(*one));
#ifdef GP11_BENCH_SSPI
    sspi_one = calloc(OP_COUNT, sizeof(*sspi_one));
    if (sspi_one == NULL)
        return 1;
#endif
    if (one == NULL)
        return 1;
    if (!multi_only) {
        printf("## 1 thread\n\n");
        printf("| op | size | mechglue ops/s | MB/s | raw ops/s | MB/s | "
               "ratio |%s%s\n",
               SIDES == 3 ? " SSPI ops/s | MB/s | SSPI/raw |" : "",
               with_msg ? " raw msg-API ops/s | mechglue/msg-API |" : "");
        printf("|---|---:|---:|---:|---:|---:|---:|%s%s\n",
               SIDES == 3 ? "---:|---:|---:|" : "",
               with_msg ? "---:|---:|" : "");
    }
    for (int op = 0; op < OP_COUNT && !multi_only; op++)
        for (size_t i = 0; i < n_sizes && (ops & 1u << op); i++) {
            struct result r[4];

            measure_cell(&pl, op, sizes[i], 1, r);
            one[op][i][0] = r[0];
            one[op][i][1] = r[1];
            sp_r = NULL;
#ifdef GP11_BENCH_SSPI
            sspi_one[op][i] = r[2];
            sp_r = &sspi_one[op][i];
#endif
            print_row(op, sizes[i], r[0], r[1], NULL, NULL, sp_r,
                      with_msg ? &r[3] : NULL);
        }

    if (nthreads > 1) {
        printf("\n## %u threads (total over threads; scaling vs 1 thread)"
               "\n\n",
               nthreads);
        printf("| op | size | mechglue ops/s | MB/s | scaling | raw ops/s | "
               "MB/s | scaling | ratio |%s%s\n",
               SIDES == 3 ? " SSPI ops/s | MB/s | SSPI/raw |" : "",
               with_msg ? " raw msg-API ops/s | mechglue/msg-API |" : "");
        printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|%s%s\n",
               SIDES == 3 ? "---:|---:|---:|" : "",
               with_msg ? "---:|---:|" : "");
        for (int op = 0; op < OP_COUNT; op++)
            for (size_t i = 0; i < n_sizes && (ops & 1u << op); i++) {
                struct result r[4];

                measure_cell(&pl, op, sizes[i], nthreads, r);
                print_row(op, sizes[i], r[0], r[1], &one[op][i][0],
                          &one[op][i][1], SIDES == 3 ? &r[2] : NULL,
                          with_msg ? &r[3] : NULL);
            }
    }

    free(one);
    free(sspi_one);
    for (unsigned i = 0; i < nthreads; i++) {
        gss_delete_sec_context(&minor, &pairs[i].ictx, GSS_C_NO_BUFFER);
        gss_delete_sec_context(&minor, &pairs[i].actx, GSS_C_NO_BUFFER);
#ifdef GP11_BENCH_SSPI
        DeleteSecurityContext(&sps[i].ictx);
        DeleteSecurityContext(&sps[i].actx);
#endif
        gp11_object_destroy(tok, &keys[i]);
    }
    gp11_token_close(tok);
    gp11_config_free(cfg);
    gss_release_name(&minor, &target);
    gss_release_oid(&minor, &mech);
    return 0;
}
