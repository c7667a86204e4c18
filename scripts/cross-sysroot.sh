#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cross-sysroot.sh DEBARCH DIR PKG...: unpack the Debian packages PKG of
# architecture DEBARCH (arm64, ppc64el) into DIR, without installing them.
#
# Why not multiarch `apt-get install libnuma-dev:arm64`: the -dev packages
# depend on libc6-dev:<arch>, which apt refuses whenever the host's
# linux-libc-dev is at a version the foreign index lacks (seen on the CI
# machines). A cross build needs only the headers and libraries, so they
# are unpacked into a private folder: -I DIR/usr/include,
# -L DIR/usr/lib/<triplet>. Needs the architecture in dpkg's list; as root
# it is added (and the index updated) when missing.
set -eu
arch=$1 dir=$2
shift 2
[ $# -gt 0 ] || { echo "usage: $0 DEBARCH DIR PKG..." >&2; exit 2; }

stamp="$dir/.unpacked"
want="$arch $*"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi

if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	if [ "$(id -u)" != 0 ]; then
		echo "cross-sysroot: run as root: dpkg --add-architecture $arch && apt-get update" >&2
		exit 1
	fi
	dpkg --add-architecture "$arch"
	apt-get update -q || true
fi

debs="$dir/debs"
rm -rf "$dir"
mkdir -p "$debs"
pkgs=
for p in "$@"; do
	pkgs="$pkgs $p:$arch"
done
# apt's sandbox user may not write here; root falls back with a warning.
if ! (cd "$debs" && apt-get download -q $pkgs 2>"$dir/apt.err"); then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -q >/dev/null 2>&1 || true
	fi
	(cd "$debs" && apt-get download -q $pkgs) || {
		echo "cross-sysroot: cannot download:$pkgs" >&2
		exit 1
	}
fi
for d in "$debs"/*.deb; do
	dpkg-deb -x "$d" "$dir"
done
echo "$want" >"$stamp"
