/* SPDX-License-Identifier: Apache-2.0 */
/* Token quirks: named, documented, detected by model or configured. */
#include "gp11_pkcs11.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct quirk_def {
    unsigned bit;
    const char *name;
    const char *description;
};

static const struct quirk_def quirk_defs[] = {
    {GP11_QUIRK_NO_DEINIT, "no-deinit",
     "never call C_Finalize (the module may crash in it at exit)"},
    {GP11_QUIRK_GCM_TAG_GENERAL_ERROR, "gcm-tag-general-error",
     "a failed AES-GCM tag check returns CKR_GENERAL_ERROR"},
    {GP11_QUIRK_NO_DERIVE_TEMPLATE, "no-derive-template",
     "CKA_DERIVE_TEMPLATE is not enforced; derive keys are destroyed early"},
    {GP11_QUIRK_GCM_TOKEN_IV, "gcm-token-iv",
     "the token generates the AES-GCM IV itself and returns it in pIv"},
    {GP11_QUIRK_SENSITIVE_DEFAULT_FALSE, "sensitive-default-false",
     "CKA_SENSITIVE defaults to FALSE when a template omits it"},
    {GP11_QUIRK_UNLISTED_ECB_ENCRYPT_DATA, "unlisted-ecb-encrypt-data",
     "CKM_AES_ECB_ENCRYPT_DATA derives keys but is not in the mechanism "
     "list"},
    {GP11_QUIRK_DESTROYED_OBJECTS_KEPT, "destroyed-objects-kept",
     "a destroyed session object keeps ~250 bytes until C_Finalize, even "
     "once its session is closed"},
    {GP11_QUIRK_ALLOWED_MECHANISMS_IGNORED, "allowed-mechanisms-ignored",
     "CKA_ALLOWED_MECHANISMS is stored but not enforced: a key runs every "
     "mechanism its usage flags permit"},
    {GP11_QUIRK_NO_MESSAGE_MAC, "no-message-mac",
     "C_MessageSignInit refuses HMAC and AES-CMAC (CKR_MECHANISM_INVALID); "
     "MACs use C_SignInit + C_Sign"},
    {GP11_QUIRK_NO_MESSAGE_API, "no-message-api",
     "do not use the PKCS#11 3.0 message functions (C_EncryptMessage, "
     "C_DecryptMessage) although the token offers them"},
    {GP11_QUIRK_TOKEN_INFO_RACE, "token-info-race",
     "C_GetTokenInfo may fail or lose the label while another process "
     "rewrites the token file (every C_Login); enumeration reads again"},
};

#define N_QUIRKS (sizeof(quirk_defs) / sizeof(quirk_defs[0]))

/* Tokens whose quirks are known: matched on manufacturerID prefix. */
static const struct {
    const char *manufacturer;
    unsigned quirks;
} known_tokens[] = {
    {"SoftHSM",
     GP11_QUIRK_NO_DEINIT | GP11_QUIRK_GCM_TAG_GENERAL_ERROR |
         GP11_QUIRK_NO_DERIVE_TEMPLATE | GP11_QUIRK_SENSITIVE_DEFAULT_FALSE |
         GP11_QUIRK_DESTROYED_OBJECTS_KEPT | GP11_QUIRK_TOKEN_INFO_RACE},
    /* NSS softoken 3.87: measured, see docs/token-layer.md. */
    {"Mozilla Foundation", GP11_QUIRK_UNLISTED_ECB_ENCRYPT_DATA |
                               GP11_QUIRK_ALLOWED_MECHANISMS_IGNORED |
                               GP11_QUIRK_NO_MESSAGE_MAC},
};

static const struct quirk_def *quirk_by_bit(unsigned bit)
{
    for (size_t i = 0; i < N_QUIRKS; i++)
        if (quirk_defs[i].bit == bit)
            return &quirk_defs[i];
    return NULL;
}

const char *gp11_quirk_name(unsigned quirk)
{
    const struct quirk_def *q = quirk_by_bit(quirk);

    return q ? q->name : NULL;
}

const char *gp11_quirk_description(unsigned quirk)
{
    const struct quirk_def *q = quirk_by_bit(quirk);

    return q ? q->description : NULL;
}

unsigned gp11_quirk_all(void)
{
    unsigned all = 0;

    for (size_t i = 0; i < N_QUIRKS; i++)
        all |= quirk_defs[i].bit;
    return all;
}

/* The known quirk names, comma-separated, into list (for messages). */
static const char *quirk_names(char *list, size_t cap)
{
    size_t used = 0;

    list[0] = '\0';
    for (size_t i = 0; i < N_QUIRKS && used < cap; i++)
        used += (size_t)snprintf(list + used, cap - used, "%s%s", i ? ", " : "",
                                 quirk_defs[i].name);
    return list;
}

/* Looks a quirk up by a name of len bytes; 0 if unknown. */
static unsigned quirk_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < N_QUIRKS; i++)
        if (strlen(quirk_defs[i].name) == len &&
            strncasecmp(quirk_defs[i].name, name, len) == 0)
            return quirk_defs[i].bit;
    return 0;
}

uint32_t gp11_quirks_parse(const char *spec, unsigned *set, unsigned *clear,
                           bool *use_auto)
{
    const char *p = spec ? spec : "";
    char names[512];
    unsigned bit;
    bool minus;
    size_t len;

    /* The automatic set applies unless "none" says otherwise. */
    *set = 0;
    *clear = 0;
    *use_auto = true;
    while (*p) {
        p += strspn(p, " \t,");
        len = strcspn(p, " \t,");
        if (len == 0)
            break;
        minus = *p == '-';
        if (*p == '-' || *p == '+') {
            p++;
            len--;
        }
        if (len == 4 && (strncasecmp(p, "auto", 4) == 0 ||
                         strncasecmp(p, "none", 4) == 0)) {
            if (minus)
                return gp11_err_set(GP11_ERR_QUIRK_UNKNOWN,
                                    "'-%.4s' cannot be removed: 'none' (start "
                                    "from no quirk) and 'auto' (start from "
                                    "the token's known quirks) choose the "
                                    "starting set and take no '-'",
                                    p);
            *use_auto = strncasecmp(p, "auto", 4) == 0;
        } else {
            bit = quirk_by_name(p, len);
            if (bit == 0)
                return gp11_err_set(GP11_ERR_QUIRK_UNKNOWN,
                                    "unknown token quirk '%.*s' (known: %s)",
                                    (int)len, p,
                                    quirk_names(names, sizeof(names)));
            if (minus && (bit & GP11_QUIRKS_OF_MODULE))
                return gp11_err_set(GP11_ERR_QUIRK_UNKNOWN,
                                    "quirk '%.*s' cannot be removed: it is "
                                    "chosen by the module and applies while "
                                    "tokens are listed, before this list is "
                                    "read",
                                    (int)len, p);
            if (minus)
                *clear |= bit;
            else
                *set |= bit;
        }
        p += len;
    }
    return GP11_OK;
}

/* Compares a blank-padded PKCS#11 string field with a prefix. */
static bool padded_has_prefix(const CK_UTF8CHAR *field, size_t field_len,
                              const char *prefix)
{
    size_t n = strlen(prefix);

    return n <= field_len && memcmp(field, prefix, n) == 0;
}

unsigned gp11_quirks_for_token(const CK_INFO *module,
                               const CK_TOKEN_INFO *token)
{
    unsigned q = 0;

    for (size_t i = 0; i < sizeof(known_tokens) / sizeof(known_tokens[0]);
         i++) {
        const char *m = known_tokens[i].manufacturer;

        if ((token && padded_has_prefix(token->manufacturerID,
                                        sizeof(token->manufacturerID), m)) ||
            (module && padded_has_prefix(module->manufacturerID,
                                         sizeof(module->manufacturerID), m)))
            q |= known_tokens[i].quirks;
    }
    return q;
}
