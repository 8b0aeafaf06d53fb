#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What `make demo` shows on the VM console.
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; sh -c "$*"; }
echo
echo "=== ferrodax demo: $(uname -r), $(nproc) CPUs, pmem: $fdx_pmem"
step "grep -H . /sys/block/pmem*/queue/dax"
step "insmod $FDX/ferrodax.ko && grep ferrodax /proc/filesystems"
step "mkfs.ferrodax -f -L demo /dev/pmem0"
step "mount -t ferrodax -o dax /dev/pmem0 /mnt/test && grep /mnt/test /proc/mounts"
step "cd /mnt/test && mkdir -p src/lib docs && touch src/main.rs src/lib/mod.rs && ln -s src/main.rs main && ln src/main.rs hard && mkfifo pipe"
step "cd /mnt/test && mv docs documentation && ls -laR"
step "df -h /mnt/test && stat -f /mnt/test"
step "umount /mnt/test && fsck.ferrodax -n -v /dev/pmem0"
step "mount -t ferrodax -o dax,ro /dev/pmem0 /mnt/test && find /mnt/test | sort && umount /mnt/test"
step "mount -t ferrodax -o dax=never /dev/pmem0 /mnt/test; dmesg | tail -1"
step "mount -t ferrodax /dev/vda /mnt/test; dmesg | tail -1"
step "rmmod ferrodax"
. "$FDX/tests/vm/splat.sh"
dmesg >/tmp/dmesg
if splat=$(find_splat /tmp/dmesg); then echo "kernel splat in dmesg: $splat"; else echo "dmesg: no lockdep, KASAN, WARNING, BUG or Oops"; fi
echo
echo "=== demo done (read/write/mmap of file data arrive with the DAX data path)"
