/* SPDX-License-Identifier: Apache-2.0 */
/* gssp11 qop: the QOP table and what the configured token can do of it. */
#include "gp11_algs.h"
#include "gp11_config.h"
#include "gp11_pkcs11.h"
#include "gp11_qop.h"
#include "gssp11.h"

#include <getopt.h>
#include <stdio.h>

static void qop_usage(FILE *f)
{
    fprintf(f, "Usage: gssp11 qop [--config FILE]\n\n"
               "Lists the QOP values of gss-pkcs11, the token mechanism each "
               "selects,\nand whether the configured token can run it. A "
               "QOP is usable on a\ncontext only if the peer's token can run "
               "it too.\n\n"
               "  -c, --config FILE  configuration file\n"
               "  -h, --help         this text\n");
}

/* Prints the table for a probed token. */
static void print_qops(const struct gp11_caps *caps, bool extra)
{
    size_t n;
    const struct gp11_qop *t = gp11_qop_table(&n);

    printf("  %-4s %-18s %-24s %-5s %-14s %s\n", "QOP", "name", "mechanism",
           "tag", "WRAP", "this token");
    for (size_t i = 0; i < n; i++) {
        const char *mech = gp11_ckm_name(t[i].mech);
        bool have = gp11_caps_have(caps, t[i].feature);

        printf("  %-4u %-18s %-24s %-5zu %-14s ", t[i].value, t[i].name,
               mech ? mech : "?", t[i].tag_len,
               t[i].kind == GP11_QOP_AEAD ? "sealed or not" : "not sealed");
        if (!have)
            printf("no: %s %s\n", gp11_feature_name(t[i].feature),
                   caps->f[t[i].feature].why_not);
        else if (t[i].value != 0 && !extra)
            printf("no: extra-qops = no\n");
        else
            printf("yes\n");
    }
}

int gssp11_cmd_qop(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct gp11_token_opts o = {0};
    struct gp11_config *cfg = NULL;
    struct gp11_token *tok = NULL;
    struct gp11_caps caps;
    const char *path = NULL;
    uint32_t ret;
    int c;

    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'h') {
            qop_usage(stdout);
            return 0;
        } else {
            qop_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        gssp11_failf("qop: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    ret = gp11_config_load(path, &cfg);
    if (ret == GP11_OK) {
        o.module = cfg->module;
        o.init_params = cfg->init_params;
        o.uri = cfg->token_uri;
        o.pin_source = cfg->pin_source;
        o.quirks = cfg->quirks;
        ret = gp11_token_open(&o, &tok);
    }
    if (ret == GP11_OK)
        ret = gp11_caps_probe(tok, &caps);
    if (ret == GP11_OK) {
        printf("QOP values (docs/protocol.md 3.3), on the token of %s:\n",
               cfg->path);
        print_qops(&caps, cfg->extra_qops);
    }
    gp11_token_close(tok);
    gp11_config_free(cfg);
    return ret == GP11_OK ? 0 : gssp11_fail(ret);
}
