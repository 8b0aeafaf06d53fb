#!/usr/bin/env python3
"""Lookups without the core lock, racing transactions (issue #10).

A writer process changes the filesystem as fast as it can: it appends to
a file (each append a transaction that grows its extent tree), changes
that file's mode, and creates, renames and removes names in its own
directory. A reader process, on the other CPU, meanwhile asks for
everything the kernel now answers without the core lock: stat of the
changing file (a consistent mode and size, never an error), its data by
read(2) and by page faults on mapped blocks (madvise(MADV_DONTNEED) drops
the mappings so that every pass faults again), readdir and readlink of a
directory nobody changes, stat of names that stay in the changing
directory, and lookups of names that never exist. A torn read that the
in-place seqcount failed to discard shows up as EIO or EUCLEAN from a
checksum, a wrong answer, or a "corrupt" line in dmesg.

usage: lookup_race.py TOP SECONDS
"""
import mmap
import os
import sys
import time

top, seconds = sys.argv[1], float(sys.argv[2])
PATTERN = bytes(range(256)) * 256  # 64 KiB
MODES = (0o644, 0o600)
STEP = 4096


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    os._exit(1)


quiet = f"{top}/quiet"
busy = f"{top}/busy"
os.makedirs(quiet)
os.makedirs(busy)
names = {f"q{i:03}" for i in range(300)}
for n in names:
    with open(f"{quiet}/{n}", "wb") as f:
        f.write(n.encode())
os.symlink("q007", f"{quiet}/link")
names.add("link")
stable = [f"{busy}/stay{i}" for i in range(20)]
for s in stable:
    open(s, "wb").close()
grows = f"{busy}/grows"
with open(grows, "wb") as f:
    f.write(PATTERN)

stop = time.monotonic() + seconds
child = os.fork()
if child == 0:
    # The reader.
    fd = os.open(grows, os.O_RDONLY)
    m = mmap.mmap(fd, len(PATTERN), prot=mmap.PROT_READ)
    passes, last_size, probe = 0, 0, 0
    while time.monotonic() < stop:
        st = os.stat(grows)
        if st.st_mode & 0o7777 not in MODES:
            fail(f"stat saw mode {oct(st.st_mode)}")
        if st.st_size < last_size or st.st_size % STEP:
            fail(f"stat saw size {st.st_size} after {last_size}")
        last_size = st.st_size
        if os.pread(fd, len(PATTERN), 0) != PATTERN:
            fail("read(2) of written data returned other bytes")
        m.madvise(mmap.MADV_DONTNEED)
        if m[:] != PATTERN:
            fail("a fault on written data mapped other bytes")
        listed = set(os.listdir(quiet))
        if listed != names:
            fail(f"readdir of an unchanged directory: {sorted(listed ^ names)[:5]}")
        if os.readlink(f"{quiet}/link") != "q007":
            fail("readlink")
        for s in stable:
            os.stat(s)
        for _ in range(20):
            probe += 1
            try:
                os.stat(f"{busy}/never-{probe}")
                fail(f"found never-{probe}")
            except FileNotFoundError:
                pass
        passes += 1
    print(f"reader: {passes} passes, file grew to {last_size} bytes", flush=True)
    os._exit(0 if passes > 0 else 1)

# The writer.
ops = 0
with open(grows, "ab") as f:
    while time.monotonic() < stop:
        f.write(b"w" * STEP)
        f.flush()
        os.chmod(grows, MODES[ops % 2])
        tmp = f"{busy}/t{ops % 50}"
        with open(tmp, "wb") as t:
            t.write(b"x")
        os.rename(tmp, f"{busy}/r{ops % 50}")
        if ops % 3 == 0:
            os.unlink(f"{busy}/r{ops % 50}")
        ops += 1
_, status = os.waitpid(child, 0)
print(f"writer: {ops} rounds (append, chmod, create, rename, unlink)")
if status != 0:
    sys.exit("FAIL: the reader failed")
