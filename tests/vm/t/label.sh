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
# Refused: the error is xfs_io's "label: <strerror>".
refused() {
	local why=$1
	shift
	"$@" 2>&1 | grep -q "label: $why" || fail "not refused ($why): $*"
}
refused "Invalid argument" xfs_io -c "label -s ${longest}x" /mnt/test
refused "Operation not permitted" setpriv --reuid=65534 --regid=65534 --clear-groups \
	xfs_io -c "label -s user" /mnt/test
[ "$(label)" = "label = \"$longest\"" ] || fail "after refusals: $(label)"
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
mount -t ferrodax -o dax,ro /dev/pmem0 /mnt/test
[ "$(label)" = "label = \"$longest\"" ] || fail "after remount: $(label)"
refused "Read-only file system" xfs_io -c "label -s ro" /mnt/test
umount /mnt/test
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
xfs_io -c "label -c" /mnt/test >/dev/null
[ "$(label)" = 'label = ""' ] || fail "clear: $(label)"
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
echo "label: mkfs -L, set, 32 bytes, clear, remount; EINVAL, EPERM, EROFS refusals"
