#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The main job on an embedded default: installs what is missing, builds,
# creates a SoftHSM2 development token in a temporary directory, and shows
# what gss-pkcs11 finds on it (module, token, capabilities, identities).
set -eu
cd "$(dirname "$0")/.."
contrib/deps.sh
if [ -f build/build.ninja ]; then
    meson setup --reconfigure build >/dev/null
else
    meson setup build >/dev/null
fi
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
