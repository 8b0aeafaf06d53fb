# stress-ng's directory, rename, link, symlink and filename stressors on
# ferrodax for a bounded time; the runner's dmesg check then requires no
# lockdep or KASAN report. fsck must find the result clean.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
stress-ng --temp-path /mnt/test --timeout 8s --metrics-brief \
	--dir 1 --dirdeep 1 --dirmany 1 --rename 2 --link 1 --symlink 1 --filename 1 --dentry 1
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
unload_ferrodax
