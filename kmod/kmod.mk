# SPDX-License-Identifier: GPL-2.0-only
# xcall.ko: top-level glue for the out-of-tree module.
#
#   make module [KDIR=/lib/modules/$(uname -r)/build] [ARCH=arm64
#               CROSS_COMPILE=aarch64-linux-gnu-]
#
# Kbuild writes its objects next to the sources, so kmod/ (Kbuild, sources,
# uapi/) is mirrored into $(O)/kmod, with VERSION beside them, and built
# there: the checkout stays clean and each build dir has its own module.
# The build fails on any compiler or modpost warning (the log is kept in
# $(O)/kmod/build.log), and drops its objects so that the next build warns
# again.
#
#   make dkms           $(O)/dkms/xcall-$(VERSION): the same mirror and
#                       dkms.conf, the tree DKMS builds from
#   make install-dkms   that tree into $(DESTDIR)$(dkmssrcdir) (/usr/src);
#                       not part of `make install`

KDIR		?= /lib/modules/$(shell uname -r)/build
KMOD_DIR	:= $(B)/kmod
KMOD_KO		:= $(KMOD_DIR)/xcall.ko
KMOD_SRCS	:= $(wildcard $(SRC)/kmod/Kbuild $(SRC)/kmod/*.[ch] \
			      $(SRC)/kmod/uapi/*.h)
DKMS_DIR	:= $(B)/dkms/xcall-$(VERSION)
dkmssrcdir	?= /usr/src

# $(call kmod_mirror,DIR): kmod/'s sources and VERSION into DIR, each
# file only if it differs, so that kbuild rebuilds only what changed.
define kmod_mirror
	$(Q)mkdir -p $(1)/uapi
	$(Q)for f in $(patsubst $(SRC)/kmod/%,%,$(KMOD_SRCS)); do \
		cmp -s $(SRC)/kmod/$$f $(1)/$$f || \
		cp -p $(SRC)/kmod/$$f $(1)/$$f || exit 1; \
	done
	$(Q)cmp -s $(SRC)/VERSION $(1)/VERSION || cp -p $(SRC)/VERSION $(1)/
endef

# Kernel make: ARCH and CROSS_COMPILE only when given, V=1 passed on; O=
# is ours, not the kernel's output dir.
KMOD_MAKE	= $(MAKE) -C $(KDIR) M=$(KMOD_DIR) O= \
		  $(if $(ARCH),ARCH=$(ARCH)) \
		  $(if $(CROSS_COMPILE),CROSS_COMPILE=$(CROSS_COMPILE)) \
		  $(if $(filter 1,$(V)),V=1)

.PHONY: module module-clean dkms install-dkms
module:
	$(Q)test -f $(KDIR)/Makefile || { \
		echo "xcall: no kernel build tree at KDIR=$(KDIR)" >&2; \
		echo "xcall: install linux-headers-$$(uname -r) or pass KDIR=" >&2; \
		exit 1; }
	$(Q)for f in $(KMOD_DIR)/Kbuild $(KMOD_DIR)/*.[ch] $(KMOD_DIR)/uapi/*.h; do \
		[ ! -e "$$f" ] || [ -e "$(SRC)/kmod/$${f#$(KMOD_DIR)/}" ] || \
		[ "$${f%.mod.c}" != "$$f" ] || rm -f "$$f"; \
	done
	$(call kmod_mirror,$(KMOD_DIR))
	$(Q)$(KMOD_MAKE) modules >$(KMOD_DIR)/build.log 2>&1; rc=$$?; \
		grep -v -e '^make.*: \(Enter\|Leav\)ing directory' \
			$(KMOD_DIR)/build.log; exit $$rc
	$(Q)if grep -i 'warning' $(KMOD_DIR)/build.log >/dev/null; then \
		echo "xcall: the module build warns (see above): failing" >&2; \
		rm -f $(KMOD_DIR)/*.o $(KMOD_DIR)/*.ko; \
		exit 1; \
	fi

module-clean:
	$(Q)if [ -f $(KDIR)/Makefile ] && [ -d $(KMOD_DIR) ]; then \
		$(KMOD_MAKE) clean; fi

dkms:
	$(call quiet_cmd,GEN,$(DKMS_DIR))
	$(Q)rm -rf $(B)/dkms
	$(call kmod_mirror,$(DKMS_DIR))
	$(Q)sed 's|@VERSION@|$(VERSION)|g' $(SRC)/kmod/dkms.conf.in \
		>$(DKMS_DIR)/dkms.conf

install-dkms: dkms
	$(INSTALL) -d $(DESTDIR)$(dkmssrcdir)
	rm -rf $(DESTDIR)$(dkmssrcdir)/xcall-$(VERSION)
	cp -R $(DKMS_DIR) $(DESTDIR)$(dkmssrcdir)/
