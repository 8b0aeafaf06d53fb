# SPDX-License-Identifier: GPL-2.0
# Sourced by the VM tests: small helpers; every test runs under `sh -e`
# semantics by calling `set -e` itself.
set -eu
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_fail() { if "$@"; then fail "succeeded but should not: $*"; fi; }
KO=/usr/local/lib/ferrodax.ko # copied at boot (qemu/guest-init.sh)
load_ferrodax() { grep -q '^ferrodax ' /proc/modules || insmod "$KO"; }
unload_ferrodax() { if grep -q '^ferrodax ' /proc/modules; then rmmod ferrodax; fi; }
# Simulated power cut: record that it is deliberate, flush the results
# share, then reset at once (no sync of anything else, no unmount).
power_cut() {
	echo "$CRASH_MARK" >>"$RESULTS/results.txt"
	sync -f "$RESULTS/results.txt"
	echo b >/proc/sysrq-trigger
	sleep 60
}
# The next step panics the kernel on purpose: record it, so the host
# counts the panic as this test's end, not as a failed run.
expect_panic() {
	echo "$CRASH_MARK (panic expected)" >>"$RESULTS/results.txt"
	sync -f "$RESULTS/results.txt"
}
# A fresh ferrodax on pmem0, mounted at /mnt/test.
mount_fresh() {
	load_ferrodax
	mkfs.ferrodax -q -f /dev/pmem0
	mount -t ferrodax -o dax /dev/pmem0 /mnt/test
}
