# errors= with a corruption found at run time (issue #11): an image whose
# directory "dir" has a damaged entry block (valid checksum, wrong owner)
# mounts; listing "dir" finds the damage (EUCLEAN). errors=remount-ro: from
# then on every change fails with EROFS, file data included (write(2) into
# mapped blocks, as ext4's emergency read-only state); reads still work.
# errors=continue: the error is reported, changes go on. (errors=panic
# would take the test VM down with it.)
. "$FDX/tests/vm/lib.sh"
load_ferrodax
fuzz=$FDX/build/bin/ferrodax-fuzz
m=/mnt/scratch
for mode in remount-ro continue; do
	"$fuzz" set 'dir_block[dir].owner' 0 /dev/pmem1
	mount -t ferrodax -o "dax,errors=$mode" /dev/pmem1 $m
	echo before >$m/pre
	seen=$(dmesg | wc -l)
	expect_fail ls $m/dir
	dmesg | tail -n +"$((seen + 1))" | grep -q 'ferrodax.*corrupt directory block header' ||
		fail "$mode: the corruption was not reported"
	if [ $mode = remount-ro ]; then
		dmesg | tail -n +"$((seen + 1))" | grep -q 'remounting read-only' || fail "no read-only message"
		# dd, not the shell's echo: dash reports every failed write as
		# "I/O error" whatever the errno.
		out=$(echo after | dd of=$m/pre oflag=append conv=notrunc status=none 2>&1) &&
			fail "write(2) after errors=remount-ro succeeded"
		echo "$out" | grep -q 'Read-only file system' || fail "write(2): $out, not EROFS"
		out=$(touch $m/new 2>&1) && fail "create after errors=remount-ro succeeded"
		echo "$out" | grep -q 'Read-only file system' || fail "create: $out, not EROFS"
		expect_fail mkdir $m/newdir
		[ "$(cat $m/pre)" = before ] || fail "data changed or unreadable after remount-ro"
	else
		echo after >>$m/pre
		touch $m/new
		mkdir $m/newdir
		[ "$(cat $m/pre)" = "$(printf 'before\nafter')" ] || fail "errors=continue lost a write"
	fi
	umount $m
done
