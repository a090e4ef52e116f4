/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Threads through MIT's mechglue (issue 10 item 10), bounded in time
 * (GP11_STRESS_SECONDS, default 5): 8 threads each establish their own
 * context pairs, one after the other, and run wrap/unwrap and
 * get_mic/verify_mic on them; at the same time 4 threads share one context
 * pair and run the same per-message calls on it, with replay and sequence
 * detection on. Every call must succeed and give back the message; on the
 * shared pair messages may arrive out of order (UNSEQ, GAP, OLD are
 * counted), but never twice (DUPLICATE would mean two threads were given
 * the same sequence number). No context key may be left on the token.
 * Built for TSan in a -Db_sanitize=thread build (contrib/test.sh).
 */
#include "gsslib.h"
#include "testlib.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OWN_THREADS 8
#define SHARED_THREADS 4
/* An own thread makes a new pair after this many rounds. */
#define PAIR_ROUNDS 40
/* Work done even past the deadline, so that a slow run (valgrind) still
 * checks something: pairs of an own thread, rounds of a shared one. */
#define MIN_PAIRS 2
#define MIN_SHARED_ROUNDS 40

static const size_t sizes[] = {1, 16, 100, 1024, 4096};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

struct worker {
    int id;
    struct gl_hs *shared; /* NULL: the thread makes its own pairs */
    double deadline;      /* CLOCK_MONOTONIC seconds */
    /* results, read after the join */
    unsigned long rounds, pairs, unseq, gap, old;
    char error[1024]; /* first failure, "" if none */
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Records the first failure of w with the statuses as the mechglue shows
 * them; returns false so that callers can stop. */
static bool failed(struct worker *w, const char *what, OM_uint32 major,
                   OM_uint32 minor)
{
    gss_buffer_desc major_text = GSS_C_EMPTY_BUFFER;
    OM_uint32 ctx = 0, m;
    char text[512];

    if (w->error[0] != '\0')
        return false;
    gl_minor_text(minor, text, sizeof(text));
    /* The routine or supplementary status in words (DUPLICATE, ...). */
    gss_display_status(&m, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx,
                       &major_text);
    snprintf(w->error, sizeof(w->error),
             "thread %d, round %lu: %s: major 0x%x (%.*s), minor 0x%x: %s",
             w->id, w->rounds, what, major, (int)major_text.length,
             major_text.value ? (const char *)major_text.value : "", minor,
             text);
    gss_release_buffer(&m, &major_text);
    return false;
}

/* Checks a per-message major status: complete, with only the ordering
 * bits a shared pair may see. */
static bool status_ok(struct worker *w, const char *what, OM_uint32 major,
                      OM_uint32 minor)
{
    const OM_uint32 order =
        GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN | GSS_S_OLD_TOKEN;

    if (major == GSS_S_COMPLETE)
        return true;
    if (w->shared == NULL || GSS_ERROR(major) || (major & ~order) != 0)
        return failed(w, what, major, minor);
    w->unseq += (major & GSS_S_UNSEQ_TOKEN) != 0;
    w->gap += (major & GSS_S_GAP_TOKEN) != 0;
    w->old += (major & GSS_S_OLD_TOKEN) != 0;
    return true;
}

/* A message naming its thread and round, so that a message delivered to
 * the wrong thread (or mixed with another) shows. */
static void fill(gss_buffer_desc *m, unsigned char *buf, size_t len,
                 const struct worker *w)
{
    int n = snprintf((char *)buf, len, "t%d r%lu ", w->id, w->rounds);

    for (size_t i = (size_t)n < len ? (size_t)n : len; i < len; i++)
        buf[i] = (unsigned char)(i * 131 + (size_t)w->id);
    m->length = len;
    m->value = buf;
}

/* One round on a pair in both directions: a sealed wrap/unwrap and a
 * get_mic/verify_mic, and a look at the context's remaining lifetime. */
static bool one_round(struct worker *w, struct gl_hs *hs)
{
    unsigned char buf[4096];
    OM_uint32 major, minor, lifetime;
    int conf = 0;

    for (int dir = 0; dir < 2; dir++) {
        gss_ctx_id_t from = dir ? hs->actx : hs->ictx;
        gss_ctx_id_t to = dir ? hs->ictx : hs->actx;
        gss_buffer_desc m, tok = GSS_C_EMPTY_BUFFER, back = GSS_C_EMPTY_BUFFER;
        bool ok;

        fill(&m, buf, sizes[(w->rounds + (unsigned long)dir) % N_SIZES], w);
        major = gss_wrap(&minor, from, 1, GSS_C_QOP_DEFAULT, &m, &conf, &tok);
        if (major != GSS_S_COMPLETE)
            return failed(w, "gss_wrap", major, minor);
        major = gss_unwrap(&minor, to, &tok, &back, &conf, NULL);
        ok = status_ok(w, "gss_unwrap", major, minor);
        gss_release_buffer(&minor, &tok);
        if (ok && (conf != 1 || back.length != m.length ||
                   memcmp(back.value, m.value, m.length) != 0))
            ok = failed(w, "gss_unwrap gave back another message", major, 0);
        gss_release_buffer(&minor, &back);
        if (!ok)
            return false;

        major = gss_get_mic(&minor, from, GSS_C_QOP_DEFAULT, &m, &tok);
        if (major != GSS_S_COMPLETE)
            return failed(w, "gss_get_mic", major, minor);
        major = gss_verify_mic(&minor, to, &m, &tok, NULL);
        gss_release_buffer(&minor, &tok);
        if (!status_ok(w, "gss_verify_mic", major, minor))
            return false;
    }
    major = gss_context_time(&minor, hs->ictx, &lifetime);
    if (major != GSS_S_COMPLETE || lifetime == 0)
        return failed(w, "gss_context_time", major, minor);
    w->rounds++;
    return true;
}

/* Establishes a pair for host@localhost with replay and sequence
 * detection; no cmocka call (this runs in worker threads). */
static bool make_pair(struct worker *w, struct gl_hs *hs)
{
    static const char target[] = "host@localhost";
    gss_buffer_desc b = {sizeof(target) - 1, (void *)target};
    OM_uint32 major, minor;

    memset(hs, 0, sizeof(*hs));
    hs->req_flags = GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;
    major =
        gss_import_name(&minor, &b, GSS_C_NT_HOSTBASED_SERVICE, &hs->target);
    if (major != GSS_S_COMPLETE)
        return failed(w, "gss_import_name", major, minor);
    if (!gl_handshake(hs)) {
        bool init = GSS_ERROR(hs->imajor);

        failed(w, init ? "gss_init_sec_context" : "gss_accept_sec_context",
               init ? hs->imajor : hs->amajor, init ? hs->iminor : hs->aminor);
        gl_hs_release(hs);
        return false;
    }
    w->pairs++;
    return true;
}

/* An own thread: pair after pair until the deadline (and MIN_PAIRS). */
static void *own_thread(void *arg)
{
    struct worker *w = arg;
    struct gl_hs hs;
    bool ok = true;

    while (ok && (now() < w->deadline || w->pairs < MIN_PAIRS)) {
        if (!make_pair(w, &hs))
            break;
        for (int i = 0; ok && i < PAIR_ROUNDS; i++)
            ok = one_round(w, &hs);
        gl_hs_release(&hs);
    }
    return NULL;
}

/* A thread on the shared pair: rounds until the deadline. */
static void *shared_thread(void *arg)
{
    struct worker *w = arg;

    while (now() < w->deadline || w->rounds < MIN_SHARED_ROUNDS)
        if (!one_round(w, w->shared))
            break;
    return NULL;
}

/* Seconds the threads run: GP11_STRESS_SECONDS or 5. */
static double run_seconds(void)
{
    const char *s = getenv("GP11_STRESS_SECONDS");
    double v = s ? strtod(s, NULL) : 0;

    return v > 0 ? v : 5.0;
}

static void threads_own_and_shared_contexts(void **state)
{
    struct worker w[OWN_THREADS + SHARED_THREADS];
    pthread_t t[OWN_THREADS + SHARED_THREADS];
    struct gl_hs shared;
    unsigned long own_rounds = 0, shared_rounds = 0, pairs = 0;
    unsigned long unseq = 0, gap = 0, old = 0;
    double start, deadline;
    size_t keys_before;
    int n = OWN_THREADS + SHARED_THREADS;

    (void)state;
    (void)gl_mech(); /* parses the OID once, before any thread */
    keys_before = tl_session_secret_keys();
    memset(w, 0, sizeof(w));
    if (!make_pair(&w[0], &shared))
        fail_msg("%s", w[0].error);
    start = now();
    deadline = start + run_seconds();
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){.id = i, .deadline = deadline};
        if (i >= OWN_THREADS)
            w[i].shared = &shared;
        assert_int_equal(
            pthread_create(&t[i], NULL,
                           i < OWN_THREADS ? own_thread : shared_thread, &w[i]),
            0);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < n; i++) {
        if (w[i].error[0] != '\0')
            fail_msg("%s", w[i].error);
        if (i < OWN_THREADS) {
            assert_true(w[i].pairs >= MIN_PAIRS);
            own_rounds += w[i].rounds;
            pairs += w[i].pairs;
        } else {
            assert_true(w[i].rounds >= MIN_SHARED_ROUNDS);
            shared_rounds += w[i].rounds;
        }
        unseq += w[i].unseq;
        gap += w[i].gap;
        old += w[i].old;
    }
    print_message("%s: %.1f s; %d own threads: %lu pairs, %lu rounds; %d "
                  "threads on one pair: %lu rounds (unseq %lu, gap %lu, old "
                  "%lu)\n",
                  tl_kind(), now() - start, OWN_THREADS, pairs, own_rounds,
                  SHARED_THREADS, shared_rounds, unseq, gap, old);
    /* The shared pair still works, in order, from one thread. */
    w[0] = (struct worker){.id = 0};
    if (!one_round(&w[0], &shared))
        fail_msg("after the threads: %s", w[0].error);
    gl_hs_release(&shared);
    /* Every context's keys were destroyed with it. */
    assert_int_equal(tl_session_secret_keys(), keys_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads_own_and_shared_contexts),
    };

    tl_config(); /* exits 77 when the suite's token is not installed */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
