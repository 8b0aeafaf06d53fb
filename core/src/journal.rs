// SPDX-License-Identifier: GPL-2.0
//! The undo journal: what makes every metadata operation atomic.
//!
//! A transaction logs the *old* contents of each metadata range before it
//! changes it in place, then commits by clearing the journal's active bit.
//! Recovery (after a crash) and abort (after an error) are the same code:
//! put the logged old contents back, newest first.
//!
//! In-place changes are staged in [`Pm`] (reads see them, the medium does
//! not) and logged and stored in batches, so a transaction costs three
//! fences however many ranges it changes. Ordering, per transaction with
//! sequence number `S`:
//!
//! 1. `begin`: store header word `S << 1 | 1` and flush it.
//! 2. `write`: stage the new bytes. When the stage is full, and at commit,
//!    *drain* it: store undo entries (seq `S`, offset, old bytes, crc) for
//!    every staged range, flush, **fence**; only then store the staged bytes
//!    in place and flush.
//! 3. `commit`: drain, **fence** (all in-place stores durable), store header
//!    word `S << 1`, flush, **fence** (the operation is now durable).
//!
//! Why it is safe: an in-place store is never durable before the undo entry
//! that can revert it (step 2's fence); the header's active bit is durable
//! before any in-place store (its flush is covered by the same fence);
//! entries of older transactions carry an older `S` and are never applied;
//! a torn entry fails its checksum, and its in-place store cannot have
//! happened yet. The full argument is in
//! `Documentation/filesystems/ferrodax/crash-consistency.rst`.
//!
//! Entries are one 64-byte cache line each, so the cost of a change is
//! proportional to the bytes it touches, never a whole block.

use super::crc32c::crc32c_skip;
use super::error::{Error, Result};
use super::layout::{le::*, Geometry, BLOCK_SIZE, JOURNAL_BLOCKS, SB_SIZE};
use super::medium::Medium;
use super::persist::{Fenced, Flushed, Pm, STAGE_BYTES};

/// Size of one undo entry.
pub const ENTRY_SIZE: u64 = 64;
/// Old bytes one entry can hold.
pub const ENTRY_DATA: usize = 40;
/// Offset of the header inside the journal.
const HEADER_MAGIC_OFF: u64 = 8;
/// Constant written by mkfs next to the header word.
pub const JOURNAL_MAGIC: u64 = u64::from_le_bytes(*b"FDXJRNL1");
/// Entries fit after the 64-byte header.
pub const CAPACITY: u32 = ((JOURNAL_BLOCKS * BLOCK_SIZE - ENTRY_SIZE) / ENTRY_SIZE) as u32;

const E_SEQ: usize = 0;
const E_OFF: usize = 8;
const E_LEN: usize = 16;
const E_CRC: usize = 20;
const E_DATA: usize = 24;

/// Volatile state of the journal.
#[derive(Debug)]
pub struct Journal {
    base: u64,
    seq: u64,
    next: u32,
    active: bool,
    /// Flushed but unfenced stores of the running transaction.
    pending: Option<Flushed>,
}

impl Journal {
    /// Byte offset of the journal for a geometry.
    pub fn base_of(geo: &Geometry) -> u64 {
        Geometry::block_off(geo.journal_start)
    }

    fn entry_off(&self, i: u32) -> u64 {
        self.base + ENTRY_SIZE * (1 + u64::from(i))
    }

    /// Read the journal header, roll back an interrupted transaction if
    /// there is one, and return the journal ready for new transactions.
    pub fn recover<M: Medium>(pm: &mut Pm<M>, geo: &Geometry) -> Result<(Journal, bool)> {
        let base = Self::base_of(geo);
        if pm.read_u64(base + HEADER_MAGIC_OFF)? != JOURNAL_MAGIC {
            return Err(Error::Corrupt("journal header magic"));
        }
        let word = pm.read_u64(base)?;
        let mut j = Journal {
            base,
            seq: word >> 1,
            next: 0,
            active: word & 1 != 0,
            pending: None,
        };
        let rolled_back = j.active;
        if j.active {
            j.undo(pm, geo)?;
        }
        // Entries can carry at most the durable sequence number plus one (a
        // transaction whose header store was lost). Moving past it makes
        // every such stale entry unmatchable by later transactions.
        j.seq = j
            .seq
            .checked_add(1)
            .ok_or(Error::Corrupt("journal sequence"))?;
        let f = pm.persist(base, &(j.seq << 1).to_le_bytes())?;
        pm.fence(f);
        Ok((j, rolled_back))
    }

    /// Whether a transaction is running.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Start a transaction.
    pub fn begin<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        debug_assert!(!self.active, "nested transaction");
        self.seq = self
            .seq
            .checked_add(1)
            .ok_or(Error::Corrupt("journal sequence"))?;
        self.next = 0;
        self.active = true;
        let f = pm.persist(self.base, &(self.seq << 1 | 1).to_le_bytes())?;
        self.pending = Some(f);
        Ok(())
    }

    /// Number of entries `len` bytes of old data need.
    pub fn entries_for(len: usize) -> u32 {
        len.div_ceil(ENTRY_DATA) as u32
    }

    /// Change `off..off + data.len()` in the running transaction: staged
    /// now, logged and stored in place by the next drain.
    pub fn write<M: Medium>(&mut self, pm: &mut Pm<M>, off: u64, data: &[u8]) -> Result<()> {
        debug_assert!(self.active);
        for (i, part) in data.chunks(STAGE_BYTES).enumerate() {
            let at = off + (i * STAGE_BYTES) as u64;
            if !pm.stage(at, part)? {
                self.drain(pm)?;
                if !pm.stage(at, part)? {
                    return Err(Error::Invalid);
                }
            }
        }
        Ok(())
    }

    /// Log the old contents of every staged range, make the log durable,
    /// then store the staged bytes in place.
    pub fn drain<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        debug_assert!(self.active);
        if pm.staged_count() == 0 {
            return Ok(());
        }
        let mut flushed = self.pending.take().unwrap_or_else(Flushed::none);
        for i in 0..pm.staged_count() {
            let (off, len) = pm.staged_range(i);
            flushed = flushed.join(self.log(pm, off, len)?);
        }
        let logged = pm.fence(flushed);
        self.pending = Some(pm.apply_stage(logged));
        Ok(())
    }

    /// Store undo entries holding the in-place contents of `off..off + len`.
    fn log<M: Medium>(&mut self, pm: &mut Pm<M>, off: u64, len: usize) -> Result<Flushed> {
        if self.next + Self::entries_for(len) > CAPACITY {
            return Err(Error::NoSpace);
        }
        let mut flushed = Flushed::none();
        let mut done = 0;
        while done < len {
            let n = (len - done).min(ENTRY_DATA);
            let mut e = [0u8; ENTRY_SIZE as usize];
            put_u64(&mut e, E_SEQ, self.seq);
            put_u64(&mut e, E_OFF, off + done as u64);
            put_u16(&mut e, E_LEN, n as u16);
            pm.read_in_place(off + done as u64, &mut e[E_DATA..E_DATA + n])?;
            let crc = crc32c_skip(&e, E_CRC);
            put_u32(&mut e, E_CRC, crc);
            let at = self.entry_off(self.next);
            flushed = flushed.join(pm.persist(at, &e)?);
            self.next += 1;
            done += n;
        }
        Ok(flushed)
    }

    /// Make the running transaction durable.
    pub fn commit<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        self.drain(pm)?;
        let pending = self.pending.take().unwrap_or_else(Flushed::none);
        let durable = pm.fence(pending);
        self.close(pm, durable)
    }

    /// Clear the active bit. Needs proof that the in-place stores (or, on
    /// rollback, the restored old contents) are durable.
    fn close<M: Medium>(&mut self, pm: &mut Pm<M>, _durable: Fenced) -> Result<()> {
        let f = pm.persist(self.base, &(self.seq << 1).to_le_bytes())?;
        pm.fence(f);
        self.active = false;
        self.next = 0;
        Ok(())
    }

    /// Roll the running transaction back (error path).
    pub fn abort<M: Medium>(&mut self, pm: &mut Pm<M>, geo: &Geometry) -> Result<()> {
        self.undo(pm, geo)
    }

    /// Validate entry `i` of the running transaction; `None` ends the log.
    fn entry<M: Medium>(
        &self,
        pm: &Pm<M>,
        geo: &Geometry,
        i: u32,
    ) -> Result<Option<(u64, [u8; ENTRY_SIZE as usize])>> {
        let mut e = [0u8; ENTRY_SIZE as usize];
        pm.read(self.entry_off(i), &mut e)?;
        let len = u16_at(&e, E_LEN) as usize;
        if u64_at(&e, E_SEQ) != self.seq
            || u32_at(&e, E_CRC) != crc32c_skip(&e, E_CRC)
            || len == 0
            || len > ENTRY_DATA
        {
            return Ok(None);
        }
        let off = u64_at(&e, E_OFF);
        let jend = self.base + JOURNAL_BLOCKS * BLOCK_SIZE;
        let dev_end = Geometry::block_off(geo.total_blocks);
        let inside_journal = off < jend && off + len as u64 > self.base;
        // No transaction changes the static superblock or its backup: an
        // entry aimed there is damage, and replaying it would make the
        // next mount refuse the filesystem.
        let backup = Geometry::block_off(geo.backup_sb_block());
        let on_superblock = off < SB_SIZE as u64 || off.saturating_add(len as u64) > backup;
        if off.checked_add(len as u64).is_none_or(|end| end > dev_end)
            || inside_journal
            || on_superblock
        {
            return Err(Error::Corrupt("journal entry target"));
        }
        Ok(Some((off, e)))
    }

    fn undo<M: Medium>(&mut self, pm: &mut Pm<M>, geo: &Geometry) -> Result<()> {
        let mut n = 0;
        while n < CAPACITY && self.entry(pm, geo, n)?.is_some() {
            n += 1;
        }
        // Whatever was staged or flushed for the aborted transaction no
        // longer matters: the restores below are fenced before the header
        // is cleared.
        pm.discard_stage();
        let _ = self.pending.take();
        let mut flushed = Flushed::none();
        for i in (0..n).rev() {
            if let Some((off, e)) = self.entry(pm, geo, i)? {
                let len = u16_at(&e, E_LEN) as usize;
                flushed = flushed.join(pm.persist(off, &e[E_DATA..E_DATA + len])?);
            }
        }
        let durable = pm.fence(flushed);
        self.close(pm, durable)
    }

    /// mkfs: write an idle journal.
    pub fn format<M: Medium>(pm: &mut Pm<M>, geo: &Geometry) -> Result<Flushed> {
        let base = Self::base_of(geo);
        let z = pm.store_zeroes(base, JOURNAL_BLOCKS * BLOCK_SIZE)?;
        let f = pm.flush(z);
        let h = pm.persist(base + HEADER_MAGIC_OFF, &JOURNAL_MAGIC.to_le_bytes())?;
        Ok(f.join(h))
    }
}

impl Journal {
    /// Read-only view for `no_recovery` mounts: fails if a transaction is
    /// still active, since the image is then not consistent.
    pub fn inspect<M: Medium>(pm: &Pm<M>, geo: &Geometry) -> Result<Journal> {
        let base = Self::base_of(geo);
        if pm.read_u64(base + HEADER_MAGIC_OFF)? != JOURNAL_MAGIC {
            return Err(Error::Corrupt("journal header magic"));
        }
        let word = pm.read_u64(base)?;
        if word & 1 != 0 {
            return Err(Error::Corrupt("journal needs recovery"));
        }
        Ok(Journal {
            base,
            seq: word >> 1,
            next: 0,
            active: false,
            pending: None,
        })
    }
}

impl Journal {
    /// Add stores that are not logged (zeroing of newly allocated blocks) to
    /// what the commit fences: they must be durable before the transaction
    /// that makes them reachable is.
    pub fn add_flushed(&mut self, f: Flushed) {
        let pending = self.pending.take().unwrap_or_else(Flushed::none);
        self.pending = Some(pending.join(f));
    }
}

#[cfg(test)]
mod tests {
    //! Transactions larger than the stage: real operations stay far below
    //! it, so the drain-when-full path is exercised here directly.
    extern crate std;
    use super::super::error::Error;
    use super::super::fs::MountOptions;
    use super::super::inode::Time;
    use super::super::layout::{Geometry, BLOCK_SIZE};
    use super::super::mkfs::{format, MkfsParams};
    use super::super::persist::{Pm, STAGE_BYTES, STAGE_RANGES};
    use super::super::{Fs, Result};
    // Host-only tests may name the host crate (see `lib.rs`).
    use crate::mem::MemMedium as Mem;
    use std::vec;
    use std::vec::Vec;

    fn fs() -> (Fs<Mem>, u64) {
        let mut pm = Pm::new(Mem::new(vec![0; 1024 * BLOCK_SIZE as usize]));
        let params = MkfsParams {
            uuid: [7; 16],
            label: [0; 32],
            now: Time { sec: 1, nsec: 0 },
        };
        let sb = format(&mut pm, &params).unwrap();
        let base = Geometry::block_off(sb.geo.data_start + 16);
        let fs = Fs::mount(pm.into_medium(), MountOptions::default())
            .unwrap()
            .0;
        (fs, base)
    }

    /// More ranges than the stage holds, then more bytes than it holds.
    fn big_transaction(fs: &mut Fs<Mem>, base: u64, value: u8) -> Result<()> {
        for i in 0..3 * STAGE_RANGES as u64 {
            fs.tx_write(base + 64 * i, &[value; 8])?;
        }
        let wide = vec![value; 3 * STAGE_BYTES];
        fs.tx_write(base + 64 * 1024, &wide)?;
        // Reads inside the transaction see every change, drained or not.
        let mut b = vec![0u8; 8];
        for i in 0..3 * STAGE_RANGES as u64 {
            fs.pm.read(base + 64 * i, &mut b)?;
            assert_eq!(b, [value; 8]);
        }
        let mut w = vec![0u8; wide.len()];
        fs.pm.read(base + 64 * 1024, &mut w)?;
        assert_eq!(w, wide);
        Ok(())
    }

    fn on_media(fs: &Fs<Mem>, base: u64) -> (Vec<u8>, Vec<u8>) {
        let m = &fs.pm.medium().0;
        let words = (0..3 * STAGE_RANGES)
            .flat_map(|i| m[base as usize + 64 * i..][..8].to_vec())
            .collect();
        let wide = m[base as usize + 64 * 1024..][..3 * STAGE_BYTES].to_vec();
        (words, wide)
    }

    #[test]
    fn a_transaction_larger_than_the_stage_commits_whole() {
        let (mut fs, base) = fs();
        fs.transact(|fs| big_transaction(fs, base, 0x5a)).unwrap();
        let (words, wide) = on_media(&fs, base);
        assert!(words.iter().chain(&wide).all(|&b| b == 0x5a));
        assert_eq!(fs.pm.staged_count(), 0);
    }

    #[test]
    fn a_full_journal_at_commit_rolls_back_and_the_filesystem_goes_on() {
        let (mut fs, base) = fs();
        // 15 drains of 64 ranges while staging, 64 more staged: the drain
        // at commit is the one that finds the journal (1023 entries) full.
        let n = 16 * STAGE_RANGES as u64;
        let r = fs.transact(|fs| {
            for i in 0..n {
                fs.tx_write(base + 64 * i, &[1; 8])?;
            }
            Ok(())
        });
        assert_eq!(r, Err(Error::NoSpace));
        let m = &fs.pm.medium().0;
        assert!((0..n).all(|i| m[(base + 64 * i) as usize] == 0));
        fs.transact(|fs| fs.tx_write(base, &[2; 8])).unwrap();
        assert_eq!(fs.pm.medium().0[base as usize], 2);
    }

    #[test]
    fn a_transaction_larger_than_the_stage_rolls_back_whole() {
        let (mut fs, base) = fs();
        let r = fs.transact(|fs| {
            big_transaction(fs, base, 0xa5)?;
            Err::<(), _>(Error::NoSpace)
        });
        assert_eq!(r, Err(Error::NoSpace));
        let (words, wide) = on_media(&fs, base);
        assert!(words.iter().chain(&wide).all(|&b| b == 0));
        assert_eq!(fs.pm.staged_count(), 0);
    }
}
