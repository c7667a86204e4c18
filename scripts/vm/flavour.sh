# SPDX-License-Identifier: GPL-2.0-only
# Sourced by scripts/vm/*.sh: what a guest flavour name means.
# shellcheck shell=bash disable=SC2034,SC2054

# flavour NAME: sets debarch, karch (kernel ARCH=), cross (CROSS_COMPILE=),
# qemu (the command and machine, as an array), console; fails if unknown.
flavour() {
	case "$1" in
	x86_64-6.1|x86_64-6.12)
		debarch=amd64 karch=x86 cross=
		qemu=(qemu-system-x86_64 -M pc -cpu qemu64 -m 512)
		console=ttyS0 ;;
	arm64-6.1)
		debarch=arm64 karch=arm64 cross=aarch64-linux-gnu-
		qemu=(qemu-system-aarch64 -M virt,gic-version=3
		      -cpu cortex-a57 -m 512)
		console=ttyAMA0 ;;
	ppc64le-6.1)
		debarch=ppc64el karch=powerpc cross=powerpc64le-linux-gnu-
		qemu=(qemu-system-ppc64 -M pseries,ic-mode=xive -cpu power10
		      -m 1024)
		console=hvc0 ;;
	*)
		return 1 ;;
	esac
}
