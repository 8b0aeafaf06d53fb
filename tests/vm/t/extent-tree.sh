# A file of thousands of extents (issue #10's extent tree): every other
# block of 32 MiB written, read back by read(2), mmap and SEEK_DATA/HOLE,
# then punched, collapsed, inserted, refilled and truncated through the
# tree; fsck clean, and the same bytes after a remount.
. "$FDX/tests/vm/lib.sh"
mount_fresh
python3 "$FDX/tests/vm/py/fragmented.py" /mnt/test/frag 8192 | tee /tmp/frag.log
sum=$(tail -1 /tmp/frag.log)
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
[ "$(md5sum </mnt/test/frag | cut -d' ' -f1)" = "$sum" ] || fail "the file changed across a remount"
umount /mnt/test
