#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `xcall clock` on the threads backend: one JSON object whose CPUs are the
# ones asked for, the reference at 0 within 0, every other CPU measured
# with the samples asked for, its flags what its offset and bound say,
# CLOCK_MONOTONIC in step (one kernel clock); the counter named for this
# architecture; the table's verdict; and every bad input's message.
. "$(dirname "$0")/lib.sh"

c=$first_online

xc clock --json
[ "$rc" = 0 ] && pass || fail "clock --json: exit $rc ($err)"
[ "$(jq -r '.cpus[].cpu' <<<"$out")" = "$online" ] && pass ||
	fail "clock --json: cpus $(jq -c '[.cpus[].cpu]' <<<"$out"), want the online ones"
[ "$(jq -r .ref_cpu <<<"$out")" = "$c" ] && pass ||
	fail "clock: the reference is not the first CPU"
jq -e --argjson r "$c" '.cpus[] | select(.cpu == $r) |
	.offset_ticks == 0 and .bound_ticks == 0 and .mono_bound_ns == 0 and
	.samples == 0 and .ok' <<<"$out" >/dev/null && pass ||
	fail "clock: the reference is not 0 within 0"
jq -e --argjson r "$c" '[.cpus[] | select(.cpu != $r) | .ok and
	.samples == 100 and .mono_bound_ns > 0] | all' <<<"$out" >/dev/null &&
	pass || fail "clock: a CPU was not measured 100 times"
# The flags are what the numbers say, the summary what the CPUs say.
jq -e '[.cpus[] | .unsynchronised == ((.offset_ticks | fabs) > .bound_ticks)
	and .mono_unsynchronised ==
	((.mono_offset_ns | fabs) > .mono_bound_ns)] | all' <<<"$out" \
	>/dev/null && pass || fail "clock: a flag disagrees with its offset"
jq -e '.in_step == ([.cpus[].unsynchronised] | any | not) and
	.mono_in_step == ([.cpus[].mono_unsynchronised] | any | not) and
	.mono_bound_ns == ([.cpus[] | select(.mono_unsynchronised | not) |
			   .mono_bound_ns] | max)' <<<"$out" >/dev/null &&
	pass || fail "clock: the summary disagrees with the CPUs"
jq -e .mono_in_step <<<"$out" >/dev/null && pass ||
	fail "clock: CLOCK_MONOTONIC out of step: $out"
case $(uname -m) in
x86_64) want=TSC ;; aarch64) want=CNTVCT ;; ppc64*) want=timebase ;;
*) want=none ;;
esac
[ "$(jq -r .counter <<<"$out")" = "$want" ] && pass ||
	fail "clock: counter $(jq -r .counter <<<"$out"), want $want"
jq -e '.counter_hz >= 1000000 and .backend == "threads" and
	.samples == 100' <<<"$out" >/dev/null && pass ||
	fail "clock: counter_hz, backend or samples: $out"

# The table ends in the verdict, naming the bound.
xc clock --cpu all --samples 10
[ "$rc" = 0 ] && pass || fail "clock: exit $rc ($err)"
grep -Eq "^CLOCK_MONOTONIC of cpu [0-9,-]+: in step within ±[0-9]+ ns of cpu $c$" <<<"$out" &&
	pass || fail "clock: no CLOCK_MONOTONIC verdict in '$out'"
grep -Eq "^$want \([0-9.]+ MHz\) of cpu [0-9,-]+: (in step within ±[0-9]+ ns \(±[0-9]+ ticks\) of cpu $c|NOT in step: .*)$" <<<"$out" &&
	pass || fail "clock: no $want verdict in '$out'"
grep -q "^(best of 10 round trips per CPU through the threads backend)$" \
	<<<"$out" && pass || fail "clock: no samples line in '$out'"
[ "$(grep -cE '^ *[0-9]+ ' <<<"$out")" = "$nonline" ] && pass ||
	fail "clock: not one row per CPU: '$out'"

# One CPU against another reference; the reference alone.
if [ "$nonline" -ge 2 ]; then
	xc clock --json --cpu "$last_online" --ref "$c" --samples 3
	jq -e --argjson l "$last_online" '.ref_cpu != $l and
		[.cpus[].cpu] == [$l] and .cpus[0].samples == 3' \
		<<<"$out" >/dev/null && pass ||
		fail "clock --cpu $last_online --ref $c: $out"
	# A reference this process may not run on is refused, by name.
	if command -v taskset >/dev/null; then
		rc=0
		taskset -c "$c" "$XCALL" clock --ref "$last_online" \
			>"$T/out" 2>"$T/err" || rc=$?
		[ "$rc" = 2 ] && [ ! -s "$T/out" ] &&
			grep -q "^xcall: --ref: $last_online: not a CPU this process may run on" "$T/err" &&
			pass || fail "clock --ref outside the affinity: $rc $(cat "$T/err")"
	fi
fi
xc clock --json --cpu "$c" --samples 1
jq -e '.in_step and .bound_ticks == 0 and (.cpus | length) == 1' \
	<<<"$out" >/dev/null && pass || fail "clock, the reference alone: $out"

# Bad input: one line, its status, nothing on stdout.
absent=$(($(echo "$possible" | tail -n1) + 1))
expect() {
	local want=$1 re=$2
	shift 2
	xc "$@"
	[ "$rc" = "$want" ] && [ ! -s "$T/out" ] &&
		[ "$(wc -l <"$T/err")" = 1 ] && grep -Eq -- "$re" "$T/err" &&
		pass || fail "xcall $*: exit $rc, stderr '$err', stdout '$out'"
}
expect 64 "^xcall: --samples: 0 out of range 1\.\.10000$" clock --samples 0
expect 64 "^xcall: --samples: 10001 out of range 1\.\.10000$" clock --samples 10001
expect 64 "^xcall: --samples: 'x' is not a number$" clock --samples x
expect 64 "^xcall: --ref: -1 is negative" clock --ref -1
expect 64 "^xcall: clock: --cpu, --all and --node exclude each other$" clock --cpu "$c" --all
expect 64 "^xcall: clock: takes no arguments \('x' given\)$" clock x
expect 64 "^xcall: --cpu: 'x': not a CPU list" clock --cpu x
expect 2 "^xcall: --ref: $absent: no such CPU$" clock --ref "$absent"
expect 2 "^xcall: cpu $absent: no such CPU" clock --cpu "$absent"
XCALL_DEVICE=/nonexistent/xcall expect 3 "^xcall: backend kmod: /nonexistent/xcall: " clock --backend kmod

finish
