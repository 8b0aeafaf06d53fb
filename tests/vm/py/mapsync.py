# SPDX-License-Identifier: GPL-2.0
"""MAP_SYNC: `write FILE` maps a sparse 8 MiB FILE with
MAP_SHARED_VALIDATE | MAP_SYNC and stores a pattern into some pages, each
first touch a write fault that allocates a block; no msync, no fsync.
`check FILE` (after a power cut) expects exactly those bytes.

The allocation a MAP_SYNC write fault makes is durable before the fault
returns (that is what MAP_SYNC promises, and what this checks); the stored
bytes themselves reach the emulated NVDIMM's backing memory at once under
QEMU, where a real application would flush its CPU caches."""
import mmap
import os
import sys

MAP_SHARED_VALIDATE, MAP_SYNC = 0x03, 0x80000
SIZE, B = 8 << 20, 4096
PAGES = [0, 1, 7, 300, 511, 512, 1024, 2047]


def pattern(page):
    return bytes((page * 31 + i) & 0xFF for i in range(64))


mode, path = sys.argv[1], sys.argv[2]
if mode == "write":
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, SIZE)
    m = mmap.mmap(fd, SIZE, flags=MAP_SHARED_VALIDATE | MAP_SYNC)
    for p in PAGES:
        m[p * B : p * B + 64] = pattern(p)
    del m  # munmap without msync
    print("stored through a MAP_SYNC mapping")
else:
    fd = os.open(path, os.O_RDONLY)
    assert os.fstat(fd).st_size == SIZE
    data = os.pread(fd, SIZE, 0)
    for p in range(SIZE // B):
        want = pattern(p) if p in PAGES else bytes(64)
        assert data[p * B : p * B + 64] == want, f"page {p} lost its MAP_SYNC store"
        assert data[p * B + 64 : (p + 1) * B] == bytes(B - 64), f"page {p}: junk"
    assert os.fstat(fd).st_blocks * 512 >= len(PAGES) * B
    print("every MAP_SYNC store survived the power cut")
os.close(fd)
