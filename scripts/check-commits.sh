#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check-commits.sh [RANGE]: the messages of the commits in RANGE (default
# main..HEAD) have a subject of at most 72 characters, a blank line after
# it, and a body. HACKING.md, "Commits". Not part of `make check`: commits
# from before this rule do not follow it.
set -euo pipefail
range=${1:-main..HEAD}
bad=0

for c in $(git rev-list --reverse "$range"); do
	subject=$(git log -1 --format=%s "$c")
	second=$(git log -1 --format=%B "$c" | sed -n 2p)
	body=$(git log -1 --format=%b "$c" | sed '/^[[:space:]]*$/d')
	why=
	[ "${#subject}" -le 72 ] || why="subject of ${#subject} characters"
	[ -z "$second" ] || why="${why:+$why, }no blank line after the subject"
	[ -n "$body" ] || why="${why:+$why, }no body"
	if [ -n "$why" ]; then
		echo "$(git log -1 --format=%h "$c") $subject: $why" >&2
		bad=1
	fi
done
exit $bad
