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
# headers plus .a files. Keyed by package versions, like fetch.sh.
#
#   ${XCALL_VM_CACHE:-/var/cache/xcall-vm}/sysroot-<arch>/current/{include,lib}
set -euo pipefail

prog=sysroot.sh
cache=${XCALL_VM_CACHE:-/var/cache/xcall-vm}
pkgs="check libsubunit-dev libnuma-dev libnuma1 liburing-dev libcap-dev"

die() { echo "$prog: $*" >&2; exit 1; }

arch=${1:-}
case "$arch" in
arm64)		triplet=aarch64-linux-gnu ;;
ppc64el)	triplet=powerpc64le-linux-gnu ;;
*)		die "usage: $prog arm64|ppc64el" ;;
esac
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	[ "$(id -u)" = 0 ] || die "run as root: dpkg --add-architecture $arch && apt-get update"
	dpkg --add-architecture "$arch"
	apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null 2>&1 || true
fi

top=$cache/sysroot-$arch
mkdir -p "$top"
exec 9>"$top/.lock"
flock 9

# apt-cache takes seconds: reuse the versions while the lists are unchanged.
sig=$( (echo "$pkgs"; cd /var/lib/apt/lists &&
	ls -l --time-style=+%s -- *Packages*) | md5sum | cut -d' ' -f1)
if [ -s "$top/resolved" ] && [ "$(sed -n 1p "$top/resolved")" = "$sig" ]; then
	vers=$(sed 1d "$top/resolved")
else
	q=
	for p in $pkgs; do q="$q $p:$arch"; done
	# shellcheck disable=SC2086
	vers=$(apt-cache policy $q 2>/dev/null |
		awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) }
		     $1 == "Candidate:" { print p "=" $2 }')
	printf '%s\n%s\n' "$sig" "$vers" >"$top/resolved"
fi
[ "$(echo "$vers" | grep -vc '=(none)$')" = "$(echo "$pkgs" | wc -w)" ] ||
	die "not all of $pkgs are known for $arch; run: apt-get update"
key=$(echo "$vers" | md5sum | cut -d' ' -f1)
dir=$top/$key

if [ ! -e "$dir/.complete" ]; then
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp/debs"
	(
		cd "$dir.tmp/debs"
		for v in $vers; do
			apt-get download -q -o APT::Sandbox::User=root "${v%%=*}=${v#*=}" >/dev/null ||
				die "download of $v failed"
		done
	)
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
