# Issue #10: creates, links, unlinks, releases, appends, hole-filling
# faults of one shared file, fsync's time stores, chmod, truncate and
# renames and exchanges within a directory run side by side on the core's
# per-CPU views, beside exclusive mkdirs and renames across directories
# (tests/vm/py/side_by_side.py); the result matches each worker's model,
# again after a remount, and fsck finds the filesystem clean.
. "$FDX/tests/vm/lib.sh"
mount_fresh
python3 "$FDX/tests/vm/py/side_by_side.py" /mnt/test/sbs 20
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
python3 "$FDX/tests/vm/py/side_by_side.py" --check /mnt/test/sbs
umount /mnt/test
