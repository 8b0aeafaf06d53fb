# SPDX-License-Identifier: GPL-2.0
"""argv = DIR CMD...: with DIR/f open and mapped by a child that keeps
touching it, run CMD (which removes the pmem device); then the child must
die of SIGBUS, and reads, writes and creates in DIR must fail with EIO.

The child maps f with MADV_NOHUGEPAGE (4 KiB faults) and drops its
mappings after each pass, so that it keeps faulting pages in, read-only
and then writable, while the device goes."""
import mmap
import os
import signal
import subprocess
import sys
import time

from shut_down import expect_shut_down

d, cmd = sys.argv[1], sys.argv[2:]
fd = os.open(os.path.join(d, "f"), os.O_RDWR)
size = os.fstat(fd).st_size
ready_r, ready_w = os.pipe()
pid = os.fork()
if pid == 0:
    m = mmap.mmap(fd, size)
    m.madvise(mmap.MADV_NOHUGEPAGE)
    total = 0
    for off in range(0, size, 4096):
        total += m[off]
    os.write(ready_w, b"r")
    while True:  # until the device goes: then a fault, and SIGBUS
        for off in range(0, size, 4096):
            m[off] = m[off]
        m.madvise(mmap.MADV_DONTNEED)
os.read(ready_r, 1)
t = time.monotonic()
subprocess.run(cmd, check=True, timeout=300)
print(f"device removed in {time.monotonic() - t:.1f} s")
_, status = os.waitpid(pid, 0)
assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGBUS, f"mapper: status {status:#x}"
expect_shut_down(d, fd)
os.close(fd)
print("removal: SIGBUS for the mapper, EIO for I/O")
