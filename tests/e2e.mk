# SPDX-License-Identifier: GPL-2.0-only
# End to end: the packages of `make deb` in a booted Debian 12.
#
#   check-e2e   scripts/e2e/run.sh: a Debian 12 image (debootstrap, made
#               once and cached, scripts/e2e/rootfs.sh) boots under qemu
#               TCG with its own 6.1 kernel and systemd as PID 1, and
#               tests/e2e/inside.sh takes the packages through apt install,
#               DKMS, socket activation, two users, reload, stop, start,
#               kill -9, systemd-analyze security and apt purge. As root
#               (debootstrap); as another user only once the image is
#               cached. First tests/e2e/selfcheck.sh: a guest given 1 s
#               must fail, saying why.

.PHONY: check-e2e
check-e2e: deb-once
	$(Q)$(SRC)/scripts/deps.sh e2e && $(SRC)/scripts/deps.sh vm
	@echo "  RUN      tests/e2e/selfcheck.sh"
	$(Q)$(call xt_run,SRC=$(SRC) B=$(B) $(SRC)/tests/e2e/selfcheck.sh $(DEB_DIR))
	@echo "  RUN      scripts/e2e/run.sh"
	$(Q)$(call xt_run,SRC=$(SRC) B=$(B) $(SRC)/scripts/e2e/run.sh $(DEB_DIR))
CHECK_TARGETS += check-e2e
