#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The plugin must export exactly the names in its version script: a name
# missing is a capability the mechglue cannot find, an extra one leaks.
# It must also link no mechglue: Heimdal's loader dlsym()s every name in
# the module and its dependencies, so a module linked to MIT's
# libgssapi_krb5 hands Heimdal MIT's functions (which crash on our
# objects). And it must export every name Heimdal 7.8's loader requires
# (lib/gssapi/mech/gss_mech_switch.c, SYM()), or Heimdal skips it.
set -eu
module=$1
mapfile=$2
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

want=$(sed -n '/global:/,/local:/p' "$mapfile" | grep -o 'gss[a-z_]*' | sort)
have=$(nm -D --defined-only "$module" | awk '{print $3}' | grep -v '^$' | sort)
if [ "$want" != "$have" ]; then
    echo "exports of $module differ from $mapfile:" >&2
    printf '%s\n' "$want" >"$tmp/want"
    printf '%s\n' "$have" >"$tmp/have"
    diff -u "$tmp/want" "$tmp/have" >&2 || true
    status=1
fi

# Heimdal 7.8's mandatory entry points (SYM() in gss_mech_switch.c).
heimdal="acquire_cred release_cred init_sec_context accept_sec_context
process_context_token delete_sec_context context_time get_mic verify_mic
wrap unwrap display_status indicate_mechs compare_name display_name
import_name export_name release_name inquire_cred inquire_context
wrap_size_limit add_cred inquire_cred_by_mech export_sec_context
import_sec_context inquire_names_for_mech inquire_mechs_for_name
canonicalize_name duplicate_name"
for n in $heimdal; do
    if ! printf '%s\n' "$have" | grep -qx "gss_$n"; then
        echo "$module lacks gss_$n, which Heimdal's loader requires" >&2
        status=1
    fi
done

# No GSS name may resolve outside the module.
undef=$(nm -D --undefined-only "$module" | awk '{print $2}' |
    grep -E '^(gss_|gssspi_|GSS_C_|gss_mech_|gss_nt_)' || true)
if [ -n "$undef" ]; then
    echo "$module refers to GSS names it does not define:" >&2
    printf '  %s\n' $undef >&2
    status=1
fi

# No mechglue among its dependencies, direct or indirect.
needed=$(readelf -d "$module" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
linked=$(ldd "$module" | awk '{print $1}')
for lib in $(printf "%s\n" $needed $linked | sort -u); do
    case $lib in
    libgssapi*)
        echo "$module links the mechglue library $lib" >&2
        status=1
        ;;
    esac
done

[ $status -eq 0 ] &&
    echo "exports match, Heimdal's names present, no mechglue linked:" \
        "$(echo "$want" | tr '\n' ' ')"
exit $status
