# SPDX-License-Identifier: GPL-2.0
"""N processes write-fault the same holes of FILE at once, ROUNDS times:
argv = FILE N ROUNDS. Each round uses fresh holes (a 2 MiB region, so both
PTE and PMD faults race); every byte must be 0 or some writer's byte."""
import mmap
import os
import sys
import traceback

path, nproc, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
REGION = 2 << 20
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, rounds * REGION)
writers = bytes(range(1, nproc + 1))


def slot(page, i):
    """Writer i's byte in the page at offset `page`: distinct per writer."""
    return page + (page // 4096 * 7 + i * 64) % 4000


for r in range(rounds):
    base = r * REGION
    go_r, go_w = os.pipe()
    pids = []
    for i in range(nproc):
        pid = os.fork()
        if pid == 0:
            try:
                m = mmap.mmap(fd, REGION, offset=base)
                os.read(go_r, 1)  # all start together
                # each writer stores one byte into every page, at its own slot
                for page in range(0, REGION, 4096):
                    m[slot(page, i)] = writers[i]
                m.close()
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        pids.append(pid)
    os.write(go_w, b"g" * nproc)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert status == 0, f"writer exited with {status:#x}"
    os.close(go_r)
    os.close(go_w)
    data = os.pread(fd, REGION, base)
    junk = set(data) - set(writers) - {0}
    assert not junk, f"round {r}: bytes {sorted(junk)} seen: a block was mapped before it was zeroed"
    for i in range(nproc):
        for page in range(0, REGION, 4096):
            off = slot(page, i)
            assert data[off] == writers[i], f"round {r}: writer {i}'s store at {off:#x} lost"
os.close(fd)
print(f"{rounds} rounds of {nproc} racing writers: no junk, no lost store")
