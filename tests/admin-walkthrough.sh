#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs the production walk-through of docs/admin-guide.md (section 5)
# literally: its command blocks, in the order of the document, on three
# "hosts" (the CA, the acceptor and the initiator), each a private mount
# namespace of its own whose /etc, /var/lib/softhsm and installation
# prefix are overlays with that host's own upper layer. So each host has
# its own /etc/softhsm/softhsm2.conf and SoftHSM2 token store (its "HSM"),
# its own /etc/gss-pkcs11, /etc/gss/mech and accounts; the machine's own
# files never change (compared before and after). gss-server runs on the
# acceptor's token and gss-client on the initiator's, over TCP, and the
# output blocks of the guide must appear in theirs: a message wrapped by
# the client and unwrapped by the server, a MIC made by the server and
# verified by the client.
#
# The blocks, as the guide marks them (```sh walkthrough-ROLE):
#   walkthrough-packages   apt-get install lines: not run; every package
#                          named must be installed on this machine
#   walkthrough-install    the package (or meson) install: not run; the
#                          build's `meson install --destdir` stands in
#                          for it (its prefix overlaid on the real one,
#                          its mech.d snippet at /etc/gss/mech.d)
#   walkthrough-ca, walkthrough-acceptor, walkthrough-initiator
#                          run with `sh -e` as root on that host, in the
#                          host's working directory
#   walkthrough-acceptor-background
#                          the same, in the background (gss-server)
#   walkthrough-copy       lines "FILE...: FROM -> TO": files copied from
#                          one host's working directory to another's
#   walkthrough-expect-ROLE
#                          each line (but "...") must be a line of the
#                          output of ROLE's last block (for a background
#                          block: once it has exited)
# The only substitutions (the guide lists them too):
#   acceptor.example.com  -> localhost
#   -port 4444            -> -port P, a free port
#   /etc/gss-pkcs11       -> SYSCONFDIR/gss-pkcs11 when the build's
#                            sysconfdir is not /etc (a /usr/local build)
#
# Usage: admin-walkthrough.sh GUIDE BUILD PREFIX SYSCONFDIR [DEBDIR]
#   BUILD   a meson build directory (meson install --destdir), or
#           --root=DIR: an installed tree already made (Debian packages
#           extracted with dpkg -x, tests/deb.sh), used as it is
#   DEBDIR  with --root: where the packages are; each ./FILE.deb the
#           install blocks name must be there
# Needs root (the guide creates an account and runs commands as it).
# Exit: 0 pass, 1 failure, 77 skipped (not root, or no unshare, outside CI).
set -u

prog=admin-walkthrough
if [ "${1:-}" = --host ]; then
    # ---- one host's namespace: overlays, then the block.
    shift
    role=$1 block=$2 work=$3 prefix=$4 sysconfdir=$5
    # Never on the machine's own mount tree: the blocks write to /etc. The
    # scratch tmpfs, and the outer namespace's id in it, exist only in
    # the outer namespace; this one must be another, nested in it.
    ns=$(readlink /proc/self/ns/mnt)
    if ! mountpoint -q "$work/scratch" || [ ! -f "$work/scratch/outer-ns" ] ||
        [ "$ns" = "$(cat "$work/scratch/outer-ns")" ]; then
        echo "$prog: FAIL: --host outside a private mount namespace" >&2
        exit 1
    fi
    ns_prog=$prog # read by ns-lib.sh
    export ns_prog
    ns_scratch=$work/scratch
    # shellcheck source=tests/ns-lib.sh
    . "$(dirname "$0")/ns-lib.sh"
    hd=$ns_scratch/hosts/$role
    ns_overlay /etc "$hd/etc" "$ns_scratch/inst-etc" >/dev/null || exit 1
    ns_overlay "$prefix" "$hd/prefix" "$ns_scratch/dest$prefix" \
        >/dev/null || exit 1
    case $sysconfdir in
    /etc | /etc/* | "$prefix"/*) ;;
    *) ns_overlay "$sysconfdir" "$hd/sysconf" >/dev/null || exit 1 ;;
    esac
    if [ -d /var/lib/softhsm ]; then
        ns_overlay /var/lib/softhsm "$hd/softhsm" >/dev/null || exit 1
    fi
    mkdir -p "$work/cwd/$role"
    cd "$work/cwd/$role" || exit 1
    umask 022
    exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 stdbuf -oL -eL sh -e "$block"
fi

fail() {
    echo "$prog: FAIL: $*" >&2
    exit 1
}

if [ "${1:-}" != --inside ]; then
    # ---- outside: checks, a snapshot of the real files, the namespace.
    guide=$1 build=$2 prefix=$3 sysconfdir=$4 debdir=${5:-}
    skip() {
        if [ "${CI:-}" = true ]; then
            fail "$*"
        fi
        echo "$prog: SKIP: $*"
        exit 77
    }
    [ "$(id -u)" -eq 0 ] || skip "needs root (useradd, runuser)"
    for p in unshare mount runuser useradd softhsm2-util openssl \
        gss-server gss-client stdbuf; do
        command -v "$p" >/dev/null 2>&1 || skip "$p not found"
    done
    unshare --mount --propagation private true 2>/dev/null ||
        skip "cannot create a mount namespace"
    snapshot() {
        for p in /etc/passwd /etc/group /etc/shadow /etc/gss /etc/gss/mech \
            /etc/gss/mech.d /etc/gss/mech.d/* /etc/gss-pkcs11 \
            "$sysconfdir/gss-pkcs11" /etc/softhsm/softhsm2.conf \
            /var/lib/softhsm/tokens /var/lib/softhsm/tokens/* "$prefix/bin" \
            "$prefix/bin/gssp11"; do
            if [ -e "$p" ]; then
                stat -c '%n %s %Y %a %U' "$p"
                [ -f "$p" ] && md5sum "$p"
            else
                echo "$p absent"
            fi
        done
    }
    before=$(snapshot 2>&1)
    work=$(mktemp -d "${TMPDIR:-/tmp}/gp11-walk.XXXXXX") || exit 1
    trap 'rm -rf --one-file-system "$work"' EXIT
    trap 'exit 1' HUP INT PIPE TERM
    env -u GSS_MECH_CONFIG -u GSS_PKCS11_CONF -u SOFTHSM2_CONF \
        -u GSS_PKCS11_DEBUG unshare --mount --propagation private \
        sh "$0" --inside "$guide" "$build" "$prefix" "$sysconfdir" "$work" \
        "$(readlink /proc/self/ns/mnt)" "$debdir"
    rc=$?
    after=$(snapshot 2>&1)
    if [ "$before" != "$after" ]; then
        echo "$prog: FAIL: the machine's own files changed:" >&2
        printf '%s\n' "$before" >"$work/before"
        printf '%s\n' "$after" >"$work/after"
        diff -u "$work/before" "$work/after" >&2
        exit 1
    fi
    echo "ok: the machine's own files are unchanged"
    exit "$rc"
fi

# ---- inside the outer namespace: the installation, then the blocks.
shift
guide=$1 build=$2 prefix=$3 sysconfdir=$4 work=$5 outside_ns=$6 debdir=$7
my_ns=$(readlink /proc/self/ns/mnt)
if [ -z "$my_ns" ] || [ "$my_ns" = "$outside_ns" ]; then
    fail "--inside outside a private mount namespace"
fi
scratch=$work/scratch
mkdir "$scratch" && mount -t tmpfs -o mode=0755 gp11-walk "$scratch" || exit 1
echo "$my_ns" >"$scratch/outer-ns"
bg_pid=
bg_role=
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
    rc=$?
    trap - EXIT HUP INT PIPE TERM
    if [ -n "$bg_pid" ]; then
        kill "$bg_pid" 2>/dev/null
        wait "$bg_pid" 2>/dev/null
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

# The stand-in for the package: meson install into a DESTDIR (or the
# extracted packages), its prefix overlaid on the real one in each host,
# its mech.d snippet where the Debian package puts it (MIT reads only
# /etc/gss/mech.d).
case $build in
--root=*)
    ln -s "$(cd "${build#--root=}" && pwd)" "$scratch/dest" || exit 1
    ;;
*)
    if ! meson install -C "$build" --destdir "$scratch/dest" --no-rebuild \
        --quiet >"$work/install.log" 2>&1; then
        cat "$work/install.log" >&2
        fail "meson install --destdir"
    fi
    ;;
esac
mkdir -p "$scratch/inst-etc/gss/mech.d"
cp "$scratch/dest$sysconfdir/gss/mech.d/gss-pkcs11.conf" \
    "$scratch/inst-etc/gss/mech.d/" || fail "no mech.d snippet in the DESTDIR"
if [ "$sysconfdir" = /etc ]; then
    cp -R "$scratch/dest/etc/." "$scratch/inst-etc/"
fi
# A random port; the port is put into each block when it runs, so that a
# server that finds its port in use can be started on another.
new_port() {
    n=$(od -An -N2 -tu2 /dev/urandom | tr -dc 0-9)
    port=$((20000 + ${n:-0} % 40000))
}
new_port
sub_conf=
[ "$sysconfdir" = /etc ] || sub_conf="s|/etc/gss-pkcs11|$sysconfdir/gss-pkcs11|g;"
subst="s/acceptor\.example\.com/localhost/g;$sub_conf"

# Split the guide into blocks: blocks/NNN.KIND, in document order.
mkdir "$work/blocks"
awk -v dir="$work/blocks" '
    /^```/ && !inb {
        if (match($0, /walkthrough-[a-z-]+/)) {
            n++
            f = sprintf("%s/%03d.%s", dir, n, substr($0, RSTART + 12, RLENGTH - 12))
            inb = 1
            printf "" > f
            next
        }
    }
    /^```[ \t]*$/ && inb { inb = 0; close(f); next }
    inb { print > f }
' "$guide"
nblocks=$(find "$work/blocks" -type f | wc -l)
[ "$nblocks" -ge 10 ] || fail "only $nblocks walkthrough blocks in $guide"
echo "$prog: $nblocks blocks from $guide; sysconfdir $sysconfdir"

ran=0
for b in "$work/blocks"/*; do
    kind=${b##*.}
    num=$(basename "$b" ".$kind")
    sed -i "$subst" "$b"
    case $kind in
    packages)
        pk=$(sed -n 's/^ *apt-get install //p' "$b" | sed 's/\\$//' | tr -s ' ' '\n' |
            grep -v -e '^-' -e '^\./' -e '^$')
        [ -n "$pk" ] || fail "block $num: no apt-get install line"
        for p in $pk; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
                grep -q "install ok installed" ||
                fail "block $num names package '$p', which is not installed here"
        done
        echo "ok [$num packages]: installed: $(printf "%s" "$pk" | tr "\n" " ")"
        ;;
    install)
        if [ -n "$debdir" ]; then
            debs=$(grep -o '\./[^ ]*\.deb' "$b" | sed 's|^\./||')
            [ -n "$debs" ] || fail "block $num: names no ./FILE.deb"
            for d in $debs; do
                [ -f "$debdir/$d" ] || fail "block $num names $d, not in $debdir"
            done
            echo "ok [$num install]: built: $(printf '%s' "$debs" | tr '\n' ' '); stood in for by dpkg -x"
        else
            echo "ok [$num install]: stood in for by meson install --destdir"
        fi
        ;;
    copy)
        while IFS= read -r line; do
            case $line in *' -> '*) ;; *) continue ;; esac
            files=${line%%:*}
            route=${line#*: }
            from=$(echo "${route%% -> *}" | tr -d ' ')
            to=$(echo "${route#* -> }" | tr -d ' ')
            mkdir -p "$work/cwd/$to"
            for f in $files; do
                cp "$work/cwd/$from/$f" "$work/cwd/$to/" ||
                    fail "block $num: cannot copy $f from $from to $to"
            done
            echo "ok [$num copy]: $files: $from -> $to"
        done <"$b"
        ;;
    ca | acceptor | initiator | acceptor-background)
        role=${kind%-background}
        out=$work/out.$role
        if [ "$kind" = acceptor-background ]; then
            attempt=0
            while :; do
                attempt=$((attempt + 1))
                : >"$out"
                sed "s/-port 4444/-port $port/g" "$b" >"$work/run-$num.sh"
                unshare --mount --propagation private \
                    sh "$0" --host "$role" "$work/run-$num.sh" "$work" "$prefix" \
                    "$sysconfdir" >"$out" 2>&1 &
                bg_pid=$! bg_role=$role
                i=0
                until grep -q '^starting\.\.\.' "$out"; do
                    kill -0 "$bg_pid" 2>/dev/null || break
                    i=$((i + 1))
                    [ "$i" -lt 100 ] || fail "block $num: no 'starting...' in 10 s"
                    sleep 0.1
                done
                grep -q '^starting\.\.\.' "$out" && break
                wait "$bg_pid"
                bg_pid=''
                if grep -q 'binding socket' "$out" && [ "$attempt" -lt 5 ]; then
                    echo "port $port is in use, trying another"
                    new_port
                    continue
                fi
                cat "$out"
                fail "block $num ($role, background) exited"
            done
            echo "ok [$num $kind]: started on port $port"
        else
            sed "s/-port 4444/-port $port/g" "$b" >"$work/run-$num.sh"
            if ! unshare --mount --propagation private sh "$0" --host \
                "$role" "$work/run-$num.sh" "$work" "$prefix" "$sysconfdir" >"$out" 2>&1; then
                echo "----- block $num ($role):"
                cat "$b"
                echo "----- its output:"
                cat "$out"
                fail "block $num ($role) failed"
            fi
            echo "ok [$num $role]: $(grep -c . "$b") lines ran; output:"
            sed 's/^/    /' "$out"
        fi
        ran=$((ran + 1))
        ;;
    expect-*)
        role=${kind#expect-}
        out=$work/out.$role
        if [ "$bg_role" = "$role" ] && [ -n "$bg_pid" ]; then
            i=0
            while kill -0 "$bg_pid" 2>/dev/null && [ "$i" -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
            done
            wait "$bg_pid" || { cat "$out"; fail "block $num: the $role's background block failed"; }
            bg_pid=''
            bg_role=
        fi
        while IFS= read -r line; do
            [ "$line" = ... ] && continue
            grep -qxF -- "$line" "$out" || {
                cat "$out"
                fail "block $num: the $role's output lacks the line '$line'"
            }
        done <"$b"
        echo "ok [$num expect-$role]: $(grep -vc '^\.\.\.$' "$b") lines found in:"
        sed 's/^/    /' "$out"
        ;;
    *)
        fail "block $num: unknown kind walkthrough-$kind"
        ;;
    esac
done
[ "$ran" -ge 6 ] || fail "only $ran blocks ran"
[ -z "$bg_pid" ] || fail "the background block was never waited for"
echo "$prog: PASS: the walk-through of $guide ran literally"
exit 0
