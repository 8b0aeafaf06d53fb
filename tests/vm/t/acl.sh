# POSIX ACLs (setfacl/getfacl, as fstests' _require_acls uses them): the
# umask applied without a default ACL and not with one; an access ACL that
# grants a user what the mode does not, and its mask in the group bits; a
# chmod that masks the ACL (the user loses access); a default ACL inherited
# by files and subdirectories; an ACL the mode says whole is not stored;
# setfacl -b; system.posix_acl_* listed; ACLs survive a remount with fsck
# clean, and a read-only mount refuses a change (EROFS).
. "$FDX/tests/vm/lib.sh"
mount_fresh
cd /mnt/test
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mode() { stat -c %a "$1"; }

umask 022
echo secret >f
mkdir d
[ "$(mode f)$(mode d)" = 644755 ] || fail "umask without a default ACL: $(mode f) $(mode d)"
chmod 600 f
as_nobody cat f 2>/dev/null && fail "nobody reads a 600 file"

# An access ACL: nobody may read; the mask shows as the group bits.
setfacl -m u:nobody:r f
getfacl -cp f | grep -qx "user:nobody:r--" || fail "ACL entry: $(getfacl -cp f)"
[ "$(mode f)" = 640 ] || fail "mask not in the group bits: $(mode f)"
[ "$(as_nobody cat f)" = secret ] || fail "the ACL does not grant nobody read"
getfattr -m - -d f | grep -q "^system.posix_acl_access" || fail "system.posix_acl_access not listed"
# chmod masks it: nobody loses read, and the ACL says so.
chmod 600 f
getfacl -cp f | grep -qx "mask::---" || fail "chmod left the mask: $(getfacl -cp f)"
as_nobody cat f 2>/dev/null && fail "nobody reads after chmod 600"
chmod 640 f
[ "$(as_nobody cat f)" = secret ] || fail "chmod 640 did not give the mask back"

# An ACL the mode says whole is not stored.
touch plain
setfacl -m u::rw,g::r,o::r plain
getfattr -n system.posix_acl_access plain 2>/dev/null && fail "a minimal ACL was stored"

# A default ACL: children inherit it, and the umask does not apply.
setfacl -d -m u:nobody:rwx d
umask 077
touch d/child
mkdir d/sub
umask 022
getfacl -cp d/child | grep -q "^user:nobody:rwx" || fail "file did not inherit: $(getfacl -cp d/child)"
getfacl -cpd d/sub | grep -qx "user:nobody:rwx" || fail "subdirectory has no default ACL"
[ "$(mode d/child)" = 664 ] || fail "inherited mode $(mode d/child): the umask applied"
as_nobody sh -c 'echo by-nobody >d/child' || fail "the inherited ACL does not grant write"

cd /
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
mount -t ferrodax -o dax,ro /dev/pmem0 /mnt/test
cd /mnt/test
getfacl -cp f | grep -qx "user:nobody:r--" || fail "ACL lost in a remount"
[ "$(cat d/child)" = by-nobody ] || fail "d/child after a remount"
getfacl -cpd d | grep -qx "user:nobody:rwx" || fail "default ACL lost in a remount"
setfacl -m u:nobody:rw f 2>&1 | grep -q "Read-only file system" || fail "ro: not EROFS"
cd /
umount /mnt/test
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
cd /mnt/test
setfacl -b f
getfacl -cp f | grep -q "^user:nobody" && fail "setfacl -b left the entry"
getfattr -m - -d f | grep -q posix_acl && fail "setfacl -b left the attribute"
cd /
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
echo "acl: umask, access ACL and mask, chmod masking, inheritance, minimal ACL not stored, setfacl -b, remount, EROFS"
