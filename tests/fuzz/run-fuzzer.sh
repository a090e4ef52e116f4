#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs a libFuzzer target for a bounded time: new inputs go to a scratch
# corpus in the build directory, the seeds in the source tree stay as is,
# crash reproducers go to <fuzzer>-artifacts/. Prints libFuzzer's coverage
# lines (cov: edges, ft: features) as they come and a summary line:
#   fuzz-summary: <target> runs=N exec/s=E cov=C ft=F crashes=K
# and fails when the fuzzer fails (a crash, a leak, a broken invariant) or
# when it reached fewer than min_cov edges: a target whose library code is
# not instrumented sees only its own few edges (issue 10, item 8).
#
# Usage: run-fuzzer.sh FUZZER SEEDS SECONDS [MIN_COV] [libFuzzer options]
set -u
fuzzer=$1
seeds=$2
seconds=$3
min_cov=${4:-0}
shift 3
[ $# -gt 0 ] && shift
name=$(basename "$fuzzer")
scratch="$(dirname "$fuzzer")/$name-corpus"
artifacts="$(dirname "$fuzzer")/$name-artifacts"
log="$(dirname "$fuzzer")/$name.log"
mkdir -p "$scratch" "$artifacts"
# ASan's default 256 MiB quarantine of freed memory halves the speed of
# the malloc-heavy targets (certificates, handshakes); 32 MiB still
# catches a use of memory freed during the same input.
case "${ASAN_OPTIONS:-}" in
*quarantine_size_mb*) ;;
*)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=32"
    export ASAN_OPTIONS
    ;;
esac
# -error_exitcode: libFuzzer's default for a crash, a leak or a broken
# invariant is 77, which meson (and the check below) read as "skipped";
# a finding must fail the test.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" \
    "$scratch" "$seeds" >"$log" 2>&1
status=$?
# libFuzzer reports on stderr: its messages (start-up, errors, final
# stats), then the coverage lines at start, at each power of two and at
# the end; the NEW/REDUCE lines stay in the full log.
grep -v -e '^#[0-9]' "$log" | tail -n 200
grep -e '^#[0-9]*[[:space:]]*\(INITED\|DONE\|pulse\)' "$log" | tail -n 30
echo "(full libFuzzer log: $log)"
if [ "$status" -eq 77 ]; then
    exit 77 # the target skipped itself (no token)
fi
awk -v name="$name" -v min="$min_cov" -v status="$status" '
    /cov: [0-9]+/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "cov:") cov = $(i + 1)
            if ($i == "ft:") ft = $(i + 1)
        }
    }
    /^stat::number_of_executed_units:/ { runs = $2 }
    /^stat::average_exec_per_sec:/ { eps = $2 }
    # -fork=N: "#1306: cov: 4752 ft: 3601 corp: 50 exec/s 51
    # oom/timeout/crash: 0/0/0 ..." (cov counted another way)
    /^#[0-9]+: cov:/ {
        runs = substr($1, 2) + 0
        for (i = 1; i < NF; i++) {
            if ($i == "exec/s") eps = $(i + 1)
            if ($i == "oom/timeout/crash:") {
                split($(i + 1), k, "/")
                forked = k[1] + k[2] + k[3]
            }
        }
    }
    /^==[0-9]+== ERROR: libFuzzer|^SUMMARY: (Address|Undefined|Leak)|deadly signal|fuzz invariant broken/ { crashes++ }
    END {
        if (forked > crashes) crashes = forked
        if (status != 0 && crashes == 0) crashes = 1
        printf "fuzz-summary: %s runs=%d exec/s=%d cov=%d ft=%d crashes=%d\n",
               name, runs, eps, cov, ft, crashes
        if (status == 0 && cov + 0 < min + 0) {
            printf "%s: coverage %d edges is below the expected %d: is the " \
                   "library code instrumented (-fsanitize=fuzzer-no-link)?\n",
                   name, cov, min
            exit 1
        }
    }' "$log" || exit 1
exit "$status"
