# SPDX-License-Identifier: GPL-2.0-only
# The contributor's guide against the code.
#
#   check-hacking   every `file.c:function` HACKING.md names exists
#                   (tests/hacking.sh), and a document naming ones that do
#                   not is refused

.PHONY: check-hacking
check-hacking:
	@echo "  RUN      tests/hacking.sh"
	$(Q)$(SRC)/tests/hacking.sh $(SRC)
	$(Q)t=$$(mktemp) && trap 'rm -f "$$t"' EXIT && \
	printf '%s\n' '`daemon/loop.c:no_such_function`' '`lib/no_such_file.c:x`' >"$$t" && \
	if $(SRC)/tests/hacking.sh $(SRC) "$$t" 2>/dev/null; then \
		echo "FAIL check-hacking: a document of wrong names passed" >&2; \
		exit 1; fi
CHECK_TARGETS	+= check-hacking
