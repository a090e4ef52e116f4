/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two checks of the SSPI face's binary interface:
 *   sspi_abi_cmp REF PROG...     runs each program and fails unless every
 *                                output equals REF's (sspi_abi_body.c);
 *   sspi_abi_cmp --exports LIB MAP
 *                                fails unless LIB's dynamic symbols are
 *                                exactly MAP's global names, each with
 *                                MAP's version node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUT (1 << 20)

/* The whole output of a shell command, malloc'ed; NULL if it failed. */
static char *run(const char *cmd)
{
    char *buf = calloc(1, MAX_OUT);
    size_t n = 0, got;
    FILE *p = popen(cmd, "r");

    if (p == NULL || buf == NULL) {
        free(buf);
        return NULL;
    }
    while ((got = fread(buf + n, 1, MAX_OUT - 1 - n, p)) > 0)
        n += got;
    if (pclose(p) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Prints the first line where a and b differ. */
static void first_difference(const char *a, const char *b)
{
    int line = 1;

    while (*a && *a == *b) {
        if (*a == '\n')
            line++;
        a++, b++;
    }
    while (line > 1 && a[-1] != '\n')
        a--, b--;
    printf("line %d: '%.*s' vs '%.*s'\n", line, (int)strcspn(a, "\n"), a,
           (int)strcspn(b, "\n"), b);
}

/* The map's version node and global names, as nm prints them sorted. */
static int exports(const char *lib, const char *map)
{
    char cmd[4096], *want, *have;
    int ret;

    snprintf(cmd, sizeof(cmd),
             "node=$(sed -n 's/^\\([A-Z0-9_]*\\) {$/\\1/p' '%s'); "
             "sed -n '/global:/,/local:/p' '%s' | grep -v ':' | "
             "tr -d ' ;' | grep -v '^$' | sed \"s/$/@@$node/\"; "
             "echo \"$node\"",
             map, map);
    want = run(cmd);
    snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' | awk '{print $3}'",
             lib);
    have = run(cmd);
    if (want == NULL || have == NULL) {
        printf("could not read %s or %s\n", map, lib);
        return 1;
    }
    /* Sort both the same way. */
    snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' | LC_ALL=C sort", want);
    free(want);
    want = run(cmd);
    snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' | LC_ALL=C sort", have);
    free(have);
    have = run(cmd);
    ret = want && have && strcmp(want, have) == 0 ? 0 : 1;
    printf("expected:\n%s\nexported by %s:\n%s", want ? want : "?", lib,
           have ? have : "?");
    if (ret)
        printf("FAIL: the exports differ from %s\n", map);
    free(want);
    free(have);
    return ret;
}

int main(int argc, char **argv)
{
    char *ref;
    int ret = 0;

    if (argc == 4 && strcmp(argv[1], "--exports") == 0)
        return exports(argv[2], argv[3]);
    if (argc < 3) {
        fprintf(stderr, "usage: %s REF PROG... | --exports LIB MAP\n", argv[0]);
        return 2;
    }
    ref = run(argv[1]);
    if (ref == NULL || *ref == '\0') {
        printf("FAIL: %s printed nothing\n", argv[1]);
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        char *out = run(argv[i]);

        if (out == NULL || strcmp(ref, out) != 0) {
            printf("FAIL: %s differs from %s: ", argv[i], argv[1]);
            if (out)
                first_difference(ref, out);
            else
                printf("it failed\n");
            ret = 1;
        } else {
            printf("ok: %s equals %s\n", argv[i], argv[1]);
        }
        free(out);
    }
    if (ret == 0)
        printf("%s", ref);
    free(ref);
    return ret;
}
