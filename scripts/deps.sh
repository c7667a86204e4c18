#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages xcall needs. Groups are the files in
# scripts/deps/ (one package a line, '#' comments): `deps.sh build` is what
# `make run` needs, `deps.sh all` is every group (what `make check` needs).
# As root, missing packages are installed; otherwise one line says what to
# run as root, and the script fails. Only packages of the machine's own
# architecture: what other architectures the tests need (kernels, libraries
# for cross builds) comes through the private apt of scripts/vm/common.sh.
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
	s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$s" in ii*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "xcall: missing Debian packages; run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "xcall: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# An index that fails to download must not stop the install of packages
# that the others provide.
if [ ! -e /var/lib/apt/periodic/xcall-updated ]; then
	apt-get update -q || true
	mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/xcall-updated
fi
if ! apt-get install -y -q --no-install-recommends $missing; then
	apt-get update -q || true
	apt-get install -y -q --no-install-recommends $missing
fi
