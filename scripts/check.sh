#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: host tests (cargo), module build, then the VM tests on both
# pmem setups (FERRODAX_CHECK_LONG=1, `make check-long`: every test on both
# and the crash explorer with eight stage sizes;
# the NVDIMM run ends with the power cut of the crash test, the legacy run
# with the harness self-test, a deliberate lockdep splat that must fail its
# dmesg check), then the crash test's second boot, then fstests' curated
# selection if FSTESTS names a built fstests tree. Ends with "N passed, N
# failed".
. "$(dirname "$0")/lib.sh"
cd "$FERRODAX_ROOT"
mkdir -p build/check
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# Count the verdicts of a VM run (label, results file). After the
# deliberate splat (the harness self-test) only a failed VM counts: the
# dmesg check there is judged by selftest_verdict.
count() {
	local after_splat=0
	while read -r verdict test rest; do
		[ "$test" = splat-lockdep ] && after_splat=1
		[ $after_splat = 1 ] && case $test in vm-*) ;; *) continue ;; esac
		case $verdict in
		PASS:) pass "[$1] $test${rest:+ $rest}" ;;
		FAIL:) fail "[$1] $test${rest:+ $rest}" ;;
		esac
	done <"$2"
}
selftest_verdict() {
	local after
	after=$(sed -n '/^PASS: splat-lockdep/,$p' "$1")
	if echo "$after" | grep -q '^FAIL: dmesg-clean (.*circular locking'; then
		pass "harness fails a run with a lockdep splat"
	else
		fail "harness did not catch the deliberate lockdep splat"
		cat "$1"
	fi
	if echo "$after" | grep -q '^FAIL: kmemleak (.*allocated in ferrodax_splat_leak'; then
		pass "harness fails a run with a memory leak (kmemleak)"
	else
		fail "harness did not catch the deliberate leak"
		cat "$1"
	fi
}
start=$SECONDS

log "setup: build root, debug kernel, guest root (cached after the first run)"
"$FERRODAX_ROOT/scripts/setup-buildroot.sh"
"$FERRODAX_ROOT/scripts/build-kernel.sh" debug >/dev/null
"$FERRODAX_ROOT/scripts/setup-guestroot.sh" >/dev/null

log "host tests: cargo test --workspace"
# The long run explores every crash scenario with many stage sizes.
[ "${FERRODAX_CHECK_LONG:-0}" = 1 ] && export FERRODAX_CRASH_STAGES="64 48 40 32 24 16 8 4"
if cargo test --workspace -- --nocapture >build/check/cargo.log 2>&1; then :; fi
while read -r p f; do
	passed=$((passed + p))
	failed=$((failed + f))
done < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' build/check/cargo.log)
grep -E '^test .* FAILED$' build/check/cargo.log || true
grep -E '^crash states checked' build/check/cargo.log || true
if ! grep -q '^test result:' build/check/cargo.log; then
	fail "cargo test did not run (see build/check/cargo.log)"
	tail -20 build/check/cargo.log
fi

log "building ferrodax.ko, the self-test module and the tools"
if scripts/build-module.sh && scripts/build-tools.sh; then
	pass "module and tools build without warnings"
else
	fail "module or tools build"
fi

# The debug build's frames (KASAN makes them larger than a production
# build's) on the deepest path from any entry point: 14 KiB leaves a
# production kernel's 16 KiB stack room for the syscall and VFS frames above
# and the kernel's below (a rename over 16 KiB deep overflowed it once).
log "stack depth of ferrodax.ko's own code"
if python3 scripts/stack-depth.py ferrodax.ko --budget 14336 >build/check/stack-depth.log; then
	pass "stack depth: $(sed -n 's/^deepest chain (\(.*\)):$/\1/p' build/check/stack-depth.log), within 14,336"
else
	fail "stack depth (see build/check/stack-depth.log)"
	grep -E '^FAIL|^deepest' build/check/stack-depth.log
fi

for pmem in nvdimm legacy; do
	tests=$(awk -v p="$pmem" -v long="${FERRODAX_CHECK_LONG:-0}" \
		'!/^#/ && NF && (NF == 1 || $2 == p || $2 == p "-only" || (long == 1 && $2 !~ /-only$/)) { print $1 }' \
		tests/vm/list | paste -sd, -)
	log "VM tests on $pmem pmem: $tests"
	# The timeout only catches a hung guest: the NVDIMM run takes ~15 min
	# here and twice that on a slower machine.
	# The legacy run hunts leaks: see tests/vm/list.
	leaks=""
	[ "$pmem" = legacy ] && leaks=kmemleak=on
	qemu/run-vm.sh --pmem "$pmem" --name "check-$pmem" --tests "$tests" --timeout 3000 \
		--cmdline "$leaks" || true
	count "$pmem" "build/vm/check-$pmem/results/results.txt"
done
selftest_verdict build/vm/check-legacy/results/results.txt

log "crash test, second boot: recovery after the NVDIMM run's power cut (MAP_SYNC stores, a random workload, an unlinked-but-open file)"
r=build/vm/check-nvdimm/results/results.txt
if grep -q '^CRASH: crash-orphan-before' "$r" && grep -q '^PASS: crash-mapsync-before' "$r"; then
	mkdir -p build/vm/crash
	mv build/vm/check-nvdimm/pmem0.img build/vm/check-nvdimm/pmem1.img build/vm/crash/
	# The random workload's seed, log and errors, for crash-random-after.
	for f in seed log err; do
		cp "build/vm/check-nvdimm/results/power-cut.$f" "build/vm/crash/power-cut.$f" 2>/dev/null ||
			: >"build/vm/crash/power-cut.$f"
	done
	qemu/run-vm.sh --pmem nvdimm --name crash --keep-pmem --cmdline fdx_power_cut=build/vm/crash/power-cut \
		--tests crash-orphan-after,crash-mapsync-after,crash-random-after,dmesg-clean,errors-panic || true
	count crash build/vm/crash/results/results.txt
	# errors=panic ends that boot: the kernel must panic, not oops.
	if grep -q '^CRASH: errors-panic (panic expected)' build/vm/crash/results/results.txt &&
		grep -q 'Kernel panic - not syncing: ferrodax: corrupt directory block header (errors=panic)' \
			build/vm/crash/console.log; then
		pass "[crash] errors-panic: corruption panics the machine"
	else
		fail "[crash] errors-panic: no panic (see build/vm/crash/console.log)"
	fi
else
	fail "[crash] the NVDIMM run did not reach its power cut"
fi

# fstests (tests/fstests-harness/curated) when a built tree is given; never
# counted as a pass when it is not.
if [ -n "${FSTESTS:-}" ]; then
	log "fstests: the curated selection on ferrodax"
	if env -u GROUP -u TESTS -u EXCLUDE FSTYP=ferrodax RUN=check scripts/fstests.sh >build/check/fstests.log 2>&1; then
		pass "fstests curated selection ($(tail -1 build/check/fstests.log))"
	else
		fail "fstests curated selection (see build/check/fstests.log)"
		grep '^FAIL' build/check/fstests.log || tail -5 build/check/fstests.log
	fi
else
	echo "SKIP: fstests (FSTESTS not set)"
fi

log "check took $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
