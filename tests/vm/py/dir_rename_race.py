#!/usr/bin/env python3
"""A directory renamed round four places, within its parent and across
to another, while another process creates and removes names inside it
(through a descriptor of the directory, which follows it). Within its
parent the rename takes the moved directory's i_rwsem by trylock and runs
side by side when it gets it, exclusive when a create holds it; across,
the VFS holds it and the rename runs side by side. After SECONDS the
directory holds exactly the names the creator left, under the last name
the renamer gave it.

usage: dir_rename_race.py PARENT SECONDS"""
import os
import sys
import time

parent, seconds = sys.argv[1], float(sys.argv[2])
names = [f"{parent}/a", f"{parent}/b", f"{parent}/sub/c", f"{parent}/sub/d"]
os.mkdir(f"{parent}/sub")
os.mkdir(names[0])
dfd = os.open(names[0], os.O_RDONLY | os.O_DIRECTORY)
end = time.monotonic() + seconds
pid = os.fork()
if pid == 0:
    kept = set()
    step = 0
    while time.monotonic() < end:
        name = f"f{step}"
        os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=dfd))
        kept.add(name)
        old = f"f{step // 2}"
        if step % 3 == 0 and old in kept:
            os.unlink(old, dir_fd=dfd)
            kept.discard(old)
        step += 1
    with open(f"{parent}/kept", "w") as f:
        f.write("\n".join(sorted(kept)))
    os._exit(0)
renames = 0
while time.monotonic() < end:
    os.rename(names[renames % 4], names[(renames + 1) % 4])
    renames += 1
_, status = os.waitpid(pid, 0)
assert status == 0, f"creator: status {status:#x}"
with open(f"{parent}/kept") as f:
    kept = set(f.read().split())
final = names[renames % 4]
found = set(os.listdir(final))
assert found == kept, f"{final}: {len(found)} names, creator kept {len(kept)}"
print(f"dir-rename race: {renames} renames, {len(kept)} names kept")
