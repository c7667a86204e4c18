# SPDX-License-Identifier: GPL-2.0-only
# Manual pages: every man/*.N of every part, with @VERSION@ in its .TH
# line replaced, is written to $(O)/man and installed from there in
# man<N>. check-man: each page formats without a groff warning, the
# library examples (libxcall(3) EXAMPLES, the README's) compile as written
# and run, and the client of xcall-protocol(7) EXAMPLES compiles against
# the headers `make install` puts in a DESTDIR and nothing else
# (check-daemon runs it).

MAN_PAGES	:= $(patsubst $(SRC)/%,$(B)/%,$(wildcard $(SRC)/man/*.[0-9]))

$(B)/man/%: $(SRC)/man/% $(SRC)/VERSION
	$(call quiet_cmd,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)sed 's|@VERSION@|$(VERSION)|g' $< >$@

.PHONY: man install-man check-man
man: $(MAN_PAGES)
ALL_TARGETS += man

install-man: man
	$(Q)set -e; for p in $(MAN_PAGES); do \
		s=$${p##*.}; \
		$(INSTALL) -d $(DESTDIR)$(mandir)/man$$s; \
		$(INSTALL) -m 644 $$p $(DESTDIR)$(mandir)/man$$s/; \
	done
INSTALL_TARGETS += install-man

# A dependency from outside $(PROTO_DESTDIR) that names xcall would be a
# header of this tree, or of an older install, doing the installed ones' work.
PROTO_DESTDIR	:= $(B)/examples/destdir
PROTO_EXAMPLE	:= $(B)/examples/protocol-client
$(PROTO_EXAMPLE): $(SRC)/man/xcall-protocol.7 $(SRC)/lib/xcall/wire.h \
		  $(SRC)/lib/libxcall.h $(SRC)/kmod/uapi/xcall.h $(XCALL_VERSION_H)
	$(call quiet_cmd,EXAMPLE,$@)
	$(Q)rm -rf $(PROTO_DESTDIR) && mkdir -p $(PROTO_DESTDIR)
	$(Q)$(MAKE) -f $(SRC)/Makefile O=$(B) DESTDIR=$(PROTO_DESTDIR) \
		install-headers >/dev/null
	$(Q)sed -n '/^\.SH EXAMPLES/,/^\.SH /p' $< | \
		sed -n '/^\.nf$$/,/^\.fi$$/p' | sed '1d;$$d' | \
		sed 's/\\e/\\/g' >$@.c
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -Werror \
		-I$(PROTO_DESTDIR)$(includedir) -MD -MF $@.deps -o $@ $@.c
	$(Q)if tr ' ' '\n' <$@.deps | grep 'xcall.*\.h$$' | \
		grep -v '^$(PROTO_DESTDIR)/'; then \
		echo "$@: built with headers not installed" >&2; exit 1; fi

check-man: $(LIBXCALL_A) $(XCALL_VERSION_H) $(MAN_PAGES) $(PROTO_EXAMPLE)
	$(Q)set -e; for p in $(MAN_PAGES); do \
		echo "  MAN      $${p#$(B)/}"; \
		w=$$(LC_ALL=C.UTF-8 groff -man -ww -z $$p 2>&1); \
		if [ -n "$$w" ]; then echo "$$w" >&2; exit 1; fi; \
	done
	$(Q)CC="$(CC)" CPPFLAGS="-I$(B)/include" LIBS="$(LIBXCALL_LIBS)" \
		sh $(SRC)/tests/cli/examples.sh \
		$(SRC) $(LIBXCALL_A) $(B)/examples

CHECK_TARGETS	+= check-man
