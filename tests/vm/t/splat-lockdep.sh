# Loads the deliberate-splat module. This test itself passes; the runner's
# dmesg check must then fail the run (asserted by scripts/check.sh).
. "$FDX/tests/vm/lib.sh"
insmod "$FDX/tests/vm/splat/ferrodax_splat.ko"
rmmod ferrodax_splat
