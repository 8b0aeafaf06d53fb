#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Create (once) the Debian trixie build root that builds the kernel and the
# module: the host (bookworm) has clang 16, too old for Rust in kernel 7.3.
. "$(dirname "$0")/lib.sh"

[ -f "$BUILDROOT/.complete" ] && exit 0
host_pkgs debootstrap
log "debootstrap trixie build root into $BUILDROOT (first run only)"
rm -rf "$BUILDROOT.tmp"
as_root debootstrap --variant=minbase trixie "$BUILDROOT.tmp" "$DEBIAN_MIRROR" >"$FERRODAX_CACHE/debootstrap-buildroot.log" 2>&1 ||
	die "debootstrap failed, see $FERRODAX_CACHE/debootstrap-buildroot.log"
cat >"$BUILDROOT.tmp/etc/apt/sources.list" <<SRC
deb $DEBIAN_MIRROR trixie main
deb $DEBIAN_MIRROR trixie-updates main
deb $DEBIAN_MIRROR trixie-backports main
SRC
log "installing toolchain and linux-source-7.3 into the build root"
as_root chroot "$BUILDROOT.tmp" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends -t trixie-backports $(echo $BUILDROOT_PKGS)" \
	>"$FERRODAX_CACHE/apt-buildroot.log" 2>&1 || die "apt in build root failed, see $FERRODAX_CACHE/apt-buildroot.log"
as_root chroot "$BUILDROOT.tmp" apt-get clean
touch "$BUILDROOT.tmp/.complete"
mv "$BUILDROOT.tmp" "$BUILDROOT"
log "build root ready"
