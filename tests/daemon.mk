# SPDX-License-Identifier: GPL-2.0-only
# xcalld on the host: the codec suite, the daemon suite (starts xcalld on a
# temporary socket, threads backend; runs the client of xcall-protocol(7)
# that man/man.mk builds) and `systemd-analyze verify` of the units; in
# check-daemon-systemd, the units under a booted systemd. As root, the user
# xcalld is made with the shipped sysusers.d file. The daemon's paths are
# daemon/daemon.mk's variables (XCALLD_*).

DTEST_BINS	:= $(B)/tests/daemon/test_wire $(B)/tests/daemon/test_policy \
		   $(B)/tests/daemon/test_heap $(B)/tests/daemon/test_daemon
DTEST_OBJS	:= $(B)/tests/daemon/test_wire.o $(B)/tests/daemon/test_daemon.o \
		   $(B)/tests/daemon/harness.o $(B)/tests/daemon/test_policy.o \
		   $(B)/tests/daemon/test_heap.o

$(DTEST_OBJS): XCFLAGS += $(CHECK_CFLAGS) \
	-DXCALLD_BUILD_PATH='"$(XCALLD_BIN)"' -DXCALL_BUILD_PATH='"$(XCALL_BIN)"' \
	-DXCALL_SRC_DIR='"$(SRC)"' \
	-DXCALL_PROTO_EXAMPLE='"$(PROTO_EXAMPLE)"'

$(B)/tests/daemon/test_wire: $(B)/tests/daemon/test_wire.o $(XT_LIB) $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))

$(B)/tests/daemon/test_policy.o: XCFLAGS += $(XCALLD_INC)
$(B)/tests/daemon/test_policy: $(B)/tests/daemon/test_policy.o \
		$(XCALLD_POLICY_O) $(XT_LIB) $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))

# The deadline heap alone: the daemon's heap.o.
$(B)/tests/daemon/test_heap.o: XCFLAGS += $(XCALLD_INC)
$(B)/tests/daemon/test_heap: $(B)/tests/daemon/test_heap.o \
		$(XCALLD_HEAP_O) $(XT_LIB) $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))

$(B)/tests/daemon/harness.o $(B)/tests/daemon/test_daemon.o: \
	XCFLAGS += $(XCALLD_INC)
# The harness reads the daemon's built-in policy (xd_policy_default).
$(B)/tests/daemon/test_daemon: $(B)/tests/daemon/test_daemon.o \
		$(B)/tests/daemon/harness.o $(XCALLD_POLICY_O) $(XT_LIB) $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))

.PHONY: check-daemon check-daemon-units
check-daemon: $(DTEST_BINS) $(XCALLD_BIN) $(XCALL_BIN) check-daemon-units \
		$(PROTO_EXAMPLE)
	$(Q)if [ "$$(id -u)" = 0 ] && ! getent passwd xcalld >/dev/null; then \
		systemd-sysusers $(XCALLD_SYSUSERS); fi
	@echo "  RUN      tests/daemon/test_wire"
	$(Q)$(call xt_run,$(B)/tests/daemon/test_wire)
	@echo "  RUN      tests/daemon/test_policy"
	$(Q)$(call xt_run,$(B)/tests/daemon/test_policy)
	@echo "  RUN      tests/daemon/test_heap"
	$(Q)$(call xt_run,$(B)/tests/daemon/test_heap)
	@echo "  RUN      tests/daemon/test_daemon"
	$(Q)$(call xt_run,$(B)/tests/daemon/test_daemon)

# The daemon suite again with xcalld and the tests built with ASan+UBSan,
# LeakSanitizer on: a leak (a killed client's calls, a drained stop) fails
# the daemon's exit status. The daemon keeps its user there: LSan cannot
# inspect a process that dropped to another uid; so the test that it drops
# (tagged drops-user) is left out, not skipped.
.PHONY: check-daemon-asan check-daemon-run
check-daemon-asan:
	$(Q)ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1} \
	XCALLD_TEST_USER=- CK_EXCLUDE_TAGS=drops-user \
	$(MAKE) -f $(SRC)/Makefile O=$(B)/asan-daemon SAN=address,undefined \
		check-daemon-run

check-daemon-run: $(B)/tests/daemon/test_heap $(B)/tests/daemon/test_daemon \
		$(XCALLD_BIN) $(XCALL_BIN) $(PROTO_EXAMPLE)
	@echo "  RUN      tests/daemon/test_heap ($(if $(SAN),$(SAN),plain))"
	$(Q)$(call xt_run,$(B)/tests/daemon/test_heap)
	@echo "  RUN      tests/daemon/test_daemon ($(if $(SAN),$(SAN),plain))"
	$(Q)$(call xt_run,$(B)/tests/daemon/test_daemon)

check-daemon-units: $(XCALLD_BIN) $(XCALLD_UNITS)
	@echo "  RUN      tests/daemon/verify-units.sh"
	$(Q)$(SRC)/tests/daemon/verify-units.sh $(B) $(SRC)
CHECK_TARGETS += check-daemon check-daemon-asan

# xcalld under a booted systemd (systemd-nspawn on the host's /usr), as
# README installs it (`make install` into a DESTDIR the container lays
# over its /usr and /etc): socket activation, reload, stop. Root only.
DTEST_STAGE	:= $(B)/tests/daemon/systemd-boot.stage
.PHONY: check-daemon-systemd
check-daemon-systemd: $(XCALLD_BIN) $(XCALL_BIN)
	$(Q)rm -rf $(DTEST_STAGE)
	$(Q)$(MAKE) -f $(SRC)/Makefile O=$(B) DESTDIR=$(DTEST_STAGE) \
		install-daemon install-cli >/dev/null
	@echo "  RUN      tests/daemon/systemd-boot.sh"
	$(Q)$(call xt_run,$(SRC)/tests/daemon/systemd-boot.sh $(B) $(SRC) \
		$(DTEST_STAGE))
CHECK_TARGETS += check-daemon-systemd

# The codec under libFuzzer (clang), ASan and UBSan, for FUZZ_SECONDS from
# the committed seeds; new inputs it finds stay in $(O)/tests/fuzz/corpus.
FUZZ_CC		?= $(shell command -v clang-14 || command -v clang || echo clang-14)
FUZZ_SECONDS	?= 60
FUZZ_BIN	:= $(B)/tests/fuzz/fuzz_wire

$(FUZZ_BIN): $(SRC)/tests/fuzz/fuzz_wire.c $(SRC)/lib/wire.c $(SRC)/lib/wire.h \
		$(SRC)/lib/xcall/wire.h $(XCALL_VERSION_H)
	$(call quiet_cmd,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) -g -O1 -std=gnu11 -D_GNU_SOURCE \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I$(SRC)/kmod/uapi -I$(SRC)/lib -I$(B)/include -o $@ \
		$(SRC)/tests/fuzz/fuzz_wire.c $(SRC)/lib/wire.c

.PHONY: check-fuzz
check-fuzz: $(FUZZ_BIN)
	$(Q)mkdir -p $(B)/tests/fuzz/corpus
	@echo "  FUZZ     tests/fuzz/fuzz_wire ($(FUZZ_SECONDS) s)"
	$(Q)$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=33000 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=$(B)/tests/fuzz/ \
		$(B)/tests/fuzz/corpus $(SRC)/tests/fuzz/corpus/wire \
		> $(B)/tests/fuzz/fuzz.log 2>&1 || \
		{ tail -40 $(B)/tests/fuzz/fuzz.log; exit 1; }
	$(Q)grep -E '^stat::number_of_executed_units' $(B)/tests/fuzz/fuzz.log
CHECK_TARGETS += check-fuzz

# The round trip through xcalld with 1, 8 and 64 clients against a raw
# SOCK_SEQPACKET echo, one table from one run.
BENCH_DAEMON	:= $(B)/tests/daemon/bench_daemon
$(BENCH_DAEMON): $(B)/tests/daemon/bench_daemon.o $(LIBXCALL_A)
	$(call link)

.PHONY: bench-daemon
bench-daemon: $(BENCH_DAEMON) $(XCALLD_BIN)
	$(Q)$(call bench_records,daemon) $(BENCH_DAEMON) $(XCALLD_BIN) \
		$(if $(BENCH_QUICK),0.5)
BENCH_TARGETS += bench-daemon
