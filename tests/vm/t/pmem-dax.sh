# Both pmem devices exist and support DAX.
. "$FDX/tests/vm/lib.sh"
for d in pmem0 pmem1; do
	test -b /dev/$d || fail "/dev/$d missing"
	[ "$(cat /sys/block/$d/queue/dax)" = 1 ] || fail "/dev/$d has no DAX"
	echo "$d: $(cat /sys/block/$d/size) sectors, dax=1"
done
