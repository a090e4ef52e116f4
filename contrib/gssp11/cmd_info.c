/* SPDX-License-Identifier: Apache-2.0 */
/* gssp11 info: module, token, login, capabilities, identities. */
#include "devca.h"
#include "gp11_certval.h"
#include "gp11_config.h"
#include "gp11_pkcs11.h"
#include "gp11_revocation.h"
#include "gssp11.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void info_usage(FILE *f)
{
    fprintf(f, "Usage: gssp11 info [--config FILE]\n\n"
               "Shows the PKCS#11 module and token that the configuration "
               "names,\nthe login state, which suites and QOPs the token "
               "supports (and why\nnot), and the identities on the token.\n\n"
               "  -c, --config FILE  configuration file (default: "
               "$GSS_PKCS11_CONF\n                     or the system "
               "gss-pkcs11.conf)\n"
               "  -h, --help         this text\n");
}

/* Prints a blank-padded PKCS#11 string field without the padding. */
static void print_padded(const unsigned char *s, size_t n)
{
    while (n > 0 && s[n - 1] == ' ')
        n--;
    printf("%.*s", (int)n, (const char *)s);
}

static void print_module_and_token(struct gp11_token *tok)
{
    struct gp11_module *mod = gp11_token_module(tok);
    const CK_INFO *mi = gp11_module_info(mod);
    const CK_TOKEN_INFO *ti = gp11_token_info(tok);
    char label[33];
    unsigned q = gp11_token_quirks(tok);

    printf("Module:    %s\n           ", gp11_module_path(mod));
    print_padded(mi->libraryDescription, sizeof(mi->libraryDescription));
    printf(" %u.%u, PKCS#11 %u.%u\n", mi->libraryVersion.major,
           mi->libraryVersion.minor, mi->cryptokiVersion.major,
           mi->cryptokiVersion.minor);
    gp11_token_label(ti, label);
    printf("Token:     '%s' in slot %lu\n           ", label,
           (unsigned long)gp11_token_slot(tok));
    print_padded(ti->manufacturerID, sizeof(ti->manufacturerID));
    printf(", model ");
    print_padded(ti->model, sizeof(ti->model));
    printf(", serial ");
    print_padded(ti->serialNumber, sizeof(ti->serialNumber));
    printf("\nQuirks:    ");
    if (q == 0)
        printf("none");
    for (unsigned bit = 1; bit && bit <= q; bit <<= 1)
        if (q & bit)
            printf("%s%s", gp11_quirk_name(bit),
                   (q & ~((bit << 1) - 1)) ? ", " : "");
    printf("\n");
}

static void print_capabilities(const struct gp11_caps *caps)
{
    size_t n;
    const struct gp11_offering *o = gp11_offerings(&n);
    enum gp11_feature missing;

    printf("\nToken mechanisms (%zu listed by the token):\n", caps->mech_count);
    printf("  %-26s %-28s %s\n", "feature", "mechanism", "available");
    for (int f = 0; f < GP11_F_COUNT; f++) {
        const struct gp11_feature_state *st = &caps->f[f];
        const char *mech = gp11_ckm_name(gp11_feature_mech(f));

        printf("  %-26s %-28s ", gp11_feature_name(f), mech ? mech : "?");
        if (st->available && st->unlisted)
            printf("yes (unlisted; quirk)\n");
        else if (st->available)
            printf("yes (key sizes %lu-%lu)\n",
                   (unsigned long)st->info.ulMinKeySize,
                   (unsigned long)st->info.ulMaxKeySize);
        else
            printf("no: %s\n", st->why_not);
    }
    printf("\nWhat gss-pkcs11 can offer on this token:\n");
    printf("  %-10s %-18s %-10s %s\n", "kind", "name", "available",
           "description");
    for (size_t i = 0; i < n; i++) {
        bool ok = gp11_offering_available(caps, &o[i], &missing);

        printf("  %-10s %-18s %-10s %s", o[i].kind, o[i].name,
               ok ? "yes" : "no", o[i].summary);
        if (!ok)
            printf(" [needs %s]", gp11_feature_name(missing));
        printf("\n");
    }
}

/* Key type of an identity as a short word. */
static const char *key_type_name(CK_KEY_TYPE t)
{
    switch (t) {
    case CKK_EC:
        return "EC";
    case CKK_RSA:
        return "RSA";
    default:
        return "other";
    }
}

static uint32_t print_identities(struct gp11_token *tok)
{
    struct gp11_identity **ids = NULL;
    char subject[256], expiry[64];
    size_t n = 0;
    uint32_t ret;

    ret = gp11_identity_list(tok, &ids, &n);
    if (ret != GP11_OK)
        return ret;
    printf("\nIdentities (private key + certificate sharing CKA_ID): %zu\n", n);
    if (n)
        printf("  %-16s %-5s %-36s %s\n", "label", "key", "subject", "expires");
    for (size_t i = 0; i < n; i++) {
        if (gp11_devca_describe(ids[i]->cert_der, ids[i]->cert_len, subject,
                                sizeof(subject), expiry,
                                sizeof(expiry)) != GP11_OK) {
            snprintf(subject, sizeof(subject), "(unparsable certificate)");
            expiry[0] = '\0';
        }
        printf("  %-16s %-5s %-36s %s\n", ids[i]->label,
               key_type_name(ids[i]->key_type), subject, expiry);
        /* The intermediates sent with it (protocol.md 2.11). */
        for (size_t j = 0; j < ids[i]->n_chain; j++) {
            if (gp11_devca_describe(ids[i]->chain_der[j], ids[i]->chain_len[j],
                                    subject, sizeof(subject), expiry,
                                    sizeof(expiry)) != GP11_OK)
                snprintf(subject, sizeof(subject), "(unparsable)");
            printf("  %-16s %-5s %-36s %s\n", "", "", subject, "(chain)");
        }
        gp11_identity_free(ids[i]);
    }
    free(ids);
    return GP11_OK;
}

/* Opens the token that the configuration names. */
static uint32_t open_configured(const struct gp11_config *cfg,
                                struct gp11_token **tok)
{
    struct gp11_token_opts o = {
        .module = cfg->module,
        .init_params = cfg->init_params,
        .uri = cfg->token_uri,
        .pin_source = cfg->pin_source,
        .quirks = cfg->quirks,
        .max_sessions = cfg->max_sessions,
    };

    return gp11_token_open(&o, tok);
}

int gssp11_cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct gp11_config *cfg = NULL;
    struct gp11_token *tok = NULL;
    struct gp11_trust *trust = NULL;
    struct gp11_crls *crls = NULL;
    struct gp11_caps caps;
    const char *path = NULL;
    uint32_t ret;
    int c, rc = 1;

    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'h') {
            info_usage(stdout);
            return 0;
        } else {
            info_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        gssp11_failf("info: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    ret = gp11_config_load(path, &cfg);
    if (ret == GP11_OK)
        ret = open_configured(cfg, &tok);
    if (ret != GP11_OK)
        goto done;
    printf("Config:    %s\n", cfg->path);
    print_module_and_token(tok);
    ret = gp11_token_login(tok);
    if (ret != GP11_OK)
        goto done;
    printf("Login:     %s\n", (gp11_token_info(tok)->flags & CKF_LOGIN_REQUIRED)
                                  ? "logged in as user"
                                  : "not required by the token");
    ret = gp11_caps_probe(tok, &caps);
    if (ret != GP11_OK)
        goto done;
    /* The plugin's start-up, in its order: token, login, probe, anchors. */
    if (cfg->trust_anchors) {
        ret = gp11_trust_load(cfg->trust_anchors, &trust);
        if (ret != GP11_OK)
            goto done;
        printf("Trust:     %s\n", cfg->trust_anchors);
    } else {
        printf("Trust:     no anchors configured: peers' certificates "
               "cannot be verified\n");
    }
    /* The CRLs, read and refused exactly as the plugin does. */
    if (cfg->trust_crls) {
        ret = gp11_crls_load(cfg->trust_crls,
                             cfg->crl_policy == GP11_CONFIG_CRL_IF_PRESENT
                                 ? GP11_CRL_IF_PRESENT
                                 : GP11_CRL_REQUIRE,
                             &crls);
        if (ret != GP11_OK)
            goto done;
        printf("CRLs:      %s (crl-policy %s)\n", cfg->trust_crls,
               cfg->crl_policy == GP11_CONFIG_CRL_IF_PRESENT ? "if-present"
                                                             : "require");
    } else {
        printf("CRLs:      none configured: revocation is not checked\n");
    }
    print_capabilities(&caps);
    ret = print_identities(tok);
    if (ret == GP11_OK)
        rc = 0;
done:
    if (ret != GP11_OK)
        rc = gssp11_fail(ret);
    gp11_trust_free(trust);
    gp11_crls_free(crls);
    gp11_token_close(tok);
    gp11_config_free(cfg);
    return rc;
}
