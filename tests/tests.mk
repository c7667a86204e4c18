# SPDX-License-Identifier: GPL-2.0-only
# Host tests. Each concern has its own fragment tests/*.mk beside this one.
#
# Every Check program (tests/*/test_*.c) has the one runner of
# tests/common/check.h for main() and its skips: "check.h" (-iquote, beside
# Check's own <check.h>), linked from $(XT_LIB).

XT_LIB		:= $(B)/tests/common/libxt.a

$(B)/tests/%.o: XCFLAGS += -iquote $(SRC)/tests/common
$(B)/tests/common/check.o: XCFLAGS += $(CHECK_CFLAGS)

$(XT_LIB): $(B)/tests/common/check.o
	$(call quiet_cmd,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# $(call xt_run,PROGRAM...): run a test; 77 (it skipped every test, and
# said why) is not a failure.
xt_run		= $(1) || { rc=$$?; [ $$rc = 77 ] || exit $$rc; }

include $(filter-out $(SRC)/tests/tests.mk,$(wildcard $(SRC)/tests/*.mk))
