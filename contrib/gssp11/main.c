/* SPDX-License-Identifier: Apache-2.0 */
/* gssp11: command dispatch, usage and error reporting. */
#include "gssp11.h"
#include "gp11_build_config.h"
#include "gp11_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"setup-dev", gssp11_cmd_setup_dev,
     "create a development token, CA and identities in a directory"},
    {"info", gssp11_cmd_info,
     "show the configured module, token, capabilities and identities"},
    {"qop", gssp11_cmd_qop,
     "show the QOP values and which the configured token can run"},
    {"kek", gssp11_cmd_kek,
     "create or show the key-encryption key of context export"},
    {"check", gssp11_cmd_check,
     "check everything the plugin needs on this host (ok/WARN/FAIL)"},
    {"identity", gssp11_cmd_identity,
     "make a key and CSR, import its certificate, list identities"},
};

int gssp11_fail(uint32_t code)
{
    gssp11_progress_clear();
    fprintf(stderr, "gssp11: %s\n", gp11_err_message(code));
    return 1;
}

int gssp11_failf(const char *fmt, ...)
{
    va_list ap;

    gssp11_progress_clear();
    fputs("gssp11: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: gssp11 COMMAND [OPTIONS]\n\n"
            "Administration tool of gss-pkcs11 %s.\n\nCommands:\n",
            GP11_VERSION);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'gssp11 COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("gssp11 (gss-pkcs11) %s\n", GP11_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    gssp11_failf("unknown command '%s' (try 'gssp11 --help')", argv[1]);
    return 2;
}
