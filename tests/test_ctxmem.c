/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory over many contexts (issue 10 item 6): context pairs established
 * through MIT's mechglue, used once and deleted, must not make the
 * process grow: at most 5 MB per 100,000 pairs. This test runs
 * GP11_CTXMEM_PAIRS pairs (by default 2,000, and 500 on NSS softoken,
 * which spends some 40 ms per pair in its key database) after a warm-up.
 *
 * SoftHSM2 2.6.1 keeps about 250 bytes of every session object it ever
 * made until C_Finalize, closed session or not (quirk
 * destroyed-objects-kept, docs/token-layer.md): 16 objects per pair make
 * 3.9 kB per pair that nothing but C_Finalize gives back. On a token with
 * that quirk the test counts the objects the pairs made (SoftHSM2 hands
 * out session and object handles from one counter), makes and destroys
 * as many itself, and holds the rest of the growth, gss-pkcs11's and the
 * mechglue's own, to the bound.
 */
#include "gp11_bench.h"
#include "gsslib.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 300
#define BOUND_KB_PER_100K 5120.0
/* Below this, page granularity, allocator arenas and (on SoftHSM2) the
 * calibration are noise rather than a rate: a 2,000-pair run catches
 * leaks from 128 bytes a pair; the 5 MB target itself is checked by a
 * long run (GP11_CTXMEM_PAIRS=100000, docs/token-layer.md). */
#define BOUND_FLOOR_KB 256.0

/* Resident set size of this process in kB. */
static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* One context pair: established, one message each way, deleted. */
static void one_pair(gss_cred_id_t icred, gss_cred_id_t acred)
{
    gss_buffer_desc msg = {5, "hello"}, tok = GSS_C_EMPTY_BUFFER,
                    out = GSS_C_EMPTY_BUFFER;
    struct gl_hs hs;
    OM_uint32 major, minor;

    memset(&hs, 0, sizeof(hs));
    hs.icred = icred;
    hs.acred = acred;
    hs.target = gl_service("host@localhost");
    if (!gl_handshake(&hs))
        gl_fail("handshake", GSS_ERROR(hs.imajor) ? hs.imajor : hs.amajor,
                GSS_ERROR(hs.imajor) ? hs.iminor : hs.aminor);
    major = gss_wrap(&minor, hs.ictx, 1, GSS_C_QOP_DEFAULT, &msg, NULL, &tok);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_wrap", major, minor);
    major = gss_unwrap(&minor, hs.actx, &tok, &out, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_unwrap", major, minor);
    gss_release_buffer(&minor, &tok);
    gss_release_buffer(&minor, &out);
    hs.icred = hs.acred = GSS_C_NO_CREDENTIAL;
    gl_hs_release(&hs);
}

/* Makes and destroys one session key with the test's own handle;
 * returns its handle. */
static CK_OBJECT_HANDLE one_object(struct gp11_token *tok)
{
    struct gp11_object key;
    CK_OBJECT_HANDLE h;

    tl_assert_err(gp11_bench_key_ex(tok, GP11_BENCH_PRIVATE_FALSE, &key),
                  GP11_OK);
    h = key.handle;
    tl_assert_err(gp11_object_destroy(tok, &key), GP11_OK);
    return h;
}

static void pairs_do_not_grow_the_process(void **state)
{
    const char *env = getenv("GP11_CTXMEM_PAIRS");
    long pairs = env ? atol(env) : strcmp(tl_kind(), "nss") == 0 ? 500 : 2000;
    long before, after, token_kb = 0, objects = 0;
    gss_cred_id_t icred = GSS_C_NO_CREDENTIAL, acred = GSS_C_NO_CREDENTIAL;
    gss_name_t svc = gl_service("host@localhost");
    struct gp11_token *tok = tl_open();
    bool kept = gp11_token_quirks(tok) & GP11_QUIRK_DESTROYED_OBJECTS_KEPT;
    CK_OBJECT_HANDLE first = 0;
    struct timespec t0, t1;
    double bound, own, secs;
    OM_uint32 minor;

    (void)state;
    assert_true(pairs > 0);
    assert_int_equal(gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                      GSS_C_INITIATE, &icred, NULL, NULL),
                     GSS_S_COMPLETE);
    assert_int_equal(gss_acquire_cred(&minor, svc, 0, gl_mech_set(),
                                      GSS_C_ACCEPT, &acred, NULL, NULL),
                     GSS_S_COMPLETE);
    for (int i = 0; i < WARMUP; i++)
        one_pair(icred, acred);
    if (kept)
        first = one_object(tok);
    before = rss_kb();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < pairs; i++)
        one_pair(icred, acred);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    after = rss_kb();
    if (kept) {
        /* What the token keeps of as many objects, measured alike. */
        long b, a;

        objects = (long)(one_object(tok) - first) - 1;
        assert_true(objects >= pairs); /* at least one a pair */
        b = rss_kb();
        for (long i = 0; i < objects; i++)
            one_object(tok);
        a = rss_kb();
        token_kb = a - b;
    }
    secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    bound = BOUND_KB_PER_100K * (double)pairs / 100000.0;
    if (bound < BOUND_FLOOR_KB)
        bound = BOUND_FLOOR_KB;
    own = (double)(after - before - token_kb);
    print_message("%s: %ld context pairs in %.1f s: RSS %ld -> %ld kB "
                  "(%+ld kB, %.2f kB per 1000 pairs)\n",
                  tl_kind(), pairs, secs, before, after, after - before,
                  (double)(after - before) * 1000.0 / (double)pairs);
    if (kept)
        print_message("%s: the pairs made %ld session objects; as many made "
                      "and destroyed alone keep %ld kB (%.0f B each, quirk "
                      "destroyed-objects-kept)\n",
                      tl_kind(), objects, token_kb,
                      (double)token_kb * 1024.0 / (double)objects);
    print_message("%s: growth of our own %+.0f kB, bound %.0f kB\n", tl_kind(),
                  own, bound);
    gss_release_cred(&minor, &icred);
    gss_release_cred(&minor, &acred);
    gss_release_name(&minor, &svc);
    /* tok stays open: closing it could finalise a module the plugin
     * shares (NSS softoken is loaded unmanaged). */
    assert_true(own <= bound);
}

/* True under valgrind, whose own bookkeeping grows with every block. */
static bool under_valgrind(void)
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    bool vg = false;

    while (f && !vg && fgets(line, sizeof(line), f))
        vg = strstr(line, "vgpreload") != NULL;
    if (f)
        fclose(f);
    return vg;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pairs_do_not_grow_the_process),
    };

    if (under_valgrind()) {
        fprintf(stderr, "resident set sizes mean nothing under valgrind: "
                        "skipping\n");
        return TL_SKIP;
    }
    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
