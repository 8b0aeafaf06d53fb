# errors=panic (issue #11): a corruption found at run time panics the
# machine, as ext4's errors=panic does (the kernel's panic(), not an oops
# that kills only the task). It ends its boot: scripts/check.sh finds the
# panic message on the console.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
"$FDX/build/bin/ferrodax-fuzz" set 'dir_block[dir].owner' 0 /dev/pmem1
mount -t ferrodax -o dax,errors=panic /dev/pmem1 /mnt/scratch
expect_panic
ls /mnt/scratch/dir || true
sleep 60
fail "listing a damaged directory under errors=panic did not panic"
