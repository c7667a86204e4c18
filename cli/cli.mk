# SPDX-License-Identifier: GPL-2.0-only
# xcall, the command line tool. Links libxcall statically.

CLI_SRCS	:= $(wildcard $(SRC)/cli/*.c)
CLI_OBJS	:= $(patsubst $(SRC)/%.c,$(B)/%.o,$(CLI_SRCS))
XCALL_BIN	:= $(B)/cli/xcall

$(XCALL_BIN): $(CLI_OBJS) $(LIBXCALL_A)
	$(call link)

.PHONY: cli install-cli
cli: $(XCALL_BIN)
ALL_TARGETS += cli

install-cli: cli
	$(INSTALL) -d $(DESTDIR)$(bindir)
	$(INSTALL) -m 755 $(XCALL_BIN) $(DESTDIR)$(bindir)/xcall
INSTALL_TARGETS += install-cli
