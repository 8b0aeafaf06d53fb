#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make power-cuts [CUTS=N]: the long mode of the randomized power-cut test
# (issue #11; make check runs one cut). Boot after boot on the same pmem,
# each boot checks what the previous cut left and then starts a new random
# workload and cuts the power at a random moment (tests/vm/t/
# power-cut-cycle.sh). N cuts (default 20) take N + 1 boots, about a
# minute each under TCG. Ends with "N passed, N failed".
. "$(dirname "$0")/lib.sh"
cd "$FERRODAX_ROOT"
cuts=${CUTS:-20}
scripts/build-module.sh
scripts/build-tools.sh
out=build/vm/power-cuts
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0
keep=""
for i in $(seq 0 "$cuts"); do
	tests=power-cut-cycle
	# The last boot only checks the last cut.
	[ "$i" = "$cuts" ] && tests=crash-random-after
	qemu/run-vm.sh --pmem nvdimm --name power-cuts $keep --timeout 1200 \
		--cmdline "fdx_power_cut=$out/cut" --tests "$tests" >"$out/boot-$i.log" 2>&1 || true
	keep=--keep-pmem
	r=$out/results/results.txt
	log=$out/results/$tests.log
	if [ "$i" -gt 0 ]; then
		if verdict=$(grep -m1 '^power cut after operation' "$log"); then
			passed=$((passed + 1))
			echo "PASS: cut $i: $verdict"
		else
			failed=$((failed + 1))
			echo "FAIL: cut $i (see $log)"
			tail -5 "$log"
			break
		fi
	fi
	[ "$tests" = crash-random-after ] && break
	if ! grep -q '^CRASH: power-cut-cycle' "$r"; then
		failed=$((failed + 1))
		echo "FAIL: boot $i did not reach its power cut (see $log)"
		tail -5 "$log"
		break
	fi
	for f in seed log err; do
		cp "$out/results/power-cut.$f" "$out/cut.$f"
	done
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
