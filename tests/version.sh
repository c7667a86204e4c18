#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check-version`: the release is written once, in VERSION, and every
# built thing that says it must say the same: xcall --version, xcalld
# --version, the generated xcall_version.h, every manual page's .TH line,
# the DKMS tree (its directory, dkms.conf, VERSION) and the module's
# .modinfo. The module is built here when a kernel tree is at hand: KDIR
# when it has one (the running kernel's headers), else the first kernel of
# this machine's architecture that the guest tests cached
# (scripts/vm/fetch.sh); without either the module part is skipped, and
# the guests check theirs once loaded (tests/vm/guest.sh).
#
# usage: version.sh SRC BUILD XCALL XCALLD   (environment: KDIR, V)
set -u
src=$1 b=$2 xcall=$3 xcalld=$4
want=$(cat "$src/VERSION")
nfail=0

# check WHAT GOT: GOT must be VERSION.
check() {
	if [ "$2" = "$want" ]; then
		echo "  CHECK    $1: $2"
	else
		echo "FAIL version: $1 says '$2', VERSION '$want'" >&2
		nfail=$((nfail + 1))
	fi
}

# modinfo_version KO: the version= of its .modinfo (any architecture's).
modinfo_version() {
	if command -v modinfo >/dev/null; then
		modinfo -F version "$1"
	else
		objcopy -O binary --only-section=.modinfo "$1" /dev/stdout |
			tr '\0' '\n' | sed -n 's/^version=//p'
	fi
}

out=$("$xcall" --version)
check "xcall --version" "${out#xcall }"
out=$("$xcalld" --version)
check "xcalld --version" "${out#xcalld }"
check "xcall_version.h" "$(sed -n 's/^#define XCALL_VERSION[[:space:]]*"\(.*\)"$/\1/p' \
	"$b/include/xcall_version.h")"

for p in "$src"/man/*.[0-9]; do
	p=$b/man/${p##*/}
	# .TH NAME SECTION DATE "xcall VERSION" TITLE
	check "${p#"$b"/} .TH" \
		"$(sed -n 's/^\.TH [^"]*"xcall \([^"]*\)".*/\1/p' "$p")"
done

# `make dkms` leaves one tree in $b/dkms, named xcall-<its version>.
dk=$(echo "$b"/dkms/xcall-*)
check "DKMS tree ${dk#"$b"/}" "${dk##*/xcall-}"
check "dkms.conf PACKAGE_VERSION" \
	"$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$dk/dkms.conf")"
check "the DKMS tree's VERSION" "$(cat "$dk/VERSION")"

# The module: against KDIR, else against the kernel of the first flavour
# row of this machine's architecture whose headers fetch.sh cached, with
# that row's ARCH and CROSS_COMPILE.
karg=()
if [ -f "${KDIR:-}/Makefile" ]; then
	karg=(KDIR="$KDIR")
else
	# shellcheck source=scripts/vm/common.sh
	. "$src/scripts/vm/common.sh"
	arch=$(dpkg --print-architecture)
	for n in $(vm_names); do
		flavour "$n"
		if [ "$debarch" = "$arch" ] &&
		   [ -f "$cache/kernel-$kid/kdir/Makefile" ]; then
			karg=(KDIR="$cache/kernel-$kid/kdir" ARCH="$karch"
			      CROSS_COMPILE="$cross")
			break
		fi
	done
fi
if [ ${#karg[@]} = 0 ]; then
	echo "  SKIP     xcall.ko: no kernel tree (KDIR, or the guests' cache);" \
		"the guests check it"
else
	echo "  MODULE   ${karg[0]}"
	v=
	[ "${V:-}" = 1 ] && v=V=1
	# Not the calling make's flags (its O=, its jobserver): a make of its own.
	if MAKEFLAGS='' MFLAGS='' make -s -f "$src/Makefile" O="$b/version" \
		module "${karg[@]}" $v; then
		check "xcall.ko .modinfo" \
			"$(modinfo_version "$b/version/kmod/xcall.ko")"
	else
		echo "FAIL version: the module did not build" >&2
		nfail=$((nfail + 1))
	fi
fi

[ "$nfail" = 0 ] || exit 1
