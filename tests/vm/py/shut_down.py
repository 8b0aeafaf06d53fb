# SPDX-License-Identifier: GPL-2.0
"""What a shut-down ferrodax must answer: EIO to every operation."""
import errno
import mmap
import os


def expect_eio(what, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        assert e.errno == errno.EIO, f"{what}: errno {e.errno}, wanted EIO"
        return
    raise AssertionError(f"{what} succeeded on a shut-down filesystem")


def expect_shut_down(d, fd):
    """Reads, writes, fsync and mmap of FD (a file opened before the
    shutdown) and creates in directory D all fail with EIO."""
    expect_eio("pread", os.pread, fd, 4096, 0)
    expect_eio("pwrite", os.pwrite, fd, b"x", 0)
    expect_eio("fsync", os.fsync, fd)
    expect_eio("create", os.open, os.path.join(d, "new"), os.O_CREAT | os.O_WRONLY, 0o644)
    expect_eio("mmap", mmap.mmap, fd, 4096)
