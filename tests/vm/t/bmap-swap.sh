# FIBMAP (->bmap) and swap files (->swap_activate), as `filefrag -B` and
# fstests' swap tests use them. FIBMAP answers, for each block of a file
# with a hole in the middle, the device block FIEMAP reports (0 for the
# hole), and that block of /dev/pmem0 holds the file's bytes. A fully
# allocated file becomes active swap; while it is, writes (buffered,
# O_DIRECT), a new shared writable mapping, truncate, fallocate and punch
# get ETXTBSY, unlink EPERM, and stores through a mapping made before
# swapon SIGBUS; swapoff makes it writable again. A file with a hole is
# refused. fsck clean after.
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

s=/mnt/test/swap
xfs_io -f -c "pwrite -q 0 16m" $s
chmod 600 $s
mkswap $s >/dev/null
swapon $s
grep -q "^$s " /proc/swaps || fail "swapon: not in /proc/swaps"
refused() {
	local why=$1
	shift
	"$@" 2>&1 | grep -q "$why" || fail "not refused ($why): $*"
}
refused "Text file busy" xfs_io -c "pwrite -q 64k 4k" $s
refused "Text file busy" xfs_io -d -c "pwrite -q 64k 4k" $s
refused "Text file busy" xfs_io -c "mmap -rw 64k 64k" $s
refused "Text file busy" xfs_io -c "truncate 8m" $s
refused "Text file busy" xfs_io -c "falloc 0 32m" $s
refused "Text file busy" xfs_io -c "fpunch 64k 64k" $s
refused "Operation not permitted" rm -f $s
swapoff $s
# Stores through a shared mapping made before swapon, to a page written
# before it and to a page never faulted in: each runs in a child, which
# must die of SIGBUS (a write fault on an unmapped page reaches ferrodax's
# fault handler, which has to refuse it itself).
python3 - $s <<'PY'
import ctypes, mmap, os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 2 * 65536, offset=65536)
m[:65536] = b"a" * 65536
libc = ctypes.CDLL(None, use_errno=True)
if libc.swapon(path.encode(), 0):
    sys.exit(f"swapon: {os.strerror(ctypes.get_errno())}")
statuses = []
for offset in (0, 65536):
    pid = os.fork()
    if pid == 0:
        m[offset] = 0x62
        os._exit(0)
    statuses.append(os.waitpid(pid, 0)[1])
libc.swapoff(path.encode())
for what, status in zip(("a written page", "an unfaulted page"), statuses):
    if not os.WIFSIGNALED(status) or os.WTERMSIG(status) != 7:
        sys.exit(f"a store to {what} after swapon: status {status:#x}, not SIGBUS")
PY
grep -q "^$s " /proc/swaps && fail "swapoff: still in /proc/swaps"
xfs_io -c "pwrite -q -S 0x63 64k 4k" $s
[ "$(od -An -tx1 -j 65536 -N 1 $s)" = " 63" ] || fail "not writable after swapoff"
rm $s

h=/mnt/test/swap-holey
xfs_io -f -c "truncate 16m" $h
chmod 600 $h
mkswap $h >/dev/null
expect_fail swapon $h 2>/dev/null
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
echo "bmap-swap: FIBMAP matches FIEMAP and the device, swapon/swapoff, ETXTBSY/EPERM/SIGBUS while active, holes refused"
