# Baseline: ext4 mounts with -o dax on both pmem devices and uses DAX.
. "$FDX/tests/vm/lib.sh"
for d in pmem0 pmem1; do
	mkfs.ext4 -q -F -b 4096 /dev/$d
	mount -t ext4 -o dax /dev/$d /mnt/test
	grep "^/dev/$d /mnt/test ext4 .*dax" /proc/mounts || fail "ext4 on $d: dax not in mount options"
	dd if=/dev/urandom of=/tmp/data bs=1M count=4 status=none
	cp /tmp/data /mnt/test/f
	sync
	cmp /tmp/data /mnt/test/f
	# STATX_ATTR_DAX (0x200000) is set on files that really use DAX.
	attrs=$(xfs_io -r -c 'statx -r' /mnt/test/f | sed -n 's/^stat.attributes = //p')
	echo "$d: statx attributes $attrs"
	[ $((attrs & 0x200000)) != 0 ] || fail "ext4 on $d: file does not use DAX"
	umount /mnt/test
done
dmesg | grep -i 'dax' | tail -5
