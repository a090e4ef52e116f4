#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The main job on an embedded default: installs what is missing, builds,
# creates a SoftHSM2 development token in a temporary directory, shows what
# gss-pkcs11 finds on it (module, token, capabilities, identities, QOPs),
# establishes GSS-API contexts through MIT's mechglue with keys derived in
# the token, protects messages with every QOP and shows a tampered message
# being rejected.
set -eu
cd "$(dirname "$0")/.."
contrib/deps.sh
if [ -f build/build.ninja ]; then
    meson setup --reconfigure build >/tmp/gss-pkcs11-setup.log 2>&1
else
    meson setup build >/tmp/gss-pkcs11-setup.log 2>&1
fi || { cat /tmp/gss-pkcs11-setup.log >&2; exit 1; }
meson compile -C build >/dev/null

dir=$(mktemp -d /tmp/gss-pkcs11-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "== gssp11 setup-dev $dir/env"
build/contrib/gssp11 setup-dev "$dir/env"
echo
echo "== gssp11 info"
# shellcheck disable=SC1091
. "$dir/env/env"
build/contrib/gssp11 info
echo
echo "== gssp11 qop"
build/contrib/gssp11 qop
echo
echo "== gss-pkcs11-establish host@localhost (alice -> ECDSA P-256 service)"
build/contrib/gss-pkcs11-establish host@localhost
echo
echo "== gss-pkcs11-establish rsa@localhost (alice -> RSA-3072 service)"
build/contrib/gss-pkcs11-establish rsa@localhost
echo
echo "== a service the token has no identity for is refused, and says why"
build/contrib/gss-pkcs11-establish ldap@localhost || true
