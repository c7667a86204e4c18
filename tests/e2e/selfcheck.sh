#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# selfcheck.sh DEBDIR: the verdict of scripts/e2e/run.sh, fed a guest
# that cannot finish. Given 1 s, qemu is killed before the kernel is up;
# run.sh must fail and say why. (It once died silently there: under
# pipefail its summary of the guest's steps, empty, ended the script
# before the reason was printed.)
set -uo pipefail
name=check-e2e-selfcheck
. "$SRC/tests/common/lib.sh"

out=$(XCALL_E2E_TIMEOUT=1 "$SRC/scripts/e2e/run.sh" "$1" 2>&1)
rc=$?
if [ "$rc" = 77 ]; then
	xt_skip "no Debian 12 image, which only root makes: run.sh skipped"
elif [ "$rc" = 0 ]; then
	fail "a guest given 1 s passed"
elif grep -q '^FAIL check-e2e: timeout after 1s' <<<"$out"; then
	pass
	echo "  ok       a guest given 1 s fails: timeout after 1s"
else
	fail "a guest given 1 s failed without saying why (exit $rc): $(tail -n 3 <<<"$out")"
fi
finish
