#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check-hacking`: every `path/file.c:function` HACKING.md names is a
# file that exists and holds that name, so the walk through the code it
# gives stays true as the code moves.
#
# usage: hacking.sh SRC [FILE]   (FILE: the document, default SRC/HACKING.md)
set -u
src=$1 doc=${2:-$1/HACKING.md}
n=0 bad=0

while IFS=: read -r f fn; do
	n=$((n + 1))
	if [ ! -f "$src/$f" ]; then
		echo "FAIL ${doc##*/}: $f:$fn: no such file" >&2
		bad=$((bad + 1))
	elif ! grep -qw -- "$fn" "$src/$f"; then
		echo "FAIL ${doc##*/}: $f:$fn: $f has no $fn" >&2
		bad=$((bad + 1))
	fi
done < <(grep -o '`[A-Za-z0-9_./-]*\.[ch]:[A-Za-z_][A-Za-z0-9_]*' "$doc" |
	 tr -d '`' | sort -u)

if [ "$n" = 0 ]; then
	echo "FAIL ${doc##*/}: names no file:function at all" >&2
	exit 1
fi
echo "  ${doc##*/}: $n file:function names, $bad wrong"
[ "$bad" = 0 ]
