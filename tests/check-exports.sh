#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The plugin must export exactly the names in its version script: a name
# missing is a capability the mechglue cannot find, an extra one leaks.
set -eu
module=$1
mapfile=$2
want=$(sed -n '/global:/,/local:/p' "$mapfile" | grep -o 'gss[a-z_]*' | sort)
have=$(nm -D --defined-only "$module" | awk '{print $3}' | grep -v '^$' | sort)
if [ "$want" != "$have" ]; then
    echo "exports of $module differ from $mapfile:" >&2
    diff -u "$(printf '%s' "$want" > /tmp/gp11-want.$$; echo /tmp/gp11-want.$$)" \
            "$(printf '%s' "$have" > /tmp/gp11-have.$$; echo /tmp/gp11-have.$$)" >&2 || true
    rm -f /tmp/gp11-want.$$ /tmp/gp11-have.$$
    exit 1
fi
echo "exports match: $(echo "$want" | tr '\n' ' ')"
