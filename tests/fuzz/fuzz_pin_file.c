/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the PIN file reader of the token layer
 * (pkcs11/login.c). The reader is static, so it is reached through the
 * nearest entry point, gp11_token_login, on a stub token
 * (pin_stub_module.c) that records the PIN it is given: each input is
 * written to a PIN file, a token is opened with that file as its
 * pin-source (named in one of the accepted forms, or in the URI) and
 * logged in.
 *
 * Input: byte 0 says how (bits 0-1: "/path", "file:/path",
 * "file:///path", or the URI's pin-source; bits 2-3: a regular file, a
 * symlink to one, a directory, a regular file -- or a FIFO when
 * GP11_FUZZ_PIN_FIFO is set; bits 4-6: its mode), the rest is the file's
 * content. The FIFO is off by default: today's reader opens it without
 * O_NONBLOCK and waits for a writer for ever (issue 10 item 2); once it
 * refuses FIFOs, set the variable (a login that takes over 0.5 s fails).
 *
 * Invariants: a login that succeeds presented exactly the file's first
 * line (up to CR or LF; never empty, never holding a NUL) to C_Login,
 * from a regular file that is not
 * a symlink and not writable by group or others, nor readable by others;
 * a refused pin-source presents nothing; no session is left open.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "gp11_error.h"
#include "gp11_pkcs11.h"

#ifndef GP11_FUZZ_STUB_MODULE
#error "GP11_FUZZ_STUB_MODULE must name pin_stub_module.so"
#endif

#define STUB_URI "pkcs11:token=gp11-fuzz-stub"

static char dir[64];
static char pin_path[128];
static char real_path[128];
static struct gp11_token *base; /* keeps the stub module loaded */
static unsigned long (*last_pin)(const unsigned char **, unsigned long *);
static unsigned long (*open_sessions)(void);
static bool fifo; /* GP11_FUZZ_PIN_FIFO: kind 3 is a FIFO */

static const mode_t modes[8] = {0600, 0400, 0640, 0644, 0620, 0602, 0000, 0700};

/* nftw callback removing one entry of the scratch directory. */
static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    gp11_token_close(base);
    if (dir[0] != '\0')
        nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct gp11_token_opts o = {0};
    const char *tmp = getenv("TMPDIR");
    uint32_t ret;
    void *dl;

    (void)argc;
    (void)argv;
    /* Files in memory (tmpfs) run ten times faster than on disk. */
    if (tmp == NULL || strlen(tmp) >= 32)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/gp11-fuzz-pin-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL)
        FZ_FAIL("mkdtemp %s: %s", dir, strerror(errno));
    snprintf(pin_path, sizeof(pin_path), "%s/user.pin", dir);
    snprintf(real_path, sizeof(real_path), "%s/real.pin", dir);
    atexit(cleanup);
    fifo = getenv("GP11_FUZZ_PIN_FIFO") != NULL;
    o.module = GP11_FUZZ_STUB_MODULE;
    o.uri = STUB_URI;
    ret = gp11_token_open(&o, &base);
    if (ret != GP11_OK)
        FZ_FAIL("cannot open the stub token: %s", gp11_err_message(ret));
    dl = dlopen(GP11_FUZZ_STUB_MODULE, RTLD_NOW | RTLD_NOLOAD);
    if (dl == NULL)
        FZ_FAIL("the stub module is not loaded: %s", dlerror());
    *(void **)&last_pin = dlsym(dl, "gp11_stub_last_pin");
    *(void **)&open_sessions = dlsym(dl, "gp11_stub_open_sessions");
    if (last_pin == NULL || open_sessions == NULL)
        FZ_FAIL("the stub module lacks its probes");
    return 0;
}

/* Writes n bytes to path (created with mode), or aborts. */
static void write_file(const char *path, const uint8_t *p, size_t n,
                       mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || fchmod(fd, mode))
        FZ_FAIL("cannot write %s: %s", path, strerror(errno));
    close(fd);
}

/* Removes whatever the previous input left at path. */
static void clear(const char *path)
{
    if (unlink(path) != 0 && errno == EISDIR)
        rmdir(path);
    else if (errno != ENOENT && access(path, F_OK) == 0)
        rmdir(path);
}

/* The first line of the file as the reader must take it. */
static size_t first_line(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] != '\r' && p[i] != '\n')
        i++;
    return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    uint8_t how = fz_u8(&in);
    unsigned naming = how & 3, kind = (how >> 2) & 3;
    mode_t mode = modes[(how >> 4) & 7];
    struct gp11_token_opts o = {0};
    struct gp11_token *tok = NULL;
    const unsigned char *pin;
    unsigned long before, after, pin_len, sessions;
    struct timespec t0, t1;
    char src[192], uri[256];
    const uint8_t *content;
    size_t n, want;
    bool allowed;
    uint32_t ret;

    content = fz_rest(&in, &n);
    clear(pin_path);
    clear(real_path);
    if (kind == 1) {
        write_file(real_path, content, n, mode);
        if (symlink(real_path, pin_path) != 0)
            FZ_FAIL("symlink: %s", strerror(errno));
    } else if (kind == 2) {
        if (mkdir(pin_path, mode | 0700) != 0)
            FZ_FAIL("mkdir: %s", strerror(errno));
    } else if (kind == 3 && fifo) {
        if (mkfifo(pin_path, mode) != 0)
            FZ_FAIL("mkfifo: %s", strerror(errno));
    } else {
        write_file(pin_path, content, n, mode);
    }
    o.module = GP11_FUZZ_STUB_MODULE;
    o.uri = STUB_URI;
    if (naming == 0)
        snprintf(src, sizeof(src), "%s", pin_path);
    else if (naming == 1)
        snprintf(src, sizeof(src), "file:%s", pin_path);
    else
        snprintf(src, sizeof(src), "file://%s", pin_path);
    if (naming == 3) {
        /* The URI's pin-source (the path has no character to escape). */
        snprintf(uri, sizeof(uri), "%s?pin-source=file:%s", STUB_URI, pin_path);
        o.uri = uri;
    } else {
        o.pin_source = src;
    }
    sessions = open_sessions();
    before = last_pin(&pin, &pin_len);
    ret = gp11_token_open(&o, &tok);
    if (ret != GP11_OK)
        FZ_FAIL("cannot open the stub token: %s", gp11_err_message(ret));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ret = gp11_token_login(tok);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    after = last_pin(&pin, &pin_len);
    /* libFuzzer's timer interrupts a blocked open() (EINTR) before its
     * -timeout fires, so a reader that waits on a FIFO is caught here. */
    if (kind == 3 && fifo &&
        (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000 >
            500)
        FZ_FAIL("the PIN reader waited over 0.5 s on a FIFO");
    allowed =
        (kind == 0 || kind == 3) && (mode & (S_IROTH | S_IWOTH | S_IWGRP)) == 0;
    if (ret == GP11_OK) {
        want = first_line(content, n);
        if (want == 0 || memchr(content, '\0', want) != NULL)
            FZ_FAIL("a first line of %zu bytes%s was presented as a PIN", want,
                    want ? " holding a NUL" : "");
        if (!allowed)
            FZ_FAIL("a PIN was read from a %s of mode %03o",
                    kind == 1 ? "symlink" : "file that is not regular",
                    (unsigned)mode);
        if (after != before + 1)
            FZ_FAIL("login succeeded with %lu C_Login calls", after - before);
        if (pin_len != want || memcmp(pin, content, want) != 0)
            FZ_FAIL("C_Login got %lu bytes, the file's first line has %zu",
                    pin_len, want);
    } else if (ret == GP11_ERR_PIN_SOURCE && after != before) {
        FZ_FAIL("a refused PIN file still reached C_Login");
    }
    gp11_token_close(tok);
    if (open_sessions() != sessions)
        FZ_FAIL("%lu sessions open after the login, %lu before",
                open_sessions(), sessions);
    gp11_err_clear();
    return 0;
}
