# FS_IOC_SHUTDOWN (xfs_io -x -c shutdown, as fstests' godown uses it), in
# each mode on one filesystem: afterwards every operation (create, write,
# read, fsync, mkdir, unlink, truncate, mmap) fails with EIO, umount works,
# fsck is clean and the remounted filesystem holds everything that
# committed before. Not CAP_SYS_ADMIN: EPERM; an unknown mode: EINVAL.
. "$FDX/tests/vm/lib.sh"
mount_fresh
umount /mnt/test
head -c 1M /dev/urandom >/tmp/data
for mode in default logflush nologflush; do
	mount -t ferrodax -o dax /dev/pmem0 /mnt/test
	rm -rf /mnt/test/*
	cp /tmp/data /mnt/test/data
	mkdir /mnt/test/dir
	echo kept >/mnt/test/dir/file
	python3 - "$mode" <<'PY'
import errno, fcntl, mmap, os, struct, sys
FS_IOC_SHUTDOWN = 0x8004587D
mode = {"default": 0, "logflush": 1, "nologflush": 2}[sys.argv[1]]
d = os.open("/mnt/test", os.O_RDONLY)
# An unknown mode and an unprivileged caller are refused, nothing happens.
try:
    fcntl.ioctl(d, FS_IOC_SHUTDOWN, struct.pack("I", 3))
    raise SystemExit("mode 3 accepted")
except OSError as e:
    assert e.errno == errno.EINVAL, e
pid = os.fork()
if pid == 0:
    os.setuid(65534)
    try:
        fcntl.ioctl(d, FS_IOC_SHUTDOWN, struct.pack("I", mode))
        os._exit(1)
    except OSError as e:
        os._exit(0 if e.errno == errno.EPERM else 2)
assert os.waitpid(pid, 0)[1] == 0, "unprivileged shutdown not refused with EPERM"
# A shared mapping written before the shutdown.
fd = os.open("/mnt/test/mapped", os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 8192)
m = mmap.mmap(fd, 8192)
m[:5] = b"hello"
fcntl.ioctl(d, FS_IOC_SHUTDOWN, struct.pack("I", mode))
for what, op in [
    ("create", lambda: os.open("/mnt/test/new", os.O_CREAT | os.O_WRONLY, 0o644)),
    ("write", lambda: os.pwrite(fd, b"x", 0)),
    ("read", lambda: os.pread(fd, 1, 0)),
    ("fsync", lambda: os.fsync(fd)),
    ("mkdir", lambda: os.mkdir("/mnt/test/newdir")),
    ("unlink", lambda: os.unlink("/mnt/test/dir/file")),
    ("truncate", lambda: os.ftruncate(fd, 0)),
    ("mmap", lambda: mmap.mmap(fd, 4096)),
]:
    try:
        op()
        raise SystemExit(f"{what} after shutdown succeeded")
    except OSError as e:
        assert e.errno == errno.EIO, f"{what}: {e}"
# A second shutdown is harmless.
fcntl.ioctl(d, FS_IOC_SHUTDOWN, struct.pack("I", mode))
print(sys.argv[1], "shutdown: EIO everywhere, EPERM/EINVAL refusals")
PY
	dmesg | grep -q 'shut down by FS_IOC_SHUTDOWN' || fail "no shutdown line in dmesg"
	umount /mnt/test
	fsck.ferrodax -n /dev/pmem0
	mount -t ferrodax -o dax /dev/pmem0 /mnt/test
	cmp /tmp/data /mnt/test/data
	[ "$(cat /mnt/test/dir/file)" = kept ] || fail "dir/file lost"
	[ "$(stat -c %s /mnt/test/mapped)" = 8192 ] || fail "mapped file size lost"
	echo after >/mnt/test/after
	umount /mnt/test
done
fsck.ferrodax -n /dev/pmem0
echo "shutdown in all three modes"
