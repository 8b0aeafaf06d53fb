# SPDX-License-Identifier: GPL-2.0
#
#   make            build ferrodax.ko against KDIR (default: the cached debug kernel)
#   make tools      build mkfs.ferrodax / fsck.ferrodax into build/bin
#   make demo       set up what is missing, boot a VM, show ferrodax at work
#   make check      host tests + VM tests; ends with "N passed, N failed"
#   make check-long every VM test on both pmem setups (by hand, not in CI)
#   make bench      ferrodax vs ext4-DAX vs XFS-DAX vs raw pmem on the perf kernel
#                   (table, CSV, plot in build/bench/<date>/; BENCH_REPS=1 for a trial)
#   make fstests FSTESTS=DIR [FSTYP=ferrodax|ext4] [GROUP=quick] [TESTS="generic/001 ..."]
#                   run a built fstests tree in the VM (scripts/fstests.sh)
#   make fstests-compare   ferrodax vs ext4-DAX fstests results side by side
#   make fstests-record    add build/fstests results to tests/fstests-harness/results
#   make kernel     build (or find) the cached debug kernel; FLAVOUR=perf for benchmarks
#   make clean
#
# KDIR=/path/to/a/Rust-enabled/kernel/build builds against any other tree;
# LLVM=1 is always used (Rust in 7.3 needs it, and so does KASAN with Rust).

ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

FLAVOUR ?= debug
KDIR ?= $(shell scripts/build-kernel.sh $(FLAVOUR))
# Without an explicit KDIR the module is built inside the build root, with
# the same LLVM/rustc/bindgen the kernel was built with.
BUILD_WRAP := $(if $(filter command line environment,$(origin KDIR)),,scripts/in-buildroot.sh)

all: modules

modules:
	$(BUILD_WRAP) $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 modules

clean:
	rm -rf build
	rm -f fs/bindings_generated.rs
	$(BUILD_WRAP) $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 clean || true

kernel:
	scripts/build-kernel.sh $(FLAVOUR)

tools:
	scripts/build-tools.sh

demo:
	scripts/demo.sh

check:
	scripts/check.sh

check-long:
	FERRODAX_CHECK_LONG=1 scripts/check.sh

bench:
	scripts/bench.sh

power-cuts:
	scripts/power-cuts.sh

fstests:
	scripts/fstests.sh

fstests-compare:
	scripts/fstests-report.py compare

fstests-record:
	scripts/fstests-report.py record

.PHONY: all modules clean kernel tools demo check check-long bench power-cuts fstests fstests-compare fstests-record
endif
