#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `xcall run --timeline` on the host, where no module is loaded: its bad
# inputs and the backends without a timeline each give their status and
# one line on stderr, with nothing on stdout. The timeline itself is
# tested through the module in the guests (tests/vm/test_timeline.c).
. "$(dirname "$0")/lib.sh"

c=$first_online

expect 64 "^xcall: --repeat: 0 out of range 1\.\.1000000$" \
	run --cpu "$c" --timeline --repeat 0 ping
expect 64 "^xcall: --repeat: 1000001 out of range 1\.\.1000000$" \
	run --cpu "$c" --timeline --repeat 1000001 ping
expect 64 "^xcall: --timeline: takes no --interval: its calls follow each other at once$" \
	run --cpu "$c" --timeline --interval 0 ping
expect 2 "^xcall: ping --timeline: not available on the threads backend \(the module alone sees a call's stages: --backend kmod\)$" \
	run --cpu "$c" --timeline --backend threads ping
# Without --backend it is the module's, even when $XCALL_BACKEND says
# otherwise; here there is no /dev/xcall (a device that is not one works
# as well: the kmod backend refuses it).
XCALL_DEVICE=$T/none expect 3 "^xcall: backend kmod: $T/none: No such file or directory$" \
	run --cpu "$c" --timeline ping
XCALL_BACKEND=threads XCALL_DEVICE=$T/none expect 3 "^xcall: backend kmod: " \
	run --cpu "$c" --timeline ping
# The usual checks come first: a bad function or CPU list is still 64.
expect 64 "^xcall: run: 'pnig': no such function" \
	run --cpu "$c" --timeline pnig
expect 64 "^xcall: --cpu: 'x': not a CPU list" run --cpu x --timeline ping

finish
