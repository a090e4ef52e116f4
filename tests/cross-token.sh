#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A context between two different tokens: MIT's gss-server on one token,
# gss-client on the other, each process with its own configuration (both
# trusting both development CAs). SoftHSM2 offers only kdf-2.40 and NSS
# softoken runs it through the quirk unlisted-ecb-encrypt-data, so this is
# the profile they meet on. Both directions.
set -u
tokens=$1
for kind in softhsm nss; do
    [ -f "$tokens/$kind.skip" ] && exit 77
done
work=$(mktemp -d /tmp/gp11-cross.XXXXXX)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT HUP INT TERM
oid="{ 1 2 840 113556 1 8000 2554 699 53753 52470 19374 43690 12206812 14507593 }"
mkdir "$work/anchors"
for kind in softhsm nss; do
    cp "$tokens/$kind/ca/ca.pem" "$work/anchors/$kind.pem"
    sed "s|^anchors = .*|anchors = $work/anchors|" \
        "$tokens/$kind/gss-pkcs11.conf" >"$work/$kind.conf"
    chmod 600 "$work/$kind.conf"
done

# run SERVER_KIND CLIENT_KIND: one context, one protected message.
run() {
    port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
    # Emptied here, not by the background redirection: the wait below
    # must not find the previous run's "starting".
    : >"$work/server.log"
    (
        # shellcheck disable=SC1090
        . "$tokens/$1/env"
        GSS_PKCS11_CONF="$work/$1.conf" KRB5_KTNAME="$work/none.keytab" \
            exec stdbuf -oL gss-server -port "$port" -once host@localhost
    ) >"$work/server.log" 2>&1 &
    server_pid=$!
    i=0
    until grep -q "starting" "$work/server.log" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 100 ] || ! kill -0 "$server_pid" 2>/dev/null; then
            echo "FAIL: gss-server on $1 did not start:"; cat "$work/server.log"
            return 1
        fi
        sleep 0.1
    done
    (
        # shellcheck disable=SC1090
        . "$tokens/$2/env"
        GSS_PKCS11_CONF="$work/$2.conf" KRB5CCNAME="$work/none.ccache" \
            timeout 30 gss-client -port "$port" -mech "$oid" localhost \
            host@localhost "from $2 to $1"
    ) >"$work/client.log" 2>&1
    rc=$?
    wait "$server_pid" 2>/dev/null
    server_pid=
    if [ "$rc" -ne 0 ] || ! grep -q "Signature verified" "$work/client.log" ||
        ! grep -q "Received message: \"from $2 to $1\"" "$work/server.log"; then
        echo "FAIL: client on $2, server on $1 (exit $rc)"
        cat "$work/client.log" "$work/server.log"
        return 1
    fi
    echo "ok: client on $2 -> server on $1"
}

run nss softhsm && run softhsm nss || exit 1
echo "cross-token contexts established in both directions"
