# SPDX-License-Identifier: GPL-2.0-only
# The Python client (python/xcall.py) against a live xcalld of the build,
# started as tests/daemon/harness.c starts it (temporary socket, threads
# backend, user xcalld as root: made here with the shipped sysusers.d file,
# as check-daemon does), with the built xcall as the reference.

.PHONY: check-python
check-python: $(XCALLD_BIN) $(XCALL_BIN)
	$(Q)if [ "$$(id -u)" = 0 ] && ! getent passwd xcalld >/dev/null; then \
		systemd-sysusers $(XCALLD_SYSUSERS); fi
	@echo "  RUN      tests/python/test_xcall.py"
	$(Q)XCALLD=$(XCALLD_BIN) XCALL=$(XCALL_BIN) XCALL_SRC=$(SRC) \
		PYTHONPATH=$(SRC)/python \
		$(PYTHON) -B $(SRC)/tests/python/test_xcall.py
CHECK_TARGETS += check-python
