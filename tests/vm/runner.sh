#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-guest test runner: runs tests/vm/t/NAME.sh for each NAME in the
# comma-separated list, one "PASS: NAME" or "FAIL: NAME" line each, then
# fails the run if dmesg holds any lockdep report, KASAN report, WARNING,
# BUG or Oops, even when every test passed.
results=$RESULTS/results.txt
: >"$results"
for t in $(echo "$1" | tr , ' '); do
	[ "$t" = none ] && continue
	echo "ferrodax-test: start $t" >/dev/kmsg
	# A test may end by cutting the power (sysrq b); it says so first so the
	# host does not count the missing DONE as a hang.
	export CRASH_MARK="CRASH: $t"
	start=$(date +%s)
	timeout --signal=KILL 1200 sh "$FDX/tests/vm/t/$t.sh" >"$RESULTS/$t.log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	# A failed test may leave things mounted or frozen: never let that
	# spill into the next test.
	for m in /mnt/test /mnt/scratch; do
		if mountpoint -q "$m"; then
			# Processes a failed test left behind must not keep the
			# filesystem alive (lazily unmounted) under the next mkfs.
			fuser -km "$m" >/dev/null 2>&1
			sleep 1
			fsfreeze --unfreeze "$m" 2>/dev/null
			umount "$m" || umount -l "$m"
		fi
	done
	if [ $rc = 0 ]; then
		echo "PASS: $t (${took}s)" | tee -a "$results"
	else
		echo "FAIL: $t (exit $rc after ${took}s; see $t.log)" | tee -a "$results"
	fi
done
dmesg >"$RESULTS/dmesg.txt"
. "$FDX/tests/vm/splat.sh"
if splat=$(find_splat "$RESULTS/dmesg.txt"); then
	echo "FAIL: dmesg-clean ($splat)" | tee -a "$results"
else
	echo "PASS: dmesg-clean" | tee -a "$results"
fi
echo DONE >>"$results"
