#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Metadata benchmark (run by scripts/bench.sh as a VM test): the same
# syscall loop on ext4 -o dax and on ferrodax, each on a fresh filesystem
# on /dev/pmem0, printed as a table with the ratio. Prints; asserts nothing.
. "$FDX/tests/vm/lib.sh"
N=${BENCH_N:-2000}
bench() { # bench NAME MKFS... -- MOUNT-ARGS...
	name=$1; shift
	mkfs=""
	while [ "$1" != -- ]; do mkfs="$mkfs $1"; shift; done
	shift
	$mkfs /dev/pmem0 >/dev/null
	mount "$@" /dev/pmem0 /mnt/test
	"$FDX/build/bin/ferrodax-metabench" /mnt/test "$N" | sed "s/^/$name /"
	umount /mnt/test
}
load_ferrodax
{
	bench ext4 mkfs.ext4 -q -F -- -t ext4 -o dax
	bench ferrodax mkfs.ferrodax -q -f -- -t ferrodax -o dax
} >/tmp/bench.raw
echo "metadata ops/s, N=$N, $(uname -r) (ratio = ferrodax / ext4-DAX)"
printf '%-8s %12s %12s %7s\n' op ext4-dax ferrodax ratio
awk '$1 == "ext4" { e[$2] = $3; order[n++] = $2 } $1 == "ferrodax" { f[$2] = $3 }
	END { for (i = 0; i < n; i++) { o = order[i]; printf "%-8s %12d %12d %7.2f\n", o, e[o], f[o], f[o] / e[o] } }' /tmp/bench.raw
unload_ferrodax
