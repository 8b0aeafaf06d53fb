# Fault injection (issue #11): every namespace and data operation runs
# with its 1st, 2nd, ... slab or page allocation failing (fail-nth, both
# failslab and fail_page_alloc armed for every allocation context) until
# it runs past all of them; each attempt fails cleanly with nothing
# changed or succeeds completely (tests/vm/py/fail_nth.py). Afterwards
# fsck finds nothing, and the run's final check (kmemleak is on in this
# run) finds no leak.
. "$FDX/tests/vm/lib.sh"
dbg=/sys/kernel/debug
arm() {
	for f in failslab fail_page_alloc; do
		echo "$1" >$dbg/$f/ignore-gfp-wait
		echo 0 >$dbg/$f/verbose
	done
	echo "$2" >$dbg/fail_page_alloc/min-order
}
arm N 0
trap 'arm Y 1' EXIT
mount_fresh
python3 "$FDX/tests/vm/py/fail_nth.py" /mnt/test
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 || fail "fsck found damage after the injected failures"
