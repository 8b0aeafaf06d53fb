# SPDX-License-Identifier: GPL-2.0
"""Fill the free space of the filesystem at argv[1] with 0xA5 and free it
again, so a block handed out without zeroing shows as junk."""
import os
import sys

path = os.path.join(sys.argv[1], ".junk")
chunk = b"\xa5" * (1 << 20)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
try:
    while True:
        os.write(fd, chunk)
except OSError as e:
    assert e.errno == 28, e  # ENOSPC
os.close(fd)
os.unlink(path)
