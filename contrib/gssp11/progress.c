/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Progress of gssp11's long commands (issue 12): one line on stderr,
 * rewritten in place ("\r", then the text, then erase-to-end-of-line),
 * and only while stderr is a terminal. When it is not (a file, a pipe,
 * cron, a test), not one byte is written, so logs and parsed output stay
 * as they were.
 */
#include "gssp11.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* A progress line is on the terminal and must be erased before output. */
static bool shown;

void gssp11_progress_start(struct gssp11_progress *p, const char *what,
                           unsigned total)
{
    p->on = isatty(STDERR_FILENO) == 1;
    p->what = what;
    p->done = 0;
    p->total = total;
}

void gssp11_progress_step(struct gssp11_progress *p, const char *fmt, ...)
{
    char item[256];
    va_list ap;

    p->done++;
    if (!p->on)
        return;
    va_start(ap, fmt);
    vsnprintf(item, sizeof(item), fmt, ap);
    va_end(ap);
    fflush(stdout); /* what was printed comes before the line */
    fprintf(stderr, "\r%s [%u/%u] %s\033[K", p->what, p->done, p->total, item);
    fflush(stderr);
    shown = true;
}

void gssp11_progress_clear(void)
{
    if (!shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    shown = false;
}

void gssp11_progress_end(struct gssp11_progress *p)
{
    if (p->on)
        gssp11_progress_clear();
    p->on = false;
}
