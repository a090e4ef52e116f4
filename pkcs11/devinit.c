/* SPDX-License-Identifier: Apache-2.0 */
/* Development set-up of a token: initialisation and first user PIN. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Finds the slot of the token with this label, or (label NULL) of the
 * first token that is not initialised. */
static uint32_t find_slot(struct gp11_module *mod, const char *label,
                          CK_SLOT_ID *slot, bool *found)
{
    struct gp11_token_desc *d = NULL;
    char l[33];
    size_t n = 0;
    uint32_t ret;

    *found = false;
    ret = gp11_token_enumerate(mod, &d, &n);
    if (ret != GP11_OK)
        return ret;
    for (size_t i = 0; i < n && !*found; i++) {
        bool init = (d[i].info.flags & CKF_TOKEN_INITIALIZED) != 0;

        gp11_token_label(&d[i].info, l);
        if (label ? strcmp(l, label) == 0 : !init) {
            *slot = d[i].slot;
            *found = true;
        }
    }
    free(d);
    return GP11_OK;
}

/* Logs in as SO with so_pin and sets the user PIN on the token in slot. */
static uint32_t set_user_pin(struct gp11_module *mod, CK_SLOT_ID slot,
                             const char *so_pin, const char *user_pin)
{
    CK_SESSION_HANDLE s;
    uint32_t ret = GP11_OK;
    CK_RV rv;

    rv =
        gp11_ck_OpenSession(mod, slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, &s);
    if (rv != CKR_OK)
        return gp11_err_ck(GP11_ERR_SESSION, rv, "C_OpenSession",
                           "cannot open a session to set the user PIN");
    rv = gp11_ck_Login(mod, s, CKU_SO, (CK_UTF8CHAR *)so_pin, strlen(so_pin));
    if (rv != CKR_OK) {
        ret = gp11_err_ck(GP11_ERR_LOGIN, rv, "C_Login",
                          "security officer login failed");
        goto done;
    }
    rv = gp11_ck_InitPIN(mod, s, (CK_UTF8CHAR *)user_pin, strlen(user_pin));
    if (rv != CKR_OK)
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_InitPIN",
                          "the token refused the new user PIN");
    gp11_ck_Logout(mod, s);
done:
    gp11_ck_CloseSession(mod, s);
    return ret;
}

uint32_t gp11_dev_init_token(const char *module, const char *init_params,
                             const char *label, const char *so_pin,
                             const char *user_pin)
{
    CK_UTF8CHAR padded[32];
    struct gp11_module *mod;
    CK_SLOT_ID slot = 0;
    bool found;
    uint32_t ret;
    CK_RV rv;

    if (strlen(label) > sizeof(padded))
        return gp11_err_set(GP11_ERR_BAD_ARG, "token label longer than 32");
    ret = gp11_module_load(module, init_params, false, &mod);
    if (ret != GP11_OK)
        return ret;
    ret = find_slot(mod, label, &slot, &found);
    if (ret == GP11_OK && found)
        ret = gp11_err_set(GP11_ERR_BAD_ARG,
                           "a token labelled '%s' already exists", label);
    if (ret != GP11_OK)
        goto done;
    ret = find_slot(mod, NULL, &slot, &found);
    if (ret == GP11_OK && !found)
        ret = gp11_err_set(GP11_ERR_TOKEN_NOT_FOUND,
                           "%s offers no uninitialised token", module);
    if (ret != GP11_OK)
        goto done;
    memset(padded, ' ', sizeof(padded));
    memcpy(padded, label, strlen(label));
    rv = gp11_ck_InitToken(mod, slot, (CK_UTF8CHAR *)so_pin, strlen(so_pin),
                           padded);
    if (rv != CKR_OK) {
        ret = gp11_err_ck(GP11_ERR_TOKEN_REFUSED, rv, "C_InitToken",
                          "cannot initialise the token in slot %lu",
                          (unsigned long)slot);
        goto done;
    }
    /* Some modules (SoftHSM2) move the new token to another slot id. */
    ret = find_slot(mod, label, &slot, &found);
    if (ret == GP11_OK && !found)
        ret = gp11_err_set(GP11_ERR_TOKEN_NOT_FOUND,
                           "the token labelled '%s' vanished after "
                           "C_InitToken",
                           label);
    if (ret == GP11_OK)
        ret = set_user_pin(mod, slot, so_pin, user_pin);
done:
    gp11_module_release(mod);
    return ret;
}

uint32_t gp11_dev_init_user_pin(const char *module, const char *init_params,
                                const char *token_label, const char *user_pin)
{
    struct gp11_module *mod;
    CK_SLOT_ID slot = 0;
    bool found;
    uint32_t ret;

    ret = gp11_module_load(module, init_params, false, &mod);
    if (ret != GP11_OK)
        return ret;
    ret = find_slot(mod, token_label, &slot, &found);
    if (ret == GP11_OK && !found)
        ret = gp11_err_set(GP11_ERR_TOKEN_NOT_FOUND,
                           "%s offers no token labelled '%s'", module,
                           token_label);
    if (ret == GP11_OK)
        ret = set_user_pin(mod, slot, "", user_pin);
    gp11_module_release(mod);
    return ret;
}
