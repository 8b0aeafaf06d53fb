#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The deepest stack ferrodax.ko's own code can use, from its disassembly.

    scripts/stack-depth.py MODULE.ko [--budget BYTES] [--top N]

A kernel stack is 16 KiB on x86-64 (32 KiB under KASAN), shared by the
syscall entry, the VFS, ferrodax and whatever it calls (DAX, iomap, the
pmem driver). The kernel's checkstack.pl lists frames one by one; a Rust
filesystem's frames nest deep (a rename goes VFS glue -> the core's
transaction -> the directory code), so this sums them: each function's
frame (its pushes, its `sub $N,%rsp` and the return address) plus the
deepest of the module's functions it calls or tail-calls (relocations name
them, or objdump's target when no relocation does; calls into the kernel
and indirect calls count nothing). Prints the deepest chains from the
functions nothing in the module calls (entry points from C) and fails when
one is deeper than the budget. Recursion is reported and fails too: its
depth has no bound here.
"""
import argparse
import re
import subprocess
import sys

FUNC = re.compile(r"^[0-9a-f]+ <(.+)>:$")
PUSH = re.compile(r"\bpush\s+%r")
SUB_RSP = re.compile(r"\bsub\s+\$0x([0-9a-f]+),%rsp")
CALL = re.compile(r"\b(call|jmp)\s")
RELOC = re.compile(r"R_X86_64_(?:PLT32|PC32)\s+([^\s+-]+)")
DIRECT = re.compile(r"\b(?:call|jmp)\s+[0-9a-f]+ <([^+>]+)>")
# Instructions of a prologue: pushes and the frame's allocation come first.
PROLOGUE = 24


def parse(ko):
    out = subprocess.run(["objdump", "-dr", "--no-show-raw-insn", ko],
                         capture_output=True, text=True, check=True).stdout
    frames, calls = {}, {}
    fn, n, pending, direct = None, 0, False, None
    for line in out.splitlines():
        m = FUNC.match(line)
        if m:
            fn, n, pending, direct = m.group(1), 0, False, None
            frames[fn], calls[fn] = 8, set()
            continue
        if fn is None or not line.strip():
            continue
        if "R_X86_64_" in line:
            # The call's target is the relocation's symbol; what objdump
            # printed is the unrelocated placeholder.
            r = RELOC.search(line)
            if pending and r:
                calls[fn].add(r.group(1))
            pending, direct = False, None
            continue
        if direct:
            calls[fn].add(direct)
        n += 1
        if n <= PROLOGUE:
            if PUSH.search(line):
                frames[fn] += 8
            s = SUB_RSP.search(line)
            if s:
                frames[fn] += int(s.group(1), 16)
                n = PROLOGUE
        pending = bool(CALL.search(line))
        d = DIRECT.search(line)
        direct = d.group(1) if d else None
    for f in calls:
        calls[f] = {c for c in calls[f] if c in frames and c != f}
    return frames, calls


def deepest(frames, calls):
    depth, via, recursive = {}, {}, set()

    def visit(f, stack):
        if f in depth:
            return depth[f]
        if f in stack:
            recursive.add(f)
            return 0
        stack.add(f)
        best, best_c = 0, None
        for c in calls[f]:
            d = visit(c, stack)
            if d > best:
                best, best_c = d, c
        stack.discard(f)
        depth[f], via[f] = frames[f] + best, best_c
        return depth[f]

    sys.setrecursionlimit(100000)
    for f in frames:
        visit(f, set())
    return depth, via, recursive


def readable(name):
    """The identifiers of a Rust v0 symbol, joined by `::` (a reading aid,
    not a demangler: generic arguments come out as more path segments)."""
    if not name.startswith("_R"):
        return name
    name = re.sub(r"Cs[0-9A-Za-z]+_", "C", name[2:])
    idents, i = [], 0
    while i < len(name):
        m = re.match(r"\d+", name[i:])
        if not m:
            i += 1
            continue
        n, i = int(m.group()), i + len(m.group())
        if name[i:i + 1] == "_":
            i += 1
        ident = name[i:i + n]
        if n and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident):
            if not idents or idents[-1] != ident:
                idents.append(ident)
            i += n
    path = "::".join(idents)
    return path if len(path) <= 120 else path[:117] + "..."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ko")
    ap.add_argument("--budget", type=int, default=0)
    ap.add_argument("--top", type=int, default=5)
    a = ap.parse_args()
    frames, calls = parse(a.ko)
    depth, via, recursive = deepest(frames, calls)
    called = {c for cs in calls.values() for c in cs}
    roots = sorted((f for f in frames if f not in called), key=lambda f: -depth[f])
    print(f"{a.ko}: deepest stacks of the module's own code (bytes), from entry points")
    for f in roots[:a.top]:
        print(f"  {depth[f]:6d}  {readable(f)}")
    worst = roots[0] if roots else None
    if worst:
        chain, f = [], worst
        while f:
            chain.append(f)
            f = via[f]
        print(f"deepest chain ({depth[worst]} bytes):")
        for f in chain:
            print(f"  {frames[f]:6d}  {readable(f)}")
    failed = False
    if recursive:
        print(f"FAIL: recursion through {', '.join(readable(n) for n in sorted(recursive))}")
        failed = True
    if a.budget and worst and depth[worst] > a.budget:
        print(f"FAIL: {depth[worst]} bytes deep, over the budget of {a.budget}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
