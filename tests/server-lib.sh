# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh disable=SC2034,SC2154 # tmp: the caller's; checks, step: for it
#
# Sourced by the loopback interop tests (interop-mit.sh, interop-sspi.sh):
# one sample server at a time, started on a free random port, watched and
# stopped; the failure counter and the clean-up trap.
#
# The caller sets tmp (a private directory, removed on exit unless
# server_lib_keep_tmp is set) before sourcing, and may define show_server
# (called when a server does not start; the default shows
# $tmp/server.log).

server_pid=
port=
failures=0
checks=0
step=0

# alive PID: the process exists and is not a zombie (our own child stays a
# zombie until waited for, and kill -0 succeeds on it).
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    case $(ps -o stat= -p "$1" 2>/dev/null) in
    Z* | "") return 1 ;;
    esac
    return 0
}

# stop_server: SIGTERM, 5 s of grace, then SIGKILL; reaps the server.
stop_server() {
    [ -n "$server_pid" ] || return 0
    if alive "$server_pid"; then
        kill "$server_pid" 2>/dev/null
        i=0
        while alive "$server_pid" && [ "$i" -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        alive "$server_pid" && kill -9 "$server_pid" 2>/dev/null
    fi
    wait "$server_pid" 2>/dev/null
    server_pid=
}

# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
    rc=$?
    trap - EXIT HUP INT PIPE TERM
    stop_server
    [ -n "${server_lib_keep_tmp:-}" ] || rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# show FILE: a log, long lines and hex dumps cut (the servers echo whole
# messages).
show() {
    echo "----- $1"
    cut -c1-300 "$1" | grep -v '^[0-9a-f]*$' | head -n 60
    echo "-----"
}

# show_server: what a server that did not start printed (the caller may
# define its own after sourcing this file).
show_server() { show "$tmp/server.log"; }

rand_port() {
    n=$(od -An -N2 -tu2 /dev/urandom | tr -dc 0-9)
    echo $((20000 + ${n:-0} % 40000))
}

# listening PORT: something listens on PORT already (false without ss).
listening() {
    command -v ss >/dev/null 2>&1 || return 1
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# start_server NAME LAUNCH [ARG...]: runs "LAUNCH PORT ARG..." (a function
# of the caller that starts the server in the background, output to
# $tmp/server.log) on a free random port; up to 5 ports, 10 s each. The
# server prints "starting..." once it listens. Sets port and server_pid.
start_server() {
    name=$1 launch=$2
    shift 2
    slog=$tmp/server.log
    for attempt in 1 2 3 4 5; do
        port=$(rand_port)
        if listening "$port"; then
            echo "port $port is taken, trying another"
            continue
        fi
        # Emptied here, not only by the background job's redirection: that
        # runs after the fork, and the previous server's "starting..."
        # would be taken for this one's.
        : >"$slog"
        echo "run: $name -port $port $*  (attempt $attempt)"
        "$launch" "$port" "$@"
        server_pid=$! # a function runs in this shell: $! is the server
        i=0
        while [ "$i" -lt 100 ]; do
            if grep -q '^starting\.\.\.' "$slog"; then
                echo "$name (pid $server_pid) listens on port $port"
                return 0
            fi
            alive "$server_pid" || break
            sleep 0.1
            i=$((i + 1))
        done
        if grep -q 'binding socket' "$slog"; then
            stop_server
            echo "port $port is in use, trying another"
            continue
        fi
        if alive "$server_pid"; then
            echo "FAIL: $name did not listen within 10 s" >&2
        else
            echo "FAIL: $name exited before listening" >&2
        fi
        show_server
        return 1
    done
    echo "FAIL: no free port for $name after 5 attempts" >&2
    return 1
}
