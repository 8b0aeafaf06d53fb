# Directory format v4 (issue #10): 20,000 empty files in one directory
# take no more space (statfs) than on ext4 -o dax (pmem1) in the same boot.
# About 3 minutes under TCG: make check-long.
. "$FDX/tests/vm/lib.sh"
mount_fresh
set -- $(python3 "$FDX/tests/vm/py/dir_space.py" /mnt/test/space 20000)
fdx_used=${1:?dir_space.py failed on ferrodax} fdx_dir=$2
rm -r /mnt/test/space
mkfs.ext4 -q -F -b 4096 /dev/pmem1
mkdir -p /mnt/ext4
mount -t ext4 -o dax /dev/pmem1 /mnt/ext4
set -- $(python3 "$FDX/tests/vm/py/dir_space.py" /mnt/ext4/space 20000)
ext4_used=${1:?dir_space.py failed on ext4} ext4_dir=$2
umount /mnt/ext4
echo "20,000 empty files: ferrodax $fdx_used bytes (directory $fdx_dir), ext4 -o dax $ext4_used bytes (directory $ext4_dir)"
[ "$fdx_used" -le "$ext4_used" ] || fail "20,000 empty files take $fdx_used bytes, more than ext4-DAX's $ext4_used"
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
