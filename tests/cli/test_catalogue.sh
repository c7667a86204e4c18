#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The catalogue is the one source: `xcall list` (table and JSON), `xcall
# --help`, `xcall run --help` and xcall(1) name the same functions, the
# man page gives each function its record keys, and every key and exit
# status the program uses is documented.
. "$(dirname "$0")/lib.sh"

man=$SRC/man/xcall.1
xc list --json
cat_json=$out
fns=$(jq -r .name <<<"$cat_json")
[ -n "$fns" ] && pass || fail "list --json gives no function"
abi=$(sed -n 's/^[[:space:]]*X(\([A-Z]*\), *\([a-z]*\),.*/\2/p' "$SRC/kmod/uapi/xcall.h")
[ "$fns" = "$abi" ] && pass ||
	fail "list: '$(echo $fns)' but XCALL_FUNCTIONS() has '$(echo $abi)'"

xc list
[ "$(sed 1d "$T/out" | awk '{print $1}')" = "$fns" ] && pass ||
	fail "list table names differ from list --json"

xc --help
help=$out
xc run --help
run_help=$out

# The FUNCTIONS section of the man page: each entry is ".TP" then a line
# whose first word (after .B/.BI/.BR) is the name, and a "Keys:" line.
man_fns=$(sed -n '/^\.SH FUNCTIONS/,/^\.SH /p' "$man" |
	  awk '/^\.TP/ { getline; print $2 }')
[ "$man_fns" = "$fns" ] && pass ||
	fail "xcall(1) FUNCTIONS: '$(echo $man_fns)' want '$(echo $fns)'"

for fn in $fns; do
	grep -Eq "^  $fn +" <<<"$help" && pass ||
		fail "--help does not list $fn"
	# Its whole summary on its own line: argp wraps what passes column
	# 79, and a wrapped summary starts a line at column 0.
	sum=$("$XCALL" list --json | jq -r --arg n "$fn" 'select(.name == $n) | .summary')
	grep -Eq "^  $fn +$(printf '%s' "$sum" | sed 's/[][\.^$*+?(){}|]/\\&/g')\$" <<<"$help" && pass ||
		fail "--help's line of $fn is not '$fn  $sum' (wrapped?)"
	grep -Eq "^  $fn( |$)" <<<"$run_help" && pass ||
		fail "run --help does not list $fn"
	entry=$(sed -n '/^\.SH FUNCTIONS/,/^\.SH /p' "$man" |
		awk -v fn="$fn" '/^\.TP/ { getline; on = ($2 == fn) } on')
	keys=$(sed -n '/^Keys:/,/^\.TP/p' <<<"$entry" | tr -d ',.()' | tr ' ' '\n')
	for k in $(jq -r --arg fn "$fn" 'select(.name == $fn) | .fields[]' <<<"$cat_json"); do
		grep -qx "$k" <<<"$keys" && pass ||
			fail "xcall(1): $fn's Keys do not list $k"
		# Each key is described in JSON OUTPUT.
		sed -n '/^\.SH JSON OUTPUT/,/^\.SH /p' "$man" |
			grep -Eq "^\.BR? .*\b$k\b" && pass ||
			fail "xcall(1) JSON OUTPUT does not describe $k"
	done
	# Arguments: the man entry names them as in the catalogue.
	for a in $(jq -r --arg fn "$fn" 'select(.name == $fn) | .args[].name' <<<"$cat_json"); do
		grep -q "$a" <<<"$entry" && pass ||
			fail "xcall(1): $fn does not name its argument $a"
	done
	# Privilege and backends as in the catalogue.
	priv=$(jq -r --arg fn "$fn" 'select(.name == $fn) | .priv' <<<"$cat_json")
	grep -q "Privilege: $priv" <<<"$entry" && pass ||
		fail "xcall(1): $fn privilege is not $priv"
	bk=$(jq -r --arg fn "$fn" 'select(.name == $fn) | .backends | join(", ")' <<<"$cat_json")
	grep -q "Backends: $bk\." <<<"$entry" && pass ||
		fail "xcall(1): $fn backends are not '$bk'"
done

# msr's allowlist in xcall(4) is XCALL_MSR_ALLOWLIST: addresses and names,
# in its order.
msrs=$(sed -n 's/^[[:space:]]*X(0x0*\([0-9a-f]*\), *\([A-Z0-9_]*\),.*/0x\1 \2/p' "$SRC/kmod/uapi/xcall.h")
man4=$(sed -n '/^\.BI "msr /,/^\.fi/p' "$SRC/man/xcall.4" | awk '/^0x/ { print $1, $2 }')
[ -n "$msrs" ] && [ "$msrs" = "$man4" ] && pass ||
	fail "xcall(4): msr's allowlist differs from XCALL_MSR_ALLOWLIST: $(diff <(echo "$msrs") <(echo "$man4") | tr '\n' ' ')"

# The envelope keys every record has.
for k in round cpu fn ok errno error; do
	sed -n '/^\.SH JSON OUTPUT/,/^\.SH /p' "$man" | grep -qx "\.B $k" &&
		pass || fail "xcall(1) JSON OUTPUT does not describe $k"
done

# Exit statuses: the ones in the program are the documented ones.
codes=$(sed -n 's/^#define XC_EXIT_[A-Z]*[[:space:]]*\([0-9]*\).*/\1/p' "$SRC/cli/cli.h" | sort -n)
man_codes=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man" |
	    awk '/^\.TP/ { getline; print $2 }' | sort -n)
[ "$codes" = "$man_codes" ] && pass ||
	fail "exit statuses: cli.h has '$(echo $codes)', xcall(1) '$(echo $man_codes)'"
for c in $codes; do
	grep -q "\b$c\b" <<<"$run_help" && pass ||
		fail "run --help does not mention exit status $c"
done

# list --json: a required argument has no default (null), an optional one
# the value it takes when omitted.
xc list --json
[ "$(jq -c 'select(.name == "spin") | [.args[].default]' <<<"$out")" = "[null]" ] &&
	pass || fail "list --json: spin's required us has a default"
[ "$(jq -c 'select(.name == "ident") | [.args[].default]' <<<"$out")" = "[0,0]" ] &&
	pass || fail "list --json: ident's optional arguments lack their default"
[ "$(jq -r '.args[] | select(.default == null) | .name' <<<"$out" | xargs)" = "us addr0" ] &&
	pass || fail "list --json: only spin's us and msr's addr0 are required"

# Commands: the table in main.c is what --help and the man page show.
cmds=$(sed -n 's/^[[:space:]]*{ "\([a-z]*\)", cmd_.*/\1/p' "$SRC"/cli/main.c)
for c in $cmds; do
	grep -Eq "^  $c +" <<<"$help" && pass || fail "--help does not list $c"
	sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$man" | grep -qx "\.B $c" &&
		pass || fail "xcall(1) COMMANDS does not describe $c"
	# Its SYNOPSIS line, and every option its --help shows, in xcall(1)
	# (the synopsis names each of its options but --help, --usage and
	# --version, which COMMON OPTIONS describes).
	syn=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$man" |
		sed -n "/^\.B xcall $c\$/,/^\.br/p")
	[ -n "$syn" ] && pass || fail "xcall(1) SYNOPSIS lacks xcall $c"
	xc "$c" --help
	for o in $(grep -oE -- '--[a-z][a-z-]*' <<<"$out" | sort -u); do
		m=${o//-/\\-}
		case $o in
		--help|--usage|--version)
			sed -n '/^\.SH COMMON OPTIONS/,/^\.SH /p' "$man" |
				grep -qF -- "$m" && pass ||
				fail "xcall(1) COMMON OPTIONS lacks $o"
			continue ;;
		esac
		grep -qF -- "$m" <<<"$syn" && pass ||
			fail "xcall(1) SYNOPSIS of $c lacks $o"
		# An option's entry: the line after .TP names it.
		sed -n '/^\.SH OPTIONS/,/^\.SH FUNCTIONS/p' "$man" |
			sed -n '/^\.TP/{n;p}' | grep -qF -- "$m" && pass ||
			fail "xcall(1) OPTIONS do not describe $o of $c"
	done
done

finish
