/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MIT's gss-server (krb5 src/appl/gss-sample) written with SSPI calls
 * only (include/gss-pkcs11/sspi.h, libgss-pkcs11-sspi.so.0): it speaks
 * the sample programs' framing (sspi-sample.h), so MIT's gss-client (and
 * sspi-client) talk to it. Per connection: the context from
 * AcceptSecurityContext, then per message token a wrapped one opened
 * with DecryptMessage's stream layout (a whole gss_wrap token), and the
 * answer a MakeSignature MIC of the plaintext (TOKEN_SEND_MIC) or a
 * NOOP; a NOOP from the client ends the connection.
 *
 *   sspi-server [-port N] [-once] service@host
 *
 * Prints "starting..." once it listens, then per connection
 * "Accepted connection: "<name>"" and per message "Received message:
 * "<text>"", as gss-server does.
 */
#include "sspi-sample.h"

#include "gss-pkcs11/sspi.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

/* Prints a failed call and its status. */
static int failed(const char *what, SECURITY_STATUS st)
{
    printf("%s failed: status 0x%08x\n", what, (unsigned)st);
    return -1;
}

/* A listening TCP socket on port (IPv6 and IPv4 when possible). */
static int listen_on(int port)
{
    struct sockaddr_in6 a6 = {0};
    struct sockaddr_in a4 = {0};
    int s, one = 1, zero = 0;

    s = socket(AF_INET6, SOCK_STREAM, 0);
    if (s >= 0) {
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)port);
        a6.sin6_addr = in6addr_any;
        if (bind(s, (struct sockaddr *)&a6, sizeof(a6)) == 0 &&
            listen(s, 5) == 0)
            return s;
        close(s);
    }
    s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        perror("creating socket");
        return -1;
    }
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    a4.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s, (struct sockaddr *)&a4, sizeof(a4)) < 0 || listen(s, 5) < 0) {
        perror("binding socket");
        close(s);
        return -1;
    }
    return s;
}

/* The sample protocol's establishment, acceptor side. */
static int establish(int s, CredHandle *cred, CtxtHandle *ctx)
{
    SECURITY_STATUS st = SEC_I_CONTINUE_NEEDED;
    TimeStamp expiry;
    ULONG attrs = 0;
    uint8_t *tok;
    size_t len;
    bool first = true;
    int flags;

    if (sample_recv(s, &flags, &tok, &len) < 0)
        return -1;
    free(tok);
    if (!(flags & TOKEN_NOOP)) {
        printf("Expected NOOP token, got %d token instead\n", flags);
        return -1;
    }
    if (!(flags & TOKEN_CONTEXT_NEXT)) {
        printf("Unauthenticated connections are not served\n");
        return -1;
    }
    while (st == SEC_I_CONTINUE_NEEDED) {
        SecBuffer in, out = {0, SECBUFFER_TOKEN, NULL};
        SecBufferDesc ind = {SECBUFFER_VERSION, 1, &in};
        SecBufferDesc outd = {SECBUFFER_VERSION, 1, &out};

        if (sample_recv(s, &flags, &tok, &len) < 0)
            goto fail;
        in = (SecBuffer){(ULONG)len, SECBUFFER_TOKEN, tok};
        st = AcceptSecurityContext(
            cred, first ? NULL : ctx, &ind,
            ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_MUTUAL_AUTH, SECURITY_NATIVE_DREP,
            ctx, &outd, &attrs, &expiry);
        free(tok);
        if (out.cbBuffer > 0 && out.pvBuffer != NULL) {
            int r = sample_send(s, TOKEN_CONTEXT, out.pvBuffer, out.cbBuffer);

            FreeContextBuffer(out.pvBuffer);
            if (r < 0 && (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED))
                st = SEC_E_INTERNAL_ERROR;
        }
        if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
            failed("AcceptSecurityContext", st);
            goto fail;
        }
        first = false;
    }
    return 0;
fail:
    if (!first)
        DeleteSecurityContext(ctx);
    return -1;
}

/* Answers one message token: a MIC of its plaintext or a NOOP. */
static int one_message(int s, CtxtHandle *ctx, int flags, uint8_t *tok,
                       size_t len)
{
    const uint8_t *msg = tok;
    size_t msg_len = len;
    uint8_t mic[256];
    SECURITY_STATUS st;

    if (flags & TOKEN_WRAPPED) {
        SecBuffer b[2] = {{(ULONG)len, SECBUFFER_STREAM, tok},
                          {0, SECBUFFER_DATA, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
        ULONG qop = 0;

        st = DecryptMessage(ctx, &d, 0, &qop);
        if (st != SEC_E_OK)
            return failed("DecryptMessage", st);
        if (qop == SECQOP_WRAP_NO_ENCRYPT && (flags & TOKEN_ENCRYPTED))
            fprintf(stderr, "Warning!  Message not encrypted.\n");
        msg = b[1].pvBuffer;
        msg_len = b[1].cbBuffer;
    }
    printf("Received message: \"%.*s\"\n", (int)(msg_len > 200 ? 200 : msg_len),
           (const char *)msg);
    if (flags & TOKEN_SEND_MIC) {
        SecBuffer b[2] = {
            {(ULONG)msg_len, SECBUFFER_DATA | SECBUFFER_READONLY, (void *)msg},
            {sizeof(mic), SECBUFFER_TOKEN, mic}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};

        st = MakeSignature(ctx, 0, &d, 0);
        if (st != SEC_E_OK)
            return failed("MakeSignature", st);
        return sample_send(s, TOKEN_MIC, mic, b[1].cbBuffer);
    }
    return sample_send(s, TOKEN_NOOP, NULL, 0);
}

/* Serves one connection. */
static int serve(int s, CredHandle *cred)
{
    SecPkgContext_NamesA names;
    CtxtHandle ctx;
    uint8_t *tok;
    size_t len;
    int flags, ret = -1;

    if (establish(s, cred, &ctx) < 0)
        return -1;
    if (QueryContextAttributesA(&ctx, SECPKG_ATTR_NAMES, &names) == SEC_E_OK) {
        printf("Accepted connection: \"%s\"\n", names.sUserName);
        FreeContextBuffer(names.sUserName);
    }
    for (;;) {
        if (sample_recv(s, &flags, &tok, &len) < 0)
            break;
        if (flags & TOKEN_NOOP) {
            free(tok);
            ret = 0;
            break;
        }
        if (one_message(s, &ctx, flags, tok, len) < 0) {
            free(tok);
            break;
        }
        free(tok);
    }
    DeleteSecurityContext(&ctx);
    return ret;
}

static int usage(void)
{
    fprintf(stderr, "usage: sspi-server [-port N] [-once] service@host\n");
    return 2;
}

int main(int argc, char **argv)
{
    int port = 4444, i, ls, rc = 0;
    bool once = false;
    CredHandle cred;
    SECURITY_STATUS st;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "-once") == 0)
            once = true;
        else
            return usage();
    }
    if (argc - i != 1)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    st = AcquireCredentialsHandleA(
        (SEC_CHAR *)argv[i], (SEC_CHAR *)GSS_PKCS11_SSP_NAME,
        SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &cred, NULL);
    if (st != SEC_E_OK)
        return failed("AcquireCredentialsHandleA", st), 1;
    ls = listen_on(port);
    if (ls < 0) {
        FreeCredentialsHandle(&cred);
        return 1;
    }
    printf("starting...\n");
    do {
        int s = accept(ls, NULL, NULL);

        if (s < 0) {
            perror("accepting connection");
            rc = 1;
            break;
        }
        rc = serve(s, &cred) < 0;
        close(s);
    } while (!once);
    close(ls);
    FreeCredentialsHandle(&cred);
    return rc;
}
