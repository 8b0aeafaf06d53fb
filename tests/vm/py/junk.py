# SPDX-License-Identifier: GPL-2.0
"""Fill the free space of the filesystem at argv[1] with 0xA5 (or only its
first argv[2] MiB: blocks are handed out from the start of the device, so
that covers every block a short test allocates) and free it again, so a
block handed out without zeroing shows as junk."""
import os
import sys

path = os.path.join(sys.argv[1], ".junk")
chunk = b"\xa5" * (1 << 20)
limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
try:
    n = 0
    while limit is None or n < limit:
        os.write(fd, chunk)
        n += 1
except OSError as e:
    assert e.errno == 28, e  # ENOSPC
os.close(fd)
os.unlink(path)
