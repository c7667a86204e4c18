/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcalld over the module for a guest test (xcalld_spawn.h), with Check's
 * assertions. For unchecked fixtures: one daemon per TCase.
 */
#ifndef XT_VM_XCALLD_H
#define XT_VM_XCALLD_H

#include "check.h"
#include "xcalld_spawn.h"

static pid_t xt_xcalld_pid;

static inline void xt_xcalld_start(const char *sock)
{
	const char *why = "";

	xt_xcalld_pid = xt_xcalld_spawn(sock, -1, &why);
	ck_assert_msg(xt_xcalld_pid > 0, "%s", why);
}

static inline void xt_xcalld_stop(void)
{
	int st = xt_xcalld_term(xt_xcalld_pid);

	ck_assert_msg(!st, "xcalld did not stop cleanly (status %#x)", st);
}

#endif /* XT_VM_XCALLD_H */
