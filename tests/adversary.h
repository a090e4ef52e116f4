/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An adversarial handshake peer for the tests, made of the provider's own
 * pieces (the handshake encoders of hs_msg.c, the transcript, signing and
 * key schedule of context.c and keysched.c) linked into the test program:
 * a second copy of the provider, with its own runtime on the same token,
 * beside the plugin that MIT's mechglue loads for the honest party.
 *
 * The adversary holds every key on the token (it has the PIN), so it can
 * send a certificate of one identity and sign with the key of another,
 * pick choices the honest peer did not offer, and still compute correct
 * key-confirmation MACs under its own ephemeral secret. It never checks
 * what the honest peer sends: that is the honest side's job, and the
 * point of the tests.
 *
 * Every helper fails the running cmocka test on an internal error.
 */
#ifndef GP11_ADVERSARY_H
#define GP11_ADVERSARY_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <cmocka.h>
#include <gssapi/gssapi.h>

#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_hs_msg.h"

struct adv {
    struct gp11_ctx *ctx; /* transcript, ephemeral key, keys, signing key */
    struct gp11_identity *cert_id, *key_id;
    time_t cert_not_after; /* of the certificate it sends */
    /* Signature context and MAC label, NULL for the role's own (a test
     * may sign an initiator's transcript with the acceptor's label). */
    const char *sig_label, *mac_label;
    bool zero_mac;  /* send 16 zero bytes instead of the MAC */
    bool have_keys; /* the key schedule ran (the token could do it) */
    uint8_t peer_eph[97];
    size_t peer_eph_len;
    uint32_t peer_req_flags; /* from the INIT it answered */
    char target[256];
};

/* An adversary that will act as initiator or acceptor. */
struct adv *adv_new(bool initiator);
void adv_free(struct adv *a);

/*
 * Sends the certificate of identity cert_label (an object label on the
 * suite's token: alice, host, rsa, both, ...) and signs with the key of
 * key_label (the same label for an honest peer). The signature algorithm
 * is the signing key's.
 */
void adv_identity(struct adv *a, const char *cert_label, const char *key_label);

/* The DER certificate of an identity on the token (malloc'ed: free
 * der->data) and its notAfter. */
void adv_cert_of(const char *label, struct gp11_buf *der, time_t *not_after);

/* ---- initiator ---------------------------------------------------------- */

/* The INIT an honest initiator would send for target and flags (the
 * ephemeral key is made by adv_send_init, in m->group). */
void adv_init_defaults(struct adv *a, const char *target, OM_uint32 req_flags,
                       struct gp11_hs_init *m);

/* Makes the ephemeral key of m->group, records INIT m in the transcript
 * and frames it into out (release with gss_release_buffer or free). */
void adv_send_init(struct adv *a, struct gp11_hs_init *m, gss_buffer_t out);

/* adv_init_defaults + adv_send_init. */
void adv_init(struct adv *a, const char *target, OM_uint32 req_flags,
              gss_buffer_t out);

/* Takes the honest acceptor's ACCEPT (framed) and runs the key schedule;
 * nothing of the acceptor is verified. */
void adv_take_accept(struct adv *a, const gss_buffer_desc *accept);

/* The FINISH an honest initiator would send (the identity's certificate
 * and signature algorithm). */
void adv_finish_defaults(struct adv *a, struct gp11_hs_finish *f);

/* Records FINISH core f, signs it with the identity key (none when
 * f->sigalg is GP11_SIGALG_NONE), appends the MAC and frames it. */
void adv_send_finish(struct adv *a, const struct gp11_hs_finish *f,
                     gss_buffer_t out);

/*
 * What the honest acceptor answered FINISH with, checked under the
 * adversary's copy of K_conf_a: CONFIRM (true when its MAC verifies over
 * H(INIT || ACCEPT || FINISH)), or an ERROR (*err filled, *err_mac_ok
 * whether its MAC verifies). Fails the test for anything else.
 */
bool adv_take_confirm(struct adv *a, const gss_buffer_desc *tok,
                      struct gp11_hs_error *err, bool *err_mac_ok);

/* ---- acceptor ------------------------------------------------------------ */

/*
 * Takes the honest initiator's INIT (framed) into the transcript and fills
 * m with what an honest acceptor with this identity would answer: the
 * first offered profile its token has, its key's sigalg, INIT's group,
 * MUTUAL|CONF|INTEG plus the requested REPLAY|SEQUENCE|ANON, 10 hours, its
 * token's capabilities, its certificate.
 */
void adv_take_init(struct adv *a, const gss_buffer_desc *init,
                   struct gp11_hs_accept *m);

/*
 * Makes the ephemeral key of m->group, records ACCEPT core m, runs the key
 * schedule with m->profile against INIT's point, signs TH_a and appends
 * the MAC. If the token cannot run that profile or group (a choice an
 * honest acceptor would not make), the MAC is 16 zero bytes and
 * a->have_keys is false.
 */
void adv_send_accept(struct adv *a, struct gp11_hs_accept *m, gss_buffer_t out);

/* Takes the honest initiator's FINISH (framed) into the transcript;
 * nothing of the initiator is verified. */
void adv_take_finish(struct adv *a, const gss_buffer_desc *finish);

/* How the adversary acceptor forges its CONFIRM. */
enum adv_confirm {
    ADV_CONFIRM_HONEST,      /* K_conf_a, the CONFIRM label, TH_f */
    ADV_CONFIRM_ZERO_MAC,    /* 16 zero bytes */
    ADV_CONFIRM_FIN_LABEL,   /* the ACCEPT MAC's label instead */
    ADV_CONFIRM_NO_FINISH,   /* over H(INIT || ACCEPT): FINISH unseen */
    ADV_CONFIRM_PEER_KEY,    /* under K_conf_i, the initiator's key */
    ADV_CONFIRM_ERROR_LABEL, /* the label of a MACed ERROR */
};

/* CONFIRM after adv_take_finish, forged as how says. */
void adv_send_confirm(struct adv *a, enum adv_confirm how, gss_buffer_t out);

/* An ERROR (major, reason) in place of CONFIRM: MACed under K_conf_a as
 * 2.9 says when mac, without a MAC otherwise. */
void adv_send_error(struct adv *a, uint32_t major, uint32_t reason, bool mac,
                    gss_buffer_t out);

/* ---- man in the middle --------------------------------------------------- */

/* Decodes a framed INIT (m's views point into tok). */
void adv_decode_init(const gss_buffer_desc *tok, struct gp11_hs_init *m);

/* Encodes INIT m and frames it into out (malloc'ed). */
void adv_encode_init(const struct gp11_hs_init *m, gss_buffer_t out);

/* Replaces a framed INIT by its re-encoding after edit(m, arg). */
void adv_rewrite_init(gss_buffer_t tok,
                      void (*edit)(struct gp11_hs_init *m, void *arg),
                      void *arg);

/* Replaces a framed ACCEPT by its re-encoding after edit(m, arg), with
 * the signature and MAC it carried. */
void adv_rewrite_accept(gss_buffer_t tok,
                        void (*edit)(struct gp11_hs_accept *m, void *arg),
                        void *arg);

/* A fresh ephemeral point of group from the adversary's token (its
 * private key destroyed at once). */
void adv_fresh_point(uint8_t group, uint8_t *point, size_t *len);

#endif
