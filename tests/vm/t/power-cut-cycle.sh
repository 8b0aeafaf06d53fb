# One boot of the randomized power-cut test's long mode
# (scripts/power-cuts.sh): check what the previous boot's cut left, if
# there was one (crash-random-after), then start a new random workload
# (crash-random-before) and cut the power at a random moment.
. "$FDX/tests/vm/lib.sh"
if [ -s "$FDX/${fdx_power_cut:?}.log" ]; then
	. "$FDX/tests/vm/t/crash-random-after.sh"
else
	load_ferrodax
	mkfs.ferrodax -q -f /dev/pmem1
fi
mkdir -p /mnt/sync
mount -t ferrodax -o dax /dev/pmem1 /mnt/sync
rm -rf /mnt/sync/random # each workload's model starts from nothing
. "$FDX/tests/vm/t/crash-random-before.sh"
sleep $(($(od -An -N1 -tu1 /dev/urandom) % 8 + 1))
power_cut
