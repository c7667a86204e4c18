#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build.sh FLAVOUR: build what a guest of FLAVOUR runs, from the kernel
# headers fetch.sh cached:
#   $B/vm/<flavour>/kmod/xcall.ko       the module (fails on any warning)
#   $B/vm/user-<arch>/tests/vm/*        static test and bench programs
#   $B/vm/user-<arch>/cli/xcall         the static CLI
# Environment: SRC (checkout, default: this script's), B (build dir, default
# $SRC/build), XCALL_VM_CACHE, V=1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SRC=${SRC:-$(cd "$here/../.." && pwd)}
B=${B:-$SRC/build}
cache=${XCALL_VM_CACHE:-/var/cache/xcall-vm}
fl=${1:-}
v=
[ "${V:-}" = 1 ] && v=V=1

# shellcheck source=scripts/vm/flavour.sh
. "$here/flavour.sh"
flavour "$fl" || { echo "build.sh: unknown flavour '$fl'" >&2; exit 2; }

"$here/fetch.sh" "$fl"

echo "  MODULE   $fl ($(cat "$cache/$fl/version"))"
make -s -f "$SRC/Makefile" O="$B/vm/$fl" module KDIR="$cache/$fl/kdir" \
	ARCH="$karch" CROSS_COMPILE="$cross" $v

echo "  USER     $debarch (static)"
cc=()
if [ -n "$cross" ]; then
	sr=$("$here/../sysroot.sh" "$debarch")
	cc=(CC="${cross}gcc -isystem $sr/include -L$sr/lib")
fi
make -s -j"$(nproc)" -f "$SRC/Makefile" O="$B/vm/user-$debarch" STATIC=1 \
	CROSS_COMPILE="$cross" "${cc[@]}" $v vm-progs
