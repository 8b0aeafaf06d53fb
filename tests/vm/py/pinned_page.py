# SPDX-License-Identifier: GPL-2.0
"""argv = FILE PINCTL. Pin a page of FILE's shared mapping through PINCTL
(the ferrodax_pin module), then check that truncate waits, is killable
without freeing anything, and completes after the unpin."""
import ctypes
import mmap
import os
import signal
import sys
import time

path, pinctl = sys.argv[1], sys.argv[2]
B = 4096
data = os.urandom(64 * B)
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, data)
m = mmap.mmap(fd, 64 * B)
addr = ctypes.addressof(ctypes.c_char.from_buffer(m, 10 * B))
with open(pinctl, "w") as f:
    f.write(str(addr))


def truncate_in_child():
    pid = os.fork()
    if pid == 0:
        try:
            os.truncate(path, 0)
            os._exit(0)
        except OSError as e:
            os._exit(e.errno)
    return pid


def running(pid):
    return os.waitpid(pid, os.WNOHANG) == (0, 0)


pid = truncate_in_child()
time.sleep(3)
assert running(pid), "truncate did not wait for the pinned page"
os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
assert os.WIFSIGNALED(status), f"killed truncate: status {status:#x}"
assert os.fstat(fd).st_size == 64 * B, "the killed truncate changed the size"
assert os.pread(fd, 64 * B, 0) == data, "the killed truncate lost data"
pid = truncate_in_child()
time.sleep(1)
assert running(pid), "second truncate did not wait"
with open(pinctl, "w") as f:
    f.write("0")
_, status = os.waitpid(pid, 0)
assert status == 0, f"truncate after unpin: status {status:#x}"
assert os.fstat(fd).st_size == 0
del addr
m.close()
os.close(fd)
print("truncate waited for the pin, was killable, finished after the unpin")
