# A full device: write(2) gets ENOSPC, a write fault on a hole SIGBUS;
# nothing else is damaged, the data written before is intact, fsck clean.
. "$FDX/tests/vm/lib.sh"
mount_fresh
dd if=/dev/urandom of=/tmp/keep bs=1M count=2 status=none
cp /tmp/keep /mnt/test/keep
python3 - <<'PY'
import errno, mmap, os, signal
holes = os.open("/mnt/test/holes", os.O_RDWR | os.O_CREAT, 0o644)
fd = os.open("/mnt/test/fill", os.O_WRONLY | os.O_CREAT, 0o644)
chunk = b"f" * (1 << 20)
try:
    while True:
        os.write(fd, chunk)
except OSError as e:
    assert e.errno == errno.ENOSPC, e
os.close(fd)
fd = holes
os.ftruncate(fd, 64 << 20)
pid = os.fork()
if pid == 0:
    m = mmap.mmap(fd, 64 << 20)
    for off in range(0, 64 << 20, 4096):
        m[off] = 1
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGBUS, f"status {status:#x}"
os.close(fd)
print("ENOSPC on write, SIGBUS on a write fault")
PY
cmp /tmp/keep /mnt/test/keep
rm /mnt/test/fill
echo after >/mnt/test/after
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
