# File leases (F_SETLEASE, what NFS delegations and Samba oplocks use):
# a read lease on a file opened read-only, a write lease
# on a file opened read-write, F_GETLEASE reporting them, and a write
# lease broken by another process's open (SIGIO to the holder, who gives
# the lease up; the open then completes).
. "$FDX/tests/vm/lib.sh"
mount_fresh
cd /mnt/test
echo data >f
echo 2 >/proc/sys/fs/lease-break-time
python3 - <<'PY'
import fcntl, os, signal, subprocess
rd = os.open("f", os.O_RDONLY)
fcntl.fcntl(rd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
assert fcntl.fcntl(rd, fcntl.F_GETLEASE) == fcntl.F_RDLCK, "read lease"
fcntl.fcntl(rd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
os.close(rd)
fd = os.open("f", os.O_RDWR)
broken = []
def give_up(sig, frame):
    broken.append(sig)
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
signal.signal(signal.SIGIO, give_up)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
assert fcntl.fcntl(fd, fcntl.F_GETLEASE) == fcntl.F_WRLCK, "write lease"
out = subprocess.run(["cat", "f"], capture_output=True, timeout=30).stdout
assert out == b"data\n", out
assert broken == [signal.SIGIO], f"lease not broken: {broken}"
assert fcntl.fcntl(fd, fcntl.F_GETLEASE) == fcntl.F_UNLCK
PY
cd /
umount /mnt/test
echo "lease: a read lease, a write lease broken by an open"
