# insmod/rmmod of ferrodax.ko is clean and registers the filesystem type.
. "$FDX/tests/vm/lib.sh"
insmod "$KO"
grep -qw ferrodax /proc/filesystems || fail "ferrodax not in /proc/filesystems"
modinfo "$KO" | grep -q 'alias: *fs-ferrodax' || fail "no fs-ferrodax alias"
rmmod ferrodax
expect_fail grep -qw ferrodax /proc/filesystems
# and again, to catch leaks or stale registrations
insmod "$KO"
rmmod ferrodax
echo "insmod/rmmod clean"
