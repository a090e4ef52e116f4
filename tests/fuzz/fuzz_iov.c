/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: IOV layouts (gss/permsg_iov.c). The layout checks
 * are static and run only after the context and its QOP key are checked,
 * so they are fuzzed through the IOV calls on a real context pair on the
 * SoftHSM2 token (established once at start-up).
 *
 * Input:
 *   u8 op    bits 0-2 the call: 0 wrap_iov, 1 wrap_iov_length,
 *            2 get_mic_iov, 3 get_mic_iov_length, 4 unwrap_iov,
 *            5 verify_mic_iov, 6 wrap_iov then unwrap_iov by the peer on
 *            the same buffers, 7 get_mic_iov then verify_mic_iov by the
 *            peer; bit 3 the acceptor calls (else the initiator); bit 4
 *            conf_req; bit 5 (op 6) the peer gets the token as one STREAM
 *   u8 qop   (value & 7)
 *   u8 n     number of buffers (n % 10)
 *   n times: u16 type, u8 flags (bit 0 ALLOCATE, bit 1 unused, bits 2-7
 *            flag bits no call knows), u16 length, then that many content bytes
 *            (zeros once the input ends; at most 4096 bytes in all)
 *
 * Every buffer is its own allocation of exactly its length, so a call
 * that reads or writes past a buffer shows under ASan.
 *
 * Invariants: a token made over a layout of HEADER, DATA, SIGN_ONLY,
 * TRAILER, PADDING and EMPTY buffers unwraps on the peer to the same
 * DATA; a MIC made over a layout verifies on the peer; the *_length calls
 * report what the calls then use.
 */
#include "fuzz_ctx.h"
#include "fuzz_input.h"
#include "gp11_context.h"
#include "gp11_gss.h"
#include "gp11_error.h"
#include "gp11_permsg.h"

#define MAX_BUFS 10
#define MAX_TOTAL 4096

static gss_ctx_id_t ini, acc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_token_setup();
    fz_establish(fz_target_ec,
                 GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG |
                     GSS_C_REPLAY_FLAG,
                 &ini, &acc);
    return 0;
}

/* A layout and the memory behind it. */
struct layout {
    gss_iov_buffer_desc iov[MAX_BUFS + 1];
    void *mine[MAX_BUFS + 1]; /* what we allocated for each buffer */
    uint8_t *orig[MAX_BUFS + 1];
    size_t orig_len[MAX_BUFS + 1];
    int n;
};

/* Reads the layout from the input. */
static void read_layout(struct fz_in *in, struct layout *l)
{
    size_t total = 0, got, len;
    const uint8_t *p;

    memset(l, 0, sizeof(*l));
    l->n = fz_u8(in) % (MAX_BUFS + 1);
    for (int i = 0; i < l->n; i++) {
        OM_uint32 type = fz_u16(in);
        uint8_t f = fz_u8(in);

        if (f & 1)
            type |= GSS_IOV_BUFFER_FLAG_ALLOCATE;
        type |= (OM_uint32)(f >> 2) << 18;
        len = fz_u16(in);
        if (len > MAX_TOTAL - total)
            len = MAX_TOTAL - total;
        total += len;
        l->mine[i] = calloc(len ? len : 1, 1);
        if (l->mine[i] == NULL)
            abort();
        p = fz_bytes(in, len, &got);
        if (got)
            memcpy(l->mine[i], p, got);
        l->iov[i].type = type;
        l->iov[i].buffer = (gss_buffer_desc){len, l->mine[i]};
        l->orig[i] = fz_dup(l->mine[i], len);
        l->orig_len[i] = len;
    }
}

/* Frees what we and the calls allocated (a buffer a call allocated has
 * the ALLOCATED flag, which the input never sets itself). */
static void free_layout(struct layout *l)
{
    for (int i = 0; i < l->n; i++) {
        if ((l->iov[i].type & GSS_IOV_BUFFER_FLAG_ALLOCATED) &&
            l->iov[i].buffer.value != l->mine[i])
            free(l->iov[i].buffer.value);
        free(l->mine[i]);
        free(l->orig[i]);
    }
}

/* True if every buffer is of a type wrap and unwrap agree on. */
static bool plain_layout(const struct layout *l, bool mic)
{
    for (int i = 0; i < l->n; i++) {
        switch (GSS_IOV_BUFFER_TYPE(l->iov[i].type)) {
        case GSS_IOV_BUFFER_TYPE_EMPTY:
        case GSS_IOV_BUFFER_TYPE_DATA:
        case GSS_IOV_BUFFER_TYPE_SIGN_ONLY:
            break;
        case GSS_IOV_BUFFER_TYPE_HEADER:
        case GSS_IOV_BUFFER_TYPE_TRAILER:
        case GSS_IOV_BUFFER_TYPE_PADDING:
            if (mic)
                return false;
            break;
        case GSS_IOV_BUFFER_TYPE_MIC_TOKEN:
            if (!mic)
                return false;
            break;
        default:
            return false;
        }
    }
    return true;
}

/* True if buffer i is of type t. */
static bool is(const struct layout *l, int i, OM_uint32 t)
{
    return GSS_IOV_BUFFER_TYPE(l->iov[i].type) == t;
}

/* Checks that every DATA buffer holds what it held before the wrap. */
static void check_data(const struct layout *l, const char *how)
{
    for (int i = 0; i < l->n; i++)
        if (is(l, i, GSS_IOV_BUFFER_TYPE_DATA) &&
            (l->iov[i].buffer.length != l->orig_len[i] ||
             (l->orig_len[i] &&
              memcmp(l->iov[i].buffer.value, l->orig[i], l->orig_len[i]))))
            FZ_FAIL("%s: DATA buffer %d differs from what was wrapped", how, i);
}

/*
 * True if the DATA buffers can be joined into one without changing what
 * the tag covers: A frames every run, in buffer order, with its role and
 * length, sealed or not (docs/protocol.md 3.1: the data runs of a sealed
 * token as ROLE and LENGTH), so no SIGN_ONLY buffer may sit between two
 * DATA buffers.
 */
static bool stream_keeps_order(const struct layout *l)
{
    int first = -1, last = -1;

    for (int i = 0; i < l->n; i++) {
        if (is(l, i, GSS_IOV_BUFFER_TYPE_DATA)) {
            if (first < 0)
                first = i;
            last = i;
        }
    }
    for (int i = first + 1; first >= 0 && i < last; i++)
        if (is(l, i, GSS_IOV_BUFFER_TYPE_SIGN_ONLY))
            return false;
    return true;
}

/* The peer unwraps what wrap_iov made, as one STREAM: header, the DATA
 * buffers, the trailer, with the SIGN_ONLY buffers beside it. */
static void unwrap_as_stream(gss_ctx_id_t rx, struct layout *l)
{
    gss_iov_buffer_desc iov[MAX_BUFS + 2];
    size_t total = 0, used = 0, data_len = 0;
    uint8_t *stream, *expect;
    OM_uint32 minor, major;
    int n = 0, data_at = -1;

    for (int i = 0; i < l->n; i++)
        total += l->iov[i].buffer.length;
    stream = malloc(total ? total : 1);
    expect = malloc(total ? total : 1);
    if (stream == NULL || expect == NULL)
        abort();
    for (int pass = 0; pass < 3; pass++) {
        OM_uint32 want = pass == 0   ? GSS_IOV_BUFFER_TYPE_HEADER
                         : pass == 1 ? GSS_IOV_BUFFER_TYPE_DATA
                                     : GSS_IOV_BUFFER_TYPE_TRAILER;

        for (int i = 0; i < l->n; i++) {
            if (!is(l, i, want) || l->iov[i].buffer.length == 0)
                continue;
            memcpy(stream + used, l->iov[i].buffer.value,
                   l->iov[i].buffer.length);
            used += l->iov[i].buffer.length;
        }
    }
    iov[n].type = GSS_IOV_BUFFER_TYPE_STREAM;
    iov[n++].buffer = (gss_buffer_desc){used, stream};
    for (int i = 0; i < l->n; i++) {
        if (is(l, i, GSS_IOV_BUFFER_TYPE_SIGN_ONLY)) {
            iov[n].type = GSS_IOV_BUFFER_TYPE_SIGN_ONLY;
            iov[n++].buffer = l->iov[i].buffer;
        } else if (is(l, i, GSS_IOV_BUFFER_TYPE_DATA)) {
            if (l->orig_len[i])
                memcpy(expect + data_len, l->orig[i], l->orig_len[i]);
            data_len += l->orig_len[i];
            if (data_at < 0) {
                data_at = n;
                iov[n].type = GSS_IOV_BUFFER_TYPE_DATA;
                iov[n++].buffer = (gss_buffer_desc){0, NULL};
            }
        }
    }
    if (data_at < 0) {
        data_at = n;
        iov[n].type = GSS_IOV_BUFFER_TYPE_DATA;
        iov[n++].buffer = (gss_buffer_desc){0, NULL};
    }
    major = gp11_gss_unwrap_iov(&minor, rx, NULL, NULL, iov, n);
    if (GSS_ERROR(major))
        FZ_FAIL("the peer cannot unwrap a wrap_iov token as a STREAM: %s",
                gp11_err_message(minor));
    if (iov[data_at].buffer.length != data_len ||
        (data_len && memcmp(iov[data_at].buffer.value, expect, data_len)))
        FZ_FAIL("a STREAM unwrapped to other data than was wrapped");
    free(stream);
    free(expect);
}

/* Checks that a *_length call sized what the real call then fills. */
static void check_lengths(gss_ctx_id_t tx, unsigned op, int conf, gss_qop_t qop,
                          struct layout *l)
{
    size_t want[MAX_BUFS];
    OM_uint32 minor, major;

    for (int i = 0; i < l->n; i++)
        want[i] = l->iov[i].buffer.length;
    for (int i = 0; i < l->n; i++) {
        /* Room of the reported size, and let the call fill it. */
        free(l->mine[i]);
        l->mine[i] = calloc(want[i] ? want[i] : 1, 1);
        if (l->mine[i] == NULL)
            abort();
        if (want[i] && l->orig_len[i] >= want[i])
            memcpy(l->mine[i], l->orig[i], want[i]);
        l->iov[i].buffer = (gss_buffer_desc){want[i], l->mine[i]};
        l->iov[i].type &= ~(OM_uint32)(GSS_IOV_BUFFER_FLAG_ALLOCATE |
                                       GSS_IOV_BUFFER_FLAG_ALLOCATED);
    }
    if (op == 1)
        major = gp11_gss_wrap_iov(&minor, tx, conf, qop, NULL, l->iov, l->n);
    else
        major = gp11_gss_get_mic_iov(&minor, tx, qop, l->iov, l->n);
    if (GSS_ERROR(major))
        FZ_FAIL("%s refused buffers of the sizes its _length call gave: %s",
                op == 1 ? "wrap_iov" : "get_mic_iov", gp11_err_message(minor));
    for (int i = 0; i < l->n; i++)
        if (l->iov[i].buffer.length != want[i])
            FZ_FAIL("buffer %d: _length said %zu, the call used %zu", i,
                    want[i], l->iov[i].buffer.length);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    unsigned op = fz_u8(&in);
    gss_qop_t qop = fz_u8(&in) & 7;
    bool from_acc = op & 8;
    int conf = (op & 0x10) != 0, conf_state = -1;
    gss_ctx_id_t tx = from_acc ? acc : ini, rx = from_acc ? ini : acc;
    struct gp11_ctx *rxc = (struct gp11_ctx *)rx;
    gss_qop_t qop_state = 0;
    struct layout l;
    OM_uint32 minor, major;

    read_layout(&in, &l);
    gp11_seqwin_init(&rxc->recv, rxc->flags);
    switch (op & 7) {
    case 0:
        gp11_gss_wrap_iov(&minor, tx, conf, qop, &conf_state, l.iov, l.n);
        break;
    case 1:
        major = gp11_gss_wrap_iov_length(&minor, tx, conf, qop, &conf_state,
                                         l.iov, l.n);
        if (!GSS_ERROR(major))
            check_lengths(tx, 1, conf, qop, &l);
        break;
    case 2:
        gp11_gss_get_mic_iov(&minor, tx, qop, l.iov, l.n);
        break;
    case 3:
        major = gp11_gss_get_mic_iov_length(&minor, tx, qop, l.iov, l.n);
        if (!GSS_ERROR(major))
            check_lengths(tx, 3, 0, qop, &l);
        break;
    case 4:
        gp11_gss_unwrap_iov(&minor, rx, &conf_state, &qop_state, l.iov, l.n);
        break;
    case 5:
        gp11_gss_verify_mic_iov(&minor, rx, &qop_state, l.iov, l.n);
        break;
    case 6:
        major =
            gp11_gss_wrap_iov(&minor, tx, conf, qop, &conf_state, l.iov, l.n);
        if (GSS_ERROR(major) || !plain_layout(&l, false))
            break;
        if ((op & 0x20) && stream_keeps_order(&l)) {
            unwrap_as_stream(rx, &l);
            break;
        }
        major = gp11_gss_unwrap_iov(&minor, rx, &conf_state, &qop_state, l.iov,
                                    l.n);
        if (GSS_ERROR(major))
            FZ_FAIL("the peer cannot unwrap what wrap_iov made: %s",
                    gp11_err_message(minor));
        if (conf_state != conf || qop_state != qop)
            FZ_FAIL("unwrap_iov reports conf %d QOP %u, wrapped with %d %u",
                    conf_state, (unsigned)qop_state, conf, (unsigned)qop);
        check_data(&l, "unwrap_iov");
        break;
    default:
        major = gp11_gss_get_mic_iov(&minor, tx, qop, l.iov, l.n);
        if (GSS_ERROR(major) || !plain_layout(&l, true))
            break;
        major = gp11_gss_verify_mic_iov(&minor, rx, &qop_state, l.iov, l.n);
        if (GSS_ERROR(major))
            FZ_FAIL("the peer cannot verify what get_mic_iov made: %s",
                    gp11_err_message(minor));
        break;
    }
    free_layout(&l);
    gp11_err_clear();
    return 0;
}
