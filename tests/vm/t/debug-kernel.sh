# The test kernel really is a debug kernel: lockdep and KASAN are live.
. "$FDX/tests/vm/lib.sh"
test -e /proc/lockdep || fail "no /proc/lockdep: lockdep not built in"
grep -q 'debug_locks: *1' /proc/lockdep_stats || fail "lockdep switched itself off (debug_locks=0)"
dmesg | grep -q 'KernelAddressSanitizer initialized' || fail "KASAN not initialised"
test -e /sys/kernel/debug/failslab || fail "no failslab fault injection"
echo "lockdep, KASAN and failslab are active"
