#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make fstests: run a built fstests (xfstests) tree against ferrodax or
# ext4 -o dax in the debug-kernel VM on emulated NVDIMM
# (TEST_DEV=/dev/pmem0, SCRATCH_DEV=/dev/pmem1), then judge the result
# against tests/fstests-harness/expected-failures.
#
#   FSTESTS=DIR   a built fstests tree (required; see README "fstests")
#   FSTYP=        ferrodax (default) or ext4
#   GROUP=        a group for ./check -g (quick, dax, ...)
#   TESTS=        tests for ./check ("generic/001 generic/091 ..."), with
#                 GROUP or alone; neither: the curated selection of
#                 tests/fstests-harness/curated (what `make check` runs)
#   PENDING=N     with GROUP: only the first N tests of the group that
#                 neither tests/fstests-harness/results nor build/fstests
#                 has a result of for FSTYP (the next part of a long group)
#   EXCLUDE=      tests to leave out (./check -e)
#   RUN=          name of this run (default: latest); results land in
#                 build/fstests/FSTYP/RUN/, so a long group can be run in
#                 parts that `make fstests-compare` puts together
#   FSTESTS_TIMEOUT=  seconds before the VM is killed (default 6 h)
. "$(dirname "$0")/lib.sh"
cd "$FERRODAX_ROOT"

[ -n "${FSTESTS:-}" ] || die "FSTESTS=/path/to/a/built/fstests is required (see README, fstests)"
FSTESTS=$(cd "$FSTESTS" && pwd -P)
[ -x "$FSTESTS/check" ] && [ -x "$FSTESTS/ltp/fsstress" ] ||
	die "$FSTESTS is not a built fstests tree (no check or ltp/fsstress; run make in it)"
FSTYP=${FSTYP:-ferrodax}
case $FSTYP in ferrodax | ext4) ;; *) die "FSTYP must be ferrodax or ext4" ;; esac
RUN=${RUN:-latest}
case $RUN in */* | "" | .*) die "RUN must be a plain name" ;; esac

if [ -n "${PENDING:-}" ]; then
	[ -n "${GROUP:-}" ] && [ -z "${TESTS:-}" ] || die "PENDING=N needs GROUP and no TESTS"
	TESTS=$(scripts/fstests-report.py pending "$FSTESTS" "$GROUP" "$FSTYP" "$PENDING")
	[ -n "$TESTS" ] || die "every test of -g $GROUP has a result on $FSTYP"
	GROUP=
fi
check_args="${GROUP:+-g $GROUP} ${TESTS:-}"
if [ -z "${GROUP:-}${TESTS:-}" ]; then
	check_args=$(grep -v '^#' tests/fstests-harness/curated | paste -sd' ' -)
fi
# ./check takes its options before the tests ("Arguments before tests").
[ -n "${EXCLUDE:-}" ] && check_args="-e $(echo $EXCLUDE | tr ' ' ,) $check_args"
# One line, single spaces (printf: echo would take a leading -e as its own).
check_args=$(printf '%s ' $check_args)
check_args=${check_args% }

out=build/fstests/$FSTYP/$RUN
rm -rf "$out"
mkdir -p "$out"
# The guest unpacks the tree from one file (see tests/fstests-harness/guest.sh).
tar -C "$FSTESTS" --exclude=.git -cf "$out/fstests.tar" .
printf 'FSTYP=%s\nTREE=%s\nCHECK_ARGS="%s"\n' "$FSTYP" "$out/fstests.tar" "$check_args" >"$out/run.conf"

if [ "$FSTYP" = ferrodax ]; then
	scripts/build-module.sh >/dev/null
	scripts/build-tools.sh >/dev/null
fi
log "fstests on $FSTYP: ./check $check_args"
vm=fstests-$FSTYP-$RUN
qemu/run-vm.sh --pmem nvdimm --name "$vm" --timeout "${FSTESTS_TIMEOUT:-21600}" \
	--fstests "$out/run.conf" || true
rm "$out/fstests.tar"
cp -r "build/vm/$vm/results/." "$out/"
python3 scripts/fstests-report.py verdict "$out"
