#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench, inside the VM (scripts/bench.sh boots the perf kernel with a
# 4 GiB NVDIMM): ext4 -o dax, XFS -o dax and ferrodax, each on a fresh mkfs
# of /dev/pmem0, in that order in every repetition, plus fio on the raw
# /dev/pmem0 as the physical ceiling and the syscall latencies on tmpfs as
# the floor: what the VFS and the syscalls cost in this VM with no media and
# no journal, which no filesystem's latency can go below. Every number goes to raw.txt as
# "rep fs metric value unit"; report.py turns them into the table, the CSV
# and the plot. Prints; asserts nothing about speed.
#
# Namespace-heavy runs (untar, rm -rf, populate) end with syncfs, so each
# filesystem is charged for making its work durable (ferrodax is synchronous,
# ext4 and XFS commit their journals lazily).
. "$FDX/tests/vm/lib.sh"
. "$FDX/build/bench/params.sh"
BIN=$FDX/build/bin/ferrodax-bench
OUT=$RESULTS
RAW=$OUT/raw.txt
: >"$RAW"
load_ferrodax

now_ns() { date +%s%N; }
# emit REP FS: prefix each "metric value unit" line read from stdin.
emit() { sed "s/^/$1 $2 /" >>"$RAW"; }
# timed_ms CMD...: run CMD, print its wall time in ms.
timed_ms() {
	t0=$(now_ns)
	"$@" >/dev/null
	echo $((($(now_ns) - t0) / 1000000))
}
mkfs_of() {
	case $1 in
	ext4) mkfs.ext4 -q -F /dev/pmem0 ;;
	xfs) mkfs.xfs -q -f /dev/pmem0 ;;
	ferrodax) mkfs.ferrodax -q -f /dev/pmem0 ;;
	esac
}
mount_of() { mount -t "$1" -o dax /dev/pmem0 /mnt/test; }

# fio_bw ARGS...: one fio job, prints its aggregate bandwidth in MiB/s.
fio_bw() {
	fio --output-format=json --group_reporting --time_based --runtime="$FIO_SECS" \
		--size="$FIO_SIZE" "$@" |
		python3 -c 'import json, sys
j = json.load(sys.stdin)["jobs"][0]
print("%.1f" % ((j["read"]["bw_bytes"] + j["write"]["bw_bytes"]) / 2**20))'
}
# fio_matrix REP FS ENGINES TARGET-ARGS...: the bandwidth matrix.
fio_matrix() {
	rep=$1 fs=$2 engines=$3
	shift 3
	for engine in $engines; do
		for jobs in 1 2; do
			for pat in read:1M write:1M randread:4k randwrite:4k; do
				rw=${pat%:*} bs=${pat#*:}
				bw=$(fio_bw --name=bw --rw="$rw" --bs="$bs" --ioengine="$engine" --numjobs="$jobs" "$@")
				echo "bw.$rw.$engine.j$jobs $bw MiB/s" | emit "$rep" "$fs"
			done
		done
	done
}

# The source tree for untar and rm -rf: the guest's Python standard library.
src=$(ls -d /usr/lib/python3.* | head -1)
tar -cf /tmp/src.tar -C "$(dirname "$src")" "$(basename "$src")"
src_files=$(tar -tf /tmp/src.tar | wc -l)

one_fs() { # one_fs REP FS
	rep=$1 fs=$2
	echo "mount.mkfs $(timed_ms mkfs_of "$fs") ms" | emit "$rep" "$fs"
	echo "mount.empty $(timed_ms mount_of "$fs") ms" | emit "$rep" "$fs"
	"$BIN" latency /mnt/test "$LAT_OPS" | emit "$rep" "$fs"
	"$BIN" workload /mnt/test fileserver "$MIX_LOOPS" | emit "$rep" "$fs"
	"$BIN" workload /mnt/test varmail "$MIX_LOOPS" | emit "$rep" "$fs"
	ms=$(timed_ms sh -c 'tar -xf /tmp/src.tar -C /mnt/test && sync -f /mnt/test')
	echo "meta.untar $((src_files * 1000 / ms)) files/s" | emit "$rep" "$fs"
	ms=$(timed_ms sh -c 'rm -rf /mnt/test/* && sync -f /mnt/test')
	echo "meta.rm-rf $((src_files * 1000 / ms)) files/s" | emit "$rep" "$fs"
	for t in 1 2; do "$BIN" scale /mnt/test "$t" "$SCALE_OPS" | emit "$rep" "$fs"; done
	"$BIN" faults /mnt/test "$FAULT_MIB" | emit "$rep" "$fs"
	fio_matrix "$rep" "$fs" "psync mmap" --directory=/mnt/test --unlink=1
	"$BIN" populate /mnt/test "$POPULATE_FILES" | emit "$rep" "$fs"
	umount /mnt/test
	echo "mount.populated $(timed_ms mount_of "$fs") ms" | emit "$rep" "$fs"
	umount /mnt/test
}

echo "$(uname -r), $(nproc) CPUs, $REPS repetitions, source tree $src ($src_files entries)" >"$OUT/machine.txt"
rep=1
while [ "$rep" -le "$REPS" ]; do
	for fs in ext4 xfs ferrodax; do
		echo "rep $rep: $fs"
		one_fs "$rep" "$fs"
	done
	echo "rep $rep: raw pmem"
	fio_matrix "$rep" raw psync --filename=/dev/pmem0 --direct=1
	echo "rep $rep: tmpfs"
	mount -t tmpfs -o size=1G tmpfs /mnt/test
	"$BIN" latency /mnt/test "$LAT_OPS" | emit "$rep" tmpfs
	umount /mnt/test
	rep=$((rep + 1))
done

# Where the time goes: a cpu-clock profile (TCG has no PMU) of the syscall
# latency run on ferrodax and, for comparison, on ext4.
for fs in ferrodax ext4; do
	mkfs_of "$fs" >/dev/null
	mount_of "$fs"
	perf record -q -a -g -e cpu-clock -o /tmp/perf.data -- "$BIN" latency /mnt/test "$LAT_OPS" >/dev/null 2>&1
	perf report -q -i /tmp/perf.data --stdio --no-children --sort sym --percent-limit 0.5 -g none \
		>"$OUT/profile-$fs.txt" 2>&1
	umount /mnt/test
done
unload_ferrodax
python3 "$FDX/tests/vm/bench/report.py" "$OUT"
