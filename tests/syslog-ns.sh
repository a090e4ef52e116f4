#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs PROGRAM (tests/test_syslog.c) in a private mount namespace in which
# it may bind-mount its own socket over /dev/log; the machine's /dev/log is
# never changed (pattern of tests/heimdal-ns.sh):
#   - /dev/log exists: the program mounts its socket over it;
#   - no /dev/log (a container without a syslog daemon): an overlay on
#     /dev (tmpfs upper layer) gets an empty /dev/log to mount over.
# The socket lives on a tmpfs of the namespace (GP11_TEST_SYSLOG_DIR).
# As root (CI) it always runs; as another user it needs an unprivileged
# user namespace, and exits 77 (skipped) only when there is none.
#
# Usage: syslog-ns.sh PROGRAM [ARGS...]
set -eu

[ -f "${GP11_TEST_SKIP_FILE:-/nonexistent}" ] && exit 77
if [ "$(id -u)" -eq 0 ]; then
    ns_opts="--mount --propagation private"
elif unshare --user --map-root-user --mount true 2>/dev/null; then
    ns_opts="--user --map-root-user --mount --propagation private"
else
    echo "syslog-ns: not root and no user namespace: cannot give the test" \
        "a private /dev/log; skipping" >&2
    exit 77
fi

before=$(ls -ld --time-style=full-iso /dev/log 2>&1 || true)
# The program refuses to mount unless its namespace is another one.
GP11_TEST_OUTER_MNTNS=$(readlink /proc/self/ns/mnt)
export GP11_TEST_OUTER_MNTNS

# shellcheck disable=SC2086
unshare $ns_opts sh -c '
set -eu
t=$(mktemp -d)
mount -t tmpfs gp11-syslog "$t"
if [ ! -e /dev/log ] && [ ! -L /dev/log ]; then
    mkdir "$t/up" "$t/work"
    mount -t overlay overlay \
        -o "lowerdir=/dev,upperdir=$t/up,workdir=$t/work" /dev
    : >/dev/log
fi
mkdir "$t/sock"
GP11_TEST_SYSLOG_DIR=$t/sock
export GP11_TEST_SYSLOG_DIR
exec "$@"
' syslog-ns "$@" || rc=$?

after=$(ls -ld --time-style=full-iso /dev/log 2>&1 || true)
if [ "$before" != "$after" ]; then
    echo "syslog-ns: /dev/log changed outside the namespace:" \
        "'$before' -> '$after'" >&2
    exit 1
fi
exit "${rc:-0}"
