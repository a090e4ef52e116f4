/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gss-pkcs11 configuration file (gss-pkcs11.conf(5)).
 *
 * Errors: functions returning uint32_t return GP11_OK or a gp11_err code
 * with one sentence recorded for gp11_err_message(), of the form
 * "FILE:LINE: what is wrong" (or "FILE: what is wrong" for the whole file).
 *   GP11_ERR_CONFIG_MISSING  the file cannot be opened or read
 *   GP11_ERR_CONFIG_SYNTAX   structure: malformed line or section header,
 *                            key before any section, duplicate key or
 *                            section, unterminated quote, NUL byte or
 *                            other control character (but tab and a CR
 *                            before LF), line longer than 4096 bytes, file
 *                            larger than 1 MiB
 *   GP11_ERR_CONFIG_VALUE    content: unknown section or key, bad acceptor
 *                            name, empty or invalid value, missing required
 *                            key, anchors path that does not exist
 *   GP11_ERR_NOMEM           out of memory
 * Values of keys that may carry a PIN (URIs, pin-source, module-init-params)
 * never appear in a message.
 */
#ifndef GP11_CONFIG_H
#define GP11_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest accepted line, in bytes, without its newline. */
#define GP11_CONFIG_MAX_LINE 4096
/* Largest accepted configuration file, in bytes. */
#define GP11_CONFIG_MAX_SIZE (1024 * 1024)
/* Default and bounds of [policy] max-lifetime, in seconds. */
#define GP11_CONFIG_DEFAULT_LIFETIME 36000u
#define GP11_CONFIG_MAX_LIFETIME (3650u * 86400u)
/* Upper bound of [token] max-sessions. */
#define GP11_CONFIG_MAX_SESSIONS 4096u

/* Values of [trust] crl-policy (the same as enum gp11_crl_policy). */
#define GP11_CONFIG_CRL_REQUIRE 1
#define GP11_CONFIG_CRL_IF_PRESENT 2

/* One [acceptor SERVICE] section. */
struct gp11_acceptor_conf {
    char *service;  /* "service@host" or "service" */
    char *identity; /* "identity": PKCS#11 URI of the acceptor's key */
};

/* Microsoft's UPN otherName (UTF8String), "user-name-san = upn". */
#define GP11_OID_UPN "1.3.6.1.4.1.311.20.2.3"

struct gp11_config {
    char *path; /* file it was read from */
    /* [token] */
    char *module;          /* "module", required: path, name, p11-kit:NAME */
    char *init_params;     /* "module-init-params": C_Initialize pReserved */
    char *token_uri;       /* "uri", required PKCS#11 URI */
    char *pin_source;      /* "pin-source": file holding the PIN */
    char *quirks;          /* "quirks": checked by gp11_quirks_parse */
    unsigned max_sessions; /* "max-sessions": 1..4096, 0 = unset */
    /* [trust] */
    char *trust_anchors;     /* "anchors": PEM file or directory (exists) */
    char *initiator_anchors; /* "initiator-anchors": judge client certs */
    char *acceptor_anchors;  /* "acceptor-anchors": judge server certs */
    char *trust_crls;        /* "crls": CRL file or directory (exists) */
    int crl_policy;          /* "crl-policy": GP11_CONFIG_CRL_*, 0 = unset
                              * (require) */
    /* [initiator] */
    char *initiator_identity; /* "identity": PKCS#11 URI */
    /* [acceptor SERVICE] sections, in file order */
    struct gp11_acceptor_conf *acceptors;
    size_t n_acceptors;
    /* [policy] */
    bool allow_anonymous;  /* "allow-anonymous", default false */
    uint32_t max_lifetime; /* "max-lifetime" in seconds, default 36000 */
    bool allow_export;     /* "allow-export", default false */
    char *export_kek;      /* "export-kek": CKA_LABEL of the export KEK,
                            * NULL: GP11_KEK_DEFAULT_LABEL */
    bool extra_qops;       /* "extra-qops", default true: QOPs other than 0
                            * (needs a derive-capable key per context) */
    bool require_service_binding; /* default true: SRVName _service.host */
    char *user_name_san; /* "user-name-san": "rfc822Name" or an otherName
                          * OID (upn: 1.3.6.1.4.1.311.20.2.3); NULL =
                          * rfc822Name */
    /* "aead-message-limit", "aead-block-limit", "forgery-limit": lower
     * the per-key usage limits of protocol.md 3.6; 0 = not set */
    uint64_t aead_message_limit, aead_block_limit, forgery_limit;
    /* "allow-extractable-identity", default false: an identity key that
     * is, or once was, extractable or not sensitive is refused */
    bool allow_extractable_identity;
    /* [log] */
    bool syslog; /* "syslog", default true: refusals to LOG_AUTHPRIV */
};

/*
 * Path of the configuration file: GSS_PKCS11_CONF (read with
 * secure_getenv) if set and non-empty, else GP11_DEFAULT_CONF.
 */
const char *gp11_config_default_path(void);

/* Read and parse a file (path NULL = gp11_config_default_path()). */
uint32_t gp11_config_load(const char *path, struct gp11_config **out);

/*
 * Parse text of len bytes (need not be NUL-terminated). path is used in
 * messages and to resolve relative paths; NULL means "<string>" in
 * messages and paths relative to the working directory. On error *out is
 * set to NULL.
 */
uint32_t gp11_config_parse(const char *path, const char *text, size_t len,
                           struct gp11_config **out);

/*
 * Identity URI configured for a service name ("host@localhost"), or NULL.
 * An exact [acceptor service@host] section wins (host compared without
 * regard to case); else an [acceptor service] section matches any host.
 */
const char *gp11_config_acceptor_identity(const struct gp11_config *cfg,
                                          const char *service);

/* Free a configuration (NULL is fine); string values are wiped first. */
void gp11_config_free(struct gp11_config *cfg);

#endif
