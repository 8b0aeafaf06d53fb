#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the ferrodax test VM and run tests (or the demo) inside it.
#
#   qemu/run-vm.sh [--pmem nvdimm|legacy] [--tests a,b,c | --demo | --bench NAME |
#                   --fstests CONF] [--name NAME] [--timeout SECONDS] [--keep-pmem]
#                   [--kernel debug|perf] [--pmem0-size SIZE] [--cmdline "ARGS"]
#
# --cmdline adds kernel parameters (make check boots one run with
# kmemleak=on).
#
# --kernel perf boots the benchmark kernel (make bench); every test runs on
# the debug kernel. --pmem0-size makes the first NVDIMM bigger than 1G.
#
# --fstests runs tests/fstests-harness/guest.sh with the settings in CONF (a file
# inside the repository; scripts/fstests.sh writes it).
#
# Results land in build/vm/NAME/: results.txt (one "PASS: t"/"FAIL: t" line
# per test, written by the guest), one log per test, dmesg.txt and
# console.log. The pmem backing files live there too and survive the VM, so
# a later run with --keep-pmem sees the same media.
#
# Accelerator: FERRODAX_ACCEL=tcg|kvm|auto (default auto: KVM only if a quick
# probe boots under it, else TCG, which always works).
. "$(dirname "$0")/../scripts/lib.sh"

pmem=nvdimm tests="" demo=0 bench="" fstests_conf="" name="" timeout=1500 keep=0 flavour=debug pmem0_size=1G
user_cmdline=""
while [ $# -gt 0 ]; do
	case $1 in
	--pmem) pmem=$2; shift ;;
	--tests) tests=$2; shift ;;
	--demo) demo=1 ;;
	--bench) bench=$2; shift ;;
	--fstests) fstests_conf=$2; shift ;;
	--name) name=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--keep-pmem) keep=1 ;;
	--kernel) flavour=$2; shift ;;
	--pmem0-size) pmem0_size=$2; shift ;;
	--cmdline) user_cmdline=$2; shift ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
case $pmem in nvdimm | legacy) ;; *) die "--pmem must be nvdimm or legacy" ;; esac
name=${name:-$pmem}

kdir=$("$FERRODAX_ROOT/scripts/build-kernel.sh" "$flavour")
guestroot=$("$FERRODAX_ROOT/scripts/setup-guestroot.sh")
out="$FERRODAX_ROOT/build/vm/$name"
mkdir -p "$out/results"
rm -rf "$out"/results/* "$out/console.log"

accel=$("$FERRODAX_ROOT/qemu/probe-kvm.sh" "$kdir")
if [ "$accel" = kvm ]; then
	cpu=(-accel kvm -cpu host)
else
	cpu=(-accel tcg,thread=multi -cpu max)
fi

# Media: two pmem devices (1 GiB NVDIMMs unless --pmem0-size, or 768 MiB memmap= regions), plus a small plain virtio disk
# (no DAX) for the refusal tests. QEMU keeps an NVDIMM's label area at the
# end of its backend; align=16M keeps the next NVDIMM on the 16 MiB boundary
# that fsdax namespaces need.
mkmedia() { [ "$keep" = 1 ] && [ -f "$1" ] || { rm -f "$1"; truncate -s "$2" "$1"; }; }
mkmedia "$out/plain.img" 64M
case $pmem in
nvdimm)
	mkmedia "$out/pmem0.img" "$pmem0_size"
	mkmedia "$out/pmem1.img" 1G
	machine=(-machine pc,nvdimm=on -m 2G,slots=4,maxmem=32G
		-object memory-backend-file,id=nv0,share=on,mem-path="$out/pmem0.img",size=$pmem0_size,align=16M
		-device nvdimm,id=nvdimm0,memdev=nv0,label-size=128K
		-object memory-backend-file,id=nv1,share=on,mem-path="$out/pmem1.img",size=1G,align=16M
		-device nvdimm,id=nvdimm1,memdev=nv1,label-size=128K)
	extra_cmdline=""
	;;
legacy)
	# memmap= pmem must lie in RAM below the PCI hole (RAM there ends just
	# short of 3G) and on 128M memory-section boundaries; RAM is
	# file-backed so the "pmem" survives the VM.
	mkmedia "$out/ram.img" 4G
	machine=(-machine pc,memory-backend=ram -m 4G
		-object memory-backend-file,id=ram,share=on,mem-path="$out/ram.img",size=4G)
	extra_cmdline="memmap=768M!1G memmap=768M!1792M"
	;;
esac

mode=check
[ "$demo" = 1 ] && mode=demo
[ -n "$bench" ] && mode=bench
[ -n "$fstests_conf" ] && mode=fstests
# The guest root is read-only on both sides for the whole run (the host
# only changes it in scripts/setup-guestroot.sh; the module and tools come
# over the repository share), so the guest may cache it: cache=loose keeps
# dentries, attributes and pages instead of a 9p round trip for every
# lookup and every page of every exec. Without it process-heavy tests were
# 3-8x slower under TCG (namespace 75 s -> 11 s, fuzz-kernel 172 s -> 35 s,
# fstests' generic/001 unfinished after 13 min -> 7 min beside it).
# Not in a leak-hunting boot (kmemleak=on): with the cache, kmemleak no
# longer reported the splat self-test's deliberate leak (8 objects found
# referenced; without it, all 8 reported), and a missed leak of ours would
# look the same.
rootcache=,cache=loose
case " $user_cmdline " in *" kmemleak=on "*) rootcache= ;; esac
cmdline="console=ttyS0 root=groot rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=512000$rootcache
 ro init=/sbin/ferrodax-init panic=-1 loglevel=4 $extra_cmdline $user_cmdline fdx_mode=$mode fdx_pmem=$pmem fdx_tests=${tests:-none}
 fdx_bench=${bench:-none} fdx_fstests_conf=${fstests_conf:-none}"

log "booting VM '$name' ($pmem pmem, $accel, timeout ${timeout}s)"
start=$SECONDS
set +e
in_buildroot timeout --signal=KILL "$timeout" qemu-system-x86_64 -nodefaults -no-reboot \
	-display none -serial stdio "${cpu[@]}" -smp 2 "${machine[@]}" \
	-kernel "$kdir/vmlinux" -append "$(echo $cmdline)" \
	-fsdev local,id=groot,path="$guestroot",security_model=none,readonly=on \
	-device virtio-9p-pci,fsdev=groot,mount_tag=groot \
	-fsdev local,id=repo,path="$FERRODAX_ROOT",security_model=none,readonly=on \
	-device virtio-9p-pci,fsdev=repo,mount_tag=ferrodax \
	-fsdev local,id=res,path="$out/results",security_model=none \
	-device virtio-9p-pci,fsdev=res,mount_tag=results \
	-drive file="$out/plain.img",format=raw,if=virtio \
	</dev/null | tee "$out/console.log" | if [ "$demo" = 1 ]; then cat; else cat >/dev/null; fi
rc=${PIPESTATUS[0]}
set -e
log "VM '$name' exited ($rc) after $((SECONDS - start)) s"

# A guest that panicked, hung or was killed wrote no DONE line: that is a
# failed run, with the end of the console log to show why.
# A panic is a failure even after the tests finished (e.g. at power-off),
# unless a test said it would panic (expect_panic in tests/vm/lib.sh).
if grep -q 'Kernel panic' "$out/console.log" &&
	! grep -q '^CRASH: .* (panic expected)$' "$out/results/results.txt" 2>/dev/null; then
	echo "FAIL: vm-$name (kernel panic; see $out/console.log)" >>"$out/results/results.txt"
fi
if grep -q '^CRASH: ' "$out/results/results.txt" 2>/dev/null; then
	log "VM '$name' cut its own power as its test asked"
elif ! grep -qx DONE "$out/results/results.txt" 2>/dev/null; then
	echo "FAIL: vm-$name (no results: guest panic, hang or timeout; see $out/console.log)" >>"$out/results/results.txt"
	tail -40 "$out/console.log" >&2
fi
