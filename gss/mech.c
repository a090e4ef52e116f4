/* SPDX-License-Identifier: Apache-2.0 */
/* Mechanism-level calls: what the mechanism is and says about itself. */
#include "gp11_mech.h"
#include "gp11_runtime.h"
#include "gp11_config.h"
#include "gp11_error.h"
#include "gp11_gss.h"
#include "gp11_oid.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* RFC 5587 mechanism attributes: 1.3.6.1.5.5.13.<n>. */
enum {
    MA_MECH_CONCRETE = 1,
    MA_ITOK_FRAMED = 9,
    MA_AUTH_INIT = 10,
    MA_AUTH_TARG = 11,
    MA_AUTH_INIT_ANON = 14,
    MA_INTEG_PROT = 17,
    MA_CONF_PROT = 18,
    MA_MIC = 19,
    MA_WRAP = 20,
    MA_REPLAY_DET = 22,
    MA_OOS_DET = 23,
    MA_CBINDINGS = 24,
    MA_PFS = 25,
    MA_CTX_TRANS = 27,
};

/* Builds the attribute OID 1.3.6.1.5.5.13.n in buf. */
static gss_OID_desc ma_oid(unsigned n, unsigned char buf[7])
{
    static const unsigned char prefix[6] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x0d};
    gss_OID_desc oid = {7, buf};

    memcpy(buf, prefix, 6);
    buf[6] = (unsigned char)n;
    return oid;
}

OM_uint32 gp11_gss_indicate_mechs(OM_uint32 *minor, gss_OID_set *mechs)
{
    const gss_OID_desc *mech = gp11_mech_oid();

    if (minor == NULL || mechs == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    *mechs = gp11_oid_set_new(&mech, 1);
    if (*mechs == GSS_C_NO_OID_SET)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    return GSS_S_COMPLETE;
}

/*
 * What the configured policy allows: anonymous initiators at an acceptor,
 * and context export. The running configuration once the mechanism runs
 * (MIT's mechglue asks on every establishment; what the running contexts
 * do is what counts), else the configuration file alone: SPNEGO and SASL
 * ask for the attributes of every mechanism, and this must not open the
 * token. An unreadable configuration allows nothing.
 */
static void policy_allows(bool *anonymous, bool *export)
{
    struct gp11_config *cfg = NULL;

    *anonymous = *export = false;
    if (gp11_runtime_policy(anonymous, export))
        return;
    if (gp11_config_load(NULL, &cfg) != GP11_OK)
        return;
    *anonymous = cfg->allow_anonymous;
    *export = cfg->allow_export;
    gp11_config_free(cfg);
}

/*
 * What the mechanism does, truthfully: a concrete mechanism with framed
 * initial tokens, authenticating the acceptor always and the initiator
 * unless anonymous (GSS_C_MA_AUTH_INIT_ANON only when the policy allows
 * anonymous initiators: a Cyrus SASL server with noanonymous skips
 * mechanisms that report it), with channel bindings and forward secrecy
 * (ephemeral ECDH), integrity and confidentiality by MIC and wrap, replay
 * and out-of-sequence detection; GSS_C_MA_CTX_TRANS only when the policy
 * allows context export (contexts are transferable exactly then). Never
 * GSS_C_MA_NOT_DFLT_MECH, which would hide it from SPNEGO. Every
 * attribute here is a known one.
 */
OM_uint32 gp11_gss_inquire_attrs_for_mech(OM_uint32 *minor, gss_const_OID mech,
                                          gss_OID_set *attrs,
                                          gss_OID_set *known)
{
    static const unsigned have[] = {
        MA_MECH_CONCRETE,  MA_ITOK_FRAMED, MA_AUTH_INIT, MA_AUTH_TARG,
        MA_INTEG_PROT,     MA_CONF_PROT,   MA_MIC,       MA_WRAP,
        MA_REPLAY_DET,     MA_OOS_DET,     MA_CBINDINGS, MA_PFS,
        /* the last two: reported only when the policy allows */
        MA_CTX_TRANS,      MA_AUTH_INIT_ANON,
    };
#define N_ATTRS (sizeof(have) / sizeof(have[0]))
    unsigned char bufs[N_ATTRS][7];
    gss_OID_desc oids[N_ATTRS];
    const gss_OID_desc *ptrs[N_ATTRS];
    size_t n_have = N_ATTRS;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (mech != GSS_C_NO_OID &&
        !gp11_oid_equal((const gss_OID_desc *)mech, gp11_mech_oid()))
        return GSS_S_BAD_MECH;
    for (size_t i = 0; i < N_ATTRS; i++) {
        oids[i] = ma_oid(have[i], bufs[i]);
        ptrs[i] = &oids[i];
    }
    if (attrs) {
        const gss_OID_desc *trans = ptrs[N_ATTRS - 2];
        const gss_OID_desc *anon = ptrs[N_ATTRS - 1];
        bool allow_anon, allow_export;

        policy_allows(&allow_anon, &allow_export);
        n_have = N_ATTRS - 2;
        if (allow_export)
            ptrs[n_have++] = trans;
        if (allow_anon)
            ptrs[n_have++] = anon;
        *attrs = gp11_oid_set_new(ptrs, n_have);
        ptrs[N_ATTRS - 2] = trans;
        ptrs[N_ATTRS - 1] = anon;
    }
    if (attrs && *attrs == GSS_C_NO_OID_SET)
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    if (known &&
        (*known = gp11_oid_set_new(ptrs, N_ATTRS)) == GSS_C_NO_OID_SET) {
        if (attrs)
            gp11_oid_set_free(*attrs);
        return gp11_fail(minor, gp11_err_set(GP11_ERR_NOMEM, "out of memory"));
    }
    return GSS_S_COMPLETE;
}

static char gs2_name[16];
static pthread_once_t gs2_once = PTHREAD_ONCE_INIT;

/* "GS2-" + base32 of the first 55 bits of SHA-1(DER OID) (RFC 5801). */
static void gs2_compute(void)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const gss_OID_desc *oid = gp11_mech_oid();
    unsigned char der[2 + 128], md[20];
    unsigned int n = 20;
    uint64_t bits = 0;

    der[0] = 0x06;
    der[1] = (unsigned char)oid->length;
    memcpy(der + 2, oid->elements, oid->length);
    if (EVP_Digest(der, 2 + oid->length, md, &n, EVP_sha1(), NULL) != 1)
        return;
    for (int i = 0; i < 7; i++)
        bits = bits << 8 | md[i];
    bits >>= 1; /* the first 55 bits */
    memcpy(gs2_name, "GS2-", 4);
    for (int i = 0; i < 11; i++)
        gs2_name[4 + i] = b32[(bits >> (50 - 5 * i)) & 31];
    gs2_name[15] = '\0';
}

const char *gp11_gs2_name(void)
{
    pthread_once(&gs2_once, gs2_compute);
    return gs2_name;
}

/* Copies a C string into a malloc'ed GSS buffer. */
static uint32_t buffer_set(gss_buffer_t b, const char *s)
{
    if (b == GSS_C_NO_BUFFER)
        return GP11_OK;
    b->length = strlen(s);
    b->value = malloc(b->length + 1);
    if (b->value == NULL) {
        b->length = 0;
        return gp11_err_set(GP11_ERR_NOMEM, "out of memory");
    }
    memcpy(b->value, s, b->length + 1);
    return GP11_OK;
}

OM_uint32 gp11_gss_inquire_saslname_for_mech(OM_uint32 *minor,
                                             const gss_OID mech,
                                             gss_buffer_t sasl_name,
                                             gss_buffer_t mech_name,
                                             gss_buffer_t mech_description)
{
    uint32_t ret;

    if (minor == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (mech == GSS_C_NO_OID || !gp11_oid_equal(mech, gp11_mech_oid()))
        return GSS_S_BAD_MECH;
    ret = buffer_set(sasl_name, gp11_gs2_name());
    if (ret == GP11_OK)
        ret = buffer_set(mech_name, "gss-pkcs11");
    if (ret == GP11_OK)
        ret = buffer_set(mech_description,
                         "GSS-API mechanism with context keys in a PKCS#11 "
                         "token");
    return ret == GP11_OK ? GSS_S_COMPLETE : gp11_fail(minor, ret);
}

OM_uint32 gp11_gss_inquire_mech_for_saslname(OM_uint32 *minor,
                                             const gss_buffer_t sasl_name,
                                             gss_OID *mech)
{
    const char *ours = gp11_gs2_name();

    if (minor == NULL || mech == NULL)
        return GSS_S_CALL_INACCESSIBLE_WRITE;
    *minor = 0;
    if (sasl_name == GSS_C_NO_BUFFER || sasl_name->length != strlen(ours) ||
        memcmp(sasl_name->value, ours, sasl_name->length) != 0)
        return GSS_S_BAD_MECH;
    *mech = (gss_OID)gp11_mech_oid();
    return GSS_S_COMPLETE;
}

OM_uint32 gp11_gss_unavailable(OM_uint32 *minor, const char *call)
{
    uint32_t code = gp11_err_set(
        GP11_ERR_UNAVAILABLE, "%s is not implemented by gss-pkcs11 yet", call);

    if (minor)
        *minor = code;
    return GSS_S_UNAVAILABLE;
}
