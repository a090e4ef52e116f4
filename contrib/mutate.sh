#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The mutation gate: every planted bug in tests/mutants/ must be caught.
#
#   contrib/mutate.sh [MUTANT.patch ...]     (default: tests/mutants/*.patch)
#
# Each mutant is a small patch whose first lines are
#   # <what the planted bug is>
#   # kill: <suite>/<test> [<suite>/<test> ...]
# The gate keeps a scratch copy of the tree and one build directory in
# build-mutate/ (reused between runs, so only what a mutant touches is
# rebuilt). It first runs every named test on the unmodified copy (all must
# pass, or a kill would prove nothing), then for each mutant: applies it,
# rebuilds, runs exactly its named tests, reverts it. A mutant is killed
# when EVERY test it names fails; one that survives any of them, does not
# apply, or does not build fails the gate. Exit status 0 only if all were
# killed. Environment: GP11_MUTATE_DIR overrides build-mutate/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=${GP11_MUTATE_DIR:-$top/build-mutate}
src=$work/src
bld=$work/build
log=$work/log
mkdir -p "$src" "$log"

# Header field of a mutant: "desc" is the first comment line, "kill" the
# test list.
field() {
    case $1 in
    desc) sed -n '1s/^# *//p' "$2" ;;
    kill) sed -n 's/^# *kill: *//p' "$2" | head -n 1 ;;
    esac
}

# Brings the scratch copy up to date with the tree (tracked and new files):
# only files whose content differs are copied, so they get a new mtime and
# ninja rebuilds exactly what changed, including files a mutant touched.
sync_tree() {
    list=$work/files
    (cd "$top" && git ls-files -co --exclude-standard) | grep -v '^tests/mutants/' >"$list"
    while IFS= read -r f; do
        if ! cmp -s "$top/$f" "$src/$f" 2>/dev/null; then
            mkdir -p "$src/$(dirname "$f")"
            cp "$top/$f" "$src/$f"
        fi
        if [ -x "$top/$f" ]; then chmod +x "$src/$f"; fi
    done <"$list"
    # Files the tree no longer has (moved, removed) would shadow their
    # successors (a header found first on the include path).
    (cd "$src" && find . -type f | sed 's|^\./||') | sort >"$work/have"
    sort "$list" | comm -23 "$work/have" - | while IFS= read -r f; do
        rm -f "$src/$f"
    done
}

# Runs one test quietly (its own meson log); returns its meson status.
run_test() {
    lb=$(echo "$1" | tr '/' '-')
    meson test -C "$bld" --no-rebuild --logbase "$lb" --suite "${1%%/*}" \
        "${1#*/}" >"$log/$lb.out" 2>&1
}

# Runs the tests given, one suite's tests after another and the suites
# side by side (two tokens, two cores); prints those that passed.
run_tests() {
    rm -f "$log"/passed.*
    for s in $(for t in "$@"; do echo "${t%%/*}"; done | sort -u); do
        (
            for t in "$@"; do
                [ "${t%%/*}" = "$s" ] || continue
                if run_test "$t"; then echo "$t" >>"$log/passed.$s"; fi
            done
        ) &
    done
    wait
    cat "$log"/passed.* 2>/dev/null || true
}

# Rebuilds the scratch build (only what the tests given need, if any are
# given); on failure prints the build log.
rebuild() {
    targets=""
    if [ $# -gt 0 ]; then
        targets=$(meson introspect --tests --targets "$bld" |
            /usr/bin/python3 -c '
import json, os, sys
info = json.load(sys.stdin)
bld = os.path.realpath(sys.argv[1])
want = set(sys.argv[2:])
files = {t["id"]: t["filename"] for t in info["targets"]}
out = set()
for t in info["tests"]:
    if not any(s.split(":")[-1] + "/" + t["name"] in want for s in t["suite"]):
        continue
    for f in [t["cmd"][0]] + [f for d in t["depends"] for f in files.get(d, [])]:
        if os.path.realpath(f).startswith(bld + "/"):
            out.add(os.path.relpath(os.path.realpath(f), bld))
print(" ".join(sorted(out)))
' "$bld" "$@")
    fi
    # shellcheck disable=SC2086
    if ! ninja -C "$bld" $targets >"$log/build.out" 2>&1; then
        tail -n 30 "$log/build.out" >&2
        return 1
    fi
}

if [ $# -eq 0 ]; then
    set -- "$top"/tests/mutants/*.patch
fi
# Absolute paths: the patches are applied from inside the scratch copy.
for m in "$@"; do
    case $m in /*) ;; *) m=$(pwd)/$m ;; esac
    set -- "$@" "$m"
    shift
done
for m in "$@"; do
    [ -f "$m" ] || { echo "mutate: no such mutant: $m" >&2; exit 1; }
    [ -n "$(field kill "$m")" ] ||
        { echo "mutate: $m has no '# kill:' line" >&2; exit 1; }
done

start=$(date +%s)
sync_tree
if [ ! -f "$bld/build.ninja" ]; then
    meson setup "$bld" "$src" >"$log/setup.out" 2>&1 ||
        { cat "$log/setup.out" >&2; exit 1; }
fi
rebuild || { echo "mutate: the unmodified tree does not build" >&2; exit 1; }
meson test -C "$bld" --no-rebuild --suite setup >"$log/setup-tokens.out" 2>&1 ||
    { cat "$log/setup-tokens.out" >&2; exit 1; }

# Every test a mutant names must pass on the unmodified code.
all_tests=$(for m in "$@"; do field kill "$m" | tr ' ' '\n'; done | sort -u)
# A name meson does not know would "pass" by running nothing.
meson test -C "$bld" --no-rebuild --list 2>/dev/null |
    sed -n 's|^[^:]*:\([^ ]*\) / \(.*\)$|\1/\2|p' >"$log/known"
for t in $all_tests; do
    grep -qxF "$t" "$log/known" ||
        { echo "mutate: no test $t (suite/name, see meson test --list)" >&2; exit 1; }
done
# shellcheck disable=SC2086
passed=$(run_tests $all_tests)
for t in $all_tests; do
    if ! echo "$passed" | grep -qx "$t"; then
        cat "$log/$(echo "$t" | tr '/' '-').out" >&2
        echo "mutate: $t fails on the unmodified tree" >&2
        exit 1
    fi
done

killed=0
bad=0
for m in "$@"; do
    name=$(basename "$m" .patch)
    if ! (cd "$src" && patch -p1 -s -F0 --dry-run <"$m") >/dev/null 2>&1; then
        echo "BROKEN   $name: does not apply to the tree (update the patch)"
        bad=$((bad + 1))
        continue
    fi
    (cd "$src" && patch -p1 -s -F0 --no-backup-if-mismatch <"$m")
    files=$(sed -n 's|^+++ b/||p' "$m")
    verdict=""
    # shellcheck disable=SC2046
    if ! rebuild $(field kill "$m"); then
        verdict="BROKEN   $name: does not build with the mutant"
    else
        # shellcheck disable=SC2046
        survivors=$(run_tests $(field kill "$m") | tr '\n' ' ')
        if [ -n "$survivors" ]; then
            verdict="SURVIVED $name: passes $survivors($(field desc "$m"))"
        fi
    fi
    (cd "$src" && patch -p1 -s -R --no-backup-if-mismatch <"$m")
    # The reverted files must look newer than the mutant's objects.
    for f in $files; do touch "$src/$f"; done
    if [ -n "$verdict" ]; then
        echo "$verdict"
        bad=$((bad + 1))
    else
        echo "killed   $name: $(field desc "$m")"
        killed=$((killed + 1))
    fi
done
echo "mutants: $killed killed, $bad not killed ($(($(date +%s) - start)) s)"
[ "$bad" -eq 0 ]
