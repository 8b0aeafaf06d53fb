# Offsets at the end of the range (seed 001): EFBIG, EINVAL and SIGBUS where
# POSIX and the VFS give them, no overflow, no splat. ext4 -o dax runs the
# same script against its own s_maxbytes, shown side by side; where the two
# differ (ext4's iomap refuses reads past its last logical block with
# EINVAL, where ferrodax reads end of file) the expected list says so.
. "$FDX/tests/vm/lib.sh"
mount_fresh
mkfs.ext4 -q -F -b 4096 /dev/pmem1
mount -t ext4 -o dax /dev/pmem1 /mnt/scratch
python3 "$FDX/tests/vm/py/offsets.py" /mnt/test $((1 << 44)) >/tmp/ferrodax.out
python3 "$FDX/tests/vm/py/offsets.py" /mnt/scratch $(((1 << 44) - 4096)) >/tmp/ext4.out
echo "ferrodax | ext4 -o dax:"
paste -d '|' /tmp/ferrodax.out /tmp/ext4.out
cat >/tmp/expected <<'OUT'
2^63-1block pwrite EFBIG
2^63-1block pread ok
2^63-1block ftruncate EFBIG
2^63-1block fallocate-keep EFBIG
2^63-1block size 0
2^63-1 pwrite EINVAL
2^63-1 pread EINVAL
2^63-1 ftruncate EFBIG
2^63-1 fallocate-keep EFBIG
2^63-1 size 0
maxbytes pwrite EFBIG
maxbytes pread ok
maxbytes ftruncate ok
maxbytes fallocate-keep EFBIG
maxbytes size 17592186044416
maxbytes-1block pwrite ok
maxbytes-1block pread ok
maxbytes-1block ftruncate ok
maxbytes-1block fallocate-keep ok
maxbytes-1block size 17592186040320
mmap inside EOF exit 0
mmap at EOF SIGBUS
mmap past maxbytes SIGBUS
OUT
diff -u /tmp/expected /tmp/ferrodax.out || fail "unexpected outcomes at the end of the offset range"
umount /mnt/test /mnt/scratch
fsck.ferrodax -n /dev/pmem0
