//! ferrodax-metabench DIR [N]: time N of each metadata syscall in DIR and
//! print "op ops_per_second" lines (creat, mkdir, stat, readdir, rename,
//! unlink, rmdir). A benchmark, not a test: it asserts nothing about speed.

use std::fs;
use std::path::Path;
use std::time::Instant;

fn timed(name: &str, n: usize, mut f: impl FnMut(usize)) {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{name} {:.0}", n as f64 / secs);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| {
        eprintln!("usage: ferrodax-metabench DIR [N]");
        std::process::exit(16)
    });
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let d = Path::new(&dir).join("metabench");
    fs::create_dir_all(&d).expect("create the work directory");
    let f = |i: usize| d.join(format!("file-{i:06}"));
    let g = |i: usize| d.join(format!("renamed-{i:06}"));
    let sub = |i: usize| d.join(format!("dir-{i:06}"));
    timed("creat", n, |i| drop(fs::File::create(f(i)).expect("creat")));
    timed("mkdir", n, |i| fs::create_dir(sub(i)).expect("mkdir"));
    timed("stat", n, |i| {
        fs::metadata(f(i)).expect("stat");
    });
    timed("readdir", 10, |_| {
        assert_eq!(fs::read_dir(&d).expect("readdir").count(), 2 * n)
    });
    timed("rename", n, |i| fs::rename(f(i), g(i)).expect("rename"));
    timed("unlink", n, |i| fs::remove_file(g(i)).expect("unlink"));
    timed("rmdir", n, |i| fs::remove_dir(sub(i)).expect("rmdir"));
    fs::remove_dir(&d).expect("remove the work directory");
}
