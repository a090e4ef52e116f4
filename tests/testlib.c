/* SPDX-License-Identifier: Apache-2.0 */
/* Shared set-up of the token tests. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct gp11_config *cached;

struct gp11_config *tl_config(void)
{
    /* GP11_TEST_CONF: the test's own copy of the path, for runs in which
     * the plugin must find its configuration without any environment
     * (tests/install-mit.sh); the plugin never reads it. */
    const char *path = getenv("GSS_PKCS11_CONF") ? getenv("GSS_PKCS11_CONF")
                                                  : getenv("GP11_TEST_CONF");
    const char *skip = getenv("GP11_TEST_SKIP_FILE");
    uint32_t ret;

    if (cached)
        return cached;
    if (skip && access(skip, F_OK) == 0) {
        fprintf(stderr, "token package not installed: skipping\n");
        exit(TL_SKIP);
    }
    if (path == NULL) {
        fprintf(stderr, "GSS_PKCS11_CONF is not set (run via meson test)\n");
        exit(1);
    }
    ret = gp11_config_load(path, &cached);
    if (ret != GP11_OK) {
        fprintf(stderr, "cannot load %s: %s (did the setup test run?)\n", path,
                gp11_err_message(ret));
        exit(1);
    }
    return cached;
}

const char *tl_kind(void)
{
    const char *k = getenv("GP11_TEST_TOKEN");

    return k ? k : "softhsm";
}

void tl_opts(const struct gp11_config *cfg, struct gp11_token_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->module = cfg->module;
    o->init_params = cfg->init_params;
    o->uri = cfg->token_uri;
    o->pin_source = cfg->pin_source;
    o->quirks = cfg->quirks;
    o->max_sessions = cfg->max_sessions;
}

struct gp11_token *tl_open(void)
{
    struct gp11_token_opts o;
    struct gp11_token *tok = NULL;

    tl_opts(tl_config(), &o);
    tl_assert_err(gp11_token_open(&o, &tok), GP11_OK);
    assert_non_null(tok);
    return tok;
}

void tl_assert_err_at(uint32_t ret, uint32_t want, const char *file, int line)
{
    if (ret != want) {
        fprintf(stderr, "%s:%d: got 0x%08x (%s), want 0x%08x\n", file, line,
                ret, ret ? gp11_err_message(ret) : "OK", want);
        fail();
    }
}

void tl_assert_msg(uint32_t code, const char *text)
{
    const char *msg = gp11_err_message(code);

    if (strstr(msg, text) == NULL) {
        fprintf(stderr, "message '%s' lacks '%s'\n", msg, text);
        fail();
    }
}

int tl_count_lines(const char *path, const char *needle)
{
    char line[2048];
    FILE *f = fopen(path, "r");
    int n = 0;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

size_t tl_session_secret_keys(void)
{
    static struct gp11_token *tok;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_TOKEN, &no, 1}};
    struct gp11_object *objs = NULL;
    size_t n = 0;

    if (tok == NULL) {
        tok = tl_open();
        tl_assert_err(gp11_token_login(tok), GP11_OK);
    }
    tl_assert_err(gp11_object_find(tok, t, 2, &objs, &n), GP11_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gp11_object_probe_attr(tok, &objs[i], CKA_VALUE),
                         CKR_ATTRIBUTE_SENSITIVE);
    free(objs);
    return n;
}

unsigned tl_time_scale(void)
{
    const char *s = getenv("GP11_TEST_TIME_SCALE");
    int v = s ? atoi(s) : 1;

    return v >= 1 && v <= 100 ? (unsigned)v : 1;
}
