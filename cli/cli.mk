# SPDX-License-Identifier: GPL-2.0-only
# xcall, the command line tool. Links libxcall statically. Its bash
# completion, cli/xcall.bash, is installed as $(bashcompdir)/xcall.

CLI_SRCS	:= $(wildcard $(SRC)/cli/*.c)
CLI_OBJS	:= $(patsubst $(SRC)/%.c,$(B)/%.o,$(CLI_SRCS))
XCALL_BIN	:= $(B)/cli/xcall

$(XCALL_BIN): $(CLI_OBJS) $(LIBXCALL_A)
	$(call link)

.PHONY: cli install-cli install-completion
cli: $(XCALL_BIN)
ALL_TARGETS += cli

install-cli: cli
	$(INSTALL) -d $(DESTDIR)$(bindir)
	$(INSTALL) -m 755 $(XCALL_BIN) $(DESTDIR)$(bindir)/xcall
INSTALL_TARGETS += install-cli

install-completion:
	$(INSTALL) -d $(DESTDIR)$(bashcompdir)
	$(INSTALL) -m 644 $(SRC)/cli/xcall.bash $(DESTDIR)$(bashcompdir)/xcall
INSTALL_TARGETS += install-completion
