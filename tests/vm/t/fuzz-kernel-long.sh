# fuzz-kernel with 264 images (12 per structure), by hand (it takes longer
# than the runner's default 20 minutes per test under TCG):
#   qemu/run-vm.sh --tests fuzz-kernel-long --timeout 9000 --cmdline fdx_test_timeout=7200
FUZZ_IMAGES=264
. "$FDX/tests/vm/t/fuzz-kernel.sh"
