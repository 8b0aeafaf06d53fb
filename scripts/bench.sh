#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Metadata benchmark: ext4 -o dax vs ferrodax in the VM (debug kernel),
# printed as a table. Inside TCG, and with lockdep and KASAN on, only the
# ratios mean anything. Not part of `make check`.
. "$(dirname "$0")/lib.sh"
cd "$FERRODAX_ROOT"
scripts/build-module.sh
scripts/build-tools.sh
qemu/run-vm.sh --pmem nvdimm --name bench --bench metadata
cat build/vm/bench/results/bench.log
