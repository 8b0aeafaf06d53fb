//! Syscall latency, the set SquirrelFS, NOVA and WineFS report: each
//! operation `ops` times, each call timed on its own, mean and p99 in µs.
//!
//! As in the SquirrelFS artifact's syscall_latency.c, an append is one write
//! to a file just created (the open is not timed: creat is its own row), and
//! a read is one read of a file holding at least that much. Every operation
//! works in its own directory so one does not slow down another's lookups.

use crate::util::{ok, report};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;

/// Latencies in nanoseconds of the calls of one operation.
struct Samples(Vec<u64>);

impl Samples {
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let r = f();
        self.0.push(start.elapsed().as_nanos() as u64);
        r
    }

    fn report(mut self, op: &str) {
        self.0.sort_unstable();
        let n = self.0.len();
        let mean = self.0.iter().sum::<u64>() as f64 / n as f64;
        let p99 = self.0[(n * 99 / 100).min(n - 1)];
        report(&format!("lat.{op}.mean"), mean / 1000.0, "us");
        report(&format!("lat.{op}.p99"), p99 as f64 / 1000.0, "us");
    }
}

/// Times `call(i)` for each i below `ops`, each call on its own, and
/// reports the latencies as `op`.
fn timed<T>(op: &str, ops: usize, mut call: impl FnMut(usize) -> io::Result<T>) {
    let mut s = Samples(Vec::with_capacity(ops));
    for i in 0..ops {
        drop(ok(op, s.time(|| call(i))));
    }
    s.report(op);
}

fn new_file(path: &Path) -> File {
    ok(
        path.display(),
        OpenOptions::new().write(true).create_new(true).open(path),
    )
}

/// `ops` appends of `size` bytes, each to a new file in `dir`; then `ops`
/// reads of `size` bytes from those files.
fn append_then_read(dir: &Path, ops: usize, size: usize) {
    ok(dir.display(), fs::create_dir(dir));
    let buf = vec![0x5a_u8; size];
    let name = |i: usize| dir.join(format!("f{i}"));
    let mut appends = Samples(Vec::with_capacity(ops));
    for i in 0..ops {
        let f = new_file(&name(i));
        ok("append", appends.time(|| f.write_at(&buf, 0)));
    }
    appends.report(&format!("append-{}k", size / 1024));
    let mut reads = Samples(Vec::with_capacity(ops));
    let mut back = vec![0_u8; size];
    for i in 0..ops {
        let f = ok("open", File::open(name(i)));
        let n = ok("read", reads.time(|| f.read_at(&mut back, 0)));
        assert_eq!(n, size, "short read");
    }
    reads.report(&format!("read-{}k", size / 1024));
    ok(dir.display(), fs::remove_dir_all(dir));
}

/// `ops` overwrites of 4 KiB inside a 16 MiB file written beforehand.
fn overwrite(dir: &Path, ops: usize) {
    const FILE: usize = 16 << 20;
    let path = dir.join("overwrite");
    let f = new_file(&path);
    ok("fill", f.write_at(&vec![0_u8; FILE], 0));
    let buf = [0xa5_u8; 4096];
    timed("overwrite-4k", ops, |i| {
        f.write_at(&buf, (i * 4096 % FILE) as u64)
    });
    ok("unlink", fs::remove_file(path));
}

/// creat, stat, rename and unlink of `ops` empty files, mkdir of `ops`
/// directories.
fn namespace(dir: &Path, ops: usize) {
    let files = dir.join("files");
    let dirs = dir.join("dirs");
    ok("mkdir", fs::create_dir(&files));
    ok("mkdir", fs::create_dir(&dirs));
    let name = |i: usize| files.join(format!("f{i}"));
    let renamed = |i: usize| files.join(format!("r{i}"));

    timed("creat", ops, |i| {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(name(i))
    });
    timed("stat", ops, |i| fs::metadata(name(i)));
    timed("rename", ops, |i| fs::rename(name(i), renamed(i)));
    timed("unlink", ops, |i| fs::remove_file(renamed(i)));
    timed("mkdir", ops, |i| fs::create_dir(dirs.join(format!("d{i}"))));
    ok("cleanup", fs::remove_dir_all(&dirs));
    ok("cleanup", fs::remove_dir(&files));
}

pub(crate) fn run(dir: &Path, ops: usize) {
    namespace(dir, ops);
    append_then_read(&dir.join("a1k"), ops, 1024);
    append_then_read(&dir.join("a16k"), ops, 16 * 1024);
    overwrite(dir, ops);
}
