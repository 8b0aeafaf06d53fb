# SPDX-License-Identifier: GPL-2.0
"""Randomized power cuts (issue #11).

`run DIR LOG SEED` runs a random mix of operations in DIR, drawn from
SEED, until the power is cut: creates, writes and appends with fsync,
stores through MAP_SYNC mappings, truncates, fallocate, hole punches,
mkdir, rmdir, rename (over files too), hard links, symlinks and unlinks.
After each operation has returned (and its fsync) it appends the
operation's number to LOG, on the host's share, and fsyncs that.

`verify DIR LOG SEED` after the cut and a remount: with N the last logged
number, the tree must be the model's after operation N, or after N + 1
(the operation in flight, which must be entirely there or not at all).
File bytes may be torn only by the operation in flight (each byte then
old or new, as for any write not yet fsync'd). Every completed operation
is durable: each was fsync'd, or is a metadata operation (ferrodax commits
those before returning) or a MAP_SYNC store (whose allocation is durable
before its fault returns; the bytes reach the emulated NVDIMM at once).
"""
import ctypes
import mmap
import os
import random
import stat
import sys

MAP_SHARED_VALIDATE, MAP_SYNC = 0x03, 0x80000
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
PAGE = 4096
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


class Model:
    """Names (path -> ("f", ino) | ("d",) | ("l", target)) and file
    contents (ino -> bytearray), changed by the operations below."""

    def __init__(self):
        self.names = {"": ("d",)}
        self.data = {}
        self.next_ino = 0

    def copy(self):
        m = Model()
        m.names = dict(self.names)
        m.data = {i: bytearray(d) for i, d in self.data.items()}
        m.next_ino = self.next_ino
        return m

    def of_kind(self, kind):
        return sorted(p for p, v in self.names.items() if v[0] == kind and p)

    def dirs(self):
        return sorted(p for p, v in self.names.items() if v[0] == "d")

    def children(self, d):
        pre = d + "/" if d else ""
        return [p for p in self.names if p.startswith(pre) and p != d and "/" not in p[len(pre):]]

    def new_name(self, rng, prefix):
        d = rng.choice([x for x in self.dirs() if x.count("/") < 2])
        for _ in range(100):
            name = f"{prefix}{rng.randrange(40)}"
            p = f"{d}/{name}" if d else name
            if p not in self.names:
                return p
        return None


def step(m, rng, root, apply):
    """Draw the next operation from `rng` and make it on the model `m`;
    with `apply`, make it on the filesystem under `root` too."""
    full = lambda p: os.path.join(root, p)
    files, links = m.of_kind("f"), m.of_kind("l")
    op = rng.choice(["create", "write", "append", "mapsync", "truncate", "fallocate", "punch",
                     "mkdir", "rmdir", "rename", "link", "symlink", "unlink"])
    if op in ("write", "append", "mapsync", "truncate", "fallocate", "punch", "link") and not files:
        op = "create"
    if op == "create":
        p = m.new_name(rng, "f")
        if p is None:
            return
        m.names[p] = ("f", m.next_ino)
        m.data[m.next_ino] = bytearray()
        m.next_ino += 1
        if apply:
            fd = os.open(full(p), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.fsync(fd)
            os.close(fd)
    elif op in ("write", "append"):
        p = rng.choice(files)
        d = m.data[m.names[p][1]]
        off = len(d) if op == "append" else rng.randrange(len(d) + 3 * PAGE)
        buf = rng.randbytes(rng.randrange(1, 3 * PAGE))
        if off > len(d):
            d.extend(bytes(off - len(d)))
        d[off:off + len(buf)] = buf
        if apply:
            fd = os.open(full(p), os.O_WRONLY)
            assert os.pwrite(fd, buf, off) == len(buf)
            os.fsync(fd)
            os.close(fd)
    elif op == "mapsync":
        p = rng.choice(files)
        d = m.data[m.names[p][1]]
        if len(d) < PAGE:
            return
        size = len(d) // PAGE * PAGE
        off = rng.randrange(size - 64)
        buf = rng.randbytes(64)
        d[off:off + 64] = buf
        if apply:
            fd = os.open(full(p), os.O_RDWR)
            mm = mmap.mmap(fd, size, flags=MAP_SHARED_VALIDATE | MAP_SYNC)
            mm[off:off + 64] = buf
            del mm
            os.close(fd)
    elif op == "truncate":
        p = rng.choice(files)
        d = m.data[m.names[p][1]]
        size = rng.randrange(len(d) + 2 * PAGE)
        if size < len(d):
            del d[size:]
        else:
            d.extend(bytes(size - len(d)))
        if apply:
            os.truncate(full(p), size)
    elif op in ("fallocate", "punch"):
        p = rng.choice(files)
        d = m.data[m.names[p][1]]
        off, length = rng.randrange(len(d) + PAGE), rng.randrange(1, 4 * PAGE)
        if op == "fallocate":
            mode = 0
            if off + length > len(d):
                d.extend(bytes(off + length - len(d)))
        else:
            mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
            end = min(off + length, len(d))
            if off < end:
                d[off:end] = bytes(end - off)
        if apply:
            fd = os.open(full(p), os.O_RDWR)
            if libc.fallocate(fd, mode, off, length) != 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
            os.fsync(fd)
            os.close(fd)
    elif op == "mkdir":
        p = m.new_name(rng, "d")
        if p is None:
            return
        m.names[p] = ("d",)
        if apply:
            os.mkdir(full(p))
    elif op == "rmdir":
        empty = [d for d in m.of_kind("d") if not m.children(d)]
        if not empty:
            return
        p = rng.choice(empty)
        del m.names[p]
        if apply:
            os.rmdir(full(p))
    elif op == "rename":
        movable = files + links
        if not movable:
            return
        src = rng.choice(movable)
        # Half the time over an existing file (not another name of the
        # same file: rename does nothing then), else to a new name.
        targets = [f for f in files if m.names[f] != m.names[src]]
        dst = rng.choice(targets) if targets and rng.random() < 0.5 else m.new_name(rng, "r")
        if dst is None:
            return
        m.names[dst] = m.names.pop(src)
        if apply:
            os.rename(full(src), full(dst))
    elif op == "link":
        src, dst = rng.choice(files), m.new_name(rng, "h")
        if dst is None:
            return
        m.names[dst] = m.names[src]
        if apply:
            os.link(full(src), full(dst))
    elif op == "symlink":
        p, target = m.new_name(rng, "s"), f"t{rng.randrange(1000)}"
        if p is None:
            return
        m.names[p] = ("l", target)
        if apply:
            os.symlink(target, full(p))
    elif op == "unlink":
        victims = files + links
        if not victims:
            return
        p = rng.choice(victims)
        del m.names[p]
        if apply:
            os.unlink(full(p))
    # Files no name holds any more are gone.
    held = {v[1] for v in m.names.values() if v[0] == "f"}
    for ino in [i for i in m.data if i not in held]:
        del m.data[ino]


def scan(root):
    """The tree under `root`: path -> ("f", st_ino, bytes) | ("d",) | ("l", target)."""
    out = {"": ("d",)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            p = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                out[p] = ("d",)
            elif stat.S_ISLNK(st.st_mode):
                out[p] = ("l", os.readlink(full))
            else:
                with open(full, "rb") as f:
                    out[p] = ("f", st.st_ino, f.read())
    return out


def bytes_between(got, old, new):
    """Each byte of `got` is the byte of `old` or of `new` (missing bytes
    read as zero), and its length is one of theirs."""
    if len(got) not in (len(old), len(new)):
        return False
    if got in (bytes(old), bytes(new)):
        return True
    pad = lambda b: bytes(b) + bytes(max(0, len(got) - len(b)))
    o, n = pad(old), pad(new)
    return all(g in (a, b) for g, a, b in zip(got, o, n))


def matches(tree, m, other, torn_ok):
    """Whether `tree` is the model `m` (its file bytes may be those of
    `other` per byte, if `torn_ok`)."""
    if {p: v[0] for p, v in tree.items()} != {p: v[0] for p, v in m.names.items()}:
        return False
    groups = {}
    for p, v in tree.items():
        if v[0] == "l" and v[1] != m.names[p][1]:
            return False
        if v[0] == "f":
            ino = m.names[p][1]
            if groups.setdefault(ino, v[1]) != v[1]:
                return False  # names of one file on different inodes
            want = m.data[ino]
            was = other.data.get(other.names.get(p, ("",))[-1], want) if torn_ok else want
            if not (v[2] == bytes(want) or torn_ok and bytes_between(v[2], want, was)):
                return False
    return len(set(groups.values())) == len(groups)


def main():
    mode, root, log, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rng, m = random.Random(seed), Model()
    if mode == "run":
        os.makedirs(root, exist_ok=True)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        i = 0
        while True:
            i += 1
            step(m, rng, root, True)
            os.write(fd, f"{i}\n".encode())
            os.fsync(fd)
    with open(log) as f:
        # Only whole lines: the cut may have torn the last one.
        lines = f.read().split("\n")[:-1]
    done = int(lines[-1]) if lines else 0
    for _ in range(done):
        step(m, rng, root, False)
    before = m.copy()
    step(m, rng, root, False)
    tree = scan(root)
    cut = f"power cut after operation {done} of seed {seed}: operation {done + 1}"
    if matches(tree, m, m, False):
        print(f"{cut} complete")
    elif matches(tree, before, before, False):
        print(f"{cut} not there")
    elif matches(tree, before, m, True) or matches(tree, m, before, True):
        print(f"{cut} in flight, its bytes torn")
    else:
        show = lambda names: sorted((p, v[0], len(v[2]) if v[0] == "f" else v[1:]) for p, v in names)
        sys.exit(f"after operation {done} (seed {seed}): the tree is neither the model's "
                 f"before nor after operation {done + 1}:\n"
                 f"found:  {show(tree.items())}\n"
                 f"before: {show((p, v + (bytes(before.data[v[1]]),) if v[0] == 'f' else v) for p, v in before.names.items())}\n"
                 f"after:  {show((p, v + (bytes(m.data[v[1]]),) if v[0] == 'f' else v) for p, v in m.names.items())}")


main()
