# fio verify jobs (psync, mmap, libaio with O_DIRECT, sequential 1 MiB):
# every block written is read back and checksummed, 0 miscompares.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
fio --output-format=terse --terse-version=3 "$FDX/tests/vm/fio/verify.fio" >/tmp/fio.out 2>&1 ||
	{ cat /tmp/fio.out; fail "fio verify"; }
cut -d';' -f3,5 /tmp/fio.out
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
