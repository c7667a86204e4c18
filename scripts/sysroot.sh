#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# sysroot.sh ARCH: unpack the libraries that a cross build links for a
# foreign Debian architecture (arm64, ppc64el) into a private folder, and
# print its path: the static ones a guest test program links (libcheck,
# libsubunit, libnuma, liburing, libcap) and the shared libnuma that the
# cross-built libxcall.so and xcall link (`make check-cross`).
#
# The multiarch -dev:<arch> packages are not installed: they pull in
# libc6-dev:<arch>, which apt refuses on the CI machines whenever the host's
# linux-libc-dev is at a version the foreign index lacks. The cross
# compiler's own libc (libc6-dev-<arch>-cross) is complete; only these
# libraries and their headers are missing, and they are arch-independent C
# headers plus .a files. They come through the private apt of
# scripts/vm/common.sh (no root, no change to the machine's apt), keyed by
# package versions, like the kernels.
#
#   <cache>/sysroot-<arch>/current/{include,lib}   (cache: common.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/common.sh
. "$here/vm/common.sh"
prog=sysroot.sh
pkgs="check libsubunit-dev libnuma-dev libnuma1 liburing-dev libcap-dev"

die() { echo "$prog: $*" >&2; exit 1; }

arch=${1:-}
case "$arch" in
arm64)		triplet=aarch64-linux-gnu ;;
ppc64el)	triplet=powerpc64le-linux-gnu ;;
*)		die "usage: $prog arm64|ppc64el" ;;
esac
top=$cache/sysroot-$arch
mkdir -p "$top"
exec 9>"$top/.lock"
flock 9

xapt_ready >&2 || die "no package lists"
# apt-cache takes seconds: reuse the versions while the lists are unchanged.
sig=$( (echo "$pkgs"; xapt_sig) | md5sum | cut -d' ' -f1)
if [ -s "$top/resolved" ] && [ "$(sed -n 1p "$top/resolved")" = "$sig" ]; then
	vers=$(sed 1d "$top/resolved")
else
	q=
	for p in $pkgs; do q="$q $p:$arch"; done
	# Candidates: Debian 12's versions (backports only where asked for).
	# shellcheck disable=SC2086
	vers=$(xapt_cache policy $q 2>/dev/null |
		awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) }
		     $1 == "Candidate:" { print p "=" $2 }')
	[ "$(echo "$vers" | grep -vc '=(none)$')" = "$(echo "$pkgs" | wc -w)" ] ||
		die "not all of $pkgs are known for $arch: $vers"
	printf '%s\n%s\n' "$sig" "$vers" >"$top/resolved"
fi
key=$(echo "$vers" | md5sum | cut -d' ' -f1)
dir=$top/$key

if [ ! -e "$dir/.complete" ]; then
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp/debs"
	(
		cd "$dir.tmp/debs"
		# shellcheck disable=SC2086
		xapt_download $vers >&2 || die "download of $vers failed"
	) || exit 1
	for f in "$dir.tmp"/debs/*.deb; do
		dpkg-deb -x "$f" "$dir.tmp/root"
	done
	rm -rf "$dir.tmp/debs"
	mkdir -p "$dir.tmp/lib"
	cp -a "$dir.tmp/root/usr/lib/$triplet"/*.a \
		"$dir.tmp/root/usr/lib/$triplet"/libnuma.so* "$dir.tmp/lib/"
	mv "$dir.tmp/root/usr/include" "$dir.tmp/include"
	rm -rf "$dir.tmp/root"
	touch "$dir.tmp/.complete"
	mv -T "$dir.tmp" "$dir"
fi
ln -sfn "$key" "$top/current.new"
mv -T "$top/current.new" "$top/current"
for f in "$top"/*/; do
	f=${f%/}
	[ "${f##*/}" = "$key" ] || [ -L "$f" ] || rm -rf "$f"
done
echo "$top/current"
