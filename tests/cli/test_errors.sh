#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every bad input to xcall: its exit status, one line on stderr that names
# the problem (`xcall: <what>: <why>`), and nothing at all on stdout.
. "$(dirname "$0")/lib.sh"

# A CPU number that does not exist here, and an offline one if any.
absent=$(($(echo "$possible" | tail -n1) + 1))
offline=$(comm -23 <(echo "$possible" | sort) <(echo "$online" | sort) | sort -n | head -n1)
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
c=$first_online

# expect STATUS REGEX ARGS...: lib.sh.

# Usage: the command line is wrong (64).
expect 64 "^xcall: --cpu: '0-': not a CPU list" run --cpu 0- probe
expect 64 "^xcall: --cpu: '': not a CPU list" run --cpu '' probe
expect 64 "^xcall: --cpu: '1,,2': not a CPU list" run --cpu 1,,2 probe
expect 64 "^xcall: --cpu: '3-1': not a CPU list" run --cpu 3-1 probe
expect 64 "^xcall: --cpu: '0-3:0': not a CPU list" run --cpu 0-3:0 probe
expect 64 "^xcall: --cpu: 'x': not a CPU list" run --cpu x probe
expect 64 "^xcall: run: 'prboe': no such function \(did you mean 'probe'\?\)$" run --cpu "$c" prboe
expect 64 "^xcall: run: 'pnig': no such function \(did you mean 'ping'\?\)$" run --cpu "$c" pnig
expect 64 "^xcall: run: 'frobnicate': no such function \(see 'xcall list'\)$" run --cpu "$c" frobnicate
expect 64 "^xcall: run: no function given" run --cpu "$c"
expect 64 "^xcall: ping: takes 0 arguments, 1 given$" run --cpu "$c" ping 1
expect 64 "^xcall: spin: takes 1 argument \(us\), 0 given$" run --cpu "$c" spin
expect 64 "^xcall: spin: takes 1 argument \(us\), 2 given$" run --cpu "$c" spin 1 2
expect 64 "^xcall: ident: takes 0 to 2 arguments \(leaf subleaf\), 3 given$" run --cpu "$c" ident 1 2 3
expect 64 "^xcall: spin: us: 0 out of range 1\.\.100000$" run --cpu "$c" spin 0
expect 64 "^xcall: spin: us: 100001 out of range 1\.\.100000$" run --cpu "$c" spin 100001
expect 64 "^xcall: spin: us: 99999999999999999999999 out of range" run --cpu "$c" spin 99999999999999999999999
expect 64 "^xcall: spin: us: '12ms' is not a number$" run --cpu "$c" spin 12ms
expect 64 "^xcall: ident: leaf: '0xZZ' is not a number$" run --cpu "$c" ident 0xZZ
expect 64 "^xcall: ident: leaf: 0x100000000 out of range 0\.\.4294967295$" run --cpu "$c" ident 0x100000000
expect 64 "^xcall: ident: subleaf: ' 1' is not a number$" run --cpu "$c" ident 1 ' 1'
expect 64 "^xcall: --timeout: 0 out of range 1\.\.60000$" run --cpu "$c" --timeout 0 ping
expect 64 "^xcall: --timeout: 60001 out of range 1\.\.60000$" run --cpu "$c" --timeout 60001 ping
expect 64 "^xcall: --timeout: 'soon' is not a number$" run --cpu "$c" --timeout soon ping
expect 64 "^xcall: --repeat: 'x' is not a number$" run --cpu "$c" --repeat x ping
# One number parser for every option: topology's --timeout says what
# run's does, word for word.
expect 64 "^xcall: --timeout: 'soon' is not a number$" topology --timeout soon
expect 64 "^xcall: --timeout: 0 out of range 1\.\.60000$" topology --timeout 0
expect 64 "^xcall: --timeout: -5 is negative: out of range 1\.\.60000$" topology --timeout=-5
for v in soon 0 60001 -1 0x 1e3 ' 5' 99999999999999999999; do
	xc run --cpu "$c" --timeout="$v" ping
	run_err=$err
	xc topology --timeout="$v"
	[ "$err" = "$run_err" ] && [ "$rc" = 64 ] && pass ||
		fail "--timeout '$v': topology says '$err', run '$run_err'"
done
expect 64 "^xcall: --interval: -1 is negative: out of range 0\.\.3600000$" run --cpu "$c" --interval=-1 ping
# No option is a digit: a negative number is a function argument wherever
# it stands, options before or after it, and is refused as negative, not
# as an unknown option.
expect 64 "^xcall: ident: leaf: -1 is negative: out of range 0\.\.4294967295$" run --cpu "$c" ident -1
expect 64 "^xcall: ident: subleaf: -0x2 is negative: out of range" run --cpu "$c" ident 1 -0x2
expect 64 "^xcall: spin: us: -5 is negative: out of range 1\.\.100000$" run --cpu "$c" spin -5 --json
expect 64 "^xcall: spin: us: -5 is negative: out of range 1\.\.100000$" run spin -5 --cpu "$c"
expect 64 "^xcall: ident: leaf: -12 is negative: out of range" run ident -12 0 --cpu "$c"
expect 64 "^xcall: spin: us: '-1x' is not a number$" run --cpu "$c" spin -1x
# A digit after an option letter in one word is still no option.
expect 64 "^xcall: -5: unknown option$" run -j5 --cpu "$c" ping
# '--' ends the options: every word after it is the function or one of
# its arguments.
expect 64 "^xcall: spin: us: -5 is negative: out of range 1\.\.100000$" run --cpu "$c" spin -- -5
expect 64 "^xcall: spin: us: '--json' is not a number$" run --cpu "$c" spin -- --json
expect 64 "^xcall: ping: takes 0 arguments, 1 given$" run --cpu "$c" -- ping --json
expect 64 "^xcall: run: '--all': no such function \(see 'xcall list'\)$" run --cpu "$c" -- --all ping
expect 64 "^xcall: run: no CPUs given \(use --cpu LIST, --all or --node N\)$" run ping
expect 64 "^xcall: run: --cpu, --all and --node exclude each other$" run --all --cpu "$c" ping
expect 64 "^xcall: run: --cpu, --all and --node exclude each other$" run --all --node 0 ping
expect 64 "^xcall: --node: 'x' is not a number$" run --node x ping
expect 64 "^xcall: --backend: 'foo': unknown backend \(auto, threads, kmod, daemon\)$" run --backend foo --cpu "$c" ping
XCALL_BACKEND=foo expect 64 "^xcall: XCALL_BACKEND: 'foo': unknown backend" run --cpu "$c" ping
expect 64 "^xcall: frob: no such command \(try 'xcall --help'\)$" frob
# argp's and getopt's errors too: one line, no "Try" hint.
expect 64 "^xcall: command: none given \(see 'xcall --help'\)$"
expect 64 "^xcall: --bogus: unknown option$" --bogus
expect 64 "^xcall: --bogus: unknown option$" run --bogus
expect 64 "^xcall: -z: unknown option$" run -z
expect 64 "^xcall: --cpu: requires an argument$" run --cpu
expect 64 "^xcall: --json: takes no argument$" run --json=1 --cpu "$c" ping
expect 64 "^xcall: list: takes no arguments \('x' given\)$" list x
expect 64 "^xcall: topology: takes no arguments \('x' given\)$" topology x
expect 64 "^xcall: status: takes no arguments \('x' given\)$" status x
expect 64 "^xcall: --bogus: unknown option$" list --bogus

# Refused (2): the machine cannot do what was asked.
expect 2 "^xcall: cpu $absent: no such CPU \(possible: [0-9,-]+\)$" run --cpu "$absent" probe
expect 2 "^xcall: cpu $absent: no such CPU" run --cpu "$c,$absent" probe
expect 2 "^xcall: cpu $absent-$((absent + 3)): no such CPU" run --cpu "$absent-$((absent + 3))" probe
expect 2 "^xcall: --cpu: '100000': no such CPU \(possible: [0-9,-]+\)$" run --cpu 100000 probe
# A stride is not a CPU: a huge one steps over the rest of the range.
xc run --json --cpu "$c-$c:99999999999" ping
[ "$rc" = 0 ] && [ "$(json_cpus)" = "$c" ] && pass ||
	fail "huge stride: rc=$rc out=$out err=$err"
# An xcall that sees FILE over sysfs' online list (xcall_bound).
online_as() {
	xcall_bound "$1" /sys/devices/system/cpu/online
}
# No CPU offline here: the last online one is, for an xcall that reads a
# shorter online list.
xcall_offline=$XCALL
if [ -z "$offline" ] && [ "$nonline" -gt 1 ]; then
	offline=$last_online
	grep -vx "$offline" <<<"$online" | paste -sd, >"$T/online"
	xcall_offline=$(online_as "$T/online") || offline=
fi
if [ -n "$offline" ]; then
	XCALL=$xcall_offline expect 2 "^xcall: cpu $offline: CPU is offline \(online: [0-9,-]+\)$" run --cpu "$offline" probe
elif [ "$nonline" -gt 1 ]; then
	xt_skip "no mount namespace to take CPU $last_online offline in: offline CPU not tried"
else
	xt_skip_env "one CPU, and online: offline CPU not tried"
fi
expect 2 "^xcall: --node: $nodes: no such NUMA node \(highest: $((nodes ? nodes - 1 : 0))\)$" run --node "$nodes" ping
expect 2 "^xcall: where: not available on the threads backend$" run --cpu "$c" where
# msr: the module's alone (the threads backend cannot read an MSR); an MSR
# off the allowlist is refused before any backend is asked, for anyone;
# off x86 it is on no backend.
case $(uname -m) in
x86_64|i?86)
	expect 2 "^xcall: msr: not available on the threads backend$" run --cpu "$c" msr 0x10 0xe8
	expect 2 "^xcall: msr: MSR 0x1b is not on the allowlist \(xcall\(4\)\); not permitted to anyone$" run --cpu "$c" msr 0x10 0x1b
	expect 2 "^xcall: msr: MSR 0xc0000080 is not on the allowlist" run --cpu "$c" msr 0xc0000080 ;;
*)
	expect 2 "^xcall: msr: not on this architecture$" run --cpu "$c" msr 0x10 ;;
esac
expect 64 "^xcall: msr: takes 1 to 4 arguments \(addr0 addr1 addr2 addr3\), 0 given$" run --cpu "$c" msr
expect 64 "^xcall: msr: takes 1 to 4 arguments \(addr0 addr1 addr2 addr3\), 5 given$" run --cpu "$c" msr 16 16 16 16 16
expect 64 "^xcall: msr: addr1: 0x100000000 out of range 0\.\.4294967295$" run --cpu "$c" msr 0x10 0x100000000
# CPUs that cannot be read: the message names the command that needed them.
echo junk >"$T/junk"
if xcall_junk=$(online_as "$T/junk"); then
	XCALL=$xcall_junk expect 2 "^xcall: run: cannot read the CPUs of this machine$" run --cpu "$c" ping
	XCALL=$xcall_junk expect 2 "^xcall: topology: cannot read the CPUs of this machine$" topology
else
	xt_skip "no mount namespace to hide the online CPUs in: unreadable CPUs not tried"
fi

# No usable backend (3).
XCALL_DEVICE=/nonexistent/xcall expect 3 "^xcall: backend kmod: /nonexistent/xcall: No such file or directory$" run --backend kmod --cpu "$c" ping
XCALL_DEVICE=/dev/null expect 3 "^xcall: backend kmod: /dev/null: " run --backend kmod --cpu "$c" ping
XCALL_DEVICE=/nonexistent/xcall XCALL_BACKEND=kmod expect 3 "^xcall: backend kmod: " topology
# The daemon backend, built in or not: no socket, or not in this library.
XCALL_SOCKET=/nonexistent/xcalld.sock expect 3 "^xcall: backend daemon: (/nonexistent/xcalld.sock: |not built into this libxcall$)" run --backend daemon --cpu "$c" ping

# stdout that cannot be written (74).
if [ -w /dev/full ]; then
	rc=0
	"$XCALL" list >/dev/full 2>"$T/err" || rc=$?
	[ "$rc" = 74 ] && grep -q "^xcall: stdout: No space left on device$" "$T/err" &&
		pass || fail "list >/dev/full: rc=$rc err=$(cat "$T/err")"
	# What argp writes itself, too.
	for args in --help --version --usage "run --help" "list --help" \
		    "topology --help" "status --help"; do
		rc=0
		# shellcheck disable=SC2086
		"$XCALL" $args >/dev/full 2>"$T/err" || rc=$?
		[ "$rc" = 74 ] && [ "$(wc -l <"$T/err")" = 1 ] &&
			grep -q "^xcall: stdout: " "$T/err" && pass ||
			fail "$args >/dev/full: rc=$rc err=$(cat "$T/err")"
	done
else
	xt_skip_env "no writable /dev/full: a stdout that fails not tried"
fi

# A call that fails on its CPU (1): the records still print, each says
# why, and stderr has one line per distinct error naming the CPUs. A worker
# busy for 100 ms cannot answer within 1 ms.
xc run --all --json --timeout 1 spin 100000
[ "$rc" = 1 ] && pass || fail "timeout: exit $rc, want 1"
[ "$(json_cpus)" = "$online" ] && pass || fail "timeout: records $(json_cpus | tr '\n' ,)"
[ "$(jq -r 'select(.ok == false and .errno == 110 and .error == "timed out") | .cpu' <<<"$out")" = "$online" ] &&
	pass || fail "timeout: records are not ETIMEDOUT: $out"
[ "$(jq -c 'keys' <<<"$out" | sort -u)" = '["cpu","errno","error","fn","ok","round"]' ] &&
	pass || fail "timeout: a failed record has only the envelope keys"
[ "$(wc -l <"$T/err")" = 1 ] && grep -Eq "^xcall: spin on cpu [0-9,-]+: timed out$" "$T/err" &&
	pass || fail "timeout: stderr '$err'"
xc run --cpu "$c" --timeout 1 spin 100000
[ "$rc" = 1 ] && grep -q "timed out" "$T/out" && pass ||
	fail "timeout (table): rc=$rc out=$out"

finish
