# SPDX-License-Identifier: GPL-2.0-only
# Guest tests: xcall.ko in real Debian kernels under qemu (TCG, 4 vCPUs).
#
#   make check-vm            every flavour: fetch, build, boot, verdict
#   make check-vm VM_FLAVOURS=arm64-6.1
#   make bench-vm            tests/vm/bench_*.c in the x86_64-6.1 guest,
#                            cpuid.ko and xcall.ko loaded; prints the table
#   make vm-progs            static guest programs (STATIC=1, any
#                            CROSS_COMPILE): tests/vm/test_*.c, bench_*.c
#
# Kernels, headers and busybox are cached in $(XCALL_VM_CACHE) (default
# /var/cache/xcall-vm); everything built goes to $(O)/vm/. See
# scripts/vm/*.sh and tests/vm/guest.sh for the contract with the guest.

VM_FLAVOURS	?= *
VM_BENCH_FLAVOUR ?= x86_64-xapic-6.1
VM_TEST_SRCS	:= $(wildcard $(SRC)/tests/vm/test_*.c)
VM_BENCH_SRCS	:= $(wildcard $(SRC)/tests/vm/bench_*.c)
VM_PROGS	:= $(patsubst $(SRC)/%.c,$(B)/%,$(VM_TEST_SRCS) $(VM_BENCH_SRCS))

$(B)/tests/vm/%: $(B)/tests/vm/%.o $(LIBXCALL_A)
	$(call quiet_cmd,LD,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $< $(LIBXCALL_A) $(LIBXCALL_LIBS) \
		$(CHECK_LIBS) -luring -lcap

$(VM_PROGS:=.o): XCFLAGS += $(CHECK_CFLAGS)

VM_ENV		= SRC=$(SRC) B=$(B) $(if $(filter 1,$(V)),V=1)

.PHONY: vm-progs check-vm bench-vm
vm-progs: $(VM_PROGS) $(XCALL_BIN)

check-vm:
	$(Q)$(SRC)/scripts/deps.sh build && $(SRC)/scripts/deps.sh vm
	$(Q)set -f; $(VM_ENV) $(SRC)/scripts/vm/check.sh $(VM_FLAVOURS)
CHECK_TARGETS += check-vm

bench-vm:
	$(Q)$(SRC)/scripts/deps.sh build && $(SRC)/scripts/deps.sh vm
	$(Q)$(VM_ENV) $(SRC)/scripts/vm/check.sh --bench $(VM_BENCH_FLAVOUR)
BENCH_TARGETS += bench-vm
