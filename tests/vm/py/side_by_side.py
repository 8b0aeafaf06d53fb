#!/usr/bin/env python3
"""Transactions side by side (issue #10): one worker per CPU, each in a
directory of its own, creating, linking, renaming and removing names as
fast as it can, with files held open across their unlink (orphans) and
data written to some; every few hundred steps a rename across the two
workers' directories. Creates, links, unlinks and releases run on the
CPU's view of the core, the rest exclusive. Each worker keeps a model of
its directory and checks it against readdir and the files' contents at
the end, and again after a remount (run twice by the shell part).

usage: side_by_side.py TOP SECONDS | side_by_side.py --check TOP
"""
import json
import os
import sys
import time


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    os._exit(1)


def content(name):
    return f"{name}\n".encode() * 3


def worker(top, cpu, seconds):
    os.sched_setaffinity(0, {cpu})
    mine = f"{top}/w{cpu}"
    other = f"{top}/w{1 - cpu}"
    model = {}  # name -> bytes written to it
    held = []  # open descriptors of unlinked files
    stop = time.monotonic() + seconds
    step = 0
    while time.monotonic() < stop:
        step += 1
        name = f"f{step}"
        path = f"{mine}/{name}"
        if step % 7 == 0:
            with open(path, "wb") as f:
                f.write(content(name))
            model[name] = content(name)
        else:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            model[name] = b""
        if step % 5 == 0:
            os.link(path, f"{mine}/l{step}")
            model[f"l{step}"] = model[name]
        if step % 3 == 0:
            victim = f"f{step - 2}"
            if victim in model:
                if step % 9 == 0:
                    held.append(os.open(f"{mine}/{victim}", os.O_RDONLY))
                os.unlink(f"{mine}/{victim}")
                del model[victim]
        if step % 11 == 0:
            os.mkdir(f"{mine}/d{step}")
            os.rmdir(f"{mine}/d{step}")
        if step % 13 == 0 and name in model:
            os.rename(path, f"{mine}/r{step}")
            model[f"r{step}"] = model.pop(name)
        if step % 301 == 0 and name in model:
            # Into the other worker's directory and straight back.
            os.rename(path, f"{other}/x{cpu}")
            os.rename(f"{other}/x{cpu}", path)
        if len(held) > 16:
            os.close(held.pop(0))
    for fd in held:
        os.close(fd)
    with open(f"{top}/model{cpu}.json", "w") as f:
        json.dump({k: v.decode() for k, v in model.items()}, f)
    print(f"worker {cpu}: {step} steps, {len(model)} names", flush=True)


def check(top):
    for cpu in (0, 1):
        with open(f"{top}/model{cpu}.json") as f:
            model = {k: v.encode() for k, v in json.load(f).items()}
        listed = set(os.listdir(f"{top}/w{cpu}"))
        if listed != set(model):
            fail(f"w{cpu}: readdir differs from the model: {sorted(listed ^ set(model))[:8]}")
        for name, data in model.items():
            with open(f"{top}/w{cpu}/{name}", "rb") as f:
                if f.read() != data:
                    fail(f"w{cpu}/{name}: contents differ")
    print("models match", flush=True)


if sys.argv[1] == "--check":
    check(sys.argv[2])
    sys.exit(0)
top, seconds = sys.argv[1], float(sys.argv[2])
os.makedirs(f"{top}/w0")
os.makedirs(f"{top}/w1")
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
