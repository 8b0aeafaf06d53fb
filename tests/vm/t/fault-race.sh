# Seed 003, hazard 1 (20 rounds; more by hand: fault_race.py FILE N ROUNDS):
# processes write-fault the same hole of a sparse file
# at once. Block allocation zeroes inside iomap_begin, so every byte read
# back is zero or a writer's own byte, never the junk the blocks held.
. "$FDX/tests/vm/lib.sh"
mount_fresh
python3 "$FDX/tests/vm/py/junk.py" /mnt/test 256
python3 "$FDX/tests/vm/py/fault_race.py" /mnt/test/sparse 4 20
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
