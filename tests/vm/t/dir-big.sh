# Directory format v4 (issue #10): a directory of 3,000 files grows an
# index over its entry blocks, lists every name exactly once while others
# come and go, renames inside itself, and shrinks back to one block when
# emptied; names looked up long before their create (negative dentries
# that note where the name goes) are created once each; fsck clean before
# and after, and a big directory survives a remount; thinned to one name
# in twenty, its nearly empty blocks join.
# (20,000 files against ext4: dir-space, in make check-long.)
. "$FDX/tests/vm/lib.sh"
mount_fresh
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
