# SPDX-License-Identifier: GPL-2.0-only
# xcalld, the io_uring daemon, and its systemd units. Links libxcall
# statically. The units are generated with the install paths in them.

XCALLD_SRCS	:= $(wildcard $(SRC)/daemon/*.c)
XCALLD_OBJS	:= $(patsubst $(SRC)/%.c,$(B)/%.o,$(XCALLD_SRCS))
XCALLD_BIN	:= $(B)/daemon/xcalld
XCALLD_LIBS	:= -luring -lcap
# What the daemon's tests (tests/daemon.mk) build on: its headers, the
# policy and heap objects they link without the loop, the sysusers.d file
# that makes the user it drops to.
XCALLD_INC	:= -I$(SRC)/daemon
XCALLD_POLICY_O	:= $(B)/daemon/policy.o
XCALLD_HEAP_O	:= $(B)/daemon/heap.o
XCALLD_SYSUSERS	:= $(SRC)/daemon/systemd/xcalld-sysusers.conf
unitdir		?= /usr/lib/systemd/system
sysusersdir	?= /usr/lib/sysusers.d
tmpfilesdir	?= /usr/lib/tmpfiles.d
udevrulesdir	?= /usr/lib/udev/rules.d

$(XCALLD_BIN): $(XCALLD_OBJS) $(LIBXCALL_A)
	$(call link,$(XCALLD_LIBS))

# The units name the daemon by its installed path.
XCALLD_UNITS	:= $(B)/daemon/systemd/xcalld.service \
		   $(B)/daemon/systemd/xcalld.socket
$(B)/daemon/systemd/%: $(SRC)/daemon/systemd/%.in
	$(call quiet_cmd,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)sed -e 's|@sbindir@|$(sbindir)|g' -e 's|@sysconfdir@|$(sysconfdir)|g' \
		$< > $@

.PHONY: daemon install-daemon
daemon: $(XCALLD_BIN) $(XCALLD_UNITS)
ALL_TARGETS += daemon

install-daemon: daemon
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(unitdir) \
		$(DESTDIR)$(sysusersdir) $(DESTDIR)$(tmpfilesdir) \
		$(DESTDIR)$(sysconfdir)/xcall
	$(INSTALL) -m 755 $(XCALLD_BIN) $(DESTDIR)$(sbindir)/xcalld
	# From the templates again: the paths of this install, not the build's.
	for u in xcalld.service xcalld.socket; do \
		sed -e 's|@sbindir@|$(sbindir)|g' \
		    -e 's|@sysconfdir@|$(sysconfdir)|g' \
		    $(SRC)/daemon/systemd/$$u.in > $(DESTDIR)$(unitdir)/$$u && \
		chmod 644 $(DESTDIR)$(unitdir)/$$u || exit 1; \
	done
	$(INSTALL) -m 644 $(XCALLD_SYSUSERS) $(DESTDIR)$(sysusersdir)/xcalld.conf
	$(INSTALL) -m 644 $(SRC)/daemon/systemd/xcalld-tmpfiles.conf \
		$(DESTDIR)$(tmpfilesdir)/xcalld.conf
	[ -e $(DESTDIR)$(sysconfdir)/xcall/xcalld.conf ] || \
		$(INSTALL) -m 644 $(SRC)/daemon/xcalld.conf \
			$(DESTDIR)$(sysconfdir)/xcall/xcalld.conf
	if [ -e $(SRC)/kmod/udev/60-xcall.rules ]; then \
		$(INSTALL) -d $(DESTDIR)$(udevrulesdir) && \
		$(INSTALL) -m 644 $(SRC)/kmod/udev/60-xcall.rules \
			$(DESTDIR)$(udevrulesdir)/; fi
INSTALL_TARGETS += install-daemon
