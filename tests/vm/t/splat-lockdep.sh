# Loads the deliberate-splat module (a lockdep report and, for kmemleak, a
# leak). This test itself passes; the runner's final dmesg and kmemleak
# checks must then fail the run (asserted by scripts/check.sh).
. "$FDX/tests/vm/lib.sh"
# Left loaded, so kmemleak's report names the function that leaked.
insmod "$FDX/tests/vm/splat/ferrodax_splat.ko"
