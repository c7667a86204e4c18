# SPDX-License-Identifier: GPL-2.0-only
# Check suites: every tests/unit/test_*.c is one runner program linked with
# libxcall.a. `make check-unit` runs them all; `make check-asan` runs them
# again, and the CLI tests, built with ASan+UBSan in $(O)/asan.

UNIT_SRCS	:= $(wildcard $(SRC)/tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst $(SRC)/%.c,$(B)/%,$(UNIT_SRCS))

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(XT_LIB) $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))

$(UNIT_BINS:=.o): XCFLAGS += $(CHECK_CFLAGS)

.PHONY: unit check-unit check-asan
unit: $(UNIT_BINS)
ALL_TARGETS += unit

check-unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do \
		echo "  RUN      $${t#$(B)/}"; $(call xt_run,$$t); \
	done
CHECK_TARGETS += check-unit
