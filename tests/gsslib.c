/* SPDX-License-Identifier: Apache-2.0 */
/* Tests through the real mechglue: helpers. */
#include "gsslib.h"
#include "gp11_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gss_OID gl_mech(void)
{
    static gss_OID oid = GSS_C_NO_OID;
    gss_buffer_desc s = {strlen(GP11_MECH_OID), (void *)GP11_MECH_OID};
    OM_uint32 minor;

    if (oid == GSS_C_NO_OID)
        assert_int_equal(gss_str_to_oid(&minor, &s, &oid), GSS_S_COMPLETE);
    return oid;
}

gss_OID_set gl_mech_set(void)
{
    static gss_OID_set_desc set;

    set.count = 1;
    set.elements = gl_mech();
    return &set;
}

gss_name_t gl_service(const char *service_at_host)
{
    gss_buffer_desc b = {strlen(service_at_host), (void *)service_at_host};
    gss_name_t n = GSS_C_NO_NAME;
    OM_uint32 minor, major;

    major = gss_import_name(&minor, &b, GSS_C_NT_HOSTBASED_SERVICE, &n);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_import_name", major, minor);
    return n;
}

/* Appends every message of one status to buf. */
static void display(OM_uint32 code, int type, char *buf, size_t len)
{
    OM_uint32 ctx = 0, minor, major;
    gss_buffer_desc msg;
    size_t used = strlen(buf);

    do {
        major =
            gss_display_status(&minor, code, type, GSS_C_NO_OID, &ctx, &msg);
        if (GSS_ERROR(major))
            break;
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
                                 "%s%.*s", used ? "; " : "", (int)msg.length,
                                 (char *)msg.value);
        gss_release_buffer(&minor, &msg);
    } while (ctx != 0 && used < len);
}

void gl_minor_text(OM_uint32 minor, char *buf, size_t len)
{
    buf[0] = '\0';
    display(minor, GSS_C_MECH_CODE, buf, len);
}

void gl_fail(const char *what, OM_uint32 major, OM_uint32 minor)
{
    char buf[2048] = "";

    display(major, GSS_C_GSS_CODE, buf, sizeof(buf));
    display(minor, GSS_C_MECH_CODE, buf, sizeof(buf));
    fail_msg("%s: 0x%x/0x%x: %s", what, major, minor, buf);
}

bool gl_handshake(struct gl_hs *hs)
{
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor;
    bool idone = false, adone = false;

    if (hs->mech == GSS_C_NO_OID)
        hs->mech = gl_mech();
    for (hs->legs = 1; hs->legs <= 6; hs->legs++) {
        if (hs->legs % 2 && GSS_ERROR(hs->amajor) && hs->legs > 1) {
            /* Deliver the acceptor's ERROR token, then stop. */
            hs->imajor = gss_init_sec_context(
                &hs->iminor, hs->icred, &hs->ictx, hs->target, hs->mech,
                hs->req_flags, hs->time_req, hs->icb, &in, NULL, &out, &hs->iflags,
                &hs->itime);
            break;
        }
        if (hs->legs % 2) {
            hs->imajor = gss_init_sec_context(
                &hs->iminor, hs->icred, &hs->ictx, hs->target, hs->mech,
                hs->req_flags, hs->time_req, hs->icb, &in, NULL, &out, &hs->iflags,
                &hs->itime);
            gss_release_buffer(&minor, &in);
            if (GSS_ERROR(hs->imajor))
                break;
            idone = hs->imajor == GSS_S_COMPLETE;
        } else {
            hs->amajor = gss_accept_sec_context(
                &hs->aminor, &hs->actx, hs->acred, &in, hs->acb, &hs->src,
                &hs->amech_out, &out, &hs->aflags, &hs->atime, NULL);
            gss_release_buffer(&minor, &in);
            adone = hs->amajor == GSS_S_COMPLETE;
            /* A refusing acceptor may still send a token (ERROR), which
             * the initiator must see to report why. */
            if (GSS_ERROR(hs->amajor) && out.length == 0)
                break;
        }
        if (out.length == 0)
            break;
        if (hs->mutate)
            hs->mutate(hs->legs, &out, hs->arg);
        in = out;
        out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    }
    gss_release_buffer(&minor, &in);
    gss_release_buffer(&minor, &out);
    return idone && adone;
}

void gl_hs_release(struct gl_hs *hs)
{
    OM_uint32 minor;

    gss_delete_sec_context(&minor, &hs->ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &hs->actx, GSS_C_NO_BUFFER);
    gss_release_cred(&minor, &hs->icred);
    gss_release_cred(&minor, &hs->acred);
    gss_release_name(&minor, &hs->target);
    gss_release_name(&minor, &hs->src);
}
