# Offsets at the end of the range behave as on ext4 -o dax (EFBIG, EINVAL,
# SIGBUS), with no overflow and no splat: the same script on both, compared.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
mkfs.ext4 -q -F -b 4096 /dev/pmem1
mount -t ext4 -o dax /dev/pmem1 /mnt/scratch
python3 "$FDX/tests/vm/py/offsets.py" /mnt/test >/tmp/ferrodax.out
python3 "$FDX/tests/vm/py/offsets.py" /mnt/scratch >/tmp/ext4.out
paste /tmp/ferrodax.out /tmp/ext4.out
diff -u /tmp/ext4.out /tmp/ferrodax.out || fail "ferrodax differs from ext4 -o dax"
umount /mnt/test /mnt/scratch
fsck.ferrodax -n /dev/pmem0
