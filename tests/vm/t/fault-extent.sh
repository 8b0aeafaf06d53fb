# Faults racing truncate, hole punch, zero range and allocation: the
# MMAPLOCK (shared in faults, exclusive around extent changes) keeps every
# fault from mapping a block that is being freed.
. "$FDX/tests/vm/lib.sh"
mount_fresh
python3 "$FDX/tests/vm/py/junk.py" /mnt/test 256
python3 "$FDX/tests/vm/py/fault_vs_extents.py" /mnt/test/f 12
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
