# Inode flags (chattr, FS_IOC_GETFLAGS/SETFLAGS and FS_IOC_FSGETXATTR,
# statx attributes):
# immutable and append-only files and directories refuse what the VFS
# refuses for them (ext4's behaviour), a write through a file opened before
# chattr +i fails too, noatime keeps the access time, flags the format does
# not define are refused, and the flags survive a remount with fsck clean.
# statx reports the birth time, the same after a remount.
. "$FDX/tests/vm/lib.sh"
mount_fresh
python3 - <<'PY'
import ctypes, errno, fcntl, os, struct, subprocess, time

M = "/mnt/test"
FS_IOC_GETFLAGS, FS_IOC_SETFLAGS = 0x80086601, 0x40086602
FS_IOC_FSGETXATTR = 0x801C581F
SYNC, IMMUTABLE, APPEND, NODUMP, NOATIME, COMPR = 0x8, 0x10, 0x20, 0x40, 0x80, 0x4
XFLAG_IMMUTABLE, XFLAG_APPEND = 0x8, 0x10


def ioctl(path, request, arg):
    fd = os.open(path, os.O_RDONLY)
    try:
        return fcntl.ioctl(fd, request, arg)
    finally:
        os.close(fd)


def getflags(path):
    return struct.unpack("l", ioctl(path, FS_IOC_GETFLAGS, b"\0" * 8))[0]


def setflags(path, flags):
    ioctl(path, FS_IOC_SETFLAGS, struct.pack("l", flags))


def xflags(path):
    return struct.unpack("IIIII8x", ioctl(path, FS_IOC_FSGETXATTR, b"\0" * 28))[0]


libc = ctypes.CDLL(None, use_errno=True)
STATX_BTIME = 0x800


def statx(path):
    """(mask, attributes, attributes_mask, btime in ns) of statx(2)."""
    buf = ctypes.create_string_buffer(256)
    if libc.syscall(332, -100, path.encode(), 0, 0xFFF, buf) != 0:
        raise OSError(ctypes.get_errno(), "statx")
    mask, _, attrs = struct.unpack_from("IIQ", buf, 0)
    attrs_mask = struct.unpack_from("Q", buf, 56)[0]
    sec, nsec = struct.unpack_from("qI", buf, 80)
    return mask, attrs, attrs_mask, sec * 10**9 + nsec


def refused(what, fn, err=errno.EPERM):
    try:
        fn()
    except OSError as e:
        assert e.errno == err, f"{what}: {e}, wanted errno {err}"
        return
    raise AssertionError(f"{what} succeeded")


def remount():
    subprocess.run(["umount", M], check=True)
    subprocess.run(["fsck.ferrodax", "-n", "/dev/pmem0"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["mount", "-t", "ferrodax", "-o", "dax", "/dev/pmem0", M], check=True)


f, d = f"{M}/f", f"{M}/d"
with open(f, "wb") as w:
    w.write(b"x" * 5000)
os.mkdir(d)
assert getflags(f) == 0 and getflags(d) == 0
mask, attrs, _, born = statx(f)
assert mask & STATX_BTIME and 0 < born <= os.stat(f).st_ctime_ns, (mask, born)

# chattr +i: stamps ctime, shows in lsattr and as an xflag.
before = os.stat(f).st_ctime_ns
time.sleep(0.05)
held = os.open(f, os.O_RDWR)  # opened before chattr +i
setflags(f, IMMUTABLE | NODUMP)
assert getflags(f) == IMMUTABLE | NODUMP
assert os.stat(f).st_ctime_ns > before, "chattr did not stamp ctime"
assert xflags(f) & XFLAG_IMMUTABLE
_, attrs, attrs_mask, _ = statx(f)
assert attrs & 0x70 == IMMUTABLE | NODUMP and attrs_mask & 0x70 == 0x70, (attrs, attrs_mask)
attrs = subprocess.run(["lsattr", f], check=True, capture_output=True, text=True).stdout
assert attrs.split()[0].count("i") == 1 and "d" in attrs.split()[0], attrs
refused("open for writing", lambda: os.open(f, os.O_WRONLY))
refused("write through an fd opened before", lambda: os.pwrite(held, b"y", 0))
refused("truncate", lambda: os.truncate(f, 0))
refused("ftruncate", lambda: os.ftruncate(held, 0))
refused("fallocate", lambda: os.posix_fallocate(held, 0, 8192))
refused("chmod", lambda: os.chmod(f, 0o600))
refused("unlink", lambda: os.unlink(f))
refused("rename", lambda: os.rename(f, f"{M}/g"))
refused("link", lambda: os.link(f, f"{M}/g"))
os.close(held)
assert open(f, "rb").read() == b"x" * 5000

# Append-only: only O_APPEND writes; no truncate, no removal.
setflags(f, APPEND)
refused("open for writing without O_APPEND", lambda: os.open(f, os.O_WRONLY))
fd = os.open(f, os.O_WRONLY | os.O_APPEND)
os.write(fd, b"z")
refused("ftruncate", lambda: os.ftruncate(fd, 0))
os.close(fd)
refused("unlink", lambda: os.unlink(f))
assert open(f, "rb").read() == b"x" * 5000 + b"z"

# An immutable directory takes no new names and loses none.
with open(f"{d}/in", "wb"):
    pass
setflags(d, IMMUTABLE)
refused("create in it", lambda: open(f"{d}/new", "wb"))
refused("unlink in it", lambda: os.unlink(f"{d}/in"))
refused("mkdir in it", lambda: os.mkdir(f"{d}/sub"))
setflags(d, 0)
os.unlink(f"{d}/in")

# noatime: a read after chattr (which stamps ctime past atime, so relatime
# would update atime) leaves atime alone.
setflags(f, NOATIME | SYNC)
atime = os.stat(f).st_atime_ns
open(f, "rb").read()
assert os.stat(f).st_atime_ns == atime, "read with noatime changed atime"

# Flags the format does not define are refused, changing nothing.
refused("chattr +c", lambda: setflags(f, NOATIME | SYNC | COMPR), errno.EOPNOTSUPP)
assert getflags(f) == NOATIME | SYNC

remount()
assert getflags(f) == NOATIME | SYNC and getflags(d) == 0
assert statx(f)[3] == born, "birth time changed across a remount"
setflags(f, IMMUTABLE)
remount()
assert getflags(f) == IMMUTABLE
refused("open for writing after remount", lambda: os.open(f, os.O_WRONLY))
setflags(f, 0)
os.unlink(f)
os.rmdir(d)
print("inode flags: stored, enforced, kept across remounts")
PY
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
