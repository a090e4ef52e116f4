#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs a libFuzzer target for a bounded time: new inputs go to a scratch
# corpus in the build directory, the seeds in the source tree stay as is.
set -eu
fuzzer=$1
seeds=$2
seconds=$3
scratch="$(dirname "$fuzzer")/$(basename "$fuzzer")-corpus"
mkdir -p "$scratch"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$scratch" "$seeds"
