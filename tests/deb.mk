# SPDX-License-Identifier: GPL-2.0-only
# The Debian packages (debian/deb.mk).
#
#   check-deb   make deb, then tests/deb/check-deb.sh: lintian without an
#               error, every package's files and maintainer scripts, and
#               a program outside the tree built with `pkg-config
#               libxcall` against the unpacked libxcall1 and libxcall-dev

.PHONY: check-deb
check-deb: deb
	@echo "  RUN      tests/deb/check-deb.sh"
	$(Q)CC="$(CC)" $(SRC)/tests/deb/check-deb.sh \
		$(SRC) $(DEB_DIR) $(DEB_VERSION)
CHECK_TARGETS += check-deb
