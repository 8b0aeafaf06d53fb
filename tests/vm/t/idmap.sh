# Idmapped mounts (FS_ALLOW_IDMAP): the same owner and ACL operations
# through an idmapped bind mount of ferrodax and of tmpfs (which the VFS's
# own idmapping code serves) must give the same owners, modes and ACLs,
# seen through the idmapped mount and on the filesystem itself: files and
# directories created by a mapped user, chown, chmod, setfacl with a
# named user, a setgid directory's inheritance, and a refused create by
# a caller the idmap does not map (EOVERFLOW).
. "$FDX/tests/vm/lib.sh"
mount_fresh
mkdir -p /tmp/idmap-tmpfs /mnt/idm
mount -t tmpfs -o mode=755 none /tmp/idmap-tmpfs
as() {
	id=$1
	shift
	setpriv --reuid="$id" --regid="$id" --clear-groups "$@"
}

# Through the mount, on-disk ids 0..999 are 10000..10999.
walk() {
	base=$1
	mount --bind -o "X-mount.idmap=u:0:10000:1000 g:0:10000:1000" "$base" /mnt/idm ||
		fail "idmapped bind mount of $base"
	cd /mnt/idm
	chmod 777 .
	as 10000 mkdir d
	as 10000 touch d/f
	as 10000 chown 10001:10002 d/f 2>&1 || true
	chown 10003:10004 d/f
	as 10003 chmod 640 d/f
	as 10003 setfacl -m u:10005:r d/f
	as 10000 mkdir -m 2777 d/sgid
	chgrp 10006 d/sgid
	chmod 2777 d/sgid
	as 10000 touch d/sgid/child
	as 65534 touch nobody 2>&1 | grep -q "Value too large" || echo "unmapped create not EOVERFLOW"
	echo "-- through the mount"
	stat -c '%n %u %g %a' d d/f d/sgid d/sgid/child
	getfacl -cn d/f
	cd /
	umount /mnt/idm
	echo "-- on the filesystem"
	cd "$base"
	stat -c '%n %u %g %a' d d/f d/sgid d/sgid/child
	getfacl -cn d/f
	cd /
}
got=$(walk /mnt/test) || fail "ferrodax walk"
want=$(walk /tmp/idmap-tmpfs) || fail "tmpfs walk"
echo "$want" >/tmp/idmap-want
echo "$got" >/tmp/idmap-got
diff -u /tmp/idmap-want /tmp/idmap-got || fail "ferrodax (+) and tmpfs (-) differ"
echo "$got" | grep -qx "d/f 3 4 640" || fail "on-disk owner of d/f: $got"
echo "$got" | grep -qx "user:5:r--" || fail "the ACL's named user on disk: $got"
echo "$got" | grep -qx "d/sgid/child 0 6 644" || fail "setgid inheritance on disk: $got"
echo "$got"
umount /tmp/idmap-tmpfs
umount /mnt/test
fsck.ferrodax -n /dev/pmem0 >/dev/null
echo "idmap: owners, modes, ACLs and setgid through an idmapped mount match tmpfs's"
