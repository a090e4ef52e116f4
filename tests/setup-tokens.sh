#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Creates fresh SoftHSM2 and NSS softoken development environments for the
# test suites with 'gssp11 setup-dev'. A token whose package is missing is
# recorded in <kind>.skip so its tests exit 77; any other failure fails.
set -eu
gssp11=$1
tokens=$2
mech_module=$3

rm -rf "$tokens"
mkdir -p "$tokens"
for kind in softhsm nss; do
    if out=$("$gssp11" setup-dev --token "$kind" --mech-module "$mech_module" \
             "$tokens/$kind" 2>&1); then
        echo "$out"
    else
        case $out in
        *"is not installed (package"*)
            echo "$kind: $out" | tee "$tokens/$kind.skip"
            ;;
        *)
            echo "setup of the $kind token failed: $out" >&2
            exit 1
            ;;
        esac
    fi
done
