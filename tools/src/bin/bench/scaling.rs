//! Scaling: `threads` threads each run the creat, append and unlink loops
//! in a directory of their own (nothing shared but the filesystem), one
//! phase after another, all threads starting a phase together. Reports the
//! aggregate ops/s per phase; the driver divides the 2-thread by the
//! 1-thread rate. With two threads it also measures stat(2) of one thread
//! alone and beside another that creates and unlinks (how much changes
//! hold up lookups).

use crate::util::{ok, rate, report};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::Instant;

/// Runs `phase(thread, op)` for `ops` ops on each of `threads` threads at
/// once and reports the aggregate rate as `scale.NAME.tTHREADS`.
fn phase(name: &str, threads: usize, ops: usize, op: impl Fn(usize, usize) + Sync) {
    let barrier = Barrier::new(threads + 1);
    let start = std::thread::scope(|s| {
        for t in 0..threads {
            let (barrier, op) = (&barrier, &op);
            s.spawn(move || {
                barrier.wait();
                for i in 0..ops {
                    op(t, i);
                }
            });
        }
        barrier.wait();
        Instant::now()
    });
    report(
        &format!("scale.{name}.t{threads}"),
        rate(threads * ops, start),
        "ops/s",
    );
}

pub(crate) fn run(dir: &Path, threads: usize, ops: usize) {
    let own = |t: usize| dir.join(format!("scale-{t}"));
    for t in 0..threads {
        ok("mkdir", fs::create_dir(own(t)));
    }
    let name = |t: usize, i: usize| own(t).join(format!("f{i}"));
    phase("creat", threads, ops, |t, i| {
        drop(ok("creat", File::create(name(t, i))))
    });
    let block = [0x61_u8; 4096];
    phase("append", threads, ops, |t, i| {
        let mut f = ok(
            "open",
            OpenOptions::new().append(true).open(name(t, i % 256)),
        );
        ok("append", f.write_all(&block));
    });
    phase("unlink", threads, ops, |t, i| {
        ok("unlink", fs::remove_file(name(t, i)))
    });
    for t in 0..threads {
        ok("rmdir", fs::remove_dir(own(t)));
    }
    if threads == 2 {
        stat_beside_changes(dir, ops);
    }
}

/// `mixed.stat.alone` and `mixed.stat.beside-creat`: one thread stats
/// 256 files of its directory `ops` times, first alone, then while a
/// second thread creates and unlinks files in another directory.
fn stat_beside_changes(dir: &Path, ops: usize) {
    let (quiet, busy) = (dir.join("mixed-quiet"), dir.join("mixed-busy"));
    ok("mkdir", fs::create_dir(&quiet));
    ok("mkdir", fs::create_dir(&busy));
    for i in 0..256 {
        drop(ok("creat", File::create(quiet.join(format!("f{i}")))));
    }
    let stat_loop = || {
        let start = Instant::now();
        for i in 0..ops {
            ok("stat", fs::metadata(quiet.join(format!("f{}", i % 256))));
        }
        rate(ops, start)
    };
    report("mixed.stat.alone", stat_loop(), "ops/s");
    let done = AtomicBool::new(false);
    let beside = std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0;
            while !done.load(Ordering::Relaxed) {
                let f = busy.join(format!("f{}", i % 64));
                drop(ok("creat", File::create(&f)));
                ok("unlink", fs::remove_file(&f));
                i += 1;
            }
        });
        let r = stat_loop();
        done.store(true, Ordering::Relaxed);
        r
    });
    report("mixed.stat.beside-creat", beside, "ops/s");
    for i in 0..256 {
        ok("unlink", fs::remove_file(quiet.join(format!("f{i}"))));
    }
    ok("rmdir", fs::remove_dir(&quiet));
    ok("rmdir", fs::remove_dir(&busy));
}
