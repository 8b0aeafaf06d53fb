#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the test VM (started by /sbin/ferrodax-init in the guest root).
# The kernel command line passes fdx_mode, fdx_pmem, fdx_tests, fdx_bench
# and fdx_fstests_conf as environment variables.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
export FDX=/run/ferrodax RESULTS=/run/results
# Boot steps in dmesg, so the time a boot takes before the first test shows.
step() { echo "ferrodax-init: $*" >/dev/kmsg; }
step "mounting scratch filesystems"
for d in /tmp /root /mnt /var/tmp /var/log /usr/local/sbin /usr/local/lib; do
	mount -t tmpfs -o mode=1777 tmpfs "$d"
done
# The module and the tools as they are at boot: a rebuild on the host
# while a long run (fstests) goes on must not hand it a module or an mkfs
# of another format version halfway.
for tool in mkfs.ferrodax fsck.ferrodax; do
	cp "$FDX/build/bin/$tool" "/usr/local/sbin/$tool"
done
# (make bench builds its own module and never this one)
[ -f "$FDX/ferrodax.ko" ] && cp "$FDX/ferrodax.ko" /usr/local/lib/ferrodax.ko
mkdir -p /mnt/test /mnt/scratch
# What udev would add to the devtmpfs on /dev (which hides the root's own
# /dev/fd): bash's process substitution <(...) needs /dev/fd (fstests'
# _require_fio and many tests use it), POSIX shared memory /dev/shm.
ln -s /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do
	ln -s "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"
done
mkdir -p /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# debugfs: fault injection, kmemleak and the pin test module use it.
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
hostname ferrodax-vm

step "setting up $fdx_pmem pmem"
. "$FDX/qemu/guest-pmem.sh"
setup_pmem "$fdx_pmem" >"$RESULTS/pmem-setup.log" 2>&1

step "pmem ready"
case $fdx_mode in
demo)
	sh "$FDX/tests/vm/demo.sh"
	echo DONE >"$RESULTS/results.txt"
	;;
bench)
	sh "$FDX/tests/vm/bench/$fdx_bench.sh" >"$RESULTS/bench.log" 2>&1
	echo DONE >"$RESULTS/results.txt"
	;;
fstests)
	sh "$FDX/tests/fstests-harness/guest.sh" >"$RESULTS/fstests-guest.log" 2>&1
	;;
*) sh "$FDX/tests/vm/runner.sh" "$fdx_tests" ;;
esac

sync
umount "$RESULTS"
echo o >/proc/sysrq-trigger
# Wait for the power-off with shell builtins only: the root is on 9p, which
# goes away during power-off, and PID 1 must not exit (or exec anything).
while :; do :; done
