#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build ferrodax.ko (with clippy: CLIPPY=1 runs clippy-driver as the Rust
# compiler) and the harness self-test module against the cached debug
# kernel, inside the build root. Any warning fails. Prints nothing on success.
. "$(dirname "$0")/lib.sh"
kdir=$("$FERRODAX_ROOT/scripts/build-kernel.sh" debug)
mkdir -p "$FERRODAX_ROOT/build"
log=$FERRODAX_ROOT/build/module-build.log
: >"$log"
# One log for the three builds: each appends, so the check below sees the
# module's warnings too, not only the last build's.
for m in "$FERRODAX_ROOT" "$FERRODAX_ROOT/tests/vm/splat" "$FERRODAX_ROOT/tests/vm/pin"; do
	in_buildroot make -s -C "$kdir" M="$m" LLVM=1 CLIPPY=1 modules >>"$log" 2>&1 ||
		{ cat "$log" >&2; die "module build failed in $m"; }
done
if grep -E '^(warning|error)' "$log"; then
	die "module build produced warnings (see build/module-build.log)"
fi
