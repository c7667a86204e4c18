# SPDX-License-Identifier: GPL-2.0-only
# Guest tests: xcall.ko in real Debian kernels under qemu (TCG, 4 vCPUs).
#
#   make check-vm            every flavour (the cells of scripts/vm/flavour.sh):
#                            fetch, build, boot, verdict, IPI counters
#   make check-vm VM_FLAVOURS='arm64-* x86_64-rt-6.1'   some of them
#   make check-vm-selftest   broken guests that the harness must fail
#   make bench-vm            tests/vm/bench_*.c in the x86_64-xapic-6.1 guest,
#                            cpuid.ko and xcall.ko loaded; prints the table
#   make fuzz-vm SECONDS=N   tests/vm/fuzz_kmod.c alone for N seconds in the
#                            x86_64-xapic-6.1 guest (VM_FUZZ_FLAVOUR)
#   make vm-progs            static guest programs (STATIC=1, any
#                            CROSS_COMPILE): tests/vm/test_*.c, fuzz_*.c,
#                            bench_*.c
#
# Kernels, headers, busybox and QEMU 10 are fetched with a private apt into
# $(XCALL_VM_CACHE) (default /var/cache/xcall-vm for root,
# ~/.cache/xcall-vm for others); everything built goes to $(O)/vm/. See
# scripts/vm/*.sh and tests/vm/guest.sh for the contract with the guest.

VM_FLAVOURS	?= *
VM_BENCH_FLAVOUR ?= x86_64-xapic-6.1
VM_TEST_SRCS	:= $(wildcard $(SRC)/tests/vm/test_*.c $(SRC)/tests/vm/fuzz_*.c \
			   $(SRC)/tests/vm/cell_*.c $(SRC)/tests/vm/tool_*.c)
VM_BENCH_SRCS	:= $(wildcard $(SRC)/tests/vm/bench_*.c)
VM_PROGS	:= $(patsubst $(SRC)/%.c,$(B)/%,$(VM_TEST_SRCS) $(VM_BENCH_SRCS))

$(B)/tests/vm/%: $(B)/tests/vm/%.o $(XT_LIB) $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS) -luring -lcap)

$(VM_PROGS:=.o): XCFLAGS += $(CHECK_CFLAGS)

VM_ENV		= SRC=$(SRC) B=$(B) $(if $(filter 1,$(V)),V=1)

.PHONY: vm-progs check-vm check-vm-selftest bench-vm
# The guests also run the static CLI, and a static xcalld over the module.
vm-progs: $(VM_PROGS) $(XCALL_BIN) $(XCALLD_BIN)

check-vm:
	$(Q)$(SRC)/scripts/deps.sh build && $(SRC)/scripts/deps.sh vm
	$(Q)set -f; $(VM_ENV) $(SRC)/scripts/vm/check.sh $(VM_FLAVOURS)
CHECK_TARGETS += check-vm

check-vm-selftest:
	$(Q)$(SRC)/scripts/deps.sh build && $(SRC)/scripts/deps.sh vm
	$(Q)$(VM_ENV) $(SRC)/scripts/vm/selftest.sh
CHECK_TARGETS += check-vm-selftest

# The fuzzer alone, for as long as asked (make check runs it by count).
VM_FUZZ_FLAVOUR	?= x86_64-xapic-6.1
SECONDS		?= 600
.PHONY: fuzz-vm
fuzz-vm:
	$(Q)$(SRC)/scripts/deps.sh build && $(SRC)/scripts/deps.sh vm
	$(Q)$(VM_ENV) $(SRC)/scripts/vm/build.sh $(VM_FUZZ_FLAVOUR)
	$(Q)$(VM_ENV) XCALL_VM_TIMEOUT=$$(( $(SECONDS) + 600 )) \
		$(SRC)/scripts/vm/run.sh --append \
		"XCALL_TESTS=fuzz_kmod XCALL_FUZZ_SECONDS=$(SECONDS)" \
		$(VM_FUZZ_FLAVOUR)

bench-vm:
	$(Q)$(SRC)/scripts/deps.sh build && $(SRC)/scripts/deps.sh vm
	$(Q)rm -f $(B)/vm/$(VM_BENCH_FLAVOUR)/bench_*.txt
	$(Q)$(VM_ENV) $(SRC)/scripts/vm/check.sh --bench $(VM_BENCH_FLAVOUR)
	$(Q)$(call bench_records,vm) cat $(B)/vm/$(VM_BENCH_FLAVOUR)/bench_*.txt | \
		grep -a '^XCALL-BENCH ' >$(BENCH_DIR)/vm.records
BENCH_TARGETS += bench-vm
