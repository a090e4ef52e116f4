#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Odd inputs to gssp11 (issue 10 item 11), as a table: each row makes one
# input (a file, a link, a directory, a FIFO, ...) and runs gssp11 on it
# under 'timeout 10'. A row passes if gssp11 ends in time with the expected
# exit status and, when it fails, prints exactly one line on stderr that
# contains the expected text: "FILE:LINE: cause" for a problem on a line,
# "FILE: cause" for one of the whole file. A row that expects exit 0 wants
# nothing on stderr and the "Config:" line of 'gssp11 info' on stdout.
#
# Usage: test-badinput.sh GSSP11 (in a token suite's environment).
set -u
gssp11=$1
[ -f "${GP11_TEST_SKIP_FILE:-/nonexistent}" ] && exit 77
work=$(mktemp -d /tmp/gp11-badin.XXXXXX)
trap 'chmod -R u+rwx "$work" 2>/dev/null; rm -rf "$work"' EXIT
# The unprivileged row must reach a file in here.
chmod 711 "$work"
nl='
'
failures=0
rows=0
skipped=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# The suite's configuration without comments and blank lines, so that the
# line of each key is known; the rows below are made from it.
good=$work/good.conf
grep -v -e '^#' -e '^$' "$GSS_PKCS11_CONF" >"$good"
chmod 600 "$good"
lines=$(wc -l <"$good")
next=$((lines + 1))
line_of() { grep -n -e "$1" "$good" | head -n 1 | cut -d: -f1; }
l_token=$(line_of '^\[token\]$')
l_life=$(line_of '^max-lifetime = ')
l_export=$(line_of '^allow-export = ')
l_pin=$(line_of '^pin-source = ')
l_uri=$(line_of '^uri = ')
l_ident=$(line_of '^identity = ')

# Writes the good configuration with one key's line replaced to $1.
with_value() {
    sed "s|^$2 = .*|$2 = $3|" "$good" >"$1"
}

# Writes the good configuration followed by printf-formatted text to $1.
with_tail() {
    out=$1
    shift
    {
        cat "$good"
        # shellcheck disable=SC2059
        printf "$@"
    } >"$out"
}

# One function per input: in_NAME PATH makes the input at PATH.
in_good() { cp "$good" "$1"; }
in_empty() { : >"$1"; }
in_comments_only() { printf '# nothing\n\n   # at all\n' >"$1"; }
in_huge_10mb() { head -c 10000000 /dev/zero | tr '\0' 'a' >"$1"; }
in_huge_newlines() { head -c 10000000 /dev/zero | tr '\0' '\n' >"$1"; }
in_sparse_10gb() { truncate -s 10G "$1"; }
in_line_1mb() {
    { cat "$good"; printf '# '; head -c 1000000 /dev/zero | tr '\0' x; echo; } >"$1"
}
in_nul_byte() { with_tail "$1" 'allow-anonymous = no\000yes\n'; }
in_utf8_comment() { with_tail "$1" '# caf\303\251, na\357\277\275ve\n'; }
in_invalid_utf8_section() { with_tail "$1" '[acceptor caf\303\050@x]\n'; }
in_invalid_utf8_key() { with_tail "$1" 'max\377lifetime = 1h\n'; }
in_invalid_utf8_value() { with_value "$1" allow-export "$(printf 'n\377o')"; }
in_binary_tail() { with_tail "$1" '\001\002\003\377\376binary'; }
in_uri_space() { with_value "$1" uri 'pkcs11:token=gss-pkcs11-dev garbage'; }
in_uri_non_ascii() { with_value "$1" uri "$(printf 'pkcs11:token=gss\377')"; }
in_identity_space() { with_value "$1" identity 'pkcs11:object=alice; type=private'; }
in_crlf() { sed 's/$/\r/' "$good" >"$1"; }
in_cr_only() { tr '\n' '\r' <"$good" >"$1"; }
in_control_in_value() { with_value "$1" pin-source "$(printf '/tmp/x\033[31m')"; }
in_bom() { { printf '\357\273\277'; cat "$good"; } >"$1"; }
in_crlf_no_final_eol() { sed 's/$/\r/' "$good" | head -c -1 >"$1"; }
in_trailing_line() { with_tail "$1" 'garbage\n'; }
in_trailing_value() { with_value "$1" max-lifetime '10h garbage'; }
in_trailing_header() { with_tail "$1" '[policy] extra\n'; }
in_dup_section() { with_tail "$1" '[token]\n'; }
in_dup_key() { with_tail "$1" 'max-lifetime = 1h\n'; }
in_dup_acceptor() {
    with_tail "$1" '[acceptor host@LOCALHOST]\nidentity = pkcs11:object=x\n'
}
in_unknown_section() { with_tail "$1" '[Policy]\n'; }
in_unknown_key() { with_tail "$1" 'colour = blue\n'; }
in_key_of_other_section() { with_tail "$1" 'identity = pkcs11:object=x\n'; }
in_missing_uri() { grep -v '^uri = ' "$good" >"$1"; }
in_missing_identity() { with_tail "$1" '[acceptor ldap]\n'; }
in_number_as_bool() { with_value "$1" allow-export 2; }
in_negative_lifetime() { with_value "$1" max-lifetime -5m; }
in_lifetime_2_32() { with_value "$1" max-lifetime 4294967297; }
in_lifetime_2_64() { with_value "$1" max-lifetime 18446744073709551617s; }
in_lifetime_days_overflow() { with_value "$1" max-lifetime 99999999999d; }
in_sessions_overflow() {
    sed "s|^\[token\]$|[token]\nmax-sessions = 4294967297|" "$good" >"$1"
}
in_symlink_good() { cp "$good" "$1.target" && ln -s "$1.target" "$1"; }
in_symlink_bad() { : >"$1.target" && ln -s "$1.target" "$1"; }
in_symlink_dangling() { ln -s "$1.nowhere" "$1"; }
in_symlink_loop() { ln -s "$1.b" "$1" && ln -s "$1" "$1.b"; }
in_symlink_to_fifo() { mkfifo "$1.fifo" && ln -s "$1.fifo" "$1"; }
in_directory() { mkdir "$1"; }
in_fifo() { mkfifo "$1"; }
in_fifo_qop() { mkfifo "$1"; }
in_missing() { :; }
in_empty_name() { :; }
in_newline_missing() { :; }
in_newline_garbage() { printf 'garbage\n' >"$1$nl"x; }
in_setup_into_file() { cp "$good" "$1"; }
in_setup_into_fifo() { mkfifo "$1"; }
in_setup_into_devnull() { ln -s /dev/null "$1"; }
# Not empty, but whoever runs setup-dev may not list it (write and search
# only): it must not be taken for empty.
in_setup_into_unlistable() { mkdir "$1" && touch "$1/stale" && chmod 333 "$1"; }
in_pin_fifo() { mkfifo "$1.pin" && with_value "$1" pin-source "$1.pin"; }
in_pin_directory() { mkdir "$1.pin" && with_value "$1" pin-source "$1.pin"; }
in_unreadable() { cp "$good" "$1" && chmod 000 "$1"; }
in_unreadable_as_root() { cp "$good" "$1" && chmod 000 "$1"; }

# An unprivileged user for the mode-000 row: root reads any file, so that
# row runs as 'nobody' when this script runs as root (CI does).
as_nobody=
if [ "$(id -u)" -ne 0 ]; then
    as_nobody=direct
elif command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    as_nobody=setpriv
elif command -v runuser >/dev/null && runuser -u nobody -- true 2>/dev/null; then
    as_nobody=runuser
fi

# Runs gssp11 for a row: $1 is how (info, qop, nobody, newline: on the
# input's name followed by a newline and 'x', empty-name: on '',
# setup-dev: the input as its directory), $2 the input.
run() {
    case $1 in
    info) timeout 10 "$gssp11" info --config "$2" ;;
    newline) timeout 10 "$gssp11" info --config "$2$nl"x ;;
    empty-name) timeout 10 "$gssp11" info --config '' ;;
    setup-dev) timeout 10 "$gssp11" setup-dev --token "$GP11_TEST_TOKEN" "$2" ;;
    qop) timeout 10 "$gssp11" qop --config "$2" ;;
    nobody)
        case $as_nobody in
        direct) timeout 10 "$gssp11" info --config "$2" ;;
        setpriv)
            timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$gssp11" info --config "$2"
            ;;
        runuser) timeout 10 runuser -u nobody -- "$gssp11" info --config "$2" ;;
        esac
        ;;
    nobody-setup)
        set -- setup-dev --token "$GP11_TEST_TOKEN" "$2"
        case $as_nobody in
        direct) timeout 10 "$gssp11" "$@" ;;
        setpriv)
            timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$gssp11" "$@"
            ;;
        runuser) timeout 10 runuser -u nobody -- "$gssp11" "$@" ;;
        esac
        ;;
    esac
}

# The table. Columns: input (in_NAME above) | how gssp11 runs (see run) | exit status | text stderr must contain
# ({F} is the input's path; '-' for an empty stderr).
table=$work/table
cat >"$table" <<EOF
good|info|0|-
empty|info|1|{F}: no [token] section (it must set 'module' and 'uri')
comments_only|info|1|{F}: no [token] section (it must set 'module' and 'uri')
huge_10mb|info|1|{F}: file is larger than 1 MiB
huge_newlines|info|1|{F}: file is larger than 1 MiB
sparse_10gb|info|1|{F}: file is larger than 1 MiB
line_1mb|info|1|{F}:$next: line is longer than 4096 bytes
nul_byte|info|1|{F}:$next: NUL byte in line
utf8_comment|info|0|-
invalid_utf8_section|info|1|{F}:$next: invalid acceptor name 'caf?(@x'
invalid_utf8_key|info|1|{F}:$next: malformed key name
invalid_utf8_value|info|1|{F}:$l_export: allow-export must be yes, no, true, false, 1 or 0, not 'n?o'
binary_tail|info|1|{F}:$next: control character 0x01 in line
uri_space|info|1|{F}:$l_uri: uri is not a valid PKCS#11 URI: it contains a space (character 28), which p11-kit ignores; write a space as %20
uri_non_ascii|info|1|{F}:$l_uri: uri is not a valid PKCS#11 URI: it contains a byte that is not printable ASCII (character 17)
identity_space|info|1|{F}:$l_ident: identity is not a valid PKCS#11 URI: it contains a space (character 21)
crlf|info|0|-
crlf_no_final_eol|info|0|-
bom|info|1|{F}:1: the file starts with a UTF-8 byte order mark (EF BB BF); save it without one
cr_only|info|1|{F}:1: carriage return inside the line
control_in_value|info|1|{F}:$l_pin: control character 0x1B in line
trailing_line|info|1|{F}:$next: malformed line (expected 'key = value', '[section]' or '# comment')
trailing_value|info|1|{F}:$l_life: max-lifetime must be seconds, or a number with suffix s, m, h or d, from 1 second to 3650 days, not '10h garbage'
trailing_header|info|1|{F}:$next: malformed section header (expected '[name]')
dup_section|info|1|{F}:$next: duplicate section [token] (first on line $l_token)
dup_key|info|1|{F}:$next: duplicate key 'max-lifetime' in [policy] (first set on line $l_life)
dup_acceptor|info|1|{F}:$next: duplicate section [acceptor host@LOCALHOST] (first on line
unknown_section|info|1|{F}:$next: unknown section [Policy]
unknown_key|info|1|{F}:$next: unknown key 'colour' in [policy]
key_of_other_section|info|1|{F}:$next: unknown key 'identity' in [policy]
missing_uri|info|1|{F}:$l_token: missing key 'uri' in [token]
missing_identity|info|1|{F}:$next: missing key 'identity' in [acceptor ldap]
number_as_bool|info|1|{F}:$l_export: allow-export must be yes, no, true, false, 1 or 0, not '2'
negative_lifetime|info|1|{F}:$l_life: max-lifetime must be seconds, or a number with suffix s, m, h or d, from 1 second to 3650 days, not '-5m'
lifetime_2_32|info|1|{F}:$l_life: max-lifetime must be seconds
lifetime_2_64|info|1|{F}:$l_life: max-lifetime must be seconds
lifetime_days_overflow|info|1|{F}:$l_life: max-lifetime must be seconds
sessions_overflow|info|1|{F}:$((l_token + 1)): max-sessions must be a number from 1 to 4096, not '4294967297'
symlink_good|info|0|-
symlink_bad|info|1|{F}: no [token] section (it must set 'module' and 'uri')
symlink_dangling|info|1|cannot read {F}: No such file or directory
symlink_loop|info|1|cannot read {F}: Too many levels of symbolic links
symlink_to_fifo|info|1|cannot read {F}: not a regular file
directory|info|1|cannot read {F}: not a regular file
fifo|info|1|cannot read {F}: not a regular file
fifo_qop|qop|1|cannot read {F}: not a regular file
missing|info|1|cannot read {F}: No such file or directory
empty_name|empty-name|1|cannot read the configuration: the file name is empty
newline_missing|newline|1|cannot read {F}?x: No such file or directory
newline_garbage|newline|1|{F}?x:1: malformed line
setup_into_file|setup-dev|1|{F} exists and is not a directory
setup_into_fifo|setup-dev|1|{F} exists and is not a directory
setup_into_devnull|setup-dev|1|{F} exists and is not a directory
setup_into_unlistable|nobody-setup|1|cannot read directory {F}: Permission denied
pin_fifo|info|1|PIN file {F}.pin is a FIFO, not a regular file
pin_directory|info|1|PIN file {F}.pin is a directory, not a regular file
unreadable|nobody|1|cannot read {F}: Permission denied
EOF
if [ "$(id -u)" -eq 0 ]; then
    # As root the mode-000 file is read like any other: exit 0 is right.
    echo 'unreadable_as_root|info|0|-' >>"$table"
fi

# Prints why a row's result ($1 exit status, $work/out, $work/err) does not
# match exit status $2 and text $3; true if it matches.
check() {
    err=$(head -c 2000 "$work/err")
    if [ "$1" -eq 124 ]; then
        echo "gssp11 hung (killed after 10 s)"
        return 1
    fi
    if [ "$1" -ne "$2" ]; then
        echo "exit $1, want $2: $err"
        return 1
    fi
    if [ "$3" = - ]; then
        if [ -s "$work/err" ]; then
            echo "unexpected stderr: $err"
            return 1
        fi
        grep -q '^Config: ' "$work/out" && return 0
        echo "no 'Config:' line on stdout"
        return 1
    fi
    if [ "$(wc -l <"$work/err")" -ne 1 ]; then
        echo "not exactly one line: $err"
        return 1
    fi
    case $err in
    "gssp11: "*) ;;
    *)
        echo "does not start with 'gssp11: ': $err"
        return 1
        ;;
    esac
    grep -qF -- "$3" "$work/err" && return 0
    echo "'$err' lacks '$3'"
    return 1
}

while IFS='|' read -r name how want_rc want; do
    rows=$((rows + 1))
    input=$work/$name
    if [ "${how%-setup}" = nobody ] && [ -z "$as_nobody" ]; then
        echo "SKIP: $name: running as root and cannot switch to an" \
             "unprivileged user (no setpriv or runuser that works)"
        skipped=$((skipped + 1))
        continue
    fi
    if ! "in_$name" "$input"; then
        fail "$name: cannot make the input"
        continue
    fi
    # {F} in the expected text is the input's path.
    case $want in
    *'{F}'*) want="${want%%\{F\}*}$input${want#*\{F\}}" ;;
    esac
    run "$how" "$input" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    if why=$(check "$rc" "$want_rc" "$want"); then
        echo "ok: $name: exit $rc $(head -c 300 "$work/err")"
    else
        fail "$name: $why"
    fi
done <"$table"

echo "$rows rows, $failures failure(s), $skipped skipped"
[ "$failures" -eq 0 ] || exit 1
