// SPDX-License-Identifier: GPL-2.0
//! What the running transaction changed in a region, as a CRC-32C.
//!
//! CRC-32C is linear: for two messages of one length, `crc(a) ^ crc(b)` is
//! the raw CRC (zero start, no final inversion) of `a ^ b`. A structure
//! whose checksum covers a whole region (a directory entry block) can so
//! be resealed from its in-place checksum and the difference between its
//! staged and in-place contents, which is zero outside the staged ranges:
//! a few bytes checksummed and a table step per run of zeros
//! ([`zero_extend`]) instead of the whole region read and checksummed.

use super::crc32c::{update, zero_extend};
use super::medium::Medium;
use super::persist::Pm;
use super::Result;

/// Most separate staged runs a region is diffed over; beyond them (a
/// reshaped block) checksumming it whole costs less.
const MAX_RUNS: usize = 16;

/// Bytes compared per medium read.
const PIECE: usize = 128;

/// Sorted, disjoint runs of a region that the stage covers.
struct Runs {
    runs: [(u64, u64); MAX_RUNS],
    n: usize,
}

impl Runs {
    /// Add `from..to`, merging it with the runs it overlaps or touches;
    /// `false` if that needs more than [`MAX_RUNS`] runs.
    fn add(&mut self, from: u64, to: u64) -> bool {
        let n = self.n;
        let first = self.runs[..n].partition_point(|r| r.1 < from);
        let (mut lo, mut hi, mut last) = (from, to, first);
        while last < n && self.runs[last].0 <= hi {
            lo = lo.min(self.runs[last].0);
            hi = hi.max(self.runs[last].1);
            last += 1;
        }
        if last == first {
            if n == MAX_RUNS {
                return false;
            }
            self.runs.copy_within(first..n, first + 1);
            self.n += 1;
        } else {
            self.runs.copy_within(last..n, first + 1);
            self.n -= last - first - 1;
        }
        self.runs[first] = (lo, hi);
        true
    }

    fn bytes(&self) -> u64 {
        self.runs[..self.n].iter().map(|r| r.1 - r.0).sum()
    }
}

impl<M: Medium> Pm<M> {
    /// The raw CRC-32C of what `off..off + len` holds with the stage XOR
    /// what it holds in place, or `None` when the stage covers more than
    /// `limit` bytes of it or more than [`MAX_RUNS`] separate runs (then
    /// the caller checksums the region whole).
    pub fn staged_difference_crc(&self, off: u64, len: u64, limit: u64) -> Result<Option<u32>> {
        let end = off + len;
        let mut runs = Runs {
            runs: [(0, 0); MAX_RUNS],
            n: 0,
        };
        for i in 0..self.staged_count() {
            let (at, n) = self.staged_range(i);
            let (from, to) = (at.max(off), (at + n as u64).min(end));
            if from < to && !runs.add(from, to) {
                return Ok(None);
            }
        }
        if runs.bytes() > limit {
            return Ok(None);
        }
        let (mut now, mut old) = ([0u8; PIECE], [0u8; PIECE]);
        let (mut crc, mut pos) = (0, off);
        for &(from, to) in &runs.runs[..runs.n] {
            crc = zero_extend(crc, from - pos);
            let mut at = from;
            while at < to {
                let n = (to - at).min(PIECE as u64) as usize;
                self.read(at, &mut now[..n])?;
                self.read_in_place(at, &mut old[..n])?;
                for (x, y) in now[..n].iter_mut().zip(&old[..n]) {
                    *x ^= y;
                }
                crc = update(crc, &now[..n]);
                at += n as u64;
            }
            pos = to;
        }
        Ok(Some(zero_extend(crc, end - pos)))
    }
}
