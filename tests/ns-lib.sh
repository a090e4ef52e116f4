# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh disable=SC2154 # ns_prog, ns_scratch: the caller's
#
# Helpers for tests that run in a private mount namespace and make parts
# of the machine's file tree writable there, or put files in place, without
# ever changing the machine's own files (install-mit.sh,
# admin-walkthrough.sh). Sourced; the caller sets:
#   ns_prog     the name in messages ("install-mit: FAIL: ...")
#   ns_scratch  a directory on a tmpfs mounted in the namespace (overlay
#               upper layers cannot live on an overlay, as / is in a
#               container)
# and calls these only inside the namespace.

ns_layers=0

# ns_overlay DIR LAYER [LOWER]: DIR becomes writable in this namespace:
# an overlay whose upper layer is LAYER/upper (kept across mounts, so a
# later namespace can mount the same DIR with the same LAYER and see what
# an earlier one wrote). LOWER, if given, is a directory whose files are
# seen above DIR's own (an installed tree). Mounts under DIR are bound
# again on top of it (a copy of DIR's mount tree keeps them reachable).
ns_overlay() {
    dir=$1 l=$2 lower=${3:-}
    mkdir -p "$l/upper" "$l/work"
    subs=$(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' \
        /proc/self/mountinfo | grep -v "^$ns_scratch/")
    if [ -n "$subs" ]; then
        mkdir -p "$l/old"
        mount --rbind "$dir" "$l/old" || return 1
    fi
    if ! mount -t overlay gp11-overlay \
        -o "lowerdir=${lower:+$lower:}$dir,upperdir=$l/upper,workdir=$l/work" \
        "$dir"; then
        echo "$ns_prog: FAIL: cannot put an overlay over $dir" >&2
        return 1
    fi
    for s in $subs; do
        mount --bind "$l/old/${s#"$dir"/}" "$s" || return 1
    done
}

# open_dir DIR: DIR becomes writable, with a fresh upper layer.
open_dir() {
    ns_layers=$((ns_layers + 1))
    ns_overlay "$1" "$ns_scratch/layer$ns_layers"
}

# place SRC DST: SRC (file or directory) seen at DST. A DST that does not
# exist is created in a writable overlay over its nearest existing
# ancestor (never over /).
place() {
    src=$1 dst=$2
    if [ ! -e "$dst" ] && [ ! -L "$dst" ]; then
        anc=$(dirname "$dst")
        while [ ! -d "$anc" ]; do
            anc=$(dirname "$anc")
        done
        if [ "$anc" = / ]; then
            echo "$ns_prog: FAIL: will not put an overlay over / for $dst" >&2
            return 1
        fi
        open_dir "$anc" || return 1
        mkdir -p "$(dirname "$dst")"
        if [ -d "$src" ]; then
            mkdir "$dst"
        else
            : >"$dst"
        fi
    fi
    if mount --bind "$src" "$dst"; then
        echo "placed $dst <- $src"
    else
        echo "$ns_prog: FAIL: mount --bind $src $dst" >&2
        return 1
    fi
}
