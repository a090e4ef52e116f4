/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token calls per establishment and per message (issue 11 items 1 and 5),
 * through MIT's mechglue with the plugin's token behind
 * tests/latency_module.c (delay 0), which counts every PKCS#11 call.
 * Asserts counts only, never times:
 *  - a warm establishment costs at most 16 calls per side besides
 *    C_DestroyObject, and no C_FindObjects* or identity attribute read
 *    (the identity is resolved once and cached), with the default
 *    credentials and with acquired ones;
 *  - wrap, unwrap, get_mic and verify_mic cost at most 2 calls each
 *    (Init + op; 1 with a PKCS#11 3.0 message API);
 *  - the cache is revalidated: after a logout behind the plugin's back, a
 *    replaced identity key (new key pair and certificate under the same
 *    label), and a changed anchor file, the next context sees the token
 *    and the file as they are now (works, or fails where it must), and the
 *    one after is warm again.
 * GP11_ESTCALLS_VERBOSE=1 prints the per-function breakdown.
 */
#include "gsslib.h"
#include "latency.h"
#include "testlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FN 128
#define WARM_MAX 16
#define ID_LABEL "estid"
#define ID_NUM "97"

/* With extra-qops = yes (the default) each side also derives the QOP
 * key-derivation key (docs/protocol.md 2.4): one C_DeriveKey more. The
 * "noqop" run (extra-qops = no) holds the sides to 16. */
static unsigned kdk_allowance = 1;

static gp11_latency_snapshot_fn snap;
static gp11_latency_name_fn fn_name;
static char real_module[1024], conf_path[1200], anchor_path[1200];
static char tmpdir[1024];
static char uri_prefix[1024]; /* "pkcs11:token=...;" of the identities */

/* Calls since a snapshot: per function. */
struct counts {
    unsigned long c[MAX_FN];
    size_t n;
};

static void take(struct counts *k)
{
    k->n = snap(k->c, NULL, MAX_FN);
}

/* after - before, into d. */
static void diff(const struct counts *before, const struct counts *after,
                 struct counts *d)
{
    d->n = after->n;
    for (size_t i = 0; i < d->n; i++)
        d->c[i] = after->c[i] - before->c[i];
}

static void add(struct counts *sum, const struct counts *d)
{
    sum->n = d->n;
    for (size_t i = 0; i < d->n; i++)
        sum->c[i] += d->c[i];
}

/* Calls to the function named (e.g. "C_FindObjectsInit"). */
static unsigned long calls_of(const struct counts *k, const char *name)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(fn_name(i), name) == 0)
            return k->c[i];
    return 0;
}

/* Every call but C_DestroyObject. */
static unsigned long total(const struct counts *k)
{
    unsigned long t = 0;

    for (size_t i = 0; i < k->n; i++)
        t += k->c[i];
    return t - calls_of(k, "C_DestroyObject");
}

/* Calls that look an identity up (objects searched, attributes read). */
static unsigned long lookups(const struct counts *k)
{
    return calls_of(k, "C_FindObjectsInit") + calls_of(k, "C_FindObjects") +
           calls_of(k, "C_FindObjectsFinal");
}

/* The calls that start a key's PKCS#11 3.0 message operation on its
 * own session (pkcs11/aead.c): made once per key, on its first message. */
static unsigned long msgop_setup(const struct counts *k)
{
    return calls_of(k, "C_OpenSession") + calls_of(k, "C_MessageEncryptInit") +
           calls_of(k, "C_MessageDecryptInit") +
           calls_of(k, "C_MessageSignInit") +
           calls_of(k, "C_MessageVerifyInit");
}

static void show(const char *what, const struct counts *k)
{
    if (getenv("GP11_ESTCALLS_VERBOSE") == NULL)
        return;
    printf("%s: %lu calls (+%lu C_DestroyObject):", what, total(k),
           calls_of(k, "C_DestroyObject"));
    for (size_t i = 0; i < k->n; i++)
        if (k->c[i])
            printf(" %s=%lu", fn_name(i), k->c[i]);
    printf("\n");
}

/* One establishment; the calls each side made go to *ini and *acc.
 * Returns true if both completed. */
static bool establish(gss_cred_id_t icred, gss_cred_id_t acred,
                      struct counts *ini, struct counts *acc,
                      gss_ctx_id_t *ictx, gss_ctx_id_t *actx)
{
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    gss_name_t target = gl_service("host@localhost");
    OM_uint32 major = GSS_S_FAILURE, minor;
    struct counts a, b, d;
    bool idone = false, adone = false;

    memset(ini, 0, sizeof(*ini));
    memset(acc, 0, sizeof(*acc));
    for (int leg = 1; leg <= 5; leg++) {
        take(&a);
        if (leg % 2)
            major = gss_init_sec_context(
                &minor, icred, ictx, target, gl_mech(),
                GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG, 0,
                GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out, NULL, NULL);
        else
            major = gss_accept_sec_context(&minor, actx, acred, &in,
                                           GSS_C_NO_CHANNEL_BINDINGS, NULL,
                                           NULL, &out, NULL, NULL, NULL);
        take(&b);
        diff(&a, &b, &d);
        add(leg % 2 ? ini : acc, &d);
        gss_release_buffer(&minor, &in);
        if (GSS_ERROR(major)) {
            char text[512];

            gl_minor_text(minor, text, sizeof(text));
            printf("leg %d: major 0x%x: %s\n", leg, major, text);
            break;
        }
        if (leg % 2)
            idone = major == GSS_S_COMPLETE;
        else
            adone = major == GSS_S_COMPLETE;
        in = out;
        out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
        if (in.length == 0)
            break;
    }
    gss_release_buffer(&minor, &in);
    gss_release_buffer(&minor, &out);
    gss_release_name(&minor, &target);
    return idone && adone;
}

/* An establishment that must work; the contexts are deleted. */
static void pair(gss_cred_id_t icred, gss_cred_id_t acred, struct counts *ini,
                 struct counts *acc, const char *what)
{
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    OM_uint32 minor;
    bool ok = establish(icred, acred, ini, acc, &ictx, &actx);

    if (!ok)
        fail_msg("%s: the establishment failed", what);
    show(what, ini);
    show(what, acc);
    gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);
}

/* A warm side: at most 16 calls, no look-up. */
static void assert_warm(const struct counts *k, const char *side)
{
    if (total(k) > WARM_MAX + kdk_allowance || lookups(k) != 0) {
        printf("%s: %lu calls, %lu look-ups\n", side, total(k), lookups(k));
        show(side, k);
    }
    assert_true(total(k) <= WARM_MAX + kdk_allowance);
    assert_int_equal(lookups(k), 0);
}

/* Copies a file (replacing to by a new file, so its mtime changes). */
static void copy_file(const char *from, const char *to)
{
    char buf[65536], tmp[1300];
    FILE *in = fopen(from, "rb"), *out;
    size_t n;

    assert_non_null(in);
    snprintf(tmp, sizeof(tmp), "%s.new", to);
    out = fopen(tmp, "wb");
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(rename(tmp, to), 0);
}

/* The suite's configuration with the module replaced by the latency
 * module (which loads the real one), and the anchors in a file of ours. */
static void write_conf(void)
{
    const char *src = getenv("GSS_PKCS11_CONF");
    FILE *in = fopen(src, "r"), *out;
    char line[2048], anchors[1024] = "";

    assert_non_null(in);
    snprintf(tmpdir, sizeof(tmpdir), "%s/estcalls-%s%s", getenv("GP11_TOKENS"),
             tl_kind(), kdk_allowance ? "" : "-noqop");
    mkdir(tmpdir, 0700);
    snprintf(conf_path, sizeof(conf_path), "%s/gss-pkcs11.conf", tmpdir);
    snprintf(anchor_path, sizeof(anchor_path), "%s/anchors.pem", tmpdir);
    out = fopen(conf_path, "w");
    assert_non_null(out);
    while (fgets(line, sizeof(line), in)) {
        if (sscanf(line, "module = %1023s", real_module) == 1) {
            fprintf(out, "module = %s\n", getenv("GP11_LATENCY_MODULE_PATH"));
            continue;
        }
        if (sscanf(line, "anchors = %1023s", anchors) == 1) {
            fprintf(out, "anchors = %s\n", anchor_path);
            continue;
        }
        if (strstr(line, "object=alice;") != NULL) {
            /* The initiator is an identity this test may replace. */
            char *at = strstr(line, "object=alice;");
            char *p = strstr(line, "pkcs11:");

            if (p != NULL && p < at)
                snprintf(uri_prefix, sizeof(uri_prefix), "%.*s", (int)(at - p),
                         p);

            fprintf(out, "%.*sobject=" ID_LABEL "%s", (int)(at - line), line,
                    at + strlen("object=alice"));
            continue;
        }
        fputs(line, out);
    }
    fclose(in);
    fclose(out);
    chmod(conf_path, 0600);
    assert_true(real_module[0] != '\0' && anchors[0] != '\0');
    copy_file(anchors, anchor_path);
    setenv("GP11_LATENCY_MODULE", real_module, 1);
    setenv("GP11_LATENCY_US", "0", 1);
    setenv("GSS_PKCS11_CONF", conf_path, 1);
}

/* Finds the counters in the module the plugin loaded (after first use). */
static void bind_counters(void)
{
    void *dl =
        dlopen(getenv("GP11_LATENCY_MODULE_PATH"), RTLD_NOW | RTLD_NOLOAD);

    assert_non_null(dl);
    snap = (gp11_latency_snapshot_fn)dlsym(dl, "gp11_latency_snapshot");
    fn_name = (gp11_latency_name_fn)dlsym(dl, "gp11_latency_name");
    assert_non_null(snap);
    assert_non_null(fn_name);
    dlclose(dl);
}

static CK_FUNCTION_LIST *module_list(void);

/* Destroys every object labelled ID_LABEL on the token (through a session
 * of the test's own on the latency module's list, or, before the plugin
 * loaded it, nothing: mkident's process does the first creation). */
static void destroy_label(CK_FUNCTION_LIST *l, const char *label)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16, found;
    CK_ATTRIBUTE t[] = {{CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE h[16];
    CK_SESSION_HANDLE s;
    char pin[256] = "", path[1200];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s/user.pin", getenv("GP11_TOKENS"),
             tl_kind());
    f = fopen(path, "r");
    assert_non_null(f);
    if (fgets(pin, sizeof(pin), f) == NULL)
        pin[0] = '\0';
    fclose(f);
    pin[strcspn(pin, "\r\n")] = '\0';
    assert_int_equal(l->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        if (l->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION,
                             NULL, NULL, &s) != CKR_OK)
            continue;
        l->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
        if (l->C_FindObjectsInit(s, t, 1) == CKR_OK) {
            while (l->C_FindObjects(s, h, 16, &found) == CKR_OK && found > 0)
                for (CK_ULONG j = 0; j < found; j++)
                    l->C_DestroyObject(s, h[j]);
            l->C_FindObjectsFinal(s);
        }
        l->C_CloseSession(s);
    }
}

static void destroy_identity(CK_FUNCTION_LIST *l)
{
    destroy_label(l, ID_LABEL);
}

/* Makes the test's initiator identity (a new key pair and certificate)
 * with mkident, whose e-mail name is email. */
static void make_identity(const char *email)
{
    char cmd[4096];

    snprintf(cmd, sizeof(cmd),
             "'%s' --eku client --email %s '%s/%s' " ID_LABEL " " ID_NUM
             " %s - -3600 86400",
             getenv("GP11_MKIDENT"), email, getenv("GP11_TOKENS"), tl_kind(),
             email);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    OM_uint32 major, minor;
    gss_cred_id_t c = GSS_C_NO_CREDENTIAL;
    gss_name_t svc;

    (void)state;
    if (getenv("GP11_ESTCALLS_NOQOP") != NULL)
        kdk_allowance = 0;
    write_conf();
    /* The first use loads the plugin, which loads the latency module; an
     * acceptor credential, as the initiator's identity is made next. */
    svc = gl_service("host@localhost");
    major = gss_acquire_cred(&minor, svc, 0, gl_mech_set(), GSS_C_ACCEPT, &c,
                             NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_acquire_cred", major, minor);
    gss_release_cred(&minor, &c);
    gss_release_name(&minor, &svc);
    bind_counters();
    /* A fresh initiator identity of the test's own (a leftover first). */
    destroy_identity(module_list());
    make_identity(ID_LABEL "1@localhost");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    destroy_identity(module_list());
    return 0;
}

/* Default credentials on both sides: the second and later contexts do no
 * look-up and stay within 16 calls per side. */
static void test_default_creds(void **state)
{
    struct counts ini, acc;

    (void)state;
    pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc, "first");
    for (int i = 0; i < 3; i++) {
        pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc, "warm");
        assert_warm(&ini, "initiator");
        assert_warm(&acc, "acceptor");
    }
}

/* Acquired credentials: the same, and acquiring again reads nothing. */
static void test_acquired_creds(void **state)
{
    gss_name_t svc = gl_service("host@localhost");
    gss_cred_id_t ic = GSS_C_NO_CREDENTIAL, ac = GSS_C_NO_CREDENTIAL;
    struct counts a, b, d, ini, acc;
    OM_uint32 major, minor;

    (void)state;
    take(&a);
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                             GSS_C_INITIATE, &ic, NULL, NULL);
    if (major == GSS_S_COMPLETE)
        major = gss_acquire_cred(&minor, svc, 0, gl_mech_set(), GSS_C_ACCEPT,
                                 &ac, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_acquire_cred", major, minor);
    take(&b);
    diff(&a, &b, &d);
    show("acquire (cached)", &d);
    assert_int_equal(lookups(&d), 0);
    assert_int_equal(calls_of(&d, "C_GetAttributeValue"), 0);
    for (int i = 0; i < 3; i++) {
        pair(ic, ac, &ini, &acc, "warm, acquired");
        assert_warm(&ini, "initiator");
        assert_warm(&acc, "acceptor");
    }
    gss_release_cred(&minor, &ic);
    gss_release_cred(&minor, &ac);
    gss_release_name(&minor, &svc);
}

/* Per message: at most Init + op (or one message-API call), nothing
 * looked up. */
static void test_per_message(void **state)
{
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    gss_buffer_desc msg = {64, (char[64]){0}}, tok = GSS_C_EMPTY_BUFFER,
                    back = GSS_C_EMPTY_BUFFER;
    struct counts a, b, d, ini, acc;
    OM_uint32 major, minor;
    int conf = 0;

    (void)state;
    assert_true(establish(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc,
                          &ictx, &actx));
    /* Round 0 is each key's first message: a token with the 3.0 message
     * API starts the key's operation then (a session and an Init, at
     * most 2 calls); round 1 is every later message. */
    for (int step = 0; step < 8; step++) {
        int op = step % 4, round = step / 4;

        take(&a);
        switch (op) {
        case 0:
            major = gss_wrap(&minor, ictx, 1, 0, &msg, &conf, &tok);
            break;
        case 1:
            major = gss_unwrap(&minor, actx, &tok, &back, &conf, NULL);
            gss_release_buffer(&minor, &tok);
            gss_release_buffer(&minor, &back);
            break;
        case 2:
            major = gss_get_mic(&minor, ictx, 0, &msg, &tok);
            break;
        default:
            major = gss_verify_mic(&minor, actx, &msg, &tok, NULL);
            gss_release_buffer(&minor, &tok);
        }
        take(&b);
        if (major != GSS_S_COMPLETE)
            gl_fail("per-message call", major, minor);
        diff(&a, &b, &d);
        show(op == 0   ? "wrap"
             : op == 1 ? "unwrap"
             : op == 2 ? "get_mic"
                       : "verify_mic",
             &d);
        if (round == 0)
            assert_true(msgop_setup(&d) <= 2);
        else
            assert_int_equal(msgop_setup(&d), 0);
        assert_true(total(&d) - msgop_setup(&d) >= 1 &&
                    total(&d) - msgop_setup(&d) <= 2);
        assert_int_equal(calls_of(&d, "C_DestroyObject"), 0);
        assert_int_equal(lookups(&d) + calls_of(&d, "C_GetAttributeValue"), 0);
    }
    gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);
}

/* The real module's function list, through the latency module. */
static CK_FUNCTION_LIST *module_list(void)
{
    void *dl =
        dlopen(getenv("GP11_LATENCY_MODULE_PATH"), RTLD_NOW | RTLD_NOLOAD);
    CK_C_GetFunctionList get;
    CK_FUNCTION_LIST *l = NULL;

    assert_non_null(dl);
    get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
    assert_non_null(get);
    assert_int_equal(get(&l), CKR_OK);
    dlclose(dl);
    return l;
}

/* Logs the application out behind the plugin's back. */
static void logout_behind(void)
{
    CK_FUNCTION_LIST *l = module_list();
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    CK_SESSION_HANDLE s;

    assert_int_equal(l->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        if (l->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &s) !=
            CKR_OK)
            continue;
        l->C_Logout(s);
        l->C_CloseSession(s);
    }
}

/* A logout behind our back: the next context still works (the identity
 * is resolved again once), the one after is warm. */
static void test_logout(void **state)
{
    struct counts ini, acc;

    (void)state;
    pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc, "before");
    logout_behind();
    pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc, "after logout");
    pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc,
         "after logout, second");
    pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc,
         "warm after logout");
    assert_warm(&ini, "initiator");
    assert_warm(&acc, "acceptor");
}

/* A changed anchor file is seen by the next context: anchors of another
 * CA make the peers untrusted; the right ones back make them trusted. */
static void test_anchor_change(void **state)
{
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    char saved[1300], other[1300];
    struct counts ini, acc;
    OM_uint32 minor;

    (void)state;
    snprintf(saved, sizeof(saved), "%s.saved", anchor_path);
    snprintf(other, sizeof(other), "%s/%s/otherca/ca.pem",
             getenv("GP11_TOKENS"), tl_kind());
    assert_int_equal(access(other, R_OK), 0);
    pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc, "anchors");
    copy_file(anchor_path, saved);
    copy_file(other, anchor_path);
    assert_false(establish(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc,
                           &ictx, &actx));
    gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);
    copy_file(saved, anchor_path);
    pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc,
         "anchors restored");
    pair(GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, &ini, &acc,
         "anchors restored, warm");
    assert_warm(&ini, "initiator");
    assert_warm(&acc, "acceptor");
}

/* The name the acceptor saw, as text. */
static void peer_name(gss_ctx_id_t actx, char *buf, size_t len)
{
    gss_name_t src = GSS_C_NO_NAME;
    gss_buffer_desc t = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor;

    buf[0] = '\0';
    if (gss_inquire_context(&minor, actx, &src, NULL, NULL, NULL, NULL, NULL,
                            NULL) != GSS_S_COMPLETE ||
        gss_display_name(&minor, src, &t, NULL) != GSS_S_COMPLETE)
        return;
    snprintf(buf, len, "%.*s", (int)t.length, (char *)t.value);
    gss_release_buffer(&minor, &t);
    gss_release_name(&minor, &src);
}

/* The initiator's identity replaced on the token (new key pair and
 * certificate under the same label and CKA_ID): a credential acquired
 * before and the default credential both end up with the new one; the
 * context that finds out may fail, never with the old certificate and the
 * new key accepted; the next works as the new name and is warm again. */
static void test_identity_replaced(void **state)
{
    gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
    gss_cred_id_t ic = GSS_C_NO_CREDENTIAL;
    struct counts ini, acc;
    OM_uint32 major, minor;
    char name[256];
    bool ok;

    (void)state;
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                             GSS_C_INITIATE, &ic, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_acquire_cred", major, minor);
    assert_true(establish(ic, GSS_C_NO_CREDENTIAL, &ini, &acc, &ictx, &actx));
    peer_name(actx, name, sizeof(name));
    assert_string_equal(name, ID_LABEL "1@localhost");
    gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);

    destroy_identity(module_list());
    make_identity(ID_LABEL "2@localhost");
    /* The one that finds the old handle failing: it may fail. */
    ok = establish(ic, GSS_C_NO_CREDENTIAL, &ini, &acc, &ictx, &actx);
    show("replaced: first", &ini);
    if (ok) {
        peer_name(actx, name, sizeof(name));
        assert_string_equal(name, ID_LABEL "2@localhost");
    }
    gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);
    /* The next ones: the new identity, with the old credential and the
     * default one, and warm again. */
    for (int i = 0; i < 3; i++) {
        gss_cred_id_t use = i == 1 ? GSS_C_NO_CREDENTIAL : ic;

        if (!establish(use, GSS_C_NO_CREDENTIAL, &ini, &acc, &ictx, &actx))
            fail_msg("establishment %d after the replacement failed", i);
        show("replaced: next", &ini);
        peer_name(actx, name, sizeof(name));
        assert_string_equal(name, ID_LABEL "2@localhost");
        gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
        gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);
    }
    assert_warm(&ini, "initiator");
    assert_warm(&acc, "acceptor");
    gss_release_cred(&minor, &ic);
}

/* A cached identity's certificate dates are checked on every use: one
 * that expires while cached is refused from then on. */
static void test_expiry_while_cached(void **state)
{
    char uri[1200], cmd[4096];
    gss_key_value_element_desc kv;
    gss_key_value_set_desc store = {1, &kv};
    gss_cred_id_t c = GSS_C_NO_CREDENTIAL;
    OM_uint32 major, minor;
    time_t made;

    (void)state;
    assert_true(uri_prefix[0] != '\0');
    destroy_label(module_list(), "estexp");
    /* Valid for 3 s from now. */
    snprintf(cmd, sizeof(cmd),
             "'%s' --eku client --email estexp@localhost '%s/%s' estexp 98 "
             "estexp@localhost - -3600 3",
             getenv("GP11_MKIDENT"), getenv("GP11_TOKENS"), tl_kind());
    made = time(NULL);
    assert_int_equal(system(cmd), 0);
    snprintf(uri, sizeof(uri), "%sobject=estexp;type=private", uri_prefix);
    kv = (gss_key_value_element_desc){"pkcs11-identity", uri};
    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                  GSS_C_INITIATE, &store, &c, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_acquire_cred_from (valid)", major, minor);
    gss_release_cred(&minor, &c);
    while (time(NULL) <= made + 4)
        sleep(1);
    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                  GSS_C_INITIATE, &store, &c, NULL, NULL);
    gss_release_cred(&minor, &c);
    destroy_label(module_list(), "estexp");
    assert_true(GSS_ERROR(major));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_creds),
        cmocka_unit_test(test_acquired_creds),
        cmocka_unit_test(test_per_message),
        cmocka_unit_test(test_logout),
        cmocka_unit_test(test_anchor_change),
        cmocka_unit_test(test_identity_replaced),
        cmocka_unit_test(test_expiry_while_cached),
    };
    const struct CMUnitTest noqop[] = {
        cmocka_unit_test(test_default_creds),
        cmocka_unit_test(test_acquired_creds),
        cmocka_unit_test(test_per_message),
    };

    /* The noqop run holds the counts to 16; the rest is the same. */
    if (getenv("GP11_ESTCALLS_NOQOP") != NULL)
        return cmocka_run_group_tests(noqop, setup, teardown);
    return cmocka_run_group_tests(tests, setup, teardown);
}
