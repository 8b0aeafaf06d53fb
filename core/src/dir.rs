// SPDX-License-Identifier: GPL-2.0
//! Directories: entry blocks of packed records under a B+tree index keyed
//! by name hash.
//!
//! An entry block is a 16-byte header (magic, owner, a CRC-32C of the
//! whole block, the number of entries) and records that tile the rest of
//! the block, as ext2's do: each record says how far the next one is
//! (`reclen`), so a record's slack (its `reclen` beyond its own 9-byte
//! head and name) is where the next insert can go, and a removal gives
//! its bytes to the record before it. Only the first record may be free
//! (inode 0). A 5-byte name takes 14 bytes: 290 such names fit a block.
//!
//! An entry's *key* is its name's hash (SipHash-2-4 keyed by the
//! filesystem's seed, 32 bits) and a 4-bit collision index that tells
//! names of one hash apart: `hash << 4 | seq`. Records store the index and
//! only the hash's top byte (a filter for lookups); the key is computed
//! from the name. The key is the readdir cookie and is fixed for the
//! entry's life, whichever block holds it, so cookies stay valid across
//! inserts, removals and records moving between blocks: readdir walks keys
//! in order and resumes after the last one it returned.
//!
//! A directory whose entries fit one block is that block (the inode's
//! `root` points at it): an empty directory costs one block. A bigger one
//! has an index above its entry blocks: the nodes of `extent.rs` (16-byte
//! checked entries, separator keys), whose lowest level points at entry
//! blocks instead of extent leaves. Entry block `i` of an index node holds
//! the names whose hash lies in `[key_i, key_i+1)`, so every name of one
//! hash lives in one block, and lookup and insert read `height` index
//! nodes and one entry block: O(log n). How blocks fill, split and empty
//! is `dir_change.rs`.

use super::crc32c::{update, zero_extend};
use super::dir_summary::Summary;
use super::error::{Error, Result};
use super::extent::{Path, EXT_MAGIC, LBLK_END};
use super::inode::Inode;
use super::layout::{le::*, Geometry, BLOCK_SIZE, NAME_MAX};
use super::medium::{Medium, MediumRead};
use super::siphash::siphash;
use super::verified::Stamp;
use super::Fs;

pub(super) const BLK_MAGIC: u32 = u32::from_le_bytes(*b"FDNT");
const H_OWNER: usize = 4;
pub(super) const H_CRC: usize = 8;
const H_COUNT: usize = 12;
/// Bytes of an entry block's header; records tile the rest.
pub(super) const HDR: u64 = 16;
/// Bytes records can use.
pub(super) const CAPACITY: u64 = BLOCK_SIZE - HDR;
const R_INO: usize = 0;
const R_RECLEN: usize = 4;
const R_NAMELEN: usize = 6;
const R_TYPE_SEQ: usize = 7;
const R_HASH: usize = 8;
/// Bytes of a record before its name.
pub(super) const R_HEAD: usize = 12;
/// Most records a block holds (names of one byte).
pub(super) const MAX_RECORDS: usize = CAPACITY as usize / (R_HEAD + 1);
/// Collision indices: how many names of one hash a directory holds.
pub(super) const SEQS: u8 = 16;
/// First readdir position of a real entry (0 and 1 are "." and "..").
pub const FIRST_POS: u64 = 2;
/// One past the last key (a 32-bit hash and a 4-bit collision index).
const KEY_END: u64 = LBLK_END << 4;
/// Entries readdir takes from one scan of a block.
const LIST_BATCH: usize = 64;
/// Bytes of an entry block a walk or a checksum reads at a time (on the
/// stack, so a kernel stack can afford it).
const WALK_WINDOW: usize = 512;

/// A record's head and name, as written.
pub(super) type RecordBytes = [u8; R_HEAD + NAME_MAX];

/// Where an entry lives (valid until the next change to its directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirPos {
    /// Entry block.
    pub blk: u64,
    /// Byte offset of its record in the block.
    pub off: u64,
    /// Byte offset of the record before it when it was found (which takes
    /// its bytes when it is removed; an add into that record's slack puts
    /// another in between); unused for the block's first record.
    pub prev: u64,
}

/// What one walk of an entry block (or its summary) found about a name.
pub(super) struct Probe {
    /// Its entry (the walk stopped there: the rest is partial).
    pub found: Option<DirEntry>,
    /// The block's verified state the walk read, if the table holds it.
    pub stamp: Option<Stamp>,
    /// The block's summary in that state (from the walk, or kept).
    pub summary: Option<Summary>,
    /// A record with slack for the name's record (when walked, the
    /// first), if any.
    pub host: Option<Rec>,
    /// The collision indices the names of its hash use.
    pub seqs: u16,
    /// Entries in the block.
    pub count: u16,
    /// Bytes their records need.
    pub used: u64,
}

impl Probe {
    /// The lowest collision index no name of the hash uses, if any is left.
    pub(super) fn seq(&self) -> Option<u8> {
        (0..SEQS).find(|&s| self.seqs & (1 << s) == 0)
    }
}

/// Where a lookup found that a name it did not find would go: the record
/// whose slack takes it, its collision index and the block's entry count.
/// Good while the entry block is byte for byte what the lookup read (its
/// [`Stamp`]), so that the create that follows (the VFS looks a name up
/// before it creates it) need not walk the block again; a create given
/// one that no longer holds walks as without one. A slot is only for the
/// name it was found for: the top byte of the name's hash catches most
/// mix-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameSlot {
    /// The entry block, in the state the lookup read.
    pub(super) stamp: Stamp,
    /// Offset of the record whose slack takes the name.
    pub(super) host: u64,
    /// The name's collision index.
    pub(super) seq: u8,
    /// Entries in the block.
    pub(super) count: u16,
    /// The top byte of the name's hash.
    pub(super) hash_top: u8,
}

impl NameSlot {
    /// The slot as two words, the first never zero (for a caller that
    /// keeps it outside the core); [`NameSlot::from_words`] takes them
    /// back.
    pub fn to_words(self) -> [u64; 2] {
        let (value, blk) = self.stamp.to_words();
        let place = blk | self.host << 31 | u64::from(self.seq) << 43;
        let count = u64::from(self.count) << 47 | u64::from(self.hash_top) << 56;
        [value, place | count]
    }

    /// A slot from [`NameSlot::to_words`]'s words, `None` if they are not
    /// one.
    pub fn from_words(w: [u64; 2]) -> Option<NameSlot> {
        let slot = NameSlot {
            stamp: Stamp::from_words(w[0], w[1] & ((1 << 31) - 1))?,
            host: w[1] >> 31 & 0xfff,
            seq: (w[1] >> 43 & 0xf) as u8,
            count: (w[1] >> 47 & 0x1ff) as u16,
            hash_top: (w[1] >> 56) as u8,
        };
        (slot.to_words() == w).then_some(slot)
    }
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The name's entry.
    Found(DirEntry),
    /// No such name; where it would go, if that is known.
    Absent(Option<NameSlot>),
}

/// A directory entry found by lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u64,
    /// Directory-entry type (DT_*).
    pub dtype: u8,
    /// Where it lives.
    pub pos: DirPos,
}

/// A record's head, read and bounds-checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rec {
    /// Byte offset in its block.
    pub off: u64,
    /// Inode number; 0 for the free first record.
    pub ino: u64,
    /// Bytes to the next record.
    pub reclen: u64,
    /// Name length (0 for the free record).
    pub name_len: usize,
    /// Directory-entry type (DT_*).
    pub dtype: u8,
    /// Collision index.
    pub seq: u8,
    /// The name's hash (kept, so that lookups, inserts, reshapes and
    /// readdir never hash the names they pass over).
    pub hash: u32,
}

impl Rec {
    /// Whether it holds an entry.
    pub(super) fn live(&self) -> bool {
        self.ino != 0
    }

    /// Bytes the record needs (0 for the free record).
    pub(super) fn size(&self) -> u64 {
        match self.live() {
            true => record_size(self.name_len),
            false => 0,
        }
    }

    /// Bytes a new record could take at its end.
    pub(super) fn slack(&self) -> u64 {
        self.reclen - self.size()
    }
}

/// The entry block that holds a range of hashes, and how it was reached.
#[derive(Debug, Clone, Copy)]
pub(super) struct DirBlock {
    /// The entry block.
    pub blk: u64,
    /// First hash of its range.
    pub lo: u64,
    /// One past its last hash.
    pub hi: u64,
    /// The index path to it; `None` when it is the directory's only block.
    pub path: Option<Path>,
}

/// Hash of `name` under the filesystem's `seed`.
pub fn name_hash(seed: &[u8; 16], name: &[u8]) -> u32 {
    let h = siphash(seed, name);
    (h ^ h >> 32) as u32
}

/// The readdir key of a name of `hash` with collision index `seq`.
pub(super) fn key_of(hash: u32, seq: u8) -> u64 {
    u64::from(hash) << 4 | u64::from(seq)
}

/// Whether `name` may be a directory entry's name (`NameTooLong` or
/// `Invalid` if not).
pub fn check_name(name: &[u8]) -> Result<()> {
    if name.len() > NAME_MAX {
        return Err(Error::NameTooLong);
    }
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0)
    {
        return Err(Error::Invalid);
    }
    Ok(())
}

/// Bytes the record of a name of `name_len` bytes takes.
pub(super) fn record_size(name_len: usize) -> u64 {
    (R_HEAD + name_len) as u64
}

pub(super) fn rec_off(blk: u64, off: u64) -> u64 {
    Geometry::block_off(blk) + off
}

/// The record of entry `name -> ino`, `reclen` bytes to the next one;
/// returns it and its length.
pub(super) fn encode_record(
    name: &[u8],
    hash: u32,
    ino: u64,
    dtype: u8,
    seq: u8,
    reclen: u64,
) -> (RecordBytes, usize) {
    let mut r = [0u8; R_HEAD + NAME_MAX];
    put_u32(&mut r, R_INO, ino as u32);
    put_u16(&mut r, R_RECLEN, reclen as u16);
    r[R_NAMELEN] = name.len() as u8;
    r[R_TYPE_SEQ] = dtype & 0xf | seq << 4;
    put_u32(&mut r, R_HASH, hash);
    r[R_HEAD..R_HEAD + name.len()].copy_from_slice(name);
    (r, R_HEAD + name.len())
}

/// The head of a free record of `reclen` bytes (only a block's first).
pub(super) fn free_record(reclen: u64) -> [u8; R_HEAD] {
    let mut r = [0u8; R_HEAD];
    put_u16(&mut r, R_RECLEN, reclen as u16);
    r
}

/// An entry block header; its checksum is filled in by the caller.
pub(super) fn block_header(dir_ino: u64, count: u16) -> [u8; HDR as usize] {
    let mut h = [0u8; HDR as usize];
    put_u32(&mut h, 0, BLK_MAGIC);
    put_u32(&mut h, H_OWNER, dir_ino as u32);
    put_u16(&mut h, H_COUNT, count);
    h
}

fn crc_header(h: &[u8; HDR as usize]) -> u32 {
    let crc = update(!0, &h[..H_CRC]);
    let crc = update(crc, &[0; 4]);
    update(crc, &h[H_CRC + 4..])
}

/// The entry block of an empty directory `dir_ino` (mkfs writes the
/// root's).
pub fn empty_block(dir_ino: u64) -> [u8; BLOCK_SIZE as usize] {
    let mut b = [0u8; BLOCK_SIZE as usize];
    let mut h = block_header(dir_ino, 0);
    b[HDR as usize..][..R_HEAD].copy_from_slice(&free_record(CAPACITY));
    let crc = !update(crc_header(&h), &b[HDR as usize..]);
    put_u32(&mut h, H_CRC, crc);
    b[..HDR as usize].copy_from_slice(&h);
    b
}

impl<M: MediumRead> Fs<M> {
    /// Find `name` in directory `dir_ino`.
    pub fn dir_find(&self, dir: &Inode, dir_ino: u64, name: &[u8]) -> Result<Option<DirEntry>> {
        Ok(match self.dir_probe(dir, dir_ino, name)? {
            Lookup::Found(e) => Some(e),
            Lookup::Absent(_) => None,
        })
    }

    /// Find `name` in directory `dir_ino`, or where it would go.
    pub fn dir_probe(&self, dir: &Inode, dir_ino: u64, name: &[u8]) -> Result<Lookup> {
        check_name(name)?;
        let hash = self.hash_name(name);
        let b = self.dir_block(dir, dir_ino, u64::from(hash))?;
        let p = self.probe_block(b.blk, dir_ino, name, hash)?;
        if let Some(e) = p.found {
            return Ok(Lookup::Found(e));
        }
        let slot = match (p.stamp, p.host, p.seq()) {
            (Some(stamp), Some(host), Some(seq)) => Some(NameSlot {
                stamp,
                host: host.off,
                seq,
                count: p.count,
                hash_top: (hash >> 24) as u8,
            }),
            _ => None,
        };
        Ok(Lookup::Absent(slot))
    }

    /// One walk of entry block `blk` (header and checksum checked) for
    /// `name`, of `hash`: its entry, or what an insert of it needs to
    /// know. Reads one record or none instead when the block's summary is
    /// kept.
    pub(super) fn probe_block(
        &self,
        blk: u64,
        dir_ino: u64,
        name: &[u8],
        hash: u32,
    ) -> Result<Probe> {
        self.entry_block(blk, dir_ino)?;
        let stamp = self.pm.verified().stamp(blk);
        let want = record_size(name.len());
        let mut buf = [0u8; NAME_MAX];
        if let Some(p) = self.probe_summary(blk, stamp, (name, hash, want), &mut buf)? {
            return Ok(p);
        }
        let mut p = Probe {
            found: None,
            stamp,
            summary: None,
            host: None,
            seqs: 0,
            count: 0,
            used: 0,
        };
        let mut summary = Summary::EMPTY;
        // The whole block is walked, past the name's entry too, so that
        // the summary it leaves places every record.
        let mut fill = stamp.and_then(|t| self.pm.summaries()?.fill(t));
        // Only a block's first record may be free, so the record before a
        // live one is the one before it in the walk.
        let mut prev = HDR;
        self.walk_block(blk, |r| {
            if p.host.is_none() && r.slack() >= want {
                p.host = Some(*r);
            }
            summary.offer(r.off, r.slack());
            if r.live() {
                p.count += 1;
                p.used += r.size();
                summary.add(r.hash);
                if let Some(f) = &mut fill {
                    f.record(r.off, r.hash);
                }
                if r.hash == hash && p.found.is_none() {
                    if r.name_len == name.len() && self.rec_name(blk, r, &mut buf)? == name {
                        let pos = DirPos {
                            blk,
                            off: r.off,
                            prev,
                        };
                        p.found = Some(DirEntry {
                            ino: r.ino,
                            dtype: r.dtype,
                            pos,
                        });
                    }
                    p.seqs |= 1 << r.seq;
                }
            }
            prev = r.off;
            Ok(None::<()>)
        })?;
        p.summary = Some(summary);
        if let Some(f) = fill {
            f.done(&summary);
        }
        Ok(p)
    }

    /// [`Fs::probe_block`] from the summary kept for `blk` in state
    /// `stamp`: the entry of `name` (of `hash`), read where the summary
    /// places it (into `buf`), or, when the block does not hold it, which
    /// record has `want` bytes to spare. `None` when the summary cannot
    /// say.
    fn probe_summary(
        &self,
        blk: u64,
        stamp: Option<Stamp>,
        (name, hash, want): (&[u8], u32, u64),
        buf: &mut [u8; NAME_MAX],
    ) -> Result<Option<Probe>> {
        let (Some(table), Some(stamp)) = (self.pm.summaries(), stamp) else {
            return Ok(None);
        };
        let Some(summary) = table.get(stamp) else {
            return Ok(None);
        };
        let mut p = Probe {
            found: None,
            stamp: Some(stamp),
            summary: Some(summary),
            host: None,
            seqs: 0,
            count: summary.count,
            used: 0,
        };
        if summary.may_hold(hash) {
            let Some(candidates) = table.candidates(stamp, hash) else {
                return Ok(None);
            };
            for &(off, prev) in candidates.list() {
                // The block is as the summary found it (its stamp holds):
                // a live record starts at `off`.
                let r = self.read_rec(blk, off)?;
                debug_assert!(r.live());
                if r.hash != hash {
                    continue;
                }
                if r.name_len == name.len() && self.rec_name(blk, &r, buf)? == name {
                    let pos = DirPos {
                        blk,
                        off,
                        prev: if prev == 0 { HDR } else { prev },
                    };
                    p.found = Some(DirEntry {
                        ino: r.ino,
                        dtype: r.dtype,
                        pos,
                    });
                    return Ok(Some(p));
                }
                p.seqs |= 1 << r.seq;
            }
        }
        if u64::from(summary.slack) < want {
            return Ok(None);
        }
        let host = self.read_rec(blk, u64::from(summary.host))?;
        debug_assert_eq!(host.slack(), u64::from(summary.slack));
        if host.slack() < want {
            return Ok(None);
        }
        p.host = Some(host);
        Ok(Some(p))
    }

    /// Call `f(name, ino, dtype, next_pos)` for each entry at or after
    /// readdir position `pos` (>= [`FIRST_POS`]), in key order, until it
    /// returns false. `next_pos` resumes after the entry.
    pub fn dir_iterate(
        &self,
        dir: &Inode,
        dir_ino: u64,
        pos: u64,
        mut f: impl FnMut(&[u8], u64, u8, u64) -> bool,
    ) -> Result<()> {
        let mut key = pos.max(FIRST_POS) - FIRST_POS;
        let mut buf = [0u8; NAME_MAX];
        while key < KEY_END {
            let b = self.dir_block(dir, dir_ino, key >> 4)?;
            loop {
                // The block's LIST_BATCH smallest keys from `key` on, as
                // `key << 12 | offset`, sorted. Entries outside the
                // block's range are damage for fsck's block walk, not
                // listed here.
                let mut batch = [0u64; LIST_BATCH];
                let mut n = 0;
                self.scan_block(b.blk, dir_ino, |r| {
                    let k = key_of(r.hash, r.seq);
                    if k < key || !(b.lo..b.hi).contains(&u64::from(r.hash)) {
                        return Ok(None::<()>);
                    }
                    let packed = k << 12 | r.off;
                    let at = batch[..n].partition_point(|&p| p < packed);
                    if at < LIST_BATCH {
                        n = (n + 1).min(LIST_BATCH);
                        batch.copy_within(at..n - 1, at + 1);
                        batch[at] = packed;
                    }
                    Ok(None)
                })?;
                for &packed in &batch[..n] {
                    let (k, off) = (packed >> 12, packed & 0xfff);
                    let r = self.read_rec(b.blk, off)?;
                    if !f(
                        self.rec_name(b.blk, &r, &mut buf)?,
                        r.ino,
                        r.dtype,
                        FIRST_POS + k + 1,
                    ) {
                        return Ok(());
                    }
                    key = k + 1;
                }
                if n < LIST_BATCH {
                    break;
                }
            }
            key = b.hi << 4;
        }
        Ok(())
    }

    /// The entry block of `dir_ino` whose range holds `hash`.
    pub(super) fn dir_block(&self, dir: &Inode, dir_ino: u64, hash: u64) -> Result<DirBlock> {
        if self.dir_is_one_block(dir)? {
            return Ok(DirBlock {
                blk: dir.root,
                lo: 0,
                hi: LBLK_END,
                path: None,
            });
        }
        let path = self.descend_to(dir, dir_ino, hash, 1)?;
        let (node, i) = path.leaf();
        let (_, blk) = self.index_entry(&node, dir_ino, i)?;
        Ok(DirBlock {
            blk,
            lo: path.lo,
            hi: path.hi,
            path: Some(path),
        })
    }

    /// [`Fs::scan_block`], with each record's [`DirPos`]. Only a block's
    /// first record may be free, so the record before a live one is the
    /// live one before it or, for the first live one, the free one.
    fn scan_positions<T>(
        &self,
        blk: u64,
        dir_ino: u64,
        mut f: impl FnMut(&Rec, DirPos) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let mut prev = HDR;
        self.scan_block(blk, dir_ino, |r| {
            let pos = DirPos {
                blk,
                off: r.off,
                prev,
            };
            prev = r.off;
            f(r, pos)
        })
    }

    /// Hash of `name` in this filesystem.
    pub(super) fn hash_name(&self, name: &[u8]) -> u32 {
        name_hash(&self.sb.hash_seed, name)
    }

    /// The record at `off` of `blk`, bounds checked (only the block's first
    /// record may be free).
    pub(super) fn read_rec(&self, blk: u64, off: u64) -> Result<Rec> {
        let mut h = [0u8; R_HEAD];
        if off + R_HEAD as u64 > BLOCK_SIZE {
            return Err(Error::Corrupt("directory record length"));
        }
        self.pm.read(rec_off(blk, off), &mut h)?;
        self.parse_rec(off, &h)
    }

    /// The record at `off` whose head is `h`, checked as [`Fs::read_rec`]
    /// says.
    fn parse_rec(&self, off: u64, h: &[u8]) -> Result<Rec> {
        let r = Rec {
            off,
            ino: u64::from(u32_at(h, R_INO)),
            reclen: u64::from(u16_at(h, R_RECLEN)),
            name_len: usize::from(h[R_NAMELEN]),
            dtype: h[R_TYPE_SEQ] & 0xf,
            seq: h[R_TYPE_SEQ] >> 4,
            hash: u32_at(h, R_HASH),
        };
        let fits = r.reclen >= R_HEAD as u64 && off + r.reclen <= BLOCK_SIZE;
        let named = match r.live() {
            true => r.name_len > 0 && r.reclen >= r.size(),
            false => off == HDR && r.name_len == 0,
        };
        if !fits || !named {
            return Err(Error::Corrupt("directory record length"));
        }
        if r.live() {
            self.geo.check_ino(r.ino, "directory entry inode number")?;
        }
        Ok(r)
    }

    /// The name of record `r` of `blk`, read into `buf`.
    pub(super) fn rec_name<'a>(
        &self,
        blk: u64,
        r: &Rec,
        buf: &'a mut [u8; NAME_MAX],
    ) -> Result<&'a [u8]> {
        let name = &mut buf[..r.name_len];
        self.pm.read(rec_off(blk, r.off + R_HEAD as u64), name)?;
        Ok(name)
    }

    /// Call `f` with each live record of entry block `blk` of `dir_ino`
    /// (header and checksum checked) until it returns `Some`.
    pub(super) fn scan_block<T>(
        &self,
        blk: u64,
        dir_ino: u64,
        mut f: impl FnMut(&Rec) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        self.entry_block(blk, dir_ino)?;
        self.walk_block(blk, |r| match r.live() {
            true => f(r),
            false => Ok(None),
        })
    }

    /// Whether the directory's root is its only entry block (else it is
    /// the root of its index).
    pub(super) fn dir_is_one_block(&self, dir: &Inode) -> Result<bool> {
        if dir.root == 0 {
            return Err(Error::Corrupt("directory without blocks"));
        }
        self.geo.check_data_block(dir.root, "directory root")?;
        let mut magic = [0u8; 4];
        self.pm.read(Geometry::block_off(dir.root), &mut magic)?;
        match u32::from_le_bytes(magic) {
            BLK_MAGIC => Ok(true),
            EXT_MAGIC => Ok(false),
            _ => Err(Error::Corrupt("directory root")),
        }
    }

    /// The number of entries of entry block `blk` of `dir_ino`, its header
    /// and checksum validated.
    pub(super) fn entry_block(&self, blk: u64, dir_ino: u64) -> Result<u16> {
        let mut h = [0u8; HDR as usize];
        self.pm.read(Geometry::block_off(blk), &mut h)?;
        let count = u16_at(&h, H_COUNT);
        if u32_at(&h, 0) != BLK_MAGIC
            || u32_at(&h, H_OWNER) != dir_ino as u32
            || usize::from(count) > MAX_RECORDS
            || h[H_COUNT + 2..] != [0, 0]
        {
            return Err(Error::Corrupt("directory block header"));
        }
        if !self.pm.verified().contains(blk) {
            if u32_at(&h, H_CRC) != self.block_crc(blk, &h)? {
                return Err(Error::Corrupt("directory block checksum"));
            }
            self.pm.verified().insert(blk);
        }
        Ok(count)
    }

    /// Call `f` with each record of `blk` in block order, free or live,
    /// without checking the block's checksum, until it returns `Some`.
    pub(super) fn walk_block<T>(
        &self,
        blk: u64,
        mut f: impl FnMut(&Rec) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        // The heads are read WALK_WINDOW bytes at a time (one medium read
        // and one pass over the stage per window instead of per record:
        // most of a walk's cost when it was per record).
        let mut window = [0u8; WALK_WINDOW];
        let (mut start, mut end) = (0, 0);
        let mut off = HDR;
        while off < BLOCK_SIZE {
            if off + R_HEAD as u64 > BLOCK_SIZE {
                return Err(Error::Corrupt("directory record length"));
            }
            if off < start || off + R_HEAD as u64 > end {
                (start, end) = (off, (off + WALK_WINDOW as u64).min(BLOCK_SIZE));
                self.pm
                    .read(rec_off(blk, start), &mut window[..(end - start) as usize])?;
            }
            let at = (off - start) as usize;
            let r = self.parse_rec(off, &window[at..at + R_HEAD])?;
            if let Some(v) = f(&r)? {
                return Ok(Some(v));
            }
            off += r.reclen;
        }
        Ok(None)
    }

    /// Checksum of entry block `blk` with header `h` (as it is or as it
    /// will be written), its records read as they are now.
    pub(super) fn block_crc(&self, blk: u64, h: &[u8; HDR as usize]) -> Result<u32> {
        self.block_crc_to(blk, h, BLOCK_SIZE)
    }

    /// [`Fs::block_crc`] of a block that is zero from `end` on, which is
    /// not read (a fresh block's few records: most of 4 KiB not read).
    pub(super) fn block_crc_to(&self, blk: u64, h: &[u8; HDR as usize], end: u64) -> Result<u32> {
        let mut crc = crc_header(h);
        let mut chunk = [0u8; WALK_WINDOW];
        let mut off = HDR;
        while off < end {
            let n = (end - off).min(chunk.len() as u64) as usize;
            self.pm.read(rec_off(blk, off), &mut chunk[..n])?;
            crc = update(crc, &chunk[..n]);
            off += n as u64;
        }
        Ok(!zero_extend(crc, BLOCK_SIZE - end))
    }
}

impl<M: Medium> Fs<M> {
    /// The entry `name` that readdir listed with next position `next`,
    /// found by its name and the key its record stores, whatever the hash
    /// of the name, so that an entry whose stored hash is damaged can be
    /// found too (fsck removes such entries).
    pub fn dir_entry_listed(
        &self,
        dir: &Inode,
        dir_ino: u64,
        name: &[u8],
        next: u64,
    ) -> Result<Option<DirPos>> {
        // Not check_name(): the name is what the media holds, to be
        // compared byte for byte, whatever it is.
        if name.is_empty() || name.len() > NAME_MAX {
            return Ok(None);
        }
        let key = next.checked_sub(FIRST_POS + 1).ok_or(Error::Invalid)?;
        if key >= KEY_END {
            return Ok(None);
        }
        let b = self.dir_block(dir, dir_ino, key >> 4)?;
        let mut buf = [0u8; NAME_MAX];
        self.scan_positions(b.blk, dir_ino, |r, pos| {
            if key_of(r.hash, r.seq) != key || r.name_len != name.len() {
                return Ok(None);
            }
            Ok((self.rec_name(b.blk, r, &mut buf)? == name).then_some(pos))
        })
    }
}
