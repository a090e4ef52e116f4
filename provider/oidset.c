/* SPDX-License-Identifier: Apache-2.0 */
/* OID sets allocated the way the mechglue's gss_release_oid_set frees. */
#include "gp11_gss.h"

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
