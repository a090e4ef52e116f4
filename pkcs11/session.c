/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session pool of a token, and its owner session.
 *
 * Locking: each shard's lock protects its idle list; tok->lock protects
 * n_open, max, the statistics and the condition borrowers wait on;
 * tok->owner_lock serialises the owner session and the login state. The
 * order is owner_lock, then lock, then shard locks. n_idle and n_waiting
 * are atomics, read without locks. Apart from re-initialisation after
 * fork(), no PKCS#11 call is made while a pool lock is held.
 */
#include "internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* How long a borrower waits for a free session before giving up. */
#define POOL_WAIT_SECONDS 30
/* Attempts to open a first session when the token reports it is full. */
#define OPEN_RETRIES 6

/* Re-syncs with the fork generation; cheap when nothing happened. */
static uint32_t sync_fork(struct gp11_token *tok, bool owner_locked)
{
    uint32_t ret;

    if (__atomic_load_n(&tok->generation, __ATOMIC_ACQUIRE) ==
        gp11_fork_generation())
        return GP11_OK;
    if (!owner_locked)
        pthread_mutex_lock(&tok->owner_lock);
    pthread_mutex_lock(&tok->lock);
    ret = gp11_token_sync_fork_locked(tok);
    pthread_mutex_unlock(&tok->lock);
    if (!owner_locked)
        pthread_mutex_unlock(&tok->owner_lock);
    return ret;
}

/* Sleeps for attempt * 20 ms (back-off while the token is full). */
static void back_off(unsigned attempt)
{
    struct timespec ts = {0, (long)attempt * 20 * 1000 * 1000};

    nanosleep(&ts, NULL);
}

/* Waits on the pool condition; false after POOL_WAIT_SECONDS. */
static bool wait_for_session(struct gp11_token *tok)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += POOL_WAIT_SECONDS;
    tok->waits++;
    __atomic_add_fetch(&tok->n_waiting, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&tok->n_idle, __ATOMIC_SEQ_CST) == 0 &&
           tok->n_open >= tok->max) {
        if (pthread_cond_timedwait(&tok->cond, &tok->lock, &deadline) ==
            ETIMEDOUT) {
            __atomic_sub_fetch(&tok->n_waiting, 1, __ATOMIC_SEQ_CST);
            return false;
        }
    }
    __atomic_sub_fetch(&tok->n_waiting, 1, __ATOMIC_SEQ_CST);
    return true;
}

/* Opens one more session; called with tok->lock held, drops it inside. */
static CK_RV open_locked(struct gp11_token *tok, CK_SESSION_HANDLE *out)
{
    CK_RV rv;

    tok->n_open++;
    tok->n_opening++;
    pthread_mutex_unlock(&tok->lock);
    rv = gp11_ck_OpenSession(tok->mod, tok->slot, CKF_SERIAL_SESSION, out);
    pthread_mutex_lock(&tok->lock);
    tok->n_opening--;
    if (rv != CKR_OK)
        tok->n_open--;
    else if (tok->n_open - tok->n_opening > tok->peak)
        tok->peak = tok->n_open - tok->n_opening; /* sessions that exist */
    return rv;
}

/* The shard of the calling thread (threads are spread round robin). */
static struct gp11_shard *my_shard(struct gp11_token *tok)
{
    static unsigned next_shard;
    static _Thread_local unsigned shard = UINT32_MAX;

    if (shard == UINT32_MAX)
        shard = __atomic_fetch_add(&next_shard, 1, __ATOMIC_RELAXED) %
                GP11_POOL_SHARDS;
    return &tok->shards[shard];
}

/* Takes an idle session from one shard, if it has one. */
static bool pop(struct gp11_token *tok, struct gp11_shard *sh,
                CK_SESSION_HANDLE *out)
{
    bool got = false;

    pthread_mutex_lock(&sh->lock);
    if (sh->n > 0) {
        *out = sh->idle[--sh->n];
        __atomic_sub_fetch(&tok->n_idle, 1, __ATOMIC_SEQ_CST);
        got = true;
    }
    pthread_mutex_unlock(&sh->lock);
    return got;
}

/* Takes an idle session: the thread's own shard first, then the others. */
static bool pop_any(struct gp11_token *tok, CK_SESSION_HANDLE *out)
{
    struct gp11_shard *mine = my_shard(tok);

    if (pop(tok, mine, out))
        return true;
    for (size_t i = 0; i < GP11_POOL_SHARDS; i++)
        if (&tok->shards[i] != mine &&
            __atomic_load_n(&tok->n_idle, __ATOMIC_SEQ_CST) > 0 &&
            pop(tok, &tok->shards[i], out))
            return true;
    return false;
}

uint32_t gp11_session_get(struct gp11_token *tok, CK_SESSION_HANDLE *out)
{
    unsigned attempt = 0;
    uint32_t ret;
    CK_RV rv;

    ret = sync_fork(tok, false);
    if (ret != GP11_OK)
        return ret;
    /* The common path: an idle session, no pool-wide lock. */
    if (pop_any(tok, out))
        return GP11_OK;
    pthread_mutex_lock(&tok->lock);
    for (;;) {
        if (pop_any(tok, out)) {
            ret = GP11_OK;
            break;
        }
        if (tok->n_open < tok->max) {
            rv = open_locked(tok, out);
            if (rv == CKR_OK) {
                ret = GP11_OK;
                break;
            }
            if (rv != CKR_SESSION_COUNT) {
                ret = gp11_err_ck(GP11_ERR_SESSION, rv, "C_OpenSession",
                                  "cannot open a session on slot %lu",
                                  (unsigned long)tok->slot);
                break;
            }
            /* The token is full (other users): shrink to the sessions we
             * hold, not counting opens still in flight (they may fail
             * too; if they succeed, the pool briefly holds more than its
             * bound and lends them all the same). */
            if (tok->n_open - tok->n_opening > 0) {
                GP11_DEBUG("CKR_SESSION_COUNT: pool bound %zu -> %zu", tok->max,
                           tok->n_open - tok->n_opening);
                tok->max = tok->n_open - tok->n_opening;
            } else if (++attempt < OPEN_RETRIES) {
                pthread_mutex_unlock(&tok->lock);
                back_off(attempt);
                pthread_mutex_lock(&tok->lock);
                continue;
            } else {
                ret =
                    gp11_err_ck(GP11_ERR_SESSION_EXHAUSTED, rv, "C_OpenSession",
                                "the token in slot %lu has no free session",
                                (unsigned long)tok->slot);
                break;
            }
        }
        if (!wait_for_session(tok)) {
            ret = gp11_err_set(GP11_ERR_SESSION_EXHAUSTED,
                               "no session of slot %lu became free within "
                               "%d s (pool of %zu)",
                               (unsigned long)tok->slot, POOL_WAIT_SECONDS,
                               tok->max);
            break;
        }
    }
    pthread_mutex_unlock(&tok->lock);
    return ret;
}

/* Wakes a waiting borrower, if any (no futex call otherwise). */
static void wake_waiter(struct gp11_token *tok)
{
    /* Pairs with the increment in wait_for_session: either the waiter
     * sees the new idle count, or this sees the waiter. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&tok->n_waiting, __ATOMIC_SEQ_CST) == 0)
        return;
    pthread_mutex_lock(&tok->lock);
    pthread_cond_signal(&tok->cond);
    pthread_mutex_unlock(&tok->lock);
}

void gp11_session_put(struct gp11_token *tok, CK_SESSION_HANDLE h,
                      CK_RV last_rv)
{
    struct gp11_shard *sh = my_shard(tok);
    bool close = gp11_rv_session_suspect(last_rv);

    /* Token loss: find out what else is gone (recover.c). */
    if (last_rv != CKR_OK)
        gp11_token_notice(tok, last_rv);

    if (close || gp11_rv_session_gone(last_rv)) {
        /* Gone, or suspect: never lent again; closed unless the token
         * already forgot it. */
        pthread_mutex_lock(&tok->lock);
        tok->n_open--;
        tok->drops++;
        pthread_cond_signal(&tok->cond); /* a waiter may open one */
        pthread_mutex_unlock(&tok->lock);
        if (close)
            gp11_ck_CloseSession(tok->mod, h);
        return;
    }
    /* Never full: a shard has room for the pool's whole bound. */
    pthread_mutex_lock(&sh->lock);
    sh->idle[sh->n++] = h;
    __atomic_add_fetch(&tok->n_idle, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&sh->lock);
    wake_waiter(tok);
}

void gp11_session_stats(struct gp11_token *tok, struct gp11_pool_stats *st)
{
    pthread_mutex_lock(&tok->lock);
    st->max = tok->max;
    st->open = tok->n_open;
    st->idle = __atomic_load_n(&tok->n_idle, __ATOMIC_SEQ_CST);
    st->peak = tok->peak;
    st->waits = tok->waits;
    st->drops = tok->drops;
    pthread_mutex_unlock(&tok->lock);
}

/* Opens a new current owner session; caller holds owner_lock. */
static uint32_t open_owner_locked(struct gp11_token *tok)
{
    struct gp11_owner *o = calloc(1, sizeof(*o));
    CK_RV rv;

    if (o == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    rv = gp11_ck_OpenSession(tok->mod, tok->slot,
                             CKF_SERIAL_SESSION | CKF_RW_SESSION, &o->h);
    if (rv != CKR_OK) {
        free(o);
        return gp11_err_ck(GP11_ERR_SESSION, rv, "C_OpenSession",
                           "cannot open the owner session on slot %lu",
                           (unsigned long)tok->slot);
    }
    o->next = tok->owners;
    tok->owners = o;
    tok->owner = o;
    return GP11_OK;
}

uint32_t gp11_owner_acquire(struct gp11_token *tok, CK_SESSION_HANDLE *out)
{
    uint32_t ret;

    pthread_mutex_lock(&tok->owner_lock);
    ret = sync_fork(tok, true);
    if (ret == GP11_OK && tok->owner == NULL)
        ret = open_owner_locked(tok);
    if (ret != GP11_OK) {
        pthread_mutex_unlock(&tok->owner_lock);
        return ret;
    }
    tok->owner_used = tok->owner;
    *out = tok->owner->h;
    return GP11_OK;
}

uint32_t gp11_owner_acquire_for(struct gp11_token *tok,
                                const struct gp11_object *obj,
                                CK_SESSION_HANDLE *out)
{
    if (obj->owner == NULL)
        return gp11_owner_acquire(tok, out);
    pthread_mutex_lock(&tok->owner_lock);
    /* A tracked object of this generation: its record exists. */
    if (__atomic_load_n(&obj->owner->dead, __ATOMIC_ACQUIRE))
        return GP11_ERR_STALE_OBJECT;
    tok->owner_used = obj->owner;
    *out = obj->owner->h;
    return GP11_OK;
}

void gp11_owner_note_locked(struct gp11_token *tok, CK_RV last_rv)
{
    if (last_rv != CKR_OK)
        gp11_token_notice_locked(tok, last_rv);
}

static void free_owner_locked(struct gp11_token *tok, struct gp11_owner *o);

void gp11_owner_unlock(struct gp11_token *tok)
{
    struct gp11_owner *o = tok->owner_used;

    tok->owner_used = NULL;
    /* Lost while lent, and no object names it: nothing needs it. */
    if (o && o->live == 0 && __atomic_load_n(&o->dead, __ATOMIC_RELAXED))
        free_owner_locked(tok, o);
    pthread_mutex_unlock(&tok->owner_lock);
}

void gp11_owner_release(struct gp11_token *tok, CK_RV last_rv)
{
    gp11_owner_note_locked(tok, last_rv);
    gp11_owner_unlock(tok);
}

/* Unlinks and frees a record no object names any more. */
static void free_owner_locked(struct gp11_token *tok, struct gp11_owner *o)
{
    struct gp11_owner **p;

    for (p = &tok->owners; *p; p = &(*p)->next) {
        if (*p == o) {
            *p = o->next;
            break;
        }
    }
    if (tok->owner == o)
        tok->owner = NULL;
    free(o);
}

void gp11_owner_track_locked(struct gp11_token *tok, struct gp11_object *obj,
                             bool session_obj)
{
    struct gp11_owner *o = tok->owner_used;

    obj->generation = gp11_fork_generation();
    obj->msg = NULL;
    obj->epoch = gp11_token_epoch(tok);
    obj->owner = session_obj ? o : NULL;
    if (session_obj && o) {
        o->live++;
        o->made++;
    }
}

void gp11_owner_untrack_locked(struct gp11_token *tok, struct gp11_object *obj)
{
    struct gp11_owner *o = obj->owner;

    obj->owner = NULL;
    if (o == NULL)
        return;
    if (o->live > 0)
        o->live--;
    /* A lost session's record lives as long as objects name it. */
    if (o->live == 0 && __atomic_load_n(&o->dead, __ATOMIC_RELAXED))
        free_owner_locked(tok, o);
}

void gp11_owner_mark_lost_locked(struct gp11_token *tok, struct gp11_owner *o,
                                 const char *call, CK_RV rv)
{
    if (__atomic_load_n(&o->dead, __ATOMIC_RELAXED))
        return;
    o->lost_call = call ? call : "C_GetSessionInfo";
    o->lost_rv = rv;
    __atomic_store_n(&o->dead, 1, __ATOMIC_RELEASE);
    GP11_DEBUG("owner session %lu lost (%s -> %s), %zu objects with it",
               (unsigned long)o->h, o->lost_call,
               gp11_ckr_name(rv) ? gp11_ckr_name(rv) : "?", o->live);
    if (tok->owner == o)
        tok->owner = NULL;
    if (o->live == 0 && tok->owner_used != o)
        free_owner_locked(tok, o);
}

bool gp11_owners_probe_locked(struct gp11_token *tok, const char *call,
                              CK_RV rv)
{
    struct gp11_owner *o, *next;
    CK_SESSION_INFO si;
    bool lost = false;

    for (o = tok->owners; o; o = next) {
        next = o->next; /* o may be freed */
        if (__atomic_load_n(&o->dead, __ATOMIC_RELAXED))
            continue;
        if (gp11_rv_session_lost(gp11_ck_GetSessionInfo(tok->mod, o->h, &si))) {
            gp11_owner_mark_lost_locked(tok, o, call, rv);
            lost = true;
        }
    }
    return lost;
}

void gp11_owners_forget(struct gp11_token *tok, bool close)
{
    struct gp11_owner *o, *next;

    for (o = tok->owners; o; o = next) {
        next = o->next;
        if (close && !__atomic_load_n(&o->dead, __ATOMIC_RELAXED))
            gp11_ck_CloseSession(tok->mod, o->h);
        free(o);
    }
    tok->owners = NULL;
    tok->owner = NULL;
    tok->owner_used = NULL;
}

bool gp11_pool_prune(struct gp11_token *tok)
{
    CK_SESSION_HANDLE *taken;
    CK_SESSION_INFO si;
    size_t n = 0, kept = 0, room;
    bool lost = false;

    /* Take every idle session out, ask the token, put back the living. */
    pthread_mutex_lock(&tok->lock);
    room = tok->n_open;
    pthread_mutex_unlock(&tok->lock);
    taken = calloc(room ? room : 1, sizeof(*taken));
    if (taken == NULL)
        return false;
    for (size_t i = 0; i < GP11_POOL_SHARDS; i++) {
        struct gp11_shard *sh = &tok->shards[i];

        pthread_mutex_lock(&sh->lock);
        while (sh->n > 0 && n < room) {
            taken[n++] = sh->idle[--sh->n];
            __atomic_sub_fetch(&tok->n_idle, 1, __ATOMIC_SEQ_CST);
        }
        pthread_mutex_unlock(&sh->lock);
    }
    for (size_t i = 0; i < n; i++) {
        if (gp11_rv_session_lost(
                gp11_ck_GetSessionInfo(tok->mod, taken[i], &si))) {
            /* The token closed it: forget it, never close it (the
             * handle may be another session's one day). */
            pthread_mutex_lock(&tok->lock);
            tok->n_open--;
            tok->drops++;
            pthread_cond_signal(&tok->cond);
            pthread_mutex_unlock(&tok->lock);
            lost = true;
        } else {
            taken[kept++] = taken[i];
        }
    }
    for (size_t i = 0; i < kept; i++)
        gp11_session_put(tok, taken[i], CKR_OK);
    free(taken);
    return lost;
}
