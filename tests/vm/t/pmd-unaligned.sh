# PMD faults on a device whose first page is not 2 MiB-aligned in physical
# memory: a partition of pmem1 starting 1 MiB in (fsdax namespaces
# themselves always start their data on a 2 MiB boundary on x86). ferrodax
# allocates its 2 MiB runs at the device's physical phase, not at device
# block multiples of 512, so the pmd test's mapping still gets PMDs.
# FIEMAP there reports addresses on the partition.
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
# FIEMAP counts from the partition's first byte, not from its DAX
# device's (1 MiB earlier): the bytes at the reported address of the raw
# partition are the file's.
mkfs.ferrodax -q -f /dev/pmem1p1
mount -t ferrodax -o dax /dev/pmem1p1 /mnt/scratch
python3 - <<'PY'
import fcntl, mmap, os, struct
FS_IOC_FIEMAP = 0xC020660B
data = os.urandom(8192)
with open("/mnt/scratch/f", "wb") as f:
    f.write(data)
buf = bytearray(struct.pack("=QQIIII", 0, 8192, 0, 0, 1, 0) + bytes(56))
with open("/mnt/scratch/f", "rb") as f:
    fcntl.ioctl(f.fileno(), FS_IOC_FIEMAP, buf)
assert struct.unpack_from("=I", buf, 20)[0] == 1, "nothing mapped"
logical, physical = struct.unpack_from("=QQ", buf, 32)
raw = mmap.mmap(-1, 8192)  # O_DIRECT needs an aligned buffer
fd = os.open("/dev/pmem1p1", os.O_RDONLY | os.O_DIRECT)
os.preadv(fd, [raw], physical)
os.close(fd)
assert logical == 0 and raw[:] == data, f"FIEMAP's address {physical} holds other bytes"
print(f"FIEMAP on the partition: block {physical // 4096} holds the file")
PY
umount /mnt/scratch
# The partition must not outlive the test: later tests take all of pmem1.
dd if=/dev/zero of=/dev/pmem1 bs=512 count=1 conv=fsync status=none
blockdev --rereadpt /dev/pmem1
