# mount -t ferrodax -o dax: options, /proc/mounts, statfs, read-only,
# module pinning, and every refusal with its errno and dmesg line.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
grep -E '^/dev/pmem0 /mnt/test ferrodax rw,.*dax=always' /proc/mounts || fail "dax=always not shown"
stat -f -c '%T %S %b %f %c %d' /mnt/test
[ "$(stat -f -c %S /mnt/test)" = 4096 ] || fail "statfs block size"
expect_fail rmmod ferrodax # pinned while mounted
umount /mnt/test
mount -t ferrodax -o dax=always,dax,errors=continue /dev/pmem0 /mnt/test
grep -q 'dax=always,errors=continue' /proc/mounts || fail "errors=continue not shown"
# freeze blocks namespace changes until thaw (VFS freeze protection)
fsfreeze --freeze /mnt/test
( mkdir /mnt/test/during-freeze ) &
sleep 2
[ ! -e /mnt/test/during-freeze ] || fail "mkdir ran on a frozen filesystem"
fsfreeze --unfreeze /mnt/test
wait
[ -d /mnt/test/during-freeze ] || fail "mkdir did not complete after thaw"
umount /mnt/test
mount -t ferrodax -o ro /dev/pmem0 /mnt/test
expect_fail mkdir /mnt/test/x
mount -o remount,rw /mnt/test
mkdir /mnt/test/x
mount -o remount,ro /mnt/test
expect_fail rmdir /mnt/test/x
umount /mnt/test

# The kernel log is never cleared: the runner's final check reads all of
# it. Each refusal looks only at the lines after its own start.
refused() { # refused EXPECTED-DMESG-WORDS MOUNT-ARGS...
	want=$1; shift
	seen=$(dmesg | wc -l)
	if mount -t ferrodax "$@" /mnt/test 2>/tmp/err; then umount /mnt/test; fail "mount $* succeeded"; fi
	cat /tmp/err
	dmesg | tail -n +"$((seen + 1))" | grep -q "$want" ||
		{ dmesg | tail -n +"$((seen + 1))"; fail "no dmesg line '$want' for mount $*"; }
}
refused "only dax=always" -o dax=never /dev/pmem0
refused "only dax=always" -o dax=inode /dev/pmem0
refused "errors= takes" -o errors=sometimes /dev/pmem0
expect_fail mount -t ferrodax -o bogus /dev/pmem0 /mnt/test
# garbage on the device
dd if=/dev/urandom of=/dev/pmem1 bs=1M count=1 status=none
refused "superblock magic" /dev/pmem1
# a newer (unknown) incompatible feature
mkfs.ferrodax -q -f -E incompat=40 /dev/pmem1
refused "incompatible feature" /dev/pmem1
# damaged superblock checksum
mkfs.ferrodax -q -f /dev/pmem1
printf 'X' | dd of=/dev/pmem1 bs=1 seek=60 conv=notrunc status=none
refused "superblock checksum" /dev/pmem1
# a device without DAX (plain virtio disk)
mkfs.ferrodax -q -f /dev/vda
refused "does not support DAX" /dev/vda
umount /mnt/test 2>/dev/null || true
unload_ferrodax
