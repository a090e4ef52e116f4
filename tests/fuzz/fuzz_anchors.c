/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the trust-anchor reader (gp11_trust_load in
 * core/certval.c) on a file or a directory written from the input.
 *
 * Input: byte 0 bits 0-1 choose the layout: 0 one file "anchors.pem",
 * 1 one file without suffix, 2 and 3 a directory. A file's content is
 * the rest of the input. A directory's entries are read from the rest as
 * (u8 kind, u16 length, content): kind % 6 gives the entry "NN.pem",
 * "NN.CRT", "NN.txt" (not an anchor file), a subdirectory "NN.pem", a
 * symlink "NN.crt" to the previous entry, or "NN.crt".
 *
 * On success the anchors are used once: a reference is taken and both
 * are dropped, so a store that was half made shows up under ASan.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "gp11_certval.h"
#include "gp11_error.h"

#define MAX_ENTRIES 8

static char dir[64];

/* nftw callback removing one entry. */
static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Empties the scratch directory (keeping it). */
static void clear_dir(void)
{
    char sub[96];

    snprintf(sub, sizeof(sub), "%s/in", dir);
    nftw(sub, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
    if (dir[0] != '\0')
        nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");

    (void)argc;
    (void)argv;
    /* Files in memory (tmpfs) run ten times faster than on disk. */
    if (tmp == NULL || strlen(tmp) >= 32)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/gp11-fuzz-anchors-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL)
        FZ_FAIL("mkdtemp %s: %s", dir, strerror(errno));
    atexit(cleanup);
    return 0;
}

/* Writes n bytes to a new file path, or aborts. */
static void write_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
        FZ_FAIL("cannot write %s: %s", path, strerror(errno));
    close(fd);
}

/* Builds the directory of entries described by the input. */
static void make_dir(struct fz_in *in, const char *top)
{
    static const char *const names[] = {"%s/%02d.pem", "%s/%02d.CRT",
                                        "%s/%02d.txt", "%s/%02d.pem",
                                        "%s/%02d.crt", "%s/%02d.crt"};
    char path[128], prev[128] = "";
    const uint8_t *p;
    size_t n;

    if (mkdir(top, 0755) != 0)
        FZ_FAIL("mkdir %s: %s", top, strerror(errno));
    for (int i = 0; i < MAX_ENTRIES && in->left > 0; i++) {
        unsigned kind = fz_u8(in) % 6;

        p = fz_piece16(in, &n);
        snprintf(path, sizeof(path), names[kind], top, i);
        if (kind == 3) {
            if (mkdir(path, 0755) != 0)
                FZ_FAIL("mkdir %s: %s", path, strerror(errno));
        } else if (kind == 4 && prev[0] != '\0') {
            if (symlink(prev, path) != 0)
                FZ_FAIL("symlink %s: %s", path, strerror(errno));
        } else {
            write_file(path, p, n);
        }
        snprintf(prev, sizeof(prev), "%s", path);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    unsigned layout = fz_u8(&in) & 3;
    struct gp11_trust *t = NULL, *again;
    char path[96];
    const uint8_t *p;
    size_t n;

    clear_dir();
    snprintf(path, sizeof(path), "%s/in", dir);
    if (layout >= 2) {
        make_dir(&in, path);
    } else {
        if (mkdir(path, 0755) != 0)
            FZ_FAIL("mkdir %s: %s", path, strerror(errno));
        snprintf(path, sizeof(path), "%s/in/%s", dir,
                 layout == 0 ? "anchors.pem" : "anchors");
        p = fz_rest(&in, &n);
        write_file(path, p, n);
    }
    if (gp11_trust_load(path, &t) == GP11_OK) {
        if (t == NULL)
            FZ_FAIL("trust_load succeeded without anchors");
        again = gp11_trust_ref(t);
        gp11_trust_free(t);
        gp11_trust_free(again);
    } else if (t != NULL) {
        FZ_FAIL("trust_load failed but returned anchors");
    }
    gp11_err_clear();
    return 0;
}
