// SPDX-License-Identifier: GPL-2.0
//! Changing directories: adding entries (packing, sharing with a
//! neighbour or splitting a full entry block), removing them (freeing
//! emptied blocks, joining nearly empty ones with a neighbour), creating
//! and releasing a directory's blocks, and walking them for fsck.
//!
//! Everything here runs inside the caller's transaction: a split that
//! moves half a block's records and grows the index by a level is as
//! atomic as a one-entry change. Every change to an entry block ends with
//! [`Fs::seal_block`], which rewrites the header with the checksum of the
//! block as the transaction leaves it.
//!
//! A full block (no record with slack for the new one) is, in order of
//! preference: packed in place, if its records leave room once their
//! slack is gathered at the end; evened out with the emptier of its two
//! neighbours under the same index node if that one has an eighth of a
//! block to spare, moving the records at the shared edge and the
//! separator key between them (a B*-tree's overflow: blocks end up about
//! 80% full where splits alone leave them 70%); split in two at its
//! median hash.

use super::crc32c::{update, zero_extend};
use super::dir::{
    encode_record, free_record, rec_off, record_size, DirBlock, DirPos, NameSlot, Rec, RecordBytes,
    CAPACITY, HDR, H_CRC, MAX_RECORDS, R_HEAD,
};
use super::dir_summary::{RecordChange, Summary, SummaryChange};
use super::error::{Error, MediaCount, Result};
use super::extent::{Extent, Node, Path, LBLK_END, MAX_HEIGHT};
use super::inode::Inode;
use super::layout::{le::*, Geometry, BLOCK_SIZE, NAME_MAX};
use super::medium::Medium;
use super::verified::Stamp;
use super::Fs;

/// Reshapes one insert may need: a pack or an evening-out makes room
/// unless the block is nearly all one hash, and splits halve what is left.
const RESHAPES_PER_ADD: usize = 6;

/// Most staged bytes of a block [`Fs::resealed_crc`] diffs: each costs
/// two reads and a checksum step, a quarter of the block about what
/// checksumming all of it once does.
const RESEAL_LIMIT: u64 = BLOCK_SIZE / 4;

/// What one pass over an entry block found for an insert.
struct Room {
    /// A record with slack for the new one, if any.
    host: Option<Rec>,
    /// Lowest collision index no entry of the hash uses, if any is left.
    seq: Option<u8>,
    /// Entries in the block.
    count: u16,
    /// Bytes their records need.
    used: u64,
    /// The block's state it was found in and its summary
    /// (`dir_summary.rs`), if known.
    summary: Option<(Stamp, Summary)>,
}

/// Which records of a block move to another.
#[derive(Debug, Clone, Copy)]
enum Moving {
    /// Those whose hash is below the key (to the left neighbour).
    Below(u32),
    /// Those whose hash is at or above it (to the right, or a new block).
    From(u32),
}

impl Moving {
    fn takes(self, hash: u32) -> bool {
        match self {
            Moving::Below(t) => hash < t,
            Moving::From(t) => hash >= t,
        }
    }
}

/// Where [`Fs::repack`] moves records.
#[derive(Debug, Clone, Copy)]
struct Target {
    /// The block whose records they join, `None` for a new block.
    blk: Option<u64>,
    /// Which of them go.
    moving: Moving,
}

/// The blocks that hold a block's records after [`Fs::repack`]: those of
/// the target (with the records moved to it), those `src` kept.
#[derive(Debug, Clone, Copy)]
struct Repacked {
    target: Option<u64>,
    kept: Option<u64>,
}

/// A block being refilled front to back: records land at `end`.
struct Packer {
    blk: u64,
    end: u64,
    last: Option<u64>,
    count: u16,
    /// Allocated by the transaction: filled unlogged (`Fs::store_fresh`).
    fresh: bool,
}

impl Packer {
    fn new(blk: u64, fresh: bool) -> Packer {
        Packer {
            blk,
            end: HDR,
            last: None,
            count: 0,
            fresh,
        }
    }
}

impl<M: Medium> Fs<M> {
    /// Rewrite the header of entry block `blk` of `dir_ino` with `count`
    /// entries and the checksum of the block as it now is. The block was
    /// checked before the transaction changed it, or is fresh: `Some(end)`
    /// when the transaction allocated it (zeroed) and wrote nothing past
    /// `end`.
    pub(super) fn seal_block(
        &mut self,
        blk: u64,
        dir_ino: u64,
        count: u16,
        fresh: Option<u64>,
    ) -> Result<()> {
        let mut h = super::dir::block_header(dir_ino, count);
        let crc = match fresh {
            Some(end) => self.block_crc_to(blk, &h, end)?,
            None => match self.resealed_crc(blk, &h)? {
                Some(crc) => crc,
                None => self.block_crc(blk, &h)?,
            },
        };
        put_u32(&mut h, H_CRC, crc);
        self.block_write(fresh.is_some(), Geometry::block_off(blk), &h)?;
        self.pm.verified().insert(blk);
        Ok(())
    }

    /// Write `data` at `off` of an entry block: logged, or unlogged for a
    /// block the transaction allocated (`fresh`: its undo entries would
    /// restore bytes nobody reads once the block is free again).
    fn block_write(&mut self, fresh: bool, off: u64, data: &[u8]) -> Result<()> {
        match fresh {
            true => self.store_fresh(off, data),
            false => self.tx_write(off, data),
        }
    }

    /// The checksum of entry block `blk` under header `h` (checksum field
    /// zero) as the transaction leaves it, from the checksum it has in
    /// place and the difference the stage makes (`stage_delta.rs`): a
    /// create checksums the ~30 bytes it changed, not 4 KiB. `None` when
    /// the stage covers too much of the block for that to pay, when the
    /// block is free in place (the transaction allocated it: what it holds
    /// there is no entry block), or when the transaction drained (part of
    /// it is then in place, under a header whose checksum does not cover
    /// it).
    ///
    /// Damage is carried, never hidden: the result differs from the
    /// block's true checksum exactly as the in-place one did, so a block
    /// damaged in place still fails its next check.
    fn resealed_crc(&self, blk: u64, h: &[u8; HDR as usize]) -> Result<Option<u32>> {
        if self.journal.drained() || !self.used_in_place(blk)? {
            return Ok(None);
        }
        let at = Geometry::block_off(blk);
        let records = self
            .pm
            .staged_difference_crc(at + HDR, CAPACITY, RESEAL_LIMIT)?;
        let Some(records) = records else {
            return Ok(None);
        };
        let mut head = [0u8; HDR as usize];
        self.pm.read_in_place(at, &mut head)?;
        let stored = u32_at(&head, H_CRC);
        put_u32(&mut head, H_CRC, 0);
        for (old, new) in head.iter_mut().zip(h) {
            *old ^= new;
        }
        Ok(Some(
            stored ^ zero_extend(update(0, &head), CAPACITY) ^ records,
        ))
    }

    /// Create the one entry block of a new, empty directory `dir_ino`;
    /// returns it.
    pub(super) fn dir_init(&mut self, dir_ino: u64) -> Result<u64> {
        let (blk, _) = self.alloc_blocks(1, false)?;
        self.block_write(true, rec_off(blk, HDR), &free_record(CAPACITY))?;
        self.seal_block(blk, dir_ino, 0, Some(HDR + R_HEAD as u64))?;
        Ok(blk)
    }

    /// Where in `blk` `name` (of `hash`) would go; `Exists` if it is
    /// there. One walk (or the block's summary) for both: a create does
    /// not look the name up first.
    fn room(&self, blk: u64, dir_ino: u64, name: &[u8], hash: u32) -> Result<Room> {
        let p = self.probe_block(blk, dir_ino, name, hash)?;
        if p.found.is_some() {
            return Err(Error::Exists);
        }
        Ok(Room {
            host: p.host,
            seq: p.seq(),
            count: p.count,
            used: p.used,
            summary: p.stamp.zip(p.summary),
        })
    }

    /// Where `slot`, found for a name of `hash` taking `want` bytes, puts
    /// it, if it still holds: its block is as the lookup that found it
    /// read it, and its host record has room for the name (it must, then;
    /// a check costs one record's head). The block still holds the hash
    /// then, so the index is not searched: only a split or an evening out
    /// narrows a block's range, and both change the block; a block whose
    /// range another takes over is freed, which voids its stamp
    /// ([`Fs::free_entry_block`]).
    fn room_in_slot(
        &self,
        slot: Option<NameSlot>,
        hash: u32,
        want: u64,
    ) -> Result<Option<(u64, Room)>> {
        let Some(slot) = slot else {
            return Ok(None);
        };
        if slot.hash_top != (hash >> 24) as u8 || !self.pm.verified().still(slot.stamp) {
            return Ok(None);
        }
        let blk = slot.stamp.blk();
        let host = self.read_rec(blk, slot.host)?;
        let summary = self.pm.summaries().and_then(|t| t.get(slot.stamp));
        let summary = summary.map(|s| (slot.stamp, s));
        let room = Room {
            host: Some(host),
            seq: Some(slot.seq),
            count: slot.count,
            used: 0,
            summary,
        };
        Ok((host.slack() >= want).then_some((blk, room)))
    }

    /// Add `name -> ino` to directory `dir_ino`, or fail with `Exists`
    /// (changing nothing) if the name is there. Updates `dir` (size,
    /// blocks, entries, root); the caller writes it. Records move when a
    /// block is full: returns whether they did, in which case a
    /// [`DirPos`] found before this call is stale. `slot`: where a lookup
    /// of `name` that did not find it said it goes (used if it still
    /// holds, which vouches that the name is not there).
    pub(super) fn dir_add(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        name: &[u8],
        slot: Option<NameSlot>,
        ino: u64,
        dtype: u8,
    ) -> Result<bool> {
        super::dir::check_name(name)?;
        let hash = self.hash_name(name);
        let want = record_size(name.len());
        let entry = (name, hash, ino, dtype);
        if let Some((blk, room)) = self.room_in_slot(slot, hash, want)? {
            self.put_record(dir, dir_ino, blk, room, entry)?;
            return Ok(false);
        }
        for reshapes in 0..=RESHAPES_PER_ADD {
            let b = self.dir_block(dir, dir_ino, u64::from(hash))?;
            let room = self.room(b.blk, dir_ino, name, hash)?;
            if room.host.is_some() {
                self.put_record(dir, dir_ino, b.blk, room, entry)?;
                return Ok(reshapes > 0);
            }
            // No collision index left: no reshaping makes one.
            room.seq.ok_or(Error::NoSpace)?;
            if CAPACITY - room.used >= want {
                let kept = self.repack(dir, dir_ino, b.blk, None, true)?.kept;
                self.repoint(dir, dir_ino, &b, kept)?;
            } else if !self.even_out(dir, dir_ino, &b, &room, want)? {
                self.split_block(dir, dir_ino, &b)?;
            }
        }
        Err(Error::NoSpace)
    }

    /// Store the record of `entry` (name, hash, inode, type) in entry
    /// block `blk` of `dir_ino`, in the slack of `room`'s host, and seal
    /// the block. Updates `dir`'s entry count.
    fn put_record(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        blk: u64,
        room: Room,
        (name, hash, ino, dtype): (&[u8], u32, u64, u8),
    ) -> Result<()> {
        // Every name of one hash lives in one block, and SEQS is all the
        // collision indices a key has room for.
        let seq = room.seq.ok_or(Error::NoSpace)?;
        let host = room.host.ok_or(Error::Corrupt("directory record host"))?;
        let want = record_size(name.len());
        let (at, reclen) = match host.live() {
            true => {
                let size = host.size();
                self.tx_write(rec_off(blk, host.off + 4), &(size as u16).to_le_bytes())?;
                (host.off + size, host.reclen - size)
            }
            false => (host.off, host.reclen),
        };
        let (rec, len) = encode_record(name, hash, ino, dtype, seq, reclen);
        self.tx_write(rec_off(blk, at), &rec[..len])?;
        self.seal_block(blk, dir_ino, room.count + 1, None)?;
        dir.entries = dir.entries.plus(1, "directory entry count")?;
        if let Some((from, mut next)) = room.summary {
            next.add(hash);
            if u64::from(next.host) == host.off {
                // The host kept no slack; the new record has it.
                (next.host, next.slack) = (0, 0);
                next.offer(at, reclen - want);
            }
            let record = RecordChange::Added { off: at, hash };
            self.summary_changed(blk, SummaryChange { from, next, record });
        }
        Ok(())
    }

    /// Copy record `r` of `blk` to the end of `p` (its `reclen` shrunk to
    /// its size; the last one's is extended by [`Fs::finish`]).
    fn pack(&mut self, p: &mut Packer, blk: u64, r: &Rec) -> Result<()> {
        let mut bytes: RecordBytes = [0u8; R_HEAD + NAME_MAX];
        let len = r.size();
        let bytes = &mut bytes[..len as usize];
        self.pm.read(rec_off(blk, r.off), bytes)?;
        put_u16(bytes, 4, len as u16);
        self.block_write(p.fresh, rec_off(p.blk, p.end), bytes)?;
        p.last = Some(p.end);
        p.end += len;
        p.count += 1;
        Ok(())
    }

    /// Give the last record of `p` the rest of the block (or make the
    /// block one free record) and seal it.
    fn finish(&mut self, p: &Packer, dir_ino: u64) -> Result<()> {
        match p.last {
            Some(off) => {
                let reclen = (BLOCK_SIZE - off) as u16;
                self.block_write(p.fresh, rec_off(p.blk, off + 4), &reclen.to_le_bytes())?
            }
            None => self.block_write(p.fresh, rec_off(p.blk, HDR), &free_record(CAPACITY))?,
        }
        let end = p.end.max(HDR + R_HEAD as u64);
        self.seal_block(p.blk, dir_ino, p.count, p.fresh.then_some(end))
    }

    /// Call `f` with each live record of `blk`, in block order. Reads
    /// each head before `f` runs, so `f` may overwrite the bytes before it
    /// (packing in place).
    fn each_record(
        &mut self,
        blk: u64,
        mut f: impl FnMut(&mut Self, &Rec) -> Result<()>,
    ) -> Result<()> {
        let mut off = HDR;
        while off < BLOCK_SIZE {
            let r = self.read_rec(blk, off)?;
            if r.live() {
                f(self, &r)?;
            }
            off += r.reclen;
        }
        Ok(())
    }

    /// A block to pack records into in place of `old` (`None`: for a new
    /// block): a fresh one, filled unlogged, with `old` retired (freed once
    /// the operation is done, [`Fs::free_entry_block`]), so that a reshape
    /// logs the index entries that point at its blocks instead of 4 KiB
    /// rewrites; `old` itself, rewritten in place (logged), when no block
    /// can be had (a full device still takes a create that only needs its
    /// block packed), when the transaction retired all it may, or when
    /// `old` lies in a group outside this view's scope.
    fn packer_for(&mut self, dir: &mut Inode, old: Option<u64>) -> Result<Packer> {
        let in_place = |old: Option<u64>| old.map(|blk| Packer::new(blk, false));
        // Retired blocks are freed in their group, which must be this
        // view's.
        let retirable = |fs: &Self, blk: u64| {
            fs.retired.contains(&0) && fs.in_scope(fs.geo.block_group(blk)).is_ok()
        };
        if old.is_some_and(|blk| !retirable(self, blk)) {
            return in_place(old).ok_or(Error::NoSpace);
        }
        let blk = match self.alloc_blocks(1, false) {
            Ok((blk, _)) => blk,
            Err(Error::NoSpace | Error::Contended) if old.is_some() => {
                return in_place(old).ok_or(Error::NoSpace);
            }
            Err(e) => return Err(e),
        };
        dir.blocks = dir.blocks.plus(1, "directory block count")?;
        if let Some(old) = old {
            self.free_entry_block(dir, old)?;
        }
        Ok(Packer::new(blk, true))
    }

    /// Free the entry blocks the transaction retired.
    pub(super) fn free_retired(&mut self) -> Result<()> {
        for blk in self.retired.into_iter().filter(|&blk| blk != 0) {
            self.free_blocks(u64::from(blk), 1)?;
        }
        Ok(())
    }

    /// Move the records of `src` that `to.moving` takes after those of
    /// `to.blk` (or into a new block), and pack the rest of `src` unless
    /// `keep` is false (a join drops `src`). Each block is packed into a
    /// fresh one where it can be ([`Fs::packer_for`]), so the caller points
    /// the index at the blocks returned. Records are copied in block
    /// order, so a block packed in place is written below what is still to
    /// be read, each write extending the last staged range.
    fn repack(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        src: u64,
        to: Option<Target>,
        keep: bool,
    ) -> Result<Repacked> {
        // Checked before they are retired (which forgets them as verified).
        self.entry_block(src, dir_ino)?;
        if let Some(blk) = to.and_then(|t| t.blk) {
            self.entry_block(blk, dir_ino)?;
        }
        let mut target = None;
        if let Some(t) = to {
            let mut p = self.packer_for(dir, t.blk)?;
            if let Some(blk) = t.blk {
                self.each_record(blk, |fs, r| fs.pack(&mut p, blk, r))?;
            }
            self.each_record(src, |fs, r| match t.moving.takes(r.hash) {
                true => fs.pack(&mut p, src, r),
                false => Ok(()),
            })?;
            self.finish(&p, dir_ino)?;
            target = Some(p.blk);
        }
        if !keep {
            return Ok(Repacked { target, kept: None });
        }
        let mut kept = self.packer_for(dir, Some(src))?;
        self.each_record(src, |fs, r| {
            match to.is_some_and(|t| t.moving.takes(r.hash)) {
                true => Ok(()),
                false => fs.pack(&mut kept, src, r),
            }
        })?;
        self.finish(&kept, dir_ino)?;
        Ok(Repacked {
            target,
            kept: Some(kept.blk),
        })
    }

    /// Point the index entry of `b` (or, for a directory of one block, its
    /// root) at `blk`, the block its records were packed into.
    fn repoint(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        b: &DirBlock,
        blk: Option<u64>,
    ) -> Result<()> {
        let Some(blk) = blk.filter(|&blk| blk != b.blk) else {
            return Ok(());
        };
        match b.path {
            Some(path) => {
                let (node, i) = path.leaf();
                self.point_entry(&node, dir_ino, i, None, blk)
            }
            None => {
                dir.root = blk;
                Ok(())
            }
        }
    }

    /// Point entry `i` of index node `node` of `dir_ino` at `blk`, under
    /// separator `key` (the one it has when `None`).
    fn point_entry(
        &mut self,
        node: &Node,
        dir_ino: u64,
        i: u16,
        key: Option<u64>,
        blk: u64,
    ) -> Result<()> {
        let key = match key {
            Some(key) => key,
            None => self.index_entry(node, dir_ino, i)?.0,
        };
        self.write_node_entry(node.blk, dir_ino, i, &Extent::index(key, blk))
    }

    /// The hashes of the entries of `blk`, sorted, in `out`; returns how
    /// many.
    fn sorted_hashes(&self, blk: u64, dir_ino: u64, out: &mut [u32; MAX_RECORDS]) -> Result<usize> {
        let mut n = 0;
        self.scan_block(blk, dir_ino, |r| {
            if n == MAX_RECORDS {
                return Err(Error::Corrupt("directory block entry count"));
            }
            // Kept sorted as it fills (only reshapes call this, and a
            // block holds a few hundred records): slice::sort_unstable's
            // panic_on_ord_violation is a noreturn call objtool of 7.3
            // does not know, "falls through to next function".
            let hash = r.hash;
            let at = out[..n].partition_point(|&h| h < hash);
            out.copy_within(at..n, at + 1);
            out[at] = hash;
            n += 1;
            Ok(None::<()>)
        })?;
        Ok(n)
    }

    /// Bytes the records of `blk` that `moving` takes need.
    fn bytes_taken(&self, blk: u64, dir_ino: u64, moving: Moving) -> Result<u64> {
        let mut bytes = 0;
        self.scan_block(blk, dir_ino, |r| {
            if moving.takes(r.hash) {
                bytes += r.size();
            }
            Ok(None::<()>)
        })?;
        Ok(bytes)
    }

    /// Bytes the entries of `blk` need.
    fn bytes_used(&self, blk: u64, dir_ino: u64) -> Result<u64> {
        let mut bytes = 0;
        self.scan_block(blk, dir_ino, |r| {
            bytes += r.size();
            Ok(None::<()>)
        })?;
        Ok(bytes)
    }

    /// The emptier of the entry blocks beside entry `i` of index node
    /// `node`: its index there, the block and the bytes its entries need.
    fn emptier_neighbour(
        &self,
        node: &Node,
        dir_ino: u64,
        i: u16,
    ) -> Result<Option<(u16, u64, u64)>> {
        let mut best: Option<(u16, u64, u64)> = None;
        for j in [i.wrapping_sub(1), i + 1] {
            if j >= node.count {
                continue;
            }
            let (_, blk) = self.index_entry(node, dir_ino, j)?;
            let used = self.bytes_used(blk, dir_ino)?;
            if best.is_none_or(|(_, _, u)| used < u) {
                best = Some((j, blk, used));
            }
        }
        Ok(best)
    }

    /// Even out full block `b` with the emptier of its neighbours under
    /// the same index node, if that leaves room for a `want`-byte record
    /// in both (wherever its hash falls). Returns whether it did.
    fn even_out(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        b: &DirBlock,
        room: &Room,
        want: u64,
    ) -> Result<bool> {
        let Some(path) = b.path else {
            return Ok(false);
        };
        let (node, i) = path.leaf();
        let Some((j, sib, sib_used)) = self.emptier_neighbour(&node, dir_ino, i)? else {
            return Ok(false);
        };
        // Not for a few bytes: evening out rewrites both blocks, so a
        // neighbour nearly as full as this one is left to the split.
        if sib_used + CAPACITY / 8 + 2 * want > CAPACITY {
            return Ok(false);
        }
        // Move about half the difference, counted in records of the
        // block's average size, at a hash boundary.
        let mut hashes = [0u32; MAX_RECORDS];
        let n = self.sorted_hashes(b.blk, dir_ino, &mut hashes)?;
        let h = &hashes[..n];
        let m = ((room.used - sib_used.min(room.used)) / 2 * n as u64 / room.used.max(1)) as usize;
        if m == 0 || m >= n {
            return Ok(false);
        }
        let moving = match j < i {
            // the lowest m (at most) go left: below the first hash kept
            true => Moving::Below(h[m]),
            false => Moving::From(h[n - m]),
        };
        let moved = self.bytes_taken(b.blk, dir_ino, moving)?;
        let fits = moved > 0 && moved < room.used;
        if !fits || sib_used + moved + want > CAPACITY || room.used - moved + want > CAPACITY {
            return Ok(false);
        }
        let to = Target {
            blk: Some(sib),
            moving,
        };
        let r = self.repack(dir, dir_ino, b.blk, Some(to), true)?;
        let (target, kept) = (r.target.unwrap_or(sib), r.kept.unwrap_or(b.blk));
        // The separator between the two moves to the new boundary.
        let (kept_key, target_key) = match moving {
            Moving::Below(t) => (Some(u64::from(t)), None),
            Moving::From(t) => (None, Some(u64::from(t))),
        };
        if kept != b.blk || kept_key.is_some() {
            self.point_entry(&node, dir_ino, i, kept_key, kept)?;
        }
        if target != sib || target_key.is_some() {
            self.point_entry(&node, dir_ino, j, target_key, target)?;
        }
        Ok(true)
    }

    /// Split full entry block `b`: the entries whose hash is at or above
    /// the median move to a new block, which the index gets with that
    /// hash as its separator. A block of one hash cannot split (ENOSPC).
    fn split_block(&mut self, dir: &mut Inode, dir_ino: u64, b: &DirBlock) -> Result<()> {
        let mut hashes = [0u32; MAX_RECORDS];
        let n = self.sorted_hashes(b.blk, dir_ino, &mut hashes)?;
        let h = &hashes[..n];
        let lowest = *h.first().ok_or(Error::NoSpace)?;
        let split = match h[n / 2] > lowest {
            true => h[n / 2],
            false => *h.iter().find(|&&x| x > lowest).ok_or(Error::NoSpace)?,
        };
        if u64::from(split) <= b.lo || u64::from(split) >= b.hi {
            return Err(Error::Corrupt("directory entry outside its block's range"));
        }
        let to = Target {
            blk: None,
            moving: Moving::From(split),
        };
        let r = self.repack(dir, dir_ino, b.blk, Some(to), true)?;
        let new = r.target.ok_or(Error::Corrupt("directory split"))?;
        let kept = r.kept.unwrap_or(b.blk);
        match b.path {
            Some(_) => {
                self.repoint(dir, dir_ino, b, Some(kept))?;
                self.index_insert(dir, dir_ino, u64::from(split), new)?
            }
            None => {
                let (root, _) = self.alloc_blocks(1, false)?;
                dir.blocks = dir.blocks.plus(1, "directory block count")?;
                self.write_node_entry(root, dir_ino, 0, &Extent::index(0, kept))?;
                self.write_node_entry(root, dir_ino, 1, &Extent::index(u64::from(split), new))?;
                self.write_node_header(root, dir_ino, 2, 1)?;
                dir.root = root;
            }
        }
        dir.size = dir.blocks * BLOCK_SIZE;
        Ok(())
    }

    /// Point the entry at `pos` of directory `dir_ino` at another inode
    /// (rename over, exchange).
    pub(super) fn dir_retarget(
        &mut self,
        dir_ino: u64,
        pos: DirPos,
        ino: u64,
        dtype: u8,
    ) -> Result<()> {
        let count = self.entry_block(pos.blk, dir_ino)?;
        let r = self.read_rec(pos.blk, pos.off)?;
        if !r.live() {
            return Err(Error::Corrupt("directory record length"));
        }
        let mut head = [0u8; 8];
        put_u32(&mut head, 0, ino as u32);
        put_u16(&mut head, 4, r.reclen as u16);
        head[6] = r.name_len as u8;
        head[7] = dtype & 0xf | r.seq << 4;
        self.tx_write(rec_off(pos.blk, pos.off), &head)?;
        self.seal_block(pos.blk, dir_ino, count, None)
    }

    /// Remove the entry at `pos` of directory `dir_ino`, freeing its block
    /// if that leaves it empty and it is not the directory's only one.
    /// Updates `dir`; the caller writes it.
    pub(super) fn dir_remove(&mut self, dir: &mut Inode, dir_ino: u64, pos: DirPos) -> Result<()> {
        let count = self.entry_block(pos.blk, dir_ino)?;
        let from = self.pm.verified().stamp(pos.blk);
        let r = self.read_rec(pos.blk, pos.off)?;
        if !r.live() {
            return Err(Error::Corrupt("directory record length"));
        }
        let hash = r.hash;
        // The record before it takes its bytes; the first becomes free.
        // `pos.prev` is where that record was found; an add since (a
        // rename's, into its slack) can have put one in between, so it
        // is checked and the block walked if it no longer holds.
        let follows = |p: &Rec| p.off + p.reclen == pos.off;
        let prev = match pos.off {
            HDR => None,
            _ => match self.read_rec(pos.blk, pos.prev)? {
                p if follows(&p) => Some(p),
                _ => self.walk_block(pos.blk, |p| Ok(follows(p).then_some(*p)))?,
            },
        };
        // The record that takes the bytes, and the slack it then has.
        let taker = match prev {
            Some(p) => {
                let reclen = (p.reclen + r.reclen) as u16;
                self.tx_write(rec_off(pos.blk, p.off + 4), &reclen.to_le_bytes())?;
                (p.off, p.slack() + r.reclen)
            }
            None if pos.off == HDR => {
                self.tx_write(rec_off(pos.blk, HDR), &free_record(r.reclen))?;
                (HDR, r.reclen)
            }
            None => return Err(Error::Corrupt("directory record length")),
        };
        dir.entries = dir.entries.minus(1, "directory entry count")?;
        let count = count
            .checked_sub(1)
            .ok_or(Error::Corrupt("directory block entry count"))?;
        self.seal_block(pos.blk, dir_ino, count, None)?;
        let summary = from.and_then(|t| Some((t, self.summary_at(t)?)));
        if let Some((from, mut next)) = summary {
            next.count = count;
            if u64::from(next.host) == pos.off {
                (next.host, next.slack) = (0, 0);
            }
            next.offer(taker.0, taker.1);
            let record = RecordChange::Removed { off: pos.off };
            self.summary_changed(pos.blk, SummaryChange { from, next, record });
        }
        // No entry is smaller than a one-byte name's record: a block of
        // many entries is not worth a join, nor the index search for one.
        let few = u64::from(count) * record_size(1) <= CAPACITY / 4;
        if !few || self.dir_is_one_block(dir)? {
            return Ok(());
        }
        let b = self.dir_block(dir, dir_ino, u64::from(hash))?;
        let Some(path) = b.path.filter(|_| b.blk == pos.blk) else {
            return Err(Error::Corrupt("directory entry outside its block's range"));
        };
        match count {
            0 => self.drop_block(dir, dir_ino, &path, pos.blk),
            _ => self.join_neighbour(dir, dir_ino, &path, pos.blk),
        }
    }

    /// Take entry block `blk`, which `path` leads to, out of the index of
    /// `dir_ino` and free it; its range goes to the block before it (or,
    /// for the first under its index node, after it). Updates `dir`.
    fn drop_block(&mut self, dir: &mut Inode, dir_ino: u64, path: &Path, blk: u64) -> Result<()> {
        self.remove_entry(dir, dir_ino, path, path.leaf_depth())?;
        self.free_entry_block(dir, blk)?;
        dir.size = dir.blocks * BLOCK_SIZE;
        Ok(())
    }

    /// Free entry block `blk` of `dir` (counted in `dir.blocks`), once the
    /// operation is done while the transaction can retire blocks (a later
    /// reshape of the operation may allocate). It leaves the table of
    /// verified blocks now: a create trusts a slot's block to hold the
    /// name's hash while the block is as its lookup read it, so no stamp of
    /// a block may outlive its place in the index, whatever the change
    /// that freed it last stored to it.
    fn free_entry_block(&mut self, dir: &mut Inode, blk: u64) -> Result<()> {
        self.pm
            .verified()
            .forget(Geometry::block_off(blk), BLOCK_SIZE);
        match self.retired.iter_mut().find(|r| **r == 0) {
            Some(slot) => *slot = u32::try_from(blk).map_err(|_| Error::Corrupt("block number"))?,
            None => self.free_blocks(blk, 1)?,
        }
        dir.blocks = dir.blocks.minus(1, "directory block count")?;
        Ok(())
    }

    /// A removal left entry block `blk` (`path` leading to it) with few
    /// entries: if it is at most a quarter full, and it and the emptier of
    /// its neighbours under the same index node need at most half a block
    /// together, the right one's records join the left one's (both copied
    /// to a new block, where one can be had) and the right one is dropped,
    /// its range joining the left one's. Keys do not
    /// change, so readdir cookies stay valid; the half-block bound keeps a
    /// joined block far from the next split. Updates `dir`.
    fn join_neighbour(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        path: &Path,
        blk: u64,
    ) -> Result<()> {
        let used = self.bytes_used(blk, dir_ino)?;
        if used > CAPACITY / 4 {
            return Ok(());
        }
        let (node, i) = path.leaf();
        let Some((j, sib, sib_used)) = self.emptier_neighbour(&node, dir_ino, i)? else {
            return Ok(());
        };
        if used + sib_used > CAPACITY / 2 {
            return Ok(());
        }
        let (left, right, right_path) = match j < i {
            true => (sib, blk, *path),
            false => {
                let (key, _) = self.index_entry(&node, dir_ino, j)?;
                let b = self.dir_block(dir, dir_ino, key)?;
                let p = b.path.filter(|_| b.blk == sib);
                (blk, sib, p.ok_or(Error::Corrupt("directory index key"))?)
            }
        };
        let to = Target {
            blk: Some(left),
            // every hash is at or above 0: all of them
            moving: Moving::From(0),
        };
        let joined = self.repack(dir, dir_ino, right, Some(to), false)?.target;
        if let Some(joined) = joined.filter(|&b| b != left) {
            let at = if j < i { j } else { i };
            self.point_entry(&node, dir_ino, at, None, joined)?;
        }
        self.drop_block(dir, dir_ino, &right_path, right)
    }

    /// Free up to `budget` blocks of a dead (so empty) directory, entry
    /// blocks from the lowest hash up, the index shrinking as they go.
    /// Returns whether it is all gone. `dir` is updated, not written.
    pub(super) fn dir_release(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        budget: u32,
    ) -> Result<bool> {
        for _ in 0..budget {
            if dir.root == 0 {
                return Ok(true);
            }
            let blk = match self.dir_is_one_block(dir)? {
                true => {
                    let blk = dir.root;
                    dir.root = 0;
                    blk
                }
                false => {
                    let b = self.dir_block(dir, dir_ino, 0)?;
                    let path = b.path.ok_or(Error::Corrupt("directory root"))?;
                    self.remove_entry(dir, dir_ino, &path, path.leaf_depth())?;
                    b.blk
                }
            };
            self.free_entry_block(dir, blk)?;
        }
        Ok(dir.root == 0)
    }

    /// Call `f` with every block of directory `dir_ino` (index nodes, each
    /// once, root first, then each entry block in hash order), checking
    /// index keys, that every entry lies in its block's range with a key
    /// of its own, that a block counts its entries and that no block but
    /// an only one is empty. For fsck.
    pub fn dir_blocks(&self, dir: &Inode, dir_ino: u64, mut f: impl FnMut(u64)) -> Result<()> {
        if self.dir_is_one_block(dir)? {
            self.check_entry_block(dir.root, dir_ino, 0, LBLK_END, true)?;
            f(dir.root);
            return Ok(());
        }
        let mut seen = [0u64; MAX_HEIGHT];
        let mut hash = 0;
        loop {
            let b = self.dir_block(dir, dir_ino, hash)?;
            let path = b.path.ok_or(Error::Corrupt("directory root"))?;
            for d in 0..path.height {
                let n = path.node[d];
                if seen[d] != n.blk {
                    seen[d] = n.blk;
                    seen[d + 1..].fill(0);
                    self.check_index_keys(&n, dir_ino, &path, d)?;
                    f(n.blk);
                }
            }
            self.check_entry_block(b.blk, dir_ino, b.lo, b.hi, false)?;
            f(b.blk);
            if b.hi == LBLK_END {
                return Ok(());
            }
            hash = b.hi;
        }
    }

    /// The checks of [`Fs::dir_blocks`] on one entry block. A record's
    /// stored hash byte is not checked here: an entry it misdirects is
    /// one that lookup does not find, which fsck checks entry by entry
    /// (and removes alone).
    fn check_entry_block(
        &self,
        blk: u64,
        dir_ino: u64,
        lo: u64,
        hi: u64,
        may_be_empty: bool,
    ) -> Result<()> {
        let count = self.entry_block(blk, dir_ino)?;
        let mut hashes = [0u32; MAX_RECORDS];
        let n = self.sorted_hashes(blk, dir_ino, &mut hashes)?;
        let h = &hashes[..n];
        if h.first().is_some_and(|&x| u64::from(x) < lo)
            || h.last().is_some_and(|&x| u64::from(x) >= hi)
        {
            return Err(Error::Corrupt("directory entry outside its block's range"));
        }
        if n != usize::from(count) || (n == 0 && !may_be_empty) {
            return Err(Error::Corrupt("directory block entry count"));
        }
        // Names of one hash (rare) must have distinct collision indices.
        for (i, w) in h.windows(2).enumerate() {
            if w[0] != w[1] || (i > 0 && h[i - 1] == w[0]) {
                continue;
            }
            let (mut seqs, mut names) = (0u16, 0);
            self.scan_block(blk, dir_ino, |r| {
                if r.hash == w[0] {
                    seqs |= 1 << r.seq;
                    names += 1;
                }
                Ok(None::<()>)
            })?;
            if seqs.count_ones() != names {
                return Err(Error::Corrupt("directory entry collision index"));
            }
        }
        Ok(())
    }
}
