#!/usr/bin/env python3
"""Transactions side by side (issue #10): one worker per CPU, each in a
directory of its own, creating, linking, renaming and removing names as
fast as it can, with files held open across their unlink (orphans) and
data written to some; renames across the two workers' directories, over
a name too. Each worker also appends a line to a log of its own
every step (fsync'd now and then: a time store from write_inode) and
write-faults pages of one sparse file both map, interleaved with the other
worker's pages, so two faults fill holes of one file at once; it
truncates its log now and then, changes modes, renames over existing
names, exchanges names, renames and exchanges directories (within its
directory and with the other worker's), makes O_TMPFILE files (linked in
by linkat, or released at close) and lists its directory, syncing now
and then (the directory's atime stored by write_inode, beside the
other's changes). Creates, links, unlinks, releases, appends,
hole-filling faults, time stores, setattr and renames run side by side
on views of the core (all but creates under inode locks), the rest
exclusive. Each worker keeps a model of its directory, its log and its
pages and checks them against readdir and the files' contents at the
end, and again after a remount (run twice by the shell part).

usage: side_by_side.py TOP SECONDS | side_by_side.py --check TOP
"""
import ctypes
import json
import mmap
import os
import sys
import time


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    os._exit(1)


PAGE = 4096
AT_FDCWD = -100
RENAME_EXCHANGE = 2
libc = ctypes.CDLL(None, use_errno=True)


def exchange(a, b):
    """renameat2(RENAME_EXCHANGE): Python has no binding of its own."""
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), a)

def link_in(fd, path):
    """linkat() of an O_TMPFILE descriptor (os.link cannot follow /proc's
    link: it calls link(2))."""
    AT_SYMLINK_FOLLOW = 0x400
    src = f"/proc/self/fd/{fd}".encode()
    if libc.linkat(AT_FDCWD, src, AT_FDCWD, path.encode(), AT_SYMLINK_FOLLOW) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)


# Pages of the shared sparse file: worker c writes pages p with p % 2 == c.
PAGES = 2048


def content(name):
    return f"{name}\n".encode() * 3


def page_byte(cpu, step):
    return (step * 2 + cpu) % 251 + 1


def worker(top, cpu, seconds):
    os.sched_setaffinity(0, {cpu})
    mine = f"{top}/w{cpu}"
    other = f"{top}/w{1 - cpu}"
    model = {}  # name -> bytes written to it
    held = []  # open descriptors of unlinked files
    log = os.open(f"{mine}/log", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
    logged = []
    modes = {}  # name -> mode set by chmod (else 0o644)
    pages = {}  # page index -> byte written over the whole page
    shared = os.open(f"{top}/shared", os.O_RDWR)
    view = mmap.mmap(shared, PAGES * PAGE)
    stop = time.monotonic() + seconds
    step = 0
    while time.monotonic() < stop:
        step += 1
        name = f"f{step}"
        line = f"{cpu}:{step}\n"
        os.write(log, line.encode())
        logged.append(line)
        if step % 17 == 0:
            os.fsync(log)
        if step % 97 == 0:
            os.ftruncate(log, 0)
            logged.clear()
        page = (step * 7919 % (PAGES // 2)) * 2 + cpu
        pages[page] = page_byte(cpu, step)
        view[page * PAGE:(page + 1) * PAGE] = bytes([pages[page]]) * PAGE
        path = f"{mine}/{name}"
        if step % 7 == 0:
            with open(path, "wb") as f:
                f.write(content(name))
            model[name] = content(name)
        else:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            model[name] = b""
        if step % 19 == 0:
            os.chmod(path, 0o600)
            modes[name] = 0o600
        if step % 5 == 0:
            os.link(path, f"{mine}/l{step}")
            model[f"l{step}"] = model[name]
            if name in modes:
                modes[f"l{step}"] = modes[name]
        if step % 3 == 0:
            victim = f"f{step - 2}"
            if victim in model:
                if step % 9 == 0:
                    held.append(os.open(f"{mine}/{victim}", os.O_RDONLY))
                os.unlink(f"{mine}/{victim}")
                del model[victim]
                modes.pop(victim, None)
        if step % 31 == 0:
            tmp = os.open(mine, os.O_TMPFILE | os.O_WRONLY, 0o644)
            data = content(f"t{step}")
            os.write(tmp, data)
            if step % 62 == 0:
                link_in(tmp, f"{mine}/t{step}")
                model[f"t{step}"] = data
            os.close(tmp)
        if step % 37 == 0:
            os.listdir(mine)  # atime, after creates moved mtime past it
            if step % 74 == 0:
                os.sync()
        if step % 11 == 0:
            # A directory renamed within its parent, over an empty one
            # every third time; then exchanged with one in the other
            # worker's directory, and with one beside it.
            os.mkdir(f"{mine}/d{step}")
            if step % 33 == 0:
                os.mkdir(f"{mine}/e{step}")
            os.rename(f"{mine}/d{step}", f"{mine}/e{step}")
            os.mkdir(f"{other}/z{cpu}")
            exchange(f"{mine}/e{step}", f"{other}/z{cpu}")
            os.mkdir(f"{mine}/d{step}")
            exchange(f"{mine}/e{step}", f"{mine}/d{step}")
            for d in (f"{mine}/d{step}", f"{mine}/e{step}", f"{other}/z{cpu}"):
                os.rmdir(d)
        replaced = f"f{step - 1}"
        if step % 23 == 0 and replaced in model:
            os.rename(path, f"{mine}/{replaced}")
            model[replaced] = model.pop(name)
            modes.pop(replaced, None)
            if name in modes:
                modes[replaced] = modes.pop(name)
        partner = f"f{step - 1}"
        if step % 29 == 0 and name in model and partner in model:
            exchange(path, f"{mine}/{partner}")
            model[name], model[partner] = model[partner], model[name]
            mode_of = [modes.pop(n, None) for n in (name, partner)]
            for n, m in zip((partner, name), mode_of):
                if m is not None:
                    modes[n] = m
        if step % 13 == 0 and name in model:
            os.rename(path, f"{mine}/r{step}")
            model[f"r{step}"] = model.pop(name)
            if name in modes:
                modes[f"r{step}"] = modes.pop(name)
        if step % 19 == 0 and name in model:
            # Into the other worker's directory and straight back.
            os.rename(path, f"{other}/x{cpu}")
            os.rename(f"{other}/x{cpu}", path)
        victim = f"f{step - 2}"
        if step % 57 == 0 and name in model and victim in model:
            # Across directories over a name: the victim moves over, this
            # file replaces it there (its last link gone, it is an orphan
            # until released) and comes back.
            os.rename(f"{mine}/{victim}", f"{other}/x{cpu}")
            os.rename(path, f"{other}/x{cpu}")
            os.rename(f"{other}/x{cpu}", path)
            del model[victim]
            modes.pop(victim, None)
        if len(held) > 16:
            os.close(held.pop(0))
    for fd in held:
        os.close(fd)
    view.close()
    os.close(shared)
    os.close(log)
    model["log"] = "".join(logged).encode()
    with open(f"{top}/model{cpu}.json", "w") as f:
        names = {k: v.decode() for k, v in model.items()}
        json.dump({"names": names, "pages": pages, "modes": modes}, f)
    print(f"worker {cpu}: {step} steps, {len(model)} names", flush=True)


def check(top):
    with open(f"{top}/shared", "rb") as f:
        shared = f.read()
    if len(shared) != PAGES * PAGE:
        fail(f"shared file is {len(shared)} bytes")
    for cpu in (0, 1):
        with open(f"{top}/model{cpu}.json") as f:
            saved = json.load(f)
        model = {k: v.encode() for k, v in saved["names"].items()}
        pages = {int(k): v for k, v in saved["pages"].items()}
        for page in range(cpu, PAGES, 2):
            want = bytes([pages.get(page, 0)]) * PAGE
            if shared[page * PAGE:(page + 1) * PAGE] != want:
                fail(f"shared page {page} (worker {cpu}) differs from the model")
        listed = set(os.listdir(f"{top}/w{cpu}"))
        if listed != set(model):
            fail(f"w{cpu}: readdir differs from the model: {sorted(listed ^ set(model))[:8]}")
        for name, data in model.items():
            with open(f"{top}/w{cpu}/{name}", "rb") as f:
                if f.read() != data:
                    fail(f"w{cpu}/{name}: contents differ")
                mode = os.fstat(f.fileno()).st_mode & 0o777
                if mode != saved["modes"].get(name, 0o644):
                    fail(f"w{cpu}/{name}: mode {mode:o}")
    print("models match", flush=True)


if sys.argv[1] == "--check":
    check(sys.argv[2])
    sys.exit(0)
top, seconds = sys.argv[1], float(sys.argv[2])
os.makedirs(f"{top}/w0")
os.makedirs(f"{top}/w1")
with open(f"{top}/shared", "wb") as f:
    f.truncate(PAGES * PAGE)
children = []
for cpu in (0, 1):
    pid = os.fork()
    if pid == 0:
        try:
            worker(top, cpu, seconds)
        except Exception as e:  # noqa: BLE001 (any error fails the test)
            fail(f"worker {cpu}: {e!r}")
        os._exit(0)
    children.append(pid)
for pid in children:
    _, status = os.waitpid(pid, 0)
    if status != 0:
        fail(f"a worker failed (status {status})")
check(top)
