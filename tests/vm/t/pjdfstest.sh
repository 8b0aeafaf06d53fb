# pjdfstest (POSIX conformance) on ferrodax. Any failure fails this test.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f /dev/pmem0
mkfs.ferrodax -q -f /dev/pmem1
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
mount -t ferrodax -o dax /dev/pmem1 /mnt/scratch
mkdir /mnt/test/pjd
cd /mnt/test/pjd
set +e
pjdfstest -c "$FDX/tests/vm/pjdfstest/ferrodax.toml" -p /mnt/test/pjd -s /mnt/scratch >/tmp/pjd.out 2>&1
rc=$?
set -e
cd /
cat /tmp/pjd.out
echo "pjdfstest exit code $rc"
umount /mnt/test /mnt/scratch
fsck.ferrodax -n /dev/pmem0
fsck.ferrodax -n /dev/pmem1
[ $rc = 0 ] || fail "pjdfstest failed beyond the expected failures"
grep '^Summary' /tmp/pjd.out
unload_ferrodax
