# SPDX-License-Identifier: GPL-2.0-only
# One release, one version: VERSION.
#
#   check-version   xcall and xcalld --version, xcall_version.h, every man
#                   page's .TH and the DKMS tree all say VERSION; xcall.ko's
#                   is checked where it is loaded, in every guest
#                   (tests/vm/guest.sh)

.PHONY: check-version
check-version: $(XCALL_BIN) $(XCALLD_BIN) $(XCALL_VERSION_H) $(MAN_PAGES) dkms
	@echo "  RUN      tests/version.sh"
	$(Q)$(SRC)/tests/version.sh \
		$(SRC) $(B) $(XCALL_BIN) $(XCALLD_BIN)
CHECK_TARGETS += check-version
