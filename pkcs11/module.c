/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Module loading through p11-kit, shared by reference count, and the fork
 * generation: the atfork child handler only bumps a counter; modules and
 * tokens compare it lazily and re-initialise on first use in the child.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <p11-kit/p11-kit.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGISTRY_PREFIX "p11-kit:"

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gp11_module *modules; /* protected by modules_lock */
static atomic_uint fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/*
 * Fork handlers. Every lock of the token layer is held across fork(), in
 * the lock order (module list, then per token owner_lock and lock, then
 * per module lock), so the child never inherits a lock that a thread
 * which no longer exists was holding. The child handler only releases
 * them and bumps the generation; re-initialisation happens lazily.
 */
static void lock_all(void)
{
    pthread_mutex_lock(&modules_lock);
    for (struct gp11_module *m = modules; m; m = m->next) {
        for (struct gp11_token *t = m->tokens; t; t = t->next_in_module) {
            pthread_mutex_lock(&t->owner_lock);
            pthread_mutex_lock(&t->lock);
            for (size_t i = 0; i < GP11_POOL_SHARDS; i++)
                pthread_mutex_lock(&t->shards[i].lock);
        }
        pthread_mutex_lock(&m->lock);
    }
}

static void unlock_all(void)
{
    for (struct gp11_module *m = modules; m; m = m->next) {
        pthread_mutex_unlock(&m->lock);
        for (struct gp11_token *t = m->tokens; t; t = t->next_in_module) {
            for (size_t i = 0; i < GP11_POOL_SHARDS; i++)
                pthread_mutex_unlock(&t->shards[i].lock);
            pthread_mutex_unlock(&t->lock);
            pthread_mutex_unlock(&t->owner_lock);
        }
    }
    pthread_mutex_unlock(&modules_lock);
}

static void atfork_child(void)
{
    atomic_fetch_add(&fork_gen, 1);
    unlock_all();
}

static void register_atfork(void)
{
    pthread_atfork(lock_all, unlock_all, atfork_child);
}

unsigned gp11_fork_generation(void)
{
    /* Whoever asks first registers the handler, before any object. */
    pthread_once(&atfork_once, register_atfork);
    return atomic_load(&fork_gen);
}

/* C_Initialize with pReserved for modules that need init parameters. */
static CK_RV initialize_unmanaged(struct gp11_module *mod)
{
    CK_C_INITIALIZE_ARGS args = {0};
    CK_RV rv;

    args.flags = CKF_OS_LOCKING_OK;
    args.pReserved = mod->init_params;
    rv = mod->fns->C_Initialize(&args);
    GP11_DEBUG("C_Initialize(pReserved set) -> %s", gp11_ckr_name(rv));
    /* An application that initialised the module first keeps it: we use
     * it and never finalise it under the application. */
    mod->finalize = (rv == CKR_OK);
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
        rv = CKR_OK;
    return rv;
}

/* Initialise (or re-initialise after fork) whichever way it was loaded. */
static CK_RV initialize(struct gp11_module *mod)
{
    CK_RV rv;

    if (!mod->managed)
        return initialize_unmanaged(mod);
    /* p11-kit reference counts managed modules itself. */
    rv = p11_kit_module_initialize(mod->fns);
    mod->finalize = (rv == CKR_OK);
    return rv;
}

/* Lists the names of modules registered with p11-kit, for messages. */
static void registered_names(CK_FUNCTION_LIST **list, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; list && list[i] && used < len; i++) {
        char *name = p11_kit_module_get_name(list[i]);

        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 name ? name : "?");
        free(name);
    }
    if (buf[0] == '\0')
        snprintf(buf, len, "none");
}

/* Loads "p11-kit:NAME" from p11-kit's registry (x-init-reserved applies). */
static uint32_t load_registered(struct gp11_module *mod, const char *name)
{
    char names[512];

    mod->registry = p11_kit_modules_load(NULL, 0);
    if (mod->registry == NULL)
        return gp11_err_set(GP11_ERR_MODULE_LOAD,
                            "cannot load the p11-kit module registry: %s",
                            p11_kit_message() ? p11_kit_message() : "?");
    mod->fns = p11_kit_module_for_name(mod->registry, name);
    if (mod->fns == NULL) {
        registered_names(mod->registry, names, sizeof(names));
        return gp11_err_set(GP11_ERR_MODULE_LOAD,
                            "no PKCS#11 module named '%s' is registered with "
                            "p11-kit (registered: %s)",
                            name, names);
    }
    mod->managed = true;
    return GP11_OK;
}

/* Loads a module file; managed unless it needs init parameters. */
static uint32_t load_file(struct gp11_module *mod, const char *path)
{
    const char *msg;
    int flags = mod->init_params ? P11_KIT_MODULE_UNMANAGED : 0;

    if (path[0] == '/' && access(path, R_OK) != 0)
        return gp11_err_set(GP11_ERR_MODULE_LOAD,
                            "cannot load PKCS#11 module %s: %s", path,
                            strerror(errno));
    mod->fns = p11_kit_module_load(path, flags);
    if (mod->fns == NULL) {
        msg = p11_kit_message();
        return gp11_err_set(GP11_ERR_MODULE_LOAD,
                            "cannot load PKCS#11 module %s: %s", path,
                            msg ? msg : "unknown p11-kit error");
    }
    mod->managed = (flags == 0);
    return GP11_OK;
}

/*
 * Looks for the module's PKCS#11 3.0 interface: C_GetInterface("PKCS 11",
 * 3.0) in the library file p11-kit loaded (p11-kit 0.24 knows only the
 * 2.x list). Kept only when it is the same module: for an unmanaged one
 * its 2.x functions must be the ones p11-kit handed us; p11-kit's managed
 * wrapper passes session and object handles through unchanged.
 */
static void find_interface_30(struct gp11_module *mod)
{
    CK_VERSION want = {3, 0};
    gp11_ck_interface *iface = NULL;
    gp11_ck_GetInterface_fn get;
    struct gp11_fns30 *f;
    char *file = p11_kit_module_get_filename(mod->fns);
    CK_RV rv;

    if (file == NULL)
        return;
    mod->dl = dlopen(file, RTLD_NOW | RTLD_NOLOAD);
    free(file);
    if (mod->dl == NULL)
        return;
    get = (gp11_ck_GetInterface_fn)dlsym(mod->dl, "C_GetInterface");
    rv = get ? get((CK_UTF8CHAR *)"PKCS 11", &want, &iface, 0)
             : CKR_FUNCTION_NOT_SUPPORTED;
    f = rv == CKR_OK && iface ? iface->pFunctionList : NULL;
    GP11_DEBUG("C_GetInterface(PKCS 11, 3.0) -> %s", gp11_ckr_name(rv));
    if (f == NULL || f->v2.version.major < 3 ||
        (!mod->managed && f->v2.C_Encrypt != mod->fns->C_Encrypt) ||
        !f->C_MessageEncryptInit || !f->C_EncryptMessage ||
        !f->C_MessageEncryptFinal || !f->C_MessageDecryptInit ||
        !f->C_DecryptMessage || !f->C_MessageDecryptFinal) {
        dlclose(mod->dl);
        mod->dl = NULL;
        return;
    }
    mod->fns3 = f;
}

/* Finds an already loaded module with the same path and parameters. */
static struct gp11_module *find_loaded(const char *module,
                                       const char *init_params)
{
    for (struct gp11_module *m = modules; m; m = m->next) {
        bool same_params = (m->init_params == NULL && init_params == NULL) ||
                           (m->init_params && init_params &&
                            strcmp(m->init_params, init_params) == 0);

        if (strcmp(m->path, module) == 0 && same_params)
            return m;
    }
    return NULL;
}

/* Unloads a module that is not (or no longer) initialised by us. */
static void unload(struct gp11_module *mod, bool finalize)
{
    if (mod->registry) {
        if (finalize)
            p11_kit_module_finalize(mod->fns);
        p11_kit_modules_release(mod->registry);
    } else if (mod->fns) {
        if (finalize && mod->managed)
            p11_kit_module_finalize(mod->fns);
        else if (finalize)
            mod->fns->C_Finalize(NULL);
        p11_kit_module_release(mod->fns);
    }
    if (mod->dl)
        dlclose(mod->dl);
    pthread_mutex_destroy(&mod->lock);
    free(mod->path);
    free(mod->init_params);
    free(mod);
}

/* Creates, loads and initialises a new module record. */
static uint32_t load_new(const char *module, const char *init_params,
                         bool no_deinit, struct gp11_module **out)
{
    struct gp11_module *mod;
    uint32_t ret;
    CK_RV rv;

    mod = calloc(1, sizeof(*mod));
    if (mod == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&mod->lock, NULL);
    mod->no_deinit = no_deinit;
    mod->path = strdup(module);
    mod->init_params = init_params ? strdup(init_params) : NULL;
    if (mod->path == NULL || (init_params && mod->init_params == NULL)) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (strncmp(module, REGISTRY_PREFIX, strlen(REGISTRY_PREFIX)) == 0 &&
        init_params) {
        ret = gp11_err_set(GP11_ERR_MODULE_LOAD,
                           "module-init-params cannot be used with %s: put "
                           "x-init-reserved in its p11-kit .module file",
                           module);
    } else if (strncmp(module, REGISTRY_PREFIX, strlen(REGISTRY_PREFIX)) == 0) {
        ret = load_registered(mod, module + strlen(REGISTRY_PREFIX));
    } else {
        ret = load_file(mod, module);
    }
    if (ret != GP11_OK)
        goto done;
    rv = initialize(mod);
    if (rv != CKR_OK) {
        ret = gp11_err_ck(GP11_ERR_MODULE_INIT, rv, "C_Initialize",
                          "cannot initialise PKCS#11 module %s", module);
        goto done;
    }
    mod->generation = gp11_fork_generation();
    rv = gp11_ck_GetInfo(mod, &mod->info);
    if (rv != CKR_OK) {
        ret = gp11_err_ck(GP11_ERR_MODULE_INIT, rv, "C_GetInfo",
                          "PKCS#11 module %s does not describe itself", module);
        unload(mod, mod->finalize && !mod->no_deinit);
        mod = NULL;
        goto done;
    }
    find_interface_30(mod);
    mod->refs = 1;
    *out = mod;
    mod = NULL;
done:
    if (mod)
        unload(mod, false);
    return ret;
}

uint32_t gp11_module_load(const char *module, const char *init_params,
                          bool no_deinit, struct gp11_module **out)
{
    struct gp11_module *mod;
    uint32_t ret = GP11_OK;

    gp11_debug_init();
    pthread_once(&atfork_once, register_atfork);
    if (module == NULL || *module == '\0')
        return gp11_err_set(GP11_ERR_MODULE_LOAD,
                            "no PKCS#11 module is configured");
    pthread_mutex_lock(&modules_lock);
    mod = find_loaded(module, init_params);
    if (mod) {
        mod->refs++;
        mod->no_deinit |= no_deinit;
    } else {
        ret = load_new(module, init_params, no_deinit, &mod);
        if (ret == GP11_OK) {
            mod->next = modules;
            modules = mod;
        }
    }
    pthread_mutex_unlock(&modules_lock);
    if (ret == GP11_OK)
        *out = mod;
    return ret;
}

void gp11_module_release(struct gp11_module *mod)
{
    struct gp11_module **pp;
    bool last;

    if (mod == NULL)
        return;
    pthread_mutex_lock(&modules_lock);
    last = --mod->refs == 0;
    if (last) {
        for (pp = &modules; *pp; pp = &(*pp)->next) {
            if (*pp == mod) {
                *pp = mod->next;
                break;
            }
        }
    }
    pthread_mutex_unlock(&modules_lock);
    if (!last)
        return;
    /* Finalise only what this process initialised, honouring no-deinit. */
    unload(mod, mod->finalize && !mod->no_deinit &&
                    mod->generation == gp11_fork_generation());
}

uint32_t gp11_module_ensure(struct gp11_module *mod)
{
    unsigned gen = gp11_fork_generation();
    uint32_t ret = GP11_OK;
    CK_RV rv;

    pthread_mutex_lock(&mod->lock);
    if (mod->generation != gen) {
        GP11_DEBUG("re-initialising %s after fork", mod->path);
        rv = initialize(mod);
        if (rv == CKR_OK)
            mod->generation = gen;
        else
            ret = gp11_err_ck(GP11_ERR_MODULE_INIT, rv, "C_Initialize",
                              "cannot re-initialise PKCS#11 module %s in "
                              "the forked child",
                              mod->path);
    }
    pthread_mutex_unlock(&mod->lock);
    return ret;
}

const CK_INFO *gp11_module_info(const struct gp11_module *mod)
{
    return &mod->info;
}

const char *gp11_module_path(const struct gp11_module *mod)
{
    return mod->path;
}

void gp11_module_attach_token(struct gp11_module *mod, struct gp11_token *tok)
{
    pthread_mutex_lock(&modules_lock);
    tok->next_in_module = mod->tokens;
    mod->tokens = tok;
    pthread_mutex_unlock(&modules_lock);
}

void gp11_module_detach_token(struct gp11_module *mod, struct gp11_token *tok)
{
    pthread_mutex_lock(&modules_lock);
    for (struct gp11_token **pp = &mod->tokens; *pp;
         pp = &(*pp)->next_in_module) {
        if (*pp == tok) {
            *pp = tok->next_in_module;
            break;
        }
    }
    pthread_mutex_unlock(&modules_lock);
}
