# Directory format v4 (issue #10): a directory of 3,000 files grows an
# index over its entry blocks, lists every name exactly once while others
# come and go, renames inside itself, and shrinks back to one block when
# emptied; fsck clean before and after, and a big directory survives a
# remount. 20,000 empty files in one directory take no more space than on
# ext4 -o dax (pmem1) in the same boot.
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
python3 "$FDX/tests/vm/py/bigdir.py" /mnt/test/big 3000
mkdir /mnt/test/keep
python3 - <<'PY'
import os
for i in range(2000):
    os.close(os.open(f"/mnt/test/keep/k{i}", os.O_CREAT | os.O_WRONLY, 0o644))
PY
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
[ "$(ls /mnt/test/keep | wc -l)" = 2000 ] || fail "names lost across a remount"
[ -e /mnt/test/keep/k1999 ] || fail "lookup after a remount"
rm -r /mnt/test/keep
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
