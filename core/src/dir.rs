// SPDX-License-Identifier: GPL-2.0
//! Directories: entry blocks under a B+tree index keyed by name hash.
//!
//! An entry block is 64 slots of 64 bytes: slot 0 is the block header
//! (magic, owner, slots in use, checksum); an entry takes 1 to 5 whole
//! slots (24-byte head, then the name) and carries its own checksum, so an
//! insert or remove persists one to five cache lines and the header.
//! Entries never move inside a block; a block is a heap of slots.
//!
//! An entry's *key* is its name's hash (CRC-32C, 32 bits) and a collision
//! index (8 bits) that tells names of one hash apart: `hash << 8 | seq`.
//! The key is the readdir cookie. It is fixed for the entry's life,
//! whichever block holds it, so cookies stay valid across inserts,
//! removals and block splits: readdir walks keys in order and resumes
//! after the last one it returned.
//!
//! A directory whose entries fit one block is that block (the inode's
//! `root` points at it): an empty directory costs one block. A bigger one
//! has an index above its entry blocks: the nodes of `extent.rs` (16-byte
//! checked entries, separator keys), whose lowest level points at entry
//! blocks instead of extent leaves. Entry block `i` of an index node holds
//! the names whose hash lies in `[key_i, key_i+1)`, so every name of one
//! hash lives in one block, and lookup and insert read `height` index
//! nodes and one entry block: O(log n). A full block splits at a hash
//! boundary (`dir_change.rs`); a block emptied by a removal is freed and
//! its range joins its left neighbour's.

use super::crc32c::{crc32c, crc32c_skip};
use super::error::{Error, Result};
use super::extent::{Path, EXT_MAGIC, LBLK_END};
use super::inode::Inode;
use super::layout::{le::*, Geometry, BLOCK_SIZE, NAME_MAX};
use super::medium::Medium;
use super::Fs;

pub(super) const SLOT: u64 = 64;
pub(super) const SLOTS: u64 = BLOCK_SIZE / SLOT;
pub(super) const HEAD: usize = 24;
pub(super) const MAX_SLOTS: usize = (HEAD + NAME_MAX).div_ceil(SLOT as usize);
pub(super) const BLK_MAGIC: u32 = u32::from_le_bytes(*b"FDNT");
const BLK_USED: usize = 8;
const BLK_CRC: usize = 12;
const E_INO: usize = 0;
pub(super) const E_HASH: usize = 8;
const E_CRC: usize = 12;
const E_NAMELEN: usize = 16;
const E_DTYPE: usize = 17;
const E_NSLOTS: usize = 18;
pub(super) const E_SEQ: usize = 19;
/// First readdir position of a real entry (0 and 1 are "." and "..").
pub const FIRST_POS: u64 = 2;
/// One past the last key (a 32-bit hash and an 8-bit collision index).
const KEY_END: u64 = LBLK_END << 8;

/// An entry's bytes, read or to be written.
pub(super) type Record = [u8; MAX_SLOTS * SLOT as usize];
/// An entry's head (what scans read).
pub(super) type Head = [u8; HEAD];

/// Where an entry lives (valid until the next change to its directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirPos {
    /// Entry block.
    pub blk: u64,
    /// First slot of the entry.
    pub slot: u64,
    /// Slots the entry takes.
    pub nslots: u64,
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

/// Hash of a name.
pub fn name_hash(name: &[u8]) -> u32 {
    crc32c(name)
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

pub(super) fn slots_for(name_len: usize) -> u64 {
    (HEAD + name_len).div_ceil(SLOT as usize) as u64
}

pub(super) fn slot_off(blk: u64, slot: u64) -> u64 {
    Geometry::block_off(blk) + slot * SLOT
}

/// The header of an entry block of directory `dir_ino` with `used` slots
/// in use (mkfs writes the root's).
pub fn block_header(dir_ino: u64, used: u64) -> [u8; 16] {
    let mut h = [0u8; 16];
    put_u32(&mut h, 0, BLK_MAGIC);
    put_u32(&mut h, 4, dir_ino as u32);
    put_u32(&mut h, BLK_USED, used as u32);
    let crc = crc32c_skip(&h, BLK_CRC);
    put_u32(&mut h, BLK_CRC, crc);
    h
}

/// The hash stored in an entry's head.
pub(super) fn entry_hash(rec: &[u8]) -> u64 {
    u64::from(u32_at(rec, E_HASH))
}

/// The readdir key of an entry.
pub(super) fn entry_key(rec: &[u8]) -> u64 {
    entry_hash(rec) << 8 | u64::from(rec[E_SEQ])
}

fn entry_name(rec: &Record) -> &[u8] {
    &rec[HEAD..HEAD + rec[E_NAMELEN] as usize]
}

/// Build the record of entry `name -> ino` with collision index `seq`;
/// returns it and its length in bytes.
pub(super) fn encode_entry(name: &[u8], ino: u64, dtype: u8, seq: u8) -> (Record, usize) {
    let mut rec = [0u8; MAX_SLOTS * SLOT as usize];
    let len = (slots_for(name.len()) * SLOT) as usize;
    put_u64(&mut rec, E_INO, ino);
    put_u32(&mut rec, E_HASH, name_hash(name));
    rec[E_NAMELEN] = name.len() as u8;
    rec[E_DTYPE] = dtype;
    rec[E_NSLOTS] = slots_for(name.len()) as u8;
    rec[E_SEQ] = seq;
    rec[HEAD..HEAD + name.len()].copy_from_slice(name);
    let crc = crc32c_skip(&rec[..len], E_CRC);
    put_u32(&mut rec, E_CRC, crc);
    (rec, len)
}

impl<M: Medium> Fs<M> {
    /// Slots in use of entry block `blk` of `dir_ino`, header validated.
    pub(super) fn entry_block(&self, blk: u64, dir_ino: u64) -> Result<u64> {
        let mut h = [0u8; 16];
        self.pm.read(slot_off(blk, 0), &mut h)?;
        let used = u64::from(u32_at(&h, BLK_USED));
        if u32_at(&h, 0) != BLK_MAGIC
            || u32_at(&h, 4) != dir_ino as u32
            || u32_at(&h, BLK_CRC) != crc32c_skip(&h, BLK_CRC)
            || used >= SLOTS
        {
            return Err(Error::Corrupt("directory block header"));
        }
        Ok(used)
    }

    /// Read the head of the entry starting at `slot` into `head`. Returns
    /// `None` for a free slot, else the slot count (validated against the
    /// block). The head is not checksummed: scans read heads to find
    /// candidates and [`Fs::read_entry`] checks what they use.
    pub(super) fn read_head(&self, blk: u64, slot: u64, head: &mut [u8]) -> Result<Option<u64>> {
        self.pm.read(slot_off(blk, slot), &mut head[..HEAD])?;
        if u64_at(head, E_INO) == 0 {
            return Ok(None);
        }
        let nslots = u64::from(head[E_NSLOTS]);
        let name_len = head[E_NAMELEN] as usize;
        if name_len == 0 || nslots != slots_for(name_len) || slot + nslots > SLOTS {
            return Err(Error::Corrupt("directory entry size"));
        }
        Ok(Some(nslots))
    }

    /// Read the whole entry starting at `slot` into `rec`, checksum
    /// checked. Returns `None` for a free slot, else the slot count.
    pub(super) fn read_entry(&self, blk: u64, slot: u64, rec: &mut Record) -> Result<Option<u64>> {
        let Some(nslots) = self.read_head(blk, slot, rec)? else {
            return Ok(None);
        };
        let len = (nslots * SLOT) as usize;
        self.pm
            .read(slot_off(blk, slot) + HEAD as u64, &mut rec[HEAD..len])?;
        if u32_at(rec, E_CRC) != crc32c_skip(&rec[..len], E_CRC) {
            return Err(Error::Corrupt("directory entry checksum"));
        }
        self.geo
            .check_ino(u64_at(rec, E_INO), "directory entry inode number")?;
        Ok(Some(nslots))
    }

    /// Call `f(slot, nslots, head)` for each entry of block `blk` (header
    /// checked) until it returns `Some`.
    pub(super) fn scan_block<T>(
        &self,
        blk: u64,
        dir_ino: u64,
        mut f: impl FnMut(u64, u64, &Head) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        self.entry_block(blk, dir_ino)?;
        let mut head = [0u8; HEAD];
        let mut slot = 1;
        while slot < SLOTS {
            let Some(nslots) = self.read_head(blk, slot, &mut head)? else {
                slot += 1;
                continue;
            };
            if let Some(v) = f(slot, nslots, &head)? {
                return Ok(Some(v));
            }
            slot += nslots;
        }
        Ok(None)
    }

    /// The entry at `slot` of `blk` if it is `name` (checksum checked).
    fn entry_named(&self, blk: u64, slot: u64, name: &[u8]) -> Result<Option<Record>> {
        let mut rec = [0u8; MAX_SLOTS * SLOT as usize];
        self.read_entry(blk, slot, &mut rec)?;
        Ok((entry_name(&rec) == name).then_some(rec))
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

    /// Find `name` in directory `dir_ino`.
    pub fn dir_find(&self, dir: &Inode, dir_ino: u64, name: &[u8]) -> Result<Option<DirEntry>> {
        check_name(name)?;
        let hash = u64::from(name_hash(name));
        let b = self.dir_block(dir, dir_ino, hash)?;
        self.scan_block(b.blk, dir_ino, |slot, nslots, head| {
            if entry_hash(head) != hash || usize::from(head[E_NAMELEN]) != name.len() {
                return Ok(None);
            }
            Ok(self.entry_named(b.blk, slot, name)?.map(|rec| DirEntry {
                ino: u64_at(&rec, E_INO),
                dtype: rec[E_DTYPE],
                pos: DirPos {
                    blk: b.blk,
                    slot,
                    nslots,
                },
            }))
        })
    }

    /// The entry `name` that readdir listed with next position `next`:
    /// found by its stored key, not by its name's hash, so an entry whose
    /// hash is damaged can be found too (fsck removes such entries).
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
        let b = self.dir_block(dir, dir_ino, key >> 8)?;
        self.scan_block(b.blk, dir_ino, |slot, nslots, head| {
            if entry_key(head) != key {
                return Ok(None);
            }
            let pos = DirPos {
                blk: b.blk,
                slot,
                nslots,
            };
            Ok(self.entry_named(b.blk, slot, name)?.map(|_| pos))
        })
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
        let mut rec = [0u8; MAX_SLOTS * SLOT as usize];
        while key < KEY_END {
            let b = self.dir_block(dir, dir_ino, key >> 8)?;
            // The block's entries from `key` on, sorted by key (a block
            // holds at most 63). Entries outside the block's range are
            // damage for fsck's block walk, not listed here.
            let mut found = [(0u64, 0u64); SLOTS as usize];
            let mut n = 0;
            self.scan_block(b.blk, dir_ino, |slot, _, head| {
                let k = entry_key(head);
                if k >= key && (b.lo..b.hi).contains(&(k >> 8)) {
                    found[n] = (k, slot);
                    n += 1;
                }
                Ok(None::<()>)
            })?;
            found[..n].sort_unstable();
            for &(k, slot) in &found[..n] {
                self.read_entry(b.blk, slot, &mut rec)?;
                let (ino, dtype) = (u64_at(&rec, E_INO), rec[E_DTYPE]);
                if !f(entry_name(&rec), ino, dtype, FIRST_POS + k + 1) {
                    return Ok(());
                }
            }
            key = b.hi << 8;
        }
        Ok(())
    }
}
