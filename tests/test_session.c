/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session pool under contention: more threads than sessions, one
 * session used by one thread at a time, the bound respected, waiting
 * instead of failing; and a token that runs out of sessions
 * (CKR_SESSION_COUNT injected in front of the real token).
 */
#include "testlib.h"
#include "internal.h"
#include "gp11_bench.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 8
#define ROUNDS 300
#define MAX_TRACKED 64

struct shared {
    struct gp11_token *tok;
    pthread_mutex_t lock;
    CK_SESSION_HANDLE in_use[MAX_TRACKED];
    size_t n_in_use;
    atomic_int overlaps;
    atomic_int failures;
};

/* Marks a session borrowed; counts an overlap if someone else has it. */
static void claim(struct shared *sh, CK_SESSION_HANDLE h)
{
    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < sh->n_in_use; i++)
        if (sh->in_use[i] == h)
            atomic_fetch_add(&sh->overlaps, 1);
    if (sh->n_in_use < MAX_TRACKED)
        sh->in_use[sh->n_in_use++] = h;
    pthread_mutex_unlock(&sh->lock);
}

static void release(struct shared *sh, CK_SESSION_HANDLE h)
{
    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < sh->n_in_use; i++) {
        if (sh->in_use[i] == h) {
            sh->in_use[i] = sh->in_use[--sh->n_in_use];
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
}

/* Borrows a session, uses it on the token, gives it back; ROUNDS times. */
static void *worker(void *arg)
{
    struct shared *sh = arg;
    CK_SESSION_INFO si;
    CK_SESSION_HANDLE h;
    CK_RV rv;

    for (int i = 0; i < ROUNDS; i++) {
        if (gp11_session_get(sh->tok, &h) != GP11_OK) {
            atomic_fetch_add(&sh->failures, 1);
            continue;
        }
        claim(sh, h);
        rv = gp11_ck_GetSessionInfo(gp11_token_module(sh->tok), h, &si);
        if (rv != CKR_OK || si.slotID != gp11_token_slot(sh->tok))
            atomic_fetch_add(&sh->failures, 1);
        /* Hold it as a real operation would, so borrowers contend. */
        nanosleep(&(struct timespec){0, 100 * 1000}, NULL);
        release(sh, h);
        gp11_session_put(sh->tok, h, rv);
    }
    return NULL;
}

/* Runs THREADS workers on tok and returns the pool statistics. */
static void run_workers(struct gp11_token *tok, struct gp11_pool_stats *st)
{
    pthread_t t[THREADS];
    struct shared sh;

    memset(&sh, 0, sizeof(sh));
    sh.tok = tok;
    pthread_mutex_init(&sh.lock, NULL);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &sh), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&sh.failures), 0);
    assert_int_equal(atomic_load(&sh.overlaps), 0);
    gp11_session_stats(tok, st);
    pthread_mutex_destroy(&sh.lock);
}

static void more_threads_than_sessions(void **state)
{
    struct gp11_token_opts o;
    struct gp11_token *tok = NULL;
    struct gp11_pool_stats st;

    (void)state;
    tl_opts(tl_config(), &o);
    o.max_sessions = 2;
    tl_assert_err(gp11_token_open(&o, &tok), GP11_OK);
    run_workers(tok, &st);
    assert_int_equal(st.max, 2);
    assert_true(st.peak <= 2);
    assert_true(st.peak >= 1);
    assert_true(st.waits > 0);          /* 8 threads on 2 sessions must queue */
    assert_int_equal(st.open, st.idle); /* everything given back */
    gp11_token_close(tok);
}

static void bound_comes_from_the_token(void **state)
{
    struct gp11_token *tok = tl_open();
    struct gp11_pool_stats st;
    CK_ULONG max = gp11_token_info(tok)->ulMaxSessionCount;

    (void)state;
    gp11_session_stats(tok, &st);
    if (max == CK_EFFECTIVELY_INFINITE || max == CK_UNAVAILABLE_INFORMATION)
        assert_int_equal(st.max, 32);
    else
        assert_int_equal(st.max, max > 1 ? max - 1 : 1);
    gp11_token_close(tok);
}

static void token_out_of_sessions(void **state)
{
    struct gp11_token_opts o;
    struct gp11_token *tok = NULL;
    struct gp11_pool_stats st;

    (void)state;
    tl_opts(tl_config(), &o);
    setenv("GP11_FAULT_TARGET", o.module, 1);
    o.module = getenv("GP11_FAULT_MODULE");
    o.max_sessions = 16;
    /* The token accepts 3 sessions; the pool must shrink and wait. Slow
     * opens make threads open sessions concurrently, so some are still
     * in flight when another sees CKR_SESSION_COUNT: the bound and the
     * peak must count only sessions that exist. */
    setenv("GP11_FAULT", "session-limit=3,open-delay-ms=20", 1);
    tl_assert_err(gp11_token_open(&o, &tok), GP11_OK);
    run_workers(tok, &st);
    assert_true(st.max <= 3);
    assert_true(st.peak <= 3);
    gp11_token_close(tok);
    unsetenv("GP11_FAULT");
}

static void no_session_at_all_is_an_error(void **state)
{
    struct gp11_token_opts o;
    struct gp11_token *tok = NULL;
    CK_SESSION_HANDLE h;
    uint32_t ret;

    (void)state;
    tl_opts(tl_config(), &o);
    setenv("GP11_FAULT_TARGET", o.module, 1);
    o.module = getenv("GP11_FAULT_MODULE");
    tl_assert_err(gp11_token_open(&o, &tok), GP11_OK);
    setenv("GP11_FAULT", "session-limit=0", 1);
    ret = gp11_session_get(tok, &h);
    unsetenv("GP11_FAULT");
    tl_assert_err(ret, GP11_ERR_SESSION_EXHAUSTED);
    tl_assert_msg(ret, "CKR_SESSION_COUNT");
    gp11_token_close(tok);
}

static void vanished_session_is_dropped(void **state)
{
    struct gp11_token *tok = tl_open();
    struct gp11_pool_stats st;
    CK_SESSION_HANDLE h, h2;

    (void)state;
    tl_assert_err(gp11_session_get(tok, &h), GP11_OK);
    /* Close it behind the pool's back, as a token reset would. */
    assert_int_equal(gp11_ck_CloseSession(gp11_token_module(tok), h), CKR_OK);
    gp11_session_put(tok, h,
                     gp11_ck_GetSessionInfo(gp11_token_module(tok), h,
                                            &(CK_SESSION_INFO){0}));
    gp11_session_stats(tok, &st);
    assert_int_equal(st.drops, 1);
    assert_int_equal(st.open, 0);
    tl_assert_err(gp11_session_get(tok, &h2), GP11_OK);
    gp11_session_put(tok, h2, CKR_OK);
    gp11_token_close(tok);
}

/* Opens the suite's token through the fault module, logged in. */
static struct gp11_token *open_faulty(void)
{
    struct gp11_token_opts o;
    struct gp11_token *tok = NULL;

    tl_opts(tl_config(), &o);
    setenv("GP11_FAULT_TARGET", o.module, 1);
    o.module = getenv("GP11_FAULT_MODULE");
    tl_assert_err(gp11_token_open(&o, &tok), GP11_OK);
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    return tok;
}

/* Sessions opened and not closed through the fault module (it counts
 * every C_OpenSession and C_CloseSession it forwards). */
static long fault_sessions(void)
{
    void *dl = dlopen(getenv("GP11_FAULT_MODULE"), RTLD_NOW | RTLD_NOLOAD);
    long (*count)(void);
    long n;

    assert_non_null(dl);
    count = (long (*)(void))dlsym(dl, "gp11_fault_open_sessions");
    assert_non_null(count);
    n = count();
    dlclose(dl);
    return n;
}

/* One AES-GCM encryption of 16 bytes with key (a fresh IV each time). */
static uint32_t encrypt_once(struct gp11_token *tok,
                             const struct gp11_object *key)
{
    static uint8_t counter;
    uint8_t iv[GP11_GCM_IV_LEN] = {0}, in[16] = {0}, out[32];

    iv[0] = ++counter;
    return gp11_aead_encrypt(tok, GP11_AEAD_AES_GCM, key, iv, NULL, 0, in,
                             sizeof(in), out);
}

#define FAULTS 100

/* CKR_DEVICE_ERROR on a per-message call: the session may still be open,
 * so the pool closes it instead of forgetting it. */
static void device_error_leaves_no_pool_session(void **state)
{
    struct gp11_token *tok = open_faulty();
    struct gp11_object key;
    uint32_t ret;
    long before;

    (void)state;
    tl_assert_err(gp11_bench_key(tok, &key), GP11_OK);
    tl_assert_err(encrypt_once(tok, &key), GP11_OK);
    before = fault_sessions();
    setenv("GP11_FAULT", "fail-encrypt=0x30", 1);
    for (int i = 0; i < FAULTS; i++) {
        ret = encrypt_once(tok, &key);
        tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
    }
    tl_assert_msg(ret, "C_Encrypt returned CKR_DEVICE_ERROR");
    unsetenv("GP11_FAULT");
    /* The last failing session was closed, none was forgotten. */
    assert_true(fault_sessions() <= before);
    /* And the token is still usable. */
    tl_assert_err(encrypt_once(tok, &key), GP11_OK);
    assert_int_equal(fault_sessions(), before);
    gp11_object_destroy(tok, &key);
    gp11_token_close(tok);
    assert_int_equal(fault_sessions(), 0);
}

/* CKR_DEVICE_ERROR on an owner-session call: the owner session (holding
 * every context key) is kept while the token says it is alive. */
static void device_error_leaves_no_owner_session(void **state)
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07};
    struct gp11_token *tok = open_faulty();
    struct gp11_object key, priv;
    uint8_t point[97];
    size_t point_len = sizeof(point);
    uint32_t ret;
    long before;

    (void)state;
    tl_assert_err(gp11_bench_key(tok, &key), GP11_OK);
    /* The owner and one pool session are open. */
    tl_assert_err(encrypt_once(tok, &key), GP11_OK);
    before = fault_sessions();
    setenv("GP11_FAULT", "fail-generate-key-pair=0x30", 1);
    for (int i = 0; i < FAULTS; i++) {
        point_len = sizeof(point);
        ret = gp11_ec_ephemeral(tok, p256, sizeof(p256), &priv, point,
                                &point_len);
        tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
    }
    tl_assert_msg(ret, "CKR_DEVICE_ERROR");
    unsetenv("GP11_FAULT");
    assert_int_equal(fault_sessions(), before);
    /* The session objects made before the errors are still there. */
    tl_assert_err(encrypt_once(tok, &key), GP11_OK);
    point_len = sizeof(point);
    tl_assert_err(
        gp11_ec_ephemeral(tok, p256, sizeof(p256), &priv, point, &point_len),
        GP11_OK);
    assert_int_equal(point_len, 65);
    gp11_object_destroy(tok, &priv);
    gp11_object_destroy(tok, &key);
    assert_int_equal(fault_sessions(), before);
    gp11_token_close(tok);
    assert_int_equal(fault_sessions(), 0);
}

/* A token that leaves the operation active after an error (SoftHSM2 does
 * after CKR_ARGUMENTS_BAD): the session is not lent again. */
static void operation_left_active_is_not_lent(void **state)
{
    struct gp11_token *tok = open_faulty();
    struct gp11_object key;
    long before;

    (void)state;
    tl_assert_err(gp11_bench_key(tok, &key), GP11_OK);
    tl_assert_err(encrypt_once(tok, &key), GP11_OK);
    before = fault_sessions();
    setenv("GP11_FAULT", "stuck-encrypt=0x7", 1);
    tl_assert_err(encrypt_once(tok, &key), GP11_ERR_TOKEN_REFUSED);
    unsetenv("GP11_FAULT");
    for (int i = 0; i < 4; i++)
        tl_assert_err(encrypt_once(tok, &key), GP11_OK);
    assert_int_equal(fault_sessions(), before);
    gp11_object_destroy(tok, &key);
    gp11_token_close(tok);
}

/* A failing Init is named as such, not as the operation that follows. */
static void failing_init_is_named(void **state)
{
    static const uint8_t tag[GP11_GCM_TAG_LEN];
    struct gp11_token *tok = open_faulty();
    uint8_t iv[GP11_GCM_IV_LEN] = {0}, mac[64];
    size_t mac_len = sizeof(mac);
    CK_MECHANISM sha = {CKM_SHA256_HMAC, NULL, 0};
    struct gp11_object key;
    uint32_t ret;

    (void)state;
    tl_assert_err(gp11_bench_key(tok, &key), GP11_OK);
    setenv("GP11_FAULT", "fail-encrypt-init=0x30", 1);
    ret = encrypt_once(tok, &key);
    tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
    tl_assert_msg(ret, "C_EncryptInit returned CKR_DEVICE_ERROR");
    setenv("GP11_FAULT", "fail-decrypt-init=0x30", 1);
    ret = gp11_aead_decrypt(tok, GP11_AEAD_AES_GCM, &key, iv, NULL, 0, tag,
                            sizeof(tag), NULL);
    tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
    tl_assert_msg(ret, "C_DecryptInit returned CKR_DEVICE_ERROR");
    setenv("GP11_FAULT", "fail-sign-init=0x30", 1);
    ret = gp11_mac(tok, CKM_SHA256_HMAC, &key, iv, sizeof(iv), NULL, 0, mac,
                   &mac_len);
    tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
    tl_assert_msg(ret, "C_SignInit returned CKR_DEVICE_ERROR");
    ret = gp11_sign(tok, &sha, &key, iv, sizeof(iv), mac, &mac_len);
    tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
    tl_assert_msg(ret, "C_SignInit returned CKR_DEVICE_ERROR");
    unsetenv("GP11_FAULT");
    gp11_object_destroy(tok, &key);
    gp11_token_close(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(more_threads_than_sessions),
        cmocka_unit_test(bound_comes_from_the_token),
        cmocka_unit_test(token_out_of_sessions),
        cmocka_unit_test(no_session_at_all_is_an_error),
        cmocka_unit_test(vanished_session_is_dropped),
        cmocka_unit_test(device_error_leaves_no_pool_session),
        cmocka_unit_test(device_error_leaves_no_owner_session),
        cmocka_unit_test(operation_left_active_is_not_lent),
        cmocka_unit_test(failing_init_is_named),
    };

    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
