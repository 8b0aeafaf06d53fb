# Second boot of the MAP_SYNC power-cut test: every store made through the
# MAP_SYNC mapping before the cut is there, the blocks its faults allocated
# are mapped, the rest of the file is zero, and fsck is clean.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
fsck.ferrodax -n /dev/pmem1
mount -t ferrodax -o dax /dev/pmem1 /mnt/scratch
python3 "$FDX/tests/vm/py/mapsync.py" check /mnt/scratch/f
umount /mnt/scratch
fsck.ferrodax -n /dev/pmem1
