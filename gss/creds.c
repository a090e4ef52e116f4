/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GSS-API credential calls: acquire_cred(_from) with the cred store
 * keys, release_cred, inquire_cred(_by_mech), add_cred, over the
 * engine's credentials (core/creds.c).
 */
#include "gp11_creds.h"
#include "gp11_error.h"
#include "gp11_gss.h"
#include "gp11_oid.h"

#include <string.h>

/* Cred store keys (gss_acquire_cred_from, docs/mechanism.md). */
#define STORE_IDENTITY "pkcs11-identity"
#define STORE_ANCHORS "trust-anchors"
#define STORE_INITIATOR_ANCHORS "initiator-anchors"
#define STORE_ACCEPTOR_ANCHORS "acceptor-anchors"
#define STORE_CRLS "trust-crls"

_Static_assert(GP11_CRED_BOTH == GSS_C_BOTH &&
                   GP11_CRED_INITIATE == GSS_C_INITIATE &&
                   GP11_CRED_ACCEPT == GSS_C_ACCEPT,
               "the engine's credential usages are gss_cred_usage_t's");

/* Reads our keys from a cred store; other mechanisms' keys are theirs. */
static void parse_store(gss_const_key_value_set_t kv,
                        struct gp11_cred_store *store)
{
    memset(store, 0, sizeof(*store));
    for (OM_uint32 i = 0; kv && i < kv->count; i++) {
        if (strcmp(kv->elements[i].key, STORE_IDENTITY) == 0)
            store->identity = kv->elements[i].value;
        else if (strcmp(kv->elements[i].key, STORE_ANCHORS) == 0)
            store->anchors = kv->elements[i].value;
        else if (strcmp(kv->elements[i].key, STORE_INITIATOR_ANCHORS) == 0)
            store->initiator_anchors = kv->elements[i].value;
        else if (strcmp(kv->elements[i].key, STORE_ACCEPTOR_ANCHORS) == 0)
            store->acceptor_anchors = kv->elements[i].value;
        else if (strcmp(kv->elements[i].key, STORE_CRLS) == 0)
            store->crls = kv->elements[i].value;
    }
}

/* True if the set is empty/absent or names our mechanism. */
static bool mech_requested(gss_OID_set mechs)
{
    if (mechs == GSS_C_NO_OID_SET)
        return true;
    for (size_t i = 0; i < mechs->count; i++)
        if (gp11_oid_equal(&mechs->elements[i], gp11_mech_oid()))
            return true;
    return false;
}

/* Seconds until t, 0 if past. */
static OM_uint32 seconds_until(time_t t)
{
    time_t now = time(NULL);

    return t > now ? (OM_uint32)(t - now) : 0;
}

OM_uint32 gp11_gss_acquire_cred_from(OM_uint32 *minor, gss_name_t name,
                                     OM_uint32 time_req, gss_OID_set mechs,
                                     gss_cred_usage_t usage,
                                     gss_const_key_value_set_t kv,
                                     gss_cred_id_t *cred_out,
                                     gss_OID_set *actual, OM_uint32 *time_rec)
{
    const gss_OID_desc *mech = gp11_mech_oid();
    struct gp11_cred_store store;
    struct gp11_cred *cred = NULL;
    uint32_t ret;

    (void)time_req; /* lifetime follows the certificates */
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (cred_out == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *cred_out = GSS_C_NO_CREDENTIAL;
    if (!mech_requested(mechs))
        return GSS_S_BAD_MECH;
    if (usage != GSS_C_INITIATE && usage != GSS_C_ACCEPT && usage != GSS_C_BOTH)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_BAD_ARG,
                                             "unknown credential usage %d",
                                             (int)usage));
    parse_store(kv, &store);
    ret = gp11_cred_obtain(gp11_name_from_gss(name), usage, &store, &cred);
    if (ret != GP11_OK)
        return gp11_fail(minor, ret);
    if (actual && (*actual = gp11_oid_set_new(&mech, 1)) == GSS_C_NO_OID_SET) {
        gp11_cred_free(cred);
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    }
    if (time_rec)
        *time_rec = seconds_until(cred->expiry);
    *cred_out = (gss_cred_id_t)cred;
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_acquire_cred(OM_uint32 *minor, gss_name_t name,
                                OM_uint32 time_req, gss_OID_set mechs,
                                gss_cred_usage_t usage, gss_cred_id_t *cred,
                                gss_OID_set *actual, OM_uint32 *time_rec)
{
    return gp11_gss_acquire_cred_from(minor, name, time_req, mechs, usage,
                                      GSS_C_NO_CRED_STORE, cred, actual,
                                      time_rec);
}

OM_uint32 gp11_gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred)
{
    if (minor)
        *minor = 0;
    if (cred == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    gp11_cred_free((struct gp11_cred *)*cred);
    *cred = GSS_C_NO_CREDENTIAL;
    return GSS_S_COMPLETE;
}

/* The credential to inquire: the given one, or a fresh default. */
static uint32_t cred_for_inquiry(gss_cred_id_t in, struct gp11_cred **cred,
                                 bool *temporary)
{
    *temporary = in == GSS_C_NO_CREDENTIAL;
    if (!*temporary) {
        *cred = (struct gp11_cred *)in;
        return GP11_OK;
    }
    return gp11_cred_acquire(NULL, GSS_C_INITIATE, NULL, cred);
}

OM_uint32 gp11_gss_inquire_cred_by_mech(OM_uint32 *minor, gss_cred_id_t in,
                                        gss_OID mech, gss_name_t *name,
                                        OM_uint32 *init_lifetime,
                                        OM_uint32 *accept_lifetime,
                                        gss_cred_usage_t *usage)
{
    struct gp11_cred *cred = NULL;
    struct gp11_name *copy = NULL;
    OM_uint32 life;
    bool temporary;
    uint32_t ret;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (mech != GSS_C_NO_OID && !gp11_oid_equal(mech, gp11_mech_oid()))
        return GSS_S_BAD_MECH;
    ret = cred_for_inquiry(in, &cred, &temporary);
    if (ret == GP11_OK && name && cred->n_ids > 0)
        ret = gp11_name_dup(cred->ids[0].name, &copy);
    if (ret != GP11_OK) {
        if (temporary)
            gp11_cred_free(cred);
        return gp11_fail(minor, ret);
    }
    life = seconds_until(cred->expiry);
    if (name)
        *name = (gss_name_t)copy;
    if (init_lifetime)
        *init_lifetime = cred->usage != GSS_C_ACCEPT ? life : 0;
    if (accept_lifetime)
        *accept_lifetime = cred->usage != GSS_C_INITIATE ? life : 0;
    if (usage)
        *usage = cred->usage;
    if (temporary)
        gp11_cred_free(cred);
    return life ? GSS_S_COMPLETE : GSS_S_CREDENTIALS_EXPIRED;
}

OM_uint32 gp11_gss_inquire_cred(OM_uint32 *minor, gss_cred_id_t in,
                                gss_name_t *name, OM_uint32 *lifetime,
                                gss_cred_usage_t *usage, gss_OID_set *mechs)
{
    const gss_OID_desc *mech = gp11_mech_oid();
    OM_uint32 major, il = 0, al = 0;
    gss_cred_usage_t u = GSS_C_BOTH;

    major = gp11_gss_inquire_cred_by_mech(minor, in, GSS_C_NO_OID, name, &il,
                                          &al, &u);
    if (GSS_ERROR(major))
        return major;
    if (lifetime)
        *lifetime = u == GSS_C_ACCEPT ? al : il;
    if (usage)
        *usage = u;
    if (mechs && (*mechs = gp11_oid_set_new(&mech, 1)) == GSS_C_NO_OID_SET) {
        if (name)
            gp11_gss_release_name(minor, name);
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    }
    return major;
}

/*
 * RFC 2743 2.1.4 for a mechanism with one element per credential: from
 * the default (GSS_C_NO_CREDENTIAL) a new credential of ours, like
 * gss_acquire_cred; a credential of ours already holds our element, so
 * GSS_S_DUPLICATE_ELEMENT. Heimdal's mechglue calls this; MIT's never
 * does (its gss_add_cred acquires through the mechanism instead).
 */
OM_uint32 gp11_gss_add_cred(OM_uint32 *minor, gss_cred_id_t in, gss_name_t name,
                            gss_OID mech, gss_cred_usage_t usage,
                            OM_uint32 itime_req, OM_uint32 atime_req,
                            gss_cred_id_t *out, gss_OID_set *actual,
                            OM_uint32 *itime, OM_uint32 *atime)
{
    OM_uint32 major, life = 0;

    (void)itime_req, (void)atime_req; /* lifetime follows the certificates */
    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (out)
        *out = GSS_C_NO_CREDENTIAL;
    if (actual)
        *actual = GSS_C_NO_OID_SET;
    if (itime)
        *itime = 0;
    if (atime)
        *atime = 0;
    if (mech != GSS_C_NO_OID && !gp11_oid_equal(mech, gp11_mech_oid()))
        return GSS_S_BAD_MECH;
    if (in != GSS_C_NO_CREDENTIAL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "add_cred: the credential already holds its "
                              "gss-pkcs11 element");
        return GSS_S_DUPLICATE_ELEMENT;
    }
    if (out == NULL) {
        *minor = gp11_err_set(GP11_ERR_BAD_ARG,
                              "add_cred: no output credential, and the "
                              "default credential cannot be modified");
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    }
    major = gp11_gss_acquire_cred(minor, name, 0, GSS_C_NO_OID_SET, usage, out,
                                  actual, &life);
    if (GSS_ERROR(major))
        return major;
    if (itime && usage != GSS_C_ACCEPT)
        *itime = life;
    if (atime && usage != GSS_C_INITIATE)
        *atime = life;
    return major;
}
