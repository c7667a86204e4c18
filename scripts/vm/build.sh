#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build.sh FLAVOUR: build what a guest of FLAVOUR runs, from the kernel
# headers fetch.sh cached. Flavours that boot the same kernel share the
# module; flavours of one architecture share the programs.
#   $B/vm/k-<kid>/kmod/xcall.ko       the module (fails on any warning)
#   $B/vm/user-<arch>/tests/vm/*      static test and bench programs
#   $B/vm/user-<arch>/cli/xcall       the static CLI (and daemon/xcalld)
# Environment: SRC (checkout, default: this script's), B (build dir, default
# $SRC/build), XCALL_VM_CACHE, V=1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/common.sh
. "$here/common.sh"
v=
[ "${V:-}" = 1 ] && v=V=1

flavour "${1:-}" || { echo "build.sh: unknown flavour '${1:-}'" >&2; exit 2; }

"$here/fetch.sh" "$name"

# One build of a kernel's module or an arch's programs at a time, even when
# check.sh builds several flavours at once.
mkdir -p "$B/vm"
exec 9>"$B/vm/.build-$kid.lock"
flock 9
echo "  MODULE   $kid ($(cat "$cache/kernel-$kid/version"))"
make -s -f "$SRC/Makefile" O="$B/vm/k-$kid" module \
	KDIR="$cache/kernel-$kid/kdir" ARCH="$karch" CROSS_COMPILE="$cross" $v
exec 9>&-

exec 9>"$B/vm/.build-$debarch.lock"
flock 9
echo "  USER     $debarch (static)"
cc=()
if [ -n "$cross" ]; then
	sr=$("$here/../sysroot.sh" "$debarch")
	cc=(CC="${cross}gcc -isystem $sr/include -L$sr/lib")
fi
make -s -j"$(nproc)" -f "$SRC/Makefile" O="$B/vm/user-$debarch" STATIC=1 \
	CROSS_COMPILE="$cross" "${cc[@]}" $v vm-progs
