#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages xcall needs. Groups are the files in
# scripts/deps/ (one package a line, '#' comments): `deps.sh build` is what
# `make run` needs, `deps.sh all` is every group (what `make check` needs).
# As root, missing packages are installed; otherwise the exact apt-get line
# is printed and the script fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
group=${1:-build}

if [ "$group" = all ]; then
	files=$(ls "$here"/deps/*.txt)
else
	files="$here/deps/$group.txt"
	[ -f "$files" ] || { echo "deps.sh: no group '$group'" >&2; exit 2; }
fi

want=$(sed -e 's/#.*//' $files | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=
for p in $want; do
	# An arch-qualified name (pkg:arm64) is checked as such.
	s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$s" in ii*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

archs=$(printf '%s\n' $missing | sed -n 's/^[^:]*:\(.*\)$/\1/p' | sort -u)
if [ "$(id -u)" != 0 ]; then
	echo "xcall: missing Debian packages:$missing" >&2
	for a in $archs; do
		echo "run as root: dpkg --add-architecture $a" >&2
	done
	echo "run as root: apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "xcall: installing:$missing"
added=
for a in $archs; do
	if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
		dpkg --add-architecture "$a"
		added=1
	fi
done
export DEBIAN_FRONTEND=noninteractive
# An index that fails to download (seen for one ppc64el security index)
# must not stop the install of packages that the others provide.
if [ -n "$added" ] || [ ! -e /var/lib/apt/periodic/xcall-updated ]; then
	apt-get update -q || true
	mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/xcall-updated
fi
if ! apt-get install -y -q --no-install-recommends $missing; then
	apt-get update -q || true
	apt-get install -y -q --no-install-recommends $missing
fi
