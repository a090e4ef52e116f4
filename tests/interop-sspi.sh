#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The SSPI sample programs (contrib/examples/sspi-client.c, sspi-server.c,
# written with SSPI calls only) against MIT krb5's sample programs
# (krb5-gss-samples) over loopback, in the sample framing:
#   1. MIT gss-server (mechglue + our plugin) <- sspi-client
#   2. sspi-server <- MIT gss-client (mechglue + our plugin)
# Per message: a wrapped message (EncryptMessage / gss_wrap), unwrapped by
# the server (gss_unwrap / DecryptMessage), answered with a MIC
# (gss_get_mic / MakeSignature) that the client verifies (VerifySignature /
# gss_verify_mic) and reports as "Signature verified.".
#
#   interop-sspi.sh SSPI-CLIENT SSPI-SERVER
# Environment (set by meson): GSS_MECH_CONFIG, GSS_PKCS11_CONF,
# SOFTHSM2_CONF, GP11_TEST_TOKEN, GP11_TEST_SKIP_FILE.
# Exit: 0 pass, 1 failure, 77 when the suite's skip file exists.
set -u

[ -f "${GP11_TEST_SKIP_FILE:-/nonexistent}" ] && exit 77

SSPI_CLIENT=$1
SSPI_SERVER=$2
MECH='{ 1 2 840 113556 1 8000 2554 699 53753 52470 19374 43690 12206812 14507593 }'
SERVICE=host@localhost
OTHER_SERVICE=rsa@localhost # configured, but not what the servers serve
MSG='gss-pkcs11 sspi interop message'
token=${GP11_TEST_TOKEN:-?}

echo "interop-sspi: token $token"
for p in gss-server gss-client "$SSPI_CLIENT" "$SSPI_SERVER"; do
    if ! command -v "$p" >/dev/null 2>&1; then
        echo "interop-sspi: FAIL: $p not found" >&2
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gp11-isspi.XXXXXX") || exit 1
# shellcheck source=tests/server-lib.sh
. "$(dirname "$0")/server-lib.sh"
KRB5_KTNAME=FILE:$tmp/none.keytab
KRB5CCNAME=FILE:$tmp/none.ccache
export KRB5_KTNAME KRB5CCNAME

# The two servers, started in the background by start_server.
# shellcheck disable=SC2317 # invoked by start_server
launch_gss_server() {
    stdbuf -oL gss-server -port "$1" "$SERVICE" >"$slog" 2>&1 &
}
# shellcheck disable=SC2317 # invoked by start_server
launch_sspi_server() {
    "$SSPI_SERVER" -port "$1" "$SERVICE" >"$slog" 2>&1 &
}

count() {
    grep -cF -- "$1" "$2"
}

# positive LABEL CONTEXTS VERIFIED RESPONSES -- CLIENT...: the client
# exits 0 and prints VERIFIED "Signature verified." and RESPONSES
# "Response received." lines; the server logs CONTEXTS accepted
# connections (of the suite's initiator) and VERIFIED+RESPONSES messages,
# and no unencrypted-message warning.
positive() {
    label=$1 nctx=$2 nver=$3 nresp=$4
    shift 5
    step=$((step + 1))
    checks=$((checks + 1))
    clog=$tmp/client-$step.log
    before=$(wc -l <"$tmp/server.log")
    echo "run [$label]: $*"
    timeout 60 "$@" >"$clog" 2>&1
    rc=$?
    sleep 0.2 # the server's last lines
    tail -n +"$((before + 1))" "$tmp/server.log" >"$tmp/server-step.log"
    bad=
    [ "$rc" -eq 0 ] || bad="$bad exit $rc;"
    n=$(count 'Signature verified.' "$clog")
    [ "$n" -eq "$nver" ] || bad="$bad $n 'Signature verified.', want $nver;"
    n=$(count 'Response received.' "$clog")
    [ "$n" -eq "$nresp" ] || bad="$bad $n 'Response received.', want $nresp;"
    n=$(count 'Accepted connection: "alice@localhost"' "$tmp/server-step.log")
    [ "$n" -eq "$nctx" ] || bad="$bad server accepted $n connections, want $nctx;"
    n=$(count 'Received message:' "$tmp/server-step.log")
    [ "$n" -eq $((nver + nresp)) ] ||
        bad="$bad server received $n messages, want $((nver + nresp));"
    if grep -q 'Message not encrypted' "$clog" "$tmp/server-step.log"; then
        bad="$bad message not encrypted;"
    fi
    if [ -n "$bad" ]; then
        fail "[$label]:$bad"
        show "$clog"
        show "$tmp/server-step.log"
    else
        echo "ok [$label]: $nctx context(s), $nver MIC(s) verified, $nresp response(s)"
    fi
}

# negative LABEL -- CLIENT...: the client fails and verifies nothing.
negative() {
    label=$1
    shift 2
    step=$((step + 1))
    checks=$((checks + 1))
    clog=$tmp/client-$step.log
    echo "run [$label, must fail]: $*"
    timeout 60 "$@" >"$clog" 2>&1
    rc=$?
    bad=
    [ "$rc" -ne 0 ] || bad="$bad exit 0;"
    grep -q 'Signature verified' "$clog" && bad="$bad a signature was verified;"
    if [ -n "$bad" ]; then
        fail "[$label]:$bad"
        show "$clog"
    else
        echo "ok [$label]: refused (exit $rc): $(grep -i 'fail\|error' "$clog" | tail -n 1)"
    fi
}

big=$tmp/big.txt
awk 'BEGIN { for (i = 0; i < 1500; i++)
             printf "line %05d of a message larger than 64 KiB ......\n", i }' >"$big"

# 1. MIT gss-server <- sspi-client
if ! start_server gss-server launch_gss_server; then
    echo "interop-sspi: FAIL ($token): gss-server did not start"
    exit 1
fi
c() { echo "$SSPI_CLIENT" -port "$port"; }
positive 'sspi-client default' 1 1 0 -- $(c) localhost "$SERVICE" "$MSG"
positive 'sspi-client -seq -mcount 3' 1 3 0 -- \
    $(c) -seq -mcount 3 localhost "$SERVICE" "$MSG"
positive 'sspi-client integrity-only (-nx)' 1 2 0 -- \
    $(c) -nx -mcount 2 localhost "$SERVICE" "$MSG"
positive 'sspi-client clear message, MIC (-nw)' 1 1 0 -- \
    $(c) -nw localhost "$SERVICE" "$MSG"
positive 'sspi-client no MIC (-nm)' 1 0 2 -- \
    $(c) -nm -mcount 2 localhost "$SERVICE" "$MSG"
positive 'sspi-client large message (-f)' 1 1 0 -- \
    $(c) -f localhost "$SERVICE" "$big"
negative "sspi-client to a service not served ($OTHER_SERVICE)" -- \
    $(c) localhost "$OTHER_SERVICE" "$MSG"
positive 'sspi-client default again' 1 1 0 -- $(c) localhost "$SERVICE" "$MSG"
stop_server

# 2. sspi-server <- MIT gss-client
if ! start_server sspi-server launch_sspi_server; then
    echo "interop-sspi: FAIL ($token): sspi-server did not start"
    exit 1
fi
g() { echo gss-client -port "$port"; }
positive 'gss-client default' 1 1 0 -- \
    $(g) -mech "$MECH" localhost "$SERVICE" "$MSG"
positive 'gss-client -seq -mcount 5' 1 5 0 -- \
    $(g) -mech "$MECH" -seq -mcount 5 localhost "$SERVICE" "$MSG"
positive 'gss-client -ccount 2 -mcount 2' 2 4 0 -- \
    $(g) -mech "$MECH" -ccount 2 -mcount 2 localhost "$SERVICE" "$MSG"
positive 'gss-client integrity-only (-nx)' 1 2 0 -- \
    $(g) -mech "$MECH" -nx -mcount 2 localhost "$SERVICE" "$MSG"
positive 'gss-client clear message, MIC (-nw)' 1 1 0 -- \
    $(g) -mech "$MECH" -nw localhost "$SERVICE" "$MSG"
positive 'gss-client no MIC (-nm)' 1 0 2 -- \
    $(g) -mech "$MECH" -nm -mcount 2 localhost "$SERVICE" "$MSG"
positive 'gss-client large message (-f)' 1 1 0 -- \
    $(g) -mech "$MECH" -f localhost "$SERVICE" "$big"
negative "gss-client to a service not served ($OTHER_SERVICE)" -- \
    $(g) -mech "$MECH" localhost "$OTHER_SERVICE" "$MSG"
checks=$((checks + 1))
if alive "$server_pid"; then
    echo "ok: sspi-server still running after the refusal"
else
    fail "sspi-server exited"
fi
positive 'gss-client default again' 1 1 0 -- \
    $(g) -mech "$MECH" localhost "$SERVICE" "$MSG"
stop_server

if [ "$failures" -ne 0 ]; then
    echo "interop-sspi: FAIL ($token): $failures of $checks checks failed"
    exit 1
fi
echo "interop-sspi: PASS ($token): $checks checks"
exit 0
