# Issue #10: creates, links, unlinks, releases, appends, hole-filling
# faults of one shared file, fsync's time stores, chmod, truncate, renames
# and exchanges of files and renames of directories within their parent
# run side by side on the core's per-CPU views, beside exclusive mkdirs
# (tests/vm/py/side_by_side.py); the result matches each worker's model,
# again after a remount, and fsck finds the filesystem clean. Then a
# directory is renamed round four places, within its parent and across
# to another, while another process creates and removes names in it
# (tests/vm/py/dir_rename_race.py).
. "$FDX/tests/vm/lib.sh"
mount_fresh
python3 "$FDX/tests/vm/py/side_by_side.py" /mnt/test/sbs 20
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
python3 "$FDX/tests/vm/py/side_by_side.py" --check /mnt/test/sbs
mkdir /mnt/test/race
python3 "$FDX/tests/vm/py/dir_rename_race.py" /mnt/test/race 8
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
