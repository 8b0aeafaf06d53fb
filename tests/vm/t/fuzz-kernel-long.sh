# fuzz-kernel with 264 images (12 per structure), by hand:
#   qemu/run-vm.sh --tests fuzz-kernel-long
FUZZ_IMAGES=264
. "$FDX/tests/vm/t/fuzz-kernel.sh"
