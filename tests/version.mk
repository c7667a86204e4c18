# SPDX-License-Identifier: GPL-2.0-only
# One release, one version: VERSION.
#
#   check-version   xcall and xcalld --version, xcall_version.h, every man
#                   page's .TH, the DKMS tree and xcall.ko's .modinfo (built
#                   in $(O)/version against KDIR or a kernel the guest tests
#                   cached, else left to the guests) all say VERSION

.PHONY: check-version
check-version: $(XCALL_BIN) $(XCALLD_BIN) $(XCALL_VERSION_H) $(MAN_PAGES) dkms
	@echo "  RUN      tests/version.sh"
	$(Q)KDIR=$(KDIR) $(if $(filter 1,$(V)),V=1) $(SRC)/tests/version.sh \
		$(SRC) $(B) $(XCALL_BIN) $(XCALLD_BIN)
CHECK_TARGETS += check-version
