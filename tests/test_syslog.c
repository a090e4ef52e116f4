/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failure causes reach syslog (issue 13 item 13), through MIT's mechglue.
 * Runs only inside the private mount namespace of tests/syslog-ns.sh: the
 * test binds its own datagram socket and bind-mounts it over /dev/log
 * there, so the machine's /dev/log is never touched. argv[1]:
 *   main    gss-pkcs11.conf: a refused context is logged by both sides,
 *           a refused identity by the credential call
 *   badpin  admin-badpin.conf: the wrong PIN's cause is logged, the PIN
 *           is not
 *   off     admin-nolog.conf ([log] syslog = no): nothing is logged
 */
#include "gsslib.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define WRONG_PIN "wrong-pin-4711"
#define MAX_LINES 16

static int sock = -1;
static char lines[MAX_LINES][2048];
static int n_lines;

/* True if this process is in another mount namespace than the one
 * tests/syslog-ns.sh started in (GP11_TEST_OUTER_MNTNS). */
static bool private_namespace(void)
{
    const char *outer = getenv("GP11_TEST_OUTER_MNTNS");
    char a[64] = "";

    return outer != NULL && *outer != '\0' &&
           readlink("/proc/self/ns/mnt", a, sizeof(a) - 1) > 0 &&
           strcmp(a, outer) != 0;
}

/* Binds a socket in GP11_TEST_SYSLOG_DIR and mounts it over /dev/log. */
static void listen_on_dev_log(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *dir = getenv("GP11_TEST_SYSLOG_DIR");

    if (dir == NULL || !private_namespace())
        fail_msg("run through tests/syslog-ns.sh (a private mount "
                 "namespace), never on the machine's /dev/log");
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", dir);
    sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(sock >= 0);
    unlink(sa.sun_path);
    if (bind(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        fail_msg("bind %s: %s", sa.sun_path, strerror(errno));
    if (mount(sa.sun_path, "/dev/log", NULL, MS_BIND, NULL) != 0)
        fail_msg("mount --bind %s /dev/log: %s", sa.sun_path, strerror(errno));
}

/* Reads every datagram that arrives within a short while. */
static void collect(void)
{
    struct pollfd p = {.fd = sock, .events = POLLIN};

    n_lines = 0;
    while (n_lines < MAX_LINES && poll(&p, 1, 300) == 1) {
        ssize_t r = recv(sock, lines[n_lines], sizeof(lines[0]) - 1, 0);

        if (r <= 0)
            break;
        lines[n_lines][r] = '\0';
        printf("# syslog: %s\n", lines[n_lines]);
        n_lines++;
    }
}

/* The one collected line containing every needle, or a failure. */
static const char *line_with(const char *a, const char *b)
{
    for (int i = 0; i < n_lines; i++)
        if (strstr(lines[i], a) && (b == NULL || strstr(lines[i], b)))
            return lines[i];
    fail_msg("no syslog line has '%s'%s%s (%d lines)", a, b ? " and " : "",
             b ? b : "", n_lines);
    return NULL;
}

/* Asserts the line is LOG_AUTHPRIV with the ident gss-pkcs11. */
static void assert_authpriv(const char *line)
{
    char pri[16];

    snprintf(pri, sizeof(pri), "<%d>", LOG_AUTHPRIV | LOG_WARNING);
    assert_true(strncmp(line, pri, strlen(pri)) == 0);
    assert_non_null(strstr(line, " gss-pkcs11["));
}

/* A context to a service nobody serves: both sides log the refusal. */
static void refused_context_logged_by_both_sides(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    hs.target = gl_service("nosuch@localhost");
    assert_false(gl_handshake(&hs));
    gl_hs_release(&hs);
    collect();
    assert_authpriv(
        line_with("acceptor refused a context", "nosuch@localhost"));
    assert_authpriv(line_with("initiator refused a context",
                              "no acceptor identity is configured for the "
                              "service 'nosuch@localhost'"));
}

/* An extractable identity key: the credential failure is logged. */
static void refused_identity_logged(void **state)
{
    gss_key_value_element_desc kv[1] = {{"pkcs11-identity", NULL}};
    gss_key_value_set_desc store = {1, kv};
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    OM_uint32 minor, major;
    char uri[2048];

    (void)state;
    snprintf(uri, sizeof(uri), "%s;object=adm-extract;type=private",
             tl_config()->token_uri);
    kv[0].value = uri;
    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                                  GSS_C_INITIATE, &store, &cred, NULL, NULL);
    assert_true(GSS_ERROR(major));
    collect();
    assert_authpriv(
        line_with("initiator credential failed", "CKA_EXTRACTABLE is TRUE"));
    line_with("'adm-extract'", NULL);
}

/* A wrong PIN: the cause and the PIN file are logged, the PIN never. */
static void wrong_pin_logged_without_pin(void **state)
{
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    OM_uint32 minor, major;

    (void)state;
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, 0, gl_mech_set(),
                             GSS_C_ACCEPT, &cred, NULL, NULL);
    assert_true(GSS_ERROR(major));
    collect();
    assert_authpriv(line_with("acceptor credential failed",
                              "rejected the PIN from the PIN file"));
    line_with(tl_config()->pin_source, NULL);
    for (int i = 0; i < n_lines; i++)
        if (strstr(lines[i], WRONG_PIN))
            fail_msg("the PIN is in a syslog line: %s", lines[i]);
}

/* [log] syslog = no: a refused context and credential log nothing. */
static void nothing_logged_when_off(void **state)
{
    struct gl_hs hs = {0};

    (void)state;
    hs.target = gl_service("nosuch@localhost");
    assert_false(gl_handshake(&hs));
    gl_hs_release(&hs);
    collect();
    assert_int_equal(n_lines, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest main_tests[] = {
        cmocka_unit_test(refused_context_logged_by_both_sides),
        cmocka_unit_test(refused_identity_logged),
    };
    const struct CMUnitTest badpin_tests[] = {
        cmocka_unit_test(wrong_pin_logged_without_pin),
    };
    const struct CMUnitTest off_tests[] = {
        cmocka_unit_test(nothing_logged_when_off),
    };
    const char *group = argc > 1 ? argv[1] : "main";

    tl_config();
    if (getenv("GSS_MECH_CONFIG") == NULL)
        fail_msg("GSS_MECH_CONFIG is not set: run via meson test");
    listen_on_dev_log();
    if (strcmp(group, "badpin") == 0)
        return cmocka_run_group_tests_name("badpin", badpin_tests, NULL, NULL);
    if (strcmp(group, "off") == 0)
        return cmocka_run_group_tests_name("off", off_tests, NULL, NULL);
    return cmocka_run_group_tests_name("main", main_tests, NULL, NULL);
}
