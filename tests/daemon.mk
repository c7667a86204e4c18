# SPDX-License-Identifier: GPL-2.0-only
# xcalld on the host: the codec suite, the daemon suite (starts xcalld on a
# temporary socket, threads backend) and `systemd-analyze verify` of the
# units. As root, the user xcalld is made with the shipped sysusers.d file.

DTEST_BINS	:= $(B)/tests/daemon/test_wire $(B)/tests/daemon/test_daemon
DTEST_OBJS	:= $(B)/tests/daemon/test_wire.o $(B)/tests/daemon/test_daemon.o \
		   $(B)/tests/daemon/harness.o

$(DTEST_OBJS): XCFLAGS += $(CHECK_CFLAGS) \
	-DXCALLD_BUILD_PATH='"$(XCALLD_BIN)"'

$(B)/tests/daemon/test_wire: $(B)/tests/daemon/test_wire.o $(LIBXCALL_A)
	$(call quiet_cmd,LD,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $< $(LIBXCALL_A) $(LIBXCALL_LIBS) $(CHECK_LIBS)

$(B)/tests/daemon/test_daemon: $(B)/tests/daemon/test_daemon.o \
		$(B)/tests/daemon/harness.o $(LIBXCALL_A)
	$(call quiet_cmd,LD,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $(filter %.o,$^) $(LIBXCALL_A) \
		$(LIBXCALL_LIBS) $(CHECK_LIBS)

.PHONY: check-daemon check-daemon-units
check-daemon: $(DTEST_BINS) $(XCALLD_BIN) check-daemon-units
	$(Q)if [ "$$(id -u)" = 0 ] && ! getent passwd xcalld >/dev/null; then \
		systemd-sysusers $(SRC)/daemon/systemd/xcalld-sysusers.conf; fi
	@echo "  RUN      tests/daemon/test_wire"
	$(Q)$(B)/tests/daemon/test_wire
	@echo "  RUN      tests/daemon/test_daemon"
	$(Q)$(B)/tests/daemon/test_daemon

check-daemon-units: $(XCALLD_UNITS) $(XCALLD_BIN)
	@echo "  RUN      tests/daemon/verify-units.sh"
	$(Q)$(SRC)/tests/daemon/verify-units.sh $(B) $(SRC)
CHECK_TARGETS += check-daemon
