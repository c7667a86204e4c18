# SPDX-License-Identifier: GPL-2.0-only
# The Debian packages (debian/, debhelper).
#
#   make deb    $(O)/deb/*.deb: xcall, libxcall1, libxcall-dev, xcalld,
#               xcall-dkms, with their .changes and .buildinfo
#
# dpkg-buildpackage writes its products beside the source tree, so the
# tree (what git tracks or would, or everything but .git and build dirs
# outside a clone) is copied to $(O)/deb/src and built there. Its
# debian/changelog is written from VERSION, the one place the release is
# written ('-' becomes '~': in a native package '-' would start a Debian
# revision), with the date of the last commit, so that the same commit
# builds the same packages. The package build is a make of its own: none
# of this make's variables (O=, prefix=, V=) reach it. Build packages:
# `scripts/deps.sh deb`.

DEB_DIR		:= $(B)/deb
DEB_SRC		:= $(DEB_DIR)/src
DEB_VERSION	:= $(subst -,~,$(VERSION))
DEB_PACKAGES	:= xcall libxcall1 libxcall-dev xcalld xcall-dkms
# $(O) itself, when it is inside the tree and git does not ignore it.
DEB_O_REL	:= $(patsubst $(SRC)/%,%,$(filter $(SRC)/%,$(B)))
# The names of this make's command-line variables, which make exports to
# every command: the package build must see none of them.
DEB_UNSET	= MAKEFLAGS MFLAGS MAKELEVEL \
		   $(foreach v,$(MAKEOVERRIDES),$(if $(findstring =,$(v)),\
			$(firstword $(subst =, ,$(v)))))
# What the packages are built with: at most 2 jobs on the shared machine.
DEB_JOBS	?= 2

# $(call deb_tree[,TAR OPTIONS]): a tar of the tree to $(DEB_SRC).
define deb_tree
if git -C $(SRC) rev-parse --git-dir >/dev/null 2>&1; then \
	git -C $(SRC) ls-files -z --cached --others --exclude-standard | \
	grep -zv '^$(if $(DEB_O_REL),$(DEB_O_REL)/,/)' | \
	tar -C $(SRC) --null -T - --ignore-failed-read $(1) -cf - ; \
else \
	tar -C $(SRC) --exclude-vcs --exclude='./build*' \
	$(if $(DEB_O_REL),--exclude='./$(DEB_O_REL)') $(1) -cf - . ; \
fi
endef
# Its fingerprint: names, contents and modes, not times or owners.
DEB_TAR_SAME	:= --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner

.PHONY: deb
deb:
	$(Q)$(SRC)/scripts/deps.sh build
	$(Q)$(SRC)/scripts/deps.sh deb
	$(call quiet_cmd,COPY,$(DEB_SRC))
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	$(Q)$(call deb_tree) | tar -C $(DEB_SRC) -xf -
	$(Q)$(call deb_tree,$(DEB_TAR_SAME)) | md5sum >$(DEB_DIR)/tree.md5.new
	$(call quiet_cmd,GEN,$(DEB_SRC)/debian/changelog)
	$(Q)d=$$(git -C $(SRC) log -1 --format=%cD 2>/dev/null) || d=; \
	[ -n "$$d" ] || d=$$(date -R); \
	printf '%s\n' 'xcall ($(DEB_VERSION)) unstable; urgency=medium' '' \
		'  * Release $(VERSION), built by make deb.' '' \
		" -- $$(sed -n 's/^Maintainer: //p' $(SRC)/debian/control)  $$d" \
		>$(DEB_SRC)/debian/changelog
	$(call quiet_cmd,DPKG,$(DEB_DIR))
	$(Q)cd $(DEB_SRC) && env $(addprefix -u ,$(DEB_UNSET)) \
		dpkg-buildpackage -us -uc -b -j$(DEB_JOBS) \
		>$(DEB_DIR)/build.log 2>&1 || { \
		tail -n 40 $(DEB_DIR)/build.log >&2; \
		echo "xcall: dpkg-buildpackage failed: $(DEB_DIR)/build.log" >&2; \
		exit 1; }
	$(Q)mv $(DEB_DIR)/tree.md5.new $(DEB_DIR)/tree.md5
	$(Q)cd $(DEB_DIR) && ls *.deb

# The packages of the tree as it is now: `make deb`, unless the last one
# built them from the same files (its $(DEB_DIR)/tree.md5). `make check`
# builds them once, in check-deb, and check-e2e takes them from there.
.PHONY: deb-once
deb-once:
	$(Q)if [ -s $(DEB_DIR)/tree.md5 ] && \
	   [ "$$($(call deb_tree,$(DEB_TAR_SAME)) | md5sum)" = \
	     "$$(cat $(DEB_DIR)/tree.md5)" ]; then \
		echo "  DEB      $(patsubst $(B)/%,%,$(DEB_DIR)): up to date"; \
	else \
		$(MAKE) -f $(SRC)/Makefile O=$(B) deb; \
	fi
