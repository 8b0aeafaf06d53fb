# Randomized power cut, second boot: mount recovers, fsck is clean, and
# the tree is the workload model's after the last operation it logged as
# done, or after the one in flight (entirely, or not at all; only its
# file bytes may be torn). scripts/check.sh hands over the first boot's
# log and seed (fdx_power_cut on the kernel command line).
. "$FDX/tests/vm/lib.sh"
saved=$FDX/${fdx_power_cut:?no first boot to check}
[ -s "$saved.log" ] || fail "the first boot logged no operation"
[ ! -s "$saved.err" ] || fail "the workload failed before the cut: $(cat "$saved.err")"
load_ferrodax
fsck.ferrodax -n /dev/pmem1
mkdir -p /mnt/sync
mount -t ferrodax -o dax /dev/pmem1 /mnt/sync
python3 "$FDX/tests/vm/py/power_cut.py" verify /mnt/sync/random "$saved.log" "$(cat "$saved.seed")"
umount /mnt/sync
fsck.ferrodax -n /dev/pmem1
