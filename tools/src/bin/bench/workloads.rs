//! Metadata-heavy mixes modelled on filebench's fileserver and varmail
//! personalities (one thread, scaled to an emulated NVDIMM), and the
//! population step of the remount measurement.
//!
//! fileserver, per loop: create and write a 64 KiB file, append 16 KiB to
//! another, read a whole file, stat one, delete one.
//! varmail, per loop: delete a file, create one and append 16 KiB + fsync,
//! append 16 KiB + fsync to another, read a whole file.
//! Both start from 1000 files out of 2000 names and pick them with the same
//! random sequence on every filesystem. Each syscall-level step counts as one operation.

use crate::util::{ok, rate, report, Rng};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

const FILES: usize = 1000;

struct FileSet {
    dir: PathBuf,
    /// Which of the names f0..f{2 * FILES - 1} exist now.
    present: Vec<bool>,
    rng: Rng,
}

impl FileSet {
    fn new(dir: &Path, size: usize) -> Self {
        ok(dir.display(), fs::create_dir(dir));
        let mut set = FileSet {
            dir: dir.to_owned(),
            present: vec![false; 2 * FILES],
            rng: Rng::new(0x5eed),
        };
        for i in 0..FILES {
            set.create(i, size, false);
        }
        set
    }

    fn name(&self, i: usize) -> PathBuf {
        self.dir.join(format!("f{i}"))
    }

    /// A random index whose file exists (`want == true`) or does not.
    fn pick(&mut self, want: bool) -> usize {
        loop {
            let i = self.rng.below(self.present.len());
            if self.present[i] == want {
                return i;
            }
        }
    }

    fn create(&mut self, i: usize, size: usize, sync: bool) {
        let mut f = ok(
            "create",
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.name(i)),
        );
        ok("write", f.write_all(&vec![0x42_u8; size]));
        if sync {
            ok("fsync", f.sync_all());
        }
        self.present[i] = true;
    }

    fn append(&mut self, size: usize, sync: bool) {
        let i = self.pick(true);
        let mut f = ok("open", OpenOptions::new().append(true).open(self.name(i)));
        ok("append", f.write_all(&vec![0x43_u8; size]));
        if sync {
            ok("fsync", f.sync_all());
        }
    }

    fn read_whole(&mut self) {
        let i = self.pick(true);
        let mut buf = Vec::new();
        ok(
            "read",
            ok("open", File::open(self.name(i))).read_to_end(&mut buf),
        );
    }

    fn delete(&mut self) {
        let i = self.pick(true);
        ok("unlink", fs::remove_file(self.name(i)));
        self.present[i] = false;
    }

    fn stat(&mut self) {
        let i = self.pick(true);
        ok("stat", fs::metadata(self.name(i)));
    }
}

pub(crate) fn run(dir: &Path, name: &str, loops: usize) {
    let work = dir.join(name);
    let (ops_per_loop, start) = match name {
        "fileserver" => {
            let mut set = FileSet::new(&work, 64 << 10);
            let start = Instant::now();
            for _ in 0..loops {
                let i = set.pick(false);
                set.create(i, 64 << 10, false);
                set.append(16 << 10, false);
                set.read_whole();
                set.stat();
                set.delete();
            }
            (5, start)
        }
        "varmail" => {
            let mut set = FileSet::new(&work, 16 << 10);
            let start = Instant::now();
            for _ in 0..loops {
                set.delete();
                let i = set.pick(false);
                set.create(i, 16 << 10, true);
                set.append(16 << 10, true);
                set.read_whole();
            }
            (4, start)
        }
        _ => {
            eprintln!("ferrodax-bench: unknown workload {name} (fileserver|varmail)");
            std::process::exit(16)
        }
    };
    report(
        &format!("workload.{name}"),
        rate(ops_per_loop * loops, start),
        "ops/s",
    );
    ok("cleanup", fs::remove_dir_all(&work));
}

/// `files` empty files spread over 100 directories, then syncfs.
pub(crate) fn populate(dir: &Path, files: usize) {
    let start = Instant::now();
    for d in 0..100 {
        ok("mkdir", fs::create_dir(dir.join(format!("d{d}"))));
    }
    for i in 0..files {
        ok(
            "creat",
            File::create(dir.join(format!("d{}/f{i}", i % 100))),
        );
    }
    ok("syncfs", ok("open", File::open(dir)).sync_all());
    report("populate", rate(files, start), "creates/s");
}
