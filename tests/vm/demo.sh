#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What `make demo` shows on the VM console.
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; sh -c "$*"; }
echo
echo "=== ferrodax demo: $(uname -r), $(nproc) CPUs, pmem: $fdx_pmem"
step "grep -H . /sys/block/pmem*/queue/dax"
step "insmod $FDX/ferrodax.ko && grep ferrodax /proc/filesystems"
step "mkfs.ferrodax -f -L demo /dev/pmem0"
step "fsck.ferrodax -n -v /dev/pmem0"
step "mkfs.ext4 -q -F /dev/pmem1 && mount -o dax /dev/pmem1 /mnt/scratch && grep pmem1 /proc/mounts && umount /mnt/scratch"
step "rmmod ferrodax && dmesg | tail -5"
echo
echo "=== demo done"
