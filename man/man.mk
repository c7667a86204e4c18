# SPDX-License-Identifier: GPL-2.0-only
# Manual pages: every man/*.N of every part, with @VERSION@ in its .TH
# line replaced, is written to $(O)/man and installed from there in
# man<N>. check-man: each page formats without a groff warning, and the
# library examples (libxcall(3) EXAMPLES, the README's) compile as written
# and run.

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

check-man: $(LIBXCALL_A) $(XCALL_VERSION_H) $(MAN_PAGES)
	$(Q)set -e; for p in $(MAN_PAGES); do \
		echo "  MAN      $${p#$(B)/}"; \
		w=$$(LC_ALL=C.UTF-8 groff -man -ww -z $$p 2>&1); \
		if [ -n "$$w" ]; then echo "$$w" >&2; exit 1; fi; \
	done
	$(Q)CC="$(CC)" CPPFLAGS="-I$(B)/include" LIBS="$(LIBXCALL_LIBS)" \
		sh $(SRC)/tests/cli/examples.sh \
		$(SRC) $(LIBXCALL_A) $(B)/examples

CHECK_TARGETS	+= check-man
