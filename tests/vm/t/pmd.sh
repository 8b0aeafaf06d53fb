# 2 MiB faults: a 2 MiB-aligned shared mapping of a 4 MiB preallocated file
# is mapped with PMDs (the fs_dax:dax_pmd_fault_done tracepoint reports
# NOPAGE, not FALLBACK), and data written through it reads back.
# PMD_DEV=/dev/pmemN runs it on that device (pmd-unaligned), else pmem0.
. "$FDX/tests/vm/lib.sh"
dev=${PMD_DEV:-/dev/pmem0}
load_ferrodax
mkfs.ferrodax -q -f "$dev"
mount -t ferrodax -o dax "$dev" /mnt/test
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs tracefs $T
echo 1 >$T/events/fs_dax/dax_pmd_fault_done/enable
: >$T/trace
python3 - <<'PY'
import mmap, os
fd = os.open("/mnt/test/huge", os.O_RDWR | os.O_CREAT, 0o644)
os.posix_fallocate(fd, 0, 4 << 20)
m = mmap.mmap(fd, 4 << 20)
for off in range(0, 4 << 20, 4096):
    m[off:off + 8] = off.to_bytes(8, "little")
m.close()
for off in range(0, 4 << 20, 4096):
    assert os.pread(fd, 8, off) == off.to_bytes(8, "little")
os.close(fd)
PY
echo 0 >$T/events/fs_dax/dax_pmd_fault_done/enable
grep dax_pmd_fault_done $T/trace | tee /tmp/pmd.trace | head -5
grep -q 'NOPAGE' /tmp/pmd.trace || fail "no PMD fault mapped a huge page"
echo "PMD faults: $(grep -c NOPAGE /tmp/pmd.trace) mapped, $(grep -c FALLBACK /tmp/pmd.trace) fell back"
umount /mnt/test
fsck.ferrodax -n "$dev"
