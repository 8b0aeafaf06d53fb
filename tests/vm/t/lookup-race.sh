# Issue #10: lookups, stat, readdir, readlink and faults on mapped blocks
# run without the core lock while another CPU runs transactions; the
# in-place seqcount must discard every torn read (tests/vm/py/lookup_race.py).
. "$FDX/tests/vm/lib.sh"
mount_fresh
seen=$(dmesg | wc -l)
python3 "$FDX/tests/vm/py/lookup_race.py" /mnt/test/race 15
if dmesg | tail -n +"$((seen + 1))" | grep -E 'ferrodax: (corrupt|media error)'; then
	fail "a lookup reported damage"
fi
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
