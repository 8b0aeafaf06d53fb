# Extended attributes through the VFS (Python's os.*xattr, and setfattr and
# getfattr as fstests' _require_attrs uses them): user. on files and
# directories (on a symlink the VFS says EPERM), trusted. for root only
# (hidden from others' listings), security.; XATTR_CREATE, XATTR_REPLACE,
# removal, ENODATA, a too-short buffer ERANGE, a set that does not fit
# ENOSPC, the ctime moving; the block freed with the last attribute and
# with the file (statfs); attributes survive a remount with fsck clean,
# and a read-only mount refuses changes (EROFS).
. "$FDX/tests/vm/lib.sh"
mount_fresh
cd /mnt/test
free0=$(stat -f -c %f .)
touch f
mkdir d
ln -s f l
free1=$(stat -f -c %f .)
python3 - <<'PY'
import ctypes, errno, os, time

def refused(err, fn, *a, **k):
    try:
        fn(*a, **k)
    except OSError as e:
        if e.errno != err:
            raise SystemExit(f"{fn.__name__}{a}: {e}, not {errno.errorcode[err]}")
    else:
        raise SystemExit(f"{fn.__name__}{a} succeeded")

os.setxattr("f", "user.one", b"1")
os.setxattr("f", "user.two", b"")
os.setxattr("d", "user.dir", b"d" * 100)
os.setxattr("f", "trusted.t", b"secret")
os.setxattr("f", "security.s", b"label")
names = sorted(os.listxattr("f"))
if names != ["security.s", "trusted.t", "user.one", "user.two"]:
    raise SystemExit(f"listxattr: {names}")
assert os.getxattr("f", "user.one") == b"1"
assert os.getxattr("f", "user.two") == b""
assert os.getxattr("d", "user.dir") == b"d" * 100
refused(errno.ENODATA, os.getxattr, "f", "user.none")
refused(errno.EEXIST, os.setxattr, "f", "user.one", b"x", os.XATTR_CREATE)
refused(errno.ENODATA, os.setxattr, "f", "user.none", b"x", os.XATTR_REPLACE)
ctime = os.stat("f").st_ctime_ns
time.sleep(0.01)
os.setxattr("f", "user.one", b"replaced", os.XATTR_REPLACE)
assert os.getxattr("f", "user.one") == b"replaced"
assert os.stat("f").st_ctime_ns > ctime, "ctime did not move"
refused(errno.EPERM, os.setxattr, "l", "user.x", b"x", follow_symlinks=False)
os.setxattr("l", "trusted.link", b"on the link", follow_symlinks=False)
assert os.getxattr("l", "trusted.link", follow_symlinks=False) == b"on the link"
assert "trusted.link" not in os.listxattr("f"), "the link's attribute on its target"
refused(errno.ENOSPC, os.setxattr, "f", "user.big", b"x" * 5000)
os.removexattr("f", "user.two")
refused(errno.ENODATA, os.removexattr, "f", "user.two")
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(4)
assert libc.getxattr(b"f", b"user.one", None, 0) == 8, "length query"
for call in (lambda: libc.getxattr(b"f", b"user.one", buf, 4),
             lambda: libc.listxattr(b"f", buf, 4)):
    if call() != -1 or ctypes.get_errno() != errno.ERANGE:
        raise SystemExit("a 4-byte buffer: not ERANGE")
PY
[ "$(getfattr --only-values -n user.one f)" = replaced ] || fail "getfattr"
setfattr -n user.tool -v 0x0102 f
getfattr -e hex -n user.tool f | grep -qx "user.tool=0x0102" || fail "setfattr"
# Not root: trusted. is neither listed nor readable.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody getfattr -d -m - f | grep -q trusted && fail "trusted. listed to a user"
as_nobody getfattr -n trusted.t f 2>/dev/null && fail "trusted. read by a user"
as_nobody getfattr -n user.one f | grep -q replaced || fail "user. hidden from a user"
cd /
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
mount -t ferrodax -o dax,ro /dev/pmem0 /mnt/test
cd /mnt/test
[ "$(getfattr --only-values -n user.one f)" = replaced ] || fail "after a remount"
[ "$(getfattr --only-values -n security.s f)" = label ] || fail "security. after a remount"
setfattr -n user.ro -v 1 f 2>&1 | grep -q "Read-only file system" || fail "ro: not EROFS"
cd /
umount /mnt/test
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
cd /mnt/test
for n in user.one user.tool trusted.t security.s; do setfattr -x $n f; done
getfattr -d -m - f | grep -q . && fail "attributes left: $(getfattr -d -m - f)"
setfattr -x user.dir d
setfattr -h -x trusted.link l
[ "$(stat -f -c %f .)" = "$free1" ] || fail "blocks not freed with the last attributes"
setfattr -n user.again -v 1 f
rm f l
rmdir d
[ "$(stat -f -c %f .)" = "$free0" ] || fail "blocks not freed with the file"
cd /
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
echo "xattr: user/trusted/security, flags, ENODATA/ERANGE/ENOSPC/EPERM/EROFS, ctime, remount, blocks freed"
