#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch.sh FLAVOUR...: fetch what the guests of these flavours boot (a
# Debian kernel, its headers, a static busybox; QEMU 10 from
# bookworm-backports for the flavours that need it) into the cache, with the
# private apt of common.sh: the machine's apt sources, package lists and
# dpkg architectures are never touched, and no root is needed.
#
#   kernels:  $cache/kernel-<kid>/   (kid: flavour.sh, e.g. amd64-6.12)
#     current -> <version key>/
#     kernel   vmlinuz (vmlinux on ppc64el)
#     kdir     headers for `make -C kdir M=...` (Makefile points at the
#              private -common copy, scripts at the amd64 linux-kbuild)
#     modules  the image's /lib/modules/<release> tree (cpuid.ko on x86)
#     busybox  static busybox for the guest arch
#     version  "<release> <package version>", one line
#   QEMU:     $cache/qemu-bpo/current/root/usr/{bin,share}
#
# Exact package names (ABI numbers) are resolved from the meta packages at
# run time; trees are keyed by package version, so a rerun with nothing new
# downloads nothing. Superseded versions vanish from the archive: a failed
# download refreshes the lists and resolves again, once.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/common.sh
. "$here/common.sh"
prog=fetch.sh

die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "  FETCH    $*"; }

# Download the packages named into $1/debs, unpack them into $1/root.
# Fails (and says what) when a download fails.
get_debs() {
	local dir=$1 f
	shift
	mkdir -p "$dir/debs" "$dir/root"
	(cd "$dir/debs" && xapt_download "$@") || return 1
	for f in "$dir"/debs/*.deb; do
		dpkg-deb -x "$f" "$dir/root" || die "cannot extract $f"
	done
	rm -rf "$dir/debs"
}

# Resolve the packages of kernel $kid (meta package $kpkg:$debarch, version
# prefix $kver): prints "img ver common kbuild bbver".
resolve_kernel() {
	local mver img ver hdr hdeps common kbuild bbver
	mver=$(xapt_newest "$kpkg:$debarch" "$kver")
	[ -n "$mver" ] || { echo "$kid: no $kpkg:$debarch $kver* in the package lists" >&2; return 1; }
	# linux-image-<abi>-<flavour> (= version): the real image package.
	img=$(xapt_field "$kpkg:$debarch" "$mver" Depends |
		tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*\) (= \(.*\))$/\1 \2/p' |
		head -n1)
	[ -n "$img" ] || { echo "$kid: cannot resolve the image package of $kpkg $mver" >&2; return 1; }
	read -r img ver <<<"$img"
	hdr=${img/linux-image-/linux-headers-}
	hdeps=$(xapt_field "$hdr:$debarch" "$ver" Depends | tr ',|' '\n' | sed 's/^ *//')
	# -common, or -common-rt for the PREEMPT_RT flavour.
	common=$(echo "$hdeps" | sed -n 's/^\(linux-headers-[^ ]*-common\(-rt\)\{0,1\}\)\( .*\)\{0,1\}$/\1/p' | head -n1)
	kbuild=$(echo "$hdeps" | sed -n 's/^\(linux-kbuild-[^ ]*\)\( .*\)\{0,1\}$/\1/p' | head -n1)
	if [ -z "$common" ] || [ -z "$kbuild" ]; then
		echo "$kid: cannot resolve -common/linux-kbuild of $hdr $ver" >&2
		return 1
	fi
	bbver=$(xapt_newest "busybox-static:$debarch" "")
	[ -n "$bbver" ] || { echo "$kid: no busybox-static:$debarch in the package lists" >&2; return 1; }
	echo "$img $ver $common $kbuild $bbver"
}

# $1: the cache entry; $2...: how to resolve. Reuses the last resolution
# while the package lists are unchanged (apt-cache takes seconds a call).
resolved() {
	local top=$1 sig
	shift
	sig=$(xapt_sig)
	if [ -s "$top/resolved" ] && [ "$(sed -n 1p "$top/resolved")" = "$sig" ]; then
		sed -n 2p "$top/resolved"
		return 0
	fi
	"$@" >"$top/resolved.new" || return 1
	{ echo "$sig"; cat "$top/resolved.new"; } >"$top/resolved"
	rm -f "$top/resolved.new"
	sed -n 2p "$top/resolved"
}

fetch_kernel() {
	local top=$cache/kernel-$kid r img ver hdr common kbuild bbver key dir tmp rel
	r=$(resolved "$top" resolve_kernel) || return 1
	read -r img ver common kbuild bbver <<<"$r"
	hdr=${img/linux-image-/linux-headers-}
	# Kbuild writes these paths into make rules: no '%', ':' or '~'.
	key=$(echo "${ver}_bb${bbver}" | tr -c 'A-Za-z0-9.\n-' '_')
	dir=$top/$key
	if [ -e "$dir/.complete" ]; then
		say "$kid: $img $ver (cached)"
	else
		say "$kid: $img $ver, $common, $kbuild:amd64, busybox $bbver"
		tmp=$dir.tmp
		rm -rf "$dir" "$tmp"
		get_debs "$tmp" "$img:$debarch=$ver" "$hdr:$debarch=$ver" \
			"$common:all=$ver" "$kbuild:amd64=$ver" \
			"busybox-static:$debarch=$bbver" || { rm -rf "$tmp"; return 1; }
		rel=${img#linux-image-}
		[ -f "$tmp/root/boot/$kfile-$rel" ] || die "$kid: no /boot/$kfile-$rel in $img"
		[ -d "$tmp/root/lib/modules/$rel" ] || die "$kid: no /lib/modules/$rel in $img"
		[ -d "$tmp/root/usr/src/$hdr" ] || die "$kid: no /usr/src/$hdr"
		# The flavour's one-line Makefile names /usr/src/...-common:
		# point it at the private copy.
		sed -i "s|/usr/src/$common|$dir/root/usr/src/$common|g" \
			"$tmp/root/usr/src/$hdr/Makefile"
		grep -q "$dir/root/usr/src/$common" "$tmp/root/usr/src/$hdr/Makefile" ||
			die "$kid: unexpected $hdr/Makefile"
		ln -s "root/boot/$kfile-$rel" "$tmp/kernel"
		ln -s "root/usr/src/$hdr" "$tmp/kdir"
		ln -s "root/lib/modules/$rel" "$tmp/modules"
		ln -s root/bin/busybox "$tmp/busybox"
		echo "$rel $ver" >"$tmp/version"
		touch "$tmp/.complete"
		mv -T "$tmp" "$dir"
	fi
	switch_current "$top" "$key" kernel kdir modules busybox version
}

# QEMU 10 (x2APIC under TCG needs >= 8.1) and the SeaBIOS it wants, from
# bookworm-backports, unpacked privately: the system's QEMU stays.
qemu_pkgs="qemu-system-x86 qemu-system-common qemu-system-data seabios"
resolve_qemu() {
	local p v out=
	for p in $qemu_pkgs; do
		v=$(xapt_cache madison "$p:amd64" 2>/dev/null |
			awk -F'|' '/bookworm-backports/ { gsub(/ /, "", $2); print $2 }' |
			sort -V -r | head -n1)
		[ -n "$v" ] || { echo "qemu: no $p in bookworm-backports" >&2; return 1; }
		out="$out $p=$v"
	done
	echo "${out# }"
}

fetch_qemu() {
	local top=$cache/qemu-bpo r key dir tmp p arch missing
	r=$(resolved "$top" resolve_qemu) || return 1
	key=$(echo "$r" | md5sum | cut -c1-12)
	dir=$top/$key
	if [ -e "$dir/.complete" ]; then
		say "qemu: ${r%% *} (cached)"
	else
		say "qemu: $r"
		tmp=$dir.tmp
		rm -rf "$dir" "$tmp"
		set --
		for p in $r; do
			arch=amd64
			case "${p%%=*}" in qemu-system-data|seabios) arch=all ;; esac
			set -- "$@" "${p%%=*}:$arch=${p#*=}"
		done
		get_debs "$tmp" "$@" || { rm -rf "$tmp"; return 1; }
		missing=$(ldd "$tmp/root/usr/bin/qemu-system-x86_64" | awk '/not found/ { print $1 }')
		[ -z "$missing" ] || die "qemu: the private QEMU lacks $missing (add its package to scripts/deps/vm.txt)"
		"$tmp/root/usr/bin/qemu-system-x86_64" --version >/dev/null ||
			die "qemu: the private QEMU does not run"
		touch "$tmp/.complete"
		mv -T "$tmp" "$dir"
	fi
	switch_current "$top" "$key"
}

# Run $1 under the entry's lock; on failure refresh the lists and retry
# once (a superseded version is gone from the archive).
with_retry() {
	local top=$1
	shift
	mkdir -p "$top"
	exec 9>"$top/.lock"
	flock 9
	if ! "$@"; then
		rm -f "$top/resolved"
		xapt_update || die "apt update failed"
		"$@" || die "${top##*/}: download failed twice"
	fi
	exec 9>&-
}

[ $# -gt 0 ] || die "usage: $prog FLAVOUR... (one of: $(vm_names | tr '\n' ' '))"
names=$(vm_expand "$@") || exit 2
mkdir -p "$cache"
xapt_ready || die "no package lists"
done_kids=" " want_qemu=
for fl in $names; do
	flavour "$fl"
	case "$qemu_spec" in bpo:*) want_qemu=1 ;; esac
	case "$done_kids" in *" $kid "*) continue ;; esac
	done_kids="$done_kids$kid "
	with_retry "$cache/kernel-$kid" fetch_kernel
done
[ -z "$want_qemu" ] || with_retry "$cache/qemu-bpo" fetch_qemu
