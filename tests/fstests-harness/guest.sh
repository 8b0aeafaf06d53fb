#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-guest half of `make fstests` (qemu/guest-init.sh, fdx_mode=fstests).
#
# The host (scripts/fstests.sh) packs a built fstests tree into one tar file
# and writes the run's settings to $FDX/$fdx_fstests_conf: FSTYP, TREE (the
# tar file, relative to the repository) and CHECK_ARGS for fstests' ./check
# (a group, a test list, -e ...).
# fstests' results (check.log, result.xml, *.out.bad, *.full, *.dmesg) go to
# the host share; results.txt gets "PASS: fstests-run" when ./check ran to
# its end, then the usual dmesg-clean verdict over the whole run.
set -u
results=$RESULTS/results.txt
: >"$results"
. "$FDX/$fdx_fstests_conf"

give_up() {
	echo "FAIL: fstests-run ($*)" >>"$results"
	echo DONE >>"$results"
	exit 1
}

# fstests writes beside itself (some tests and helpers do): unpack a private
# copy on tmpfs (about 50 MB; one tar file is far quicker over 9p than
# the tree's thousands of small files).
mkdir -p /var/tmp/fstests
tar -C /var/tmp/fstests -xf "$FDX/$TREE" || give_up "unpacking $TREE"

case $FSTYP in
ferrodax)
	insmod /usr/local/lib/ferrodax.ko || give_up insmod
	mkfs_test="mkfs.ferrodax -f -q /dev/pmem0"
	;;
ext4) mkfs_test="mkfs.ext4 -F -q /dev/pmem0" ;;
*) give_up "unknown FSTYP $FSTYP" ;;
esac
# fstests expects a valid filesystem on TEST_DEV and makes SCRATCH_DEV's
# itself.
$mkfs_test || give_up "$mkfs_test"

# The users fstests' tests switch to (made in the guest root without
# homes) get the home directories its README has useradd -m make: su
# warns into a test's output without one (generic/128). The guest root is
# read-only, so they live on a tmpfs.
mount -t tmpfs -o mode=755 tmpfs /home || give_up "tmpfs on /home"
for u in fsgqa fsgqa2 123456-fsgqa; do
	mkdir "/home/$u" && chown "$u:" "/home/$u" || give_up "home of $u"
done

# The locking tests (generic/131 and others) talk to themselves over TCP
# on localhost: bring the loopback interface up (the kernel gives it
# 127.0.0.1 when it comes up; the guest has no ip(8), so python does the
# SIOCGIFFLAGS/SIOCSIFFLAGS ioctls).
python3 - <<'PY' || give_up "loopback up"
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH", b"lo", 0)))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", flags | 1))
PY

mkdir -p "$RESULTS/fstests"
cat >/var/tmp/fstests/local.config <<EOF
export FSTYP=$FSTYP
export TEST_DEV=/dev/pmem0
export TEST_DIR=/mnt/test
export SCRATCH_DEV=/dev/pmem1
export SCRATCH_MNT=/mnt/scratch
export MOUNT_OPTIONS="-o dax"
export TEST_FS_MOUNT_OPTS="-o dax"
export FSCK_OPTIONS="-n"
export RESULT_BASE=$RESULTS/fstests
EOF
cp /var/tmp/fstests/local.config "$RESULTS/fstests/local.config"

cd /var/tmp/fstests || give_up "no fstests tree"
echo "ferrodax-test: start fstests $FSTYP $CHECK_ARGS" >/dev/kmsg
# shellcheck disable=SC2086 # CHECK_ARGS is a word list by design
./check -R xunit $CHECK_ARGS >"$RESULTS/fstests/check.out" 2>&1
rc=$?
# ./check exits non-zero when a test failed: that verdict is the host's,
# against tests/fstests-harness/expected-failures. A run that never reached its
# summary (config error, harness crash) is a failure here.
if grep -q -e '^Passed all' -e '^Failed [0-9]' -e '^Not run:' "$RESULTS/fstests/check.out"; then
	echo "PASS: fstests-run (./check exit $rc)" >>"$results"
else
	echo "FAIL: fstests-run (./check exit $rc without a summary; see fstests/check.out)" >>"$results"
fi
cd /
for m in /mnt/test /mnt/scratch; do
	mountpoint -q "$m" && umount "$m"
done
dmesg >"$RESULTS/dmesg.txt"
. "$FDX/tests/vm/splat.sh"
if splat=$(find_splat "$RESULTS/dmesg.txt"); then
	echo "FAIL: dmesg-clean ($splat)" >>"$results"
else
	echo "PASS: dmesg-clean" >>"$results"
fi
echo DONE >>"$results"
