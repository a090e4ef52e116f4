/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process-wide state of the mechanism: the configuration, the token it
 * names (opened once, on first use) with its probed capabilities, and the
 * configured trust anchors.
 */
#ifndef GP11_RUNTIME_H
#define GP11_RUNTIME_H

#include "gp11_certval.h"
#include "gp11_config.h"
#include "gp11_pkcs11.h"

#include <sys/types.h>
#include <time.h>

/* What stat() says of an anchor file or directory, to notice a change. */
struct gp11_file_sig {
    bool present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct gp11_runtime {
    struct gp11_config *cfg;
    struct gp11_token *tok;
    struct gp11_caps caps;
    struct gp11_trust *trust; /* NULL when no anchors are configured */
    struct gp11_crls *crls;   /* [trust] crls, NULL when not configured */
    uint8_t profiles[2];      /* key-derivation profiles, preferred first */
    size_t n_profiles;
    uint32_t msg_caps; /* capability bits of protocol.md 2.6 */
    /* The anchor paths' stat() when trust was loaded: [trust] anchors,
     * initiator-anchors, acceptor-anchors (gp11_runtime_trust). */
    struct gp11_file_sig anchor_sig[3];
};

/*
 * The runtime, set up on first call (config read, token opened, logged in,
 * capabilities probed, anchors loaded). A failure is returned every time
 * until the cause is fixed; nothing half-made is kept.
 */
uint32_t gp11_runtime_get(struct gp11_runtime **out);

/*
 * A new reference to the runtime's trust anchors (NULL when none are
 * configured), for a credential or a context. If an anchor file or
 * directory changed since it was loaded (stat(): device, inode, size,
 * mtime, ctime; for a directory its own entry, i.e. files added, removed
 * or renamed), the anchors are loaded again first; if that fails, the
 * error is returned (no context is judged by anchors that are no longer
 * configured) and the next call tries again. Holders of the old anchors
 * keep them until they let go.
 */
uint32_t gp11_runtime_trust(struct gp11_runtime *rt, struct gp11_trust **out);

/*
 * The running configuration's [policy] allow-anonymous and allow-export,
 * if the runtime is set up already (true); false, nothing set, if not:
 * it is never set up for this (that would open the token).
 */
bool gp11_runtime_policy(bool *anonymous, bool *export);

/* True if this token can run the key-derivation profile. */
bool gp11_runtime_has_profile(const struct gp11_runtime *rt, uint8_t profile);

#endif
