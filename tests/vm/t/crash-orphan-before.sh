# First boot of the crash test: leave an unlinked-but-open file with data
# blocks and a half-done rename storm, then cut the power. The second boot
# (crash-orphan-after) checks what mount recovers.
. "$FDX/tests/vm/lib.sh"
load_ferrodax
mkfs.ferrodax -q -f /dev/pmem0
mount -t ferrodax -o dax /dev/pmem0 /mnt/test
mkdir /mnt/test/keep
touch /mnt/test/keep/a /mnt/test/keep/b
truncate -s 1M /mnt/test/open-unlinked
exec 3</mnt/test/open-unlinked
rm /mnt/test/open-unlinked
[ "$(stat -L -c %h /proc/self/fd/3)" = 0 ] || fail "unlinked file still has links"
stat -f -c '%f' /mnt/test >"$RESULTS/free-before-cut"
( i=0; while :; do mv /mnt/test/keep/a /mnt/test/keep/c; mv /mnt/test/keep/c /mnt/test/keep/a; done ) &
sleep 2
power_cut
