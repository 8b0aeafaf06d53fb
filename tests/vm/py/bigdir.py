#!/usr/bin/env python3
"""A directory of N files: built, listed while names come and go, renamed
within itself, thinned (its blocks join), emptied back to one block,
removed."""
import os
import sys

top, n = sys.argv[1], int(sys.argv[2])
os.mkdir(top)
d = os.open(top, os.O_RDONLY | os.O_DIRECTORY)


def fail(msg):
    sys.exit(f"FAIL: {msg}")


empty = os.stat(top)
if empty.st_size != 4096:
    fail(f"an empty directory has size {empty.st_size}, not one block")
for i in range(n):
    os.close(os.open(f"f{i}", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=d))
names = set(os.listdir(top))
if names != {f"f{i}" for i in range(n)}:
    fail(f"listed {len(names)} names, not the {n} created")
grown = os.stat(top)
print(f"{n} names: directory size {grown.st_size}, {grown.st_blocks * 512} bytes")

# List while other names are added and removed: every name present
# throughout comes back exactly once (the getdents cookies survive splits
# and freed blocks).
seen = []
with os.scandir(top) as it:
    for k, e in enumerate(it):
        seen.append(e.name)
        if k % 500 == 0:
            for j in range(100):
                os.close(os.open(f"x{k}-{j}", os.O_CREAT | os.O_WRONLY, dir_fd=d))
            for j in range(50):
                os.unlink(f"x{k}-{j}", dir_fd=d)
stayed = [s for s in seen if s.startswith("f")]
if len(stayed) != n or len(set(stayed)) != n:
    fail(f"a listing during changes returned {len(stayed)} of {n} names ({len(set(stayed))} distinct)")
for name in os.listdir(top):
    if name.startswith("x"):
        os.unlink(name, dir_fd=d)

# Names looked up long before they are created: each negative dentry
# keeps where its lookup found the name would go, and the blocks change
# (names come and go, blocks split) before the create that uses it; a
# note that no longer holds must not be used. Every kind of create.
late = [f"late{i}" for i in range(300)]
for name in late:
    if os.path.lexists(f"{top}/{name}"):
        fail(f"{name} exists before its create")
for j in range(400):
    os.close(os.open(f"y{j}", os.O_CREAT | os.O_WRONLY, dir_fd=d))
for j in range(0, 400, 2):
    os.unlink(f"y{j}", dir_fd=d)
for i, name in enumerate(late):
    match i % 4:
        case 0:
            os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, dir_fd=d))
        case 1:
            os.mkdir(name, dir_fd=d)
        case 2:
            os.symlink("target", name, dir_fd=d)
        case 3:
            os.mknod(name, 0o600, dir_fd=d)
listed = os.listdir(top)
if len(listed) != len(set(listed)):
    fail("a name listed twice after creates in stale places")
if not set(late) <= set(listed):
    fail(f"{len(set(late) - set(listed))} late names missing")
for i, name in enumerate(late):
    if i % 4 == 1:
        os.rmdir(name, dir_fd=d)
    else:
        os.unlink(name, dir_fd=d)
for j in range(1, 400, 2):
    os.unlink(f"y{j}", dir_fd=d)
if len(os.listdir(top)) != n:
    fail("names lost by the late creates")

# Renames inside the directory move entries between blocks.
for i in range(0, n, 7):
    os.rename(f"f{i}", f"renamed-{i}", src_dir_fd=d, dst_dir_fd=d)
for i in range(0, n, 7):
    if not os.path.exists(f"{top}/renamed-{i}") or os.path.exists(f"{top}/f{i}"):
        fail(f"rename of f{i} inside the directory")
    os.rename(f"renamed-{i}", f"f{i}", src_dir_fd=d, dst_dir_fd=d)
if len(os.listdir(top)) != n:
    fail("names lost by renames")

# Nineteen of every twenty names go: nearly empty blocks join their
# neighbours, so the directory shrinks long before it is empty (without
# joins every block would keep its one name in twenty).
for i in range(n):
    if i % 20:
        os.unlink(f"f{i}", dir_fd=d)
thinned = os.stat(top)
print(f"1 name in 20 left: directory size {thinned.st_size}")
if thinned.st_size * 3 > grown.st_size:
    fail(f"1 name in 20 left, the directory keeps {thinned.st_size} of {grown.st_size} bytes")
if sorted(os.listdir(top)) != sorted(f"f{i}" for i in range(0, n, 20)):
    fail("names lost when blocks joined")
for i in range(0, n, 20):
    os.unlink(f"f{i}", dir_fd=d)
if os.listdir(top):
    fail("names left after removing them all")
shrunk = os.stat(top)
if shrunk.st_size != 4096:
    fail(f"an emptied directory has size {shrunk.st_size}, not one block")
os.close(d)
os.rmdir(top)
print("bigdir: ok")
