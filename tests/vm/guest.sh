#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# What runs inside every guest (busybox sh, as root, PID 1's child), for
# `make check-vm`. The contract with scripts/vm/init.sh and run.sh:
#
#   - Available: /xcall/xcall.ko (= $XCALL_KO), /xcall/bin/xcall (the static
#     CLI, on $PATH; xcalld beside it when the daemon is built),
#     /xcall/tests/* (tests/vm/test_*.c, static; scripts/vm/selftest.sh
#     adds programs of its own),
#     /xcall/kmods/*.ko (x86: the image's cpuid.ko and msr.ko, not loaded),
#     busybox applets, /proc /sys /dev (devtmpfs) /tmp mounted.
#   - Environment: XCALL_FLAVOUR (a name of scripts/vm/flavour.sh's
#     table), XCALL_KO, XCALL_DIR=/xcall; cwd /xcall; optional XCALL_TESTS
#     and whatever else the host put on the kernel command line.
#   - The module is NOT loaded when this starts: load it here.
#   - Exit status 0 is a pass, anything else a failure. init.sh prints the
#     one verdict line; the host fails the run anyway if a kernel line
#     reports BUG/WARNING/Oops/lockdep/a stall (flavour.sh's $vm_bad).
#   - Print what a person needs to see why it failed; do not print the words
#     the host scans kernel lines for (BUG:, WARNING:, Oops, ...) yourself.
set -u

fail=0
note() { echo "guest: $*"; }

if ! insmod "$XCALL_KO"; then
	note "insmod $XCALL_KO failed"
	exit 1
fi
if [ ! -c /dev/xcall ]; then
	note "/dev/xcall missing after insmod"
	fail=1
fi
# x86: msr.ko's /dev/cpu/N/msr, the oracle of test_msr.
if [ -e /xcall/kmods/msr.ko ] && ! insmod /xcall/kmods/msr.ko; then
	note "insmod msr.ko failed"
	fail=1
fi

# One version (VERSION): the module as loaded, its file's .modinfo (busybox
# modinfo wants modules.dep: read it raw), xcall and xcalld all say it.
# The host checks the man pages and the DKMS tree (tests/version.sh).
v_cli=$(xcall --version | sed -n '1s/^xcall //p')
v_sys=$(cat /sys/module/xcall/version 2>/dev/null)
v_ko=$(tr '\000' '\n' <"$XCALL_KO" | sed -n 's/^version=//p')
v_d=$v_cli
[ ! -x /xcall/bin/xcalld ] ||
	v_d=$(/xcall/bin/xcalld --version | sed -n '1s/^xcalld //p')
if [ -n "$v_cli" ] && [ "$v_sys" = "$v_cli" ] && [ "$v_ko" = "$v_cli" ] &&
   [ "$v_d" = "$v_cli" ]; then
	note "version $v_cli: module, xcall.ko, xcall and xcalld agree: pass"
else
	note "versions differ: /sys/module/xcall/version '$v_sys'," \
		"xcall.ko '$v_ko', xcall '$v_cli', xcalld '$v_d': FAIL"
	fail=1
fi

# Check suites. The guest is slow (TCG): give each test more time.
export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-10}"
# Every test_* and fuzz_* program; XCALL_TESTS=a,b (kernel command line)
# runs only those, which may also be a cell's own (cell_*).
for t in /xcall/tests/*; do
	[ -x "$t" ] || continue
	name=${t##*/}
	if [ -n "${XCALL_TESTS:-}" ]; then
		case ",$XCALL_TESTS," in *",$name,"*) ;; *) continue ;; esac
	else
		case "$name" in test_*|fuzz_*) ;; *) continue ;; esac
	fi
	note "running $name"
	if "$t"; then
		note "$name: pass"
	else
		note "$name: FAIL (exit $?)"
		fail=1
	fi
done

# The CLI through the module: one JSON record per online CPU, each ok and
# from its own CPU; probe says what it interrupted (never "none", which is
# the threads backend's answer) and agrees with the threads backend on the
# hardware id and node of every CPU; where never shows a raw address.
ncpu=$(grep -c '^processor' /proc/cpuinfo)
# cli_check 'FN [ARG...]': run it on all CPUs through the module, check
# the records (in /tmp/cli-FN.json).
cli_check() {
	out=/tmp/cli-${1%% *}.json
	# shellcheck disable=SC2086
	if ! xcall run --backend kmod --all --json $1 >"$out"; then
		note "xcall run --backend kmod --all --json $1: exit $?"
		return 1
	fi
	n=$(grep -c '"ok":true' "$out")
	if [ "$n" != "$ncpu" ] || [ "$(wc -l <"$out")" != "$ncpu" ]; then
		note "xcall $1: $n ok records of $(wc -l <"$out"), want $ncpu"
		cat "$out"
		return 1
	fi
	c=0
	while [ $c -lt "$ncpu" ]; do
		grep -q "\"cpu\":$c," "$out" || {
			note "xcall $1: no record of cpu $c"; return 1; }
		c=$((c + 1))
	done
	return 0
}
# Keys of probe that both backends must agree on, one line per CPU.
ids() { sed 's/.*"cpu":\([0-9]*\),.*"node":\([0-9]*\),"hwid":\([0-9]*\),.*/\1 \2 \3/' "$1"; }
if [ -e /dev/xcall ]; then
	for fn in ping probe clock ident where; do
		if cli_check $fn; then
			note "xcall run --backend kmod --all --json $fn: pass"
		else
			note "xcall run --backend kmod --all --json $fn: FAIL"
			fail=1
		fi
	done
	if grep -q '"ctx":"none"' /tmp/cli-probe.json; then
		note "xcall probe through kmod: ctx none: FAIL"
		fail=1
	fi
	if grep -E '"sym":"0x|0x[0-9a-f]{12}' /tmp/cli-where.json; then
		note "xcall where: a raw address: FAIL"
		fail=1
	fi
	# msr: on x86 the TSC and the microcode revision of every CPU in one
	# round, an MSR off the allowlist refused (exit 2) even for root;
	# elsewhere list says it is not here and a call is refused (exit 2).
	case $(uname -m) in
	x86_64|i?86)
		if cli_check "msr 0x10 0x8b" &&
		   [ "$(grep -c '"msr0":"0x10","value0":"0x[0-9a-f]\{16\}","msr1":"0x8b","value1":"0x' \
			/tmp/cli-msr.json)" = "$ncpu" ]; then
			note "xcall run --backend kmod --all msr 0x10 0x8b: pass"
		else
			note "xcall run --backend kmod --all msr 0x10 0x8b: FAIL"
			cat /tmp/cli-msr.json
			fail=1
		fi
		xcall run --backend kmod --cpu 0 msr 0x1b 2>/tmp/msr.err
		st=$?
		if [ $st = 2 ] && grep -q 'allowlist' /tmp/msr.err; then
			note "xcall msr 0x1b (off the allowlist): exit 2: pass"
		else
			note "xcall msr 0x1b: exit $st, want 2: FAIL"
			cat /tmp/msr.err
			fail=1
		fi ;;
	*)
		xcall run --backend kmod --cpu 0 msr 0x10 2>/tmp/msr.err
		st=$?
		if [ $st = 2 ] && grep -q 'not on this architecture' /tmp/msr.err &&
		   xcall list | grep -q '^msr .*none (not on this architecture)'; then
			note "msr off x86: not listed, exit 2: pass"
		else
			note "msr off x86: exit $st, want 2, or list: FAIL"
			cat /tmp/msr.err
			xcall list
			fail=1
		fi ;;
	esac
	if xcall run --backend threads --all --json probe >/tmp/cli-threads.json &&
	   [ "$(ids /tmp/cli-probe.json)" = "$(ids /tmp/cli-threads.json)" ]; then
		note "probe: kmod and threads backends agree on cpu/node/hwid: pass"
	else
		note "probe: kmod and threads backends disagree: FAIL"
		cat /tmp/cli-probe.json /tmp/cli-threads.json
		fail=1
	fi
fi

# xcall run --timeline through the module: a summary per CPU, every call
# timed and none failed (tests/vm/test_timeline.c judges the stages
# themselves); the table goes to the log, for people.
if [ -e /dev/xcall ]; then
	if xcall run --timeline --all --repeat 20 --json ping >/tmp/tl.json &&
	   [ "$(grep -c '"calls":20,"failed":0,' /tmp/tl.json)" = "$ncpu" ]; then
		note "xcall run --timeline --all --json ping: pass"
	else
		note "xcall run --timeline --all --json ping: FAIL"
		cat /tmp/tl.json
		fail=1
	fi
	xcall run --timeline --cpu 1 --repeat 200 ping ||
		{ note "xcall run --timeline --cpu 1: FAIL"; fail=1; }
fi

# xcall latency through the module: the matrix is square over every CPU,
# with no CPU to itself, and its calls are real IPIs: each target's
# function-call IPI counter in /proc/interrupts (the row test_ipi.c reads)
# rises by at least one per call made to it. A busy loop on every CPU
# keeps an idle CPU that polls (ppc64 snooze, x86 poll idle) from taking a
# call without an IPI. The judge must refuse counters that did not rise,
# and counters one short on one CPU. (Not the threads backend's matrix: a
# pool worker parked between calls is woken by the scheduler's own
# function-call IPI on 6.12, one a call.) The threads backend's matrix is
# checked for its shape.
# Few samples: a TCG guest is slow, and the shape, not the figures, is
# judged here. stderr is the console, a terminal: the progress line goes
# to a file instead, shown if the run fails.
LAT="xcall latency --samples 6 --duration 60 --timeout 10000"
# ipi_row: the function-call IPI counter of every CPU, on one line.
ipi_row() {
	awk -v arch="$(uname -m)" '
		NR == 1 { n = NF; next }
		{
			d = ""
			for (i = n + 2; i <= NF; i++) d = d " " $i
			if ((arch == "x86_64" && $1 == "CAL:") ||
			    (arch == "aarch64" && d ~ /Function call interrupts/) ||
			    (arch ~ /^ppc64/ && ($NF == "IPI" || $NF ~ /^IPI-[0-9]+$/))) {
				for (i = 2; i <= n + 1; i++) printf "%s ", $i
				print ""
				exit
			}
		}' /proc/interrupts
}
# lat_shape FILE: the CSV of `xcall latency --csv` has one line per ordered
# pair of distinct CPUs of 0..ncpu-1 and no other; says why not.
lat_shape() {
	awk -F, -v n="$ncpu" '
		NR == 1 { next }
		{
			if ($1 == $2 || $1 >= n || $2 >= n || seen[$1 "," $2]++ ||
			    $5 < 1) { print "bad line: " $0; bad = 1 }
			rows++
		}
		END {
			if (rows != n * (n - 1)) {
				print rows " pairs, want " n * (n - 1); bad = 1
			}
			exit bad
		}' "$1"
}
# lat_ipis BEFORE AFTER FILE: each CPU's counter rose by at least the calls
# the matrix of FILE made to it (its samples and two warm-up calls a pair).
lat_ipis() {
	awk -F, -v before="$1" -v after="$2" '
		BEGIN { n = split(before, b, " "); split(after, a, " ") }
		NR > 1 { calls[$2] += $5 + 2 }
		END {
			for (c = 0; c < n; c++) {
				rise = a[c + 1] - b[c + 1]
				printf "%scpu %d: %d calls, +%d IPIs", c ? "; " : "",
					c, calls[c], rise
				if (rise < calls[c]) bad = 1
			}
			print ""
			exit bad
		}' "$3"
}
# lat_fake BEFORE FILE D: counters BEFORE risen by the calls of FILE's
# matrix to each CPU, and by D more on the last: the judge's own test.
lat_fake() {
	awk -F, -v before="$1" -v d="$3" '
		NR > 1 { calls[$2] += $5 + 2 }
		END {
			n = split(before, b, " ")
			for (c = 0; c < n; c++)
				printf "%d ", b[c + 1] + calls[c] + (c == n - 1 ? d : 0)
			print ""
		}' "$2"
}
# lat_busy: a busy loop pinned to every CPU; their pids in $busy.
lat_busy() {
	busy=""
	c=0
	while [ $c -lt "$ncpu" ]; do
		taskset "$(printf '%x' $((1 << c)))" \
			sh -c 'while :; do :; done' &
		busy="$busy $!"
		c=$((c + 1))
	done
}
lat_check() {
	if [ -z "$(ipi_row)" ]; then
		note "latency: no function-call IPI row in /proc/interrupts"
		return 1
	fi
	lat_busy
	before=$(ipi_row)
	$LAT --backend kmod --csv --svg /tmp/lat.svg >/tmp/lat.csv 2>/tmp/lat.err
	rc=$?
	after=$(ipi_row)
	# shellcheck disable=SC2086
	kill $busy
	wait 2>/dev/null
	[ $rc = 0 ] || { note "latency: kmod: exit $rc"; cat /tmp/lat.err
		return 1; }
	sed 's/^/guest: latency csv: /' /tmp/lat.csv
	why=$(lat_shape /tmp/lat.csv) ||
		{ note "latency: kmod matrix: $why"; return 1; }
	if [ "$(grep -c '<rect class="cell"' /tmp/lat.svg)" != \
	     $((ncpu * (ncpu - 1))) ] || ! grep -q '^</svg>$' /tmp/lat.svg; then
		note "latency: the SVG has not one cell per pair"
		return 1
	fi
	why=$(lat_ipis "$before" "$after" /tmp/lat.csv)
	rc=$?
	note "latency: kmod IPIs: $why"
	[ $rc = 0 ] ||
		{ note "latency: a target took fewer IPIs than calls"; return 1; }
	# The judge takes counters that rose by the calls exactly, and must
	# refuse them unchanged, or one short on the last CPU.
	exact=$(lat_fake "$before" /tmp/lat.csv 0)
	short=$(lat_fake "$before" /tmp/lat.csv -1)
	lat_ipis "$before" "$exact" /tmp/lat.csv >/dev/null || {
		note "latency: the IPI judge refused '$before' -> '$exact'"
		return 1; }
	for a in "$before" "$short"; do
		if lat_ipis "$before" "$a" /tmp/lat.csv >/dev/null; then
			note "latency: the IPI judge took '$before' -> '$a'"
			return 1
		fi
	done
	$LAT --backend threads --csv >/tmp/lat-t.csv 2>/tmp/lat.err ||
		{ note "latency: threads: exit $?"; cat /tmp/lat.err; return 1; }
	why=$(lat_shape /tmp/lat-t.csv) ||
		{ note "latency: threads matrix: $why"; return 1; }
	return 0
}
if [ -e /dev/xcall ]; then
	if lat_check; then
		note "latency: kmod matrix of $ncpu CPUs, from real IPIs: pass"
		# The heatmap itself, for the console.
		$LAT --backend kmod --samples 20 2>/tmp/lat.err |
			sed 's/^/guest: latency heatmap: /'
	else
		note "latency: FAIL"
		fail=1
	fi
fi

# xcalld over the module (io_uring commands on /dev/xcall): it opens the
# device as root, then becomes uid 65534 with no capability left; a root
# client's privileged calls still pass, because the module judges the
# opener of the file and the daemon's policy lets root run everything.
# daemon_check: start it, call through it, read its credentials, stop it.
daemon_check() {
	sock=/tmp/xcalld.sock
	/xcall/bin/xcalld --socket $sock --config /nonexistent --user 65534 \
		--backend kmod 2>/tmp/xcalld.log &
	dpid=$!
	i=0
	# Ready when it answers a status request (no notify socket here).
	while ! XCALL_SOCKET=$sock xcall status --json >/tmp/st.json \
			2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 $dpid 2>/dev/null; then
			note "xcalld did not start"; cat /tmp/xcalld.log
			return 1
		fi
		usleep 100000 2>/dev/null || sleep 1
	done
	grep -q '"daemon":{[^}]*"backend":"kmod"' /tmp/st.json || {
		note "xcalld status: not serving through the module"
		cat /tmp/st.json; return 1; }
	export XCALL_SOCKET=$sock
	for fn in ping probe where "spin 100"; do
		# shellcheck disable=SC2086
		xcall run --backend daemon --all --json $fn >/tmp/d.json || {
			note "xcall run --backend daemon $fn: exit $?"
			cat /tmp/d.json /tmp/xcalld.log; return 1; }
		n=$(grep -c '"ok":true' /tmp/d.json)
		[ "$n" = "$ncpu" ] || {
			note "daemon $fn: $n ok records, want $ncpu"
			cat /tmp/d.json; return 1; }
	done
	# xcall latency through the daemon: a whole matrix.
	$LAT --backend daemon --samples 2 --csv >/tmp/dl.csv 2>/tmp/lat.err || {
		note "xcall latency --backend daemon: exit $?"
		cat /tmp/lat.err; return 1; }
	why=$(lat_shape /tmp/dl.csv) || {
		note "xcall latency --backend daemon: $why"; return 1; }
	unset XCALL_SOCKET
	grep -q '"ctx":"none"' /tmp/d.json && {
		note "daemon: a record says ctx none: not the module"; return 1; }
	if ! grep -q "^Uid:.65534.65534.65534.65534" /proc/$dpid/status ||
	   ! grep -q "^CapEff:.0000000000000000" /proc/$dpid/status ||
	   ! grep -q "^CapBnd:.0000000000000000" /proc/$dpid/status; then
		note "xcalld kept privileges"
		grep -E 'Uid|Cap' /proc/$dpid/status
		return 1
	fi
	kill -TERM $dpid
	wait $dpid || { note "xcalld exit $? after SIGTERM"
		cat /tmp/xcalld.log; return 1; }
	return 0
}
if [ -x /xcall/bin/xcalld ] && [ -e /dev/xcall ]; then
	if daemon_check; then
		note "xcalld over the module (uring_cmd): pass"
	else
		note "xcalld over the module (uring_cmd): FAIL"
		fail=1
	fi
fi

if grep -q '^xcall ' /proc/modules && ! rmmod xcall; then
	note "rmmod xcall failed"
	fail=1
fi
exit $fail
