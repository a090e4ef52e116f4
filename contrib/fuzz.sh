#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer targets long (docs/fuzzing.md) and prints a table:
# target, executions, exec/s, cov (edges), ft (features), crashes.
#
#   contrib/fuzz.sh [-t SECONDS] [-n RUNS] [-j JOBS] [-C BUILDDIR]
#                   [TARGET...] [-- LIBFUZZER-OPTIONS]
#
#   -t SECONDS  per target (default 600)
#   -n RUNS     stop a target after RUNS executions (whichever comes first)
#   -j JOBS     targets run at the same time (default 1)
#   -C DIR      the clang build with ASan, UBSan and -Dfuzzing=enabled
#               (default build-asan, as contrib/test.sh makes it; set up
#               and built if needed, with the test tokens)
#   TARGET      fuzz_certval or certval, ...; default: all
#
# Each target grows its corpus in DIR/tests/fuzz/<target>-corpus (the
# seeds in tests/fuzz/corpus stay as they are); crash reproducers go to
# DIR/tests/fuzz/<target>-artifacts/. Exits 1 if any target crashed.
set -eu
cd "$(dirname "$0")/.."
seconds=600
runs=
jobs=1
dir=build-asan
while getopts t:n:j:C:h opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    n) runs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    C) dir=$OPTARG ;;
    *)
        sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
    esac
done
shift $((OPTIND - 1))
targets=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case $1 in
    fuzz_*) targets="$targets $1" ;;
    *) targets="$targets fuzz_$1" ;;
    esac
    shift
done
[ $# -gt 0 ] && shift # "--": the rest goes to libFuzzer
all=$(sed -n "s/^  '\(fuzz_[a-z_]*\)': \['\([a-z_]*\)', '\([a-z]*\)'.*/\1 \2 \3/p" \
    tests/fuzz/meson.build)
[ -n "$targets" ] || targets=$(echo "$all" | cut -d' ' -f1)

if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Db_sanitize=address,undefined \
        -Db_lundef=false -Dfuzzing=enabled >/dev/null
fi
meson compile -C "$dir" >/dev/null
if [ ! -f "$dir/tests/tokens/softhsm/env" ] &&
    [ ! -f "$dir/tests/tokens/softhsm.skip" ]; then
    meson test -C "$dir" --suite setup >/dev/null
fi

# The sanitizer settings of contrib/test.sh.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
# The token targets' environment: the softhsm suite's.
if [ -f "$dir/tests/tokens/softhsm/env" ]; then
    # shellcheck disable=SC1091
    . "$dir/tests/tokens/softhsm/env"
    GP11_TEST_SKIP_FILE="$dir/tests/tokens/softhsm.skip"
    export GP11_TEST_SKIP_FILE
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
# shellcheck disable=SC2016 # the xargs script expands in its own shell
for t in $targets; do
    corpus=$(echo "$all" | awk -v t="$t" '$1 == t {print $2}')
    if [ -z "$corpus" ] || [ ! -x "$dir/tests/fuzz/$t" ]; then
        echo "unknown fuzz target $t (known: $(echo "$all" | cut -d' ' -f1 |
            tr '\n' ' '))" >&2
        exit 2
    fi
    echo "$t $corpus"
done | FUZZ_EXTRA="$*" xargs -P "$jobs" -L 1 sh -c '
    dir=$1 seconds=$2 runs=$3 results=$4 t=$5 corpus=$6
    # shellcheck disable=SC2086 # FUZZ_EXTRA: options, split on spaces
    set -- ${runs:+-runs=$runs} $FUZZ_EXTRA
    echo "$t: fuzzing for up to ${seconds}s${runs:+ or $runs runs}" >&2
    tests/fuzz/run-fuzzer.sh "$PWD/$dir/tests/fuzz/$t" \
        "$PWD/tests/fuzz/corpus/$corpus" "$seconds" 0 "$@" \
        >"$results/$t.out" 2>&1
    echo $? >"$results/$t.rc"
    grep "^fuzz-summary:" "$results/$t.out" >&2 || true
' fuzz-target "$dir" "$seconds" "$runs" "$results"

printf '\n%-22s %12s %9s %6s %7s %8s\n' target executions exec/s cov ft crashes
rc=0
for t in $targets; do
    line=$(grep "^fuzz-summary:" "$results/$t.out" 2>/dev/null || true)
    if [ -z "$line" ]; then
        printf '%-22s %12s %9s %6s %7s %8s\n' "$t" - - - - "no run"
        rc=1
        continue
    fi
    echo "$line" | awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%-22s %12d %9d %6d %7d %8d\n", $2, v["runs"], v["exec/s"],
               v["cov"], v["ft"], v["crashes"]
    }'
    if [ "$(cat "$results/$t.rc")" = 77 ]; then
        echo "  $t skipped itself (no token)"
    elif [ "$(cat "$results/$t.rc")" != 0 ]; then
        rc=1
        echo "  $t failed: see $dir/tests/fuzz/$t.log and" \
            "$dir/tests/fuzz/$t-artifacts/"
    fi
done
exit "$rc"
