# Seed 004: the fsdax namespace under a mounted filesystem is disabled
# (unbound) while a file is open and mapped. No oops: the filesystem shuts
# down, the mapping process gets SIGBUS, I/O returns EIO, umount works;
# with the namespace back, fsck is clean and the data is there. Runs last:
# pmem0 is gone in between.
. "$FDX/tests/vm/lib.sh"
mount_fresh
dd if=/dev/urandom of=/tmp/data bs=1M count=4 status=none
cp /tmp/data /mnt/test/f
sync
# The device nd_pmem drives for pmem0 (the fsdax pfn device); unbinding it
# is what removing the namespace does to a mounted filesystem.
dev=$(basename "$(readlink -f /sys/block/pmem0/device)")
drv=/sys/bus/nd/drivers/nd_pmem
echo "pmem0 is $dev"
python3 "$FDX/tests/vm/py/removal.py" /mnt/test sh -c "echo $dev >$drv/unbind"
dmesg | grep 'ferrodax.*shutting the filesystem down' || fail "no shutdown message"
umount /mnt/test
echo "$dev" >$drv/bind
udevadm settle 2>/dev/null || sleep 2
[ -b /dev/pmem0 ] || fail "pmem0 did not come back"

fsck.ferrodax -n /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
cmp /tmp/data /mnt/test/f
umount /mnt/test
