# SPDX-License-Identifier: GPL-2.0-only
# The in-process call pool under ThreadSanitizer, and its benchmark.
#
#   make check-tsan   the pool's Check suite (tests/unit/test_pool.c) built
#                     with SAN=thread in $(O)/tsan, full stress
#   make bench-pool   round trips and throughput against their floors
#
# (check-unit and check-asan run the same suite without and with ASan.)

POOL_TSAN_B	:= $(B)/tsan
# Calls of the stress case under TSan (about 10 s for 1 M on 2 cores).
POOL_TSAN_CALLS	?= 1048576

.PHONY: check-tsan
check-tsan:
	$(Q)$(MAKE) -f $(SRC)/Makefile O=$(POOL_TSAN_B) SAN=thread \
		$(POOL_TSAN_B)/tests/unit/test_pool
	@echo "  RUN      tsan/tests/unit/test_pool"
	$(Q)$(call xt_run,XCALL_POOL_STRESS_CALLS=$(POOL_TSAN_CALLS) \
		TSAN_OPTIONS="halt_on_error=1 $(TSAN_OPTIONS)" \
		$(POOL_TSAN_B)/tests/unit/test_pool)
CHECK_TARGETS += check-tsan

BENCH_POOL	:= $(B)/tests/bench/bench_pool

$(BENCH_POOL): $(BENCH_POOL).o $(LIBXCALL_A)
	$(call link)

.PHONY: bench-pool
bench-pool: $(BENCH_POOL)
	$(Q)$(call bench_records,pool) $(BENCH_POOL) \
		$(if $(BENCH_QUICK),-s 21) $(BENCH_POOL_ARGS)
BENCH_TARGETS += bench-pool
ALL_TARGETS += $(BENCH_POOL)
