# First boot of the MAP_SYNC power-cut test (runs before crash-orphan-before,
# which cuts the power): a MAP_SYNC mapping of a sparse file on pmem1 is
# accepted, stores through it allocate blocks by write faults, and nothing
# syncs or unmounts afterwards. crash-mapsync-after checks what survived.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f /dev/pmem1
mkdir -p /mnt/sync
mount -t ferrodax -o dax /dev/pmem1 /mnt/sync
python3 "$FDX/tests/vm/py/mapsync.py" write /mnt/sync/f
