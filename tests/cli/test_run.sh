#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `xcall run` that succeeds: the JSON parses, has one record per CPU asked
# for, in order, with exactly the documented keys; tables have a header and
# one row per CPU; rounds are numbered; --help and --version go to stdout.
. "$(dirname "$0")/lib.sh"

# Calls that must succeed get a generous timeout: a loaded machine (or a
# sanitizer build) must not turn a slow answer into a failure here.
TMO="--timeout=30000"

# Every function the threads backend runs, with arguments.
declare -A fargs=([ping]="" [probe]="" [clock]="" [ident]="0 0" [spin]="10")

# keys_of FN: the keys a successful record of FN has, sorted.
keys_of() {
	"$XCALL" list --json | jq -r --arg fn "$1" \
		'select(.name == $fn) | ["round","cpu","fn","ok","errno","error"] + .fields | .[]' |
		sort | tr '\n' ' '
}

for fn in "${!fargs[@]}"; do
	xc run $TMO --all --json "$fn" ${fargs[$fn]}
	if [ "$rc" != 0 ] || [ -s "$T/err" ]; then
		fail "run --all $fn: rc=$rc err=$err"
		continue
	fi
	if ! jq -e . <<<"$out" >/dev/null; then
		fail "run --all --json $fn: not JSON: $out"
		continue
	fi
	[ "$(json_cpus)" = "$online" ] && pass ||
		fail "run --all $fn: cpus $(json_cpus | tr '\n' ,) want $(echo $online | tr ' ' ,)"
	[ "$(jq -r "select(.ok != true or .errno != 0 or .error != null or .fn != \"$fn\" or .round != 0) | .cpu" <<<"$out")" = "" ] &&
		pass || fail "run --all $fn: a record is not ok: $out"
	want=$(keys_of "$fn")
	got=$(jq -r 'keys[]' <<<"$out" | sort -u | tr '\n' ' ')
	[ "$got" = "$want" ] && pass ||
		fail "$fn: keys '$got' want '$want' (catalogue)"
	# The same keys on every record, not only in the union.
	[ "$(jq -c 'keys' <<<"$out" | sort -u | wc -l)" = 1 ] && pass ||
		fail "$fn: records differ in their keys"
done

# One CPU at a time, by number and as a one-element range.
for c in $online; do
	xc run $TMO --cpu "$c" --json probe
	[ "$rc" = 0 ] && [ "$(json_cpus)" = "$c" ] && pass ||
		fail "run --cpu $c probe: rc=$rc out=$out"
	node=0
	for d in /sys/devices/system/cpu/cpu$c/node[0-9]*; do
		[ -e "$d" ] && node=${d##*node}
	done
	[ "$(jq -r .node <<<"$out")" = "$node" ] && pass ||
		fail "cpu $c: node $(jq -r .node <<<"$out"), sysfs says $node"
done

# A list in any order and with repeats comes back once per CPU, ascending.
xc run $TMO --cpu "$last_online,$first_online,$last_online" --json ping
want=$(printf '%s\n' "$first_online" "$last_online" | sort -nu)
[ "$rc" = 0 ] && [ "$(json_cpus)" = "$want" ] && pass ||
	fail "run --cpu $last_online,$first_online: got $(json_cpus | tr '\n' ,)"

# Options may come before or after FUNCTION and its arguments, and '--'
# ends them: the same call however it is written.
c1=$first_online
for args in "--cpu $c1 --json spin 250" "spin 250 --cpu $c1 --json" \
	    "spin --json --cpu=$c1 250" "--cpu $c1 spin --json -- 250" \
	    "--cpu $c1 --json -- spin 250" "-c$c1 spin -j 250"; do
	# shellcheck disable=SC2086
	xc run $TMO $args
	[ "$rc" = 0 ] && [ "$(jq -r '"\(.cpu) \(.fn) \(.asked_us)"' <<<"$out")" = "$c1 spin 250" ] &&
		pass || fail "run $args: rc=$rc out=$out err=$err"
done

# --cpu all is --all.
xc run $TMO --cpu all --json ping
[ "$rc" = 0 ] && [ "$(json_cpus)" = "$online" ] && pass ||
	fail "run --cpu all: $(json_cpus | tr '\n' ,)"

# --node N: the online CPUs of each node, from sysfs.
if [ -d /sys/devices/system/node/node0 ]; then
	for d in /sys/devices/system/node/node[0-9]*; do
		n=${d##*node}
		want=$(sysfs_list "$d/cpulist" | grep -Fxf <(echo "$online") || true)
		[ -n "$want" ] || continue
		xc run $TMO --node "$n" --json ping
		[ "$rc" = 0 ] && [ "$(json_cpus)" = "$want" ] && pass ||
			fail "run --node $n: got $(json_cpus | tr '\n' ,) want $(echo $want | tr ' ' ,)"
		[ "$(jq -r ".node" <<<"$(xc run $TMO --node "$n" --json probe; echo "$out")" | sort -u)" = "$n" ] &&
			pass || fail "run --node $n probe: node is not $n"
	done
else
	xt_skip_env "no NUMA node in sysfs: --node not tried"
fi

# Rounds: --repeat 3 gives rounds 0, 1, 2, each with every CPU.
xc run $TMO --all --json --repeat 3 --interval 0 ping
[ "$rc" = 0 ] && [ "$(jq -r .round <<<"$out" | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" = "0:$nonline 1:$nonline 2:$nonline " ] &&
	pass || fail "repeat 3: $out"

# clock: offsets are relative to the earliest CPU of the round.
xc run $TMO --all --json clock
[ "$(jq -s 'map(.offset_ns) | min' <<<"$out")" = 0 ] && pass ||
	fail "clock: the smallest offset_ns is not 0"
[ "$(jq -s '(map(.mono_ns) | min) as $m | all(.[]; .offset_ns == .mono_ns - $m)' <<<"$out")" = true ] &&
	pass || fail "clock: offset_ns is not mono_ns minus the earliest"

# spin reports what it was asked and at least that long.
xc run $TMO --cpu "$first_online" --json spin 250
[ "$(jq -r '.asked_us' <<<"$out")" = 250 ] &&
	[ "$(jq -r '.spent_ns >= 250000' <<<"$out")" = true ] && pass ||
	fail "spin 250: $out"

# ident: numbers in any base; x86 echoes leaf and subleaf.
if [ "$(uname -m)" = x86_64 ]; then
	xc run $TMO --cpu "$first_online" --json ident 0x7 0
	[ "$rc" = 0 ] && [ "$(jq -r '"\(.leaf) \(.subleaf)"' <<<"$out")" = "7 0" ] &&
		pass || fail "ident 0x7 0: $out"
	xc run $TMO --cpu "$first_online" --json ident 010
	[ "$(jq -r '.leaf' <<<"$out")" = 8 ] && pass || fail "ident 010 (octal): $out"
	# Leaf 0: the vendor is the same on every CPU.
	xc run $TMO --all --json ident
	[ "$(jq -r '.ebx' <<<"$out" | sort -u | wc -l)" = 1 ] && pass ||
		fail "ident leaf 0 differs between CPUs"
else
	xt_skip_env "ident's leaf and subleaf are x86's, this is $(uname -m)"
fi

# probe: hardware ids are distinct.
xc run $TMO --all --json probe
# (null where the system does not expose them: arm64 without a device tree)
ids=$(jq -r 'select(.hwid != null) | .hwid' <<<"$out")
[ "$(sort -u <<<"$ids" | wc -l)" = "$(wc -l <<<"$ids")" ] && pass ||
	fail "probe: hardware ids are not distinct: $(jq -r .hwid <<<"$out" | tr '\n' ' ')"

# x86: the hardware id is the APIC id the kernel reports for that CPU.
if grep -q '^apicid' /proc/cpuinfo; then
	want=$(awk -F': *' '/^processor/ { p = $2 } /^apicid/ { print p ":" $2 }' /proc/cpuinfo)
	got=$(jq -r '"\(.cpu):\(.hwid)"' <<<"$out")
	[ "$got" = "$want" ] && pass ||
		fail "probe: hwid $(echo $got) but /proc/cpuinfo apicid $(echo $want)"
else
	xt_skip_env "no apicid in /proc/cpuinfo to compare probe's hwid with"
fi

# Table: a header, one row per CPU, the CPU in the first column, columns
# aligned (the STATUS header starts where every row's status starts).
xc run $TMO --all probe
[ "$rc" = 0 ] && [ "$(wc -l <"$T/out")" = $((nonline + 1)) ] && pass ||
	fail "table: $(wc -l <"$T/out") lines for $nonline CPUs"
[ "$(sed 1d "$T/out" | awk '{print $1}')" = "$online" ] && pass ||
	fail "table: first column is not the CPUs"
col=$(head -n1 "$T/out" | awk '{print index($0, "STATUS")}')
[ "$(sed 1d "$T/out" | awk -v c="$col" '{print substr($0, c, 2)}' | sort -u)" = ok ] &&
	pass || fail "table: STATUS column not aligned"
grep -q ' $' "$T/out" && fail "table: trailing blanks" || pass

# Help and version: stdout, exit 0, nothing on stderr.
for args in "--help" "run --help" "list --help" "topology --help" "--version"; do
	xc $args
	[ "$rc" = 0 ] && [ -n "$out" ] && [ -z "$err" ] && pass ||
		fail "xcall $args: rc=$rc err=$err"
done
# The text after the option list (argp's doc after \v) is shown, before
# the lists made from the tables.
xc --help
grep -q '^Examples:$' <<<"$out" && pass || fail "--help lacks its examples"
xc run --help
grep -q "'--' ends them" <<<"$out" && grep -q '^Numbers are decimal' <<<"$out" &&
	pass || fail "run --help lacks where options go and what numbers are"
xc --version
[ "$out" = "xcall $(cat "$SRC/VERSION")" ] &&
	pass || fail "--version: $out"

# topology: one line per possible CPU, online state from sysfs.
xc topology $TMO --json
[ "$rc" = 0 ] && [ "$(json_cpus)" = "$possible" ] && pass ||
	fail "topology: cpus $(json_cpus | tr '\n' ,)"
[ "$(jq -r 'select(.online) | .cpu' <<<"$out")" = "$online" ] && pass ||
	fail "topology: online CPUs differ from sysfs"
ids=$(jq -r 'select(.online and .hwid != null) | .hwid' <<<"$out")
[ "$(sort -u <<<"$ids" | wc -l)" = "$(wc -l <<<"$ids")" ] &&
	pass || fail "topology: hardware ids not distinct"
xc topology $TMO
[ "$rc" = 0 ] && [ "$(wc -l <"$T/out")" = $(($(echo "$possible" | wc -l) + 1)) ] &&
	pass || fail "topology table"

# list: one line per function, in id order.
xc list --json
[ "$(jq -r .id <<<"$out" | tr '\n' ' ')" = "$(seq 0 $(($(jq -s length <<<"$out") - 1)) | tr '\n' ' ')" ] &&
	pass || fail "list: ids not 0..n-1"

finish
