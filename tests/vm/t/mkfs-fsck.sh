# mkfs.ferrodax / fsck.ferrodax on a real pmem device, including the way
# fstests calls them.
. "$FDX/tests/vm/lib.sh"
mkfs.ferrodax -f -L vmtest /dev/pmem0
fsck.ferrodax -n /dev/pmem0
yes | mkfs -t ferrodax -- /dev/pmem0
fsck -t ferrodax -n /dev/pmem0
# damage the superblock label: fsck must say so (exit 4), -y restores it
# from the backup.
printf 'X' | dd of=/dev/pmem0 bs=1 seek=60 conv=notrunc status=none
set +e
fsck.ferrodax -n /dev/pmem0; rc=$?
set -e
[ $rc = 4 ] || fail "fsck -n on a damaged superblock exited $rc, not 4"
set +e
fsck.ferrodax -y /dev/pmem0; rc=$?
set -e
[ $rc = 1 ] || fail "fsck -y exited $rc, not 1"
fsck.ferrodax -n /dev/pmem0
# fsck -y repairs what e2fsck would (issue #11): a root inode that is no
# directory (its checksum valid) stops the mount; fsck -y replaces it and
# reconnects the tree below it under lost+found; a second fsck is clean.
"$FDX/build/bin/ferrodax-fuzz" set 'inode[root].mode' 0x81a4 /dev/pmem1
expect_fail mount -t ferrodax -o dax /dev/pmem1 /mnt/scratch
set +e
fsck.ferrodax -y /dev/pmem1; rc=$?
set -e
[ $rc = 1 ] || fail "fsck -y on a damaged root exited $rc, not 1"
fsck.ferrodax -n /dev/pmem1
load_ferrodax
mount -t ferrodax -o dax /dev/pmem1 /mnt/scratch
ls /mnt/scratch/lost+found/*/file >/dev/null || fail "the tree under the old root is not in lost+found"
umount /mnt/scratch
# a device that is mounted is refused
mkfs.ext4 -q -F /dev/pmem1
mount /dev/pmem1 /mnt/scratch
expect_fail mkfs.ferrodax -f /dev/pmem1
umount /mnt/scratch
