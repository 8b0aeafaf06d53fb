# SPDX-License-Identifier: GPL-2.0
"""Data-path checks run inside the test VM on a mounted filesystem (argv[1]):
each asserts what POSIX and Linux promise, as ext4 -o dax behaves."""
import ctypes
import errno
import mmap
import os
import sys

from falloc import COLLAPSE_RANGE, INSERT_RANGE, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE, fallocate

os.chdir(sys.argv[1])
B = 4096


def expect_errno(code, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        assert e.errno == code, f"{fn.__name__}: errno {e.errno}, wanted {code}"
        return
    raise AssertionError(f"{fn.__name__} succeeded, wanted errno {code}")


# Sparse file: holes read as zeroes, SEEK_DATA/SEEK_HOLE find the data.
fd = os.open("sparse", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.pwrite(fd, b"x" * 100, 5 * B + 10)
os.pwrite(fd, b"y" * B, 300 * B)
assert os.fstat(fd).st_size == 301 * B
assert os.pread(fd, 5 * B + 10, 0) == bytes(5 * B + 10)
assert os.pread(fd, 110, 5 * B) == bytes(10) + b"x" * 100
assert os.lseek(fd, 0, os.SEEK_DATA) == 5 * B
assert os.lseek(fd, 5 * B, os.SEEK_HOLE) == 6 * B
assert os.lseek(fd, 6 * B, os.SEEK_DATA) == 300 * B
assert os.lseek(fd, 300 * B, os.SEEK_HOLE) == 301 * B
expect_errno(errno.ENXIO, os.lseek, fd, 301 * B, os.SEEK_DATA)
assert os.fstat(fd).st_blocks * 512 < 10 * B, "holes must not be allocated"
os.close(fd)

# O_APPEND, O_SYNC, O_DIRECT (same path), RWF_NOWAIT over mapped blocks.
fd = os.open("appended", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_SYNC, 0o644)
for i in range(50):
    os.write(fd, bytes([i]) * (i * 37 + 1))
os.close(fd)
want = b"".join(bytes([i]) * (i * 37 + 1) for i in range(50))
with open("appended", "rb") as f:
    assert f.read() == want
fd = os.open("direct", os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o644)
buf = mmap.mmap(-1, 2 * B)
buf[:] = b"d" * 2 * B
assert os.pwritev(fd, [buf], 0) == 2 * B
os.close(fd)
fd = os.open("direct", os.O_RDWR)
assert os.pread(fd, 2 * B, 0) == b"d" * 2 * B
# RWF_NOWAIT over mapped blocks succeeds once the file times need no
# update (updating them may block: EAGAIN, as on XFS).
for _ in range(100):
    try:
        assert os.pwritev(fd, [b"n" * 100], 0, os.RWF_NOWAIT) == 100
        break
    except BlockingIOError:
        os.pwrite(fd, b"n" * 100, 0)
else:
    raise AssertionError("RWF_NOWAIT write never succeeded")
assert os.preadv(fd, [bytearray(100)], 0, os.RWF_NOWAIT) == 100
# NOWAIT never allocates: a write into a hole would have to wait
expect_errno(errno.EAGAIN, os.pwritev, fd, [b"h"], 100 * B, os.RWF_NOWAIT)
assert os.pread(fd, 2 * B, 0) == b"n" * 100 + b"d" * (2 * B - 100)
os.fsync(fd)
os.fdatasync(fd)
os.close(fd)

# copy_file_range and sendfile (splice).
src = os.open("sparse", os.O_RDONLY)
dst = os.open("copied", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
n = 0
while n < 301 * B:
    n += os.copy_file_range(src, dst, 301 * B - n, n, n)
assert os.pread(dst, 301 * B, 0) == os.pread(src, 301 * B, 0)
os.lseek(src, 0, os.SEEK_SET)
out = os.open("sent", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
assert os.sendfile(out, src, 5 * B, 200) == 200
os.close(out)
assert open("sent", "rb").read() == os.pread(src, 200, 5 * B)
os.close(src)
os.close(dst)

# mmap: reads see write(2) data, stores are seen by read(2) and survive.
fd = os.open("mapped", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 3 * B + 100)
m = mmap.mmap(fd, 3 * B + 100)
m[B : B + 5] = b"hello"
os.pwrite(fd, b"world", 2 * B)
assert m[2 * B : 2 * B + 5] == b"world"
assert os.pread(fd, 5, B) == b"hello"
# a store past EOF inside the last page must not show after the file grows
# (the mapping covers the whole last page; Python's slices stop at EOF)
ctypes.memset(ctypes.addressof(ctypes.c_char.from_buffer(m)) + 3 * B + 100, ord("z"), 100)
m.flush()
m.close()
os.ftruncate(fd, 4 * B)
assert os.pread(fd, 100, 3 * B + 100) == bytes(100), "truncate up exposed bytes stored past EOF"
# truncate down zeroes the rest of the new last block
os.pwrite(fd, b"q" * B, 0)
os.ftruncate(fd, 10)
os.ftruncate(fd, B)
assert os.pread(fd, B, 0) == b"q" * 10 + bytes(B - 10)
# a write past EOF leaves zeroes in the gap
m = mmap.mmap(fd, B)
m[100:200] = b"p" * 100
m.close()
os.ftruncate(fd, 50)
os.pwrite(fd, b"e", 3 * B)
assert os.pread(fd, 3 * B, 0) == b"q" * 10 + bytes(3 * B - 10)
os.close(fd)

# MAP_PRIVATE: a write fault copies the page; the file does not change.
fd = os.open("mapped", os.O_RDWR)
before = os.pread(fd, B, 0)
m = mmap.mmap(fd, B, flags=mmap.MAP_PRIVATE)
m[0:7] = b"private"
assert m[0:7] == b"private"
assert os.pread(fd, B, 0) == before, "a MAP_PRIVATE store reached the file"
m.close()
os.close(fd)

# fallocate modes.
fd = os.open("ranges", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.posix_fallocate(fd, 0, 64 * B)
assert os.fstat(fd).st_size == 64 * B
assert os.fstat(fd).st_blocks * 512 >= 64 * B
assert os.pread(fd, 64 * B, 0) == bytes(64 * B)
fallocate(fd, KEEP_SIZE, 64 * B, 16 * B)
assert os.fstat(fd).st_size == 64 * B, "KEEP_SIZE changed the size"
os.pwrite(fd, b"r" * 64 * B, 0)
fallocate(fd, PUNCH_HOLE | KEEP_SIZE, 10 * B + 7, 5 * B)
want = bytearray(b"r" * 64 * B)
want[10 * B + 7 : 15 * B + 7] = bytes(5 * B)
assert os.pread(fd, 64 * B, 0) == want
assert os.lseek(fd, 11 * B, os.SEEK_DATA) == 15 * B, "punched blocks still mapped"
fallocate(fd, ZERO_RANGE, 30 * B + 1, 2 * B)
want[30 * B + 1 : 32 * B + 1] = bytes(2 * B)
assert os.pread(fd, 64 * B, 0) == want
fallocate(fd, ZERO_RANGE, 63 * B, 4 * B)
assert os.fstat(fd).st_size == 67 * B
want += bytes(3 * B)
want[63 * B : 64 * B] = bytes(B)
# collapse: blocks 20..24 go, the rest moves down
fallocate(fd, COLLAPSE_RANGE, 20 * B, 4 * B)
del want[20 * B : 24 * B]
assert os.fstat(fd).st_size == 63 * B
assert os.pread(fd, 63 * B, 0) == want
# insert: a 3-block hole at block 5
fallocate(fd, INSERT_RANGE, 5 * B, 3 * B)
want[5 * B : 5 * B] = bytes(3 * B)
assert os.fstat(fd).st_size == 66 * B
assert os.pread(fd, 66 * B, 0) == want
assert os.lseek(fd, 5 * B, os.SEEK_HOLE) == 5 * B
expect_errno(errno.EINVAL, fallocate, fd, COLLAPSE_RANGE, B + 1, B)
expect_errno(errno.EINVAL, fallocate, fd, COLLAPSE_RANGE, 60 * B, 6 * B)
expect_errno(errno.EINVAL, fallocate, fd, INSERT_RANGE, 66 * B, B)
expect_errno(errno.EOPNOTSUPP, fallocate, fd, PUNCH_HOLE, 0, B)
expect_errno(errno.EOPNOTSUPP, fallocate, fd, PUNCH_HOLE | ZERO_RANGE | KEEP_SIZE, 0, B)
os.close(fd)
# The mapping cache (fs/map_cache.rs) never outlives an extent change: a
# file read (so its extent is cached), then truncated, punched or
# collapsed, reads what the change left, by read() and through a new
# mapping, and a write at its old offsets does not reach the blocks it
# gave back, whoever holds them now.
for change in ("truncate", "punch", "collapse"):
    fd = os.open("cached", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(fd, b"a" * 16 * B + b"t" * B, 0)
    assert os.pread(fd, 17 * B, 0) == b"a" * 16 * B + b"t" * B
    if change == "truncate":
        os.ftruncate(fd, 0)
        os.ftruncate(fd, 17 * B)
        want = bytearray(17 * B)
    elif change == "punch":
        fallocate(fd, PUNCH_HOLE | KEEP_SIZE, 0, 16 * B)
        want = bytearray(16 * B) + b"t" * B
    else:
        fallocate(fd, COLLAPSE_RANGE, 0, 16 * B)
        want = bytearray(b"t" * B)
    assert os.pread(fd, len(want), 0) == want, f"{change}: stale mapping read"
    with mmap.mmap(fd, len(want)) as m:
        assert m[:] == want, f"{change}: stale mapping faulted"
    other = os.open("reuser", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(other, b"b" * 64 * B, 0)
    os.pwrite(fd, b"c" * B, 0)
    want[:B] = b"c" * B
    assert os.pread(fd, len(want), 0) == want, f"{change}: write went astray"
    assert os.pread(other, 64 * B, 0) == b"b" * 64 * B, f"{change}: write reached freed blocks"
    os.close(other)
    os.close(fd)
    os.unlink("reuser")
os.unlink("cached")

print("data checks passed")
