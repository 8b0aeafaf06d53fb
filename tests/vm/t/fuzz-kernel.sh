# Field-level fuzzing in the kernel (issue #11): images from the host
# fuzzer (tools/src/fuzz.rs: one field of one structure set to a boundary
# or random value, the checksum made valid again) written to pmem1, a
# sample spread over the structures (FUZZ_IMAGES, 8 here, ~8 s each under
# TCG; fuzz-kernel-long runs 264, 12 per structure). Each is mounted,
# walked, read through read(2) and mmap, changed and unmounted: errors are
# expected, an oops, BUG, KASAN report or hang is not (the runner's dmesg
# check and timeout catch those). Then fsck -y repairs it, a second fsck
# finds nothing, and the kernel mounts it (refused images included).
. "$FDX/tests/vm/lib.sh"
load_ferrodax
fuzz=$FDX/build/bin/ferrodax-fuzz
"$fuzz" sample "${FUZZ_IMAGES:-8}" >/tmp/fuzz-sample
refused=0 mounted=0
# fsck -y leaves nothing for a second fsck, and the kernel mounts the result.
# The images are 8 MiB: their backup superblock is in their block 2047, not
# in the device's last block (-b, as e2fsck's).
repaired() {
	fsck.ferrodax -y -b 2047 /dev/pmem1 >/dev/null || [ $? = 1 ] || fail "fsck -y failed on image $1 ($2)"
	fsck.ferrodax -n /dev/pmem1 >/dev/null || fail "problems left after fsck -y on image $1 ($2)"
	mount -t ferrodax -o dax /dev/pmem1 /mnt/scratch || fail "image $1 ($2) does not mount after fsck -y"
	ls -lR /mnt/scratch >/dev/null
	umount /mnt/scratch
}
while read -r id what; do
	"$fuzz" write "$id" /dev/pmem1
	if ! mount -t ferrodax -o dax /dev/pmem1 /mnt/scratch 2>/dev/null; then
		refused=$((refused + 1))
		repaired "$id" "$what"
		continue
	fi
	mounted=$((mounted + 1))
	(
		cd /mnt/scratch
		ls -lR .
		find . -type f -exec cat {} +
		readlink sym
		xfs_io -c "mmap -r 0 8192" -c "mread 0 8192" dir/file
		echo new >fuzz
		mkdir fuzzdir
		mv dir/file moved
		xfs_io -c "pwrite 4096 4096" -c "mmap -w 0 8192" -c "mwrite 0 100" -c fsync moved
		truncate -s 100 moved
		rm -rf dir sym
	) >/dev/null 2>&1 || true
	umount /mnt/scratch || fail "umount after image $id ($what)"
	repaired "$id" "$what"
done </tmp/fuzz-sample
echo "$mounted images mounted and exercised, $refused refused"
[ $((mounted + refused)) = "${FUZZ_IMAGES:-8}" ] || fail "not every image was tried"
[ "$mounted" -gt 0 ] || fail "no image mounted: the sample exercised nothing past mount"
