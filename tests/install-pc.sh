#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# gss-pkcs11.pc in an installed tree (a meson DESTDIR, or Debian packages
# extracted with dpkg -x): its variables agree with the build and with the
# mech.d snippet beside them, the plugin it names is there, and a program
# (tests/install-probe.c) built with nothing but
# `pkg-config --cflags --libs gss-pkcs11`, the tree as PKG_CONFIG_SYSROOT_DIR,
# compiles against the tree's header and prints the mechanism OID. The
# same for gss-pkcs11-sspi.pc when the tree has the SSPI face: a program
# (tests/install-probe-sspi.c, beside PROBE_SOURCE) built with nothing but
# `pkg-config --cflags --libs gss-pkcs11-sspi` runs on the tree's library
# and lists the package.
#
# Usage: install-pc.sh ROOT PROBE_SOURCE OID VERSION
#   ROOT          the installed tree (paths in it are ROOT/usr/...)
#   OID           the mechanism OID the build was configured with (dotted)
#   VERSION       the project version
# Environment: CC (default cc).
# Exit: 0 pass, 1 failure.
set -u
root=$1
probe=$2
want_oid=$3
want_version=$4
cc=${CC:-cc}

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() {
    echo "ok: $*"
}
# eq LABEL ACTUAL WANTED
eq() {
    if [ "$2" = "$3" ]; then
        ok "$1 $2"
    else
        fail "$1 '$2', want '$3'"
    fi
}

for p in pkg-config "$cc" nm; do
    if ! command -v "$p" >/dev/null 2>&1; then
        echo "install-pc: FAIL: $p not found" >&2
        exit 1
    fi
done

# Exactly one gss-pkcs11.pc in the tree.
pcs=$(find "$root" -name gss-pkcs11.pc)
n=$(printf '%s\n' "$pcs" | grep -c .)
if [ "$n" -ne 1 ]; then
    echo "install-pc: FAIL: $n gss-pkcs11.pc files under $root: $pcs" >&2
    exit 1
fi
pcdir=$(dirname "$pcs")
ok "gss-pkcs11.pc at ${pcs#"$root"}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gp11-pc.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM

# The tree's .pc first; krb5-gssapi (Requires) from the system.
PKG_CONFIG_PATH=$pcdir
export PKG_CONFIG_PATH
# var NAME: a variable as the installed system sees it (no sysroot).
var() {
    env -u PKG_CONFIG_SYSROOT_DIR pkg-config --variable="$1" gss-pkcs11
}

path=$(pkg-config --path gss-pkcs11 2>/dev/null)
if [ "$path" = "$pcs" ]; then
    ok "pkg-config finds the tree's gss-pkcs11.pc"
else
    fail "pkg-config finds '$path', not $pcs"
fi
if ! pkg-config --exists --print-errors gss-pkcs11; then
    fail "pkg-config --exists gss-pkcs11 (its Requires missing?)"
fi
eq version "$(pkg-config --modversion gss-pkcs11)" "$want_version"

name=$(var mech_name)
eq mech_name "$name" gss-pkcs11
oid=$(var mech_oid)
eq mech_oid "$oid" "$want_oid"
braces=$(var mech_oid_braces)
eq mech_oid_braces "$braces" "{ $(printf '%s' "$want_oid" | tr . ' ') }"
plugin=$(var plugin)
case $plugin in
/*/gss/gss_pkcs11.so) ;;
*) fail "plugin '$plugin' is not an absolute .../gss/gss_pkcs11.so" ;;
esac
if [ -f "$root$plugin" ] &&
    nm -D --defined-only "$root$plugin" 2>/dev/null |
    grep -q ' T gss_init_sec_context$'; then
    ok "plugin $plugin is in the tree and exports gss_init_sec_context"
else
    fail "plugin $plugin: no module exporting gss_init_sec_context at $root$plugin"
fi

# The mech.d snippet in the tree registers exactly what the .pc says.
snippets=$(find "$root" -path '*/gss/mech.d/gss-pkcs11.conf')
n=$(printf '%s\n' "$snippets" | grep -c .)
if [ "$n" -eq 1 ]; then
    line=$(grep -v -e '^#' -e '^[[:space:]]*$' "$snippets")
    if [ "$line" = "$name $oid $plugin" ]; then
        ok "mech.d snippet ${snippets#"$root"}: $line"
    else
        fail "mech.d snippet says '$line', the .pc '$name $oid $plugin'"
    fi
else
    fail "$n mech.d snippets gss-pkcs11.conf under $root"
fi

# Build the probe against the tree. The header exists only in the tree,
# so the compiler must find it through the -I pkg-config gives (system
# directories kept: a prefix of /usr puts it in ROOT/usr/include).
PKG_CONFIG_SYSROOT_DIR=$root
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS
cflags=$(pkg-config --cflags gss-pkcs11) || fail "pkg-config --cflags"
libs=$(pkg-config --libs gss-pkcs11) || fail "pkg-config --libs"
echo "cflags: $cflags"
echo "libs: $libs"
# shellcheck disable=SC2086 # word splitting of the flags is wanted
if "$cc" -std=c11 -Wall -Wextra -Werror -MD -MF "$tmp/probe.d" $cflags \
    "$probe" $libs -o "$tmp/probe" 2>"$tmp/cc.log"; then
    ok "probe built with pkg-config --cflags --libs gss-pkcs11"
    # shellcheck disable=SC1003,SC2020 # blanks and backslashes to newlines
    hdr=$(tr ' \\' '\n\n' <"$tmp/probe.d" | grep 'gss-pkcs11/gssapi_pkcs11\.h$')
    case $hdr in
    "$root"/*) ok "header from the tree: ${hdr#"$root"}" ;;
    *) fail "the probe included '$hdr', not the tree's header" ;;
    esac
    if out=$("$tmp/probe" 2>&1); then
        first=$(printf '%s\n' "$out" | sed -n 1p)
        second=$(printf '%s\n' "$out" | sed -n 2p)
        eq "probe: header's mechanism OID" "$first" "$braces"
        eq "probe: header's X.509 name type" "$second" \
            "{ $(printf '%s' "$want_oid" | tr . ' ') 1 }"
    else
        fail "probe failed: $out"
    fi
else
    fail "probe did not build:"
    cat "$tmp/cc.log" >&2
fi

# ---- gss-pkcs11-sspi.pc: the SSPI face ----------------------------------
sspi_probe=$(dirname "$probe")/install-probe-sspi.c
sspi_pcs=$(find "$root" -name gss-pkcs11-sspi.pc)
sspi_libs=$(find "$root" -name 'libgss-pkcs11-sspi.so.0')
if [ -z "$sspi_pcs" ] && [ -z "$sspi_libs" ]; then
    echo "note: no SSPI face in the tree (built with -Dsspi=false)"
elif [ "$(printf '%s\n' "$sspi_pcs" | grep -c .)" -ne 1 ]; then
    fail "gss-pkcs11-sspi.pc: '$sspi_pcs' under $root (libgss-pkcs11-sspi.so.0: $sspi_libs)"
else
    ok "gss-pkcs11-sspi.pc at ${sspi_pcs#"$root"}"
    PKG_CONFIG_PATH=$(dirname "$sspi_pcs")
    sspi_var() {
        env -u PKG_CONFIG_SYSROOT_DIR pkg-config --variable="$1" gss-pkcs11-sspi
    }
    eq "sspi version" "$(pkg-config --modversion gss-pkcs11-sspi)" "$want_version"
    pkg=$(sspi_var package_name)
    eq "sspi package_name" "$pkg" gss-pkcs11
    libdir=$(sspi_var libdir)
    cflags=$(pkg-config --cflags gss-pkcs11-sspi) || fail "pkg-config --cflags gss-pkcs11-sspi"
    libs=$(pkg-config --libs gss-pkcs11-sspi) || fail "pkg-config --libs gss-pkcs11-sspi"
    echo "sspi cflags: $cflags"
    echo "sspi libs: $libs"
    # shellcheck disable=SC2086 # word splitting of the flags is wanted
    if "$cc" -std=c11 -Wall -Wextra -Werror -MD -MF "$tmp/sspi.d" $cflags \
        "$sspi_probe" $libs -o "$tmp/sspi-probe" 2>"$tmp/sspi-cc.log"; then
        ok "SSPI probe built with pkg-config --cflags --libs gss-pkcs11-sspi"
        # shellcheck disable=SC1003,SC2020 # blanks and backslashes to newlines
        hdr=$(tr ' \\' '\n\n' <"$tmp/sspi.d" | grep 'gss-pkcs11/sspi\.h$')
        case $hdr in
        "$root"/*) ok "SSPI header from the tree: ${hdr#"$root"}" ;;
        *) fail "the SSPI probe included '$hdr', not the tree's header" ;;
        esac
        # The tree's library, found where its .pc says it is.
        if out=$(env LD_LIBRARY_PATH="$root$libdir" "$tmp/sspi-probe" 2>&1); then
            eq "SSPI probe: package" "$(printf '%s\n' "$out" | sed -n 1p)" "$pkg"
            eq "SSPI probe: cbMaxToken" "$(printf '%s\n' "$out" | sed -n 2p)" 65535
            eq "SSPI probe: library" "$(printf '%s\n' "$out" | sed -n 3p)" \
                "$root$libdir/libgss-pkcs11-sspi.so.0"
        else
            fail "SSPI probe failed: $out"
        fi
    else
        fail "SSPI probe did not build:"
        cat "$tmp/sspi-cc.log" >&2
    fi
fi

if [ "$failures" -ne 0 ]; then
    echo "install-pc: FAIL: $failures checks failed"
    exit 1
fi
echo "install-pc: PASS"
exit 0
