# SPDX-License-Identifier: GPL-2.0
"""Operations at the end of the offset range (seed 001: a mapping request
ending at 2^63): pwrite, pread, ftruncate, fallocate and mmap+touch at
2^63 - 1 block, 2^63 - 1, s_maxbytes and just below. argv = DIR MAXBYTES;
prints one outcome per line."""
import ctypes
import errno
import os
import signal
import sys

from falloc import KEEP_SIZE, fallocate

B = 4096
os.chdir(sys.argv[1])


def outcome(fn, *args):
    try:
        fn(*args)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64]
PROT_RW, MAP_SHARED, MAP_FAILED = 3, 1, ctypes.c_void_p(-1).value


def touch_mapped(fd, off, write):
    """Map the page at `off` (mmap(2) itself: Python's refuses to map past
    EOF) and touch it in a child: the signal it dies of, or the errno."""
    pid = os.fork()
    if pid == 0:
        try:
            addr = _libc.mmap(None, B, PROT_RW, MAP_SHARED, fd, off)
            if addr == MAP_FAILED:
                os._exit(100 + ctypes.get_errno())
            cell = ctypes.c_char.from_address(addr)
            if write:
                cell.value = b"w"
            else:
                _ = cell.value
            os._exit(0)
        except BaseException:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return signal.Signals(os.WTERMSIG(status)).name
    code = os.WEXITSTATUS(status)
    return errno.errorcode[code - 100] if code >= 100 else f"exit {code}"


maxbytes = int(sys.argv[2])
fd = os.open("edge", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
for name, off in [
    ("2^63-1block", (1 << 63) - B),
    ("2^63-1", (1 << 63) - 1),
    ("maxbytes", maxbytes),
    ("maxbytes-1block", maxbytes - B),
]:
    print(name, "pwrite", outcome(os.pwrite, fd, b"x", off))
    print(name, "pread", outcome(os.pread, fd, 1, off))
    print(name, "ftruncate", outcome(os.ftruncate, fd, off))
    print(name, "fallocate-keep", outcome(fallocate, fd, KEEP_SIZE, off, B))
    print(name, "size", os.fstat(fd).st_size)
    os.ftruncate(fd, 0)
os.ftruncate(fd, maxbytes - B)
print("mmap inside EOF", touch_mapped(fd, maxbytes - 2 * B, True))
print("mmap at EOF", touch_mapped(fd, maxbytes - B, False))
print("mmap past maxbytes", touch_mapped(fd, maxbytes, False))
os.ftruncate(fd, 0)
os.close(fd)
