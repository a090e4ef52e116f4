#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The Debian packages: contrib/build-deb.sh builds gss-pkcs11,
# libgss-pkcs11-sspi0 and libgss-pkcs11-dev from the checkout's tracked files (--worktree) and runs
# lintian (no error allowed; warnings are shown). The packages are then
# extracted with dpkg -x into a throwaway root, which must hold each file
# in its package (the module, the mech.d snippet as a conffile, the man
# pages, the header and the .pc); the man pages must render without
# warnings, gss-pkcs11.pc must work (tests/install-pc.sh), and the
# extracted files alone must serve MIT's gss-client and gss-server on each
# token (tests/install-mit.sh) and the admin guide's walk-through
# (tests/admin-walkthrough.sh).
#
# Usage: deb.sh SOURCE_ROOT TOKENS PROBE_SOURCE OID VERSION
#               [HEIMDAL_SOFTHSM HEIMDAL_NSS]  (test_heimdal per token, for
#               install-mit's Heimdal step on the packages' files)
# Exit: 0 pass, 1 failure, 77 skipped (not a git checkout; the build tools
# missing and no root to install them; not Debian).
set -u
src=$1
tokens=$2
probe=$3
oid=$4
version=$5
heimdal_softhsm=${6:-}
heimdal_nss=${7:-}
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v dpkg-deb >/dev/null 2>&1; then
    echo "deb: SKIP: not a Debian system (no dpkg-deb)"
    exit 77
fi
if ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    echo "deb: SKIP: $src is not a git checkout"
    exit 77
fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    for p in dh dpkg-buildpackage lintian; do
        if ! command -v "$p" >/dev/null 2>&1; then
            echo "deb: SKIP: $p missing and no root to install it"
            exit 77
        fi
    done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gp11-debtest.XXXXXX") || exit 1
trap 'rm -rf --one-file-system "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

start=$(date +%s)
if ! "$src/contrib/build-deb.sh" --worktree --lintian -o "$tmp/out" \
    >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log"
    echo "deb: FAIL: contrib/build-deb.sh --worktree --lintian failed"
    exit 1
fi
cat "$tmp/build.log"
echo "deb: built and checked with lintian in $(($(date +%s) - start)) s"
lintian_warnings=$(grep -c '^W: ' "$tmp/build.log")
echo "deb: lintian: no errors, $lintian_warnings warnings"

arch=$(dpkg --print-architecture)
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
main=$(ls "$tmp/out/gss-pkcs11_${version}-"*"_$arch.deb" 2>/dev/null)
dev=$(ls "$tmp/out/libgss-pkcs11-dev_${version}-"*"_$arch.deb" 2>/dev/null)
sspi=$(ls "$tmp/out/libgss-pkcs11-sspi0_${version}-"*"_$arch.deb" 2>/dev/null)
if [ -z "$main" ] || [ -z "$dev" ] || [ -z "$sspi" ]; then
    echo "deb: FAIL: no gss-pkcs11, libgss-pkcs11-dev or libgss-pkcs11-sspi0" \
        "$version package:" >&2
    ls "$tmp/out" >&2
    exit 1
fi
debversion=$(dpkg-deb -f "$main" Version)

# has DEB PATH...: each PATH is a file (or a symlink) in package DEB.
has() {
    deb=$1
    shift
    dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' \
        >"$tmp/list"
    for p in "$@"; do
        if grep -qxF "$p" "$tmp/list"; then
            echo "ok: $(basename "$deb") has $p"
        else
            fail "$(basename "$deb") lacks $p"
        fi
    done
}
has "$main" \
    "/usr/lib/$triplet/gss/gss_pkcs11.so" \
    /etc/gss/mech.d/gss-pkcs11.conf \
    /etc/gss-pkcs11/gss-pkcs11.conf.example \
    /usr/bin/gssp11 \
    /usr/share/man/man7/gss-pkcs11.7.gz \
    /usr/share/man/man5/gss-pkcs11.conf.5.gz \
    /usr/share/man/man1/gssp11.1.gz \
    /usr/share/doc/gss-pkcs11/copyright
has "$dev" \
    /usr/include/gss-pkcs11/gssapi_pkcs11.h \
    "/usr/lib/$triplet/pkgconfig/gss-pkcs11.pc" \
    /usr/include/gss-pkcs11/sspi.h \
    "/usr/lib/$triplet/libgss-pkcs11-sspi.so" \
    "/usr/lib/$triplet/pkgconfig/gss-pkcs11-sspi.pc" \
    /usr/share/man/man7/gss-pkcs11-sspi.7.gz \
    /usr/share/doc/libgss-pkcs11-dev/copyright
has "$sspi" \
    "/usr/lib/$triplet/libgss-pkcs11-sspi.so.0" \
    /usr/share/doc/libgss-pkcs11-sspi0/copyright

# The registration is a conffile (an administrator's edit survives an
# upgrade); the real configuration is not shipped at all.
dpkg-deb -e "$main" "$tmp/control"
if grep -qxF /etc/gss/mech.d/gss-pkcs11.conf "$tmp/control/conffiles"; then
    echo "ok: /etc/gss/mech.d/gss-pkcs11.conf is a conffile"
else
    fail "/etc/gss/mech.d/gss-pkcs11.conf is not a conffile"
fi
if dpkg-deb -c "$main" | grep -q ' ./etc/gss-pkcs11/gss-pkcs11.conf$'; then
    fail "gss-pkcs11 ships a configuration (/etc/gss-pkcs11/gss-pkcs11.conf)"
fi
depends=$(dpkg-deb -f "$dev" Depends)
case $depends in
*"gss-pkcs11 (= $debversion)"*) echo "ok: libgss-pkcs11-dev depends on gss-pkcs11 (= $debversion)" ;;
*) fail "libgss-pkcs11-dev Depends: $depends" ;;
esac

root=$tmp/root
for deb in "$main" "$dev" "$sspi"; do
    if ! dpkg -x "$deb" "$root"; then
        echo "deb: FAIL: dpkg -x $deb" >&2
        exit 1
    fi
done
echo "deb: extracted into $root"

"$here/check-man.sh" "$root"/usr/share/man/man*/*.gz || fail "man pages"
"$here/install-pc.sh" "$root" "$probe" "$oid" "$version" || fail "gss-pkcs11.pc"
for kind in softhsm nss; do
    case $kind in
    softhsm) heimdal=$heimdal_softhsm ;;
    *) heimdal=$heimdal_nss ;;
    esac
    "$here/install-mit.sh" "$root" /etc "$tokens" "$kind" "$heimdal"
    rc=$?
    case $rc in
    0) ;;
    77) echo "deb: install-mit skipped on $kind" ;;
    *) fail "install-mit on $kind" ;;
    esac
done
# The admin guide's walk-through on the packages' files, with the paths
# of the package (no path substituted).
"$here/admin-walkthrough.sh" "$src/docs/admin-guide.md" --root="$root" \
    /usr /etc "$(dirname "$main")"
case $? in
0) ;;
77) echo "deb: admin-walkthrough skipped" ;;
*) fail "admin-walkthrough on the packages" ;;
esac

if [ "$failures" -ne 0 ]; then
    echo "deb: FAIL: $failures failures"
    exit 1
fi
echo "deb: PASS: packages built, lintian clean of errors, extracted files serve MIT's programs"
exit 0
