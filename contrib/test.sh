#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, and runs the whole test suite twice:
# with gcc (build/), and with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer plus the libFuzzer targets (build-asan/).
# The last line is the plain count "N passed, M failed, K skipped".
set -eu
cd "$(dirname "$0")/.."
contrib/deps.sh

# Configures (or reconfigures) a build directory.
setup() {
    dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

# Runs one build's suite; appends its counts to $counts.
run_suite() {
    dir=$1
    status=0
    meson test -C "$dir" --print-errorlogs --num-processes 2 || status=$?
    log="$dir/meson-logs/testlog.json"
    python3 - "$log" >>"$counts" <<'PY'
import json, sys
ok = fail = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
    else:
        fail += 1
print(ok, fail, skip)
PY
    return "$status"
}

counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
rc=0

setup build
meson compile -C build
run_suite build || rc=1

CC=clang setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dfuzzing=enabled
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0" \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite build-asan || rc=1

awk '{ok += $1; fail += $2; skip += $3}
     END {printf "%d passed, %d failed, %d skipped\n", ok, fail, skip}' \
    "$counts"
exit "$rc"
