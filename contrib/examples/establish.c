/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An application that knows nothing of gss-pkcs11 but its OID: it runs
 * both sides of a GSS-API context establishment through libgssapi_krb5
 * (which loads the mechanism named in GSS_MECH_CONFIG or /etc/gss/mech.d)
 * prints what each side got, protects a message with every QOP and shows
 * a tampered token being rejected.
 *
 *   gss-pkcs11-establish [service@host]     (default host@localhost)
 */
#include <gssapi/gssapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MECH_OID                                                               \
    "1.2.840.113556.1.8000.2554.699.53753.52470.19374.43690.12206812.14507593"

/* Prints a status and exits. */
static void die(const char *what, OM_uint32 major, OM_uint32 minor)
{
    OM_uint32 ctx = 0, m;
    gss_buffer_desc msg;

    fflush(stdout); /* keep the output in order */
    fprintf(stderr, "%s failed:", what);
    gss_display_status(&m, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx, &msg);
    fprintf(stderr, " %.*s", (int)msg.length, (char *)msg.value);
    gss_release_buffer(&m, &msg);
    ctx = 0;
    if (minor != 0 &&
        !GSS_ERROR(gss_display_status(&m, minor, GSS_C_MECH_CODE, GSS_C_NO_OID,
                                      &ctx, &msg))) {
        fprintf(stderr, ": %.*s", (int)msg.length, (char *)msg.value);
        gss_release_buffer(&m, &msg);
    }
    fputc('\n', stderr);
    exit(1);
}

/* Prints a name in its display form. */
static void print_name(const char *label, gss_name_t name)
{
    gss_buffer_desc d;
    OM_uint32 m;

    if (GSS_ERROR(gss_display_name(&m, name, &d, NULL)))
        return;
    printf("  %-22s %.*s\n", label, (int)d.length, (char *)d.value);
    gss_release_buffer(&m, &d);
}

/* Prints the flags a context got. */
static void print_flags(const char *label, OM_uint32 f)
{
    static const struct {
        OM_uint32 bit;
        const char *name;
    } names[] = {
        {GSS_C_MUTUAL_FLAG, "mutual"},     {GSS_C_REPLAY_FLAG, "replay"},
        {GSS_C_SEQUENCE_FLAG, "sequence"}, {GSS_C_CONF_FLAG, "conf"},
        {GSS_C_INTEG_FLAG, "integ"},       {GSS_C_ANON_FLAG, "anon"},
        {GSS_C_TRANS_FLAG, "trans"}};

    printf("  %-22s", label);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (f & names[i].bit)
            printf(" %s", names[i].name);
    printf("\n");
}

/* Wraps and MICs a message with each QOP, then shows a tampered token
 * being rejected. */
static void protect_messages(gss_ctx_id_t ictx, gss_ctx_id_t actx)
{
    static const char *names[] = {
        "AES-256-GCM", "HMAC-SHA-256", "HMAC-SHA-384",     "HMAC-SHA-512",
        "AES-CMAC",    "AES-128-GCM",  "ChaCha20-Poly1305"};
    gss_buffer_desc msg = {26, (void *)"attack at dawn, by the sea"};
    gss_buffer_desc tok, back;
    OM_uint32 major, minor, m2, ctx = 0;
    gss_buffer_desc text;
    int conf;

    printf("Protecting a %zu-byte message (sizes in bytes):\n", msg.length);
    printf("  %-3s %-18s %5s %12s %12s\n", "QOP", "mechanism", "MIC",
           "wrap sealed", "wrap clear");
    for (gss_qop_t qop = 0; qop < 7; qop++) {
        size_t sizes[3] = {0, 0, 0};

        major = gss_get_mic(&minor, ictx, qop, &msg, &tok);
        if (major != GSS_S_COMPLETE) {
            printf("  %-3u %-18s not available on these tokens\n", qop,
                   names[qop]);
            continue;
        }
        sizes[0] = tok.length;
        major = gss_verify_mic(&minor, actx, &msg, &tok, NULL);
        gss_release_buffer(&minor, &tok);
        for (int c = 1; major == GSS_S_COMPLETE && c >= 0; c--) {
            if (gss_wrap(&minor, ictx, c, qop, &msg, &conf, &tok) !=
                GSS_S_COMPLETE)
                continue; /* integrity-only QOPs do not seal */
            sizes[2 - c] = tok.length;
            major = gss_unwrap(&minor, actx, &tok, &back, NULL, NULL);
            gss_release_buffer(&minor, &tok);
            gss_release_buffer(&minor, &back);
        }
        if (GSS_ERROR(major))
            die("checking a protected message", major, minor);
        printf("  %-3u %-18s %5zu ", qop, names[qop], sizes[0]);
        if (sizes[1])
            printf("%12zu ", sizes[1]);
        else
            printf("%12s ", "-");
        printf("%12zu\n", sizes[2]);
    }
    /* One flipped bit in a sealed token. */
    gss_wrap(&minor, ictx, 1, 0, &msg, &conf, &tok);
    ((unsigned char *)tok.value)[20] ^= 0x01;
    major = gss_unwrap(&minor, actx, &tok, &back, NULL, NULL);
    gss_release_buffer(&m2, &tok);
    gss_display_status(&m2, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx, &text);
    printf("Tampered token: %.*s", (int)text.length, (char *)text.value);
    gss_release_buffer(&m2, &text);
    ctx = 0;
    if (!GSS_ERROR(gss_display_status(&m2, minor, GSS_C_MECH_CODE, GSS_C_NO_OID,
                                      &ctx, &text))) {
        printf(": %.*s", (int)text.length, (char *)text.value);
        gss_release_buffer(&m2, &text);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *target_text = argc > 1 ? argv[1] : "host@localhost";
    gss_buffer_desc oid_text = {strlen(MECH_OID), (void *)MECH_OID};
    gss_buffer_desc tname = {strlen(target_text), (void *)target_text};
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    gss_name_t target = GSS_C_NO_NAME, src = GSS_C_NO_NAME;
    gss_name_t peer = GSS_C_NO_NAME;
    OM_uint32 major, minor, iflags = 0, aflags = 0, itime = 0, atime = 0;
    OM_uint32 imajor = GSS_S_CONTINUE_NEEDED, amajor = GSS_S_CONTINUE_NEEDED;
    gss_OID mech = GSS_C_NO_OID, amech = GSS_C_NO_OID;
    int leg = 0;

    major = gss_str_to_oid(&minor, &oid_text, &mech);
    if (GSS_ERROR(major))
        die("gss_str_to_oid", major, minor);
    major =
        gss_import_name(&minor, &tname, GSS_C_NT_HOSTBASED_SERVICE, &target);
    if (GSS_ERROR(major))
        die("gss_import_name", major, minor);
    printf("Establishing a context with %s\n", target_text);
    while (imajor == GSS_S_CONTINUE_NEEDED || amajor == GSS_S_CONTINUE_NEEDED) {
        if (++leg % 2) {
            imajor = gss_init_sec_context(
                &minor, GSS_C_NO_CREDENTIAL, &ictx, target, mech,
                GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG |
                    GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG,
                0, GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out, &iflags, &itime);
            if (GSS_ERROR(imajor))
                die("gss_init_sec_context", imajor, minor);
            printf("  initiator -> %4zu bytes (%s)\n", out.length,
                   imajor == GSS_S_COMPLETE ? "complete" : "continue");
        } else {
            amajor =
                gss_accept_sec_context(&minor, &actx, GSS_C_NO_CREDENTIAL, &in,
                                       GSS_C_NO_CHANNEL_BINDINGS, &src, &amech,
                                       &out, &aflags, &atime, NULL);
            if (GSS_ERROR(amajor))
                die("gss_accept_sec_context", amajor, minor);
            printf("  acceptor  -> %4zu bytes (%s)\n", out.length,
                   amajor == GSS_S_COMPLETE ? "complete" : "continue");
        }
        gss_release_buffer(&minor, &in);
        in = out;
        out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
        if (in.length == 0 && imajor == GSS_S_COMPLETE &&
            amajor == GSS_S_COMPLETE)
            break;
    }
    gss_release_buffer(&minor, &in);
    printf("Established:\n");
    if (!GSS_ERROR(gss_inquire_context(&minor, ictx, NULL, &peer, NULL, NULL,
                                       NULL, NULL, NULL)))
        print_name("initiator sees", peer);
    print_name("acceptor sees", src);
    print_flags("initiator flags", iflags);
    print_flags("acceptor flags", aflags);
    printf("  %-22s %u s / %u s\n", "lifetime (init/acc)", itime, atime);
    protect_messages(ictx, actx);
    gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);
    gss_release_name(&minor, &src);
    gss_release_name(&minor, &peer);
    gss_release_name(&minor, &target);
    gss_release_oid(&minor, &mech);
    return 0;
}
