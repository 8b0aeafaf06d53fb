# SPDX-License-Identifier: GPL-2.0
"""argv = DIR DEV DATA_START: media errors under the ferrodax mounted at DIR
on DEV (fsdax pmem), raised by memory_failure() on its pages through
debugfs hwpoison/corrupt-pfn (the software path of a machine check, which
reaches ferrodax's notify_failure as a real one does):

1. a block of file data: the process mapping that file dies of SIGBUS, a
   process mapping another file does not, and the filesystem goes on;
2. a free block: nothing happens;
3. a block of metadata (the inode table, below DATA_START): the filesystem
   shuts down, every operation gets EIO;
4. file data after that: its mapper still gets SIGBUS.
"""
import errno
import fcntl
import mmap
import os
import signal
import struct
import sys
import time

from shut_down import expect_shut_down

d, dev, data_start = sys.argv[1], sys.argv[2], int(sys.argv[3])
BLOCK = 4096
CORRUPT_PFN = "/sys/kernel/debug/hwpoison/corrupt-pfn"


def data_phys():
    """Physical address of DEV's first byte: its fsdax pfn device's resource."""
    pfn_dev = os.path.basename(os.path.realpath(f"/sys/block/{os.path.basename(dev)}/device"))
    with open(f"/sys/bus/nd/devices/{pfn_dev}/resource") as f:
        return int(f.read(), 16)


def device_block(path, lblk):
    """FIEMAP: the device block behind file block LBLK of PATH."""
    FS_IOC_FIEMAP = 0xC020660B
    head = struct.pack("=QQIIII", lblk * BLOCK, BLOCK, 0, 0, 1, 0)
    buf = bytearray(head + bytes(56))
    with open(path, "rb") as f:
        fcntl.ioctl(f.fileno(), FS_IOC_FIEMAP, buf)
    mapped = struct.unpack_from("=I", buf, 20)[0]
    assert mapped == 1, f"{path}: block {lblk} is not mapped"
    logical, physical = struct.unpack_from("=QQ", buf, 32)
    return (physical + (lblk * BLOCK - logical)) // BLOCK


def poison(block):
    pfn = (data_phys() + block * BLOCK) >> 12
    print(f"memory_failure() on device block {block} (pfn {pfn:#x})")
    fd = os.open(CORRUPT_PFN, os.O_WRONLY)
    try:
        # One write(2): a buffered file would write again when closed.
        os.write(fd, f"{pfn:#x}\n".encode())
    except OSError as e:
        # Metadata loss is reported back as EUCLEAN, as XFS's EFSCORRUPTED.
        print(f"  memory_failure: {os.strerror(e.errno)}")
        return e.errno
    finally:
        os.close(fd)
    return 0


def mapper(path):
    """A child that maps PATH and keeps reading it; returns (pid, pipe)."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        fd = os.open(path, os.O_RDONLY)
        m = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
        want = m[:]
        os.write(ready_w, b"r")
        os.set_blocking(go_r, False)
        while True:
            for off in range(0, len(m), BLOCK):
                _ = m[off]
            try:
                if os.read(go_r, 1):
                    os._exit(0 if m[:] == want else 3)
            except BlockingIOError:
                pass
            time.sleep(0.02)
    os.read(ready_r, 1)
    return pid, go_w


def wait_exit(pid, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"child {pid} still running after {timeout} s")


def alive(pid):
    return os.waitpid(pid, os.WNOHANG) == (0, 0)


def write_file(path, byte, blocks):
    with open(path, "wb") as f:
        f.write(bytes([byte]) * (blocks * BLOCK))
        os.fsync(f.fileno())


with open("/proc/sys/vm/memory_failure_early_kill", "w") as f:
    # Kill mappers when the error is found, not when they touch the page
    # (the injection runs in this process, not in the mapper).
    f.write("1\n")

victim, bystander = os.path.join(d, "victim"), os.path.join(d, "bystander")
write_file(victim, 0x5A, 4)
write_file(bystander, 0x3C, 4)
vpid, _ = mapper(victim)
bpid, bgo = mapper(bystander)

# 1. File data.
assert poison(device_block(victim, 1)) == 0, "a data error must be handled"
status = wait_exit(vpid)
assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGBUS, f"victim's mapper: status {status:#x}"
assert alive(bpid), "the mapper of another file was killed"
os.write(bgo, b"q")
status = wait_exit(bpid)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"bystander's mapper: status {status:#x}"
with open(bystander, "rb") as f:
    assert f.read() == bytes([0x3C]) * (4 * BLOCK), "bystander's data changed"
write_file(os.path.join(d, "after-data"), 0x11, 2)
print("data: the victim's mapper got SIGBUS; the bystander and the filesystem went on")

# 2. A free block: one that a file held and gave back.
spare = os.path.join(d, "spare")
write_file(spare, 0x22, 1)
free_block = device_block(spare, 0)
os.unlink(spare)
os.sync()
assert poison(free_block) == 0, "a free block must cost nothing"
write_file(os.path.join(d, "after-free"), 0x33, 2)
print("free block: nothing lost")

# 3. Metadata: the last inode table block.
fd = os.open(bystander, os.O_RDWR)
late_block = device_block(bystander, 2)
bpid, _ = mapper(bystander)
assert poison(data_start - 1) == errno.EUCLEAN, "metadata loss must be reported as EUCLEAN"
expect_shut_down(d, fd)
os.close(fd)
print("metadata: the filesystem shut down, EIO everywhere")

# 4. File data on the shut-down filesystem: the kernel's generic handling
# still kills the process mapping it.
assert alive(bpid), "a mapper was killed by the metadata error"
poison(late_block)
status = wait_exit(bpid)
assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGBUS, f"late mapper: status {status:#x}"
print("data after the shutdown: the mapper got SIGBUS")
