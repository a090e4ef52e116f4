/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A security context is never used in a forked child (both copies would
 * send with the same sequence numbers, hence the same AES-GCM nonces),
 * and the refusal comes from the context itself: before any token
 * object is touched, on calls that touch none, and where a pid check
 * would not notice. The test body runs as pid 1 of a new PID namespace
 * and forks each child into a nested one, where the child is pid 1 too:
 * getpid() cannot tell the two apart, only the fork generation can.
 *
 * Without PID namespaces (no CAP_SYS_ADMIN and no user namespaces) the
 * test exits 77.
 */
#include "gsslib.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Writes text to a /proc file; false on failure. */
static bool write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok;

    if (fd < 0)
        return false;
    ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok;
}

/* Makes this process's next child the first process of a new PID
 * namespace: as root directly, otherwise inside a new user namespace that
 * maps our own ids. Returns 0, or -1 with a message on stderr. */
static int new_pid_namespace(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    char map[64];
    int err;

    if (unshare(CLONE_NEWPID) == 0)
        return 0;
    err = errno;
    if (unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) {
        fprintf(stderr,
                "no PID namespace: unshare(CLONE_NEWPID): %s; with "
                "CLONE_NEWUSER: %s\n",
                strerror(err), strerror(errno));
        return -1;
    }
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (!write_file("/proc/self/uid_map", map) ||
        !write_file("/proc/self/setgroups", "deny"))
        goto fail;
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if (!write_file("/proc/self/gid_map", map))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "cannot map ids in the new user namespace: %s\n",
            strerror(errno));
    return -1;
}

/* Re-runs this program's body as pid 1 of a new PID namespace and
 * returns its exit status (77 if there is no namespace to be had). */
static int run_as_pid1(void)
{
    int status = 0;
    pid_t pid;

    if (new_pid_namespace() != 0) {
        fprintf(stderr, "ctxfork needs a PID namespace: skipping\n");
        return TL_SKIP;
    }
    pid = fork();
    if (pid < 0) {
        perror("fork into the new PID namespace");
        return 1;
    }
    if (pid == 0) {
        /* pid 1 ignores SIGTERM from outside: die with the wrapper. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        return -1;
    }
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 1;
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "the test body died of signal %d\n", WTERMSIG(status));
        return 1;
    }
    return WEXITSTATUS(status);
}

/* fork() into a nested PID namespace: the child is pid 1 there, as its
 * parent is in its own. Fails the test if that cannot be arranged. */
static pid_t fork_same_pid(void)
{
    int self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    pid_t pid;

    if (self < 0)
        fail_msg("cannot open /proc/self/ns/pid: %s", strerror(errno));
    if (unshare(CLONE_NEWPID) != 0)
        fail_msg("unshare(CLONE_NEWPID) in pid 1: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid > 0 && setns(self, CLONE_NEWPID) != 0)
        fail_msg("setns back to our PID namespace: %s", strerror(errno));
    close(self);
    return pid;
}

/* An established pair that reports sequence problems. */
static void pair(struct gl_hs *hs)
{
    memset(hs, 0, sizeof(*hs));
    hs->target = gl_service("host@localhost");
    hs->req_flags = GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;
    if (!gl_handshake(hs))
        gl_fail("handshake", GSS_ERROR(hs->imajor) ? hs->imajor : hs->amajor,
                GSS_ERROR(hs->imajor) ? hs->iminor : hs->aminor);
}

/* The child's report: every failed check, one line each, to the pipe. */
struct report {
    int fd;
    bool failed;
};

/* Records a failed check. */
static void child_fail(struct report *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    r->failed = true;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        _exit(3);
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    if (write(r->fd, buf, (size_t)n) < 0)
        _exit(3);
}

/* One call in the child must be refused by the context: GSS_S_NO_CONTEXT
 * and the context's own message, not the token layer's ("token object
 * ... created before fork()"), and no token given out. */
static void expect_refused(struct report *r, const char *side, const char *call,
                           OM_uint32 major, OM_uint32 minor,
                           const gss_buffer_desc *out, pid_t parent)
{
    char text[1024], want[128];

    gl_minor_text(minor, text, sizeof(text));
    snprintf(want, sizeof(want),
             "the security context was established by process %d and "
             "cannot be used after fork()",
             (int)parent);
    if (major != GSS_S_NO_CONTEXT)
        child_fail(r,
                   "%s %s in the child: major 0x%x (%s), want "
                   "GSS_S_NO_CONTEXT",
                   side, call, major, text);
    else if (strstr(text, want) == NULL)
        child_fail(r, "%s %s in the child: minor says '%s', want '%s'", side,
                   call, text, want);
    else if (out && (out->length != 0 || out->value != NULL))
        child_fail(r, "%s %s in the child gave out a %zu-byte token", side,
                   call, out->length);
}

/* Every per-context call of the child, on one of the inherited contexts;
 * peer_tok is a valid MIC the peer made for this context before fork. */
static void child_calls(struct report *r, const char *side, gss_ctx_id_t ctx,
                        const gss_buffer_desc *peer_tok, pid_t parent)
{
    gss_buffer_desc m = {5, (void *)"hello"}, junk = {5, (void *)"junk!"};
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER, tok = *peer_tok;
    OM_uint32 minor = 0, major, t = 99, limit = 99;
    int is_open = 1;

    /* These touch no token object: only the context can refuse. */
    major = gss_context_time(&minor, ctx, &t);
    expect_refused(r, side, "gss_context_time", major, minor, NULL, parent);
    major = gss_inquire_context(&minor, ctx, NULL, NULL, &t, NULL, NULL, NULL,
                                &is_open);
    expect_refused(r, side, "gss_inquire_context", major, minor, NULL, parent);
    major = gss_wrap_size_limit(&minor, ctx, 1, 0, 1000, &limit);
    expect_refused(r, side, "gss_wrap_size_limit", major, minor, NULL, parent);
    major = gss_verify_mic(&minor, ctx, &m, &junk, NULL);
    expect_refused(r, side, "gss_verify_mic of junk", major, minor, NULL,
                   parent);
    major = gss_unwrap(&minor, ctx, &junk, &out, NULL, NULL);
    expect_refused(r, side, "gss_unwrap of junk", major, minor, &out, parent);
    /* These would reach a key: refused before they do. */
    major = gss_get_mic(&minor, ctx, 0, &m, &out);
    expect_refused(r, side, "gss_get_mic", major, minor, &out, parent);
    major = gss_wrap(&minor, ctx, 1, 0, &m, NULL, &out);
    expect_refused(r, side, "gss_wrap", major, minor, &out, parent);
    major = gss_verify_mic(&minor, ctx, &m, &tok, NULL);
    expect_refused(r, side, "gss_verify_mic of the peer's token", major, minor,
                   NULL, parent);
}

/* A MIC of "hello" from ctx; returns the sequence number it carries. */
static uint64_t mic(gss_ctx_id_t ctx, gss_buffer_desc *tok)
{
    gss_buffer_desc m = {5, (void *)"hello"};
    OM_uint32 minor, major;
    uint64_t seq = 0;

    major = gss_get_mic(&minor, ctx, 0, &m, tok);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_get_mic", major, minor);
    assert_int_equal(tok->length, 32);
    for (int i = 8; i < 16; i++)
        seq = seq << 8 | ((unsigned char *)tok->value)[i];
    return seq;
}

/* Verifies tok at ctx: accepted, in sequence (no supplementary bits). */
static void verify_in_order(gss_ctx_id_t ctx, gss_buffer_desc *tok)
{
    gss_buffer_desc m = {5, (void *)"hello"};
    OM_uint32 minor, major;

    major = gss_verify_mic(&minor, ctx, &m, tok, NULL);
    if (major != GSS_S_COMPLETE)
        gl_fail("gss_verify_mic after the child", major, minor);
}

static void same_pid_child_is_refused_by_the_context(void **state)
{
    gss_buffer_desc to_a[2], to_i[2], next = GSS_C_EMPTY_BUFFER;
    char why[8192];
    struct gl_hs hs;
    int fds[2], status = -1;
    OM_uint32 minor;
    pid_t parent = getpid(), pid;
    ssize_t n;

    (void)state;
    assert_int_equal(parent, 1); /* run_as_pid1 put us there */
    pair(&hs);
    /* One token each way delivered, one each way held back. */
    assert_int_equal(mic(hs.ictx, &to_a[0]), 0);
    verify_in_order(hs.actx, &to_a[0]);
    assert_int_equal(mic(hs.ictx, &to_a[1]), 1);
    assert_int_equal(mic(hs.actx, &to_i[0]), 0);
    verify_in_order(hs.ictx, &to_i[0]);
    assert_int_equal(mic(hs.actx, &to_i[1]), 1);
    assert_int_equal(pipe(fds), 0);
    pid = fork_same_pid();
    if (pid == 0) {
        struct report r = {fds[1], false};

        close(fds[0]);
        if (getpid() != parent)
            child_fail(&r,
                       "the child is pid %d, not %d: the namespace "
                       "trick did not work",
                       (int)getpid(), (int)parent);
        child_calls(&r, "initiator", hs.ictx, &to_i[1], parent);
        child_calls(&r, "acceptor", hs.actx, &to_a[1], parent);
        _exit(r.failed ? 1 : 0);
    }
    close(fds[1]);
    for (size_t used = 0;; used += (size_t)n) {
        n = read(fds[0], why + used, sizeof(why) - 1 - used);
        if (n <= 0 || used + (size_t)n >= sizeof(why) - 1) {
            why[n > 0 ? used + (size_t)n : used] = '\0';
            break;
        }
    }
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        for (char *save = NULL, *l = strtok_r(why, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save))
            print_error("%s\n", l); /* cmocka cuts long messages */
        fail_msg("the child (status 0x%x) was not refused by the context "
                 "on the calls above",
                 status);
    }
    print_message("the child, pid %d like its parent, was refused on every "
                  "call\n",
                  (int)parent);
    /* The parent carries on in order: the held-back tokens are the next
     * ones each peer expects, and the next new ones follow them. */
    verify_in_order(hs.actx, &to_a[1]);
    verify_in_order(hs.ictx, &to_i[1]);
    assert_int_equal(mic(hs.ictx, &next), 2);
    verify_in_order(hs.actx, &next);
    gss_release_buffer(&minor, &next);
    assert_int_equal(mic(hs.actx, &next), 2);
    verify_in_order(hs.ictx, &next);
    gss_release_buffer(&minor, &next);
    for (int i = 0; i < 2; i++) {
        gss_release_buffer(&minor, &to_a[i]);
        gss_release_buffer(&minor, &to_i[i]);
    }
    gl_hs_release(&hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_pid_child_is_refused_by_the_context),
    };
    int rc;

    /* Before anything is loaded: the body runs as pid 1. */
    if (getpid() != 1) {
        rc = run_as_pid1();
        /* _exit: this process's children would go to the namespace whose
         * pid 1 has ended, so an atexit leak checker could not run. */
        if (rc >= 0)
            _exit(rc);
    }
    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
