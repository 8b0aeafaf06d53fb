// SPDX-License-Identifier: GPL-2.0
//! Make a new filesystem.
//!
//! Everything but the superblock is written and fenced first; the primary
//! superblock is written last, so an interrupted mkfs leaves a device that
//! does not mount rather than a half-made filesystem that does.

use super::bitmap::{block_line_crcs, LINE_CRCS_BYTES};
use super::error::Result;
use super::inode::{Inode, Time, S_IFDIR};
use super::journal::Journal;
use super::layout::*;
use super::medium::Medium;
use super::persist::{Flushed, Pm};

/// What to write into the new superblock.
#[derive(Debug, Clone, Copy)]
pub struct MkfsParams {
    /// Filesystem UUID.
    pub uuid: [u8; 16],
    /// Label (NUL padded).
    pub label: [u8; 32],
    /// Creation time.
    pub now: Time,
    /// Key of the directory name hash: random (see `siphash.rs`).
    pub hash_seed: [u8; 16],
}

/// Set bits `from..to` of the bitmap starting at block `start` (mkfs only:
/// not journaled, nothing is live yet).
fn set_bits_raw<M: Medium>(pm: &mut Pm<M>, start: u64, from: u64, to: u64) -> Result<Flushed> {
    let mut flushed = Flushed::none();
    let mut bit = from;
    while bit < to {
        let off = Geometry::block_off(start) + bit / 64 * 8;
        let lo = bit % 64;
        let n = (64 - lo).min(to - bit);
        let mask = if n == 64 { !0 } else { ((1u64 << n) - 1) << lo };
        let w = pm.read_u64(off)? | mask;
        flushed = flushed.join(pm.persist(off, &w.to_le_bytes())?);
        bit += n;
    }
    Ok(flushed)
}

/// Format `medium` (its whole size, in 4 KiB blocks). Returns the superblock.
pub fn format<M: Medium>(pm: &mut Pm<M>, params: &MkfsParams) -> Result<Superblock> {
    let geo = Geometry::for_blocks(pm.len() / BLOCK_SIZE)?;
    // Kill any previous superblock before touching anything it describes.
    let old = pm.store_zeroes(0, BLOCK_SIZE)?;
    let old = pm.flush(old);
    pm.fence(old);
    // The journal, bitmaps and their checksums start zeroed. The inode
    // table is left as it is: a slot is in use only when its bitmap bit is
    // set, and every record carries this filesystem's inode stamp, so
    // nothing takes what lies there for an inode (format.rst). Zeroing it
    // was most of mkfs's time (1/128 of the device).
    let meta = Geometry::block_off(geo.inode_table_start) - BLOCK_SIZE;
    let z = pm.store_zeroes(BLOCK_SIZE, meta)?;
    let mut f = pm.flush(z);
    f = f.join(Journal::format(pm, &geo)?);

    let root_dir = geo.data_start;
    let root_block = super::dir::empty_block(ROOT_INO);
    f = f.join(pm.persist(Geometry::block_off(root_dir), &root_block)?);
    f = f.join(set_bits_raw(pm, geo.block_bitmap_start, 0, root_dir + 1)?);
    f = f.join(set_bits_raw(
        pm,
        geo.block_bitmap_start,
        geo.backup_sb_block(),
        geo.total_blocks,
    )?);
    f = f.join(set_bits_raw(pm, geo.inode_bitmap_start, 0, ROOT_INO + 1)?);
    // Bits past the end of the last bitmap block stay clear; the allocator
    // never searches past the device. The three bitmaps are contiguous,
    // and so are their checksums.
    for i in 0..2 * geo.inode_bitmap_blocks + geo.block_bitmap_blocks {
        let crcs = block_line_crcs(pm, geo.inode_bitmap_start + i)?;
        let off = Geometry::block_off(geo.bitmap_crc_start) + i * LINE_CRCS_BYTES as u64;
        f = f.join(pm.persist(off, &crcs)?);
    }

    let root = Inode {
        mode: S_IFDIR | 0o755,
        nlink: 2,
        size: BLOCK_SIZE,
        blocks: 1,
        atime: params.now,
        mtime: params.now,
        ctime: params.now,
        btime: params.now,
        root: root_dir,
        parent: ROOT_INO,
        ..Inode::default()
    };
    f = f.join(pm.persist(
        geo.inode_off(ROOT_INO),
        &root.encode(ROOT_INO, inode_stamp(&params.hash_seed)),
    )?);
    // Used: the metadata and the root directory's block, the backup
    // superblock; inode 0 and the root.
    let used = |r: &core::ops::Range<u64>, from: u64, to: u64| {
        r.end.min(to).saturating_sub(r.start.max(from))
    };
    for g in 0..geo.groups {
        let (inodes, blocks) = (geo.group_inodes(g), geo.group_blocks(g));
        let group = Group {
            free_blocks: blocks.end
                - blocks.start
                - used(&blocks, 0, root_dir + 1)
                - used(&blocks, geo.backup_sb_block(), geo.total_blocks),
            free_inodes: inodes.end - inodes.start - used(&inodes, 0, ROOT_INO + 1),
            orphans: 0,
            next_generation: 1,
            block_hint: blocks.start.max(geo.data_start),
            ino_hint: inodes.start.max(ROOT_INO + 1),
        };
        f = f.join(pm.persist(Geometry::group_off(g), &group.encode())?);
    }
    let sb = Superblock {
        version: VERSION,
        compat: 0,
        incompat: 0,
        ro_compat: 0,
        uuid: params.uuid,
        label: params.label,
        mkfs_time: params.now.sec as u64,
        hash_seed: params.hash_seed,
        geo,
    };
    let raw = sb.encode();
    let z = pm.store_zeroes(Geometry::block_off(geo.backup_sb_block()), BLOCK_SIZE)?;
    f = f.join(pm.flush(z));
    f = f.join(pm.persist(Geometry::block_off(geo.backup_sb_block()), &raw)?);
    pm.fence(f);
    let f = pm.persist(0, &raw)?;
    pm.fence(f);
    Ok(sb)
}
