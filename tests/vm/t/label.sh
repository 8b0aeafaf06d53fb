# FS_IOC_GETFSLABEL / FS_IOC_SETFSLABEL, through xfs_io's label command as
# fstests (generic/492) uses it: mkfs -L sets the label, a new one (32
# bytes at most, the format's limit) survives a remount with fsck clean,
# -c clears it. Longer: EINVAL; not CAP_SYS_ADMIN: EPERM; a read-only
# mount: EROFS; none of them changes the label.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f -L first /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
label() { xfs_io -c label /mnt/test; }
[ "$(label)" = 'label = "first"' ] || fail "mkfs -L: $(label)"
xfs_io -c "label -s second" /mnt/test >/dev/null
[ "$(label)" = 'label = "second"' ] || fail "set: $(label)"
longest=0123456789abcdef0123456789abcdef
xfs_io -c "label -s $longest" /mnt/test >/dev/null
[ "$(label)" = "label = \"$longest\"" ] || fail "32 bytes: $(label)"
python3 - <<'PY'
import errno, fcntl, os
FS_IOC_SETFSLABEL = 0x41009432
d = os.open("/mnt/test", os.O_RDONLY)
try:
    fcntl.ioctl(d, FS_IOC_SETFSLABEL, b"x" * 33 + bytes(256 - 33))
    raise SystemExit("a 33-byte label accepted")
except OSError as e:
    assert e.errno == errno.EINVAL, e
pid = os.fork()
if pid == 0:
    os.setuid(65534)
    try:
        fcntl.ioctl(d, FS_IOC_SETFSLABEL, b"user" + bytes(252))
        os._exit(1)
    except OSError as e:
        os._exit(0 if e.errno == errno.EPERM else 2)
assert os.waitpid(pid, 0)[1] == 0, "unprivileged label change not refused with EPERM"
PY
[ "$(label)" = "label = \"$longest\"" ] || fail "after refusals: $(label)"
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
mount -t ferrodax -o dax,ro /dev/pmem0 /mnt/test
[ "$(label)" = "label = \"$longest\"" ] || fail "after remount: $(label)"
expect_fail xfs_io -c "label -s ro" /mnt/test
umount /mnt/test
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
xfs_io -c "label -c" /mnt/test >/dev/null
[ "$(label)" = 'label = ""' ] || fail "clear: $(label)"
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
echo "label: mkfs -L, set, 32 bytes, clear, remount; EINVAL, EPERM, EROFS refusals"
