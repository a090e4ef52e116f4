#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# An installed gss-pkcs11 serves MIT's gss-client and gss-server with no
# environment variable: no GSS_MECH_CONFIG, GSS_PKCS11_CONF or
# SOFTHSM2_CONF. The installed tree ROOT (a meson DESTDIR, or Debian
# packages extracted with dpkg -x) is put in place with bind mounts in a
# private mount namespace, as a real installation would be seen:
#   ROOT/SYSCONFDIR/gss/mech.d        over /etc/gss/mech.d (where MIT reads
#                                     it; nothing else registered there,
#                                     and /etc/gss/mech, if any, empty)
#   ROOT/MODULE                       at MODULE, the absolute path the
#                                     snippet names
#   ROOT/SYSCONFDIR/gss-pkcs11        at SYSCONFDIR/gss-pkcs11, with the
#                                     token's gss-pkcs11.conf added, where
#                                     the plugin reads its configuration
#   TOKENS/softhsm/softhsm2.conf      over /etc/softhsm/softhsm2.conf
#                                     (SoftHSM2 only)
# A target that does not exist is created in a writable overlay (upper
# layer on a tmpfs) over its nearest existing ancestor. The machine's own
# files never change: the test compares them before and after.
#
# In the namespace: gss-server accepts as host@localhost, gss-client runs a
# context with a wrapped message and a verified MIC (default flags; -seq
# with 3 messages; SPNEGO), and, as a control, fails in a nested namespace
# whose /etc/gss/mech.d is empty. With HEIMDAL, that program (the suite's
# tests/test_heimdal.c, linked to Heimdal's libgssapi) then runs with the
# installed snippet's line as /etc/gss/mech, the one file Heimdal reads.
#
# Usage: install-mit.sh ROOT SYSCONFDIR TOKENS KIND [HEIMDAL]
#   ROOT        the installed tree (paths in it are ROOT/usr/...)
#   SYSCONFDIR  the build's sysconfdir (absolute: /etc, /usr/local/etc)
#   TOKENS      the setup suite's tokens directory (tests/tokens)
#   KIND        softhsm or nss
#   HEIMDAL     optional: a Heimdal test program, run with "installed"
# Needs root, or unprivileged user namespaces, for unshare --mount.
# Exit: 0 pass, 1 failure, 77 skipped (no such token, or no unshare; in CI,
# CI=true, no unshare is a failure).
set -u

if [ "${1:-}" = --inside ]; then
    inside=yes
    shift
else
    inside=
fi
root=$1
sysconfdir=$2
tokens=$3
kind=$4
heimdal_prog=${5:-} # outside: the optional HEIMDAL (inside, $5 is work)

MSG='gss-pkcs11 installed, no environment'
SERVICE=host@localhost

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
failures=0

snippet=$root$sysconfdir/gss/mech.d/gss-pkcs11.conf
mech_line() {
    grep -v -e '^#' -e '^[[:space:]]*$' "$snippet"
}

if [ -z "$inside" ]; then
    # ---- outside: checks, a snapshot of the real files, the namespace.
    [ -f "$tokens/$kind.skip" ] && exit 77
    for p in gss-server gss-client unshare mount stdbuf; do
        if ! command -v "$p" >/dev/null 2>&1; then
            if [ "$p" = unshare ] && [ "${CI:-}" != true ]; then
                echo "install-mit: SKIP: unshare not found (util-linux)"
                exit 77
            fi
            echo "install-mit: FAIL: $p not found" >&2
            exit 1
        fi
    done
    if [ ! -f "$snippet" ]; then
        echo "install-mit: FAIL: no mech.d snippet at $snippet" >&2
        exit 1
    fi
    # shellcheck disable=SC2046 # the line's three fields
    set -- $(mech_line)
    module=${3:-}
    case $module in
    /*) ;;
    *)
        echo "install-mit: FAIL: the snippet names '$module', not an absolute path" >&2
        exit 1
        ;;
    esac
    # How to get a private mount namespace: as root, or as the root of a
    # new user namespace.
    if unshare --mount --propagation private true 2>/dev/null; then
        ns="unshare --mount --propagation private"
    elif unshare --user --map-root-user --mount --propagation private \
        true 2>/dev/null; then
        ns="unshare --user --map-root-user --mount --propagation private"
    elif [ "${CI:-}" = true ]; then
        echo "install-mit: FAIL: cannot create a mount namespace (unshare --mount)" >&2
        exit 1
    else
        echo "install-mit: SKIP: cannot create a mount namespace (unshare --mount needs root or user namespaces)"
        exit 77
    fi
    # The real files the namespace covers: they must be the same after.
    snapshot() {
        for p in /etc/gss /etc/gss/mech /etc/gss/mech.d /etc/gss/mech.d/* \
            "$module" "$(dirname "$module")" "$sysconfdir/gss-pkcs11" \
            "$sysconfdir/gss-pkcs11/gss-pkcs11.conf" \
            /etc/softhsm/softhsm2.conf; do
            if [ -e "$p" ]; then
                stat -c '%n %s %Y %a %U' "$p"
                [ -f "$p" ] && md5sum "$p"
            else
                echo "$p absent"
            fi
        done
    }
    before=$(snapshot 2>&1)
    # The namespace's scratch space. Removed from out here only, once the
    # namespace is gone: in there it holds bind mounts of real directories.
    work=$(mktemp -d "${TMPDIR:-/tmp}/gp11-instmit.XXXXXX") || exit 1
    trap 'rm -rf --one-file-system "$work"' EXIT
    trap 'exit 1' HUP INT PIPE TERM
    echo "install-mit: token $kind, module $module, in a private mount namespace ($ns)"
    # shellcheck disable=SC2086 # $ns is a command line
    env -u GSS_MECH_CONFIG -u GSS_PKCS11_CONF -u SOFTHSM2_CONF \
        -u GSS_PKCS11_DEBUG $ns sh "$0" --inside "$root" "$sysconfdir" \
        "$tokens" "$kind" "$work" "$heimdal_prog"
    rc=$?
    after=$(snapshot 2>&1)
    if [ "$before" != "$after" ]; then
        echo "install-mit: FAIL: the machine's own files changed:" >&2
        printf '%s\n' "$before" >/tmp/gp11-before.$$
        printf '%s\n' "$after" >/tmp/gp11-after.$$
        diff -u /tmp/gp11-before.$$ /tmp/gp11-after.$$ >&2
        rm -f /tmp/gp11-before.$$ /tmp/gp11-after.$$
        exit 1
    fi
    echo "ok: the machine's own files are unchanged"
    exit "$rc"
fi

# ---- inside the private mount namespace.
for v in GSS_MECH_CONFIG GSS_PKCS11_CONF SOFTHSM2_CONF; do
    if env | grep -q "^$v="; then
        echo "install-mit: FAIL: $v is set" >&2
        exit 1
    fi
done

work=$5
heimdal=${6:-}
# Nothing is removed in here (the outside removes $work): the scratch
# tmpfs holds bind mounts of real directories. The mounts end with the
# namespace, once its last process (the server) is gone.
tmp=$work
server_lib_keep_tmp=yes
# shellcheck source=tests/server-lib.sh
. "$(dirname "$0")/server-lib.sh"
KRB5_KTNAME=FILE:$work/none.keytab
KRB5CCNAME=FILE:$work/none.ccache
export KRB5_KTNAME KRB5CCNAME

scratch=$work/scratch
mkdir "$scratch"
mount -t tmpfs -o mode=0700 gp11-scratch "$scratch" || exit 1
ns_prog=install-mit
ns_scratch=$scratch
# shellcheck source=tests/ns-lib.sh
. "$(dirname "$0")/ns-lib.sh"

# shellcheck disable=SC2046 # the line's three fields
set -- $(mech_line)
mech_name=$1 oid=$2 module=$3
MECH="{ $(printf '%s' "$oid" | tr . ' ') }"

# The token's configuration where an administrator puts it: next to the
# installed example.
confdir=$root$sysconfdir/gss-pkcs11
mkdir -p "$confdir"
cp -p "$tokens/$kind/gss-pkcs11.conf" "$confdir/gss-pkcs11.conf" || exit 1

place "$root$sysconfdir/gss/mech.d" /etc/gss/mech.d || exit 1
if [ -e /etc/gss/mech ]; then
    : >"$work/empty-mech"
    place "$work/empty-mech" /etc/gss/mech || exit 1
fi
place "$root$module" "$module" || exit 1
place "$confdir" "$sysconfdir/gss-pkcs11" || exit 1
if [ "$kind" = softhsm ]; then
    place "$tokens/softhsm/softhsm2.conf" /etc/softhsm/softhsm2.conf || exit 1
fi
echo "/etc/gss/mech.d now holds: $(cd /etc/gss/mech.d && echo *)"
echo "registered: $(cat /etc/gss/mech.d/*.conf | grep -v '^#')"
[ "$mech_name" = gss-pkcs11 ] || fail "the snippet registers '$mech_name'"

# shellcheck disable=SC2317 # invoked by start_server
launch_gss_server() {
    stdbuf -oL gss-server -port "$1" "$SERVICE" >"$slog" 2>&1 &
}

# client LABEL VERIFIED -- ARGS...: gss-client must exit 0, show our
# mechanism and print "Signature verified." VERIFIED times.
client() {
    label=$1 nver=$2
    shift 3
    step=$((step + 1))
    clog=$work/client-$step.log
    echo "run [$label]: gss-client -port $port $*"
    timeout 60 gss-client -port "$port" "$@" >"$clog" 2>&1
    rc=$?
    bad=
    [ "$rc" -eq 0 ] || bad="$bad exit $rc;"
    n=$(grep -c 'Signature verified\.' "$clog")
    [ "$n" -eq "$nver" ] || bad="$bad $n MICs verified, want $nver;"
    grep -qF "Mechanism $MECH supports" "$clog" || bad="$bad not our mechanism;"
    if grep -q 'Message not encrypted' "$clog"; then
        bad="$bad message not encrypted;"
    fi
    if [ -n "$bad" ]; then
        fail "[$label]:$bad"
        cut -c1-300 "$clog"
    else
        echo "ok [$label]: $nver MIC(s) verified"
    fi
}

start_server gss-server launch_gss_server || exit 1
client default 1 -- -mech "$MECH" localhost "$SERVICE" "$MSG"
initiator=$(sed -n 's/^"\([^"]*\)" to ".*/\1/p' "$work/client-1.log" | head -n 1)
client 'seq, 3 messages' 3 -- -mech "$MECH" -seq -mcount 3 localhost \
    "$SERVICE" "$MSG"
client SPNEGO 1 -- -mech "$MECH" -spnego -user "${initiator:-alice@localhost}" \
    localhost "$SERVICE" "$MSG"

# Control: the same client in a nested namespace whose /etc/gss/mech.d is
# empty does not know the mechanism (so the runs above used the installed
# registration, nothing else).
mkdir "$work/empty-mech.d"
step=$((step + 1))
clog=$work/client-$step.log
echo "run [control, empty mech.d, must fail]: gss-client -port $port -mech ..."
# shellcheck disable=SC2016 # expanded by the inner sh
unshare --mount --propagation private sh -c \
    'mount --bind "$1" /etc/gss/mech.d && shift &&
     exec timeout 60 gss-client "$@"' sh "$work/empty-mech.d" -port "$port" \
    -mech "$MECH" localhost "$SERVICE" "$MSG" >"$clog" 2>&1
rc=$?
if [ "$rc" -ne 0 ] &&
    grep -q 'initializing context: An unsupported mechanism was requested' \
        "$clog" && ! grep -q 'Signature verified' "$clog"; then
    echo "ok [control]: without the registration: $(grep 'unsupported mech' "$clog")"
else
    fail "[control]: gss-client exit $rc with an empty /etc/gss/mech.d"
    cut -c1-300 "$clog"
fi
kill -0 "$server_pid" 2>/dev/null || fail "gss-server exited"

# Heimdal: the installed snippet's line as /etc/gss/mech (admin guide,
# "Registering"), nothing else set.
if [ -n "$heimdal" ]; then
    mech_line >"$work/heimdal-mech"
    place "$work/heimdal-mech" /etc/gss/mech || exit 1
    echo "run [Heimdal]: $heimdal installed, /etc/gss/mech: $(cat /etc/gss/mech)"
    # GP11_TEST_CONF tells the test program (not the plugin) where the
    # configuration is, for its own checks of the token.
    if GP11_TEST_CONF=$sysconfdir/gss-pkcs11/gss-pkcs11.conf \
        GP11_TEST_TOKEN=$kind timeout 120 "$heimdal" installed \
        >"$work/heimdal.log" 2>&1; then
        echo "ok [Heimdal]: $(grep -c '^\[       OK \]' "$work/heimdal.log") tests passed through Heimdal's mechglue"
    else
        fail "[Heimdal]: $heimdal failed with the installed files"
        cut -c1-300 "$work/heimdal.log"
    fi
fi

if [ "$failures" -ne 0 ]; then
    echo "----- server log"
    cut -c1-300 "$work/server.log"
    echo "install-mit: FAIL ($kind): $failures failures"
    exit 1
fi
echo "install-mit: PASS ($kind): the installed files alone served gss-client and gss-server${heimdal:+, and Heimdal}"
exit 0
