// SPDX-License-Identifier: GPL-2.0-only
/*
 * A tool of the guest's /init (scripts/vm/init.sh), not a test: wait until
 * the console has sent everything written to it (tcdrain()). A kernel line
 * printed next can then not tear a line of the guest's report, which the
 * host parses.
 */
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	if (tcdrain(STDOUT_FILENO)) {
		perror("tool_drain");
		return 1;
	}
	return 0;
}
