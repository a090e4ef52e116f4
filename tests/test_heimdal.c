/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gss-pkcs11 through Heimdal's mechglue (libgssapi.so.3, the GSS of
 * Heimdal 7.8 and of Apple's GSS.framework): built against Heimdal's
 * headers and linked to Heimdal's library only, never to MIT's. Heimdal
 * reads only /etc/gss/mech, so heimdal-ns.sh runs this program in a mount
 * namespace where the suite's mech file is mounted there.
 *
 * Both parties are in this process: alice initiates to host@localhost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <gssapi/gssapi.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp11_build_config.h"
#include "testlib.h"

/* Our mechanism OID and X.509-subject name type (the mech OID + arc 1). */
static unsigned char mech_bytes[128], x509_bytes[129];
static gss_OID_desc mech = {0, mech_bytes}, nt_x509 = {0, x509_bytes};
static gss_OID_set_desc mech_set = {1, &mech};

/* Encodes the dotted GP11_MECH_OID as DER content bytes into mech. */
static void parse_mech_oid(void)
{
    const char *p = GP11_MECH_OID;
    unsigned long long arc[64];
    size_t n = 0, len = 0;
    char *end;

    while (n < 64) {
        arc[n++] = strtoull(p, &end, 10);
        if (*end != '.')
            break;
        p = end + 1;
    }
    assert_true(n >= 2);
    arc[1] += arc[0] * 40;
    for (size_t i = 1; i < n; i++) {
        unsigned char tmp[10];
        size_t k = 0;

        do {
            tmp[k++] = (unsigned char)(arc[i] & 0x7f);
            arc[i] >>= 7;
        } while (arc[i] != 0);
        while (k > 0) {
            k--;
            mech_bytes[len++] = (unsigned char)(tmp[k] | (k ? 0x80 : 0));
        }
    }
    mech.length = (OM_uint32)len;
    memcpy(x509_bytes, mech_bytes, len);
    x509_bytes[len] = 0x01;
    nt_x509.length = (OM_uint32)len + 1;
}

/* Every message of a status, through Heimdal's gss_display_status. */
static void status_text(OM_uint32 code, int type, char *buf, size_t len)
{
    OM_uint32 minor, mctx = 0;
    gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;

    buf[0] = '\0';
    if (gss_display_status(&minor, code, type, &mech, &mctx, &msg) ==
        GSS_S_COMPLETE)
        snprintf(buf, len, "%.*s", (int)msg.length, (char *)msg.value);
    gss_release_buffer(&minor, &msg);
}

/* Fails the test with both statuses as Heimdal displays them. */
static void fail_status(const char *what, OM_uint32 major, OM_uint32 minor)
{
    char a[512], b[1024];

    status_text(major, GSS_C_GSS_CODE, a, sizeof(a));
    status_text(minor, GSS_C_MECH_CODE, b, sizeof(b));
    fail_msg("%s: 0x%x/0x%x: %s; %s", what, major, minor, a, b);
}

#define check(what, call)                                                      \
    do {                                                                       \
        OM_uint32 major_ = (call);                                             \
        if (major_ != GSS_S_COMPLETE)                                          \
            fail_status(what, major_, minor);                                  \
    } while (0)

static gss_name_t import(const char *text, gss_OID type)
{
    gss_buffer_desc b = {strlen(text), (void *)text};
    gss_name_t n = GSS_C_NO_NAME;
    OM_uint32 minor;

    check("gss_import_name", gss_import_name(&minor, &b, type, &n));
    return n;
}

/* Asserts a name's display form and (by value) its type. */
static void assert_name(gss_name_t n, const char *want, gss_OID want_type)
{
    gss_buffer_desc d;
    gss_OID type = GSS_C_NO_OID;
    OM_uint32 minor;

    check("gss_display_name", gss_display_name(&minor, n, &d, &type));
    if (d.length != strlen(want) || memcmp(d.value, want, d.length) != 0)
        fail_msg("name '%.*s', want '%s'", (int)d.length, (char *)d.value,
                 want);
    assert_non_null(type);
    assert_true(gss_oid_equal(type, want_type));
    gss_release_buffer(&minor, &d);
}

struct hs {
    gss_ctx_id_t ictx, actx;
    gss_cred_id_t icred, acred;
    gss_name_t target, src;
    gss_OID amech;
    OM_uint32 iflags, aflags, itime, atime;
    OM_uint32 imajor, iminor, amajor, aminor;
    int legs;
    /* Optional: alters the token of leg n before delivery. */
    void (*mutate)(int leg, gss_buffer_t tok);
};

/* Runs the handshake until both sides finish or one fails. */
static bool handshake(struct hs *h, OM_uint32 req)
{
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    bool idone = false, adone = false;
    OM_uint32 minor;

    if (h->target == GSS_C_NO_NAME)
        h->target = import("host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    for (h->legs = 1; h->legs <= 6; h->legs++) {
        if (h->legs % 2) {
            h->imajor =
                gss_init_sec_context(&h->iminor, h->icred, &h->ictx, h->target,
                                     &mech, req, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                     &in, NULL, &out, &h->iflags, &h->itime);
            idone = h->imajor == GSS_S_COMPLETE;
            if (GSS_ERROR(h->imajor))
                break;
        } else {
            h->amajor = gss_accept_sec_context(
                &h->aminor, &h->actx, h->acred, &in, GSS_C_NO_CHANNEL_BINDINGS,
                &h->src, &h->amech, &out, &h->aflags, &h->atime, NULL);
            adone = h->amajor == GSS_S_COMPLETE;
            if (GSS_ERROR(h->amajor))
                break;
        }
        gss_release_buffer(&minor, &in);
        if (out.length == 0)
            break;
        if (h->mutate)
            h->mutate(h->legs, &out);
        in = out;
        out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    }
    gss_release_buffer(&minor, &in);
    gss_release_buffer(&minor, &out);
    return idone && adone;
}

/* A handshake that must succeed. */
static void establish(struct hs *h, OM_uint32 req)
{
    if (!handshake(h, req))
        fail_status(GSS_ERROR(h->imajor) ? "initiator" : "acceptor",
                    GSS_ERROR(h->imajor) ? h->imajor : h->amajor,
                    GSS_ERROR(h->imajor) ? h->iminor : h->aminor);
}

static void hs_release(struct hs *h)
{
    OM_uint32 minor;

    gss_delete_sec_context(&minor, &h->ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &h->actx, GSS_C_NO_BUFFER);
    gss_release_cred(&minor, &h->icred);
    gss_release_cred(&minor, &h->acred);
    gss_release_name(&minor, &h->target);
    gss_release_name(&minor, &h->src);
}

/* Heimdal loaded the module: it skips one that lacks a required name. */
static void heimdal_loads_the_module(void **state)
{
    gss_OID_set mechs = GSS_C_NO_OID_SET, types = GSS_C_NO_OID_SET;
    gss_OID want[] = {GSS_C_NT_HOSTBASED_SERVICE, GSS_C_NT_USER_NAME,
                      GSS_C_NT_ANONYMOUS, GSS_C_NT_EXPORT_NAME, &nt_x509};
    OM_uint32 minor;
    int present = 0;

    (void)state;
    check("gss_indicate_mechs", gss_indicate_mechs(&minor, &mechs));
    gss_test_oid_set_member(&minor, &mech, mechs, &present);
    if (!present)
        fail_msg("Heimdal did not load gss_pkcs11.so from /etc/gss/mech");
    gss_release_oid_set(&minor, &mechs);
    /* Heimdal matches name types by value against this set. */
    check("gss_inquire_names_for_mech",
          gss_inquire_names_for_mech(&minor, &mech, &types));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        gss_test_oid_set_member(&minor, want[i], types, &present);
        assert_true(present);
    }
    gss_release_oid_set(&minor, &types);
}

/* A full context; names and their types; gss_inquire_context. */
static void context_and_inquiries(void **state)
{
    struct hs h = {0};
    gss_name_t src = GSS_C_NO_NAME, targ = GSS_C_NO_NAME;
    OM_uint32 minor, life = 0, flags = 0, t = 0;
    OM_uint32 want = GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG |
                     GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;
    gss_OID m = GSS_C_NO_OID;
    int local = -1, open = -1;

    (void)state;
    check("acquire acceptor",
          gss_acquire_cred(
              &minor,
              h.target = import("host@localhost", GSS_C_NT_HOSTBASED_SERVICE),
              0, &mech_set, GSS_C_ACCEPT, &h.acred, NULL, NULL));
    check("acquire initiator",
          gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, &mech_set, GSS_C_INITIATE,
                           &h.icred, NULL, NULL));
    assert_int_equal(tl_session_secret_keys(), 0);
    establish(&h, GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    /* Four keys per side in the token (send, receive, K_prf, QOP KDK),
     * the handshake's gone. */
    assert_int_equal(tl_session_secret_keys(), 8);
    assert_int_equal(h.legs, 5); /* INIT, ACCEPT, FINISH, CONFIRM, done */
    assert_int_equal(h.iflags & want, want);
    assert_int_equal(h.aflags & want, want);
    assert_true(h.itime > 0 && h.atime > 0);
    assert_true(gss_oid_equal(h.amech, &mech));
    assert_name(h.src, "alice@localhost", GSS_C_NT_USER_NAME);

    check("gss_context_time", gss_context_time(&minor, h.ictx, &t));
    assert_true(t > 0);
    check("inquire initiator",
          gss_inquire_context(&minor, h.ictx, &src, &targ, &life, &m, &flags,
                              &local, &open));
    assert_name(src, "alice@localhost", GSS_C_NT_USER_NAME);
    assert_name(targ, "host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    assert_true(local == 1 && open == 1 && life > 0);
    assert_int_equal(flags & want, want);
    assert_true(gss_oid_equal(m, &mech));
    gss_release_name(&minor, &src);
    gss_release_name(&minor, &targ);
    check("inquire acceptor",
          gss_inquire_context(&minor, h.actx, &src, &targ, NULL, NULL, NULL,
                              &local, &open));
    assert_name(src, "alice@localhost", GSS_C_NT_USER_NAME);
    assert_name(targ, "host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    assert_true(local == 0 && open == 1);
    gss_release_name(&minor, &src);
    gss_release_name(&minor, &targ);
    hs_release(&h);
    assert_int_equal(tl_session_secret_keys(), 0);
}

/* gss_inquire_cred and gss_inquire_cred_by_mech on both credentials. */
static void credential_queries(void **state)
{
    gss_cred_id_t icred = GSS_C_NO_CREDENTIAL, acred = GSS_C_NO_CREDENTIAL;
    gss_name_t target = import("host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    gss_name_t n = GSS_C_NO_NAME;
    gss_OID_set mechs = GSS_C_NO_OID_SET;
    gss_cred_usage_t usage = -1;
    OM_uint32 minor, life = 0, ilife = 1, alife = 0;
    int present = 0;

    (void)state;
    check("acquire initiator",
          gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, &mech_set, GSS_C_INITIATE,
                           &icred, NULL, NULL));
    check("acquire acceptor",
          gss_acquire_cred(&minor, target, 0, &mech_set, GSS_C_ACCEPT, &acred,
                           NULL, NULL));
    check("gss_inquire_cred",
          gss_inquire_cred(&minor, icred, &n, &life, &usage, &mechs));
    assert_name(n, "alice@localhost", GSS_C_NT_USER_NAME);
    assert_true(life > 0);
    assert_int_equal(usage, GSS_C_INITIATE);
    gss_test_oid_set_member(&minor, &mech, mechs, &present);
    assert_true(present);
    gss_release_oid_set(&minor, &mechs);
    gss_release_name(&minor, &n);
    check("gss_inquire_cred_by_mech",
          gss_inquire_cred_by_mech(&minor, acred, &mech, &n, &ilife, &alife,
                                   &usage));
    assert_name(n, "host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    assert_int_equal(ilife, 0);
    assert_true(alife > 0);
    assert_int_equal(usage, GSS_C_ACCEPT);
    gss_release_name(&minor, &n);
    gss_release_name(&minor, &target);
    gss_release_cred(&minor, &icred);
    gss_release_cred(&minor, &acred);
}

/* Heimdal's gss_inquire_mechs_for_name matches the name's type by value
 * against our gss_inquire_names_for_mech. */
static void mechs_for_name(void **state)
{
    gss_name_t n = import("host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    gss_OID_set mechs = GSS_C_NO_OID_SET;
    OM_uint32 minor;
    int present = 0;

    (void)state;
    check("gss_inquire_mechs_for_name",
          gss_inquire_mechs_for_name(&minor, n, &mechs));
    gss_test_oid_set_member(&minor, &mech, mechs, &present);
    assert_true(present);
    gss_release_oid_set(&minor, &mechs);
    gss_release_name(&minor, &n);
}

/* Asserts a token verifies on the peer and a flipped bit does not. */
static void mic_both_ways(gss_ctx_id_t a, gss_ctx_id_t b)
{
    gss_buffer_desc msg = {11, (void *)"hello world"}, mic;
    OM_uint32 minor;
    gss_qop_t qop = 99;

    check("gss_get_mic", gss_get_mic(&minor, a, GSS_C_QOP_DEFAULT, &msg, &mic));
    check("gss_verify_mic", gss_verify_mic(&minor, b, &msg, &mic, &qop));
    assert_int_equal(qop, GSS_C_QOP_DEFAULT);
    ((unsigned char *)mic.value)[mic.length - 1] ^= 1;
    assert_int_equal(
        GSS_ROUTINE_ERROR(gss_verify_mic(&minor, b, &msg, &mic, NULL)),
        GSS_S_BAD_SIG);
    gss_release_buffer(&minor, &mic);
}

/* Wraps with and without confidentiality, unwraps on the peer. */
static void wrap_both_ways(gss_ctx_id_t a, gss_ctx_id_t b)
{
    gss_buffer_desc msg = {12, (void *)"secret thing"}, tok, back;
    OM_uint32 minor;
    int conf;

    for (int want = 0; want <= 1; want++) {
        check("gss_wrap",
              gss_wrap(&minor, a, want, GSS_C_QOP_DEFAULT, &msg, &conf, &tok));
        assert_int_equal(conf, want);
        if (want)
            assert_null(memmem(tok.value, tok.length, msg.value, msg.length));
        check("gss_unwrap", gss_unwrap(&minor, b, &tok, &back, &conf, NULL));
        assert_int_equal(conf, want);
        assert_int_equal(back.length, msg.length);
        assert_memory_equal(back.value, msg.value, msg.length);
        gss_release_buffer(&minor, &tok);
        gss_release_buffer(&minor, &back);
    }
}

static void per_message(void **state)
{
    struct hs h = {0};
    OM_uint32 minor, max = 0;

    (void)state;
    establish(&h, GSS_C_MUTUAL_FLAG);
    mic_both_ways(h.ictx, h.actx);
    mic_both_ways(h.actx, h.ictx);
    wrap_both_ways(h.ictx, h.actx);
    wrap_both_ways(h.actx, h.ictx);
    check(
        "gss_wrap_size_limit",
        gss_wrap_size_limit(&minor, h.ictx, 1, GSS_C_QOP_DEFAULT, 4096, &max));
    assert_true(max > 0 && max < 4096);
    hs_release(&h);
}

/* The version-1 names Heimdal keeps (and Apple's GSS.framework). */
static void version_1_names(void **state)
{
    gss_buffer_desc msg = {7, (void *)"v1 call"}, tok, back;
    struct hs h = {0};
    OM_uint32 minor;
    int conf = -1, qop = -1;

    (void)state;
    establish(&h, 0);
    check("gss_sign", gss_sign(&minor, h.ictx, GSS_C_QOP_DEFAULT, &msg, &tok));
    check("gss_verify", gss_verify(&minor, h.actx, &msg, &tok, &qop));
    assert_int_equal(qop, GSS_C_QOP_DEFAULT);
    gss_release_buffer(&minor, &tok);
    check("gss_seal",
          gss_seal(&minor, h.actx, 1, GSS_C_QOP_DEFAULT, &msg, &conf, &tok));
    assert_int_equal(conf, 1);
    conf = -1;
    check("gss_unseal", gss_unseal(&minor, h.ictx, &tok, &back, &conf, &qop));
    assert_int_equal(conf, 1);
    assert_int_equal(back.length, msg.length);
    assert_memory_equal(back.value, msg.value, msg.length);
    gss_release_buffer(&minor, &tok);
    gss_release_buffer(&minor, &back);
    hs_release(&h);
}

/* gss_wrap_iov / gss_unwrap_iov, optional entry points Heimdal finds. */
static void iov(void **state)
{
    char data[] = "in place, in the token";
    gss_iov_buffer_desc v[3];
    struct hs h = {0};
    OM_uint32 minor;
    int conf = -1;

    (void)state;
    establish(&h, 0);
    v[0].type = GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
    v[0].buffer = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    v[1].type = GSS_IOV_BUFFER_TYPE_DATA;
    v[1].buffer.length = sizeof(data) - 1;
    v[1].buffer.value = data;
    v[2].type = GSS_IOV_BUFFER_TYPE_TRAILER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
    v[2].buffer = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    check("gss_wrap_iov",
          gss_wrap_iov(&minor, h.ictx, 1, GSS_C_QOP_DEFAULT, &conf, v, 3));
    assert_int_equal(conf, 1);
    assert_true(memcmp(data, "in place", 8) != 0);
    conf = -1;
    check("gss_unwrap_iov", gss_unwrap_iov(&minor, h.actx, &conf, NULL, v, 3));
    assert_int_equal(conf, 1);
    assert_string_equal(data, "in place, in the token");
    gss_release_iov_buffer(&minor, v, 3);
    /* gss_wrap_iov_length sizes the header and trailer. */
    v[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
    v[0].buffer = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    v[2].type = GSS_IOV_BUFFER_TYPE_TRAILER;
    v[2].buffer = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    check(
        "gss_wrap_iov_length",
        gss_wrap_iov_length(&minor, h.ictx, 1, GSS_C_QOP_DEFAULT, &conf, v, 3));
    assert_true(v[0].buffer.length + v[2].buffer.length > 0);
    /* Heimdal's gss_wrap_aead / gss_unwrap_aead, over the IOV calls: the
     * associated data is authenticated, not carried. */
    {
        gss_buffer_desc ad = {6, (void *)"header"},
                        other = {6, (void *)"HEADER"};
        gss_buffer_desc msg = {4, (void *)"body"}, tok, back;

        check("gss_wrap_aead",
              gss_wrap_aead(&minor, h.ictx, 1, GSS_C_QOP_DEFAULT, &ad, &msg,
                            &conf, &tok));
        assert_int_equal(conf, 1);
        check("gss_unwrap_aead",
              gss_unwrap_aead(&minor, h.actx, &tok, &ad, &back, &conf, NULL));
        assert_int_equal(back.length, msg.length);
        assert_memory_equal(back.value, msg.value, msg.length);
        gss_release_buffer(&minor, &back);
        gss_release_buffer(&minor, &tok);
        check("gss_wrap_aead",
              gss_wrap_aead(&minor, h.ictx, 1, GSS_C_QOP_DEFAULT, &ad, &msg,
                            &conf, &tok));
        assert_true(GSS_ERROR(
            gss_unwrap_aead(&minor, h.actx, &tok, &other, &back, &conf, NULL)));
        gss_release_buffer(&minor, &tok);
    }
    hs_release(&h);
}

/* Heimdal's gss_userok asks gssspi_authorize_localname: the peer may log
 * in exactly as its gss_localname account. Heimdal first imports the user
 * name in every mechanism, its own Kerberos included, which needs a
 * default realm (main sets KRB5_CONFIG to tests/data/
 * krb5-default-realm.conf); without one gss_userok is 0 for everybody. */
static void userok_is_the_local_account(void **state)
{
    struct hs h = {0};

    (void)state;
    if (getenv("KRB5_CONFIG") == NULL)
        skip();
    establish(&h, 0);
    assert_int_equal(gss_userok(h.src, "alice"), 1);
    assert_int_equal(gss_userok(h.src, "alicex"), 0);
    assert_int_equal(gss_userok(h.src, "alic"), 0);
    assert_int_equal(gss_userok(h.src, "bob"), 0);
    hs_release(&h);
}

/* gss_localname, and the mechanism-level queries Heimdal forwards (its
 * API-as-SPI compatibility: the module has no gss_mo_init). */
static void mechanism_queries(void **state)
{
    static gss_OID_desc auth_init_anon = {
        7, (void *)"\x2b\x06\x01\x05\x05\x0d\x0e"};
    static gss_OID_desc auth_targ = {7, (void *)"\x2b\x06\x01\x05\x05\x0d\x0b"};
    gss_buffer_desc local, sasl, name, desc;
    gss_OID_set attrs = GSS_C_NO_OID_SET;
    gss_OID back = GSS_C_NO_OID;
    struct hs h = {0};
    OM_uint32 minor;
    int present = 0;

    (void)state;
    establish(&h, 0);
    check("gss_localname", gss_localname(&minor, h.src, &mech, &local));
    assert_int_equal(local.length, 5);
    assert_memory_equal(local.value, "alice", 5);
    gss_release_buffer(&minor, &local);
    hs_release(&h);

    check("gss_inquire_attrs_for_mech",
          gss_inquire_attrs_for_mech(&minor, &mech, &attrs, NULL));
    gss_test_oid_set_member(&minor, &auth_targ, attrs, &present);
    assert_true(present);
    /* allow-anonymous = no in this configuration */
    gss_test_oid_set_member(&minor, &auth_init_anon, attrs, &present);
    assert_false(present);
    gss_release_oid_set(&minor, &attrs);
    check("gss_inquire_saslname_for_mech",
          gss_inquire_saslname_for_mech(&minor, &mech, &sasl, &name, &desc));
    assert_int_equal(sasl.length, 15);
    assert_memory_equal(sasl.value, "GS2-", 4);
    assert_int_equal(name.length, 10);
    assert_memory_equal(name.value, "gss-pkcs11", 10);
    check("gss_inquire_mech_for_saslname",
          gss_inquire_mech_for_saslname(&minor, &sasl, &back));
    assert_true(gss_oid_equal(back, &mech));
    gss_release_buffer(&minor, &sasl);
    gss_release_buffer(&minor, &name);
    gss_release_buffer(&minor, &desc);
}

/* Flips the last byte of the initiator's FINISH token. */
static void flip_finish(int leg, gss_buffer_t tok)
{
    if (leg == 3)
        ((unsigned char *)tok->value)[tok->length - 1] ^= 0x01;
}

/*
 * Heimdal asks the mechanism for the text of a failure's statuses when it
 * happens (with an uninitialised message context) and gss_display_status
 * returns that text: our sentence, not "unknown mech-code".
 */
static void display_status_of_a_failure(void **state)
{
    struct hs h = {0};
    char text[1024];
    gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor, mctx = 12345;

    (void)state;
    h.mutate = flip_finish;
    assert_false(handshake(&h, 0));
    assert_true(GSS_ERROR(h.amajor));
    assert_int_not_equal(h.aminor, 0);
    status_text(h.aminor, GSS_C_MECH_CODE, text, sizeof(text));
    if (strstr(text, "key confirmation MAC does not verify") == NULL)
        fail_msg("minor 0x%x displays as '%s'", h.aminor, text);
    assert_null(strstr(text, "unknown mech-code"));
    /* The major status too: the mechanism's sentence, as Heimdal asked
     * for it when the call failed. */
    assert_int_equal(h.amajor, GSS_S_DEFECTIVE_TOKEN);
    status_text(h.amajor, GSS_C_GSS_CODE, text, sizeof(text));
    if (strcmp(text, "a token was invalid") != 0)
        fail_msg("major 0x%x displays as '%s'", h.amajor, text);
    /* Any message context a caller passes is a fresh call. */
    assert_int_equal(gss_display_status(&minor, h.aminor, GSS_C_MECH_CODE,
                                        &mech, &mctx, &msg),
                     GSS_S_COMPLETE);
    assert_int_equal(mctx, 0);
    gss_release_buffer(&minor, &msg);
    hs_release(&h);
}

/* gss_add_cred (RFC 2743 2.1.4) for our mechanism: a new credential
 * when there is none, GSS_S_DUPLICATE_ELEMENT when ours is already in. */
static void add_cred(void **state)
{
    struct hs h = {0};
    gss_cred_id_t dup = GSS_C_NO_CREDENTIAL;
    gss_OID_set actual = GSS_C_NO_OID_SET;
    OM_uint32 minor, major, itime = 1, atime = 0;
    int present = 0;

    (void)state;
    h.target = import("host@localhost", GSS_C_NT_HOSTBASED_SERVICE);
    check("gss_add_cred accept",
          gss_add_cred(&minor, GSS_C_NO_CREDENTIAL, h.target, &mech,
                       GSS_C_ACCEPT, 0, 0, &h.acred, &actual, &itime, &atime));
    gss_test_oid_set_member(&minor, &mech, actual, &present);
    assert_true(present);
    assert_int_equal(itime, 0);
    assert_true(atime > 0);
    gss_release_oid_set(&minor, &actual);
    check("gss_add_cred initiate",
          gss_add_cred(&minor, GSS_C_NO_CREDENTIAL, GSS_C_NO_NAME, &mech,
                       GSS_C_INITIATE, 0, 0, &h.icred, NULL, &itime, &atime));
    assert_true(itime > 0);
    assert_int_equal(atime, 0);
    /* The credentials work. */
    establish(&h, 0);
    major = gss_add_cred(&minor, h.acred, h.target, &mech, GSS_C_ACCEPT, 0, 0,
                         &dup, NULL, NULL, NULL);
    assert_int_equal(major, GSS_S_DUPLICATE_ELEMENT);
    assert_null(dup);
    hs_release(&h);
}

/*
 * Calls we do not implement are absent from the module, so Heimdal
 * answers them itself, cleanly. (A module linked to MIT's library handed
 * Heimdal MIT's gss_pseudo_random, which crashed.)
 */
static void unimplemented_calls_fail_cleanly(void **state)
{
    static gss_OID_desc some_oid = {6, (void *)"\x2b\x06\x01\x04\x01\x01"};
    gss_buffer_desc in = {4, (void *)"seed"}, out1, out2;
    gss_buffer_set_t data = GSS_C_NO_BUFFER_SET;
    struct hs h = {0};
    OM_uint32 minor, major, major2;

    (void)state;
    establish(&h, 0);
    major =
        gss_pseudo_random(&minor, h.ictx, GSS_C_PRF_KEY_FULL, &in, 32, &out1);
    if (major == GSS_S_COMPLETE) {
        major2 = gss_pseudo_random(&minor, h.actx, GSS_C_PRF_KEY_FULL, &in, 32,
                                   &out2);
        assert_int_equal(major2, GSS_S_COMPLETE);
        assert_int_equal(out1.length, 32);
        assert_int_equal(out2.length, 32);
        assert_memory_equal(out1.value, out2.value, 32);
        gss_release_buffer(&minor, &out1);
        gss_release_buffer(&minor, &out2);
    } else {
        assert_int_equal(major, GSS_S_UNAVAILABLE);
    }
    major = gss_inquire_sec_context_by_oid(&minor, h.ictx, &some_oid, &data);
    assert_true(GSS_ERROR(major));
    assert_null(data);
    hs_release(&h);
}

/* RFC 6680 name attributes through Heimdal: the initiator's certificate
 * as an authenticated attribute of the acceptor's source name. */
static void name_attributes(void **state)
{
    gss_buffer_desc attr = {sizeof("urn:gss-pkcs11:x509:san:email") - 1,
                            (void *)"urn:gss-pkcs11:x509:san:email"};
    gss_buffer_desc value = {0, NULL}, display = {0, NULL};
    gss_buffer_set_t attrs = GSS_C_NO_BUFFER_SET;
    gss_OID mn_mech = GSS_C_NO_OID;
    struct hs h = {0};
    OM_uint32 minor, major;
    int is_mn = -1, authenticated = -1, complete = -1, more = -1;
    bool listed = false;

    (void)state;
    establish(&h, 0);
    major = gss_inquire_name(&minor, h.src, &is_mn, &mn_mech, &attrs);
    if (major != GSS_S_COMPLETE)
        fail_status("gss_inquire_name", major, minor);
    assert_int_equal(is_mn, 1);
    assert_true(gss_oid_equal(mn_mech, &mech));
    for (size_t i = 0; attrs != NULL && i < attrs->count; i++)
        listed |=
            attrs->elements[i].length == attr.length &&
            memcmp(attrs->elements[i].value, attr.value, attr.length) == 0;
    assert_true(listed);
    gss_release_buffer_set(&minor, &attrs);
    major = gss_get_name_attribute(&minor, h.src, &attr, &authenticated,
                                   &complete, &value, &display, &more);
    if (major != GSS_S_COMPLETE)
        fail_status("gss_get_name_attribute", major, minor);
    assert_int_equal(authenticated, 1);
    assert_int_equal(value.length, strlen("alice@localhost"));
    assert_memory_equal(value.value, "alice@localhost", value.length);
    gss_release_buffer(&minor, &value);
    gss_release_buffer(&minor, &display);
    hs_release(&h);
}

/* Context export and import through Heimdal's mechglue (run with
 * export.conf: allow-export = yes): the imported initiator continues the
 * sequence numbers both ways, and a blob imports only once. */
static void export_import(void **state)
{
    struct hs h = {0};
    gss_buffer_desc blob = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t moved = GSS_C_NO_CONTEXT, again = GSS_C_NO_CONTEXT;
    OM_uint32 minor, major;

    (void)state;
    establish(&h, GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG);
    assert_true(h.iflags & GSS_C_TRANS_FLAG);
    wrap_both_ways(h.ictx, h.actx);
    major = gss_export_sec_context(&minor, &h.ictx, &blob);
    if (major != GSS_S_COMPLETE)
        fail_status("gss_export_sec_context", major, minor);
    assert_true(h.ictx == GSS_C_NO_CONTEXT);
    major = gss_import_sec_context(&minor, &blob, &moved);
    if (major != GSS_S_COMPLETE)
        fail_status("gss_import_sec_context", major, minor);
    wrap_both_ways(moved, h.actx);
    mic_both_ways(moved, h.actx);
    major = gss_import_sec_context(&minor, &blob, &again);
    assert_true(GSS_ERROR(major));
    assert_true(again == GSS_C_NO_CONTEXT);
    gss_release_buffer(&minor, &blob);
    gss_delete_sec_context(&minor, &moved, GSS_C_NO_BUFFER);
    hs_release(&h);
}

/* The module Heimdal loaded, by the path /etc/gss/mech names. */
static void *loaded_module(void)
{
    char line[1024], name[64], oid[256], path[512];
    void *dl = NULL;
    FILE *f = fopen("/etc/gss/mech", "r");

    assert_non_null(f);
    while (dl == NULL && fgets(line, sizeof(line), f))
        if (sscanf(line, "%63s %255s %511s", name, oid, path) == 3 &&
            strcmp(oid, GP11_MECH_OID) == 0)
            dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    fclose(f);
    assert_non_null(dl);
    return dl;
}

/*
 * The module lays out the OID sets it returns to Heimdal's code (this
 * program calls Heimdal's gss_release_oid_set) as Heimdal frees them, and
 * only when it wrote them: a failing call leaves the caller's variable
 * alone, whatever it holds.
 */
static void output_sets_untouched_on_failure(void **state)
{
    typedef OM_uint32 (*acquire_fn)(
        OM_uint32 *, gss_name_t, OM_uint32, gss_OID_set, gss_cred_usage_t,
        gss_cred_id_t *, gss_OID_set *, OM_uint32 *);
    typedef OM_uint32 (*release_cred_fn)(OM_uint32 *, gss_cred_id_t *);
    release_cred_fn release_cred;
    static gss_OID_desc krb5 = {9,
                                (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
    gss_OID_set_desc krb5_only = {1, &krb5};
    gss_OID_set garbage = (gss_OID_set)(uintptr_t)0x10, actual;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    void *dl = loaded_module();
    acquire_fn acquire = (acquire_fn)dlsym(dl, "gss_acquire_cred");
    OM_uint32 minor;
    int present = 0;

    (void)state;
    assert_non_null(acquire);
    assert_int_equal(acquire(&minor, GSS_C_NO_NAME, 0, &krb5_only,
                             GSS_C_INITIATE, &cred, &garbage, NULL),
                     GSS_S_BAD_MECH);
    assert_ptr_equal(garbage, (gss_OID_set)(uintptr_t)0x10);
    /* And on success, a set Heimdal's gss_release_oid_set can free. */
    check("acquire", acquire(&minor, GSS_C_NO_NAME, 0, &mech_set,
                             GSS_C_INITIATE, &cred, &actual, NULL));
    gss_test_oid_set_member(&minor, &mech, actual, &present);
    assert_true(present);
    gss_release_oid_set(&minor, &actual);
    release_cred = (release_cred_fn)dlsym(dl, "gss_release_cred");
    assert_non_null(release_cred);
    release_cred(&minor, &cred);
    dlclose(dl);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest export_tests[] = {
        cmocka_unit_test(export_import),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heimdal_loads_the_module),
        cmocka_unit_test(context_and_inquiries),
        cmocka_unit_test(credential_queries),
        cmocka_unit_test(mechs_for_name),
        cmocka_unit_test(per_message),
        cmocka_unit_test(version_1_names),
        cmocka_unit_test(iov),
        cmocka_unit_test(mechanism_queries),
        cmocka_unit_test(userok_is_the_local_account),
        cmocka_unit_test(display_status_of_a_failure),
        cmocka_unit_test(add_cred),
        cmocka_unit_test(unimplemented_calls_fail_cleanly),
        cmocka_unit_test(name_attributes),
        cmocka_unit_test(output_sets_untouched_on_failure),
    };

    /* "installed": tests/install-mit.sh, with the installed files in
     * place and no environment; otherwise the build tree's files. */
    bool installed = argc > 1 && strcmp(argv[1], "installed") == 0;

    if (!installed && getenv("GSS_PKCS11_CONF") == NULL) {
        fprintf(stderr, "GSS_PKCS11_CONF is not set (run via meson test)\n");
        return 1;
    }
    if (!installed && getenv("GP11_SOURCE_ROOT") &&
        getenv("KRB5_CONFIG") == NULL) {
        char conf[4096];

        snprintf(conf, sizeof(conf), "%s/tests/data/krb5-default-realm.conf",
                 getenv("GP11_SOURCE_ROOT"));
        setenv("KRB5_CONFIG", conf, 1);
    }
    parse_mech_oid();
    if (argc > 1 && strcmp(argv[1], "export") == 0)
        return cmocka_run_group_tests_name("heimdal-export", export_tests, NULL,
                                           NULL);
    return cmocka_run_group_tests_name("heimdal", tests, NULL, NULL);
}
