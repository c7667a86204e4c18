#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The bash completion, cli/xcall.bash, driven without a terminal: each case
# sources it in a non-interactive bash, sets COMP_LINE, COMP_POINT,
# COMP_WORDS and COMP_CWORD as bash would for a line with the cursor at its
# end, calls _xcall and compares COMPREPLY with what xcall itself says:
# the commands and options of its --help, the names of `xcall list`, the
# backends of lib/xcall.c, the online CPUs and nodes of sysfs.
. "$(dirname "$0")/lib.sh"

script=$SRC/cli/xcall.bash

# comp LINE [WORD...]: $reply, the sorted COMPREPLY for LINE, with the
# cursor at its end. COMP_WORDS: the WORDs, else LINE split at blanks (and
# an empty word after a trailing blank).
comp() {
	reply=$(bash -c '
		. "$1" || exit 1
		COMP_LINE=$2 COMP_POINT=${#2}
		shift 2
		if [ $# -gt 0 ]; then
			COMP_WORDS=("$@")
		else
			read -ra COMP_WORDS <<<"$COMP_LINE"
			[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
		fi
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_xcall || exit 1
		for w in "${COMPREPLY[@]}"; do echo "$w"; done' \
		_ "$script" "$@" | sort)
}

# want WHAT EXPECTED LINE [WORD...]: the completion of LINE is EXPECTED
# (lines, in any order).
want() {
	local what=$1 exp
	exp=$(sort <<<"$2")
	shift 2
	comp "$@"
	[ "$reply" = "$exp" ] && pass ||
		fail "$what: '$*' gave '$(echo $reply)', want '$(echo $exp)'"
}

X=$XCALL

# The script names its function for xcall.
c=$(bash -c '. "$1" && complete -p xcall' _ "$script")
[ "$c" = "complete -F _xcall xcall" ] && pass ||
	fail "complete -p xcall: '$c'"

# Commands and global options: those of `xcall --help`.
xc --help
cmds=$(sed -n '/^Commands:/,/^$/p' <<<"$out" | awk 'NR > 1 && NF { print $1 }')
[ -n "$cmds" ] && pass || fail "xcall --help lists no command"
want "commands" "$cmds" "$X "
want "commands" "run" "$X r"
# Long options of argp's --help: "  -c, --cpu=LIST ..." or "      --usage".
long_opts() {
	sed -n 's/^ \{2,6\}\(-., \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' <<<"$out"
}
want "global options" "$(long_opts)" "$X -"

# Each command's options; list, topology and status take no other word.
for cmd in $cmds; do
	xc "$cmd" --help
	opts=$(long_opts)
	[ -n "$opts" ] && pass || fail "xcall $cmd --help lists no option"
	want "$cmd options" "$opts" "$X $cmd -"
	want "$cmd options" "$opts" "$X --help $cmd --"
	[ "$cmd" = run ] || want "$cmd, no word" "$opts" "$X $cmd "
done
want "unknown command" "" "$X bogus -"

# Function names: those of `xcall list`, before and after options.
xc list
fns=$(sed 1d <<<"$out" | awk '{ print $1 }')
[ -n "$fns" ] && pass || fail "xcall list gives no function"
want "functions" "$fns" "$X run "
want "functions" "$fns" "$X run --cpu $first_online --json "
want "functions" "$fns" "$X run -jc $first_online "
want "functions" "$(grep '^p' <<<"$fns")" "$X run --all p"
# Asked of the xcall on the line at each completion: a new function
# needs no change to the script.
cat >"$T/xcall" <<'EOF'
#!/bin/sh
[ "$*" = "list --json" ] && echo '{"name":"newfn","id":99,"summary":"x"}'
EOF
chmod +x "$T/xcall"
want "functions of the xcall on the line" "newfn" "$T/xcall run --all "
# FUNCTION's arguments are numbers: nothing.
want "function arguments" "" "$X run --all ident "
want "function arguments" "" "$X run ident 1 "

# --backend: the names lib/xcall.c:backend_names[] has, each accepted.
bks=$(sed -n 's/^[[:space:]]*\[XCALL_BACKEND_[A-Z]*\] = "\([a-z]*\)",$/\1/p' \
	"$SRC/lib/xcall.c")
[ -n "$bks" ] && pass || fail "no backend_names[] in lib/xcall.c"
want "--backend" "$bks" "$X run --backend "
want "--backend" "$bks" "$X topology -b "
want "--backend" "threads" "$X run --backend th"
want "--backend=" "$(sed 's/^/--backend=/' <<<"$bks")" "$X run --backend="
# Bash splits "--backend=th" at '=': its word is "th", or "=" alone.
want "--backend=, split" "threads" "$X run --backend=th" \
	"$X" run --backend = th
want "--backend=, split" "$(sed 's/^/=/' <<<"$bks")" "$X run --backend=" \
	"$X" run --backend =
for b in $bks; do
	xc run --backend "$b" --cpu "$first_online" ping
	[ "$rc" != 64 ] && pass || fail "--backend $b offered, refused: $err"
done

# --cpu: all and the online CPUs; after a comma those not yet named.
want "--cpu" "$(echo all; echo "$online")" "$X run --cpu "
want "-c" "$(echo all; echo "$online")" "$X run probe -c "
rest=$(grep -vx "$first_online" <<<"$online" | sed "s/^/$first_online,/")
want "--cpu $first_online," "$rest" "$X run --cpu $first_online,"
want "--cpu=$first_online," "$(sed 's/^/--cpu=/' <<<"$rest")" \
	"$X run --cpu=$first_online,"
range="$first_online-$last_online"
rest=$(expand_cpus "$range" | grep -vxF -f - <(echo "$online") |
       sed "s/^/$range,/")
want "--cpu $range," "$rest" "$X run --cpu $range,"
# The list grammar of the script, against the tests' own.
l=0-3,8-11:2,14,x,5-
got=$(bash -c '. "$1" && _xcall_expand_list "$2"' _ "$script" "$l")
[ "$got" = "$(expand_cpus 0-3,8-11:2,14)" ] && pass ||
	fail "_xcall_expand_list $l: '$(echo $got)'"

# --node: the online nodes (node 0 without NUMA in the kernel).
if [ -r /sys/devices/system/node/online ]; then
	nodes=$(sysfs_list /sys/devices/system/node/online)
else
	nodes=0
fi
want "--node" "$nodes" "$X run --node "
want "-n" "$nodes" "$X run ping -n "

# Options after FUNCTION, and their values.
xc run --help
want "option after FUNCTION" "$(long_opts)" "$X run probe -"
want "option after FUNCTION" "--json" "$X run probe --j"
want "--cpu after FUNCTION" "$(echo all; echo "$online")" "$X run probe --cpu "
want "--backend after arguments" "$bks" "$X run ident 1 0 --backend "

# After '--' no option: the words are FUNCTION (still completed if not
# given yet) and its arguments (nothing).
want "after --" "" "$X run --all probe -- "
want "after --" "" "$X run --all probe -- -"
want "after --" "" "$X run probe -- --cpu "
want "after --" "$fns" "$X run --all -- "

# xcall latency: --measure's words, each accepted; --svg a file; the
# numbers of --samples and -d nothing (not --node's values).
want "--measure" "$(printf '%s\n' call pingpong)" "$X latency --measure "
want "-m" "pingpong" "$X latency -m p"
for m in call pingpong; do
	xc latency --measure "$m" --backend threads --samples 1 --json
	[[ $err != *--measure* ]] && pass ||
		fail "--measure $m offered, refused: $err"
done
want "--samples" "" "$X latency --samples "
want "-d" "" "$X latency -d "
want "--cpu of latency" "$(echo all; echo "$online")" "$X latency --cpu "
mkdir "$T/svgdir"
want "--svg" "$T/svgdir/" "$X latency --svg $T/svg"

# --socket: file names, a directory with its '/'.
mkdir "$T/sockdir"
: >"$T/sockfile"
want "--socket" "$(printf '%s\n' "$T/sockdir/" "$T/sockfile")" \
	"$X status --socket $T/sock"

finish
