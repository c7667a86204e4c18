#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `xcall latency` on the threads backend, judged by parsers xcall did not
# write: the JSON lines (jq) and the CSV (python3's csv) are a square
# matrix over the CPUs asked for, every ordered pair once and no CPU with
# itself; the SVG is well-formed XML (python3's xml.etree) with one cell
# per pair; the text matrix is square, colours only on a terminal (script),
# and every bad input gets its message and exit status with nothing on
# stdout. Each checker is first fed a broken matrix and must refuse it.
. "$(dirname "$0")/lib.sh"

# Small and quick: the figures do not matter here, only their shape.
L="latency --samples 20 --duration 5 --timeout=30000"

# pairs CPU...: every ordered pair "from to" of distinct CPUs, sorted.
pairs() {
	local i j
	for i in "$@"; do
		for j in "$@"; do
			[ "$i" != "$j" ] && echo "$i $j"
		done
	done | sort
}

# check_json FILE CPU...: the pairs are exactly those of the CPUs, each with
# sane statistics. Prints why not and fails.
check_json() {
	local f=$1 got bad
	shift
	jq -e . "$f" >/dev/null 2>&1 || { echo "not JSON lines"; return 1; }
	got=$(jq -r '"\(.from) \(.to)"' "$f" | sort)
	[ "$got" = "$(pairs "$@")" ] ||
		{ echo "pairs: $(echo $got)"; return 1; }
	bad=$(jq -c 'select(.samples < 1 or .samples > 20 or
		.min_ns > .median_ns or .median_ns > .p99_ns or
		.p99_ns > .max_ns or (.backend | type) != "string" or
		.measure != "call" and .measure != "pingpong")' "$f")
	[ -z "$bad" ] || { echo "bad record: $bad"; return 1; }
}

# check_csv FILE CPU...: the same of the CSV, through python3's csv.
check_csv() {
	local f=$1 got
	shift
	got=$(python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    assert int(r["min_ns"]) <= int(r["median_ns"]) <= int(r["p99_ns"]) <= int(r["max_ns"]), r
    print(r["from"], r["to"])' "$f" | sort) || return 1
	[ "$got" = "$(pairs "$@")" ] || { echo "pairs: $(echo $got)"; return 1; }
}

# check_svg FILE CPU...: well-formed XML, an <svg> with a title, and one
# cell per pair, through python3's xml.etree.
check_svg() {
	local f=$1 got
	shift
	got=$(python3 -c '
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == ns + "svg", root.tag
assert "backend" in root.find(ns + "title").text
for r in root.iter(ns + "rect"):
    if r.get("class") == "cell":
        print(r.get("data-from"), r.get("data-to"))' "$f" | sort) ||
		return 1
	[ "$got" = "$(pairs "$@")" ] || { echo "cells: $(echo $got)"; return 1; }
}

# check_text FILE CPU...: the median matrix is square, "-" on the diagonal
# and only there.
check_text() {
	awk -v n=$(($# - 1)) '
		/^median/ { m = 1; row = -1; next }
		m && row == -1 { row = 0; next }	# the header of CPUs
		m && row < n {
			if (NF != n + 1) { print "row " row ": " NF " fields"; bad = 1 }
			for (j = 2; j <= NF; j++)
				if (($j == "-") != (j - 2 == row)) {
					print "row " row " col " j - 2 ": " $j; bad = 1
				}
			row++
		}
		END { if (row != n) { print row " rows"; bad = 1 } exit bad }' "$1"
}

# The checkers refuse broken matrices, or their passes mean nothing.
printf '%s\n' '{"from":0,"to":1,"backend":"t","measure":"call","samples":1,"min_ns":1,"median_ns":1,"p99_ns":1,"max_ns":1}' \
	'{"from":1,"to":1,"backend":"t","measure":"call","samples":1,"min_ns":1,"median_ns":1,"p99_ns":1,"max_ns":1}' >"$T/bad.json"
! check_json "$T/bad.json" 0 1 >/dev/null && pass ||
	fail "check_json took a matrix with 1 to 1 and without 1 to 0"
printf 'from,to,backend,measure,samples,median_ns,p99_ns,min_ns,max_ns\n0,1,t,call,1,5,4,1,9\n1,0,t,call,1,1,1,1,1\n' >"$T/bad.csv"
! check_csv "$T/bad.csv" 0 1 >/dev/null 2>&1 && pass ||
	fail "check_csv took a median above its p99"
printf '<svg xmlns="http://www.w3.org/2000/svg"><title>threads backend</title><rect class="cell" data-from="0" data-to="1"/><rect class="cell" data-from="1" data-to="0"></svg>\n' >"$T/bad.svg"
! check_svg "$T/bad.svg" 0 1 >/dev/null 2>&1 && pass ||
	fail "check_svg took XML that is not well-formed"
printf 'median, ns\nfrom\\to 0 1\n0 - 5\n1 5 5\n' >"$T/bad.txt"
! check_text "$T/bad.txt" 0 1 >/dev/null && pass ||
	fail "check_text took a number on the diagonal"

if [ "$nonline" -lt 2 ]; then
	xt_skip_env "a matrix needs two online CPUs, this machine has $nonline"
	finish
fi
# shellcheck disable=SC2086
set -- $online

# Every online CPU (the default), as JSON lines.
xc $L --json
[ "$rc" = 0 ] && [ -z "$err" ] && pass || fail "latency --json: rc=$rc err=$err"
echo "$out" >"$T/all.json"
why=$(check_json "$T/all.json" "$@") && pass || fail "latency --json: $why"
[ "$(jq -r .backend "$T/all.json" | sort -u)" = threads ] && pass ||
	fail "latency --json: backend $(jq -r .backend "$T/all.json" | sort -u)"

# Two CPUs asked for, in the CSV, and the SVG beside it.
two="$first_online $last_online"
xc $L --cpu "$last_online,$first_online" --csv --svg "$T/m.svg"
[ "$rc" = 0 ] && pass || fail "latency --csv --svg: rc=$rc err=$err"
echo "$out" >"$T/m.csv"
# shellcheck disable=SC2086
why=$(check_csv "$T/m.csv" $two 2>&1) && pass || fail "latency --csv: $why"
# shellcheck disable=SC2086
why=$(check_svg "$T/m.svg" $two 2>&1) && pass || fail "latency --svg: $why"
grep -q "$(hostname)" "$T/m.svg" && pass || fail "the SVG does not name the host"

# The text: plain numbers when stdout is no terminal, square.
xc $L
[ "$rc" = 0 ] && pass || fail "latency: rc=$rc err=$err"
echo "$out" >"$T/m.txt"
why=$(check_text "$T/m.txt" "$@") && pass || fail "latency text: $why"
grep -q $'\033' "$T/m.txt" && fail "escapes without a terminal" || pass
grep -q "^samples per pair: " "$T/m.txt" && grep -q "^p99, ns" "$T/m.txt" &&
	pass || fail "latency text: no p99 matrix or samples line: $out"

# On a terminal, 256-colour cells and a scale; --no-color, plain again.
script -qec "$XCALL $L --cpu $first_online,$last_online" /dev/null \
	>"$T/tty.txt" 2>&1 </dev/null
grep -q $'\033\\[48;5;[0-9]*m' "$T/tty.txt" && grep -q 'scale: ' "$T/tty.txt" &&
	pass || fail "no colour on a terminal: $(cat -v "$T/tty.txt")"
grep -q 'xcall latency: pair ' "$T/tty.txt" && pass ||
	fail "no progress line on a terminal's stderr"
script -qec "$XCALL $L --no-color --cpu $first_online,$last_online" \
	/dev/null >"$T/tty.txt" 2>/dev/null </dev/null
grep -q $'\033\\[48;5' "$T/tty.txt" && fail "--no-color: colours" || pass

# The cache-line ping-pong, in-process.
xc $L --measure pingpong --json
echo "$out" >"$T/pp.json"
[ "$rc" = 0 ] && why=$(check_json "$T/pp.json" "$@") && pass ||
	fail "latency --measure pingpong: rc=$rc $why $err"
[ "$(jq -r .measure "$T/pp.json" | sort -u)" = pingpong ] && pass ||
	fail "pingpong: measure $(jq -r .measure "$T/pp.json" | sort -u)"

# A time budget shorter than the samples take still measures every pair,
# with at least one sample each.
xc latency --samples 1000000 --duration 1 --json --cpu "$first_online,$last_online"
echo "$out" >"$T/b.json"
[ "$rc" = 0 ] && [ "$(jq -r 'select(.samples < 1) | .from' "$T/b.json")" = "" ] &&
	[ "$(wc -l <"$T/b.json")" = 2 ] && pass ||
	fail "--duration 1: rc=$rc $(cat "$T/b.json") $err"

# Bad input: one line on stderr, nothing on stdout, the documented status.
# bad STATUS MESSAGE ARGS...
bad() {
	local want=$1 msg=$2
	shift 2
	xc "$@"
	[ "$rc" = "$want" ] && [ -z "$out" ] && [ "$err" = "$msg" ] && pass ||
		fail "xcall $*: rc=$rc (want $want) out='$out' err='$err' (want '$msg')"
}
bad 64 "xcall: --samples: 0 out of range 1..1000000" latency --samples 0
bad 64 "xcall: --duration: 'soon' is not a number" latency --duration soon
bad 64 "xcall: --cpu: '$first_online': a matrix needs two CPUs or more" \
	latency --cpu "$first_online"
bad 64 "xcall: --cpu: 'x': not a CPU list (expected e.g. 0-3,8-15:2 or all)" \
	latency --cpu x
bad 64 "xcall: latency: --json and --csv exclude each other" latency --json --csv
bad 64 "xcall: --measure: 'ipi': not call or pingpong" latency --measure ipi
bad 64 "xcall: --measure: pingpong is in-process: only with --backend threads" \
	latency --measure pingpong --backend kmod
bad 64 "xcall: latency: 'probe': takes no arguments" latency probe
bad 64 "xcall: --cpu: '0-1024': 1025 CPUs, a matrix takes 1024 at most" \
	latency --cpu 0-1024
absent=$(( $(echo "$possible" | tail -n1) + 1 ))
bad 2 "xcall: cpu $absent: no such CPU" latency --cpu "$first_online,$absent"
XCALL_DEVICE=/nonexistent bad 3 "$(XCALL_DEVICE=/nonexistent "$XCALL" run \
	--backend kmod --cpu "$first_online" ping 2>&1)" latency --backend kmod
bad 74 "xcall: $T/no/m.svg: No such file or directory" \
	latency --samples 1 --svg "$T/no/m.svg"

finish
