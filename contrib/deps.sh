#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages gss-pkcs11 needs to build and test, if any
# is missing. Used by demo.sh and test.sh; safe to run again. pandoc
# builds the man pages, man-db checks them; contrib/build-deb.sh installs
# the Debian packaging tools (debhelper, lintian) itself when it runs.
set -eu

packages="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
libp11-kit-dev p11-kit p11-kit-modules libssl-dev openssl libkrb5-dev
krb5-gss-samples libcmocka-dev softhsm2 libnss3 binutils patch pandoc man-db
heimdal-multidev util-linux mount python3-gssapi libgss-dev
libsasl2-dev sasl2-bin libsasl2-modules-gssapi-mit libwinpr2-dev"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "Installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "deps.sh: need root (or sudo) to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
