# Media errors (poisoned pmem) under a mounted ferrodax, through
# memory_failure() on its pages: lost file data kills only the processes
# mapping it, a free block costs nothing, lost metadata shuts the
# filesystem down; no oops, umount works, and with the device back the
# filesystem is consistent. NVDIMM only (memory_failure() needs the struct
# pages of an fsdax namespace), on pmem0 just before `removal`: its unbind
# and rebind give the namespace fresh struct pages, poison flags gone.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
data_start=$(mkfs.ferrodax -f /dev/pmem0 | sed -n 's/.*data from block \([0-9]*\).*/\1/p')
[ -n "$data_start" ] || fail "mkfs did not print the geometry"
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
python3 "$FDX/tests/vm/py/media_error.py" /mnt/test /dev/pmem0 "$data_start"
dmesg | grep -q 'ferrodax: media error in data of inode' || fail "no data-loss message"
dmesg | grep -q 'ferrodax: media error in metadata' || fail "no metadata-loss message"
umount /mnt/test
# Nothing was written after the damage, and the poison is simulated (the
# media still reads): the filesystem is as the last operation left it.
fsck.ferrodax -n /dev/pmem0
