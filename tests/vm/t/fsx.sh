# fsx with mmap reads/writes, truncate, fallocate, hole punching, sendfile
# and copy_file_range against an in-memory model, several seeds, bounded.
. "$FDX/tests/vm/lib.sh"
mount_fresh
python3 "$FDX/tests/vm/py/junk.py" /mnt/test 256
for seed in 1 2 3; do
	fsx -N "${FSX_OPS:-1500}" -S "$seed" -P /tmp -f "$FDX/tests/vm/fsx/ferrodax.toml" \
		"/mnt/test/fsx-$seed" >"/tmp/fsx-$seed.log" 2>&1 ||
		{ tail -40 "/tmp/fsx-$seed.log"; fail "fsx seed $seed"; }
	tail -1 "/tmp/fsx-$seed.log"
done
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
