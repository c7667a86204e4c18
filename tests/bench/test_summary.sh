#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test_summary.sh: the collector of `make bench` (tests/bench/summary.py)
# against records made here, good ones and ones broken on purpose: a
# record that is missing, not JSON, short of a field, out of order or
# there twice must be reported (its row, a line on stderr, the JSON, exit
# status 1), never dropped; a target missed is reported with status 0.
# Also: tests/bench/targets itself parses, and names each figure the
# benchmarks record once.
#
# SRC=<tree> bash tests/bench/test_summary.sh
set -u
. "$SRC/tests/common/lib.sh"

sum=$SRC/tests/bench/summary.py
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

rec() {	# BENCH FIGURE UNIT MEDIAN P10 P90
	printf 'XCALL-BENCH {"bench":"%s","figure":"%s","unit":"%s","median":%s,"p10":%s,"p90":%s,"samples":21,"what":"%s"}\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$2"
}

cat >"$t/targets" <<'EOF'
# a comment
p   base      -      -
p   rt        base   ratio<=1.2
p   handoff   -      -
p   rate      handoff  median>=30|ratio>=0.8
p   slow      base   ratio<=1.0
d   rate      -      median>=400000
EOF

good() {
	rec p base ns 100 90 110
	rec p rt ns 140 130 150
	rec p handoff M/s 24 20 30
	rec p rate M/s 20 18 22
	rec p slow ns 150 140 160
	rec p extra ns 5 4 6
	echo 'XCALL-BENCH {"bench":"d","figure":"rate","unit":"calls/s","median":500000,"p10":null,"p90":null,"samples":1,"what":"one figure"}'
}

# run NAME WANT_STATUS RECORDS...: the collector's stdout, stderr and JSON
# in $t/NAME.{out,err,json}.
run() {
	local n=$1 want=$2 rc

	shift 2
	python3 "$sum" --json "$t/$n.json" "$t/targets" "$@" \
		>"$t/$n.out" 2>"$t/$n.err"
	rc=$?
	if [ "$rc" = "$want" ]; then pass; else
		fail "$n: exit status $rc, want $want"
		sed 's/^/    /' "$t/$n.out" "$t/$n.err" >&2
	fi
}

# row NAME FIGURE RESULT: the table's row of p FIGURE ends with RESULT.
row() {
	if grep -Eq "^$2 .* $3\$" "$t/$1.out"; then pass; else
		fail "$1: no row '$2 ... $3'"
		sed 's/^/    /' "$t/$1.out" >&2
	fi
}

# has NAME FILE-SUFFIX PATTERN
has() {
	if grep -Eq -- "$3" "$t/$1.$2"; then pass; else
		fail "$1.$2: no '$3'"
		sed 's/^/    /' "$t/$1.$2" >&2
	fi
}

# json NAME PYTHON-EXPRESSION-ON-j: true of the JSON summary
json() {
	if python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$t/$1.json" "$2"; then pass; else
		fail "$1.json: not $2"
	fi
}

# All present: misses reported, status 0.
good >"$t/good.records"
run good 0 "$t/good.records"
row good "p +rt" "MISSED"
row good "p +rate" "MET"		# not 30 M/s, but 0.83x the hand-off
row good "p +slow" "MISSED"
row good "d +rate" "MET"
row good "p +extra" "-"
has good out '^p +rt +ns +140 +130 +150 +base +100 +1\.40x +<= 1\.2x +MISSED$'
has good out '^2 targets met, 2 missed$'
json good 'j["problems"] == [] and len(j["figures"]) == 7'
json good '[f["ratio"] for f in j["figures"] if f["figure"] == "rt"] == [1.4]'
json good '[f["p10"] for f in j["figures"] if f["bench"] == "d"] == [None]'

# A missing record: reported, not dropped.
good | grep -v '"figure":"slow"' >"$t/missing.records"
run missing 1 "$t/missing.records"
row missing "p +slow" "MISSING"
has missing err 'p slow: no record'
json missing '[p["where"] for p in j["problems"]] == ["p slow"]'

# A missing baseline: every figure on it says so.
good | grep -v '"figure":"base"' >"$t/nobase.records"
run nobase 1 "$t/nobase.records"
row nobase "p +rt" "MISSING"
has nobase err 'p rt: its baseline base has no record'

# Broken records, each one way, each reported with its file and line.
brk() {	# NAME SED-EXPRESSION WANT-ON-STDERR
	good | sed -E "$2" >"$t/$1.records"
	run "$1" 1 "$t/$1.records"
	has "$1" err "$1.records:[0-9]+: .*$3"
}
brk notjson '/"figure":"rt"/s/}$//' 'broken record'
brk nomedian '/"figure":"rt"/s/"median":[0-9]+,//' "'median' missing"
brk badnum '/"figure":"rt"/s/"median":[0-9]+/"median":"fast"/' "'median' missing or not a number"
brk order '/"figure":"rt"/s/"p10":[0-9]+/"p10":999/' 'not p10 <= median <= p90'
brk noise '2s/^XCALL-BENCH //' 'not a record'
brk badname '/"figure":"rt"/s/"figure":"rt"/"figure":"R T"/' "'figure' missing"
row notjson "p +rt" "MISSING"
row nomedian "p +rt" "BROKEN"
good >"$t/twice.records"
rec p rt ns 1 1 1 >>"$t/twice.records"
run twice 1 "$t/twice.records"
has twice err 'p rt recorded twice'
row twice "p +rt" "BROKEN"

# A records file that is not there.
run nofile 1 "$t/good.records" "$t/no-such.records"
has nofile err 'no-such.records: cannot read'

# A bad targets file is a usage error.
printf 'p rt base ratio<1.5\n' >"$t/targets"
run badtargets 2 "$t/good.records"
has badtargets err 'target .ratio<1.5.'

# The real targets: they parse, and no figure is named twice.
if python3 "$sum" "$SRC/tests/bench/targets" >"$t/real.out" 2>"$t/real.err" ||
   [ $? = 1 ]; then pass; else
	fail "tests/bench/targets: $(cat "$t/real.err")"
fi

finish
