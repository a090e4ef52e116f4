#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The built man pages render without a warning: man(1) with warnings on, at
# 80 columns, as a reader sees them, and as lintian checks them (UTF-8
# output). Any message on stderr fails. No page given (pandoc was missing
# at configure time): skipped.
# Usage: check-man.sh PAGE...
set -u
if [ $# -eq 0 ]; then
    echo "check-man: SKIP: no man pages built (pandoc not found at configure time)"
    exit 77
fi
if ! command -v man >/dev/null 2>&1; then
    echo "check-man: FAIL: man not found (apt-get install man-db)" >&2
    exit 1
fi
failures=0
for page in "$@"; do
    name=$(basename "$page")
    before=$failures
    for how in reader lintian; do
        if [ "$how" = reader ]; then
            out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        else
            out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
                man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
        fi
        if [ -n "$out" ]; then
            echo "FAIL: $name ($how):" >&2
            printf '%s\n' "$out" >&2
            failures=$((failures + 1))
        fi
    done
    # A page with a NAME section whose line lexgrog (whatis) can parse.
    text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
    if ! printf '%s\n' "$text" | grep -q '^NAME$'; then
        echo "FAIL: $name has no NAME section" >&2
        failures=$((failures + 1))
    elif command -v lexgrog >/dev/null 2>&1 && ! lexgrog "$page" >/dev/null; then
        echo "FAIL: $name: lexgrog cannot parse its NAME line" >&2
        failures=$((failures + 1))
    elif [ "$failures" -eq "$before" ]; then
        echo "ok: $name renders without warnings ($(printf '%s\n' "$text" | wc -l) lines)"
    fi
done
[ "$failures" -eq 0 ] || exit 1
echo "check-man: PASS: $# pages"
