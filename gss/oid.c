/* SPDX-License-Identifier: Apache-2.0 */
/* The mechanism OID as a gss_OID_desc over the core's bytes. */
#include "gp11_oid.h"

#include <pthread.h>
#include <string.h>

static pthread_once_t mech_once = PTHREAD_ONCE_INIT;
static gss_OID_desc mech_desc;
static bool mech_valid;

/* pthread_once routine: points mech_desc at the core's bytes. */
static void mech_init(void)
{
    const struct gp11_buf *der = gp11_mech_oid_der();

    if (der == NULL)
        return;
    mech_desc.length = (OM_uint32)der->len;
    mech_desc.elements = (void *)der->data;
    mech_valid = true;
}

const gss_OID_desc *gp11_mech_oid(void)
{
    if (pthread_once(&mech_once, mech_init) != 0 || !mech_valid)
        return NULL;
    return &mech_desc;
}

bool gp11_oid_equal(const gss_OID_desc *a, const gss_OID_desc *b)
{
    if (a == b)
        return true;
    if (a == NULL || b == NULL || a->length != b->length)
        return false;
    if (a->length == 0)
        return true;
    if (a->elements == NULL || b->elements == NULL)
        return false;
    return memcmp(a->elements, b->elements, a->length) == 0;
}
