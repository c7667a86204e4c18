# SPDX-License-Identifier: GPL-2.0-only
# Benchmarks: the CLI's own cost, and the one summary of `make bench`.
#
#   make bench-cli            `xcall run --cpu 1 probe` as a whole process
#                             against `taskset -c 1 true` (wall and cpu)
#   make bench-summary        the table of the records the benchmarks left in
#                             $(O)/bench (and $(O)/bench/summary.json)
#   make check-bench-summary  the collector (tests/bench/summary.py) fed
#                             good, broken and missing records
#                             (tests/bench/test_summary.sh); in make check
#
# Every benchmark target writes its records (tests/common/bench.h) to
# $(BENCH_DIR)/NAME.records, emptied first; `make bench` empties the
# folder, runs every target of BENCH_TARGETS even when one fails, then
# bench-summary, and fails if a benchmark or a record did. BENCH_QUICK=1
# takes fewer samples everywhere: about a minute.

BENCH_DIR	:= $(B)/bench
BENCH_TARGETS_FILE := $(SRC)/tests/bench/targets
BENCH_QUICK	?=

# $(call bench_records,NAME): the start of a benchmark's command line, which
# sends its records to $(BENCH_DIR)/NAME.records.
bench_records	= rm -f $(BENCH_DIR)/$(1).records && mkdir -p $(BENCH_DIR) && \
		  XCALL_BENCH_RECORDS=$(BENCH_DIR)/$(1).records

BENCH_CLI	:= $(B)/tests/bench/bench_cli
$(BENCH_CLI): $(BENCH_CLI).o
	$(call quiet_cmd,LD,$@)
	$(Q)$(CC) $(XLDFLAGS) $(LDFLAGS) -o $@ $^

.PHONY: bench-cli bench-summary check-bench-summary
bench-cli: $(BENCH_CLI) $(XCALL_BIN)
	$(Q)$(call bench_records,cli) $(BENCH_CLI) \
		$(if $(BENCH_QUICK),-s 51) $(BENCH_CLI_ARGS) $(XCALL_BIN)
BENCH_TARGETS += bench-cli
ALL_TARGETS += $(BENCH_CLI)

bench-summary:
	$(Q)mkdir -p $(BENCH_DIR)
	$(Q)python3 $(SRC)/tests/bench/summary.py $(if $(BENCH_QUICK),--quick) \
		--json $(BENCH_DIR)/summary.json $(BENCH_TARGETS_FILE) \
		$(sort $(wildcard $(BENCH_DIR)/*.records))

check-bench-summary:
	@echo "  RUN      tests/bench/test_summary.sh"
	$(Q)$(call xt_run,SRC=$(SRC) bash $(SRC)/tests/bench/test_summary.sh)
CHECK_TARGETS += check-bench-summary
