#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# gssp11's progress lines (issue 12): setup-dev (with its RSA-3072 key),
# check across the identities and identity new show "what [i/n] item"
# on stderr when stderr is a terminal, and write not one progress byte
# otherwise.
#   quiet  stdout and stderr to files, TERM set as in an interactive
#          shell: neither holds a carriage return, an escape or a
#          progress line;
#   tty    the same commands under util-linux's `script -qc` (a pty):
#          every step is shown, and erased before the results (skipped,
#          with a message, without util-linux's script).
#
# Usage: test-progress.sh GSSP11 KIND   (KIND: softhsm or nss)
# Exit: 0 pass, 1 failure.
set -u
gssp11=$1
kind=$2

work=$(mktemp -d "${TMPDIR:-/tmp}/gp11-progress.XXXXXX") || exit 1
trap '[ -n "${GP11_KEEP:-}" ] || rm -rf "$work"' EXIT
trap 'exit 1' HUP INT PIPE TERM
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() {
    echo "ok: $*"
}
esc=$(printf '\033')
cr=$(printf '\r')

# quiet LABEL FILE...: no progress byte in any FILE.
quiet() {
    label=$1
    shift
    for f in "$@"; do
        if grep -q -e "$cr" -e "$esc" -e '\[[0-9]*/[0-9]*\]' "$f"; then
            fail "$label: progress bytes in $(basename "$f") (not a terminal):"
            od -c "$f" | head -5 >&2
            return
        fi
    done
    ok "$label: no progress bytes when not on a terminal"
}
# shows LABEL FILE STRING...: each STRING (a fixed string) is in FILE.
shows() {
    label=$1
    file=$2
    shift 2
    for s in "$@"; do
        if ! grep -qF -e "$s" "$file"; then
            fail "$label: '$s' not shown on the terminal:"
            od -c "$file" | head -20 >&2
            return
        fi
    done
    ok "$label: progress shown on the terminal and erased"
}

# ---- quiet: stderr is a file --------------------------------------------
TERM=xterm
export TERM
"$gssp11" setup-dev --token "$kind" "$work/q" >"$work/q.out" 2>"$work/q.err" ||
    { cat "$work/q.err" >&2; echo "setup-dev failed" >&2; exit 1; }
grep -q "^Development environment ready" "$work/q.out" ||
    fail "setup-dev (quiet): no result line"
quiet "setup-dev" "$work/q.out" "$work/q.err"
(
    # shellcheck disable=SC1091
    . "$work/q/env"
    "$gssp11" check >"$work/qc.out" 2>"$work/qc.err"
    "$gssp11" identity new --label prog --service prog@localhost \
        --key rsa-3072 --out "$work/prog.csr" >"$work/qi.out" 2>"$work/qi.err"
)
# The commands did their work (else "quiet" would prove nothing).
grep -q "^ok   acceptor identity host@localhost" "$work/qc.out" ||
    grep -q "^ok .*host@localhost" "$work/qc.out" ||
    fail "check (quiet): no identity checked: $(cat "$work/qc.out" "$work/qc.err")"
grep -q "BEGIN CERTIFICATE REQUEST" "$work/prog.csr" 2>/dev/null ||
    fail "identity new (quiet): no request: $(cat "$work/qi.err")"
quiet "check" "$work/qc.out" "$work/qc.err"
quiet "identity new" "$work/qi.out" "$work/qi.err"

# ---- tty: under script(1) -------------------------------------------------
if ! script --version 2>/dev/null | grep -q util-linux; then
    echo "note: util-linux's script is not installed: the terminal path is not tested"
else
    script -qec "'$gssp11' setup-dev --token '$kind' '$work/t'" /dev/null \
        >"$work/t.tty" 2>&1 </dev/null || fail "setup-dev under script"
    shows "setup-dev" "$work/t.tty" \
        "${cr}setup-dev [1/6] " "[3/6] identity alice (EC P-256)" \
        "[5/6] identity rsa (RSA-3072)" "[6/6] export KEK${esc}[K" \
        "${cr}${esc}[KDevelopment environment ready"
    script -qec ". '$work/t/env' && '$gssp11' check" /dev/null \
        >"$work/tc.tty" 2>&1 </dev/null
    shows "check" "$work/tc.tty" "${cr}check [1/" "] context to host@localhost" \
        "${cr}${esc}[Kok "
    script -qec ". '$work/t/env' && '$gssp11' identity new --label prog \
--service prog@localhost --key rsa-3072 --out '$work/t.csr'" /dev/null \
        >"$work/ti.tty" 2>&1 </dev/null || fail "identity new under script"
    shows "identity new" "$work/ti.tty" \
        "${cr}identity new [1/2] key pair prog (rsa-3072)" \
        "[2/2] certificate request" "${cr}${esc}[K"
fi

if [ "$failures" -ne 0 ]; then
    echo "test-progress: FAIL: $failures checks failed"
    exit 1
fi
echo "test-progress: PASS"
exit 0
