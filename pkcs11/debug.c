/* SPDX-License-Identifier: Apache-2.0 */
/* Debug log: GSS_PKCS11_DEBUG=<file>, opened once, appended per line. */
#include "gp11_debug.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

bool gp11_debug_on;
static int debug_fd = -1;
static pthread_once_t debug_once = PTHREAD_ONCE_INIT;

/* Reads the variable with secure_getenv so setuid programs ignore it. */
static void debug_open(void)
{
    const char *path = secure_getenv("GSS_PKCS11_DEBUG");

    if (path == NULL || *path == '\0')
        return;
    debug_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (debug_fd >= 0)
        gp11_debug_on = true;
}

void gp11_debug_init(void)
{
    pthread_once(&debug_once, debug_open);
}

void gp11_debug_write(const char *func, const char *fmt, ...)
{
    char line[1024];
    struct timespec ts;
    va_list ap;
    int n, m;

    if (debug_fd < 0)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    n = snprintf(line, sizeof(line),
                 "[%lld.%06ld] gss-pkcs11[%d/%ld] %s: ", (long long)ts.tv_sec,
                 ts.tv_nsec / 1000, (int)getpid(), (long)syscall(SYS_gettid),
                 func);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line so concurrent writers do not interleave. */
    if (write(debug_fd, line, (size_t)n) < 0)
        return;
}
