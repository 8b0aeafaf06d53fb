#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the ferrodax test kernel (LLVM=1, out of tree, cached).
#
#   scripts/build-kernel.sh [debug|perf]     prints the build directory (KDIR)
#
# The build directory is keyed by the Debian kernel source version and a hash
# of the config fragments, so it is rebuilt only when one of those changes.
. "$(dirname "$0")/lib.sh"

flavour=${1:-debug}
fragments=("$FERRODAX_ROOT/config/debug.config")
case $flavour in
debug) ;;
perf) fragments+=("$FERRODAX_ROOT/config/perf.config") ;;
*) die "unknown kernel flavour '$flavour' (debug|perf)" ;;
esac

"$FERRODAX_ROOT/scripts/setup-buildroot.sh"
srcver=$(in_buildroot dpkg-query -W -f='${Version}' linux-source-7.3)
src="$FERRODAX_CACHE/linux-src-$srcver"
kdir="$FERRODAX_CACHE/kernel-$flavour-$srcver-$(key_of "${fragments[@]}" "$0")"

if [ -f "$kdir/.complete" ]; then
	echo "$kdir"
	exit 0
fi

if [ ! -f "$src/.complete" ]; then
	log "unpacking linux-source $srcver"
	rm -rf "$src" && mkdir -p "$src"
	tar -xf "$BUILDROOT/usr/src/linux-source-7.3.tar.xz" -C "$src" --strip-components=1
	touch "$src/.complete"
fi

log "configuring $flavour kernel in $kdir"
mkdir -p "$kdir"
kmake() { in_buildroot make -s -C "$src" O="$kdir" LLVM=1 "$@"; }
kmake tinyconfig >/dev/null
in_buildroot sh -c "cd '$kdir' && '$src/scripts/kconfig/merge_config.sh' -m -O '$kdir' '$kdir/.config' ${fragments[*]}" >/dev/null
kmake olddefconfig

# Kconfig silently drops symbols whose dependencies are unmet: insist on
# every symbol the fragments ask for, a later fragment overriding an earlier
# one (perf.config turns off what debug.config turns on).
wanted=$(cat "${fragments[@]}" |
	sed -n -e 's/^\(CONFIG_[A-Z0-9_]*\)=\(.*\)$/\1 =\2/p' -e 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1 off/p' |
	awk '{ sym = $1; sub(/^[^ ]* /, ""); want[sym] = $0; order[sym] = NR }
	     END { for (s in want) print order[s], s, want[s] }' | sort -n | cut -d' ' -f2-)
missing=$(echo "$wanted" | while read -r sym want; do
	case $want in
	off) if grep -q "^$sym=" "$kdir/.config"; then echo " $sym(should be off)"; fi ;;
	*) grep -qxF "$sym$want" "$kdir/.config" || echo " $sym$want" ;;
	esac
done)
[ -z "$missing" ] || die "kernel config lost: $missing"

log "building $flavour kernel (LLVM=1, -j$(nproc)); about 15-20 min on 2 cores the first time"
start=$SECONDS
in_buildroot make -C "$src" O="$kdir" LLVM=1 -j"$(nproc)" vmlinux modules >"$kdir/build.log" 2>&1 ||
	{ tail -30 "$kdir/build.log" >&2; die "kernel build failed, see $kdir/build.log"; }
log "kernel built in $((SECONDS - start)) s"
touch "$kdir/.complete"
echo "$kdir"
