# SPDX-License-Identifier: GPL-2.0
# Sourced by guest-init.sh: bring up /dev/pmem0 and /dev/pmem1 with DAX.

setup_pmem() {
	case $1 in
	nvdimm)
		# Emulated NVDIMMs come up as raw namespaces (no DAX). Labels are
		# written once; a kept pmem image already has its fsdax namespaces.
		if ! ndctl list -N 2>/dev/null | grep -q '"mode":"fsdax"'; then
			ndctl disable-region all
			ndctl init-labels -f all
			ndctl enable-region all
			for r in $(ndctl list -R | sed -n 's/.*"dev":"\(region[0-9]*\)".*/\1/p'); do
				ndctl create-namespace -r "$r" --mode=fsdax
			done
		fi
		;;
	legacy) ;; # memmap= regions are fsdax-capable pmem from boot
	esac
	udevadm settle 2>/dev/null || true
	ls -l /dev/pmem* /sys/block/pmem*/queue/dax
	cat /sys/block/pmem*/queue/dax
}
