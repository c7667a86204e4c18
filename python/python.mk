# SPDX-License-Identifier: GPL-2.0-only
# xcall.py, the Python client of xcalld (xcall-protocol(7)): one module,
# standard library only, nothing to build. Installed where Debian's python3
# finds it: $(prefix)/lib/python3/dist-packages with prefix=/usr (as the
# python3-xcall package has it), else the versioned dist-packages of
# /usr/local that python3 searches. pythondir= overrides.

PYTHON		?= python3
XCALL_PY	:= $(SRC)/python/xcall.py
ifeq ($(prefix),/usr)
pythondir	?= $(prefix)/lib/python3/dist-packages
else
pythondir	?= $(prefix)/lib/python$(shell $(PYTHON) -c \
	'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || \
	echo 3)/dist-packages
endif

.PHONY: install-python
install-python:
	$(INSTALL) -d $(DESTDIR)$(pythondir)
	$(INSTALL) -m 644 $(XCALL_PY) $(DESTDIR)$(pythondir)/xcall.py
INSTALL_TARGETS += install-python
