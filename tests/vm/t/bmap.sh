# FIBMAP (->bmap), as `filefrag -B` and fstests (_require_fibmap) use it:
# for each block of a file with a hole in the middle, the device block
# FIEMAP reports (0 for the hole), and that block of /dev/pmem0 holds the
# file's bytes. fsck clean after.
. "$FDX/tests/vm/lib.sh"
mount_fresh
f=/mnt/test/holey
xfs_io -f -c "pwrite -q -S 0x5a 0 16k" -c "pwrite -q -S 0xa5 32k 16k" $f
python3 - $f <<'PY'
import fcntl, mmap, os, struct, sys
FIBMAP, FIEMAP, BLOCK = 1, 0xC020660B, 4096
fd = os.open(sys.argv[1], os.O_RDONLY)
# struct fiemap (32 bytes) and room for 8 struct fiemap_extent (56 each).
req = bytearray(struct.pack("QQIIII", 0, 2**64 - 1, 0, 0, 8, 0) + bytes(56 * 8))
fcntl.ioctl(fd, FIEMAP, req)
extents = []
for i in range(struct.unpack_from("I", req, 20)[0]):
    logical, physical, length = struct.unpack_from("QQQ", req, 32 + 56 * i)
    extents.append((logical // BLOCK, physical // BLOCK, length // BLOCK))
pmem = os.open("/dev/pmem0", os.O_RDONLY | os.O_DIRECT)
page = mmap.mmap(-1, BLOCK)  # aligned for O_DIRECT
for blk in range(12):
    got = struct.unpack("i", fcntl.ioctl(fd, FIBMAP, struct.pack("i", blk)))[0]
    want = next((p + blk - l for l, p, n in extents if l <= blk < l + n), 0)
    if got != want:
        sys.exit(f"FIBMAP of block {blk}: {got}, FIEMAP says {want}")
    if got:
        os.preadv(pmem, [page], got * BLOCK)
        if page[:] != bytes([0x5A if blk < 4 else 0xA5]) * BLOCK:
            sys.exit(f"device block {got} does not hold file block {blk}")
if [w for w in (4, 5, 6, 7)
        if struct.unpack("i", fcntl.ioctl(fd, FIBMAP, struct.pack("i", w)))[0]]:
    sys.exit("FIBMAP mapped the hole")
PY

umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
echo "bmap: FIBMAP matches FIEMAP and the device, 0 for a hole"
