# SPDX-License-Identifier: GPL-2.0-only
#
# xcall: top-level build. Plain GNU make, quiet unless V=1, out of tree in
# $(O) (default build/), honours prefix/DESTDIR, KDIR for the module.
#
# Each part has its own fragment (lib/lib.mk, cli/cli.mk, ...). A fragment
# adds its checks to CHECK_TARGETS and its benchmarks to BENCH_TARGETS.
#
#   make run     install build deps (as root), build, run `xcall run --all probe`
#   make check   every test: host, sanitizers, cross builds, guests
#   make bench   benchmarks (print one table each)

O		?= build
B		:= $(abspath $(O))
SRC		:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

prefix		?= /usr/local
exec_prefix	?= $(prefix)
bindir		?= $(exec_prefix)/bin
sbindir		?= $(exec_prefix)/sbin
libdir		?= $(exec_prefix)/lib
includedir	?= $(prefix)/include
datarootdir	?= $(prefix)/share
datadir		?= $(datarootdir)
mandir		?= $(datarootdir)/man
bashcompdir	?= $(datadir)/bash-completion/completions
sysconfdir	?= /etc
DESTDIR		?=

# The release, written once, in VERSION. All else that says it is made from
# it at build time: $(O)/include/xcall_version.h (XCALL_VERSION, which
# libxcall.h includes), the module's -DXCALL_VERSION (kmod/Kbuild reads the
# copy of VERSION beside it), the manual pages, dkms.conf. `make
# check-version` proves that every one of them agrees.
VERSION		:= $(shell grep -Ex '[0-9]+\.[0-9]+\.[0-9]+([~+-][0-9A-Za-z.~+-]+)?' \
			   $(SRC)/VERSION)
ifeq ($(VERSION),)
$(error $(SRC)/VERSION: want one line MAJOR.MINOR.PATCH[-suffix])
endif
XCALL_VERSION_H	:= $(B)/include/xcall_version.h

CROSS_COMPILE	?=
CC		:= $(CROSS_COMPILE)gcc
AR		:= $(CROSS_COMPILE)ar
INSTALL		?= install

# SAN=address,undefined or SAN=thread builds everything with that sanitizer.
SAN		?=

ifeq ($(V),1)
Q		:=
else
Q		:= @
MAKEFLAGS	+= --no-print-directory
endif

# CFLAGS, and CPPFLAGS and LDFLAGS when set, come after the project's own
# flags (a package build passes dpkg-buildflags' hardening this way).
CFLAGS		?= -O2 -g
XCFLAGS		:= -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
		   -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
		   -I$(SRC)/kmod/uapi -I$(SRC)/lib -I$(B)/include \
		   -MMD -MP -fPIC -pthread
XLDFLAGS	:= -pthread
# WERROR=1 (as `make check` builds): a warning fails the build.
ifneq ($(WERROR),)
XCFLAGS		+= -Werror
endif
ifneq ($(SAN),)
XCFLAGS		+= -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
XLDFLAGS	+= -fsanitize=$(SAN)
endif
ifneq ($(STATIC),)
XLDFLAGS	+= -static
endif

# Libraries libxcall needs, for programs that link libxcall.a (beside
# -pthread): none.
LIBXCALL_LIBS	:=
CHECK_CFLAGS	:= $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS	:= $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

quiet_cmd	= $(if $(Q),@printf '  %-8s %s\n' '$(1)' '$(patsubst $(B)/%,%,$(2))';)

# $(call link,LIBS): the recipe of every program linked with libxcall.a:
# the objects and archives among its prerequisites (which name
# $(LIBXCALL_A) too) with libxcall.a last of them, LIBS of the program's
# own, then what libxcall needs.
define link
	$(call quiet_cmd,LD,$@)
	$(Q)$(CC) $(XLDFLAGS) $(LDFLAGS) -o $@ \
		$(filter-out $(LIBXCALL_A),$(filter %.o %.a,$^)) $(LIBXCALL_A) \
		$(1) $(LIBXCALL_LIBS)
endef

# Every object may include libxcall.h: the generated header comes first
# (afterwards each object's .d names it).
$(B)/%.o: $(SRC)/%.c | $(XCALL_VERSION_H)
	$(call quiet_cmd,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(XCFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

CHECK_TARGETS	:=
BENCH_TARGETS	:=
ALL_TARGETS	:=
INSTALL_TARGETS	:=

.PHONY: all run check bench deps install clean
all:

$(XCALL_VERSION_H): $(SRC)/VERSION
	$(call quiet_cmd,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)printf '%s\n' '/* SPDX-License-Identifier: LGPL-2.1-or-later */' \
		'/* Generated from VERSION by the Makefile: do not edit. */' \
		'#ifndef XCALL_VERSION_H' '#define XCALL_VERSION_H' \
		'#define XCALL_VERSION		"$(VERSION)"' '#endif' >$@

# The parts first, then the tests, which use the parts' variables.
include $(SRC)/lib/lib.mk
include $(SRC)/cli/cli.mk
include $(SRC)/daemon/daemon.mk
include $(SRC)/kmod/kmod.mk
include $(SRC)/man/man.mk
include $(SRC)/debian/deb.mk
include $(SRC)/python/python.mk
include $(SRC)/tests/tests.mk

all: $(ALL_TARGETS)

# Debian packages. As root: installs what is missing. Otherwise prints the
# exact apt-get line and fails.
deps:
	$(Q)$(SRC)/scripts/deps.sh build

run: deps
	$(Q)$(MAKE) -f $(SRC)/Makefile O=$(O) all
	$(B)/cli/xcall run --all probe

check:
	$(Q)$(SRC)/scripts/deps.sh all
	$(Q)$(MAKE) -f $(SRC)/Makefile O=$(O) WERROR=1 all
	$(Q)set -e; for t in $(CHECK_TARGETS); do \
		printf '\n==> make %s\n' $$t; \
		$(MAKE) -f $(SRC)/Makefile O=$(O) $$t; \
	done
	@echo "make check: all of $(CHECK_TARGETS) passed"

# Every benchmark, even after one failed, then the one summary
# (tests/bench.mk): a target missed is reported, a benchmark that failed or
# left a record missing fails.
bench: all
	$(Q)rm -rf $(B)/bench
	$(Q)failed=; for t in $(BENCH_TARGETS) bench-summary; do \
		printf '\n==> make %s\n' $$t; \
		$(MAKE) -f $(SRC)/Makefile O=$(O) $$t || failed="$$failed $$t"; \
	done; \
	[ -z "$$failed" ] || { echo "make bench: failed:$$failed" >&2; exit 1; }

install: $(INSTALL_TARGETS)

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
