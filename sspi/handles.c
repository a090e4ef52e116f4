/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handle table of the SSPI face. A handle is (dwLower, dwUpper) =
 * (generation << GP11_SLOT_BITS | slot, kind); it is looked up, never
 * cast to a pointer. Every handle gets a fresh generation, so a handle
 * whose slot was freed and reused no longer matches. An entry is
 * destroyed when it has been removed and the last call using it is done.
 * Handles made before a fork() are not valid in the child (its copies of
 * the token objects are not its own): they are refused there.
 */
#include "gp11_sspi.h"

#include "gp11_pkcs11.h"

#include <stdlib.h>

#define GP11_SLOT_BITS 20
#define GP11_SLOT_MASK ((1u << GP11_SLOT_BITS) - 1)
#define GP11_MAX_SLOTS GP11_SLOT_MASK /* slot 0 is never used */

struct entry {
    uint64_t gen; /* 0: free */
    enum gp11_sspi_kind kind;
    unsigned fork_gen; /* gp11_fork_generation() when it was made */
    bool removed;
    unsigned refs;
    void *obj;
    void (*free_fn)(void *);
    uint32_t next_free;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table; /* table[0] unused */
static uint32_t n_slots;    /* allocated, including slot 0 */
static uint32_t free_head;  /* 0: none */
static uint64_t next_gen = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* fork() while another thread holds table_lock must not leave the child
 * a locked table: the lock is taken around fork and released on both
 * sides. */
static void before_fork(void)
{
    pthread_mutex_lock(&table_lock);
}

static void after_fork(void)
{
    pthread_mutex_unlock(&table_lock);
}

static void register_atfork(void)
{
    pthread_atfork(before_fork, after_fork, after_fork);
}

/* Takes table_lock (registering the fork handlers first). */
static void table_lock_take(void)
{
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&table_lock);
}

/* A free slot (reusing the last freed one first), 0 if none can be made. */
static uint32_t take_slot(void)
{
    uint32_t s = free_head;
    struct entry *grown;
    uint32_t n;

    if (s != 0) {
        free_head = table[s].next_free;
        return s;
    }
    if (n_slots == 0)
        n_slots = 1;
    if (n_slots > GP11_MAX_SLOTS)
        return 0;
    n = n_slots * 2 > GP11_MAX_SLOTS + 1 ? GP11_MAX_SLOTS + 1 : n_slots * 2;
    if (n < 16)
        n = 16;
    grown = realloc(table, n * sizeof(*grown));
    if (grown == NULL)
        return 0;
    table = grown;
    for (uint32_t i = n_slots; i < n; i++) {
        table[i] = (struct entry){0};
        table[i].next_free = i + 1 < n ? i + 1 : 0;
    }
    s = n_slots;
    free_head = table[s].next_free;
    n_slots = n;
    return s;
}

SECURITY_STATUS gp11_sspi_handle_new(enum gp11_sspi_kind kind,
                                     struct gp11_sspi_obj *obj,
                                     void (*free_fn)(void *), SecHandle *h)
{
    uint32_t s;

    table_lock_take();
    s = take_slot();
    if (s != 0) {
        table[s] = (struct entry){.gen = next_gen++,
                                  .kind = kind,
                                  .fork_gen = gp11_fork_generation(),
                                  .obj = obj,
                                  .free_fn = free_fn};
        h->dwLower = (ULONG_PTR)(table[s].gen << GP11_SLOT_BITS | s);
        h->dwUpper = (ULONG_PTR)kind;
        obj->slot = s;
    }
    pthread_mutex_unlock(&table_lock);
    return s != 0 ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

/* The live entry of (lower, kind), or NULL; table_lock held. */
static struct entry *find(enum gp11_sspi_kind kind, ULONG_PTR lower)
{
    uint32_t s = (uint32_t)(lower & GP11_SLOT_MASK);
    uint64_t gen = (uint64_t)lower >> GP11_SLOT_BITS;

    if (s == 0 || s >= n_slots)
        return NULL;
    if (table[s].gen == 0 || table[s].gen != gen || table[s].removed ||
        table[s].kind != kind || table[s].fork_gen != gp11_fork_generation())
        return NULL;
    return &table[s];
}

/* Returns a slot to the free list; table_lock held. */
static void free_slot(struct entry *e)
{
    uint32_t s = (uint32_t)(e - table);

    *e = (struct entry){0};
    e->next_free = free_head;
    free_head = s;
}

/* Looks up and holds; table_lock taken here. */
static void *hold(enum gp11_sspi_kind kind, ULONG_PTR lower)
{
    struct entry *e;
    void *obj = NULL;

    table_lock_take();
    e = find(kind, lower);
    if (e != NULL) {
        e->refs++;
        obj = e->obj;
    }
    pthread_mutex_unlock(&table_lock);
    return obj;
}

void *gp11_sspi_get(enum gp11_sspi_kind kind, const SecHandle *h)
{
    if (h == NULL || h->dwUpper != (ULONG_PTR)kind)
        return NULL;
    return hold(kind, h->dwLower);
}

void *gp11_sspi_get_lsa(LSA_SEC_HANDLE lsa)
{
    return hold(GP11_SSPI_CTX, lsa);
}

/* The entry holding obj (held or removed-but-held); table_lock held. */
static struct entry *entry_of(void *obj)
{
    uint32_t s = ((struct gp11_sspi_obj *)obj)->slot;

    if (s == 0 || s >= n_slots || table[s].obj != obj)
        return NULL;
    return &table[s];
}

void gp11_sspi_put(void *obj)
{
    void (*free_fn)(void *) = NULL;
    struct entry *e;

    if (obj == NULL)
        return;
    table_lock_take();
    e = entry_of(obj);
    if (e != NULL && e->refs > 0 && --e->refs == 0 && e->removed) {
        free_fn = e->free_fn;
        free_slot(e);
    }
    pthread_mutex_unlock(&table_lock);
    if (free_fn)
        free_fn(obj);
}

SECURITY_STATUS gp11_sspi_handle_remove(enum gp11_sspi_kind kind,
                                        const SecHandle *h)
{
    void (*free_fn)(void *) = NULL;
    struct entry *e = NULL;
    void *obj = NULL;

    if (h == NULL || h->dwUpper != (ULONG_PTR)kind)
        return SEC_E_INVALID_HANDLE;
    table_lock_take();
    e = find(kind, h->dwLower);
    if (e != NULL) {
        e->removed = true;
        if (e->refs == 0) {
            free_fn = e->free_fn;
            obj = e->obj;
            free_slot(e);
        }
    }
    pthread_mutex_unlock(&table_lock);
    if (free_fn)
        free_fn(obj);
    return e != NULL ? SEC_E_OK : SEC_E_INVALID_HANDLE;
}
