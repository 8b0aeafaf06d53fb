# Times that writes, write faults and reads set live in the VFS inode
# until write_inode stores them (crash-consistency.rst, "File data and
# sizes"): umount stores them, fsync and sync make them durable (an
# FS_IOC_SHUTDOWN without log flush right after loses nothing), fdatasync
# does not have to, and a change that commits meanwhile (link, rename,
# fallocate) never takes a newer time of the VFS inode back.
. "$FDX/tests/vm/lib.sh"
mount_fresh
python3 - <<'PY'
import ctypes, fcntl, mmap, os, struct, subprocess, time

FS_IOC_SHUTDOWN = 0x8004587D
NOLOGFLUSH = 2
M = "/mnt/test"


def times(path):
    st = os.stat(path)
    return (st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)


def later():
    # The VFS stamps with the coarse clock: step past its tick.
    time.sleep(0.05)


def remount(shutdown=False):
    if shutdown:
        d = os.open(M, os.O_RDONLY)
        fcntl.ioctl(d, FS_IOC_SHUTDOWN, struct.pack("I", NOLOGFLUSH))
        os.close(d)
    subprocess.run(["umount", M], check=True)
    subprocess.run(["fsck.ferrodax", "-n", "/dev/pmem0"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["mount", "-t", "ferrodax", "-o", "dax", "/dev/pmem0", M], check=True)


def same(path, want, what):
    got = times(path)
    assert got == want, f"{what}: times {got}, wanted {want}"


f, g = f"{M}/f", f"{M}/g"
fd = os.open(f, os.O_RDWR | os.O_CREAT, 0o644)
created = times(f)
later()
os.pwrite(fd, b"a" * 5000, 0)
written = times(f)
assert written[1] > created[1] and written[2] > created[2], "write did not stamp mtime/ctime"
os.close(fd)
remount()
same(f, written, "write, then umount")

# fsync stores the times of a write, so a shutdown that flushes nothing
# keeps them.
later()
fd = os.open(f, os.O_RDWR)
os.pwrite(fd, b"b", 10)
os.fsync(fd)
synced = times(f)
os.close(fd)
remount(shutdown=True)
same(f, synced, "write, fsync, shutdown")

# A write fault stamps the times too; sync(2) stores them.
later()
fd = os.open(f, os.O_RDWR)
m = mmap.mmap(fd, 4096)
m[0:1] = b"c"
m.close()
os.close(fd)
faulted = times(f)
assert faulted[1] > synced[1], "write fault did not stamp mtime"
os.sync()
remount(shutdown=True)
same(f, faulted, "write fault, sync, shutdown")

# Reading after the file changed stamps atime (relatime); syncfs stores it.
os.utime(f, ns=(1_000_000_000, faulted[1]))
later()
with open(f, "rb") as r:
    r.read(1)
    read_at = times(f)
    assert read_at[0] > faulted[1], "read did not stamp atime"
    assert ctypes.CDLL(None, use_errno=True).syncfs(r.fileno()) == 0, "syncfs failed"
remount(shutdown=True)
same(f, read_at, "read, syncfs, shutdown")

# A link commits the inode (ctime) while a write's mtime is still only
# in the VFS inode: the link keeps that mtime, and umount stores it.
later()
fd = os.open(f, os.O_RDWR)
os.pwrite(fd, b"d", 20)
pending = times(f)
later()
os.link(f, g)
linked = times(f)
assert linked[1] == pending[1], f"link took mtime back: {pending[1]} -> {linked[1]}"
assert linked[2] > pending[2], "link did not stamp ctime"
# So does fallocate, which changes the block map under the MMAPLOCK.
later()
os.pwrite(fd, b"e", 30)
pending = times(f)
os.posix_fallocate(fd, 1 << 20, 4096)
assert times(f)[1] >= pending[1], "fallocate took mtime back"
allocated = times(f)
os.close(fd)
remount()
same(f, allocated, "write, fallocate, umount")
same(g, allocated, "the second name")
print("times: stored by umount, fsync, sync and syncfs; never taken back")
PY
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
if dmesg | grep -q 'cannot store the times'; then
	fail "a write-back of times failed"
fi
echo "times written back"
