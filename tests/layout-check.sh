#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The engine/face split stays split (docs/layout.md, issue 7 section 1):
#
# - no file of sspi/ includes a GSS-API header or one of gss/, calls a
#   gp11_gss_* function or gp11_major_for, or names a gss_* type,
#   OM_uint32 or a GSS_C_* / GSS_S_* constant: the SSPI face translates
#   onto the engine, never onto the GSS face;
# - no file of core/ includes a GSS-API header or one of gss/ (the faces
#   sit on the core, not the other way round; core/meson.build builds it
#   without the GSS-API headers);
# - the context and its state machines (core/gp11_context.h,
#   gp11_establish.h, ctx_init.c, ctx_accept.c) name no gss_* type,
#   OM_uint32 or GSS_* constant, nor include a GSS-API header.
#
#   layout-check.sh SOURCE_ROOT
set -eu
top=$1
status=0

# Reports the lines of the files that match the extended regex.
forbid() {
    what=$1
    re=$2
    shift 2
    if grep -nE "$re" "$@" >"$tmp" 2>/dev/null; then
        echo "layout: $what:" >&2
        sed 's/^/    /' "$tmp" >&2
        status=1
    fi
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cd "$top"

# The headers of the GSS face, as include names.
gss_headers=$(cd gss && ls ./*.h | sed 's|^\./||' | tr '\n' '|' | sed 's/|$//' |
    sed 's/\./\\./g')
inc_gss="^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"](gssapi|($gss_headers)\")"
word='(^|[^A-Za-z0-9_])'

sspi=$(ls sspi/*.c sspi/*.h)
forbid "sspi/ includes a GSS-API or gss/ header" "$inc_gss" $sspi
forbid "sspi/ calls the GSS face" "gp11_gss_|gp11_major_for|gp11_fail[^a-z_]" \
    $sspi
forbid "sspi/ names a GSS-API type or constant" \
    "${word}(gss_[a-z]|OM_uint32|GSS_[CS]_)" $sspi

forbid "core/ includes a GSS-API header or one of gss/" "$inc_gss" \
    core/*.c core/*.h

forbid "the context or its state machines use GSS-API types" \
    "${word}(gss_|OM_uint32|GSS_)|#[[:space:]]*include[[:space:]]*<gssapi" \
    core/gp11_context.h core/gp11_establish.h core/ctx_init.c \
    core/ctx_accept.c

[ $status -eq 0 ] && echo "layout: sspi/ and the context are free of GSS-API"
exit $status
