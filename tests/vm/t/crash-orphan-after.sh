# Second boot of the crash test, on the same pmem: mount recovers (the
# orphan is released), fsck is clean, and the tree holds what it should.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
fsck.ferrodax -n /dev/pmem0
seen=$(dmesg | wc -l)
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
dmesg | tail -n +"$((seen + 1))" | grep -q 'released 1 orphan inodes' ||
	{ dmesg; fail "orphan not released at mount"; }
ls -la /mnt/test /mnt/test/keep
[ ! -e /mnt/test/open-unlinked ] || fail "unlinked file came back"
[ -e /mnt/test/keep/b ] || fail "keep/b lost"
# the rename storm was cut somewhere: exactly one of a and c exists
[ "$(ls /mnt/test/keep | grep -c '^[ac]$')" = 1 ] || fail "rename not atomic across the power cut"
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
unload_ferrodax
