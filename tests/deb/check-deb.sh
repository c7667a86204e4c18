#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check-deb`, over what `make deb` built: lintian finds no error in
# the packages (its warnings are printed); each package holds the files
# it must and the maintainer scripts it must; and a program built
# outside the tree against libxcall-dev and libxcall1, unpacked into a
# root of their own, finds them through `pkg-config libxcall` alone and
# runs. That dh_missing refuses a package build that leaves an installed
# file out of every package (debhelper compat 13) is what makes the
# lists below complete: the bash completion ships once the Makefile
# installs it.
#
# usage: check-deb.sh SRC DEBDIR DEB_VERSION
set -u
src=$1 debdir=$2 ver=$3
. "$src/tests/common/lib.sh"

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# deb PACKAGE: the .deb of PACKAGE.
deb() {
	local a=$arch
	case $1 in xcall-dkms|python3-xcall) a=all ;; esac
	echo "$debdir/${1}_${ver}_$a.deb"
}

# lintian: errors fail, warnings and the rest are printed.
changes=$(echo "$debdir"/xcall_"$ver"_*.changes)
echo "  LINTIAN  ${changes##*/}"
if lintian --fail-on error --display-info "$changes" >"$tmp/lintian" 2>&1
then
	pass
else
	fail "lintian reports errors"
fi
grep -v '^running with root privileges' "$tmp/lintian" | sed 's/^/    /'
echo "    lintian: $(grep -c '^E: ' "$tmp/lintian") errors," \
	"$(grep -c '^W: ' "$tmp/lintian") warnings"

# has PACKAGE PATH...: each PATH is in PACKAGE's file list.
has() {
	local p=$1 f
	shift
	if ! dpkg-deb -c "$(deb "$p")" >"$tmp/list.$p"; then
		fail "$p: no package $(deb "$p")"
		return
	fi
	for f in "$@"; do
		if grep -qE "[[:space:]]\./${f}( -> .*)?\$" "$tmp/list.$p"; then
			pass
		else
			fail "$p: no $f"
		fi
	done
}

# script PACKAGE FILE ERE WHAT: PACKAGE's control FILE matches ERE.
script() {
	mkdir -p "$tmp/ctl.$1"
	dpkg-deb -e "$(deb "$1")" "$tmp/ctl.$1" 2>/dev/null
	if grep -qE "$3" "$tmp/ctl.$1/$2" 2>/dev/null; then
		pass
	else
		fail "$1: $2 does not $4"
	fi
}

echo "  CHECK    package contents"
has xcall usr/bin/xcall usr/share/man/man1/xcall.1.gz \
	usr/share/bash-completion/completions/xcall
has libxcall1 "usr/lib/$ma/libxcall.so.1"
has python3-xcall usr/lib/python3/dist-packages/xcall.py
has libxcall-dev usr/include/libxcall.h usr/include/xcall.h \
	usr/include/xcall/wire.h usr/include/xcall_version.h \
	"usr/lib/$ma/libxcall.a" "usr/lib/$ma/libxcall.so" \
	"usr/lib/$ma/pkgconfig/libxcall.pc" usr/share/man/man3/libxcall.3.gz
has xcalld usr/sbin/xcalld etc/xcall/xcalld.conf \
	lib/systemd/system/xcalld.service lib/systemd/system/xcalld.socket \
	usr/lib/sysusers.d/xcalld.conf usr/lib/tmpfiles.d/xcalld.conf \
	usr/share/man/man8/xcalld.8.gz usr/share/man/man5/xcalld.conf.5.gz \
	usr/share/man/man7/xcall-protocol.7.gz
dk=usr/src/xcall-${ver//\~/-}
has xcall-dkms "$dk/dkms.conf" "$dk/Kbuild" "$dk/xcall.c" "$dk/compat.h" \
	"$dk/uapi/xcall.h" "$dk/VERSION" lib/udev/rules.d/60-xcall.rules \
	usr/lib/modules-load.d/xcall.conf usr/lib/sysusers.d/xcall-dkms.conf \
	usr/share/man/man4/xcall.4.gz

script xcalld conffiles '^/etc/xcall/xcalld\.conf$' "name the conffile"
script xcalld postinst 'systemd-sysusers .*xcalld\.conf' "make the user"
script xcalld postinst 'systemd-tmpfiles .*--create xcalld\.conf' \
	"make /run/xcall"
script xcalld postinst "deb-systemd-helper enable 'xcalld\.socket'" \
	"enable the socket"
script xcalld postrm 'userdel xcalld' "remove the user on purge"
script xcall-dkms postinst 'dkms/common\.postinst' "build with dkms"
script xcall-dkms prerm 'dkms remove' "remove the module from dkms"
script xcall-dkms postinst 'modprobe xcall' "load the module"

# A program outside the tree, against the two library packages alone.
echo "  CHECK    pkg-config libxcall, outside the tree"
root=$tmp/root
for p in libxcall1 libxcall-dev; do
	dpkg-deb -x "$(deb "$p")" "$root" || fail "$p: does not unpack"
done
cat >"$tmp/prog.c" <<'PROG'
#include <libxcall.h>
#include <xcall/wire.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	int n = xcall_fn_count();

	printf("%s %d\n", XCALL_VERSION, n);
	return n > 0 && strcmp(XCALL_VERSION, argv[1]) == 0 ? 0 : 1;
}
PROG
export PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_LIBDIR=$root/usr/lib/$ma/pkgconfig
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
if flags=$(pkg-config --cflags --libs libxcall); then
	echo "    pkg-config --cflags --libs libxcall: ${flags//$root/<root>}"
	pass
else
	fail "pkg-config --cflags --libs libxcall fails"
fi
[ "$(pkg-config --modversion libxcall)" = "$(cat "$src/VERSION")" ] &&
	pass || fail "libxcall.pc's version is not VERSION"
# Built there, it must read every xcall header from the unpacked root,
# and load libxcall.so.1 from it.
if ! (cd "$tmp" && ${CC:-cc} -Wall -Werror -MD -MF prog.deps -o prog prog.c \
	$flags); then
	fail "the program does not build with pkg-config's flags"
	finish
fi
pass
if tr ' ' '\n' <"$tmp/prog.deps" | grep 'xcall.*\.h$' | grep -v "^$root/"
then
	fail "the program was built with headers not from the packages"
else
	pass
fi
lib=$root/usr/lib/$ma
if out=$(LD_LIBRARY_PATH=$lib "$tmp/prog" "$(cat "$src/VERSION")"); then
	echo "    prog: $out"
	pass
else
	fail "the program does not run: '$out'"
fi
if LD_LIBRARY_PATH=$lib ldd "$tmp/prog" | grep -q "libxcall\.so\.1 => $root/"
then
	pass
else
	fail "the program does not load the packaged libxcall.so.1"
fi

finish
