# Scripted namespace workout: everything the VFS layer offers, then umount,
# fsck clean, remount and an identical tree.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
cd /mnt/test
mkdir -p a/b/c d
touch a/f1 a/b/f2 d/f3
mknod d/chr c 1 3
mknod d/blk b 7 0
mkfifo d/fifo
python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.bind("d/sock")'
ln a/f1 d/hard
ln -s ../a/b/f2 d/sym
[ "$(readlink d/sym)" = ../a/b/f2 ] || fail readlink
[ "$(stat -c %h a/f1)" = 2 ] || fail "link count"
[ "$(stat -c %h a)" = 3 ] || fail "dir link count"
mv a/f1 a/renamed
mv d/f3 a/b/c/moved
mv a/b d/b-moved
[ "$(stat -c %h a)" = 2 ] || fail "dir link count after moving a subdir out"
# Into its own subtree: EINVAL from the VFS (ferrodax's core trusts it).
python3 -c '
import errno, os
try:
    os.rename("d", "d/b-moved/c/x")
except OSError as e:
    assert e.errno == errno.EINVAL, e
else:
    raise SystemExit("a directory moved into its own subtree")'
chmod 640 a/renamed
chown 12:34 a/renamed
touch -d '2001-02-03 04:05:06.123456789' a/renamed
[ "$(stat -c %y a/renamed)" = "2001-02-03 04:05:06.123456789 +0000" ] || fail "nanosecond mtime"
# long names and errors
long=$(printf 'n%.0s' $(seq 255))
touch "$long"
expect_fail touch "${long}x" 2>/dev/null
expect_fail mkdir a
expect_fail rmdir d
rm "$long"
for i in $(seq 1 300); do : >"many-$i"; done
[ "$(ls | grep -c '^many-')" = 300 ] || fail "readdir count"
rm many-*
# RENAME_NOREPLACE / EXCHANGE via python's renameat2 wrapper-less syscall
python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
AT = -100
def renameat2(a, b, flags):
    r = libc.renameat2(AT, a.encode(), AT, b.encode(), flags)
    return 0 if r == 0 else ctypes.get_errno()
open("x1", "w").close(); open("x2", "w").close()
assert renameat2("x1", "x2", 1) == 17, "NOREPLACE"          # EEXIST
i1, i2 = os.stat("x1").st_ino, os.stat("x2").st_ino
assert renameat2("x1", "x2", 2) == 0, "EXCHANGE"
assert os.stat("x1").st_ino == i2 and os.stat("x2").st_ino == i1
assert renameat2("x1", "x3", 4) == 0, "WHITEOUT"
st = os.lstat("x1")
assert (st.st_mode & 0o170000) == 0o020000 and st.st_rdev == 0, "whiteout is a 0:0 char device"
PY
rm -f x1 x2 x3
# O_TMPFILE: nameless until linked
python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400
fd = os.open(".", os.O_TMPFILE | os.O_RDWR, 0o600)
assert os.fstat(fd).st_nlink == 0
src = f"/proc/self/fd/{fd}".encode()
assert libc.linkat(AT_FDCWD, src, AT_FDCWD, b"from-tmpfile", AT_SYMLINK_FOLLOW) == 0, ctypes.get_errno()
assert os.stat("from-tmpfile").st_nlink == 1
os.close(fd)
fd = os.open(".", os.O_TMPFILE | os.O_RDWR, 0o600)
os.close(fd)  # never linked: released at close
PY
[ -f from-tmpfile ] || fail "O_TMPFILE link"
# unlinked-but-open file survives until last close
exec 3>a/open-file
rm a/open-file
echo still-here >&3 2>/dev/null || true
exec 3>&-
cd /
snapshot() { (cd /mnt/test && find . -printf '%p %y %m %n %U:%G %s %l %TY%Tm%Td%TT\n' | sort); }
snapshot >/tmp/before
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
snapshot >/tmp/after
diff /tmp/before /tmp/after || fail "tree changed across remount"
umount /mnt/test
fsck.ferrodax -n /dev/pmem0
unload_ferrodax
