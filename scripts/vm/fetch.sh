#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch.sh FLAVOUR...: fetch a Debian kernel, its headers and a static busybox
# for one guest flavour into a cache outside the checkout, so the module can
# be built against those headers and booted under qemu.
#
#   flavours: x86_64-6.1 x86_64-6.12 arm64-6.1 ppc64le-6.1
#   cache:    ${XCALL_VM_CACHE:-/var/cache/xcall-vm}/<flavour>/
#
# Exact package names (ABI numbers) are resolved with apt-cache at run time
# from the flavour's meta package. The extracted tree is keyed by package
# version: a rerun with nothing new in the archive downloads nothing. Result:
#
#   <flavour>/current -> <version key>/
#   <flavour>/{kernel,kdir,modules,busybox,version} -> current/...
#     kernel   vmlinuz (vmlinux on ppc64le)
#     kdir     headers for `make -C kdir M=...` (Makefile points at the
#              private -common copy, scripts at the amd64 linux-kbuild)
#     modules  the image's /lib/modules/<release> tree (cpuid.ko on x86)
#     busybox  static busybox for the guest arch
#     version  "<release> <package version>", one line
#
# Needs root only to add the bookworm-backports source for x86_64-6.12 or a
# missing dpkg architecture.
set -euo pipefail

prog=fetch.sh
cache=${XCALL_VM_CACHE:-/var/cache/xcall-vm}
bpo_list=/etc/apt/sources.list.d/xcall-bookworm-backports.sources
updated=
retried=

die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "  FETCH    $*"; }

# flavour -> deb arch, meta package, upstream version prefix
flavour_info() {
	case "$1" in
	x86_64-6.1)	echo "amd64 linux-image-amd64 6.1." ;;
	x86_64-6.12)	echo "amd64 linux-image-amd64 6.12." ;;
	arm64-6.1)	echo "arm64 linux-image-arm64 6.1." ;;
	ppc64le-6.1)	echo "ppc64el linux-image-powerpc64le 6.1." ;;
	*)		return 1 ;;
	esac
}

apt_update() {
	[ -n "$updated" ] && return 0
	[ "$(id -u)" = 0 ] || die "package lists are stale or incomplete; run as root: apt-get update"
	say "apt-get update"
	# One foreign security index is known to fail; the others must still
	# be used, so a partial failure is not fatal here.
	apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null 2>&1 || true
	updated=1
}

# The 6.12 line comes from bookworm-backports: mirror the URI of the
# system's own Debian source in a sources file of ours.
ensure_backports() {
	local uri
	grep -rqs 'bookworm-backports' /etc/apt/sources.list \
		/etc/apt/sources.list.d/ && return 0
	[ "$(id -u)" = 0 ] || die "no bookworm-backports apt source; run as root once to add $bpo_list"
	uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/*$/\1/p' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
	[ -n "$uri" ] || uri=http://deb.debian.org/debian
	say "adding $bpo_list ($uri)"
	cat >"$bpo_list" <<EOS
# Added by xcall scripts/vm/fetch.sh: Debian's 6.12 kernel line, for the
# module's guest tests. Backports have priority 100: nothing is upgraded.
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Architectures: amd64
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	updated=
	apt_update
}

ensure_arch() {
	[ "$1" = "$(dpkg --print-architecture)" ] && return 0
	dpkg --print-foreign-architectures | grep -qx "$1" && return 0
	[ "$(id -u)" = 0 ] || die "run as root: dpkg --add-architecture $1 && apt-get update"
	say "dpkg --add-architecture $1"
	dpkg --add-architecture "$1"
	updated=
	apt_update
}

# Newest version of package $1 (arch-qualified) starting with prefix $2.
newest() {
	apt-cache madison "$1" 2>/dev/null |
		awk -F'|' -v p="$2" '{ gsub(/ /, "", $2) }
			index($2, p) == 1 { print $2 }' |
		sort -u | sort -V -r | head -n1
}

# Field $3 of package $1 at version $2.
field() {
	apt-cache show "$1=$2" 2>/dev/null |
		awk -v f="$3:" '$1 == f { sub(/^[^:]*: */, ""); print; exit }'
}

# Download $1 (name:arch=version) into the current directory.
download() {
	local out
	out=$(apt-get download -q -o APT::Sandbox::User=root "$1" 2>&1) &&
		return 0
	echo "$out" >&2
	echo "$prog: download of $1 failed" >&2
	return 1
}

# Sets img ver hdr common kbuild bbver for flavour $1 (arch $2, meta package
# $3, version prefix $4) from the package lists.
resolve() {
	local fl=$1 arch=$2 meta=$3 pfx=$4 mver hdeps
	mver=$(newest "$meta:$arch" "$pfx")
	if [ -z "$mver" ]; then
		apt_update
		mver=$(newest "$meta:$arch" "$pfx")
	fi
	[ -n "$mver" ] || die "$fl: no $meta:$arch $pfx* in the package lists"

	# linux-image-<abi>-<flavour> (= version): the real image package.
	img=$(field "$meta:$arch" "$mver" Depends |
		tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*\) (= \(.*\))$/\1 \2/p' |
		head -n1)
	[ -n "$img" ] || die "$fl: cannot resolve the image package of $meta $mver"
	read -r img ver <<<"$img"
	hdr=${img/linux-image-/linux-headers-}
	hdeps=$(field "$hdr:$arch" "$ver" Depends | tr ',|' '\n' | sed 's/^ *//')
	common=$(echo "$hdeps" | sed -n 's/^\(linux-headers-[^ ]*-common\)\( .*\)\{0,1\}$/\1/p' | head -n1)
	kbuild=$(echo "$hdeps" | sed -n 's/^\(linux-kbuild-[^ ]*\)\( .*\)\{0,1\}$/\1/p' | head -n1)
	if [ -z "$common" ] || [ -z "$kbuild" ]; then
		die "$fl: cannot resolve -common/linux-kbuild of $hdr $ver"
	fi
	bbver=$(newest "busybox-static:$arch" "")
	[ -n "$bbver" ] || die "$fl: no busybox-static:$arch in the package lists"
}

lists_sig() {
	(cd /var/lib/apt/lists && ls -l --time-style=+%s -- *Packages*) |
		md5sum | cut -d' ' -f1
}

fetch_one() {
	local fl=$1 info arch meta pfx sig key dir tmp rel kfile f
	local img ver hdr common kbuild bbver
	info=$(flavour_info "$fl") || die "unknown flavour '$fl' (x86_64-6.1 x86_64-6.12 arm64-6.1 ppc64le-6.1)"
	read -r arch meta pfx <<<"$info"

	ensure_arch "$arch"
	[ "$fl" = x86_64-6.12 ] && ensure_backports

	# apt-cache takes seconds a call here: reuse the last resolution while
	# the package lists are unchanged.
	sig=$(lists_sig)
	if [ -z "$updated" ] && [ -s "$cache/$fl/resolved" ] &&
	   [ "$(sed -n 1p "$cache/$fl/resolved")" = "$sig" ]; then
		read -r img ver common kbuild bbver < <(sed -n 2p "$cache/$fl/resolved")
		hdr=${img/linux-image-/linux-headers-}
	else
		resolve "$fl" "$arch" "$meta" "$pfx"
		sig=$(lists_sig)
		printf '%s\n%s %s %s %s %s\n' "$sig" "$img" "$ver" "$common" \
			"$kbuild" "$bbver" >"$cache/$fl/resolved"
	fi

	# Kbuild writes these paths into make rules: no '%', ':' or '~'.
	key=$(echo "${ver}_bb${bbver}" | tr -c 'A-Za-z0-9.\n-' '_')
	dir=$cache/$fl/$key
	if [ -e "$dir/.complete" ]; then
		say "$fl: $img $ver (cached)"
	else
		say "$fl: $img $ver, $common, $kbuild:amd64, busybox $bbver"
		rm -rf "$dir"
		tmp=$dir.tmp
		rm -rf "$tmp"
		mkdir -p "$tmp/debs" "$tmp/root"
		if ! (cd "$tmp/debs" &&
		      download "$img:$arch=$ver" &&
		      download "$hdr:$arch=$ver" &&
		      download "$common:all=$ver" &&
		      download "$kbuild:amd64=$ver" &&
		      download "busybox-static:$arch=$bbver"); then
			rm -rf "$tmp" "$cache/$fl/resolved"
			# The archive drops superseded versions: refresh the
			# lists, resolve again, try once more.
			[ -z "$retried" ] || die "$fl: downloads failed"
			retried=1
			apt_update
			fetch_one "$fl"
			return
		fi
		for f in "$tmp"/debs/*.deb; do
			dpkg-deb -x "$f" "$tmp/root" || die "$fl: cannot extract $f"
		done
		rm -rf "$tmp/debs"

		rel=${img#linux-image-}
		kfile=vmlinuz
		[ "$arch" = ppc64el ] && kfile=vmlinux
		[ -f "$tmp/root/boot/$kfile-$rel" ] ||
			die "$fl: no /boot/$kfile-$rel in $img"
		[ -d "$tmp/root/lib/modules/$rel" ] ||
			die "$fl: no /lib/modules/$rel in $img"
		[ -d "$tmp/root/usr/src/$hdr" ] || die "$fl: no /usr/src/$hdr"

		# The flavour's one-line Makefile names /usr/src/...-common:
		# point it at the private copy.
		sed -i "s|/usr/src/$common|$dir/root/usr/src/$common|g" \
			"$tmp/root/usr/src/$hdr/Makefile"
		grep -q "$dir/root/usr/src/$common" \
			"$tmp/root/usr/src/$hdr/Makefile" ||
			die "$fl: unexpected $hdr/Makefile"

		ln -s "root/boot/$kfile-$rel" "$tmp/kernel"
		ln -s "root/usr/src/$hdr" "$tmp/kdir"
		ln -s "root/lib/modules/$rel" "$tmp/modules"
		ln -s root/bin/busybox "$tmp/busybox"
		echo "$rel $ver" >"$tmp/version"
		touch "$tmp/.complete"
		mv -T "$tmp" "$dir"
	fi

	# Switch current atomically; stable names resolve through it.
	ln -sfn "$key" "$cache/$fl/current.new"
	mv -T "$cache/$fl/current.new" "$cache/$fl/current"
	for f in kernel kdir modules busybox version; do
		[ -L "$cache/$fl/$f" ] || ln -sfn "current/$f" "$cache/$fl/$f"
	done
	# Drop superseded versions (the flavour lock is held).
	for f in "$cache/$fl"/*/; do
		f=${f%/}
		[ "${f##*/}" = "$key" ] || [ -L "$f" ] || rm -rf "$f"
	done
}

[ $# -gt 0 ] || die "usage: $prog FLAVOUR... (x86_64-6.1 x86_64-6.12 arm64-6.1 ppc64le-6.1)"
mkdir -p "$cache"
for fl in "$@"; do
	flavour_info "$fl" >/dev/null ||
		die "unknown flavour '$fl' (x86_64-6.1 x86_64-6.12 arm64-6.1 ppc64le-6.1)"
done
for fl in "$@"; do
	mkdir -p "$cache/$fl"
	exec 9>"$cache/$fl/.lock"
	flock 9
	fetch_one "$fl"
	exec 9>&-
done
