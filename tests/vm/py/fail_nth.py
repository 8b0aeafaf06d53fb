#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fault injection per syscall (issue #11): for n = 1, 2, ... make the n-th
fault point (slab or page allocation) of one syscall fail, through
/proc/thread-self/fail-nth, until the syscall runs past all of them. Every
attempt must either fail with an errno and leave the filesystem as it was,
or succeed completely: an operation that committed never reports an error.

usage: fail_nth.py MOUNTPOINT
"""
import ctypes
import errno
import gc
import os
import shutil
import stat
import sys

ROOT = sys.argv[1]
W = os.path.join(ROOT, "w")
libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
libc.linkat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
RENAME_EXCHANGE = 2
RENAME_WHITEOUT = 4
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE = 1, 2, 0x10
FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE = 8, 0x20
BLOCK = 4096
DATA = bytes(range(256)) * 16  # one block


def p(name):
    return os.path.join(W, name)


def check(ret):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def renameat2(a, b, flags):
    check(libc.renameat2(AT_FDCWD, p(a).encode(), AT_FDCWD, p(b).encode(), flags))


def fallocate(name, mode, off, length):
    fd = os.open(p(name), os.O_RDWR)
    try:
        check(libc.fallocate(fd, mode, off, length))
    finally:
        os.close(fd)


def ino(name):
    try:
        return os.lstat(p(name)).st_ino
    except FileNotFoundError:
        return None


def read(name):
    with open(p(name), "rb") as f:
        return f.read()


def make_file(name, blocks):
    with open(p(name), "wb") as f:
        for b in range(blocks):
            f.write(DATA[b % 256:] + DATA[:b % 256])


def block(b):
    return DATA[b % 256:] + DATA[:b % 256]


def setup_base():
    shutil.rmtree(W, ignore_errors=True)
    os.mkdir(W)
    make_file("f", 8)
    os.mkdir(p("d"))
    make_file("g", 2)


# Each case: setup (after setup_base), the syscall, and a state function
# that names the state the filesystem is in: "before", "after", or
# anything else (a half-done change). Inode numbers are looked up after
# setup, so the state functions see what setup made.
def cases():
    c = []

    def add(name, setup, op, state):
        c.append((name, setup, op, state))

    nothing = lambda: None
    add("creat", nothing, lambda: os.close(os.open(p("new"), os.O_CREAT | os.O_WRONLY, 0o644)),
        lambda: "before" if ino("new") is None else
        "after" if stat.S_ISREG(os.lstat(p("new")).st_mode) else "other")
    add("mkdir", nothing, lambda: os.mkdir(p("nd")),
        lambda: "before" if ino("nd") is None else
        "after" if os.path.isdir(p("nd")) and os.listdir(p("nd")) == [] else "other")
    add("symlink", nothing, lambda: os.symlink("some/target", p("l")),
        lambda: "before" if ino("l") is None else
        "after" if os.readlink(p("l")) == "some/target" else "other")
    add("mknod", nothing, lambda: os.mkfifo(p("fifo")),
        lambda: "before" if ino("fifo") is None else
        "after" if stat.S_ISFIFO(os.lstat(p("fifo")).st_mode) else "other")
    add("link", nothing, lambda: os.link(p("f"), p("h")),
        lambda: ("before" if ino("h") is None and os.stat(p("f")).st_nlink == 1 else
                 "after" if ino("h") == ino("f") and os.stat(p("f")).st_nlink == 2 else "other"))
    add("unlink", nothing, lambda: os.unlink(p("g")),
        lambda: "before" if ino("g") is not None else "after")
    add("rmdir", nothing, lambda: os.rmdir(p("d")),
        lambda: "before" if ino("d") is not None else "after")

    def names():
        return (ino("f"), ino("g"), ino("d"))
    base = {}

    def remember():
        base["f"], base["g"], base["d"] = names()
    add("rename", remember, lambda: os.rename(p("f"), p("f2")),
        lambda: ("before" if ino("f") == base["f"] and ino("f2") is None else
                 "after" if ino("f") is None and ino("f2") == base["f"] else "other"))
    add("rename-replace", remember, lambda: os.rename(p("f"), p("g")),
        lambda: ("before" if (ino("f"), ino("g")) == (base["f"], base["g"]) else
                 "after" if (ino("f"), ino("g")) == (None, base["f"]) else "other"))
    add("rename-dir", remember, lambda: os.rename(p("d"), p("d2")),
        lambda: ("before" if ino("d") == base["d"] and ino("d2") is None else
                 "after" if ino("d") is None and ino("d2") == base["d"] else "other"))
    add("rename-exchange", remember, lambda: renameat2("f", "d", RENAME_EXCHANGE),
        lambda: ("before" if (ino("f"), ino("d")) == (base["f"], base["d"]) else
                 "after" if (ino("f"), ino("d")) == (base["d"], base["f"]) else "other"))
    add("rename-whiteout", remember, lambda: renameat2("f", "f3", RENAME_WHITEOUT),
        lambda: ("before" if ino("f") == base["f"] and ino("f3") is None else
                 "after" if ino("f3") == base["f"] and stat.S_ISCHR(os.lstat(p("f")).st_mode)
                 else "other"))
    add("chmod", nothing, lambda: os.chmod(p("f"), 0o600),
        lambda: {0o644: "before", 0o600: "after"}.get(stat.S_IMODE(os.stat(p("f")).st_mode), "other"))
    add("truncate-down", nothing, lambda: os.truncate(p("f"), 3 * BLOCK + 100),
        lambda: size_and_data("f", 8 * BLOCK, 3 * BLOCK + 100))
    add("truncate-up", nothing, lambda: os.truncate(p("f"), 20 * BLOCK),
        lambda: size_and_data("f", 8 * BLOCK, 20 * BLOCK))

    def append():
        fd = os.open(p("f"), os.O_WRONLY | os.O_APPEND)
        try:
            n = os.write(fd, block(8))
        finally:
            os.close(fd)
        if n != BLOCK:
            raise OSError(errno.EIO, f"short append: {n}")
    add("append", nothing, append, lambda: size_and_data("f", 8 * BLOCK, 9 * BLOCK))

    def write_hole():
        fd = os.open(p("f"), os.O_WRONLY)
        try:
            n = os.pwrite(fd, block(40), 40 * BLOCK)
        finally:
            os.close(fd)
        if n != BLOCK:
            raise OSError(errno.EIO, f"short write: {n}")
    add("write-past-eof", nothing, write_hole, lambda: size_and_data("f", 8 * BLOCK, 41 * BLOCK))
    add("fallocate", nothing, lambda: fallocate("f", 0, 8 * BLOCK, 64 * BLOCK),
        lambda: size_and_data("f", 8 * BLOCK, 72 * BLOCK))
    add("punch", nothing, lambda: fallocate("f", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                            2 * BLOCK, 3 * BLOCK),
        lambda: punched("f", 2, 5))
    add("zero-range", nothing, lambda: fallocate("f", FALLOC_FL_ZERO_RANGE, 2 * BLOCK, 3 * BLOCK),
        lambda: punched("f", 2, 5))
    add("collapse", nothing, lambda: fallocate("f", FALLOC_FL_COLLAPSE_RANGE, 2 * BLOCK, 2 * BLOCK),
        lambda: shifted("f", collapse=True))
    add("insert", nothing, lambda: fallocate("f", FALLOC_FL_INSERT_RANGE, 2 * BLOCK, 2 * BLOCK),
        lambda: shifted("f", collapse=False))

    def tmpfile_link():
        fd = os.open(W, os.O_TMPFILE | os.O_WRONLY, 0o644)
        try:
            os.write(fd, block(1))
            check(libc.linkat(fd, b"", AT_FDCWD, p("t").encode(), AT_EMPTY_PATH))
        finally:
            os.close(fd)
    add("tmpfile", nothing, tmpfile_link,
        lambda: "before" if ino("t") is None else "after" if read("t") == block(1) else "other")
    return c


def expected(blocks):
    return b"".join(block(b) for b in range(blocks))


def size_and_data(name, old, new):
    data = read(name)
    if data == expected(8)[:old]:
        return "before"
    if len(data) != new:
        return f"size {len(data)}"
    if new < old:
        return "after" if data == expected(8)[:new] else "other"
    # Grown: the old bytes, then zeroes (or the block written at the end).
    if data[:old] != expected(8)[:old]:
        return "old data changed"
    tail = data[old:]
    if tail == bytes(len(tail)):
        return "after"
    if len(tail) >= BLOCK and tail[-BLOCK:] == block((new - BLOCK) // BLOCK) and \
            tail[:-BLOCK] == bytes(len(tail) - BLOCK):
        return "after"
    return "grown with junk"


def punched(name, first, end):
    data = read(name)
    if data == expected(8):
        return "before"
    want = expected(8)[:first * BLOCK] + bytes((end - first) * BLOCK) + expected(8)[end * BLOCK:]
    return "after" if data == want else "other"


def shifted(name, collapse):
    data = read(name)
    if data == expected(8):
        return "before"
    e = expected(8)
    want = e[:2 * BLOCK] + e[4 * BLOCK:] if collapse else e[:2 * BLOCK] + bytes(2 * BLOCK) + e[2 * BLOCK:]
    return "after" if data == want else "other"


nth = os.open("/proc/thread-self/fail-nth", os.O_RDWR)


def arm(n):
    os.write(nth, str(n).encode())


def remaining():
    return int(os.pread(nth, 32, 0))  # the file has no llseek


def run(name, setup, op, state):
    n = failed = 0
    while True:
        n += 1
        if n > 1000:
            sys.exit(f"{name}: still reaching new fault points after 1000")
        setup_base()
        setup()
        got = state()
        if got != "before":
            sys.exit(f"{name}: setup left {got!r}")
        err = None
        gc.collect()
        arm(n)
        try:
            op()
        except OSError as e:
            err = e
        injected = remaining() == 0
        arm(0)
        got = state()
        if err is None and got != "after":
            sys.exit(f"{name}, fault {n}: succeeded but the state is {got!r}")
        if err is not None and got != "before":
            sys.exit(f"{name}, fault {n}: failed with {err} after changing the state ({got!r})")
        if err is not None and not injected:
            sys.exit(f"{name}: failed with no fault injected: {err}")
        failed += err is not None
        if not injected:
            return n - 1, failed


def main():
    gc.disable()
    total = 0
    for name, setup, op, state in cases():
        points, failed = run(name, setup, op, state)
        total += points
        print(f"{name}: {points} fault points, {failed} failed cleanly, "
              f"{points - failed} succeeded anyway")
    shutil.rmtree(W)
    print(f"{total} fault points")


main()
