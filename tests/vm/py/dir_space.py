#!/usr/bin/env python3
"""Space N empty files in one new directory take on a mounted filesystem:
the drop in statfs free bytes (everything the files and the directory
cost) and the directory's own allocated bytes. Prints one line:
`<free bytes used> <directory bytes>`."""
import os
import sys

top, n = sys.argv[1], int(sys.argv[2])


def free_bytes():
    os.sync()
    s = os.statvfs(top if os.path.isdir(top) else os.path.dirname(top))
    return s.f_bfree * s.f_frsize


before = free_bytes()
os.mkdir(top)
d = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
for i in range(n):
    os.close(os.open(f"f{i}", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=d))
os.close(d)
used = before - free_bytes()
print(used, os.stat(top).st_blocks * 512)
