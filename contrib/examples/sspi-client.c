/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MIT's gss-client (krb5 src/appl/gss-sample) written with SSPI calls
 * only (include/gss-pkcs11/sspi.h, libgss-pkcs11-sspi.so.0): it speaks
 * the sample programs' framing (sspi-sample.h), so it talks to MIT's
 * gss-server (and to sspi-server). Per message it sends an
 * EncryptMessage token (TOKEN || DATA, the Kerberos SSP convention: a
 * WRAP token that gss_unwrap accepts), the server answers with a MIC of
 * the plaintext, which VerifySignature checks.
 *
 *   sspi-client [-port N] [-mcount N] [-seq] [-nx] [-nw] [-nm] [-f]
 *               host service@host message
 *
 * -nx: integrity-only wrap (SECQOP_WRAP_NO_ENCRYPT); -nw: the message
 * sent in the clear; -nm: no MIC asked for; -f: message is a file name.
 * Prints "Signature verified." or "Response received." per message, as
 * gss-client does. Exit status 0 on success.
 */
#include "sspi-sample.h"

#include "gss-pkcs11/sspi.h"

#include <netdb.h>
#include <sys/socket.h>

/* Prints a failed call and its status. */
static int failed(const char *what, SECURITY_STATUS st)
{
    fprintf(stderr, "%s failed: status 0x%08x\n", what, (unsigned)st);
    return -1;
}

/* Connects to host:port over TCP; -1 on failure. */
static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {0}, *res, *ai;
    int s = -1, err;

    hints.ai_socktype = SOCK_STREAM;
    err = getaddrinfo(host, port, &hints, &res);
    if (err != 0) {
        fprintf(stderr, "%s: %s\n", host, gai_strerror(err));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s < 0)
            continue;
        if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(s);
        s = -1;
    }
    freeaddrinfo(res);
    if (s < 0)
        perror("connecting");
    return s;
}

/* Reads a whole file into a new buffer. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long size;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        if (f)
            fclose(f);
        return -1;
    }
    *len = (size_t)size;
    *out = malloc(*len ? *len : 1);
    if (*out == NULL || fread(*out, 1, *len, f) != *len) {
        perror(path);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

/*
 * The sample protocol's establishment: a NOOP|CONTEXT_NEXT token, then
 * InitializeSecurityContextA's tokens as CONTEXT tokens until it returns
 * SEC_E_OK.
 */
static int establish(int s, CredHandle *cred, const char *service, ULONG req,
                     CtxtHandle *ctx, ULONG *attrs)
{
    SecBuffer in = {0, SECBUFFER_TOKEN, NULL}, out;
    SecBufferDesc ind = {SECBUFFER_VERSION, 1, &in}, outd;
    SECURITY_STATUS st;
    TimeStamp expiry;
    uint8_t *tok = NULL;
    size_t len;
    bool first = true;
    int flags, ret = -1;

    if (sample_send(s, TOKEN_NOOP | TOKEN_CONTEXT_NEXT, NULL, 0) < 0)
        return -1;
    for (;;) {
        out = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
        outd = (SecBufferDesc){SECBUFFER_VERSION, 1, &out};
        st = InitializeSecurityContextA(
            cred, first ? NULL : ctx, first ? (SEC_CHAR *)service : NULL,
            req | ISC_REQ_ALLOCATE_MEMORY, 0, SECURITY_NATIVE_DREP,
            first ? NULL : &ind, 0, ctx, &outd, attrs, &expiry);
        free(tok);
        tok = NULL;
        if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
            failed("InitializeSecurityContextA", st);
            if (!first)
                DeleteSecurityContext(ctx);
            return -1;
        }
        first = false;
        if (out.cbBuffer > 0) {
            int r = sample_send(s, TOKEN_CONTEXT, out.pvBuffer, out.cbBuffer);

            FreeContextBuffer(out.pvBuffer);
            if (r < 0)
                goto fail;
        }
        if (st == SEC_E_OK)
            return 0;
        if (sample_recv(s, &flags, &tok, &len) < 0)
            goto fail;
        if (!(flags & TOKEN_CONTEXT)) {
            fprintf(stderr, "expected a context token, got flags %d\n", flags);
            goto fail;
        }
        in = (SecBuffer){(ULONG)len, SECBUFFER_TOKEN, tok};
    }
fail:
    free(tok);
    DeleteSecurityContext(ctx);
    return ret;
}

/* One message: sent wrapped (or clear), the answer checked. */
static int one_message(int s, CtxtHandle *ctx, const SecPkgContext_Sizes *sz,
                       const uint8_t *msg, size_t len, bool wrap, bool encrypt,
                       bool mic)
{
    uint8_t *buf = NULL, *tok = NULL;
    size_t tok_len;
    int flags, ret = -1;
    SECURITY_STATUS st;

    if (wrap) {
        SecBuffer b[2];
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};

        buf = malloc(sz->cbSecurityTrailer + len + 1);
        if (buf == NULL)
            return -1;
        if (len)
            memcpy(buf + sz->cbSecurityTrailer, msg, len);
        b[0] = (SecBuffer){sz->cbSecurityTrailer, SECBUFFER_TOKEN, buf};
        b[1] = (SecBuffer){(ULONG)len, SECBUFFER_DATA,
                           buf + sz->cbSecurityTrailer};
        st = EncryptMessage(ctx, encrypt ? 0 : SECQOP_WRAP_NO_ENCRYPT, &d, 0);
        if (st != SEC_E_OK) {
            failed("EncryptMessage", st);
            goto done;
        }
        /* The token is TOKEN || DATA, with TOKEN as long as it came out. */
        memmove(buf + b[0].cbBuffer, b[1].pvBuffer, len);
        if (sample_send(s,
                        TOKEN_DATA | TOKEN_WRAPPED |
                            (encrypt ? TOKEN_ENCRYPTED : 0) |
                            (mic ? TOKEN_SEND_MIC : 0),
                        buf, b[0].cbBuffer + len) < 0)
            goto done;
    } else if (sample_send(s, TOKEN_DATA | (mic ? TOKEN_SEND_MIC : 0), msg,
                           len) < 0) {
        goto done;
    }
    if (sample_recv(s, &flags, &tok, &tok_len) < 0)
        goto done;
    if (mic) {
        SecBuffer b[2] = {
            {(ULONG)len, SECBUFFER_DATA | SECBUFFER_READONLY, (void *)msg},
            {(ULONG)tok_len, SECBUFFER_TOKEN, tok}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
        ULONG qop = 0;

        st = VerifySignature(ctx, &d, 0, &qop);
        if (st != SEC_E_OK) {
            failed("VerifySignature", st);
            goto done;
        }
        printf("Signature verified.\n");
    } else {
        printf("Response received.\n");
    }
    ret = 0;
done:
    free(buf);
    free(tok);
    return ret;
}

static int usage(void)
{
    fprintf(stderr, "usage: sspi-client [-port N] [-mcount N] [-seq] [-nx] "
                    "[-nw] [-nm] [-f] host service@host message\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *port = "4444";
    int mcount = 1, i, s = -1, rc = 1;
    bool wrap = true, encrypt = true, mic = true, file = false;
    ULONG req = ISC_REQ_MUTUAL_AUTH | ISC_REQ_REPLAY_DETECT |
                ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY,
          attrs = 0;
    CredHandle cred;
    CtxtHandle ctx;
    SecPkgContext_Sizes sz;
    SecPkgContext_NamesA names;
    SECURITY_STATUS st;
    uint8_t *msg = NULL;
    size_t len;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-port") == 0 && i + 1 < argc)
            port = argv[++i];
        else if (strcmp(argv[i], "-mcount") == 0 && i + 1 < argc)
            mcount = atoi(argv[++i]);
        else if (strcmp(argv[i], "-seq") == 0)
            req |= ISC_REQ_SEQUENCE_DETECT;
        else if (strcmp(argv[i], "-nx") == 0)
            encrypt = false;
        else if (strcmp(argv[i], "-nw") == 0)
            wrap = false;
        else if (strcmp(argv[i], "-nm") == 0)
            mic = false;
        else if (strcmp(argv[i], "-f") == 0)
            file = true;
        else
            return usage();
    }
    if (argc - i != 3 || mcount < 1)
        return usage();
    if (file) {
        if (read_file(argv[i + 2], &msg, &len) < 0)
            return 1;
    } else {
        len = strlen(argv[i + 2]);
        msg = (uint8_t *)strdup(argv[i + 2]);
    }
    st = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)GSS_PKCS11_SSP_NAME,
                                   SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                   &cred, NULL);
    if (st != SEC_E_OK) {
        failed("AcquireCredentialsHandleA", st);
        goto done;
    }
    s = connect_to(argv[i], port);
    if (s < 0)
        goto free_cred;
    if (establish(s, &cred, argv[i + 1], req, &ctx, &attrs) < 0)
        goto close;
    st = QueryContextAttributesA(&ctx, SECPKG_ATTR_NAMES, &names);
    if (st == SEC_E_OK) {
        printf("\"%s\" to \"%s\", flags %x\n", names.sUserName, argv[i + 1],
               (unsigned)attrs);
        FreeContextBuffer(names.sUserName);
    }
    st = QueryContextAttributesA(&ctx, SECPKG_ATTR_SIZES, &sz);
    if (st != SEC_E_OK) {
        failed("QueryContextAttributesA(SIZES)", st);
        goto delete;
    }
    for (int m = 0; m < mcount; m++)
        if (one_message(s, &ctx, &sz, msg, len, wrap, encrypt, mic) < 0)
            goto delete;
    /* The end of the session: a NOOP token. */
    if (sample_send(s, TOKEN_NOOP, NULL, 0) == 0)
        rc = 0;
    delete : DeleteSecurityContext(&ctx);
close:
    close(s);
free_cred:
    FreeCredentialsHandle(&cred);
done:
    free(msg);
    return rc;
}
