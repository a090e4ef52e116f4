/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failure causes for the administrator: every refused context and every
 * credential failure goes to syslog (LOG_AUTHPRIV, ident "gss-pkcs11"),
 * as sshd and KDCs log theirs ([log] syslog = yes|no, default yes).
 *
 * The line is sent to /dev/log by this file, not with syslog(3): openlog
 * would change the ident and facility of the program we are loaded into
 * (sshd, a KDC, a web server) for all its own messages. The text is the
 * recorded sentence of the failure, which never holds a PIN or key byte
 * (pkcs11/error.c keeps PINs out of every sentence).
 */
#include "gp11_log.h"
#include "gp11_error.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_PATH "/dev/log"
#define LINE_MAX_LEN 2048

/* 1 until a parsed configuration says otherwise (config.c). */
static atomic_int enabled = 1;

void gp11_log_configure(bool on)
{
    atomic_store(&enabled, on ? 1 : 0);
}

bool gp11_log_enabled(void)
{
    return atomic_load(&enabled) != 0;
}

/* Sends one datagram (or, for a stream /dev/log, one NUL-ended record). */
static void send_line(const char *line, size_t len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int types[2] = {SOCK_DGRAM, SOCK_STREAM};
    int saved = errno;

    memcpy(sa.sun_path, LOG_PATH, sizeof(LOG_PATH));
    for (int i = 0; i < 2; i++) {
        int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

        if (fd < 0)
            continue;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            /* A stream reader splits records at NUL. */
            (void)send(fd, line, types[i] == SOCK_STREAM ? len + 1 : len,
                       MSG_NOSIGNAL);
            close(fd);
            break;
        }
        close(fd);
        if (errno != EPROTOTYPE)
            break; /* no syslog daemon: nothing to do */
    }
    errno = saved;
}

void gp11_log_failure(const char *what, uint32_t code)
{
    char line[LINE_MAX_LEN], stamp[32];
    struct tm tm;
    time_t now;
    int n;

    if (!gp11_log_enabled() || code == GP11_OK)
        return;
    now = time(NULL);
    if (localtime_r(&now, &tm) == NULL ||
        strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
        snprintf(stamp, sizeof(stamp), "Jan  1 00:00:00");
    /* RFC 3164 as syslog(3) sends it: <PRI>TIMESTAMP TAG[PID]: MSG. */
    n = snprintf(line, sizeof(line),
                 "<%d>%s gss-pkcs11[%ld]: %s: %s (minor 0x%08x)",
                 LOG_AUTHPRIV | LOG_WARNING, stamp, (long)getpid(), what,
                 gp11_err_message(code), code);
    if (n < 0)
        return;
    send_line(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
