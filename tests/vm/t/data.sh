# The DAX data path end to end: read/write, O_APPEND, O_DIRECT, O_SYNC,
# RWF_NOWAIT, sparse files, SEEK_HOLE/SEEK_DATA, FIEMAP, copy_file_range and
# sendfile, mmap reads and writes, truncate tail zeroing, fallocate modes;
# then umount, fsck clean, remount and the same bytes.
. "$FDX/tests/vm/lib.sh"
mount_fresh
cd /mnt/test
dd if=/dev/urandom of=/tmp/data bs=1M count=6 status=none
cp /tmp/data f
cmp /tmp/data f
attrs=$(xfs_io -r -c 'statx -r' f | sed -n 's/^stat.attributes = //p')
[ $((attrs & 0x200000)) != 0 ] || fail "no STATX_ATTR_DAX on a regular file ($attrs)"
python3 "$FDX/tests/vm/py/data_checks.py" /mnt/test
xfs_io -c 'fiemap -v' f | tee /tmp/fiemap
grep -q '^ *0: \[0\.\.' /tmp/fiemap || fail "FIEMAP shows no extent at offset 0"
md5sum f sparse appended ranges >/tmp/sums
cd /
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
(cd /mnt/test && md5sum -c /tmp/sums)
umount /mnt/test
