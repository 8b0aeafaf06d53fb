# Seed 002: a page of a DAX file pinned by GUP (the ferrodax_pin test
# module, as O_DIRECT or RDMA would) keeps truncate from freeing its block.
# Truncate waits; killing it ends the wait with nothing freed; after the
# unpin a truncate completes, and fsck is clean.
. "$FDX/tests/vm/lib.sh"
insmod "$FDX/tests/vm/pin/ferrodax_pin.ko"
mount_fresh
python3 "$FDX/tests/vm/py/pinned_page.py" /mnt/test/f /sys/kernel/debug/ferrodax_pin
umount /mnt/test
rmmod ferrodax_pin
fsck.ferrodax -n /dev/pmem0
