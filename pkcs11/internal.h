/* SPDX-License-Identifier: Apache-2.0 */
/* Token layer internals: structures and the C_* wrappers. */
#ifndef GP11_PKCS11_INTERNAL_H
#define GP11_PKCS11_INTERNAL_H

#include <pthread.h>

#include "gp11_debug.h"
#include "gp11_pkcs11.h"

struct gp11_module {
    CK_FUNCTION_LIST *fns;
    /* The module's PKCS#11 3.0 list from C_GetInterface("PKCS 11", 3.0),
     * or NULL: only its message-based functions are used (token-layer.md
     * 5, "Message operations"). dl is our dlopen reference behind it. */
    struct gp11_fns30 *fns3;
    void *dl;
    CK_FUNCTION_LIST **registry; /* set when loaded as "p11-kit:NAME" */
    char *path;
    char *init_params;
    bool managed;   /* p11-kit managed (no init params) */
    bool no_deinit; /* quirk no-deinit */
    CK_INFO info;
    unsigned generation; /* fork generation of the last C_Initialize */
    bool finalize;       /* we initialised it: C_Finalize at the end */
    int refs;            /* protected by the global module lock */
    pthread_mutex_t lock;
    struct gp11_module *next;
    struct gp11_token *tokens; /* open tokens; global module lock */
};

#define GP11_POOL_SHARDS 4

/* One shard of a token's idle sessions (its own cache line). */
struct gp11_shard {
    pthread_mutex_t lock;
    CK_SESSION_HANDLE *idle; /* room for the pool's initial bound */
    size_t n;
} __attribute__((aligned(64)));

struct gp11_token {
    struct gp11_module *mod;
    CK_SLOT_ID slot;
    CK_TOKEN_INFO info;
    unsigned quirks;
    char *uri;        /* token URI as configured (may hold pin-value) */
    char *pin_source; /* configured pin-source override */

    /*
     * Pool state. Idle sessions sit in shards, each with its own lock, so
     * that threads borrowing and returning sessions do not all contend
     * for one lock; n_idle (atomic) counts them all. lock protects the
     * rest (n_open counts idle + borrowed) and cond signals a returned
     * session to borrowers that wait (n_waiting, atomic).
     */
    struct gp11_shard shards[GP11_POOL_SHARDS];
    size_t n_idle;
    size_t n_waiting;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* n_open includes n_opening: places reserved by C_OpenSession calls
     * still in flight, which may yet fail. */
    size_t n_open, n_opening, max, peak, waits, drops;
    unsigned generation; /* fork generation the sessions belong to */
    /* gp11_kek.h: how context keys are made (enum gp11_export_policy). */
    unsigned export_policy;

    /*
     * Owner sessions (object creation, login); owner_lock serialises
     * them. owner is the one new objects go to (NULL: open one on
     * demand); owners lists every record still needed (the current one,
     * and lost ones that objects still name); owner_used is the one lent
     * by the last gp11_owner_acquire.
     */
    pthread_mutex_t owner_lock;
    struct gp11_owner *owner, *owners, *owner_used;

    /* Login state, protected by owner_lock: true once we logged in (the
     * session state, not this flag, decides whether to log in). */
    bool logged_in;
    /* Bumped (atomically) whenever the token is found to have lost the
     * login or sessions: handles found before may be stale. */
    unsigned epoch;

    /* Message operations (aead.c): which AEADs may use them (set by the
     * capability probe), sessions holding one (atomic) and ever opened. */
    unsigned msg_api;
    size_t n_msg, msg_opened;

    struct gp11_token *next_in_module; /* global module lock */
};

/* Registers / unregisters an open token with its module, so that the
 * fork handlers can hold every lock across fork(). */
void gp11_module_attach_token(struct gp11_module *mod, struct gp11_token *tok);
void gp11_module_detach_token(struct gp11_module *mod, struct gp11_token *tok);

/*
 * Bring the token's state in line with the current fork generation:
 * in a forked child, forget sessions and login (never close or reuse the
 * parent's handles) and re-initialise the module. Caller holds tok->lock.
 */
uint32_t gp11_token_sync_fork_locked(struct gp11_token *tok);

/* An owner session and the session objects made in it (session.c). All
 * fields but dead are protected by the token's owner_lock. */
struct gp11_owner {
    CK_SESSION_HANDLE h;
    size_t live; /* session objects made here and not destroyed */
    size_t made; /* session objects ever made here */
    int dead;    /* atomic: the token lost the session (and its objects) */
    const char *lost_call; /* the call that revealed the loss, and */
    CK_RV lost_rv;         /* what it returned */
    struct gp11_owner *next;
};

/* Borrow the current owner session under owner_lock (opened on demand). */
uint32_t gp11_owner_acquire(struct gp11_token *tok, CK_SESSION_HANDLE *out);
void gp11_owner_release(struct gp11_token *tok, CK_RV last_rv);

/*
 * Borrow the owner session obj lives in (the current one for an object
 * without owner). Returns GP11_ERR_STALE_OBJECT, with owner_lock still
 * held, if that session is lost.
 */
uint32_t gp11_owner_acquire_for(struct gp11_token *tok,
                                const struct gp11_object *obj,
                                CK_SESSION_HANDLE *out);

/* Under owner_lock: last_rv is the result of the last call on the lent
 * owner session; a result that may mean lost sessions is looked into. */
void gp11_owner_note_locked(struct gp11_token *tok, CK_RV last_rv);
void gp11_owner_unlock(struct gp11_token *tok);

/* Under owner_lock: obj was just made in the lent owner session (a
 * session object if session_obj), or is gone (destroyed or lost). */
void gp11_owner_track_locked(struct gp11_token *tok, struct gp11_object *obj,
                             bool session_obj);
void gp11_owner_untrack_locked(struct gp11_token *tok, struct gp11_object *obj);

/* Under owner_lock: the token lost owner session o; call and rv tell how
 * it was noticed. */
void gp11_owner_mark_lost_locked(struct gp11_token *tok, struct gp11_owner *o,
                                 const char *call, CK_RV rv);

/* Under owner_lock: asks the token about every owner session; marks the
 * lost ones. True if one was lost. */
bool gp11_owners_probe_locked(struct gp11_token *tok, const char *call,
                              CK_RV rv);

/* Forgets every owner session record, closing the sessions if close (not
 * in a forked child: the handles are the parent's). */
void gp11_owners_forget(struct gp11_token *tok, bool close);

/* Asks the token about every idle pool session and forgets the ones it
 * lost (never closing them); true if one was lost. No pool lock held. */
bool gp11_pool_prune(struct gp11_token *tok);

/* ---- recovery (recover.c) ---------------------------------------------- */

/* The results that say the token lost the login or sessions:
 * CKR_USER_NOT_LOGGED_IN, CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED,
 * CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT. */
bool gp11_rv_token_lost(CK_RV rv);

/* True if a session that returned rv may be one the token lost. */
bool gp11_rv_session_lost(CK_RV rv);

/*
 * A call returned rv: if rv says the token may have lost the login or
 * sessions, find out what is gone (owner sessions, idle pool sessions,
 * login) and forget it, so that the next calls start afresh. The _locked
 * form is for callers holding owner_lock.
 */
void gp11_token_notice(struct gp11_token *tok, CK_RV rv);
void gp11_token_notice_locked(struct gp11_token *tok, CK_RV rv);

/*
 * ret is a failure. If its CK_RV (gp11_err_last_rv) is one of
 * gp11_rv_token_lost, log in again (a new owner session if needed) and
 * return GP11_OK: the caller may retry once. Otherwise ret; if logging in
 * again fails, ret with a sentence that says why.
 */
uint32_t gp11_token_recover(struct gp11_token *tok, uint32_t ret);

/* The token's loss epoch (see gp11_object). */
unsigned gp11_token_epoch(struct gp11_token *tok);

/* The name and result of the calling thread's last failed C_* call. */
void gp11_ck_last_failure(const char **call, CK_RV *rv);

/* Refuses key templates without explicit SENSITIVE and EXTRACTABLE. */
uint32_t gp11_template_check(const CK_ATTRIBUTE *t, CK_ULONG n,
                             CK_OBJECT_CLASS implied);

/* True unless the template makes a token object (CKA_TOKEN true): the
 * object then lives and dies with the session it is made in. */
bool gp11_template_is_session(const CK_ATTRIBUTE *t, CK_ULONG n);

/* True for results that mean the token has forgotten the session: it is
 * dropped, never closed (its handle may already name another session). */
bool gp11_rv_session_gone(CK_RV rv);

/* True for results after which the session may still be open but is not
 * to be lent again: an operation may still be active on it, or the
 * token failed (CKR_DEVICE_ERROR). A pool session is closed; the owner
 * session is kept if C_GetSessionInfo still answers for it. */
bool gp11_rv_session_suspect(CK_RV rv);

/* SHA-256 of a buffer (for remembering a rejected PIN by hash). */
void gp11_sha256(const void *data, size_t len, unsigned char out[32]);

/* ---- one wrapper per C_* function (interface.c) ------------------------ */

CK_RV gp11_ck_GetInfo(struct gp11_module *m, CK_INFO *info);
CK_RV gp11_ck_GetSlotList(struct gp11_module *m, CK_BBOOL present,
                          CK_SLOT_ID *list, CK_ULONG *count);
CK_RV gp11_ck_GetSlotInfo(struct gp11_module *m, CK_SLOT_ID slot,
                          CK_SLOT_INFO *info);
CK_RV gp11_ck_GetTokenInfo(struct gp11_module *m, CK_SLOT_ID slot,
                           CK_TOKEN_INFO *info);
CK_RV gp11_ck_GetMechanismList(struct gp11_module *m, CK_SLOT_ID slot,
                               CK_MECHANISM_TYPE *list, CK_ULONG *count);
CK_RV gp11_ck_GetMechanismInfo(struct gp11_module *m, CK_SLOT_ID slot,
                               CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);
CK_RV gp11_ck_InitToken(struct gp11_module *m, CK_SLOT_ID slot,
                        CK_UTF8CHAR *pin, CK_ULONG pin_len, CK_UTF8CHAR *label);
CK_RV gp11_ck_InitPIN(struct gp11_module *m, CK_SESSION_HANDLE s,
                      CK_UTF8CHAR *pin, CK_ULONG pin_len);
CK_RV gp11_ck_OpenSession(struct gp11_module *m, CK_SLOT_ID slot,
                          CK_FLAGS flags, CK_SESSION_HANDLE *s);
CK_RV gp11_ck_CloseSession(struct gp11_module *m, CK_SESSION_HANDLE s);
CK_RV gp11_ck_GetSessionInfo(struct gp11_module *m, CK_SESSION_HANDLE s,
                             CK_SESSION_INFO *info);
CK_RV gp11_ck_Login(struct gp11_module *m, CK_SESSION_HANDLE s,
                    CK_USER_TYPE user, CK_UTF8CHAR *pin, CK_ULONG pin_len);
CK_RV gp11_ck_Logout(struct gp11_module *m, CK_SESSION_HANDLE s);
CK_RV gp11_ck_CreateObject(struct gp11_module *m, CK_SESSION_HANDLE s,
                           CK_ATTRIBUTE *tmpl, CK_ULONG count,
                           CK_OBJECT_HANDLE *obj);
CK_RV gp11_ck_DestroyObject(struct gp11_module *m, CK_SESSION_HANDLE s,
                            CK_OBJECT_HANDLE obj);
CK_RV gp11_ck_GetAttributeValue(struct gp11_module *m, CK_SESSION_HANDLE s,
                                CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *tmpl,
                                CK_ULONG count);
CK_RV gp11_ck_FindObjectsInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                              CK_ATTRIBUTE *tmpl, CK_ULONG count);
CK_RV gp11_ck_FindObjects(struct gp11_module *m, CK_SESSION_HANDLE s,
                          CK_OBJECT_HANDLE *objs, CK_ULONG max,
                          CK_ULONG *count);
CK_RV gp11_ck_FindObjectsFinal(struct gp11_module *m, CK_SESSION_HANDLE s);
CK_RV gp11_ck_GenerateKey(struct gp11_module *m, CK_SESSION_HANDLE s,
                          CK_MECHANISM *mech, CK_ATTRIBUTE *tmpl,
                          CK_ULONG count, CK_OBJECT_HANDLE *key);
CK_RV gp11_ck_GenerateKeyPair(struct gp11_module *m, CK_SESSION_HANDLE s,
                              CK_MECHANISM *mech, CK_ATTRIBUTE *pub,
                              CK_ULONG pub_count, CK_ATTRIBUTE *priv,
                              CK_ULONG priv_count, CK_OBJECT_HANDLE *pub_obj,
                              CK_OBJECT_HANDLE *priv_obj);
CK_RV gp11_ck_DeriveKey(struct gp11_module *m, CK_SESSION_HANDLE s,
                        CK_MECHANISM *mech, CK_OBJECT_HANDLE base,
                        CK_ATTRIBUTE *tmpl, CK_ULONG count,
                        CK_OBJECT_HANDLE *key);
CK_RV gp11_ck_SignInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                       CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV gp11_ck_Sign(struct gp11_module *m, CK_SESSION_HANDLE s, CK_BYTE *data,
                   CK_ULONG len, CK_BYTE *sig, CK_ULONG *sig_len);
CK_RV gp11_ck_EncryptInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                          CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV gp11_ck_Encrypt(struct gp11_module *m, CK_SESSION_HANDLE s, CK_BYTE *in,
                      CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len);
CK_RV gp11_ck_DecryptInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                          CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV gp11_ck_Decrypt(struct gp11_module *m, CK_SESSION_HANDLE s, CK_BYTE *in,
                      CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len);
CK_RV gp11_ck_SignUpdate(struct gp11_module *m, CK_SESSION_HANDLE s,
                         CK_BYTE *part, CK_ULONG len);
CK_RV gp11_ck_SignFinal(struct gp11_module *m, CK_SESSION_HANDLE s,
                        CK_BYTE *sig, CK_ULONG *sig_len);
/* Context export (kek.c). */
CK_RV gp11_ck_WrapKey(struct gp11_module *m, CK_SESSION_HANDLE s,
                      CK_MECHANISM *mech, CK_OBJECT_HANDLE wrapping,
                      CK_OBJECT_HANDLE key, CK_BYTE *out, CK_ULONG *out_len);
CK_RV gp11_ck_UnwrapKey(struct gp11_module *m, CK_SESSION_HANDLE s,
                        CK_MECHANISM *mech, CK_OBJECT_HANDLE unwrapping,
                        CK_BYTE *in, CK_ULONG in_len, CK_ATTRIBUTE *tmpl,
                        CK_ULONG count, CK_OBJECT_HANDLE *key);
CK_RV gp11_ck_GetMechanismInfo30(struct gp11_module *m, CK_SLOT_ID slot,
                                 CK_MECHANISM_TYPE type,
                                 CK_MECHANISM_INFO *info);
CK_RV gp11_ck_MessageEncryptInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                                 CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV gp11_ck_EncryptMessage(struct gp11_module *m, CK_SESSION_HANDLE s,
                             void *param, CK_ULONG plen, CK_BYTE *aad,
                             CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len,
                             CK_BYTE *out, CK_ULONG *out_len);
CK_RV gp11_ck_MessageEncryptFinal(struct gp11_module *m, CK_SESSION_HANDLE s);
CK_RV gp11_ck_MessageDecryptInit(struct gp11_module *m, CK_SESSION_HANDLE s,
                                 CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV gp11_ck_DecryptMessage(struct gp11_module *m, CK_SESSION_HANDLE s,
                             void *param, CK_ULONG plen, CK_BYTE *aad,
                             CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len,
                             CK_BYTE *out, CK_ULONG *out_len);
CK_RV gp11_ck_MessageDecryptFinal(struct gp11_module *m, CK_SESSION_HANDLE s);
CK_RV gp11_ck_GenerateRandom(struct gp11_module *m, CK_SESSION_HANDLE s,
                             CK_BYTE *buf, CK_ULONG len);

#endif
