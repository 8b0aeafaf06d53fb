#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print "kvm" if a KVM guest makes progress on this machine, else "tcg".
# /dev/kvm can exist while KVM guests never run (seen on these machines),
# so the only test is to boot: the kernel must print to the console within
# 30 s. The verdict is cached per machine (FERRODAX_ACCEL overrides).
. "$(dirname "$0")/../scripts/lib.sh"
kdir=$1
case ${FERRODAX_ACCEL:-auto} in
tcg | kvm) echo "$FERRODAX_ACCEL"; exit 0 ;;
esac
cache="$FERRODAX_CACHE/kvm-probe-$(hostname)"
if [ -f "$cache" ]; then cat "$cache"; exit 0; fi
verdict=tcg
if [ -w /dev/kvm ]; then
	log "probing KVM (30 s at most)"
	if in_buildroot timeout --signal=KILL 30 qemu-system-x86_64 -nodefaults -no-reboot -display none \
		-serial stdio -accel kvm -cpu host -m 512M -kernel "$kdir/vmlinux" \
		-append "console=ttyS0 panic=-1" </dev/null 2>/dev/null | grep -q -m1 "Linux version"; then
		verdict=kvm
	fi
fi
echo "$verdict" >"$cache"
echo "$verdict"
