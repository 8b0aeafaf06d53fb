# Randomized power cut, first boot (issue #11): a random workload
# (tests/vm/py/power_cut.py; the seed is random and kept in the results)
# starts beside crash-mapsync-before's file on pmem1 and runs in the
# background until crash-orphan-before cuts the power, wherever it then
# is. crash-random-after checks what the second boot finds.
. "$FDX/tests/vm/lib.sh"
mountpoint -q /mnt/sync || fail "crash-mapsync-before left nothing mounted at /mnt/sync"
seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
echo "$seed" >"$RESULTS/power-cut.seed"
setsid python3 "$FDX/tests/vm/py/power_cut.py" run /mnt/sync/random \
	"$RESULTS/power-cut.log" "$seed" </dev/null >/dev/null 2>"$RESULTS/power-cut.err" &
for _ in $(seq 60); do
	[ -s "$RESULTS/power-cut.log" ] && break
	sleep 1
done
[ -s "$RESULTS/power-cut.log" ] || fail "the workload did not start: $(cat "$RESULTS/power-cut.err")"
echo "seed $seed, running"
