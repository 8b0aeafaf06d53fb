#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-guest test runner: runs tests/vm/t/NAME.sh for each NAME in the
# comma-separated list, one "PASS: NAME" or "FAIL: NAME" line each, then
# fails the run if dmesg holds any lockdep report, KASAN report, WARNING,
# BUG or Oops, even when every test passed. The name `dmesg-clean` in the
# list runs that check there (before tests that cut the power or splat on
# purpose); the final one runs if tests ran after it. A VM booted with
# kmemleak=on also fails there on any leak kmemleak finds (objects left
# from boot are cleared before the first test).
results=$RESULTS/results.txt
: >"$results"
. "$FDX/tests/vm/splat.sh"
kmemleak=/sys/kernel/debug/kmemleak
grep -qw kmemleak=on /proc/cmdline || kmemleak=
[ -z "$kmemleak" ] || echo clear >"$kmemleak"
check_dmesg() {
	dmesg >"$RESULTS/dmesg.txt"
	if splat=$(find_splat "$RESULTS/dmesg.txt"); then
		echo "FAIL: dmesg-clean ($splat)" | tee -a "$results"
	else
		echo "PASS: dmesg-clean" | tee -a "$results"
	fi
	[ -n "$kmemleak" ] || return 0
	# Only objects older than 5 s are reported; a second scan drops
	# objects that were merely in flight during the first.
	sleep 6
	if ! { echo scan >"$kmemleak" && echo scan >"$kmemleak"; } 2>/dev/null; then
		echo "FAIL: kmemleak (not running: $(dmesg | grep -m1 kmemleak))" | tee -a "$results"
		return 0
	fi
	cat "$kmemleak" >"$RESULTS/kmemleak.txt"
	if [ -s "$RESULTS/kmemleak.txt" ]; then
		n=$(grep -c '^unreferenced object' "$RESULTS/kmemleak.txt")
		# The first object's backtrace, less the allocator's own frames.
		first=$(awk '/^ *backtrace/ { b = 1; next } b && (NF == 0 || /^unreferenced/) { exit } b { print $1 }' \
			"$RESULTS/kmemleak.txt" | grep -v -m1 -E 'kmemleak|k[mz]alloc|_noprof|slab')
		echo "FAIL: kmemleak ($n unreferenced objects, the first allocated in ${first:-?}; see kmemleak.txt)" |
			tee -a "$results"
	else
		echo "PASS: kmemleak" | tee -a "$results"
	fi
}
checked=0
for t in $(echo "$1" | tr , ' '); do
	[ "$t" = none ] && continue
	if [ "$t" = dmesg-clean ]; then
		check_dmesg
		checked=1
		continue
	fi
	checked=0
	echo "ferrodax-test: start $t" >/dev/kmsg
	# A test may end by cutting the power (sysrq b); it says so first so the
	# host does not count the missing DONE as a hang.
	export CRASH_MARK="CRASH: $t"
	start=$(date +%s)
	# Per test; long suites run by hand raise it (fdx_test_timeout=S on
	# the kernel command line, qemu/run-vm.sh --cmdline).
	timeout --signal=KILL "${fdx_test_timeout:-1200}" sh "$FDX/tests/vm/t/$t.sh" >"$RESULTS/$t.log" 2>&1
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
[ "$checked" = 1 ] || check_dmesg
echo DONE >>"$results"
