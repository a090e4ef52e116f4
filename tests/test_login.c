/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Login: the right PIN, a wrong PIN that is never presented twice, PIN
 * sources and their errors, lock-out flags (injected by the fault module
 * in front of the real token) refused before any C_Login.
 */
#include "testlib.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/gp11-login-XXXXXX";
static char debug_log[64];

/* Writes a PIN file of len bytes with the given mode; returns its path
 * (static). */
static const char *pin_file_bytes(const char *name, const char *pin, size_t len,
                                  mode_t mode)
{
    static char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pin, len), (ssize_t)len);
    fchmod(fd, mode);
    close(fd);
    return path;
}

/* Writes a PIN file holding the string pin. */
static const char *pin_file(const char *name, const char *pin, mode_t mode)
{
    return pin_file_bytes(name, pin, strlen(pin), mode);
}

/* The suite's PIN, read from its pin-source. */
static void real_pin(char *out, size_t len)
{
    FILE *f = fopen(tl_config()->pin_source, "r");

    assert_non_null(f);
    assert_non_null(fgets(out, (int)len, f));
    out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

/* Opens the suite's token with another pin-source (and maybe module). */
static uint32_t login_with(const char *pin_source, const char *uri,
                           bool via_fault_module)
{
    struct gp11_token_opts o;
    struct gp11_token *tok = NULL;
    uint32_t ret;

    tl_opts(tl_config(), &o);
    o.pin_source = pin_source;
    if (uri)
        o.uri = uri;
    if (via_fault_module) {
        setenv("GP11_FAULT_TARGET", o.module, 1);
        o.module = getenv("GP11_FAULT_MODULE");
    }
    ret = gp11_token_open(&o, &tok);
    if (ret == GP11_OK) {
        ret = gp11_token_login(tok);
        if (ret == GP11_OK)
            assert_true(gp11_token_logged_in(tok));
    }
    gp11_token_close(tok);
    return ret;
}

static void right_pin_logs_in(void **state)
{
    (void)state;
    tl_assert_err(login_with(tl_config()->pin_source, NULL, false), GP11_OK);
}

static void wrong_pin_is_never_retried(void **state)
{
    const char *bad = pin_file("bad.pin", "not-the-pin\n", 0600);
    int before = tl_count_lines(debug_log, "C_Login:");
    uint32_t ret;

    (void)state;
    ret = login_with(bad, NULL, false);
    tl_assert_err(ret, GP11_ERR_PIN_INCORRECT);
    tl_assert_msg(ret, "CKR_PIN_INCORRECT");
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), before + 1);
    /* A second token handle in the same process does not try it again. */
    ret = login_with(bad, NULL, false);
    tl_assert_err(ret, GP11_ERR_PIN_FAILED_BEFORE);
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), before + 1);
    /* The right PIN still works afterwards. */
    tl_assert_err(login_with(tl_config()->pin_source, NULL, false), GP11_OK);
}

static void pin_value_in_uri_logs_in(void **state)
{
    char pin[64], uri[256];

    (void)state;
    real_pin(pin, sizeof(pin));
    snprintf(uri, sizeof(uri), "%s?pin-value=%s", tl_config()->token_uri, pin);
    tl_assert_err(login_with(NULL, uri, false), GP11_OK);
}

static void pin_source_in_uri_logs_in(void **state)
{
    char uri[512];

    (void)state;
    snprintf(uri, sizeof(uri), "%s?pin-source=file:%s", tl_config()->token_uri,
             tl_config()->pin_source);
    tl_assert_err(login_with(NULL, uri, false), GP11_OK);
}

static void pin_is_the_first_line(void **state)
{
    char pin[64], text[128];

    (void)state;
    real_pin(pin, sizeof(pin));
    snprintf(text, sizeof(text), "%s\r\nsecond line is not the PIN\n", pin);
    tl_assert_err(login_with(pin_file("lines.pin", text, 0600), NULL, false),
                  GP11_OK);
}

static void missing_pin_is_explained(void **state)
{
    uint32_t ret = login_with(NULL, NULL, false);

    (void)state;
    /* The suite's URI has no PIN: without pin-source there is none. */
    tl_assert_err(ret, GP11_ERR_PIN_MISSING);
    tl_assert_msg(ret, "set pin-source");
}

static void pin_file_errors(void **state)
{
    char path[128];
    uint32_t ret;

    (void)state;
    snprintf(path, sizeof(path), "%s/none.pin", dir);
    ret = login_with(path, NULL, false);
    tl_assert_err(ret, GP11_ERR_PIN_SOURCE);
    tl_assert_msg(ret, "No such file");
    ret = login_with(pin_file("open.pin", "1234", 0644), NULL, false);
    tl_assert_err(ret, GP11_ERR_PIN_SOURCE);
    tl_assert_msg(ret, "readable or writable by others");
    ret = login_with(pin_file("group.pin", "1234", 0620), NULL, false);
    tl_assert_err(ret, GP11_ERR_PIN_SOURCE);
    tl_assert_msg(ret, "readable or writable by others");
    ret = login_with("|/bin/echo 1234", NULL, false);
    tl_assert_err(ret, GP11_ERR_PIN_SOURCE);
    tl_assert_msg(ret, "only files are supported");
}

/* Ends the process when a PIN source blocks instead of being refused. */
static void on_alarm(int sig)
{
    static const char msg[] = "a PIN source blocked: no answer in 10 s\n";

    (void)sig;
    if (write(2, msg, sizeof(msg) - 1) < 0)
        _exit(3);
    _exit(2);
}

/* Asserts that pin-source path is refused, naming the file and what it
 * is, within the alarm. */
static void refused_as(const char *path, const char *what)
{
    uint32_t ret;

    alarm(10);
    ret = login_with(path, NULL, false);
    alarm(0);
    tl_assert_err(ret, GP11_ERR_PIN_SOURCE);
    tl_assert_msg(ret, path);
    tl_assert_msg(ret, what);
}

static void pin_source_that_is_no_regular_file(void **state)
{
    char fifo[128], link[128], big[4096];
    const char *good;

    (void)state;
    signal(SIGALRM, on_alarm);
    /* A FIFO without a writer: opening it blocking would hang. */
    snprintf(fifo, sizeof(fifo), "%s/fifo.pin", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    refused_as(fifo, "is a FIFO");
    refused_as(dir, "is a directory");
    /* A symbolic link to a good PIN file. */
    good = pin_file("target.pin", "1234\n", 0600);
    snprintf(link, sizeof(link), "%s/link.pin", dir);
    assert_int_equal(symlink(good, link), 0);
    refused_as(link, "is a symbolic link");
    refused_as("/dev/zero", "is a character device");
    /* A regular file far larger than any PIN. */
    memset(big, '7', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    refused_as(pin_file("big.pin", big, 0600), "longer than");
    signal(SIGALRM, SIG_DFL);
}

/* Asserts that the PIN file of len bytes is refused for what it holds,
 * before any C_Login. */
static void content_refused_as(const char *name, const char *pin, size_t len,
                               const char *what)
{
    int before = tl_count_lines(debug_log, "C_Login:");
    const char *path = pin_file_bytes(name, pin, len, 0600);
    uint32_t ret = login_with(path, NULL, false);

    tl_assert_err(ret, GP11_ERR_PIN_SOURCE);
    tl_assert_msg(ret, path);
    tl_assert_msg(ret, what);
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), before);
}

/* An empty first line or a NUL byte in it is refused, not presented as an
 * empty or shortened PIN that spends one of the token's tries. */
static void pin_file_content_errors(void **state)
{
    char pin[64], text[80];
    size_t n;

    (void)state;
    content_refused_as("empty.pin", "", 0, "is empty");
    content_refused_as("newline.pin", "\n1234\n", 6, "empty first line");
    real_pin(pin, sizeof(pin));
    /* The right PIN, then a NUL and more: strcspn-style reading would
     * present the right PIN, silently dropping what follows. */
    n = (size_t)snprintf(text, sizeof(text), "%s#junk\n", pin);
    text[strlen(pin)] = '\0';
    content_refused_as("nul.pin", text, n, "NUL byte in its first line");
    /* A NUL after the first line is no part of the PIN. */
    n = (size_t)snprintf(text, sizeof(text), "%s\n#", pin);
    text[n - 1] = '\0';
    tl_assert_err(
        login_with(pin_file_bytes("nul2.pin", text, n, 0600), NULL, false),
        GP11_OK);
}

static void locked_token_is_not_tried(void **state)
{
    int before = tl_count_lines(debug_log, "C_Login:");
    uint32_t ret;

    (void)state;
    setenv("GP11_FAULT", "pin-locked", 1);
    ret = login_with(tl_config()->pin_source, NULL, true);
    unsetenv("GP11_FAULT");
    tl_assert_err(ret, GP11_ERR_PIN_LOCKED);
    tl_assert_msg(ret, "is locked");
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), before);
}

static void final_try_is_not_risked(void **state)
{
    int before = tl_count_lines(debug_log, "C_Login:");
    uint32_t ret;

    (void)state;
    setenv("GP11_FAULT", "pin-final-try", 1);
    ret = login_with(tl_config()->pin_source, NULL, true);
    unsetenv("GP11_FAULT");
    tl_assert_err(ret, GP11_ERR_PIN_FINAL_TRY);
    tl_assert_msg(ret, "would lock the token");
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), before);
}

static void module_that_fails_to_initialise(void **state)
{
    uint32_t ret;

    (void)state;
    setenv("GP11_FAULT", "init-fail", 1);
    ret = login_with(tl_config()->pin_source, NULL, true);
    unsetenv("GP11_FAULT");
    tl_assert_err(ret, GP11_ERR_MODULE_INIT);
    tl_assert_msg(ret, "CKR_DEVICE_ERROR");
}

static void pin_never_reaches_the_log(void **state)
{
    char pin[64];

    (void)state;
    real_pin(pin, sizeof(pin));
    assert_true(tl_count_lines(debug_log, "C_Login:") > 0);
    assert_int_equal(tl_count_lines(debug_log, pin), 0);
    assert_int_equal(tl_count_lines(debug_log, "not-the-pin"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(right_pin_logs_in),
        cmocka_unit_test(wrong_pin_is_never_retried),
        cmocka_unit_test(pin_value_in_uri_logs_in),
        cmocka_unit_test(pin_source_in_uri_logs_in),
        cmocka_unit_test(pin_is_the_first_line),
        cmocka_unit_test(missing_pin_is_explained),
        cmocka_unit_test(pin_file_errors),
        cmocka_unit_test(pin_file_content_errors),
        cmocka_unit_test(pin_source_that_is_no_regular_file),
        cmocka_unit_test(locked_token_is_not_tried),
        cmocka_unit_test(final_try_is_not_risked),
        cmocka_unit_test(module_that_fails_to_initialise),
        cmocka_unit_test(pin_never_reaches_the_log),
    };
    int rc;

    assert_non_null(mkdtemp(dir));
    snprintf(debug_log, sizeof(debug_log), "%s/debug.log", dir);
    setenv("GSS_PKCS11_DEBUG", debug_log, 1);
    tl_config();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            rc = 1;
    }
    return rc;
}
