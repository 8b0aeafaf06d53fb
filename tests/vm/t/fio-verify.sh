# fio verify jobs (psync, mmap, libaio with O_DIRECT, sequential 1 MiB):
# every block written is read back and checksummed, 0 miscompares.
. "$FDX/tests/vm/lib.sh"
mount_fresh
fio --output-format=terse --terse-version=3 "$FDX/tests/vm/fio/verify.fio" >/tmp/fio.out 2>&1 ||
	{ cat /tmp/fio.out; fail "fio verify"; }
cut -d';' -f3,5 /tmp/fio.out
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
