# SPDX-License-Identifier: GPL-2.0-only
# libxcall: static and shared (version script, soname libxcall.so.1).
# Every lib/*.c is part of it.

LIBXCALL_SOVER	:= 1
LIB_SRCS	:= $(wildcard $(SRC)/lib/*.c)
LIB_OBJS	:= $(patsubst $(SRC)/%.c,$(B)/%.o,$(LIB_SRCS))
LIBXCALL_A	:= $(B)/lib/libxcall.a
LIBXCALL_SO	:= $(B)/lib/libxcall.so.$(LIBXCALL_SOVER)
LIBXCALL_PC	:= $(B)/lib/libxcall.pc
pkgconfigdir	?= $(libdir)/pkgconfig

$(LIBXCALL_A): $(LIB_OBJS)
	$(call quiet_cmd,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBXCALL_SO): $(LIB_OBJS) $(SRC)/lib/libxcall.map
	$(call quiet_cmd,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libxcall.so.$(LIBXCALL_SOVER) \
		-Wl,--version-script=$(SRC)/lib/libxcall.map -Wl,-z,defs \
		$(filter-out -static,$(XLDFLAGS)) $(LDFLAGS) \
		-o $@ $(LIB_OBJS) $(LIBXCALL_LIBS)
	$(Q)ln -sf libxcall.so.$(LIBXCALL_SOVER) $(B)/lib/libxcall.so

# pkg-config: the paths of `make install` and VERSION, written at build
# time (`pkg-config --cflags --libs libxcall`). A change of prefix or
# libdir on the command line rewrites it.
$(LIBXCALL_PC): $(SRC)/lib/libxcall.pc.in $(SRC)/VERSION FORCE
	$(Q)mkdir -p $(dir $@)
	$(Q)sed -e 's|@prefix@|$(prefix)|g' -e 's|@libdir@|$(libdir)|g' \
		-e 's|@includedir@|$(includedir)|g' \
		-e 's|@VERSION@|$(VERSION)|g' $< >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else \
		$(if $(Q),printf '  %-8s %s\n' GEN lib/libxcall.pc;) \
		mv -f $@.tmp $@; fi

.PHONY: lib install-lib FORCE
FORCE:
lib: $(LIBXCALL_A) $(if $(STATIC),,$(LIBXCALL_SO)) $(LIBXCALL_PC)
ALL_TARGETS += lib

install-lib: lib install-headers
	$(INSTALL) -d $(DESTDIR)$(libdir)
	$(INSTALL) -m 644 $(LIBXCALL_A) $(DESTDIR)$(libdir)/
	$(INSTALL) -m 755 $(LIBXCALL_SO) $(DESTDIR)$(libdir)/
	ln -sf libxcall.so.$(LIBXCALL_SOVER) $(DESTDIR)$(libdir)/libxcall.so
	$(INSTALL) -d $(DESTDIR)$(pkgconfigdir)
	$(INSTALL) -m 644 $(LIBXCALL_PC) $(DESTDIR)$(pkgconfigdir)/
INSTALL_TARGETS += install-lib

# The ABI a program is built against: <libxcall.h> and the version header
# it includes, the module's <xcall.h> and the daemon's protocol,
# <xcall/wire.h> (xcall-protocol(7)), which needs nothing else. lib/wire.h,
# the codec, stays inside.
.PHONY: install-headers
install-headers: $(XCALL_VERSION_H)
	$(INSTALL) -d $(DESTDIR)$(includedir)/xcall
	$(INSTALL) -m 644 $(SRC)/lib/libxcall.h $(SRC)/kmod/uapi/xcall.h \
		$(XCALL_VERSION_H) $(DESTDIR)$(includedir)/
	$(INSTALL) -m 644 $(SRC)/lib/xcall/wire.h $(DESTDIR)$(includedir)/xcall/
