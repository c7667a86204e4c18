# SPDX-License-Identifier: GPL-2.0-only
# The library examples as a reader would use them: the EXAMPLES program of
# libxcall(3) and the README's library snippet, extracted, compiled with
# no -D_GNU_SOURCE (a reader's plain `cc prog.c -lxcall`), linked with the
# built libxcall.a and run on the threads backend.
#
# usage: examples.sh SRC LIBXCALL_A BUILD_DIR
# environment: CC, LIBS, CPPFLAGS (where the generated xcall_version.h is)

set -eu
src=$1 lib=$2 out=$3
cc=${CC:-cc}
libs=${LIBS:-}
mkdir -p "$out"

# The first .nf ... .fi block after .SH EXAMPLES, with groff's \e as \.
sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$src/man/libxcall.3" |
	sed -n '/^\.nf$/,/^\.fi$/p' | sed '1d;$d' |
	sed 's/\\e/\\/g' >"$out/man-example.c"
# The first ```c block of the README.
sed -n '/^```c$/,/^```$/p' "$src/README.md" | sed '1d;$d' \
	>"$out/readme-example.c"

for ex in man-example readme-example; do
	echo "  EXAMPLE  $ex"
	if ! [ -s "$out/$ex.c" ]; then
		echo "$ex: nothing extracted" >&2
		exit 1
	fi
	"$cc" -Wall -Werror ${CPPFLAGS:-} -I"$src/lib" -I"$src/kmod/uapi" \
		-o "$out/$ex" "$out/$ex.c" "$lib" $libs -pthread
	XCALL_BACKEND=threads "$out/$ex" >"$out/$ex.out"
	if ! [ -s "$out/$ex.out" ]; then
		echo "$ex: printed nothing" >&2
		exit 1
	fi
done
