//! What every measurement shares: failing loudly on a syscall error,
//! printing a result, and a small deterministic random generator (the same
//! sequence on every filesystem, so each one does exactly the same work).

use std::fmt::Display;
use std::io;
use std::time::Instant;

/// Unwraps the result of a syscall the benchmark depends on; a failure ends
/// the run (a number measured over failed syscalls would be meaningless).
pub(crate) fn ok<T>(what: impl Display, r: io::Result<T>) -> T {
    r.unwrap_or_else(|e| {
        eprintln!("ferrodax-bench: {what}: {e}");
        std::process::exit(1)
    })
}

pub(crate) fn report(metric: &str, value: f64, unit: &str) {
    println!("{metric} {value:.3} {unit}");
}

/// Operations per second of `ops` operations that took since `start`.
pub(crate) fn rate(ops: usize, start: Instant) -> f64 {
    ops as f64 / start.elapsed().as_secs_f64()
}

/// xorshift64: reproducible, and cheap beside any syscall.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
