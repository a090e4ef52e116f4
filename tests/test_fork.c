/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fork: a child never uses what its parent created (sessions, objects),
 * re-initialises lazily and works with objects of its own; the parent is
 * unaffected by the child.
 */
#include "testlib.h"
#include "internal.h"

#include <pthread.h>
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Creates a non-extractable session AES key as a stand-in context key. */
static void session_key(struct gp11_token *tok, struct gp11_object *obj)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE aes = CKK_AES;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    unsigned char value[32] = {1, 2, 3};
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &aes, sizeof(aes)},
        {CKA_TOKEN, &no, 1},
        {CKA_VALUE, value, sizeof(value)},
        {CKA_ENCRYPT, &yes, 1},
        {CKA_SENSITIVE, &yes, 1},
        {CKA_EXTRACTABLE, &no, 1},
    };

    tl_assert_err(gp11_object_create(tok, t, 7, obj), GP11_OK);
}

/* The child's checks; exit code 0 if all hold, else the failed step. */
static int child(struct gp11_token *tok, struct gp11_object *parent_key)
{
    struct gp11_object mine;
    CK_SESSION_HANDLE s;

    if (gp11_object_check(tok, parent_key) != GP11_ERR_FORKED)
        return 10;
    if (gp11_object_destroy(tok, parent_key) != GP11_ERR_FORKED)
        return 11;
    if (gp11_object_probe_attr(tok, parent_key, CKA_VALUE) == CKR_OK)
        return 12;
    /* Lazily re-initialised: fresh sessions, fresh login, own objects. */
    if (gp11_session_get(tok, &s) != GP11_OK)
        return 13;
    gp11_session_put(tok, s, CKR_OK);
    if (gp11_token_login(tok) != GP11_OK)
        return 14;
    session_key(tok, &mine);
    if (gp11_object_check(tok, &mine) != GP11_OK)
        return 15;
    if (gp11_object_probe_attr(tok, &mine, CKA_VALUE) !=
        CKR_ATTRIBUTE_SENSITIVE)
        return 16;
    if (gp11_object_destroy(tok, &mine) != GP11_OK)
        return 17;
    return 0;
}

static void child_never_uses_parent_objects(void **state)
{
    struct gp11_token *tok = tl_open();
    struct gp11_object key;
    int status = -1;
    pid_t pid;

    (void)state;
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    session_key(tok, &key);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child(tok, &key));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("child failed at step %d: %s", WEXITSTATUS(status),
                 "see test_fork.c child()");
    /* The parent's key is still its own and still usable. */
    tl_assert_err(gp11_object_check(tok, &key), GP11_OK);
    assert_int_equal(gp11_object_probe_attr(tok, &key, CKA_VALUE),
                     CKR_ATTRIBUTE_SENSITIVE);
    tl_assert_err(gp11_object_destroy(tok, &key), GP11_OK);
    gp11_token_close(tok);
}

struct holder {
    struct gp11_token *tok;
    pthread_mutex_t m;
    pthread_cond_t c;
    bool holding;
};

/* Holds the token's owner session (and its lock) for a while. */
static void *hold_owner(void *arg)
{
    struct holder *h = arg;
    CK_SESSION_HANDLE s;

    if (gp11_owner_acquire(h->tok, &s) != GP11_OK)
        return NULL;
    pthread_mutex_lock(&h->m);
    h->holding = true;
    pthread_cond_signal(&h->c);
    pthread_mutex_unlock(&h->m);
    nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    gp11_owner_release(h->tok, CKR_OK);
    return NULL;
}

static void fork_while_another_thread_holds_the_token(void **state)
{
    struct holder h = {.tok = tl_open()};
    CK_SESSION_HANDLE s;
    int status = -1;
    pthread_t t;
    pid_t pid;

    (void)state;
    pthread_mutex_init(&h.m, NULL);
    pthread_cond_init(&h.c, NULL);
    assert_int_equal(pthread_create(&t, NULL, hold_owner, &h), 0);
    pthread_mutex_lock(&h.m);
    while (!h.holding)
        pthread_cond_wait(&h.c, &h.m);
    pthread_mutex_unlock(&h.m);
    /* The fork handlers wait for the holder, so the child inherits no
     * lock held by a thread it does not have. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        if (gp11_session_get(h.tok, &s) != GP11_OK)
            _exit(2);
        gp11_session_put(h.tok, s, CKR_OK);
        _exit(gp11_token_login(h.tok) == GP11_OK ? 0 : 3);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    pthread_join(t, NULL);
    gp11_token_close(h.tok);
}

static void generation_moves_only_in_the_child(void **state)
{
    unsigned before = gp11_fork_generation();
    int status = -1;
    pid_t pid;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(gp11_fork_generation() == before + 1 ? 0 : 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(gp11_fork_generation(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generation_moves_only_in_the_child),
        cmocka_unit_test(child_never_uses_parent_objects),
        cmocka_unit_test(fork_while_another_thread_holds_the_token),
    };

    tl_config();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
