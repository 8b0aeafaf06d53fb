# SPDX-License-Identifier: GPL-2.0
"""A file with thousands of extents (argv = FILE BLOCKS): every other 4 KiB
block written, so each is an extent of its own and the extent tree grows
past one block. Checks the data by read(2) and mmap, the holes by
SEEK_DATA/SEEK_HOLE, then punches, collapses, inserts and truncates
through the tree and checks every block against a model. Prints the
model's checksum for the remount check."""
import hashlib
import mmap
import os
import sys

from falloc import COLLAPSE_RANGE, INSERT_RANGE, KEEP_SIZE, PUNCH_HOLE, fallocate

B = 4096
path, blocks = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
model = [None] * blocks  # None: a hole; else the block's fill byte


def fill(i):
    return 1 + i % 251


for i in range(0, blocks, 2):
    os.pwrite(fd, bytes([fill(i)]) * B, i * B)
    model[i] = fill(i)
os.ftruncate(fd, blocks * B)


def check(what):
    size = os.fstat(fd).st_size
    assert size == len(model) * B, f"{what}: size {size}, model {len(model) * B}"
    data = os.pread(fd, size, 0)
    m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
    assert m[:] == data, f"{what}: mmap and read(2) differ"
    m.close()
    for i, v in enumerate(model):
        want = bytes([v or 0]) * B
        assert data[i * B : (i + 1) * B] == want, f"{what}: block {i} is not {v}"
    # SEEK_DATA/SEEK_HOLE find every mapped run
    runs, off = 0, 0
    while True:
        try:
            off = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        end = os.lseek(fd, off, os.SEEK_HOLE)
        assert all(model[k] for k in range(off // B, end // B)), f"{what}: data at a hole"
        runs, off = runs + 1, end
    want = sum(1 for i, v in enumerate(model) if v and (i == 0 or not model[i - 1]))
    assert runs == want, f"{what}: {runs} data runs, model has {want}"
    print(f"{what}: {len(model)} blocks, {runs} data runs")


check("written")
# punch a quarter out of the middle
q = blocks // 4
fallocate(fd, PUNCH_HOLE | KEEP_SIZE, q * B, q * B)
model[q : 2 * q] = [None] * q
check("punched")
# collapse near the end (a shift moves every extent behind the point)
at = blocks - 64
fallocate(fd, COLLAPSE_RANGE, at * B, 16 * B)
del model[at : at + 16]
check("collapsed")
fallocate(fd, INSERT_RANGE, at * B, 8 * B)
model[at:at] = [None] * 8
check("inserted")
# fill some holes in the first quarter (the tree splits in the middle)
for i in range(1, q, 6):
    os.pwrite(fd, bytes([fill(i)]) * B, i * B)
    model[i] = fill(i)
check("refilled")
os.ftruncate(fd, (blocks // 2 + 3) * B)
del model[blocks // 2 + 3 :]
check("truncated")
os.fsync(fd)
os.close(fd)
print(hashlib.md5(b"".join(bytes([v or 0]) * B for v in model)).hexdigest())
