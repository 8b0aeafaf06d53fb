# SPDX-License-Identifier: GPL-2.0
"""Seed 003, hazard 2: mmap readers and writers run while another process
truncates, punches, zero-ranges, collapses and inserts ranges in a loop (argv = FILE SECONDS).
Writers store 0x5A; the changer only ever leaves zeroes; so every byte a
reader sees is 0 or 0x5A. The first half of the file is never cut off, so a
fault there must never get SIGBUS."""
import mmap
import os
import random
import signal
import sys
import time
import traceback

from falloc import COLLAPSE_RANGE, INSERT_RANGE, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE, fallocate

path, seconds = sys.argv[1], float(sys.argv[2])
# 8 MiB: room for the changer to fragment the file into hundreds of
# extents (the extent tree grows and shrinks under the faults) and for
# 2 MiB-aligned runs, so writers take PMD faults too.
SIZE = 8 << 20
HALF = SIZE // 2
STEP = 64 << 10
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, SIZE)
deadline = time.monotonic() + seconds


def mapper(write, seed):
    rng = random.Random(seed)
    m = mmap.mmap(fd, HALF)
    n = 0
    while time.monotonic() < deadline:
        off = rng.randrange(0, HALF - 4096)
        if write:
            m[off : off + 64] = b"\x5a" * 64
        else:
            bad = set(m[off : off + 4096]) - {0, 0x5A}
            assert not bad, f"junk {sorted(bad)} at {off:#x}"
        n += 1
    m.close()
    os._exit(0)


def changer(seed):
    rng = random.Random(seed)
    n = 0
    while time.monotonic() < deadline:
        off = rng.randrange(0, SIZE - 4 * STEP) & ~4095
        ln = rng.randrange(1, 4 * STEP)
        op = n % 6
        # collapse and insert move the blocks of the second half only
        half_off = HALF + (rng.randrange(0, HALF - 2 * STEP) & ~4095)
        if op == 4:
            fallocate(fd, COLLAPSE_RANGE, half_off, STEP)
            os.ftruncate(fd, SIZE)
        elif op == 5:
            fallocate(fd, INSERT_RANGE, half_off, STEP)
            os.ftruncate(fd, SIZE)
        elif op == 0:
            fallocate(fd, PUNCH_HOLE | KEEP_SIZE, off, ln)
        elif op == 1:
            fallocate(fd, ZERO_RANGE | KEEP_SIZE, off, ln)
        elif op == 2:
            os.ftruncate(fd, HALF + rng.randrange(0, HALF))
            os.ftruncate(fd, SIZE)
        else:
            os.posix_fallocate(fd, off, ln)
        n += 1
    print(f"changer: {n} extent changes")
    os._exit(0)


pids = []
for i, role in enumerate(["w", "w", "r", "r", "c"]):
    pid = os.fork()
    if pid == 0:
        try:
            changer(i) if role == "c" else mapper(role == "w", i)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
    pids.append(pid)
failures = []
for pid in pids:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        failures.append(f"a worker died of signal {signal.Signals(os.WTERMSIG(status)).name}")
    elif os.WEXITSTATUS(status) != 0:
        failures.append(f"a worker failed ({status:#x})")
assert not failures, failures
bad = set(os.pread(fd, SIZE, 0)) - {0, 0x5A}
assert not bad, f"junk {sorted(bad)} in the file"
os.close(fd)
print("faults vs extent changes: no junk, no SIGBUS inside EOF")
