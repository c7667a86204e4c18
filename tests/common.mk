# SPDX-License-Identifier: GPL-2.0-only
# The runner of tests/common/check.h and tests/common/lib.sh, fed broken
# input.
#
#   check-skip-gate   a Check program and a shell script that skip a
#                     root-only test must fail under the gate (as root, or
#                     XCALL_TEST_ROOT_GATE=1) and pass, skips counted, as
#                     another user (tests/common/selftest.sh)

XT_SELFTEST	:= $(B)/tests/common/selftest

$(XT_SELFTEST): $(XT_SELFTEST).o $(XT_LIB)
	$(call quiet_cmd,LD,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(XT_SELFTEST).o: XCFLAGS += $(CHECK_CFLAGS)

.PHONY: check-skip-gate
check-skip-gate: $(XT_SELFTEST)
	@echo "  RUN      tests/common/selftest.sh"
	$(Q)$(SRC)/tests/common/selftest.sh $(XT_SELFTEST) $(SRC)
CHECK_TARGETS	+= check-skip-gate
