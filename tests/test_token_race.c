/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token selection while another process logs in (quirk token-info-race,
 * docs/token-layer.md 8): SoftHSM2 rewrites its token file on every
 * C_Login, and a C_GetTokenInfo at that moment fails or loses the label.
 * A child process logs in and out in a loop; meanwhile this process
 * opens the token again and again, and every open must find it.
 *
 * It runs on an environment of its own (<tokens>/<kind>-race, made by
 * tests/setup-tokens.sh): SoftHSM2 truncates and rewrites its token file
 * in C_Login, and a process killed in that moment empties it for good,
 * which the token every other test shares must not risk. Only the child
 * logs in, and it ends by itself.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Seconds each side runs. */
#define RACE_SECONDS 2.0

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child: opens, logs in and closes until the time is up. It is never
 * killed: SoftHSM2 truncates and rewrites its token file in C_Login, and a
 * process killed in that moment leaves the file empty, the token gone. */
static void login_loop(double end)
{
    while (now() < end) {
        struct gp11_token *tok = NULL;
        struct gp11_token_opts o;

        tl_opts(tl_config(), &o);
        if (gp11_token_open(&o, &tok) == GP11_OK) {
            gp11_token_login(tok);
            gp11_token_close(tok);
        }
    }
    _exit(0);
}

static void open_while_another_process_logs_in(void **state)
{
    unsigned opens = 0, failures = 0;
    char first[512] = "";
    double end;
    pid_t pid;
    int st;

    (void)state;
    tl_config(); /* before the fork: the configuration parsed once */
    end = now() + RACE_SECONDS;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        login_loop(end);
    while (now() < end) {
        struct gp11_token *tok = NULL;
        struct gp11_token_opts o;
        uint32_t ret;

        tl_opts(tl_config(), &o);
        ret = gp11_token_open(&o, &tok);
        opens++;
        if (ret != GP11_OK && failures++ == 0)
            snprintf(first, sizeof(first), "%s", gp11_err_message(ret));
        gp11_token_close(tok);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("# %u opens, %u failed\n", opens, failures);
    if (failures)
        fail_msg("%u of %u opens failed while another process logged in; "
                 "first: %s",
                 failures, opens, first);
    assert_true(opens > 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_while_another_process_logs_in),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
