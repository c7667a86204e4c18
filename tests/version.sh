#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check-version`: the release is written once, in VERSION, and every
# built thing that says it must say the same: xcall --version, xcalld
# --version, the generated xcall_version.h, every manual page's .TH line,
# the DKMS tree (its directory, dkms.conf, VERSION). The module's own
# version is checked in the guests, where it is loaded (tests/vm/guest.sh).
#
# usage: version.sh SRC BUILD XCALL XCALLD
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

# The module is checked where it is loaded: every guest compares
# /sys/module/xcall/version and its file's .modinfo with xcall --version
# (tests/vm/guest.sh), in every kernel the matrix builds it for.

[ "$nfail" = 0 ] || exit 1
