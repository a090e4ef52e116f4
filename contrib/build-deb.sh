#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Builds the Debian packages gss-pkcs11 and libgss-pkcs11-dev from a clean
# copy of the checkout: `git archive` of HEAD into a temporary directory,
# contrib/debian as its debian/, `dpkg-buildpackage -us -uc -b`. The
# .deb, .changes and .buildinfo files land in OUTDIR (default: build-deb/
# at the top of the checkout). Installs what the build needs (debhelper,
# dpkg-dev, the Build-Depends) with apt-get when it is missing (as root,
# or through sudo).
#
# Usage: contrib/build-deb.sh [--worktree] [--lintian] [-o OUTDIR]
#   --worktree  archive the tracked files as they are in the work tree,
#               uncommitted changes included (git stash create), not HEAD;
#               untracked files are never included
#   --lintian   then run lintian on the result: the tags are printed, and
#               any error fails the script
set -eu

worktree=
lintian=
outdir=
while [ $# -gt 0 ]; do
    case $1 in
    --worktree) worktree=yes ;;
    --lintian) lintian=yes ;;
    -o)
        [ $# -ge 2 ] || { echo "build-deb: -o needs a directory" >&2; exit 2; }
        outdir=$2
        shift
        ;;
    -h | --help)
        sed -n '3,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "build-deb: unknown argument $1 (see --help)" >&2
        exit 2
        ;;
    esac
    shift
done

top=$(cd "$(dirname "$0")/.." && pwd)
if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    echo "build-deb: $top is not a git checkout (the build starts from git archive)" >&2
    exit 1
fi
outdir=${outdir:-$top/build-deb}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# apt_install PACKAGE...: installs those missing.
apt_install() {
    missing=
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        sudo=
    elif command -v sudo >/dev/null 2>&1; then
        sudo=sudo
    else
        echo "build-deb: need root (or sudo) to install:$missing" >&2
        return 1
    fi
    echo "build-deb: installing:$missing"
    # A fresh machine may have no package lists yet.
    # shellcheck disable=SC2086 # a list of package names
    if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $missing >/dev/null 2>&1; then
        $sudo apt-get update -qq
        # shellcheck disable=SC2086
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends $missing >/dev/null
    fi
}

apt_install debhelper dpkg-dev
[ -n "$lintian" ] && apt_install lintian

# The changelog's upstream version is the project's.
project_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$top/meson.build" | head -n 1)
deb_version=$(dpkg-parsechangelog -l "$top/contrib/debian/changelog" -S Version)
if [ "${deb_version%-*}" != "$project_version" ]; then
    echo "build-deb: contrib/debian/changelog is at $deb_version, meson.build at $project_version" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gp11-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM
src=$tmp/gss-pkcs11-$project_version

rev=HEAD
stash=
if [ -n "$worktree" ]; then
    # A commit object of the work tree's tracked files (nothing changes in
    # the checkout); empty when there is nothing uncommitted.
    stash=$(git -C "$top" stash create)
    rev=${stash:-HEAD}
fi
mkdir "$src"
git -C "$top" archive --format=tar "$rev" | tar -x -C "$src"
[ -d "$src/debian" ] && { echo "build-deb: the tree has a debian/ of its own" >&2; exit 1; }
cp -r "$src/contrib/debian" "$src/debian"
echo "build-deb: building $deb_version from $(git -C "$top" rev-parse --short "$rev")${stash:+ (work tree)} in $src"

# Build-Depends not yet installed.
need=$(cd "$src" && dpkg-checkbuilddeps 2>&1 |
    sed -n 's/.*Unmet build dependencies: //p' |
    sed 's/([^)]*)//g; s/|[^ ]*//g')
if [ -n "$need" ]; then
    # shellcheck disable=SC2086 # a list of package names
    apt_install $need
fi

log=$tmp/build.log
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -jauto) >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "build-deb: dpkg-buildpackage failed (log above)" >&2
    exit 1
fi
changes=$(ls "$tmp"/*.changes)
# The files the .changes lists (the packages, their -dbgsym, .buildinfo).
files=$(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]* [0-9]* [^ ]* [^ ]* //p' "$changes")
echo "build-deb: done, in $outdir:"
for f in $files "$(basename "$changes")"; do
    cp "$tmp/$f" "$outdir/"
    echo "  $f"
done

if [ -n "$lintian" ]; then
    echo "build-deb: lintian:"
    # --fail-on error: warnings are printed, errors fail.
    lintian --fail-on error --display-info "$outdir/$(basename "$changes")"
    echo "build-deb: lintian reports no errors"
fi
