#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# `meson install` of the build into a temporary DESTDIR, then one of:
#   files  the DESTDIR holds exactly the expected files, and gss-pkcs11.pc
#          works (tests/install-pc.sh: variables, a program built with
#          pkg-config against the DESTDIR);
#   mit    MIT's gss-client/gss-server served by the installed files alone
#          (tests/install-mit.sh: no environment variables, the files bind-
#          mounted into place in a private mount namespace).
#
# Usage:
#   install.sh files BUILD PROBE_SOURCE OID VERSION FILE...
#       FILE: every absolute path the installation must consist of
#   install.sh mit BUILD SYSCONFDIR TOKENS KIND
# Exit: 0 pass, 1 failure, 77 skipped (install-mit.sh's reasons).
set -u
mode=$1
build=$2
shift 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gp11-install.XXXXXX") || exit 1
trap 'rm -rf --one-file-system "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM
dest=$tmp/dest
here=$(dirname "$0")

if ! meson install -C "$build" --destdir "$dest" --no-rebuild --quiet \
    >"$tmp/install.log" 2>&1; then
    echo "install: FAIL: meson install --destdir:" >&2
    cat "$tmp/install.log" >&2
    exit 1
fi
echo "meson install --destdir $dest: done"

case $mode in
files)
    probe=$1 oid=$2 version=$3
    shift 3
    for f in "$@"; do
        echo "$f"
    done | sort >"$tmp/want"
    (cd "$dest" && find . ! -type d | sed 's|^\.||' | sort) >"$tmp/have"
    if ! cmp -s "$tmp/want" "$tmp/have"; then
        echo "install: FAIL: installed files (+) differ from the expected (-):" >&2
        diff -u "$tmp/want" "$tmp/have" >&2
        exit 1
    fi
    echo "ok: the installation is exactly:"
    sed 's/^/    /' "$tmp/have"
    mech=$(find "$dest" -path '*/gss/mech.d/gss-pkcs11.conf')
    if [ -n "$mech" ] && [ "$(stat -c %a "$mech")" = 644 ]; then
        echo "ok: the mech.d snippet is mode 0644 (the mechglue of any user reads it)"
    else
        echo "install: FAIL: mech.d snippet '$mech' is not mode 0644" >&2
        exit 1
    fi
    "$here/install-pc.sh" "$dest" "$probe" "$oid" "$version"
    ;;
mit)
    "$here/install-mit.sh" "$dest" "$@"
    ;;
*)
    echo "install: unknown mode $mode" >&2
    exit 1
    ;;
esac
