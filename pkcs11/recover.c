/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recovery from token loss: the token logged the application out, closed
 * its sessions (a removal and re-insertion) or is absent. A call that
 * reports it makes the layer find out what is gone and forget it; the
 * callers that may (look-ups, key generation for a new context, random
 * bytes, identity signatures) log in again once and retry once. Session
 * objects that died with their session are refused from then on.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

bool gp11_rv_token_lost(CK_RV rv)
{
    switch (rv) {
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
        return true;
    default:
        return false;
    }
}

bool gp11_rv_session_lost(CK_RV rv)
{
    return rv != CKR_USER_NOT_LOGGED_IN && gp11_rv_token_lost(rv);
}

/* True if a call that returned rv may have met a lost session: the token
 * is asked (a device error may or may not have taken sessions along). */
static bool worth_a_look(CK_RV rv)
{
    return gp11_rv_token_lost(rv) || rv == CKR_DEVICE_ERROR;
}

unsigned gp11_token_epoch(struct gp11_token *tok)
{
    return __atomic_load_n(&tok->epoch, __ATOMIC_ACQUIRE);
}

void gp11_token_notice_locked(struct gp11_token *tok, CK_RV rv)
{
    const char *call = NULL;
    CK_RV call_rv = CKR_OK;
    bool lost;

    if (!worth_a_look(rv))
        return;
    /* The call that revealed it, before the probes below fail too. */
    gp11_ck_last_failure(&call, &call_rv);
    if (call_rv != rv)
        call = NULL;
    /* A logout leaves sessions (and public session objects) alone. */
    lost = rv == CKR_USER_NOT_LOGGED_IN;
    if (!lost) {
        lost = gp11_owners_probe_locked(tok, call, rv);
        lost = gp11_pool_prune(tok) || lost;
        lost = lost || rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT;
    }
    if (!lost)
        return;
    GP11_DEBUG("token in slot %lu lost its login or sessions (%s -> %s)",
               (unsigned long)tok->slot, call ? call : "?",
               gp11_ckr_name(rv) ? gp11_ckr_name(rv) : "?");
    tok->logged_in = false;
    __atomic_add_fetch(&tok->epoch, 1, __ATOMIC_ACQ_REL);
}

void gp11_token_notice(struct gp11_token *tok, CK_RV rv)
{
    if (!worth_a_look(rv))
        return;
    pthread_mutex_lock(&tok->owner_lock);
    gp11_token_notice_locked(tok, rv);
    pthread_mutex_unlock(&tok->owner_lock);
}

uint32_t gp11_token_recover(struct gp11_token *tok, uint32_t ret)
{
    char first[512];
    uint32_t rec;

    if (ret == GP11_OK || !gp11_rv_token_lost(gp11_err_last_rv()))
        return ret;
    snprintf(first, sizeof(first), "%s", gp11_err_message(ret));
    rec = gp11_token_login(tok);
    if (rec == GP11_OK)
        return GP11_OK;
    /* The same failure again (a token still absent): say it once. */
    if (strcmp(first, gp11_err_message(rec)) == 0)
        return rec;
    return gp11_err_set(ret, "%s (and logging in again failed: %s)", first,
                        gp11_err_message(rec));
}

/* The sentence for a session object whose owner session is lost. */
static uint32_t lost_error(const struct gp11_object *obj)
{
    const struct gp11_owner *o = obj->owner;

    return gp11_err_ck(GP11_ERR_STALE_OBJECT, o->lost_rv, o->lost_call,
                       "the token lost the context's keys (session object "
                       "%lu died with its session: the token was removed, "
                       "re-inserted or its sessions closed); establish a new "
                       "context",
                       (unsigned long)obj->handle);
}

uint32_t gp11_object_check(struct gp11_token *tok,
                           const struct gp11_object *obj)
{
    (void)tok;
    if (obj->generation != gp11_fork_generation())
        return gp11_err_set(GP11_ERR_FORKED,
                            "token object %lu was created before fork() and "
                            "is not used in the child",
                            (unsigned long)obj->handle);
    if (obj->owner && __atomic_load_n(&obj->owner->dead, __ATOMIC_ACQUIRE))
        return lost_error(obj);
    return GP11_OK;
}

uint32_t gp11_object_lost(struct gp11_token *tok, const struct gp11_object *obj,
                          uint32_t ret)
{
    CK_RV rv = gp11_err_last_rv(), call_rv = CKR_OK;
    const char *call = NULL;
    CK_SESSION_INFO si;

    if (ret == GP11_OK || ret == GP11_ERR_FORKED ||
        ret == GP11_ERR_STALE_OBJECT ||
        obj->generation != gp11_fork_generation())
        return ret;
    if (obj->owner && __atomic_load_n(&obj->owner->dead, __ATOMIC_ACQUIRE))
        return lost_error(obj);
    if (rv != CKR_KEY_HANDLE_INVALID && rv != CKR_OBJECT_HANDLE_INVALID)
        return ret;
    gp11_ck_last_failure(&call, &call_rv);
    if (call_rv != rv)
        call = "C_*";
    /* The pool session was fine but the key is unknown: is its owner
     * session gone without anyone noticing? */
    if (obj->owner) {
        pthread_mutex_lock(&tok->owner_lock);
        if (!__atomic_load_n(&obj->owner->dead, __ATOMIC_RELAXED) &&
            gp11_rv_session_lost(
                gp11_ck_GetSessionInfo(tok->mod, obj->owner->h, &si))) {
            gp11_owner_mark_lost_locked(tok, obj->owner, call, rv);
            tok->logged_in = false;
            __atomic_add_fetch(&tok->epoch, 1, __ATOMIC_ACQ_REL);
        }
        pthread_mutex_unlock(&tok->owner_lock);
    }
    return gp11_err_ck(GP11_ERR_STALE_OBJECT, rv, call,
                       "the token lost the context's keys (it no longer knows "
                       "key %lu); establish a new context",
                       (unsigned long)obj->handle);
}
