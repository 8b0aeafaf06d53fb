#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: ext4 -o dax vs XFS -o dax vs ferrodax vs the raw device, in one
# boot of the perf kernel (no lockdep, KASAN, kmemleak or overflow checks;
# built once and cached like the debug kernel) on a 4 GiB emulated NVDIMM.
# Runs tests/vm/bench/dax.sh in the guest and leaves table.md, results.csv,
# plot.png, raw.txt and the perf profiles in build/bench/<date>/; prints the
# table. Under TCG only the ratios mean anything. Never part of make check.
#
# BENCH_REPS (5), BENCH_LAT_OPS (10000) and friends below shorten a trial run.
. "$(dirname "$0")/lib.sh"
cd "$FERRODAX_ROOT"
kdir=$(scripts/build-kernel.sh perf)
scripts/build-tools.sh

# The module for the perf kernel is built from a copy of the sources, so
# the debug build in the tree (what make check loads) stays as it is.
mod=build/module-perf
rm -rf "$mod" && mkdir -p "$mod"
git ls-files --cached --others --exclude-standard Kbuild src fs mm core/src | tar -cf - -T - | tar -xf - -C "$mod"
in_buildroot make -s -C "$kdir" M="$FERRODAX_ROOT/$mod" LLVM=1 modules

mkdir -p build/bench
cat >build/bench/params.sh <<PARAMS
KO=/run/ferrodax/$mod/ferrodax.ko
REPS=${BENCH_REPS:-5}
LAT_OPS=${BENCH_LAT_OPS:-10000}
MIX_LOOPS=${BENCH_MIX_LOOPS:-2000}
SCALE_OPS=${BENCH_SCALE_OPS:-10000}
FAULT_MIB=${BENCH_FAULT_MIB:-1024}
FIO_SECS=${BENCH_FIO_SECS:-3}
FIO_SIZE=${BENCH_FIO_SIZE:-256M}
POPULATE_FILES=${BENCH_POPULATE_FILES:-100000}
PARAMS

qemu/run-vm.sh --kernel perf --pmem nvdimm --pmem0-size 4G --name bench --bench dax --timeout 14400
res=build/vm/bench/results
[ -f "$res/table.md" ] || { tail -30 "$res/bench.log" >&2; die "the benchmark did not finish: see $res/bench.log"; }
dest=build/bench/$(date +%Y-%m-%d-%H%M)
mkdir -p "$dest"
cp "$res"/* build/bench/params.sh "$dest/"
log "results in $dest (table.md, results.csv, plot.png, raw.txt, profile-*.txt)"
cat "$dest/table.md"
