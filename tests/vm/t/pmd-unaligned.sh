# PMD faults on a device whose first page is not 2 MiB-aligned in physical
# memory: a partition of pmem1 starting 1 MiB in (fsdax namespaces
# themselves always start their data on a 2 MiB boundary on x86). ferrodax
# allocates its 2 MiB runs at the device's physical phase, not at device
# block multiples of 512, so the pmd test's mapping still gets PMDs.
. "$FDX/tests/vm/lib.sh"
# An MBR with one Linux partition from sector 2048 (1 MiB) to the end.
python3 - <<'PY'
import os, struct
fd = os.open("/dev/pmem1", os.O_RDWR)
sectors = os.lseek(fd, 0, os.SEEK_END) // 512
entry = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, sectors - 2048)
mbr = bytes(446) + entry + bytes(48) + b"\x55\xaa"
os.pwrite(fd, mbr, 0)
os.fsync(fd)
os.close(fd)
PY
blockdev --rereadpt /dev/pmem1
udevadm settle 2>/dev/null || sleep 1
[ -b /dev/pmem1p1 ] || fail "no /dev/pmem1p1"
PMD_DEV=/dev/pmem1p1 sh "$FDX/tests/vm/t/pmd.sh"
# The partition must not outlive the test: later tests take all of pmem1.
dd if=/dev/zero of=/dev/pmem1 bs=512 count=1 conv=fsync status=none
blockdev --rereadpt /dev/pmem1
