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
# damaged superblock checksum (a byte of the mkfs time)
mkfs.ferrodax -q -f /dev/pmem1
printf 'X' | dd of=/dev/pmem1 bs=1 seek=100 conv=notrunc status=none
refused "superblock checksum" /dev/pmem1
# a damaged label (it has a checksum of its own)
mkfs.ferrodax -q -f /dev/pmem1
printf 'X' | dd of=/dev/pmem1 bs=1 seek=60 conv=notrunc status=none
refused "superblock label checksum" /dev/pmem1
# a device without DAX (plain virtio disk)
mkfs.ferrodax -q -f /dev/vda
refused "does not support DAX" /dev/vda
umount /mnt/test 2>/dev/null || true

# norecovery (ext4's noload): read-only for the mount's life, and nothing
# written: no journal sequence bump, orphans left alone. The fuzz image
# (8 MiB, one orphan) with an idle journal header of a known sequence;
# the filesystem addresses nothing past its 8 MiB.
fuzz=$FDX/build/bin/ferrodax-fuzz
image_sum() { head -c 8M /dev/pmem1 | md5sum; }
"$fuzz" set journal.header 0x20000 /dev/pmem1
refused "norecovery needs a read-only mount" -o norecovery /dev/pmem1
sum=$(image_sum)
mount -t ferrodax -o ro,norecovery /dev/pmem1 /mnt/test
grep -E '^/dev/pmem1 /mnt/test ferrodax ro,.*norecovery' /proc/mounts || fail "norecovery not shown"
ls /mnt/test >/dev/null
expect_fail mount -o remount,rw /mnt/test
grep -q 'norecovery' /proc/mounts || fail "a remount dropped norecovery"
umount /mnt/test
mount -t ferrodax -o ro,noload /dev/pmem1 /mnt/test
umount /mnt/test
[ "$(image_sum)" = "$sum" ] || fail "a norecovery mount wrote to the device"
# A read-only block device: mount(8) falls back to a read-only mount
# (the VFS refuses a read-write one), which writes nothing either.
blockdev --setro /dev/pmem1
mount -t ferrodax /dev/pmem1 /mnt/test
grep -E '^/dev/pmem1 /mnt/test ferrodax ro,' /proc/mounts || fail "read-only device not mounted read-only"
expect_fail touch /mnt/test/new
expect_fail mount -o remount,rw /mnt/test
umount /mnt/test
blockdev --setrw /dev/pmem1
[ "$(image_sum)" = "$sum" ] || fail "a mount of a read-only device wrote to it"
# An interrupted transaction (header active, no commit record): refused
# where it cannot be rolled back, rolled back by any mount that may write
# (-o ro on a writable device included, as ext4 and XFS recover).
"$fuzz" set journal.header 0x20001 /dev/pmem1
refused "needs recovery" -o ro,norecovery /dev/pmem1
blockdev --setro /dev/pmem1
refused "needs recovery" /dev/pmem1
blockdev --setrw /dev/pmem1
seen=$(dmesg | wc -l)
mount -t ferrodax -o ro /dev/pmem1 /mnt/test
umount /mnt/test
dmesg | tail -n +"$((seen + 1))" | grep -q "rolled back an interrupted transaction" || fail "no rollback"
dmesg | tail -n +"$((seen + 1))" | grep -q "released 1 orphan" || fail "orphan not released"
fsck.ferrodax -n /dev/pmem1
unload_ferrodax
