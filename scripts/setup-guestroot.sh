#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Create (once) the Debian trixie root filesystem the test VM boots from over
# virtio-9p (read-only; the guest puts tmpfs where it needs to write).
# Prints its path.
. "$(dirname "$0")/lib.sh"

# The second and third lines are what fstests (make fstests) calls at run
# time: xfs_io, dbench, quota tools, the libraries its helpers link to, ...;
# the last what make bench uses: perf for profiles, matplotlib for the plot.
GUEST_PKGS="bash coreutils util-linux procps kmod e2fsprogs xfsprogs ndctl fio
stress-ng python3 attr acl psmisc gawk bc xz-utils file strace
dbench quota uuid-runtime keyutils libcap2-bin liburing2 libaio1t64 libgdbm6t64
libgdbm-compat4t64 perl sed diffutils findutils time bsdextrautils hostname sqlite3
linux-perf python3-matplotlib tar"
GUEST_CRATES="fsx@0.3.2 pjdfstest@0.2.2"
guestroot="$FERRODAX_CACHE/guestroot-$(key_of "$GUEST_PKGS" "$GUEST_CRATES" "$0")"

if [ -f "$guestroot/.complete" ]; then
	echo "$guestroot"
	exit 0
fi
host_pkgs debootstrap
log "debootstrap trixie guest root into $guestroot (first run only)"
rm -rf "$guestroot.tmp"
as_root debootstrap --variant=minbase --include="$(echo $GUEST_PKGS | tr ' ' ,)" \
	trixie "$guestroot.tmp" "$DEBIAN_MIRROR" >"$FERRODAX_CACHE/debootstrap-guest.log" 2>&1 ||
	die "debootstrap failed, see $FERRODAX_CACHE/debootstrap-guest.log"
as_root chroot "$guestroot.tmp" apt-get clean
# The users and groups fstests' permission tests switch to (its README).
for u in fsgqa fsgqa2 123456-fsgqa; do
	as_root chroot "$guestroot.tmp" useradd -M "$u"
done
as_root chroot "$guestroot.tmp" groupadd -f fsgqa

# fsx and pjdfstest come from crates.io; the host toolchain builds them
# (bookworm's glibc is older than trixie's, so the binaries run in the guest).
for crate in $GUEST_CRATES; do
	log "cargo install $crate into the guest root"
	cargo install --quiet --locked --root "$guestroot.tmp/usr/local" "${crate%@*}" --version "${crate#*@}" ||
		die "cargo install $crate failed"
done
rm -f "$guestroot.tmp/usr/local/.crates"*

# The root is shared read-only with every VM; this fixed PID 1 only mounts
# the basics and the repository share, then hands over to the repository's
# qemu/guest-init.sh, so changing the test flow never rebuilds the root.
cat >"$guestroot.tmp/sbin/ferrodax-init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/ferrodax /run/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ferrodax /run/ferrodax
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /run/results
exec /run/ferrodax/qemu/guest-init.sh
INIT
chmod 755 "$guestroot.tmp/sbin/ferrodax-init"
touch "$guestroot.tmp/.complete"
mv "$guestroot.tmp" "$guestroot"
log "guest root ready"
echo "$guestroot"
