# SPDX-License-Identifier: GPL-2.0
# Sourced: find_splat FILE prints the first kernel splat in a dmesg dump and
# succeeds if there is one. Shared by the runner and its self-test.
SPLAT_PATTERN='WARNING:|BUG:|Oops|general protection fault|KASAN:|UBSAN:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|lock held when returning|bad unlock balance|INFO: task .* blocked|Call Trace:|kernel BUG'
find_splat() {
	grep -E -m1 "$SPLAT_PATTERN" "$1"
}
