#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs a program linked to Heimdal's libgssapi with MECHFILE as its
# /etc/gss/mech. Heimdal 7.8 reads only that file (no GSS_MECH_CONFIG), so
# the program runs in a private mount namespace in which MECHFILE is
# mounted there; the machine's /etc is never changed:
#   - /etc/gss/mech exists: MECHFILE is bind-mounted over it;
#   - /etc/gss exists without it: a tmpfs on /etc/gss holds a copy;
#   - no /etc/gss: an overlay on /etc (tmpfs upper layer) holds one.
# As root (CI) it always runs; as another user it needs an unprivileged
# user namespace, and exits 77 (skipped) only when there is none.
#
# Usage: heimdal-ns.sh MECHFILE PROGRAM [ARGS...]
set -eu

[ -f "${GP11_TEST_SKIP_FILE:-/nonexistent}" ] && exit 77
mechfile=$1
shift
if [ ! -r "$mechfile" ]; then
    echo "heimdal-ns: cannot read $mechfile (did the setup test run?)" >&2
    exit 1
fi
mechfile=$(realpath "$mechfile")

if [ "$(id -u)" -eq 0 ]; then
    ns_opts="--mount --propagation private"
elif unshare --user --map-root-user --mount true 2>/dev/null; then
    ns_opts="--user --map-root-user --mount --propagation private"
else
    echo "heimdal-ns: not root and no user namespace: cannot give Heimdal" \
        "a private /etc/gss/mech; skipping" >&2
    exit 77
fi

# What /etc/gss/mech is before: it must be the same afterwards.
before=$(ls -ld --time-style=full-iso /etc/gss /etc/gss/mech 2>&1 || true)
before_sum=$(cksum /etc/gss/mech 2>/dev/null || true)

# shellcheck disable=SC2086
unshare $ns_opts sh -c '
set -eu
mech=$1
shift
if [ -e /etc/gss/mech ]; then
    mount --bind "$mech" /etc/gss/mech
elif [ -d /etc/gss ]; then
    mount -t tmpfs -o mode=0755 gp11-heimdal /etc/gss
    cp "$mech" /etc/gss/mech
else
    t=$(mktemp -d)
    mount -t tmpfs gp11-heimdal "$t"
    mkdir "$t/up" "$t/work"
    mount -t overlay overlay \
        -o "lowerdir=/etc,upperdir=$t/up,workdir=$t/work" /etc
    mkdir /etc/gss
    cp "$mech" /etc/gss/mech
fi
cmp -s "$mech" /etc/gss/mech || {
    echo "heimdal-ns: /etc/gss/mech is not $mech in the namespace" >&2
    exit 1
}
exec "$@"
' heimdal-ns "$mechfile" "$@" && rc=0 || rc=$?

after=$(ls -ld --time-style=full-iso /etc/gss /etc/gss/mech 2>&1 || true)
after_sum=$(cksum /etc/gss/mech 2>/dev/null || true)
if [ "$before" != "$after" ] || [ "$before_sum" != "$after_sum" ]; then
    echo "heimdal-ns: the machine's /etc/gss changed:" >&2
    printf 'before: %s\nafter:  %s\n' "$before" "$after" >&2
    exit 1
fi
exit $rc
