#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: set up whatever is missing, build, boot the VM on emulated
# NVDIMM and show ferrodax at work on its console.
. "$(dirname "$0")/lib.sh"
cd "$FERRODAX_ROOT"
mkdir -p build
scripts/build-module.sh
scripts/build-tools.sh
exec qemu/run-vm.sh --pmem nvdimm --name demo --demo
