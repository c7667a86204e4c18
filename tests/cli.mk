# SPDX-License-Identifier: GPL-2.0-only
# CLI tests, sanitizer and cross builds of lib and cli.
#
#   check-cli    run the built xcall: JSON parses (jq) and names the CPUs
#                asked for, every bad input gives its message and exit
#                status with nothing on stdout, --help, xcall(1) and
#                `xcall list` agree with the catalogue, the bash
#                completion (cli/xcall.bash) offers what they say
#   check-asan   check-unit and check-cli again, built with ASan+UBSan in
#                $(O)/asan
#   check-cross  lib and cli cross-built for aarch64 and ppc64le in
#                $(O)/cross-<arch>, against the private sysroot of the
#                foreign libraries (scripts/sysroot.sh, shared with the
#                guest builds)

CLI_TESTS	:= $(sort $(wildcard $(SRC)/tests/cli/test_*.sh))

# The unit test of the CLI's pure formatting links cli/format.o as well.
$(B)/tests/unit/test_format.o: XCFLAGS += -I$(SRC)/cli
$(B)/tests/unit/test_format: $(B)/tests/unit/test_format.o \
			     $(B)/cli/format.o $(XT_LIB) $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))

# And that of `xcall latency`'s renderings, cli/heatmap.o with it.
$(B)/tests/unit/test_heatmap.o: XCFLAGS += -I$(SRC)/cli
$(B)/tests/unit/test_heatmap: $(B)/tests/unit/test_heatmap.o \
			      $(B)/cli/heatmap.o $(B)/cli/format.o $(XT_LIB) \
			      $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))

.PHONY: check-cli check-asan check-cross
check-cli: $(XCALL_BIN)
	$(Q)set -e; for t in $(CLI_TESTS); do \
		echo "  RUN      $${t#$(SRC)/}"; \
		$(call xt_run,XCALL=$(XCALL_BIN) SRC=$(SRC) bash $$t); \
	done

# The pool's stress cases take a smaller count under the sanitizers.
check-asan:
	$(Q)XCALL_POOL_STRESS_CALLS=$${XCALL_POOL_STRESS_CALLS:-131072} \
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1} \
	$(MAKE) -f $(SRC)/Makefile O=$(B)/asan SAN=address,undefined \
		check-unit check-cli

CROSS_ARCHS	:= aarch64:arm64 powerpc64le:ppc64el

# $(1) gnu arch, $(2) Debian arch
define cross_build
	$(Q)sr=$$($(SRC)/scripts/sysroot.sh $(2)) && \
	$(MAKE) -f $(SRC)/Makefile O=$(B)/cross-$(1) \
		CROSS_COMPILE=$(1)-linux-gnu- \
		CFLAGS="-O2 -g -isystem $$sr/include" \
		lib cli
	$(Q)for f in $(B)/cross-$(1)/cli/xcall \
		     $(B)/cross-$(1)/lib/libxcall.so.$(LIBXCALL_SOVER); do \
		m=$$($(1)-linux-gnu-readelf -h $$f | sed -n 's/^ *Machine: *//p'); \
		echo "  CHECK    $${f#$(B)/}: $$m"; \
		case "$$m" in $(3)) ;; *) echo "wrong machine: $$m" >&2; exit 1;; esac; \
	done

endef

check-cross:
	$(call cross_build,aarch64,arm64,AArch64)
	$(call cross_build,powerpc64le,ppc64el,PowerPC64*)

CHECK_TARGETS	+= check-cli check-asan check-cross

# So does the unit test of `xcall clock`'s output, with cli/clockfmt.o.
$(B)/tests/unit/test_clockfmt.o: XCFLAGS += -I$(SRC)/cli
$(B)/tests/unit/test_clockfmt: $(B)/tests/unit/test_clockfmt.o \
			       $(B)/cli/clockfmt.o $(B)/cli/format.o \
			       $(XT_LIB) $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))
