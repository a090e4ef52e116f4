/* SPDX-License-Identifier: Apache-2.0 */
/* The process-wide configuration, token and trust anchors. */
#include "gp11_runtime.h"
#include "gp11_revocation.h"
#include "gp11_algs.h"
#include "gp11_export.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t runtime_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gp11_runtime *runtime; /* protected by runtime_lock */
/* rt->trust and rt->anchor_sig: swapped by gp11_runtime_trust. */
static pthread_mutex_t trust_lock = PTHREAD_MUTEX_INITIALIZER;

/* The configured anchor paths, in the order of anchor_sig. */
static void anchor_paths(const struct gp11_config *cfg, const char *p[3])
{
    p[0] = cfg->trust_anchors;
    p[1] = cfg->initiator_anchors;
    p[2] = cfg->acceptor_anchors;
}

/* stat() of each configured anchor path. */
static void anchor_stat(const struct gp11_config *cfg,
                        struct gp11_file_sig sig[3])
{
    const char *p[3];
    struct stat st;

    anchor_paths(cfg, p);
    memset(sig, 0, 3 * sizeof(*sig));
    for (int i = 0; i < 3; i++) {
        if (p[i] == NULL || stat(p[i], &st) != 0)
            continue;
        sig[i].present = true;
        sig[i].dev = st.st_dev;
        sig[i].ino = st.st_ino;
        sig[i].size = st.st_size;
        sig[i].mtime = st.st_mtim;
        sig[i].ctime = st.st_ctim;
    }
}

/* True if two stat() results describe the same unchanged file. */
static bool same_sig(const struct gp11_file_sig *a,
                     const struct gp11_file_sig *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Loads the configured anchors, with the configured CRLs attached. */
static uint32_t load_trust(struct gp11_runtime *rt, struct gp11_trust **out)
{
    uint32_t ret;

    ret = gp11_trust_load_roles(rt->cfg->trust_anchors,
                                rt->cfg->initiator_anchors,
                                rt->cfg->acceptor_anchors, NULL, out);
    if (ret == GP11_OK)
        gp11_trust_set_crls(*out, rt->crls);
    return ret;
}

uint32_t gp11_runtime_trust(struct gp11_runtime *rt, struct gp11_trust **out)
{
    struct gp11_file_sig now[3];
    struct gp11_trust *fresh = NULL;
    uint32_t ret = GP11_OK;

    *out = NULL;
    anchor_stat(rt->cfg, now);
    pthread_mutex_lock(&trust_lock);
    if (!same_sig(&now[0], &rt->anchor_sig[0]) ||
        !same_sig(&now[1], &rt->anchor_sig[1]) ||
        !same_sig(&now[2], &rt->anchor_sig[2])) {
        ret = load_trust(rt, &fresh);
        if (ret == GP11_OK) {
            gp11_trust_free(rt->trust);
            rt->trust = fresh;
            memcpy(rt->anchor_sig, now, sizeof(now));
        }
    }
    if (ret == GP11_OK)
        *out = gp11_trust_ref(rt->trust);
    pthread_mutex_unlock(&trust_lock);
    return ret;
}

/* Which profiles and per-message algorithms the token supports. */
static void derive_offers(struct gp11_runtime *rt)
{
    const struct gp11_caps *c = &rt->caps;
    static const struct {
        enum gp11_feature f;
        uint32_t bit;
    } map[] = {
        {GP11_F_AES_GCM, GP11_CAP_AES_GCM},
        {GP11_F_HMAC_SHA256, GP11_CAP_HMAC_SHA256},
        {GP11_F_HMAC_SHA384, GP11_CAP_HMAC_SHA384},
        {GP11_F_HMAC_SHA512, GP11_CAP_HMAC_SHA512},
        {GP11_F_AES_CMAC, GP11_CAP_AES_CMAC},
        {GP11_F_CHACHA20_POLY1305, GP11_CAP_CHACHA20_POLY1305},
    };

    rt->n_profiles = 0;
    /* HKDF is the standard construction: prefer it where both have it. */
    if (gp11_caps_have(c, GP11_F_HKDF) && gp11_caps_have(c, GP11_F_ECDH_P256))
        rt->profiles[rt->n_profiles++] = GP11_PROFILE_ID_KDF_30_HKDF;
    if (gp11_caps_have(c, GP11_F_AES_ECB_ENCRYPT_DATA) &&
        gp11_caps_have(c, GP11_F_ECDH_P256))
        rt->profiles[rt->n_profiles++] = GP11_PROFILE_ID_KDF_240;
    rt->msg_caps = rt->cfg->extra_qops ? GP11_CAP_EXTRA_QOPS : 0;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (gp11_caps_have(c, map[i].f))
            rt->msg_caps |= map[i].bit;
}

/* Frees a partly built runtime. */
static void runtime_free(struct gp11_runtime *rt)
{
    if (rt == NULL)
        return;
    gp11_trust_free(rt->trust);
    gp11_crls_free(rt->crls);
    gp11_token_close(rt->tok);
    gp11_config_free(rt->cfg);
    free(rt);
}

/* Builds the runtime from the configuration file. */
static uint32_t runtime_new(struct gp11_runtime **out)
{
    struct gp11_token_opts o = {0};
    struct gp11_runtime *rt;
    uint32_t ret;

    rt = calloc(1, sizeof(*rt));
    if (rt == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    ret = gp11_config_load(NULL, &rt->cfg);
    if (ret != GP11_OK)
        goto done;
    o.module = rt->cfg->module;
    o.init_params = rt->cfg->init_params;
    o.uri = rt->cfg->token_uri;
    o.pin_source = rt->cfg->pin_source;
    o.quirks = rt->cfg->quirks;
    o.max_sessions = rt->cfg->max_sessions;
    ret = gp11_token_open(&o, &rt->tok);
    if (ret == GP11_OK)
        ret = gp11_token_login(rt->tok);
    if (ret == GP11_OK)
        ret = gp11_caps_probe(rt->tok, &rt->caps);
    if (ret == GP11_OK && rt->cfg->trust_crls)
        ret = gp11_crls_load(rt->cfg->trust_crls,
                             rt->cfg->crl_policy != 0 ? rt->cfg->crl_policy
                                                      : GP11_CRL_REQUIRE,
                             &rt->crls);
    /* Stat first: a change while loading is seen by the next user. */
    if (ret == GP11_OK)
        anchor_stat(rt->cfg, rt->anchor_sig);
    if (ret == GP11_OK)
        ret = load_trust(rt, &rt->trust);
    if (ret != GP11_OK)
        goto done;
    derive_offers(rt);
    gp11_export_setup(rt); /* context export: protocol.md 5 */
    *out = rt;
    rt = NULL;
done:
    runtime_free(rt);
    return ret;
}

uint32_t gp11_runtime_get(struct gp11_runtime **out)
{
    uint32_t ret = GP11_OK;

    pthread_mutex_lock(&runtime_lock);
    if (runtime == NULL)
        ret = runtime_new(&runtime);
    *out = runtime;
    pthread_mutex_unlock(&runtime_lock);
    return ret;
}

bool gp11_runtime_policy(bool *anonymous, bool *export)
{
    bool have;

    pthread_mutex_lock(&runtime_lock);
    have = runtime != NULL;
    if (have) {
        *anonymous = runtime->cfg->allow_anonymous;
        *export = runtime->cfg->allow_export;
    }
    pthread_mutex_unlock(&runtime_lock);
    return have;
}

bool gp11_runtime_has_profile(const struct gp11_runtime *rt, uint8_t profile)
{
    for (size_t i = 0; i < rt->n_profiles; i++)
        if (rt->profiles[i] == profile)
            return true;
    return false;
}
