/* SPDX-License-Identifier: Apache-2.0 */
/* Token selection by RFC 7512 URI, and the token's lifetime. */
#include "internal.h"

#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FALLBACK_MAX_SESSIONS 32
#define MAX_POOL 4096

void gp11_token_label(const CK_TOKEN_INFO *info, char out[33])
{
    size_t n = sizeof(info->label);

    memcpy(out, info->label, n);
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/* Reads of a slot's token information (quirk token-info-race). */
#define TOKEN_INFO_READS 8
#define TOKEN_INFO_PAUSE_NS 2000000L

/* The quirks the module alone chooses (GP11_QUIRKS_OF_MODULE): in force
 * while tokens are listed, before a token or its quirk list is known. */
static unsigned module_quirks(const struct gp11_module *mod)
{
    return gp11_quirks_for_token(&mod->info, NULL) & GP11_QUIRKS_OF_MODULE;
}

/* A read the quirk token-info-race says may be torn: a failure the token
 * calls general, or an initialised token whose label is all blanks. */
static bool torn_token_info(CK_RV rv, const CK_TOKEN_INFO *info)
{
    static const CK_UTF8CHAR blanks[sizeof(info->label)] = {
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

    if (rv == CKR_GENERAL_ERROR || rv == CKR_TOKEN_NOT_PRESENT)
        return true;
    return rv == CKR_OK && (info->flags & CKF_TOKEN_INITIALIZED) &&
           memcmp(info->label, blanks, sizeof(blanks)) == 0;
}

/* C_GetTokenInfo, read again after a short pause while the module has the
 * quirk token-info-race and the read looks torn (up to TOKEN_INFO_READS
 * reads; the last one stands, whatever it says). */
CK_RV gp11_token_read_info(struct gp11_module *mod, CK_SLOT_ID slot,
                           CK_TOKEN_INFO *info)
{
    const struct timespec pause = {0, TOKEN_INFO_PAUSE_NS};
    bool racy = module_quirks(mod) & GP11_QUIRK_TOKEN_INFO_RACE;
    CK_RV rv = gp11_ck_GetTokenInfo(mod, slot, info);

    for (int i = 1; racy && i < TOKEN_INFO_READS && torn_token_info(rv, info);
         i++) {
        nanosleep(&pause, NULL);
        rv = gp11_ck_GetTokenInfo(mod, slot, info);
    }
    return rv;
}

uint32_t gp11_token_enumerate(struct gp11_module *mod,
                              struct gp11_token_desc **out, size_t *count)
{
    CK_SLOT_ID *slots = NULL;
    struct gp11_token_desc *descs = NULL;
    CK_ULONG n = 0, i, kept = 0;
    uint32_t ret = GP11_OK;
    CK_RV rv;

    rv = gp11_ck_GetSlotList(mod, CK_TRUE, NULL, &n);
    if (rv == CKR_OK && n > 0) {
        slots = calloc(n, sizeof(*slots));
        descs = calloc(n, sizeof(*descs));
        if (slots == NULL || descs == NULL) {
            ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
            goto done;
        }
        rv = gp11_ck_GetSlotList(mod, CK_TRUE, slots, &n);
    }
    if (rv != CKR_OK) {
        ret = gp11_err_ck(GP11_ERR_TOKEN_NOT_FOUND, rv, "C_GetSlotList",
                          "cannot list the slots of %s", mod->path);
        goto done;
    }
    for (i = 0; i < n; i++) {
        /* A slot whose token vanished meanwhile is simply skipped. */
        if (gp11_token_read_info(mod, slots[i], &descs[kept].info) != CKR_OK ||
            gp11_ck_GetSlotInfo(mod, slots[i], &descs[kept].slot_info) !=
                CKR_OK)
            continue;
        descs[kept++].slot = slots[i];
    }
    *out = descs;
    *count = kept;
    descs = NULL;
done:
    free(slots);
    free(descs);
    return ret;
}

/* Appends "'label' (slot N)" entries of the found tokens to buf. */
static void describe_tokens(const struct gp11_token_desc *d, size_t n,
                            const bool *match, char *buf, size_t len)
{
    size_t used = 0;
    char label[33];

    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        if (match && !match[i])
            continue;
        gp11_token_label(&d[i].info, label);
        used +=
            (size_t)snprintf(buf + used, len - used, "%s'%s' (slot %lu)",
                             used ? ", " : "", label, (unsigned long)d[i].slot);
    }
    if (used == 0)
        snprintf(buf, len, "no token at all");
}

/* The token attributes the URI does not give yet, as "serial=, token=". */
static void uri_hint(P11KitUri *uri, char *buf, size_t len)
{
    CK_TOKEN_INFO *ti = p11_kit_uri_get_token_info(uri);
    size_t used = 0;
    struct {
        bool has;
        const char *name;
    } attrs[] = {
        {ti && ti->serialNumber[0] != 0, "serial="},
        {ti && ti->label[0] != 0, "token="},
        {ti && ti->model[0] != 0, "model="},
        {p11_kit_uri_get_slot_id(uri) != (CK_SLOT_ID)-1, "slot-id="},
    };

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if (!attrs[i].has && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                     used ? ", " : "", attrs[i].name);
    if (used == 0)
        snprintf(buf, len, "the tokens look alike: give each its own label");
}

/* Enumerations before "no token matches" on a module with the quirk
 * token-info-race (a whole slot may be missing from a torn scan). */
#define MATCH_ROUNDS 4

/* Marks the tokens of descs that uri selects; the number marked, the last
 * one in *hit. */
static size_t match_tokens(P11KitUri *uri, const struct gp11_token_desc *descs,
                           size_t n, bool *match, size_t *hit)
{
    CK_SLOT_ID want = p11_kit_uri_get_slot_id(uri);
    size_t hits = 0;

    for (size_t i = 0; i < n; i++) {
        match[i] = p11_kit_uri_match_token_info(uri, &descs[i].info) &&
                   p11_kit_uri_match_slot_info(uri, &descs[i].slot_info) &&
                   (want == (CK_SLOT_ID)-1 || want == descs[i].slot);
        if (match[i]) {
            hits++;
            *hit = i;
        }
    }
    return hits;
}

/* The module's tokens and which of them uri selects; with the quirk
 * token-info-race, a scan that selects none is made again (up to
 * MATCH_ROUNDS scans, 2 ms apart; the last one stands). */
static uint32_t enumerate_matching(struct gp11_module *mod, P11KitUri *uri,
                                   struct gp11_token_desc **descs, size_t *n,
                                   bool **match, size_t *hits, size_t *hit)
{
    const struct timespec pause = {0, TOKEN_INFO_PAUSE_NS};
    bool racy = module_quirks(mod) & GP11_QUIRK_TOKEN_INFO_RACE;
    uint32_t ret;

    for (int round = 1;; round++) {
        ret = gp11_token_enumerate(mod, descs, n);
        if (ret != GP11_OK)
            return ret;
        *match = calloc(*n ? *n : 1, sizeof(**match));
        if (*match == NULL)
            return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        *hits = match_tokens(uri, *descs, *n, *match, hit);
        if (*hits > 0 || !racy || round >= MATCH_ROUNDS)
            return GP11_OK;
        free(*descs);
        free(*match);
        *descs = NULL;
        *match = NULL;
        nanosleep(&pause, NULL);
    }
}

/* Picks the one token matching the URI among those the module offers. */
static uint32_t select_token(struct gp11_token *tok, const char *uri_str)
{
    struct gp11_token_desc *descs = NULL;
    P11KitUri *uri = NULL;
    bool *match = NULL;
    size_t n = 0, hits = 0, hit = 0;
    char found[1024], shown[512];
    uint32_t ret;
    int r;

    gp11_uri_redact(uri_str, shown, sizeof(shown));
    uri = p11_kit_uri_new();
    if (uri == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    r = p11_kit_uri_parse(uri_str, P11_KIT_URI_FOR_ANY, uri);
    if (r != P11_KIT_URI_OK) {
        ret = gp11_err_set(GP11_ERR_BAD_URI, "malformed token URI '%s': %s",
                           shown, p11_kit_uri_message(r));
        goto done;
    }
    if (!p11_kit_uri_match_module_info(uri, &tok->mod->info)) {
        ret = gp11_err_set(GP11_ERR_TOKEN_NOT_FOUND,
                           "token URI '%s' names another PKCS#11 module "
                           "than %s",
                           shown, tok->mod->path);
        goto done;
    }
    ret = enumerate_matching(tok->mod, uri, &descs, &n, &match, &hits, &hit);
    if (ret != GP11_OK)
        goto done;
    if (hits == 0) {
        describe_tokens(descs, n, NULL, found, sizeof(found));
        ret = gp11_err_set(GP11_ERR_TOKEN_NOT_FOUND,
                           "no token matches '%s' in %s; found: %s", shown,
                           tok->mod->path, found);
        goto done;
    }
    /* An empty slot (SoftHSM2 always offers one) is nobody's choice:
     * when initialised tokens match too, it does not count. */
    if (hits > 1) {
        size_t inited = 0;

        for (size_t i = 0; i < n; i++)
            if (match[i] && (descs[i].info.flags & CKF_TOKEN_INITIALIZED))
                inited++;
        for (size_t i = 0; inited > 0 && i < n; i++)
            if (match[i] && !(descs[i].info.flags & CKF_TOKEN_INITIALIZED))
                match[i] = false, hits--;
        for (size_t i = 0; hits == 1 && i < n; i++)
            if (match[i])
                hit = i;
    }
    if (hits > 1) {
        char hint[64];

        describe_tokens(descs, n, match, found, sizeof(found));
        uri_hint(uri, hint, sizeof(hint));
        ret = gp11_err_set(GP11_ERR_TOKEN_AMBIGUOUS,
                           "%zu tokens match '%s' in %s: %s; make the URI "
                           "more specific (%s)",
                           hits, shown, tok->mod->path, found, hint);
        goto done;
    }
    tok->slot = descs[hit].slot;
    tok->info = descs[hit].info;
    if (!(tok->info.flags & CKF_TOKEN_INITIALIZED)) {
        ret = gp11_err_set(GP11_ERR_TOKEN_NOT_INITIALIZED,
                           "the token in slot %lu is not initialised",
                           (unsigned long)tok->slot);
        goto done;
    }
    ret = GP11_OK;
done:
    free(match);
    free(descs);
    p11_kit_uri_free(uri);
    return ret;
}

/* The pool bound: configured, else the token's count less the owner. */
static size_t pool_bound(const struct gp11_token_opts *opts,
                         const CK_TOKEN_INFO *info)
{
    CK_ULONG max = info->ulMaxSessionCount;

    if (opts->max_sessions > 0)
        return opts->max_sessions;
    if (max == CK_EFFECTIVELY_INFINITE || max == CK_UNAVAILABLE_INFORMATION ||
        max > MAX_POOL)
        return FALLBACK_MAX_SESSIONS;
    return max > 1 ? (size_t)max - 1 : 1;
}

/* Applies the configured quirk spec on top of the known quirks. */
static uint32_t apply_quirks(struct gp11_token *tok, const char *spec)
{
    unsigned set, clear;
    bool use_auto;
    uint32_t ret;

    ret = gp11_quirks_parse(spec, &set, &clear, &use_auto);
    if (ret != GP11_OK)
        return ret;
    tok->quirks =
        use_auto ? gp11_quirks_for_token(&tok->mod->info, &tok->info) : 0;
    tok->quirks = (tok->quirks | set) & ~clear;
    /* Enumeration used these whatever the list says; report them. */
    tok->quirks |= module_quirks(tok->mod);
    if (tok->quirks & GP11_QUIRK_NO_DEINIT)
        tok->mod->no_deinit = true;
    return GP11_OK;
}

uint32_t gp11_token_open(const struct gp11_token_opts *opts,
                         struct gp11_token **out)
{
    struct gp11_token *tok;
    uint32_t ret;
    bool ok;

    if (opts->uri == NULL || *opts->uri == '\0')
        return gp11_err_set(GP11_ERR_BAD_URI, "no token URI is configured");
    tok = calloc(1, sizeof(*tok));
    if (tok == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&tok->lock, NULL);
    pthread_cond_init(&tok->cond, NULL);
    for (size_t i = 0; i < GP11_POOL_SHARDS; i++)
        pthread_mutex_init(&tok->shards[i].lock, NULL);
    pthread_mutex_init(&tok->owner_lock, NULL);
    ret = gp11_module_load(opts->module, opts->init_params, false, &tok->mod);
    if (ret != GP11_OK)
        goto done;
    ret = select_token(tok, opts->uri);
    if (ret != GP11_OK)
        goto done;
    ret = apply_quirks(tok, opts->quirks);
    if (ret != GP11_OK)
        goto done;
    tok->uri = strdup(opts->uri);
    tok->pin_source = opts->pin_source ? strdup(opts->pin_source) : NULL;
    tok->max = pool_bound(opts, &tok->info);
    ok = true;
    for (size_t i = 0; i < GP11_POOL_SHARDS; i++) {
        tok->shards[i].idle = calloc(tok->max, sizeof(CK_SESSION_HANDLE));
        ok = ok && tok->shards[i].idle != NULL;
    }
    if (tok->uri == NULL || !ok ||
        (opts->pin_source && tok->pin_source == NULL)) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        goto done;
    }
    tok->generation = gp11_fork_generation();
    gp11_module_attach_token(tok->mod, tok);
    GP11_DEBUG("token in slot %lu selected, pool of %zu sessions, quirks 0x%x",
               (unsigned long)tok->slot, tok->max, tok->quirks);
    *out = tok;
    tok = NULL;
done:
    gp11_token_close(tok);
    return ret;
}

uint32_t gp11_token_sync_fork_locked(struct gp11_token *tok)
{
    unsigned gen = gp11_fork_generation();

    if (tok->generation == gen)
        return GP11_OK;
    /* The parent's handles are not ours: forget them, never close them. */
    for (size_t i = 0; i < GP11_POOL_SHARDS; i++) {
        pthread_mutex_lock(&tok->shards[i].lock);
        tok->shards[i].n = 0;
        pthread_mutex_unlock(&tok->shards[i].lock);
    }
    __atomic_store_n(&tok->n_idle, 0, __ATOMIC_SEQ_CST);
    tok->n_open = 0;
    tok->n_opening = 0; /* openers in flight were threads of the parent */
    gp11_owners_forget(tok, false);
    tok->logged_in = false;
    __atomic_store_n(&tok->generation, gen, __ATOMIC_RELEASE);
    return gp11_module_ensure(tok->mod);
}

void gp11_token_close(struct gp11_token *tok)
{
    if (tok == NULL)
        return;
    if (tok->mod)
        gp11_module_detach_token(tok->mod, tok);
    if (tok->mod && tok->generation == gp11_fork_generation()) {
        for (size_t i = 0; i < GP11_POOL_SHARDS; i++)
            for (size_t j = 0; j < tok->shards[i].n; j++)
                gp11_ck_CloseSession(tok->mod, tok->shards[i].idle[j]);
        gp11_owners_forget(tok, true);
    } else {
        gp11_owners_forget(tok, false);
    }
    gp11_module_release(tok->mod);
    pthread_mutex_destroy(&tok->lock);
    pthread_cond_destroy(&tok->cond);
    pthread_mutex_destroy(&tok->owner_lock);
    for (size_t i = 0; i < GP11_POOL_SHARDS; i++) {
        pthread_mutex_destroy(&tok->shards[i].lock);
        free(tok->shards[i].idle);
    }
    if (tok->uri)
        gp11_wipe(tok->uri, strlen(tok->uri));
    free(tok->uri);
    free(tok->pin_source);
    free(tok);
}

const CK_TOKEN_INFO *gp11_token_info(const struct gp11_token *tok)
{
    return &tok->info;
}

CK_SLOT_ID gp11_token_slot(const struct gp11_token *tok)
{
    return tok->slot;
}

struct gp11_module *gp11_token_module(const struct gp11_token *tok)
{
    return tok->mod;
}

unsigned gp11_token_quirks(const struct gp11_token *tok)
{
    return tok->quirks;
}
