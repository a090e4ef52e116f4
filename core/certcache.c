/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validated peer chains per set of trust anchors. Only successes are
 * kept, each with the time it was validated at and the chain's earliest
 * notAfter: a hit needs validated_at <= now < not_after, which is when the
 * same validation would succeed again (the anchors are those of the cache's
 * owner, and a reload makes a new owner with an empty cache). Chains
 * judged with CRLs are not cached (certval.c): a CRL can change the
 * answer within that window.
 */
#include "gp11_certcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define ENTRIES 32

struct entry {
    bool used;
    uint8_t key[GP11_CERTCACHE_KEY_LEN];
    X509 *leaf;
    time_t validated_at, not_after;
};

struct gp11_certcache {
    pthread_mutex_t lock;
    struct entry e[ENTRIES];
    size_t next; /* round-robin replacement */
};

struct gp11_certcache *gp11_certcache_new(void)
{
    struct gp11_certcache *c = calloc(1, sizeof(*c));

    if (c != NULL && pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

void gp11_certcache_free(struct gp11_certcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < ENTRIES; i++)
        X509_free(c->e[i].leaf);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Feeds a 32-bit big-endian number to the digest. */
static bool digest_u32(EVP_MD_CTX *h, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};

    return EVP_DigestUpdate(h, b, sizeof(b)) == 1;
}

bool gp11_certcache_key(int role, const struct gp11_buf *certs, size_t n,
                        uint8_t key[GP11_CERTCACHE_KEY_LEN])
{
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    unsigned int len = 0;
    bool ok;

    ok = h != NULL && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
         digest_u32(h, (uint32_t)role) && digest_u32(h, (uint32_t)n);
    for (size_t i = 0; ok && i < n; i++)
        ok = certs[i].len <= UINT32_MAX &&
             digest_u32(h, (uint32_t)certs[i].len) &&
             EVP_DigestUpdate(h, certs[i].data, certs[i].len) == 1;
    ok = ok && EVP_DigestFinal_ex(h, key, &len) == 1 &&
         len == GP11_CERTCACHE_KEY_LEN;
    EVP_MD_CTX_free(h);
    return ok;
}

X509 *gp11_certcache_get(struct gp11_certcache *c,
                         const uint8_t key[GP11_CERTCACHE_KEY_LEN], time_t now,
                         time_t *not_after)
{
    X509 *leaf = NULL;

    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < ENTRIES; i++) {
        struct entry *e = &c->e[i];

        if (!e->used || memcmp(e->key, key, GP11_CERTCACHE_KEY_LEN) != 0)
            continue;
        if (e->validated_at <= now && now < e->not_after &&
            X509_up_ref(e->leaf) == 1) {
            leaf = e->leaf;
            *not_after = e->not_after;
        }
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return leaf;
}

void gp11_certcache_put(struct gp11_certcache *c,
                        const uint8_t key[GP11_CERTCACHE_KEY_LEN], X509 *leaf,
                        time_t validated_at, time_t not_after)
{
    struct entry *e = NULL;

    if (c == NULL || leaf == NULL || X509_up_ref(leaf) != 1)
        return;
    pthread_mutex_lock(&c->lock);
    /* The same chain again (its entry had expired or was not yet valid
     * at that now): replace it, so a key is never in two entries. */
    for (size_t i = 0; i < ENTRIES && e == NULL; i++)
        if (c->e[i].used &&
            memcmp(c->e[i].key, key, GP11_CERTCACHE_KEY_LEN) == 0)
            e = &c->e[i];
    if (e == NULL) {
        e = &c->e[c->next];
        c->next = (c->next + 1) % ENTRIES;
    }
    X509_free(e->leaf);
    e->used = true;
    memcpy(e->key, key, GP11_CERTCACHE_KEY_LEN);
    e->leaf = leaf;
    e->validated_at = validated_at;
    e->not_after = not_after;
    pthread_mutex_unlock(&c->lock);
}
