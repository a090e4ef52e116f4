/* SPDX-License-Identifier: Apache-2.0 */
/* OID sets allocated the way the mechglue's gss_release_oid_set frees. */
#include "gp11_gss.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void gp11_oid_set_free(gss_OID_set set)
{
    if (set == GSS_C_NO_OID_SET)
        return;
    for (size_t i = 0; set->elements != NULL && i < set->count; i++)
        free(set->elements[i].elements);
    free(set->elements);
    free(set);
}

gss_OID_set gp11_oid_set_new(const gss_OID_desc *const *oids, size_t n)
{
    gss_OID_set set;

    set = calloc(1, sizeof(*set));
    if (set == NULL)
        return GSS_C_NO_OID_SET;
    set->elements = calloc(n ? n : 1, sizeof(*set->elements));
    if (set->elements == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        set->elements[i].elements = malloc(oids[i]->length);
        if (set->elements[i].elements == NULL)
            goto fail;
        memcpy(set->elements[i].elements, oids[i]->elements, oids[i]->length);
        set->elements[i].length = oids[i]->length;
        set->count = i + 1;
    }
    return set;
fail:
    gp11_oid_set_free(set);
    return GSS_C_NO_OID_SET;
}

/* Permanent copies of OIDs handed out in shallow sets: one per distinct
 * value, and the plugin returns only a few dozen (its mechanism, name
 * types, mechanism attributes). Never freed: they are reachable here. */
#define INTERN_MAX 64
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static gss_OID_desc interned[INTERN_MAX];
static size_t n_interned;

/* The permanent copy of oid, made on first use; NULL if none can be. */
static const gss_OID_desc *intern(const gss_OID_desc *oid)
{
    const gss_OID_desc *found = NULL;
    void *bytes;

    pthread_mutex_lock(&intern_lock);
    for (size_t i = 0; i < n_interned && found == NULL; i++)
        if (interned[i].length == oid->length &&
            memcmp(interned[i].elements, oid->elements, oid->length) == 0)
            found = &interned[i];
    if (found == NULL && n_interned < INTERN_MAX &&
        (bytes = malloc(oid->length ? oid->length : 1)) != NULL) {
        memcpy(bytes, oid->elements, oid->length);
        interned[n_interned].length = oid->length;
        interned[n_interned].elements = bytes;
        found = &interned[n_interned++];
    }
    pthread_mutex_unlock(&intern_lock);
    return found;
}

/* True if the loaded library named path is Heimdal's mechglue (or Apple's
 * GSS.framework, derived from it): it exports gss_mo_get, MIT's does not.
 * dlsym on its handle also searches what it links. */
static bool is_heimdal(const char *path)
{
    void *lib = path ? dlopen(path, RTLD_LAZY | RTLD_NOLOAD) : NULL;
    bool heimdal;

    if (lib == NULL)
        return false;
    heimdal = dlsym(lib, "gss_mo_get") != NULL;
    dlclose(lib);
    return heimdal;
}

/*
 * True if the code at caller will free the set shallowly. Heimdal's
 * gss_release_oid_set frees the set and its array, never the OIDs' bytes
 * (its mechanisms return static OIDs); MIT's frees every element's bytes.
 * Which one: the gss_release_oid_set the caller's code reaches, its own
 * when the caller is a mechglue, else the first its object links (a
 * mechglue may tail-call the plugin, leaving the application's address).
 */
static bool caller_frees_shallowly(const void *caller)
{
    Dl_info info, rel;
    bool shallow = false;
    void *lib, *release;

    if (caller == NULL || dladdr(caller, &info) == 0)
        return false;
    lib =
        info.dli_fname ? dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD) : NULL;
    if (lib == NULL)
        lib = dlopen(NULL, RTLD_LAZY); /* the main program */
    if (lib == NULL)
        return false;
    release = dlsym(lib, "gss_release_oid_set");
    if (release != NULL && dladdr(release, &rel) != 0)
        shallow = is_heimdal(rel.dli_fname);
    dlclose(lib);
    return shallow;
}

void gp11_oid_set_for_caller(OM_uint32 major, gss_OID_set *set,
                             const void *caller)
{
    const gss_OID_desc *keep;

    if (GSS_ERROR(major) || set == NULL || *set == GSS_C_NO_OID_SET ||
        !caller_frees_shallowly(caller))
        return;
    for (size_t i = 0; i < (*set)->count; i++) {
        keep = intern(&(*set)->elements[i]);
        if (keep == NULL)
            continue; /* left as it is: a leak, not a dangling pointer */
        free((*set)->elements[i].elements);
        (*set)->elements[i].elements = keep->elements;
    }
}
