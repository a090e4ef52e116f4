#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Interoperability with MIT krb5's sample programs (Debian package
# krb5-gss-samples): gss-server accepts as host@localhost and gss-client
# initiates with the suite's initiator identity, both loading our plugin
# through the mechglue ($GSS_MECH_CONFIG). Per connection the client wraps
# the message (gss_wrap), the server unwraps it and returns a MIC of it
# (gss_get_mic), the client verifies that MIC (gss_verify_mic) and prints
# "Signature verified.".
#
# Modes left out on purpose:
#  - gss-client -v1 selects the old *sample wire protocol* (no NOOP/flag
#    framing), not the version-1 GSS calls; gss-server 1.20 no longer speaks
#    it ("Expected NOOP token, got 0 token instead"), whatever the mechanism.
#    Neither program calls gss_sign/gss_seal.
#  - gss-client -pass (gss_acquire_cred_with_password) and -na (no context).
#
# Environment (set by meson): GSS_MECH_CONFIG, GSS_PKCS11_CONF,
# SOFTHSM2_CONF, GP11_TEST_TOKEN, GP11_TEST_SKIP_FILE.
# Exit: 0 pass, 1 failure, 77 when the suite's skip file exists.
set -u

[ -f "${GP11_TEST_SKIP_FILE:-/nonexistent}" ] && exit 77

MECH='{ 1 2 840 113556 1 8000 2554 699 53753 52470 19374 43690 12206812 14507593 }'
KRB5_MECH='{ 1 2 840 113554 1 2 2 }'
SERVICE=host@localhost
# Configured in the suite (there is an [acceptor rsa@localhost] identity in
# the token) but not served by this gss-server, whose credential is only
# for host@localhost.
OTHER_SERVICE=rsa@localhost
MSG='gss-pkcs11 interop message'
token=${GP11_TEST_TOKEN:-?}

echo "interop-mit: token $token"
for v in GSS_MECH_CONFIG GSS_PKCS11_CONF; do
    eval "val=\${$v:-}"
    if [ -z "$val" ]; then
        echo "interop-mit: FAIL: $v is not set" >&2
        exit 1
    fi
done
for p in gss-server gss-client; do
    if ! command -v "$p" >/dev/null 2>&1; then
        echo "interop-mit: FAIL: $p not found (apt-get install krb5-gss-samples)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gp11-interop.XXXXXX") || exit 1
# shellcheck source=tests/server-lib.sh
. "$(dirname "$0")/server-lib.sh"

# Keep Kerberos out of the way: no keytab for the acceptor, no ticket
# cache for the initiator, whatever the machine has.
KRB5_KTNAME=FILE:$tmp/none.keytab
KRB5CCNAME=FILE:$tmp/none.ccache
export KRB5_KTNAME KRB5CCNAME

# bounded SECONDS CMD...: CMD with a time limit when timeout(1) exists.
if command -v timeout >/dev/null 2>&1; then
    bounded() { timeout "$@"; }
else
    bounded() { shift; "$@"; }
fi

# The server writes its log through stdout, fully buffered into a file;
# stdbuf makes it line-buffered so the log can be checked while it runs.
if command -v stdbuf >/dev/null 2>&1; then
    server_checks=yes
else
    server_checks=
    echo "interop-mit: note: no stdbuf, server-side log checks skipped"
fi

# The server's plugin debug log: the reasons behind its GSS-API errors
# (gss-server prints only the last mechanism's minor status).
sdebug=${GSS_PKCS11_DEBUG:-$tmp/server-debug.log}

show_server() {
    show "$tmp/server.log"
    if [ -f "$sdebug" ]; then
        echo "----- errors in the plugin debug log of the server ($sdebug)"
        grep -i 'error' "$sdebug" | tail -n 20 | cut -c1-300
        echo "-----"
    fi
}

# launch_gss_server PORT ARG...: gss-server on PORT in the background,
# ARGs (e.g. -export) before the service name, with the plugin's debug log.
# shellcheck disable=SC2317 # invoked by start_server
launch_gss_server() {
    p=$1
    shift
    if [ -n "$server_checks" ]; then
        GSS_PKCS11_DEBUG=$sdebug \
            stdbuf -oL gss-server -port "$p" "$@" "$SERVICE" >"$slog" 2>&1 &
    else
        GSS_PKCS11_DEBUG=$sdebug \
            gss-server -port "$p" "$@" "$SERVICE" >"$slog" 2>&1 &
    fi
}

count() {
    grep -cF -- "$1" "$2"
}

# positive LABEL CONTEXTS VERIFIED RESPONSES [-flag SUBSTRING] -- CLIENT-ARGS...
# gss-client must exit 0, print "Signature verified." VERIFIED times and
# "Response received." RESPONSES times, show our mechanism for each of
# CONTEXTS contexts, and never warn that a message went unencrypted. The
# server must log CONTEXTS accepted connections and VERIFIED+RESPONSES
# received messages. -flag: a "context flag:" line the client must show.
positive() {
    label=$1 nctx=$2 nver=$3 nresp=$4
    shift 4
    want_flag=
    if [ "$1" = -flag ]; then
        want_flag=$2
        shift 2
    fi
    shift # --
    step=$((step + 1))
    checks=$((checks + 1))
    clog=$tmp/client-$step.log
    before=$(wc -l <"$tmp/server.log")
    echo "run [$label]: gss-client -port $port $*"
    bounded 60 gss-client -port "$port" "$@" >"$clog" 2>&1
    rc=$?
    bad=
    [ "$rc" -eq 0 ] || bad="$bad exit $rc;"
    n=$(count 'Signature verified.' "$clog")
    [ "$n" -eq "$nver" ] || bad="$bad $n 'Signature verified.' lines, want $nver;"
    n=$(count 'Response received.' "$clog")
    [ "$n" -eq "$nresp" ] || bad="$bad $n 'Response received.' lines, want $nresp;"
    n=$(count "Mechanism $MECH supports" "$clog")
    [ "$n" -eq "$nctx" ] || bad="$bad our mechanism shown $n times, want $nctx;"
    if grep -q 'Message not encrypted' "$clog"; then
        bad="$bad client: message not encrypted;"
    fi
    if [ -n "$want_flag" ] && ! grep -q "context flag: $want_flag" "$clog"; then
        bad="$bad no $want_flag;"
    fi
    if [ -n "$server_checks" ]; then
        # The server logs these lines before it answers the client, so
        # they are all there once the client is done.
        tail -n +"$((before + 1))" "$tmp/server.log" >"$tmp/server-step.log"
        n=$(count 'Accepted connection: "' "$tmp/server-step.log")
        [ "$n" -eq "$nctx" ] || bad="$bad server accepted $n connections, want $nctx;"
        n=$(count 'Received message:' "$tmp/server-step.log")
        [ "$n" -eq $((nver + nresp)) ] ||
            bad="$bad server received $n messages, want $((nver + nresp));"
    fi
    if [ -n "$bad" ]; then
        fail "[$label]:$bad"
        show "$clog"
    else
        echo "ok [$label]: $nctx context(s), $nver MIC(s) verified, $nresp unsigned response(s)"
    fi
}

# negative LABEL -- CLIENT-ARGS...: gss-client must fail with a GSS-API
# error while establishing the context, and verify nothing.
negative() {
    label=$1
    shift 2
    step=$((step + 1))
    checks=$((checks + 1))
    clog=$tmp/client-$step.log
    echo "run [$label, must fail]: gss-client -port $port $*"
    bounded 60 gss-client -port "$port" "$@" >"$clog" 2>&1
    rc=$?
    bad=
    [ "$rc" -ne 0 ] || bad="$bad exit 0;"
    grep -q 'GSS-API error initializing context' "$clog" ||
        bad="$bad no 'GSS-API error initializing context';"
    if grep -q 'Signature verified' "$clog"; then
        bad="$bad a signature was verified;"
    fi
    if [ -n "$bad" ]; then
        fail "[$label]:$bad"
        show "$clog"
    else
        echo "ok [$label]: refused (exit $rc): $(grep 'GSS-API error' "$clog" | tail -n 1)"
    fi
}

if ! start_server gss-server launch_gss_server; then
    echo "interop-mit: FAIL ($token): gss-server did not start"
    exit 1
fi

# A message over 64 KiB, read by gss-client -f.
big=$tmp/big.txt
awk 'BEGIN { for (i = 0; i < 1500; i++)
             printf "line %05d of a message larger than 64 KiB ......\n", i }' >"$big"

positive default 1 1 0 -flag GSS_C_MUTUAL_FLAG -- \
    -mech "$MECH" localhost "$SERVICE" "$MSG"
initiator=$(sed -n 's/^"\([^"]*\)" to ".*/\1/p' "$tmp/client-1.log" | head -n 1)
positive seq 1 1 0 -flag GSS_C_SEQUENCE_FLAG -- \
    -mech "$MECH" -seq localhost "$SERVICE" "$MSG"
positive 'noreplay nomutual' 1 1 0 -- \
    -mech "$MECH" -noreplay -nomutual localhost "$SERVICE" "$MSG"
positive 'ccount 3' 3 3 0 -- \
    -mech "$MECH" -ccount 3 localhost "$SERVICE" "$MSG"
positive 'mcount 5' 1 5 0 -flag GSS_C_REPLAY_FLAG -- \
    -mech "$MECH" -mcount 5 localhost "$SERVICE" "$MSG"
positive 'seq ccount 2 mcount 3' 2 6 0 -- \
    -mech "$MECH" -seq -ccount 2 -mcount 3 localhost "$SERVICE" "$MSG"
positive 'integrity-only wrap (-nx)' 1 3 0 -- \
    -mech "$MECH" -nx -mcount 3 localhost "$SERVICE" "$MSG"
positive 'no wrap, MIC only (-nw)' 1 1 0 -- \
    -mech "$MECH" -nw localhost "$SERVICE" "$MSG"
positive 'wrap only, no MIC (-nm)' 1 0 2 -- \
    -mech "$MECH" -nm -mcount 2 localhost "$SERVICE" "$MSG"
positive 'large message (-f)' 1 1 0 -- \
    -mech "$MECH" -f localhost "$SERVICE" "$big"
positive 'delegation requested (-d)' 1 1 0 -- \
    -mech "$MECH" -d localhost "$SERVICE" "$MSG"
# gss-client applies -mech under SPNEGO (gss_set_neg_mechs) only to a
# credential it acquires itself, that is with -user.
positive 'SPNEGO' 1 1 0 -- \
    -mech "$MECH" -spnego -user "${initiator:-alice@localhost}" \
    localhost "$SERVICE" "$MSG"

negative "service not served ($OTHER_SERVICE)" -- \
    -mech "$MECH" localhost "$OTHER_SERVICE" "$MSG"
negative 'wrong mechanism (krb5, no tickets)' -- \
    -mech "$KRB5_MECH" localhost "$SERVICE" "$MSG"

# The refusals did not take the server down.
checks=$((checks + 1))
if alive "$server_pid"; then
    echo "ok: gss-server still running after the refusals"
else
    fail "gss-server exited"
fi
positive 'default again' 1 1 0 -- -mech "$MECH" localhost "$SERVICE" "$MSG"

stop_server
if [ -n "$server_checks" ]; then
    # gss_inquire_name is not offered (GSS_S_UNAVAILABLE, printed for every
    # connection), and "accepting context" errors come from the refused
    # service above; any other GSS-API error (e.g. deleting a context,
    # which the client does not see) or an unencrypted-message warning is
    # a failure.
    checks=$((checks + 1))
    grep 'GSS-API error' "$tmp/server.log" |
        grep -v -e 'gss_inquire_name' -e 'accepting context' >"$tmp/server-errors"
    grep 'Message not encrypted' "$tmp/server.log" >>"$tmp/server-errors"
    if [ -s "$tmp/server-errors" ]; then
        fail "server log has errors: $(cat "$tmp/server-errors")"
    else
        echo "ok: server log has no unexpected GSS-API error"
    fi
    n=$(count 'GSS-API error accepting context' "$tmp/server.log")
    checks=$((checks + 1))
    if [ "$n" -ge 1 ]; then
        echo "ok: server refused the context for $OTHER_SERVICE"
    else
        fail "server log shows no refused context"
    fi
fi

# gss-server -export: after accepting, it exports and re-imports the
# context three times (gss_export_sec_context, gss_import_sec_context)
# before the messages, with a configuration that allows export
# (export.conf, made by setup-tokens.sh beside $GSS_PKCS11_CONF).
export_conf=$(dirname "$GSS_PKCS11_CONF")/export.conf
if [ ! -f "$export_conf" ]; then
    fail "no $export_conf (tests/setup-tokens.sh makes it)"
elif ! GSS_PKCS11_CONF=$export_conf start_server gss-server launch_gss_server -export; then
    fail "gss-server -export did not start"
else
    positive 'export: default' 1 1 0 -- \
        -mech "$MECH" localhost "$SERVICE" "$MSG"
    positive 'export: seq' 1 1 0 -- \
        -mech "$MECH" -seq localhost "$SERVICE" "$MSG"
    positive 'export: noreplay nomutual' 1 1 0 -- \
        -mech "$MECH" -noreplay -nomutual localhost "$SERVICE" "$MSG"
    positive 'export: -nx' 1 3 0 -- \
        -mech "$MECH" -nx -mcount 3 localhost "$SERVICE" "$MSG"
    positive 'export: -nw' 1 1 0 -- \
        -mech "$MECH" -nw localhost "$SERVICE" "$MSG"
    stop_server
    if [ -n "$server_checks" ]; then
        checks=$((checks + 1))
        grep 'GSS-API error' "$tmp/server.log" |
            grep -v -e 'gss_inquire_name' >"$tmp/server-errors"
        grep 'Message not encrypted' "$tmp/server.log" >>"$tmp/server-errors"
        if [ -s "$tmp/server-errors" ]; then
            fail "gss-server -export log has errors: $(cat "$tmp/server-errors")"
        else
            echo "ok: gss-server -export log has no unexpected GSS-API error"
        fi
    fi
fi

if [ "$failures" -ne 0 ]; then
    show_server
    echo "interop-mit: FAIL ($token): $failures of $checks checks failed"
    exit 1
fi
echo "interop-mit: PASS ($token): $checks checks"
exit 0
