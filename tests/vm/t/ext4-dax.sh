# Baseline: ext4 mounts with -o dax on pmem and uses DAX (pmem-dax shows
# both devices DAX-capable; one ext4 is enough for the baseline).
. "$FDX/tests/vm/lib.sh"
mkfs.ext4 -q -F -b 4096 /dev/pmem1
mount -t ext4 -o dax /dev/pmem1 /mnt/test
grep "^/dev/pmem1 /mnt/test ext4 .*dax" /proc/mounts || fail "ext4: dax not in mount options"
dd if=/dev/urandom of=/tmp/data bs=1M count=4 status=none
cp /tmp/data /mnt/test/f
sync
cmp /tmp/data /mnt/test/f
# STATX_ATTR_DAX (0x200000) is set on files that really use DAX.
attrs=$(xfs_io -r -c 'statx -r' /mnt/test/f | sed -n 's/^stat.attributes = //p')
echo "statx attributes $attrs"
[ $((attrs & 0x200000)) != 0 ] || fail "ext4: file does not use DAX"
umount /mnt/test
dmesg | grep -i 'dax' | tail -5
