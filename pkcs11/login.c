/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User login: PIN from a pin-source file or the URI's pin-value, lock-out
 * flags honoured before trying, a rejected PIN remembered (by SHA-256, per
 * token, process-wide, as a keyed hash) and never presented again, PIN buffers
 * wiped.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIN_MAX 256
#define FAILED_SLOTS 16

/* Rejected PINs, keyed by token identity; protected by failed_lock. */
static struct {
    bool used;
    unsigned char token[32];
    unsigned char pin[32];
} failed[FAILED_SLOTS];
static unsigned failed_next;
static pthread_mutex_t failed_lock = PTHREAD_MUTEX_INITIALIZER;

/* Key of the keyed hash of rejected PINs, random per process, so that
 * the remembered hashes cannot be reversed by a dictionary. */
static unsigned char pin_hash_key[32];
static pthread_once_t pin_hash_once = PTHREAD_ONCE_INIT;

static void pin_hash_init(void)
{
    if (RAND_bytes(pin_hash_key, sizeof(pin_hash_key)) != 1)
        memset(pin_hash_key, 0x5c, sizeof(pin_hash_key));
}

/* HMAC-SHA-256 of the PIN under the per-process key. */
static void pin_hash(const char *pin, size_t len, unsigned char out[32])
{
    unsigned int n = 32;

    pthread_once(&pin_hash_once, pin_hash_init);
    if (HMAC(EVP_sha256(), pin_hash_key, sizeof(pin_hash_key),
             (const unsigned char *)pin, len, out, &n) == NULL)
        memset(out, 0, 32);
}

/* A key naming the token: manufacturer, model, serial and label. */
static void token_key(const CK_TOKEN_INFO *info, unsigned char out[32])
{
    unsigned char buf[32 + 16 + 16 + 32];

    memcpy(buf, info->manufacturerID, 32);
    memcpy(buf + 32, info->model, 16);
    memcpy(buf + 48, info->serialNumber, 16);
    memcpy(buf + 64, info->label, 32);
    gp11_sha256(buf, sizeof(buf), out);
}

/* True if this PIN was rejected by this token before. */
static bool pin_failed_before(const unsigned char tk[32],
                              const unsigned char ph[32])
{
    bool hit = false;

    pthread_mutex_lock(&failed_lock);
    for (size_t i = 0; i < FAILED_SLOTS; i++)
        if (failed[i].used && gp11_ct_equal(failed[i].token, tk, 32) &&
            gp11_ct_equal(failed[i].pin, ph, 32))
            hit = true;
    pthread_mutex_unlock(&failed_lock);
    return hit;
}

static void remember_failed_pin(const unsigned char tk[32],
                                const unsigned char ph[32])
{
    pthread_mutex_lock(&failed_lock);
    failed[failed_next].used = true;
    memcpy(failed[failed_next].token, tk, 32);
    memcpy(failed[failed_next].pin, ph, 32);
    failed_next = (failed_next + 1) % FAILED_SLOTS;
    pthread_mutex_unlock(&failed_lock);
}

/* Strips "file:" / "file://" from a pin-source; NULL if not a file. */
static const char *pin_source_path(const char *src)
{
    if (strncmp(src, "file://", 7) == 0)
        return src + 7;
    if (strncmp(src, "file:", 5) == 0)
        return src + 5;
    if (src[0] == '/' || src[0] == '.')
        return src;
    return NULL;
}

/* What a file that is not a regular file is, for messages. */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "not a regular file";
}

/* The PIN is the file's first line, without its line ending: refused when
 * empty (it would spend one of the token's tries) or holding a NUL byte
 * (C strings would cut the PIN short there). */
static uint32_t pin_first_line(const char *path, const char *text, size_t n,
                               size_t *len)
{
    size_t i = 0;

    while (i < n && text[i] != '\r' && text[i] != '\n' && text[i] != '\0')
        i++;
    if (i < n && text[i] == '\0')
        return gp11_err_set(GP11_ERR_PIN_SOURCE,
                            "PIN file %s has a NUL byte in its first line "
                            "(byte %zu); a PIN is text",
                            path, i + 1);
    if (i == 0)
        return gp11_err_set(GP11_ERR_PIN_SOURCE,
                            "PIN file %s %s; refusing to present an empty "
                            "PIN",
                            path,
                            n == 0 ? "is empty" : "has an empty first line");
    *len = i;
    return GP11_OK;
}

/*
 * Reads a PIN file into pin (one line, newline stripped). The open never
 * blocks (a FIFO without a writer would hang every caller) and follows no
 * symbolic link; anything but a regular file of at most PIN_MAX - 2 bytes,
 * closed to others, is refused before a byte is read.
 */
static uint32_t read_pin_file(const char *src, char *pin, size_t *len)
{
    const char *path = pin_source_path(src);
    struct stat st;
    ssize_t n;
    uint32_t ret = GP11_OK;
    int fd;

    if (path == NULL)
        return gp11_err_set(GP11_ERR_PIN_SOURCE,
                            "unsupported pin-source '%s' (only files are "
                            "supported)",
                            src);
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ELOOP && lstat(path, &st) == 0 &&
        S_ISLNK(st.st_mode))
        return gp11_err_set(GP11_ERR_PIN_SOURCE,
                            "PIN file %s is a symbolic link; name the file "
                            "itself",
                            path);
    if (fd < 0)
        return gp11_err_set(GP11_ERR_PIN_SOURCE, "cannot read PIN file %s: %s",
                            path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        ret = gp11_err_set(GP11_ERR_PIN_SOURCE, "cannot read PIN file %s: %s",
                           path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        ret = gp11_err_set(GP11_ERR_PIN_SOURCE,
                           "PIN file %s is %s, not a regular file", path,
                           file_kind(st.st_mode));
        goto done;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) {
        ret = gp11_err_set(GP11_ERR_PIN_SOURCE,
                           "PIN file %s is readable or writable by others; "
                           "chmod 600 it",
                           path);
        goto done;
    }
    if (st.st_size > PIN_MAX - 2) {
        ret = gp11_err_set(GP11_ERR_PIN_SOURCE,
                           "PIN file %s is longer than %d bytes", path,
                           PIN_MAX - 2);
        goto done;
    }
    memset(pin, 0, PIN_MAX);
    /* Bounded even if the file grew since fstat. */
    n = read(fd, pin, PIN_MAX - 1);
    if (n < 0 || n >= PIN_MAX - 1) {
        ret = n < 0 ? gp11_err_set(GP11_ERR_PIN_SOURCE,
                                   "cannot read PIN file %s: %s", path,
                                   strerror(errno))
                    : gp11_err_set(GP11_ERR_PIN_SOURCE,
                                   "PIN file %s is longer than %d bytes", path,
                                   PIN_MAX - 2);
        goto done;
    }
    ret = pin_first_line(path, pin, (size_t)n, len);
done:
    close(fd);
    return ret;
}

/* Fetches the PIN from the configured source, the URI's source or value. */
static uint32_t fetch_pin(struct gp11_token *tok, char *pin, size_t *len,
                          char *from, size_t from_len)
{
    P11KitUri *uri;
    const char *src, *value;
    uint32_t ret;

    snprintf(from, from_len, "the PIN file %s",
             tok->pin_source ? tok->pin_source : "?");
    if (tok->pin_source)
        return read_pin_file(tok->pin_source, pin, len);
    uri = p11_kit_uri_new();
    if (uri == NULL)
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    if (p11_kit_uri_parse(tok->uri, P11_KIT_URI_FOR_ANY, uri) !=
        P11_KIT_URI_OK) {
        ret = gp11_err_set(GP11_ERR_BAD_URI, "malformed token URI");
        goto done;
    }
    src = p11_kit_uri_get_pin_source(uri);
    value = p11_kit_uri_get_pin_value(uri);
    if (src)
        snprintf(from, from_len, "the PIN file %s (the URI's pin-source)", src);
    else
        snprintf(from, from_len, "the token URI's pin-value");
    if (src) {
        ret = read_pin_file(src, pin, len);
    } else if (value && strlen(value) < PIN_MAX) {
        *len = strlen(value);
        memcpy(pin, value, *len);
        ret = GP11_OK;
    } else if (value) {
        ret = gp11_err_set(GP11_ERR_PIN_SOURCE,
                           "the URI's pin-value is longer than 255 bytes");
    } else {
        ret = gp11_err_set(GP11_ERR_PIN_MISSING,
                           "the token needs a PIN: set pin-source in the "
                           "configuration or pin-source/pin-value in the URI");
    }
done:
    /* p11-kit keeps pin-value in the URI; wipe it before freeing. */
    value = p11_kit_uri_get_pin_value(uri);
    if (value)
        gp11_wipe((void *)value, strlen(value));
    p11_kit_uri_free(uri);
    return ret;
}

/* Refuses to try a PIN when the token is locked or on its final try. */
static uint32_t check_lockout(struct gp11_token *tok)
{
    CK_TOKEN_INFO info;
    char label[33];
    CK_RV rv;

    gp11_token_label(&tok->info, label);
    rv = gp11_token_read_info(tok->mod, tok->slot, &info);
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_LOGIN, rv, "C_GetTokenInfo",
                           "cannot read the token's PIN state");
    if (info.flags & CKF_USER_PIN_LOCKED)
        return gp11_err_set(
            GP11_ERR_PIN_LOCKED,
            "the user PIN of the token '%s' (slot %lu) is locked; "
            "the security officer must reset it",
            label, (unsigned long)tok->slot);
    if (info.flags & CKF_USER_PIN_FINAL_TRY)
        return gp11_err_set(
            GP11_ERR_PIN_FINAL_TRY,
            "one more wrong PIN would lock the token '%s' (slot "
            "%lu); refusing to try (log in once by hand to "
            "reset the counter)",
            label, (unsigned long)tok->slot);
    return GP11_OK;
}

/* Logs in with the PIN; maps the token's answer. Caller holds owner. */
static uint32_t login_with_pin(struct gp11_token *tok, CK_SESSION_HANDLE s,
                               CK_RV *rv_out)
{
    unsigned char tk[32], ph[32];
    char pin[PIN_MAX], from[4160], label[33];
    size_t len = 0;
    uint32_t ret;
    CK_RV rv;

    gp11_token_label(&tok->info, label);
    ret = fetch_pin(tok, pin, &len, from, sizeof(from));
    if (ret != GP11_OK)
        goto done;
    token_key(&tok->info, tk);
    pin_hash(pin, len, ph);
    if (pin_failed_before(tk, ph)) {
        ret = gp11_err_set(GP11_ERR_PIN_FAILED_BEFORE,
                           "the PIN from %s was rejected by the token '%s' "
                           "(slot %lu) before and is not tried again",
                           from, label, (unsigned long)tok->slot);
        goto done;
    }
    rv = gp11_ck_Login(tok->mod, s, CKU_USER, (CK_UTF8CHAR *)pin, len);
    *rv_out = rv;
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
        ret = GP11_OK;
    } else if (rv == CKR_PIN_INCORRECT) {
        remember_failed_pin(tk, ph);
        ret = gp11_err_ck(GP11_ERR_PIN_INCORRECT, rv, "C_Login",
                          "the token '%s' (slot %lu) rejected the PIN from %s",
                          label, (unsigned long)tok->slot, from);
    } else if (rv == CKR_PIN_LOCKED) {
        ret = gp11_err_ck(GP11_ERR_PIN_LOCKED, rv, "C_Login",
                          "the user PIN of the token '%s' (slot %lu) is locked",
                          label, (unsigned long)tok->slot);
    } else {
        ret =
            gp11_err_ck(GP11_ERR_LOGIN, rv, "C_Login",
                        "login to the token '%s' (slot %lu) with the PIN from "
                        "%s failed",
                        label, (unsigned long)tok->slot, from);
    }
done:
    gp11_wipe(pin, sizeof(pin));
    return ret;
}

/* True if the session info shows user rights. */
static bool state_is_user(const CK_SESSION_INFO *si)
{
    return si->state == CKS_RO_USER_FUNCTIONS ||
           si->state == CKS_RW_USER_FUNCTIONS;
}

/* Lock-out check and C_Login on the owner session s; *rv gets the
 * result of the last call. Caller holds the owner session. */
static uint32_t log_in(struct gp11_token *tok, CK_SESSION_HANDLE s, CK_RV *rv)
{
    uint32_t ret;

    ret = check_lockout(tok);
    if (ret != GP11_OK)
        return ret;
    if (tok->info.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
        *rv = gp11_ck_Login(tok->mod, s, CKU_USER, NULL, 0);
        if (*rv != CKR_OK && *rv != CKR_USER_ALREADY_LOGGED_IN)
            return gp11_err_ck(GP11_ERR_LOGIN, *rv, "C_Login",
                               "login through the token's protected "
                               "authentication path failed");
        return GP11_OK;
    }
    return login_with_pin(tok, s, rv);
}

uint32_t gp11_token_login(struct gp11_token *tok)
{
    CK_SESSION_INFO si;
    CK_SESSION_HANDLE s;
    uint32_t ret;
    CK_RV rv;

    /* The token's word, not a cached flag, says whether we are logged
     * in: it may have logged us out (another C_Logout, re-insertion, all
     * sessions closed). A session the token lost gets one more try with
     * a new owner session. */
    for (int attempt = 0;; attempt++) {
        ret = gp11_owner_acquire(tok, &s);
        if (ret != GP11_OK)
            return ret;
        rv = CKR_OK;
        if (tok->info.flags & CKF_LOGIN_REQUIRED) {
            rv = gp11_ck_GetSessionInfo(tok->mod, s, &si);
            if (rv != CKR_OK)
                ret = gp11_err_ck(GP11_ERR_LOGIN, rv, "C_GetSessionInfo",
                                  "cannot read the login state of the token "
                                  "in slot %lu",
                                  (unsigned long)tok->slot);
            else if (!state_is_user(&si))
                ret = log_in(tok, s, &rv);
        }
        if (ret == GP11_OK)
            tok->logged_in = true;
        gp11_owner_release(tok, rv);
        if (ret == GP11_OK || attempt > 0 || !gp11_rv_session_lost(rv))
            return ret;
    }
}

bool gp11_token_logged_in(struct gp11_token *tok)
{
    CK_SESSION_INFO si;
    CK_SESSION_HANDLE s;
    CK_RV rv;
    bool in;

    if (gp11_owner_acquire(tok, &s) != GP11_OK)
        return false;
    rv = gp11_ck_GetSessionInfo(tok->mod, s, &si);
    in = rv == CKR_OK && state_is_user(&si);
    /* A token without login: logged in once gp11_token_login said so. */
    if (!(tok->info.flags & CKF_LOGIN_REQUIRED))
        in = in || tok->logged_in;
    gp11_owner_release(tok, rv);
    return in;
}
