/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token loss through MIT's mechglue (issue 10 items 1 and 10): the plugin
 * uses the suite's token through the fault module (GP11_RECOVERY_CONF
 * points its module there), which logs the application out behind its
 * back, closes all sessions (re-insertion) or plays a removed token. For
 * each: what an established context does, that new contexts work (with
 * credentials acquired before the loss and with new ones), that errors
 * name the PKCS#11 call and its CKR_*, and that no session object and no
 * session is left behind. The test inspects the token through its own
 * token-layer handle on the real module.
 */
#include "gsslib.h"
#include "testlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The test's own view of the token (the real module, logged in). */
static struct gp11_token *inspect;

/* Session objects this process has on the token (the plugin's keys). */
static size_t session_objects(void)
{
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_TOKEN, &no, sizeof(no)}};
    struct gp11_object *objs = NULL;
    size_t n = 0;

    tl_assert_err(gp11_token_login(inspect), GP11_OK);
    tl_assert_err(gp11_object_find(inspect, t, 1, &objs, &n), GP11_OK);
    free(objs);
    return n;
}

/* Sessions the plugin holds (open through the fault module). */
static long plugin_sessions(void)
{
    void *dl = dlopen(getenv("GP11_FAULT_MODULE"), RTLD_NOW | RTLD_NOLOAD);
    long (*count)(void);

    assert_non_null(dl);
    count = (long (*)(void))dlsym(dl, "gp11_fault_sessions");
    assert_non_null(count);
    dlclose(dl);
    return count();
}

struct creds {
    gss_cred_id_t init, acc;
};

/* Acquires alice's initiator and host@localhost's acceptor credential. */
static void acquire(struct creds *c)
{
    gss_name_t svc = gl_service("host@localhost");
    OM_uint32 major, minor;

    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                             GSS_C_INITIATE, &c->init, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_acquire_cred(initiate)", major, minor);
    major = gss_acquire_cred(&minor, svc, 0, gl_mech_set(), GSS_C_ACCEPT,
                             &c->acc, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_acquire_cred(accept)", major, minor);
    gss_release_name(&minor, &svc);
}

static void release_creds(struct creds *c)
{
    OM_uint32 minor;

    gss_release_cred(&minor, &c->init);
    gss_release_cred(&minor, &c->acc);
}

/* Runs a handshake with the given credentials (none: the defaults). */
static bool pair_up(struct gl_hs *hs, const struct creds *c)
{
    memset(hs, 0, sizeof(*hs));
    if (c) {
        hs->icred = c->init;
        hs->acred = c->acc;
    }
    hs->target = gl_service("host@localhost");
    return gl_handshake(hs);
}

/* Releases a context pair (not the credentials it was given). */
static void pair_release(struct gl_hs *hs, const struct creds *c)
{
    if (c) {
        hs->icred = GSS_C_NO_CREDENTIAL;
        hs->acred = GSS_C_NO_CREDENTIAL;
    }
    gl_hs_release(hs);
}

/* A handshake that must work; released at once. */
static void new_pair_works(const struct creds *c, const char *what)
{
    struct gl_hs hs;

    if (!pair_up(&hs, c)) {
        if (GSS_ERROR(hs.imajor))
            gl_fail(what, hs.imajor, hs.iminor);
        gl_fail(what, hs.amajor, hs.aminor);
    }
    pair_release(&hs, c);
}

/* Wrap on one side, unwrap on the other, and a MIC: the first failing
 * major status (minor in *minor), GSS_S_COMPLETE if all worked. */
static OM_uint32 exchange(gss_ctx_id_t from, gss_ctx_id_t to, OM_uint32 *minor)
{
    gss_buffer_desc msg = {5, "hello"}, tok = GSS_C_EMPTY_BUFFER,
                    out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, m2;

    major = gss_wrap(minor, from, 1, GSS_C_QOP_DEFAULT, &msg, NULL, &tok);
    if (major == GSS_S_COMPLETE)
        major = gss_unwrap(minor, to, &tok, &out, NULL, NULL);
    if (major == GSS_S_COMPLETE)
        assert_memory_equal(out.value, "hello", 5);
    gss_release_buffer(&m2, &tok);
    gss_release_buffer(&m2, &out);
    if (major != GSS_S_COMPLETE)
        return major;
    major = gss_get_mic(minor, from, GSS_C_QOP_DEFAULT, &msg, &tok);
    if (major == GSS_S_COMPLETE)
        major = gss_verify_mic(minor, to, &msg, &tok, NULL);
    gss_release_buffer(&m2, &tok);
    return major;
}

/* The minor status text contains each of the needles. */
static void assert_minor_says(OM_uint32 minor, const char *a, const char *b)
{
    char text[2048];

    gl_minor_text(minor, text, sizeof(text));
    print_message("minor: %s\n", text);
    if (strstr(text, a) == NULL || (b && strstr(text, b) == NULL))
        fail_msg("minor status '%s' lacks '%s'%s%s", text, a, b ? " or " : "",
                 b ? b : "");
}

/* What the suite holds before a scenario (after a first context pair,
 * so that the pool has its sessions). */
struct baseline {
    size_t objects;
    long sessions;
};

static void take_baseline(struct baseline *b)
{
    new_pair_works(NULL, "warm-up context");
    b->objects = session_objects();
    b->sessions = plugin_sessions();
}

/* Nothing is left behind: as many session objects and sessions as
 * before the scenario. */
static void assert_nothing_left(const struct baseline *b)
{
    new_pair_works(NULL, "context after the scenario");
    assert_int_equal(session_objects(), b->objects);
    assert_int_equal(plugin_sessions(), b->sessions);
}

/* An established context whose keys are gone: clear error, every call. */
static void assert_context_lost(struct gl_hs *hs, const char *ckr)
{
    OM_uint32 major, minor = 0;

    major = exchange(hs->ictx, hs->actx, &minor);
    assert_int_equal(major, GSS_S_CONTEXT_EXPIRED);
    assert_minor_says(minor, "lost", ckr);
    assert_minor_says(minor, "C_", NULL);
    /* The other direction, and again: the same answer. */
    major = exchange(hs->actx, hs->ictx, &minor);
    assert_int_equal(major, GSS_S_CONTEXT_EXPIRED);
    assert_minor_says(minor, "lost", ckr);
}

static void logout_mid_life(void **state)
{
    struct baseline b;
    struct creds old = {0}, fresh = {0};
    struct gl_hs hs;
    OM_uint32 minor = 0;

    (void)state;
    take_baseline(&b);
    acquire(&old);
    assert_true(pair_up(&hs, &old));
    assert_int_equal(exchange(hs.ictx, hs.actx, &minor), GSS_S_COMPLETE);
    setenv("GP11_FAULT", "logout=1", 1);
    /* New contexts come first, before this test's own handle could log
     * the process in again: with the credentials of before ... */
    new_pair_works(&old, "context with credentials from before the logout");
    /* ... and with new ones. */
    acquire(&fresh);
    new_pair_works(&fresh, "context with new credentials");
    /* The established context keeps working: its keys are public
     * session objects, which a logout does not destroy. */
    assert_int_equal(exchange(hs.ictx, hs.actx, &minor), GSS_S_COMPLETE);
    assert_int_equal(exchange(hs.actx, hs.ictx, &minor), GSS_S_COMPLETE);
    pair_release(&hs, &old);
    release_creds(&old);
    release_creds(&fresh);
    unsetenv("GP11_FAULT");
    assert_nothing_left(&b);
}

static void reinsertion(void **state)
{
    struct baseline b;
    struct creds old = {0};
    struct gl_hs hs;
    OM_uint32 minor = 0;

    (void)state;
    take_baseline(&b);
    acquire(&old);
    assert_true(pair_up(&hs, &old));
    assert_int_equal(exchange(hs.ictx, hs.actx, &minor), GSS_S_COMPLETE);
    /* Every session closes; the context's keys die with them. */
    setenv("GP11_FAULT", "reinsert=1", 1);
    assert_context_lost(&hs, "CKR_SESSION_HANDLE_INVALID");
    new_pair_works(&old, "context with credentials from before");
    new_pair_works(NULL, "context with new credentials");
    assert_context_lost(&hs, "CKR_SESSION_HANDLE_INVALID");
    pair_release(&hs, &old);
    release_creds(&old);
    unsetenv("GP11_FAULT");
    assert_nothing_left(&b);
}

static void removed_then_back(void **state)
{
    struct baseline b;
    struct creds old = {0};
    struct gl_hs hs, hs2;
    OM_uint32 major, minor = 0;

    (void)state;
    take_baseline(&b);
    acquire(&old);
    assert_true(pair_up(&hs, &old));
    setenv("GP11_FAULT", "removed", 1);
    assert_context_lost(&hs, "CKR_DEVICE_REMOVED");
    /* No new context while the token is away, and the error says why. */
    assert_false(pair_up(&hs2, &old));
    major = GSS_ERROR(hs2.imajor) ? hs2.imajor : hs2.amajor;
    minor = GSS_ERROR(hs2.imajor) ? hs2.iminor : hs2.aminor;
    assert_true(GSS_ERROR(major));
    assert_minor_says(minor, "returned CKR_", NULL);
    pair_release(&hs2, &old);
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                             GSS_C_INITIATE, &hs2.icred, NULL, NULL);
    assert_true(GSS_ERROR(major));
    assert_minor_says(minor, "returned CKR_", NULL);
    /* Back: new contexts work, the old one stays lost. */
    unsetenv("GP11_FAULT");
    new_pair_works(&old, "context with credentials from before");
    new_pair_works(NULL, "context with new credentials");
    assert_context_lost(&hs, "CKR_DEVICE_REMOVED");
    pair_release(&hs, &old);
    release_creds(&old);
    assert_nothing_left(&b);
}

/* Closes every session of the token after the INIT token is made. */
static void reinsert_after_init(int leg, gss_buffer_t tok, void *arg)
{
    (void)tok;
    (void)arg;
    if (leg == 1)
        setenv("GP11_FAULT", "reinsert=2", 1);
}

static void reinsertion_mid_handshake(void **state)
{
    struct baseline b;
    struct gl_hs hs;

    (void)state;
    take_baseline(&b);
    memset(&hs, 0, sizeof(hs));
    hs.target = gl_service("host@localhost");
    hs.mutate = reinsert_after_init;
    /* The initiator's ephemeral key dies with its session: the acceptor
     * answers (its own keys are new), the initiator cannot go on. */
    assert_false(gl_handshake(&hs));
    assert_int_equal(hs.imajor, GSS_S_CONTEXT_EXPIRED);
    assert_minor_says(hs.iminor, "lost", "CKR_SESSION_HANDLE_INVALID");
    gl_hs_release(&hs);
    unsetenv("GP11_FAULT");
    assert_nothing_left(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logout_mid_life),
        cmocka_unit_test(reinsertion),
        cmocka_unit_test(removed_then_back),
        cmocka_unit_test(reinsertion_mid_handshake),
    };
    const char *conf = getenv("GP11_RECOVERY_CONF");

    /* The test's handle uses the suite's configuration; the plugin, the
     * same token through the fault module. */
    tl_config();
    if (conf == NULL) {
        fprintf(stderr, "GP11_RECOVERY_CONF is not set (run via meson)\n");
        return 1;
    }
    setenv("GP11_FAULT_TARGET", tl_config()->module, 1);
    inspect = tl_open();
    tl_assert_err(gp11_token_login(inspect), GP11_OK);
    setenv("GSS_PKCS11_CONF", conf, 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
