# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the ferrodax setup/test scripts. Source, do not execute.
#
# Everything that is expensive to make (build root, kernel, guest root) lives
# in one cache directory outside the repository, keyed by a hash of whatever
# determines its content, so it is rebuilt only when that input changes.

set -euo pipefail

FERRODAX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FERRODAX_CACHE=${FERRODAX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferrodax}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$FERRODAX_CACHE"

log() { printf '[ferrodax %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# key_of FILE... : short content hash of the given files and strings.
key_of() {
	local f
	for f in "$@"; do
		if [ -f "$f" ]; then cat "$f"; else printf '%s\n' "$f"; fi
	done | sha256sum | cut -c1-12
}

# Run a command as root (we usually are; CI is).
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# host_pkgs PKG... : install Debian packages on the host if missing.
host_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing host packages: ${missing[*]}"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The build root: a Debian trixie chroot with LLVM >= 17, bindgen >= 0.71,
# rustc >= 1.85, QEMU and the kernel source. Its path depends on the package
# list, so changing the list makes a fresh one.
BUILDROOT_PKGS="clang lld llvm rustc rust-src rust-clippy rustfmt bindgen libclang-dev make bc bison flex
libelf-dev libssl-dev cpio kmod python3 xz-utils dwarves rsync perl
qemu-system-x86 ca-certificates linux-source-7.3"
BUILDROOT="$FERRODAX_CACHE/buildroot-$(key_of "$BUILDROOT_PKGS" v1)"

# in_buildroot CMD... : run CMD inside the build root, with the repository
# and the cache visible at the same paths as on the host.
in_buildroot() {
	[ -f "$BUILDROOT/.complete" ] || die "build root missing; run scripts/setup-buildroot.sh"
	as_root unshare -m --propagation private sh -c '
		set -e
		root=$1; shift
		# The private /tmp first: the repository or the cache may live
		# under /tmp, and their bind mounts must land on top of it.
		mount -t tmpfs none "$root/tmp"
		for d in /proc /sys /dev "$FERRODAX_ROOT" "$FERRODAX_CACHE"; do
			mkdir -p "$root$d"
			mount --rbind "$d" "$root$d"
		done
		exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			TERM="${TERM:-dumb}" LANG=C.UTF-8 "$@"
	' sh "$BUILDROOT" "$@"
}
export FERRODAX_ROOT FERRODAX_CACHE
