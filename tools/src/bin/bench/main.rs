//! ferrodax-bench: the measuring programs `make bench` runs inside the VM on
//! each filesystem (tests/vm/bench/dax.sh drives them). Each subcommand works
//! in the directory it is given and prints `metric value unit` lines; the
//! driver adds the filesystem and repetition and builds the tables. A
//! benchmark, not a test: it asserts nothing about speed, only that every
//! syscall it times succeeded.
//!
//! All times come from `Instant`, which is `clock_gettime(CLOCK_MONOTONIC)`.

mod faults;
mod latency;
mod scaling;
mod util;
mod workloads;

use std::path::PathBuf;
use std::process::exit;

const USAGE: &str = "usage: ferrodax-bench COMMAND DIR [ARGS]
  latency DIR OPS             syscall latency, mean and p99 per operation
  faults DIR MIB              first-touch write faults, 2 MiB aligned and not
  workload DIR NAME LOOPS     fileserver or varmail mix, ops/s
  scale DIR THREADS OPS       creat/append/unlink, THREADS in their own directories
                              (2 threads: also stat alone and beside creat/unlink)
  populate DIR FILES          FILES empty files in 100 directories (for the remount time)";

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> T {
    args.get(i).and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        eprintln!("{USAGE}");
        exit(16)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd: String = arg(&args, 0);
    let dir: PathBuf = arg(&args, 1);
    match cmd.as_str() {
        "latency" => latency::run(&dir, arg(&args, 2)),
        "faults" => faults::run(&dir, arg(&args, 2)),
        "workload" => workloads::run(&dir, &arg::<String>(&args, 2), arg(&args, 3)),
        "scale" => scaling::run(&dir, arg(&args, 2), arg(&args, 3)),
        "populate" => workloads::populate(&dir, arg(&args, 2)),
        _ => {
            eprintln!("{USAGE}");
            exit(16)
        }
    }
}
