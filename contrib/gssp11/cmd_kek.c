/* SPDX-License-Identifier: Apache-2.0 */
/* gssp11 kek: the key-encryption key of context export (protocol.md 5). */
#include "gp11_config.h"
#include "gp11_kek.h"
#include "gp11_pkcs11.h"
#include "gssp11.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void kek_usage(FILE *f)
{
    fprintf(f,
            "Usage: gssp11 kek create [--config FILE] [--label LABEL]\n"
            "       gssp11 kek show [--config FILE] [--label LABEL]\n\n"
            "create generates the export key-encryption key on the "
            "configured token:\nAES-256, wrap/unwrap only, never extractable, "
            "CKA_TRUSTED where the\ntoken lets a user set it. show checks "
            "it. The label defaults to\n[policy] export-kek, else \"%s\".\n\n"
            "  -c, --config FILE  configuration file\n"
            "  -l, --label LABEL  CKA_LABEL of the KEK\n"
            "  -h, --help         this text\n",
            GP11_KEK_DEFAULT_LABEL);
}

/* Opens and logs in to the token of a configuration. */
static uint32_t open_token(const struct gp11_config *cfg,
                           struct gp11_token **tok)
{
    struct gp11_token_opts o = {0};
    uint32_t ret;

    o.module = cfg->module;
    o.init_params = cfg->init_params;
    o.uri = cfg->token_uri;
    o.pin_source = cfg->pin_source;
    o.quirks = cfg->quirks;
    ret = gp11_token_open(&o, tok);
    if (ret == GP11_OK)
        ret = gp11_token_login(*tok);
    return ret;
}

int gssp11_cmd_kek(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"label", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct gp11_config *cfg = NULL;
    struct gp11_token *tok = NULL;
    const char *path = NULL, *label = NULL, *verb;
    struct gp11_kek kek;
    bool trusted = false;
    uint32_t ret;
    int c;

    while ((c = getopt_long(argc, argv, "c:l:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'l') {
            label = optarg;
        } else if (c == 'h') {
            kek_usage(stdout);
            return 0;
        } else {
            kek_usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc ||
        (strcmp(argv[optind], "create") && strcmp(argv[optind], "show"))) {
        kek_usage(stderr);
        return 2;
    }
    verb = argv[optind];
    ret = gp11_config_load(path, &cfg);
    if (ret == GP11_OK && label == NULL)
        label = cfg->export_kek ? cfg->export_kek : GP11_KEK_DEFAULT_LABEL;
    if (ret == GP11_OK)
        ret = open_token(cfg, &tok);
    if (ret == GP11_OK && strcmp(verb, "create") == 0) {
        ret = gp11_kek_create(tok, label, &trusted);
        if (ret == GP11_OK)
            printf("created the export KEK '%s'%s\n", label,
                   trusted ? " (CKA_TRUSTED)"
                           : " (not CKA_TRUSTED: the token lets only its SO "
                             "set it)");
    }
    if (ret == GP11_OK && (ret = gp11_kek_find(tok, label, &kek)) == GP11_OK &&
        strcmp(verb, "show") == 0) {
        printf("export KEK '%s': AES key wrap, CKA_TRUSTED %s; context export "
               "%s\n",
               label, kek.trusted ? "yes" : "no",
               cfg->allow_export ? "allowed ([policy] allow-export = yes)"
                                 : "forbidden ([policy] allow-export = no)");
    }
    gp11_token_close(tok);
    gp11_config_free(cfg);
    return ret == GP11_OK ? 0 : gssp11_fail(ret);
}
