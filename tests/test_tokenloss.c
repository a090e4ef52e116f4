/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token loss through the token layer (issue 10 item 1): the token logs the
 * application out behind its back, closes all its sessions (a removal
 * and re-insertion) or is absent for a while. The fault module in front
 * of the real token makes it happen (logout=N, reinsert=N, removed). The
 * layer must notice, log in again once (never with a PIN that failed),
 * retry what is safe, refuse keys that died with their session, and keep
 * no dead session or object.
 */
#include "gp11_bench.h"
#include "internal.h"
#include "testlib.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/gp11-tokenloss-XXXXXX";
static char debug_log[64];
static char pin_path[96];
static char alice[512];
static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                               0xce, 0x3d, 0x03, 0x01, 0x07};

/* (Re)writes the test's own PIN file. */
static void write_pin(const char *pin)
{
    int fd = open(pin_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, pin, strlen(pin)), (ssize_t)strlen(pin));
    close(fd);
}

/* Names faults in a file the fault module reads on every call. */
static void fault_file(const char *spec)
{
    static char path[96];
    int fd;

    snprintf(path, sizeof(path), "%s/faults", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, spec, strlen(spec)), (ssize_t)strlen(spec));
    close(fd);
    setenv("GP11_FAULT_FILE", path, 1);
}

/* The suite's PIN, read from its pin-source. */
static void real_pin(char *out, size_t len)
{
    FILE *f = fopen(tl_config()->pin_source, "r");

    assert_non_null(f);
    assert_non_null(fgets(out, (int)len, f));
    out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

/* Opens the suite's token through the fault module, PIN from pin_path. */
static struct gp11_token *open_faulty(void)
{
    struct gp11_token_opts o;
    struct gp11_token *tok = NULL;

    tl_opts(tl_config(), &o);
    setenv("GP11_FAULT_TARGET", o.module, 1);
    o.module = getenv("GP11_FAULT_MODULE");
    o.pin_source = pin_path;
    tl_assert_err(gp11_token_open(&o, &tok), GP11_OK);
    tl_assert_err(gp11_token_login(tok), GP11_OK);
    return tok;
}

/* Sessions open through the fault module (the real token's view). */
static long fault_sessions(void)
{
    void *dl = dlopen(getenv("GP11_FAULT_MODULE"), RTLD_NOW | RTLD_NOLOAD);
    long (*count)(void);

    assert_non_null(dl);
    count = (long (*)(void))dlsym(dl, "gp11_fault_sessions");
    assert_non_null(count);
    dlclose(dl);
    return count();
}

/* Session objects this process has on the token. */
static size_t session_objects(struct gp11_token *tok)
{
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_TOKEN, &no, sizeof(no)}};
    struct gp11_object *objs = NULL;
    size_t n = 0;

    tl_assert_err(gp11_object_find(tok, t, 1, &objs, &n), GP11_OK);
    free(objs);
    return n;
}

/* Finds alice's identity (and frees it). */
static uint32_t find_alice(struct gp11_token *tok)
{
    struct gp11_identity *id = NULL;
    uint32_t ret = gp11_identity_find(tok, alice, &id);

    gp11_identity_free(id);
    return ret;
}

/* One AES-GCM encryption with key. */
static uint32_t encrypt_with(struct gp11_token *tok,
                             const struct gp11_object *key)
{
    uint8_t iv[GP11_GCM_IV_LEN] = {1}, in[16] = {0}, out[32];

    return gp11_aead_encrypt(tok, GP11_AEAD_AES_GCM, key, iv, NULL, 0, in,
                             sizeof(in), out);
}

/* Makes the pool hold n idle sessions. */
static void fill_pool(struct gp11_token *tok, size_t n)
{
    CK_SESSION_HANDLE h[8];

    for (size_t i = 0; i < n; i++)
        tl_assert_err(gp11_session_get(tok, &h[i]), GP11_OK);
    for (size_t i = 0; i < n; i++)
        gp11_session_put(tok, h[i], CKR_OK);
}

/* Every idle session the pool holds is still one the token knows. */
static void assert_pool_alive(struct gp11_token *tok)
{
    struct gp11_pool_stats st;
    CK_SESSION_HANDLE h[64];
    CK_SESSION_INFO si;
    size_t n;

    gp11_session_stats(tok, &st);
    n = st.idle < 64 ? st.idle : 64;
    for (size_t i = 0; i < n; i++)
        tl_assert_err(gp11_session_get(tok, &h[i]), GP11_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(
            gp11_ck_GetSessionInfo(gp11_token_module(tok), h[i], &si), CKR_OK);
        gp11_session_put(tok, h[i], CKR_OK);
    }
}

static void logout_behind_our_back(void **state)
{
    struct gp11_token *tok;
    struct gp11_object eph;
    uint8_t point[97];
    size_t len = 0;
    int logins;

    (void)state;
    tok = open_faulty();
    tl_assert_err(find_alice(tok), GP11_OK);
    logins = tl_count_lines(debug_log, "C_Login:");
    /* Another part of the process logs out. */
    setenv("GP11_FAULT", "logout=1", 1);
    tl_assert_err(find_alice(tok), GP11_OK);
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), logins + 1);
    assert_true(gp11_token_logged_in(tok));
    /* Once more, from a file this time (as another process could), and
     * the first thing asked is a private key pair. */
    unsetenv("GP11_FAULT");
    fault_file("logout=2\n");
    tl_assert_err(gp11_ec_ephemeral(tok, p256, sizeof(p256), &eph, point, &len),
                  GP11_OK);
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), logins + 2);
    tl_assert_err(gp11_object_destroy(tok, &eph), GP11_OK);
    /* Still in the file, but done once for 2: no more logouts. */
    tl_assert_err(find_alice(tok), GP11_OK);
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), logins + 2);
    unsetenv("GP11_FAULT_FILE");
    gp11_token_close(tok);
    assert_int_equal(fault_sessions(), 0);
}

static void failed_pin_is_not_presented_again(void **state)
{
    char pin[64];
    struct gp11_token *tok;
    int logins;
    uint32_t ret;

    (void)state;
    real_pin(pin, sizeof(pin));
    tok = open_faulty();
    /* The PIN file now holds a wrong PIN, and the token logs us out. */
    write_pin("wrong-after-logout\n");
    setenv("GP11_FAULT", "logout=3", 1);
    logins = tl_count_lines(debug_log, "C_Login:");
    ret = find_alice(tok);
    tl_assert_err(ret, GP11_ERR_PIN_INCORRECT);
    tl_assert_msg(ret, "CKR_PIN_INCORRECT");
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), logins + 1);
    /* Neither a look-up nor a key generation presents it again. */
    tl_assert_err(find_alice(tok), GP11_ERR_PIN_FAILED_BEFORE);
    assert_int_not_equal(gp11_ec_ephemeral(tok, p256, sizeof(p256),
                                           &(struct gp11_object){0},
                                           (uint8_t[97]){0}, &(size_t){0}),
                         GP11_OK);
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), logins + 1);
    /* The right PIN back in the file: one login, and it works. */
    write_pin(pin);
    tl_assert_err(find_alice(tok), GP11_OK);
    assert_int_equal(tl_count_lines(debug_log, "C_Login:"), logins + 2);
    unsetenv("GP11_FAULT");
    gp11_token_close(tok);
}

static void reinsertion(void **state)
{
    struct gp11_token *tok;
    struct gp11_object key, eph;
    struct gp11_pool_stats st;
    uint8_t point[97], rnd[16];
    size_t len = 0;
    uint32_t ret;

    (void)state;
    tok = open_faulty();
    tl_assert_err(gp11_bench_key_ex(tok, GP11_BENCH_PRIVATE_FALSE, &key),
                  GP11_OK);
    tl_assert_err(encrypt_with(tok, &key), GP11_OK);
    fill_pool(tok, 3);
    assert_int_equal(session_objects(tok), 1);
    /* All sessions close: the key dies with the owner session. */
    setenv("GP11_FAULT", "reinsert=1", 1);
    ret = encrypt_with(tok, &key);
    assert_int_not_equal(ret, GP11_OK);
    ret = gp11_object_check(tok, &key);
    tl_assert_err(ret, GP11_ERR_STALE_OBJECT);
    tl_assert_msg(ret, "CKR_SESSION_HANDLE_INVALID");
    tl_assert_msg(ret, "C_EncryptInit");
    /* It stays refused, without asking the token. */
    tl_assert_err(encrypt_with(tok, &key), GP11_ERR_STALE_OBJECT);
    /* What does not depend on the lost objects works again. */
    tl_assert_err(find_alice(tok), GP11_OK);
    tl_assert_err(gp11_random(tok, rnd, sizeof(rnd)), GP11_OK);
    tl_assert_err(gp11_ec_ephemeral(tok, p256, sizeof(p256), &eph, point, &len),
                  GP11_OK);
    assert_pool_alive(tok);
    /* The dead key is forgotten without a trace; the new one destroyed. */
    tl_assert_err(gp11_object_destroy(tok, &key), GP11_OK);
    tl_assert_err(gp11_object_destroy(tok, &eph), GP11_OK);
    assert_int_equal(session_objects(tok), 0);
    gp11_session_stats(tok, &st);
    assert_int_equal(fault_sessions(), (long)st.open + 1);
    unsetenv("GP11_FAULT");
    gp11_token_close(tok);
    assert_int_equal(fault_sessions(), 0);
}

static void removed_then_back(void **state)
{
    struct gp11_token *tok;
    struct gp11_object key, eph;
    struct gp11_pool_stats st;
    uint8_t point[97], rnd[16];
    size_t len = 0;
    uint32_t ret;

    (void)state;
    tok = open_faulty();
    tl_assert_err(gp11_bench_key_ex(tok, GP11_BENCH_PRIVATE_FALSE, &key),
                  GP11_OK);
    fill_pool(tok, 2);
    setenv("GP11_FAULT", "removed", 1);
    ret = gp11_random(tok, rnd, sizeof(rnd));
    tl_assert_err(ret, GP11_ERR_TOKEN_REFUSED);
    tl_assert_msg(ret, "C_GenerateRandom returned CKR_DEVICE_REMOVED");
    ret = find_alice(tok);
    assert_int_not_equal(ret, GP11_OK);
    tl_assert_msg(ret, "returned CKR_");
    ret = encrypt_with(tok, &key);
    assert_int_not_equal(ret, GP11_OK);
    ret = gp11_object_check(tok, &key);
    tl_assert_err(ret, GP11_ERR_STALE_OBJECT);
    tl_assert_msg(ret, "CKR_DEVICE_REMOVED");
    /* Back: everything but the lost key works again. */
    unsetenv("GP11_FAULT");
    tl_assert_err(gp11_random(tok, rnd, sizeof(rnd)), GP11_OK);
    tl_assert_err(find_alice(tok), GP11_OK);
    tl_assert_err(gp11_ec_ephemeral(tok, p256, sizeof(p256), &eph, point, &len),
                  GP11_OK);
    tl_assert_err(encrypt_with(tok, &key), GP11_ERR_STALE_OBJECT);
    assert_pool_alive(tok);
    tl_assert_err(gp11_object_destroy(tok, &key), GP11_OK);
    tl_assert_err(gp11_object_destroy(tok, &eph), GP11_OK);
    assert_int_equal(session_objects(tok), 0);
    gp11_session_stats(tok, &st);
    assert_int_equal(fault_sessions(), (long)st.open + 1);
    gp11_token_close(tok);
    assert_int_equal(fault_sessions(), 0);
}

static void identity_key_found_again(void **state)
{
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    uint8_t digest[32] = {7}, sig[128];
    struct gp11_identity *id = NULL;
    struct gp11_object stale;
    struct gp11_token *tok;
    size_t len;
    uint32_t ret;

    (void)state;
    tok = open_faulty();
    tl_assert_err(gp11_identity_find(tok, alice, &id), GP11_OK);
    stale = id->key;
    /* A logout makes the handle useless (SoftHSM2 forgets private
     * handles; NSS softoken cannot use the key until a login). */
    setenv("GP11_FAULT", "logout=4", 1);
    len = sizeof(sig);
    ret = gp11_sign(tok, &ecdsa, &stale, digest, sizeof(digest), sig, &len);
    assert_int_not_equal(ret, GP11_OK);
    print_message("signing after the logout: %s\n", gp11_err_message(ret));
    /* The identity signature logs in, finds the key by CKA_ID, signs. */
    len = sizeof(sig);
    tl_assert_err(gp11_identity_sign(tok, &id->key, id->id, id->id_len, &ecdsa,
                                     digest, sizeof(digest), sig, &len),
                  GP11_OK);
    assert_true(len > 0);
    /* After all sessions closed, a key found before is looked up again
     * first (its handle may name something else by now). */
    setenv("GP11_FAULT", "reinsert=4", 1);
    tl_assert_err(find_alice(tok), GP11_OK); /* notices the loss */
    assert_int_not_equal(id->key.epoch, gp11_token_epoch(tok));
    len = sizeof(sig);
    tl_assert_err(gp11_identity_sign(tok, &id->key, id->id, id->id_len, &ecdsa,
                                     digest, sizeof(digest), sig, &len),
                  GP11_OK);
    assert_int_equal(id->key.epoch, gp11_token_epoch(tok));
    unsetenv("GP11_FAULT");
    gp11_identity_free(id);
    gp11_token_close(tok);
    assert_int_equal(fault_sessions(), 0);
}

static void lost_key_seen_from_a_new_session(void **state)
{
    struct gp11_object key;
    struct gp11_token *tok;
    uint32_t ret;

    (void)state;
    tok = open_faulty();
    tl_assert_err(gp11_bench_key_ex(tok, GP11_BENCH_PRIVATE_FALSE, &key),
                  GP11_OK);
    /* No idle pool session: the first call after the loss opens a new
     * one, which is fine; only the key is unknown (CKR_KEY_HANDLE_INVALID
     * or CKR_OBJECT_HANDLE_INVALID). The layer asks about the key's own
     * session and reports the key lost. */
    setenv("GP11_FAULT", "reinsert=5", 1);
    ret = encrypt_with(tok, &key);
    assert_int_not_equal(ret, GP11_OK);
    assert_int_equal(gp11_object_check(tok, &key), GP11_OK); /* not yet */
    ret = gp11_object_lost(tok, &key, ret);
    tl_assert_err(ret, GP11_ERR_STALE_OBJECT);
    tl_assert_msg(ret, "C_EncryptInit returned CKR_");
    tl_assert_msg(ret, "HANDLE_INVALID");
    /* From now on without a token call. */
    tl_assert_err(gp11_object_check(tok, &key), GP11_ERR_STALE_OBJECT);
    tl_assert_err(gp11_object_destroy(tok, &key), GP11_OK);
    assert_int_equal(session_objects(tok), 0);
    unsetenv("GP11_FAULT");
    gp11_token_close(tok);
    assert_int_equal(fault_sessions(), 0);
}

/* Each test starts without faults and with the right PIN in the file. */
static int fresh(void **state)
{
    char pin[64];

    (void)state;
    unsetenv("GP11_FAULT");
    unsetenv("GP11_FAULT_FILE");
    real_pin(pin, sizeof(pin));
    write_pin(pin);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(logout_behind_our_back, fresh),
        cmocka_unit_test_setup(failed_pin_is_not_presented_again, fresh),
        cmocka_unit_test_setup(reinsertion, fresh),
        cmocka_unit_test_setup(removed_then_back, fresh),
        cmocka_unit_test_setup(identity_key_found_again, fresh),
        cmocka_unit_test_setup(lost_key_seen_from_a_new_session, fresh),
    };
    int rc;

    assert_non_null(mkdtemp(dir));
    snprintf(debug_log, sizeof(debug_log), "%s/debug.log", dir);
    snprintf(pin_path, sizeof(pin_path), "%s/user.pin", dir);
    setenv("GSS_PKCS11_DEBUG", debug_log, 1);
    tl_config();
    snprintf(alice, sizeof(alice), "%s;object=alice;type=private",
             tl_config()->token_uri);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            rc = 1;
    }
    return rc;
}
