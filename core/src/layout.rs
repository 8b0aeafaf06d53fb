// SPDX-License-Identifier: GPL-2.0
//! On-media layout: geometry, the superblock and the allocation groups'
//! counters.
//!
//! All integers are little-endian. The byte-level tables live in
//! `Documentation/filesystems/ferrodax/format.rst`; keep both in step.

use super::crc32c::{crc32c, crc32c_skip, put_crc, update};
use super::error::{Error, Result};

/// Block size: every structure is laid out in 4 KiB blocks.
pub const BLOCK_SIZE: u64 = 4096;
/// log2 of [`BLOCK_SIZE`].
pub const BLOCK_SHIFT: u32 = 12;
/// Blocks in a 2 MiB run, the unit of PMD (huge page) mappings.
pub const HUGE_BLOCKS: u64 = 512;
/// Longest name in a directory.
pub const NAME_MAX: usize = 255;
/// Longest symlink target (one block, like PATH_MAX).
pub const SYMLINK_MAX: usize = 4095;
/// Superblock magic, "FERRODAX".
pub const SB_MAGIC: u64 = u64::from_le_bytes(*b"FERRODAX");
/// Format version written by this code.
pub const VERSION: u32 = 13;
/// Incompatible features this code understands (none yet).
pub const INCOMPAT_SUPPORTED: u64 = 0;
/// Read-only-compatible features this code understands (none yet).
pub const RO_COMPAT_SUPPORTED: u64 = 0;
/// Inode number of the root directory.
pub const ROOT_INO: u64 = 1;
/// Size of an on-media inode.
pub const INODE_SIZE: u64 = 128;
/// Blocks of one journal area (two halves: see `journal.rs`).
pub const JOURNAL_BLOCKS: u64 = 32;
/// Journal areas: independent undo journals, each running one transaction
/// at a time (see `journal_area.rs`).
pub const JOURNAL_AREAS: usize = 4;
/// Blocks of the whole journal region.
pub const JOURNAL_REGION_BLOCKS: u64 = JOURNAL_BLOCKS * JOURNAL_AREAS as u64;
/// Smallest device mkfs accepts: 4 MiB.
pub const MIN_BLOCKS: u64 = 1024;
/// Largest device: 8 TiB of 4 KiB blocks (block numbers fit 31 bits).
pub const MAX_BLOCKS: u64 = 1 << 31;
/// Bits of bitmap under one checksum: a 64-byte line (a cache line, so a
/// change writes one line and one checksum), and the unit allocation groups
/// are made of (two groups never share a checksum).
pub const CHUNK_BITS: u64 = 512;
/// Most allocation groups a filesystem has.
pub const MAX_GROUPS: usize = 16;
/// Offset of group 0's counters record in block 0.
pub const GROUP_OFFSET: u64 = 1024;
/// Size of the superblock's static part (covered by its checksum).
pub const SB_SIZE: usize = 256;
/// Bytes of the label, NUL padded.
pub const LABEL_SIZE: usize = 32;
/// Size of one group's counters record.
pub const GROUP_SIZE: usize = 64;

/// Little-endian field access on byte buffers. Inlined, and without
/// `copy_from_slice`: the kernel build called each of these, and
/// `copy_from_slice` inside them, out of line (4% of the busy vCPU in the
/// latency benchmark's profile). A slice of the exact length always
/// converts, so the fallbacks below are never taken.
pub mod le {

    /// Read a u16 at `off`.
    #[inline]
    pub fn u16_at(b: &[u8], off: usize) -> u16 {
        u16::from_le_bytes(b[off..off + 2].try_into().unwrap_or_default())
    }
    /// Read a u32 at `off`.
    #[inline]
    pub fn u32_at(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or_default())
    }
    /// Read a u64 at `off`.
    #[inline]
    pub fn u64_at(b: &[u8], off: usize) -> u64 {
        u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or_default())
    }
    /// Write a u16 at `off`.
    #[inline]
    pub fn put_u16(b: &mut [u8], off: usize, v: u16) {
        if let Ok(d) = <&mut [u8; 2]>::try_from(&mut b[off..off + 2]) {
            *d = v.to_le_bytes();
        }
    }
    /// Write a u32 at `off`.
    #[inline]
    pub fn put_u32(b: &mut [u8], off: usize, v: u32) {
        if let Ok(d) = <&mut [u8; 4]>::try_from(&mut b[off..off + 4]) {
            *d = v.to_le_bytes();
        }
    }
    /// Write a u64 at `off`.
    #[inline]
    pub fn put_u64(b: &mut [u8], off: usize, v: u64) {
        if let Ok(d) = <&mut [u8; 8]>::try_from(&mut b[off..off + 8]) {
            *d = v.to_le_bytes();
        }
    }
}
use le::*;

/// Where everything is. Computed by mkfs, stored in the superblock, and
/// validated against the device size on mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Geometry {
    /// Blocks on the device.
    pub total_blocks: u64,
    /// First block of the undo journal.
    pub journal_start: u64,
    /// First block of the inode bitmap.
    pub inode_bitmap_start: u64,
    /// Blocks of inode bitmap.
    pub inode_bitmap_blocks: u64,
    /// First block of the block bitmap.
    pub block_bitmap_start: u64,
    /// Blocks of block bitmap.
    pub block_bitmap_blocks: u64,
    /// First block of the orphan bitmap (one bit per inode, as many blocks
    /// as the inode bitmap).
    pub orphan_bitmap_start: u64,
    /// First block of the bitmap checksum table.
    pub bitmap_crc_start: u64,
    /// Blocks of bitmap checksum table.
    pub bitmap_crc_blocks: u64,
    /// Allocation groups.
    pub groups: u64,
    /// First block of the inode table.
    pub inode_table_start: u64,
    /// Number of inodes (inode 0 is never used).
    pub inode_count: u64,
    /// First block available for data and dynamic metadata.
    pub data_start: u64,
}

fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// Checksum table blocks for `bitmap_blocks` blocks of bitmaps: one
/// 4-byte checksum per [`CHUNK_BITS`] bits.
fn crc_table_blocks(bitmap_blocks: u64) -> u64 {
    div_ceil(
        bitmap_blocks * (BLOCK_SIZE * 8 / CHUNK_BITS) * 4,
        BLOCK_SIZE,
    )
}

/// Allocation groups: [`MAX_GROUPS`], fewer if a bitmap has fewer chunks
/// (every group has at least one chunk of each).
fn group_count(inode_count: u64, total_blocks: u64) -> u64 {
    (MAX_GROUPS as u64)
        .min(div_ceil(inode_count, CHUNK_BITS))
        .min(div_ceil(total_blocks, CHUNK_BITS))
}

/// Group `g`'s share of `count` bits: whole chunks, split evenly.
fn group_range(g: u64, groups: u64, count: u64) -> core::ops::Range<u64> {
    let chunks = div_ceil(count, CHUNK_BITS);
    // Every geometry has a group; see group_of on max(1).
    let groups = groups.max(1);
    let first = |g: u64| (g * chunks / groups * CHUNK_BITS).min(count);
    first(g)..first(g + 1)
}

/// The group whose share of `count` bits holds `bit`.
fn group_of(bit: u64, groups: u64, count: u64) -> u64 {
    // Every geometry counts at least one chunk; max(1) leaves no
    // division-by-zero panic call ending the function, which objtool of
    // 7.3 does not know never returns ("falls through to next function").
    let chunks = div_ceil(count, CHUNK_BITS).max(1);
    ((bit / CHUNK_BITS + 1) * groups - 1) / chunks
}

impl Geometry {
    /// Lay out a device of `total_blocks` blocks.
    pub fn for_blocks(total_blocks: u64) -> Result<Geometry> {
        if total_blocks < MIN_BLOCKS {
            return Err(Error::NoSpace);
        }
        if total_blocks > MAX_BLOCKS {
            return Err(Error::FileTooBig);
        }
        // One inode per 16 KiB of device, in whole inode-table blocks.
        let per_block = BLOCK_SIZE / INODE_SIZE;
        let inode_count = (total_blocks / 4).max(per_block * 2) / per_block * per_block;
        let bits = BLOCK_SIZE * 8;
        let journal_start = 1;
        let inode_bitmap_start = journal_start + JOURNAL_REGION_BLOCKS;
        let inode_bitmap_blocks = div_ceil(inode_count, bits);
        let block_bitmap_start = inode_bitmap_start + inode_bitmap_blocks;
        let block_bitmap_blocks = div_ceil(total_blocks, bits);
        let orphan_bitmap_start = block_bitmap_start + block_bitmap_blocks;
        let bitmap_crc_start = orphan_bitmap_start + inode_bitmap_blocks;
        let bitmap_crc_blocks = crc_table_blocks(2 * inode_bitmap_blocks + block_bitmap_blocks);
        let groups = group_count(inode_count, total_blocks);
        let inode_table_start = bitmap_crc_start + bitmap_crc_blocks;
        let data_start = inode_table_start + inode_count / per_block;
        let g = Geometry {
            total_blocks,
            journal_start,
            inode_bitmap_start,
            inode_bitmap_blocks,
            block_bitmap_start,
            block_bitmap_blocks,
            orphan_bitmap_start,
            bitmap_crc_start,
            bitmap_crc_blocks,
            groups,
            inode_table_start,
            inode_count,
            data_start,
        };
        g.validate()?;
        Ok(g)
    }

    /// Check that the regions are in order, inside the device, and leave
    /// room for data. Everything later trusts a validated geometry.
    pub fn validate(&self) -> Result<()> {
        let bits = BLOCK_SIZE * 8;
        let per_block = BLOCK_SIZE / INODE_SIZE;
        let ok = self.total_blocks >= MIN_BLOCKS
            && self.total_blocks <= MAX_BLOCKS
            && self.journal_start == 1
            && self.inode_bitmap_start == self.journal_start + JOURNAL_REGION_BLOCKS
            && self.inode_count >= 2
            && self.inode_count % per_block == 0
            && self.inode_count <= u64::from(u32::MAX)
            && self.inode_bitmap_blocks == div_ceil(self.inode_count, bits)
            && self.block_bitmap_start == self.inode_bitmap_start + self.inode_bitmap_blocks
            && self.block_bitmap_blocks == div_ceil(self.total_blocks, bits)
            && self.orphan_bitmap_start == self.block_bitmap_start + self.block_bitmap_blocks
            && self.bitmap_crc_start == self.orphan_bitmap_start + self.inode_bitmap_blocks
            && self.bitmap_crc_blocks
                == crc_table_blocks(2 * self.inode_bitmap_blocks + self.block_bitmap_blocks)
            && self.groups == group_count(self.inode_count, self.total_blocks)
            && self.inode_table_start == self.bitmap_crc_start + self.bitmap_crc_blocks
            && self.data_start == self.inode_table_start + self.inode_count / per_block
            // at least the backup superblock and a few data blocks remain
            && self.data_start + 16 < self.total_blocks;
        if ok {
            Ok(())
        } else {
            Err(Error::Corrupt("superblock geometry"))
        }
    }

    /// Block number of the backup superblock (the last block).
    pub fn backup_sb_block(&self) -> u64 {
        self.total_blocks - 1
    }

    /// Byte offset of block `b`.
    pub fn block_off(b: u64) -> u64 {
        b << BLOCK_SHIFT
    }

    /// Whether `b` may hold file data or dynamic metadata.
    pub fn is_data_block(&self, b: u64) -> bool {
        b >= self.data_start && b < self.backup_sb_block()
    }

    /// Check a block pointer read from the media.
    pub fn check_data_block(&self, b: u64, what: &'static str) -> Result<u64> {
        if self.is_data_block(b) {
            Ok(b)
        } else {
            Err(Error::Corrupt(what))
        }
    }

    /// Check an inode number read from the media.
    pub fn check_ino(&self, ino: u64, what: &'static str) -> Result<u64> {
        if ino >= ROOT_INO && ino < self.inode_count {
            Ok(ino)
        } else {
            Err(Error::Corrupt(what))
        }
    }

    /// Inode numbers of allocation group `g` (group 0 starts with the
    /// reserved inode 0 and the root).
    pub fn group_inodes(&self, g: u64) -> core::ops::Range<u64> {
        group_range(g, self.groups, self.inode_count)
    }

    /// Blocks of allocation group `g` (group 0 starts with the metadata
    /// regions, the last ends with the backup superblock).
    pub fn group_blocks(&self, g: u64) -> core::ops::Range<u64> {
        group_range(g, self.groups, self.total_blocks)
    }

    /// The allocation group of inode `ino` (which must be valid).
    pub fn inode_group(&self, ino: u64) -> u64 {
        group_of(ino, self.groups, self.inode_count)
    }

    /// The allocation group of block `b` (which must be on the device).
    pub fn block_group(&self, b: u64) -> u64 {
        group_of(b, self.groups, self.total_blocks)
    }

    /// Byte offset of group `g`'s counters record.
    pub fn group_off(g: u64) -> u64 {
        GROUP_OFFSET + g * GROUP_SIZE as u64
    }

    /// Byte offset of inode `ino` (which must be valid).
    pub fn inode_off(&self, ino: u64) -> u64 {
        Self::block_off(self.inode_table_start) + ino * INODE_SIZE
    }
}

/// The static superblock: identity, features and geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Superblock {
    /// Format version.
    pub version: u32,
    /// Features that do not affect safety.
    pub compat: u64,
    /// Features without which the image must not be mounted.
    pub incompat: u64,
    /// Features without which the image may only be mounted read-only.
    pub ro_compat: u64,
    /// Filesystem UUID.
    pub uuid: [u8; 16],
    /// Label, NUL padded (see `label.rs`: the only field that changes
    /// after mkfs).
    pub label: [u8; LABEL_SIZE],
    /// Creation time, seconds since the epoch.
    pub mkfs_time: u64,
    /// Key of the directory name hash (random, chosen by mkfs).
    pub hash_seed: [u8; 16],
    /// Where everything is.
    pub geo: Geometry,
}

impl Superblock {
    /// The stamp every inode record of this filesystem carries (see
    /// [`inode_stamp`]).
    pub fn inode_stamp(&self) -> u32 {
        inode_stamp(&self.hash_seed)
    }
}

/// The stamp of the inode records of the filesystem whose directory hash
/// key is `hash_seed`: random per mkfs (unlike the UUID, which `-U` sets),
/// so a record another filesystem left in a slot is not taken for one of
/// this filesystem's (mkfs does not clear the inode table; see
/// `format.rst`).
pub fn inode_stamp(hash_seed: &[u8; 16]) -> u32 {
    crc32c(hash_seed)
}

// Superblock field offsets.
const SB_MAGIC_OFF: usize = 0;
const SB_VERSION: usize = 8;
const SB_BLOCK_SIZE: usize = 12;
const SB_COMPAT: usize = 16;
const SB_INCOMPAT: usize = 24;
const SB_RO_COMPAT: usize = 32;
const SB_UUID: usize = 40;
const SB_LABEL: usize = 56;
const SB_TOTAL: usize = 88;
const SB_INODE_COUNT: usize = 96;
const SB_MKFS_TIME: usize = 104;
const SB_HASH_SEED: usize = 112;
const SB_LABEL_CRC: usize = 248;
const SB_CRC: usize = 252;

/// The bytes of a superblock copy that change after mkfs: the label and
/// its own checksum (`label.rs`); nothing else of either copy is ever
/// logged, and the superblock's checksum does not cover them, so mount
/// can check it, and find the journal, before recovery has put back a
/// label a power cut tore.
pub const SB_CHANGING: [core::ops::Range<usize>; 2] =
    [SB_LABEL..SB_LABEL + LABEL_SIZE, SB_LABEL_CRC..SB_CRC];

/// CRC-32C of the superblock `b` with the label, its checksum and this
/// one taken as zero (fed in pieces: no copy of `b` on mount's stack).
fn static_crc(b: &[u8; SB_SIZE]) -> u32 {
    const ZEROES: [u8; LABEL_SIZE] = [0; LABEL_SIZE];
    let mut crc = !0;
    let mut at = 0;
    for zeroed in SB_CHANGING
        .into_iter()
        .chain(core::iter::once(SB_CRC..SB_SIZE))
    {
        crc = update(crc, &b[at..zeroed.start]);
        crc = update(crc, &ZEROES[..zeroed.len()]);
        at = zeroed.end;
    }
    !crc
}

impl Superblock {
    /// Encode into the 256-byte static superblock, checksum included.
    pub fn encode(&self) -> [u8; SB_SIZE] {
        let mut b = [0u8; SB_SIZE];
        put_u64(&mut b, SB_MAGIC_OFF, SB_MAGIC);
        put_u32(&mut b, SB_VERSION, self.version);
        put_u32(&mut b, SB_BLOCK_SIZE, BLOCK_SIZE as u32);
        put_u64(&mut b, SB_COMPAT, self.compat);
        put_u64(&mut b, SB_INCOMPAT, self.incompat);
        put_u64(&mut b, SB_RO_COMPAT, self.ro_compat);
        b[SB_UUID..SB_UUID + 16].copy_from_slice(&self.uuid);
        b[SB_LABEL..SB_LABEL + LABEL_SIZE].copy_from_slice(&self.label);
        put_u64(&mut b, SB_TOTAL, self.geo.total_blocks);
        put_u64(&mut b, SB_INODE_COUNT, self.geo.inode_count);
        put_u64(&mut b, SB_MKFS_TIME, self.mkfs_time);
        b[SB_HASH_SEED..SB_HASH_SEED + 16].copy_from_slice(&self.hash_seed);
        put_u32(&mut b, SB_LABEL_CRC, crc32c(&self.label));
        let crc = static_crc(&b);
        put_u32(&mut b, SB_CRC, crc);
        b
    }

    /// Decode and validate. Checks, in order: magic, checksum, version,
    /// block size, feature flags, geometry, the label's checksum.
    pub fn decode(b: &[u8; SB_SIZE]) -> Result<Superblock> {
        let sb = Self::decode_static(b)?;
        if u32_at(b, SB_LABEL_CRC) != crc32c(&sb.label) {
            return Err(Error::Corrupt("superblock label checksum"));
        }
        Ok(sb)
    }

    /// [`Superblock::decode`] but for the label, which is not checked (a
    /// power cut may have torn a change of it that recovery has yet to
    /// undo or finish): for finding the journal, before recovery.
    pub fn decode_static(b: &[u8; SB_SIZE]) -> Result<Superblock> {
        if u64_at(b, SB_MAGIC_OFF) != SB_MAGIC {
            return Err(Error::Corrupt(
                "superblock magic (not a ferrodax filesystem)",
            ));
        }
        if u32_at(b, SB_CRC) != static_crc(b) {
            return Err(Error::Corrupt("superblock checksum"));
        }
        let version = u32_at(b, SB_VERSION);
        if version != VERSION {
            return Err(Error::Unsupported("format version"));
        }
        if u64::from(u32_at(b, SB_BLOCK_SIZE)) != BLOCK_SIZE {
            return Err(Error::Unsupported("block size"));
        }
        let incompat = u64_at(b, SB_INCOMPAT);
        if incompat & !INCOMPAT_SUPPORTED != 0 {
            return Err(Error::Unsupported("incompatible feature flags"));
        }
        let geo = Geometry::for_blocks(u64_at(b, SB_TOTAL))
            .map_err(|_| Error::Corrupt("superblock geometry"))?;
        if geo.inode_count != u64_at(b, SB_INODE_COUNT) {
            return Err(Error::Corrupt("superblock inode count"));
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&b[SB_UUID..SB_UUID + 16]);
        let mut label = [0u8; LABEL_SIZE];
        label.copy_from_slice(&b[SB_LABEL..SB_LABEL + LABEL_SIZE]);
        let mut hash_seed = [0u8; 16];
        hash_seed.copy_from_slice(&b[SB_HASH_SEED..SB_HASH_SEED + 16]);
        Ok(Superblock {
            version,
            compat: u64_at(b, SB_COMPAT),
            incompat,
            ro_compat: u64_at(b, SB_RO_COMPAT),
            uuid,
            label,
            mkfs_time: u64_at(b, SB_MKFS_TIME),
            hash_seed,
            geo,
        })
    }

    /// Whether the image carries read-only-compatible features we lack.
    pub fn needs_read_only(&self) -> bool {
        self.ro_compat & !RO_COMPAT_SUPPORTED != 0
    }
}

/// One allocation group's counters: what changes with its allocations,
/// in a cache line of its own, so transactions allocating in different
/// groups never write the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Group {
    /// Free blocks of the group.
    pub free_blocks: u64,
    /// Free inodes of the group.
    pub free_inodes: u64,
    /// Orphans of the group: bits set in its share of the orphan bitmap
    /// (mount reads the bitmap of a group only when this is not zero).
    pub orphans: u64,
    /// Generation number of the next inode allocated in the group (inode
    /// numbers never change groups, so a reused number still gets a new
    /// generation).
    pub next_generation: u64,
    /// Where the group's next block search starts (after its last
    /// allocation). Kept with the counters, which every allocation writes
    /// anyway, so the first allocation after mount does not search from
    /// the start of the group. Advisory: a value outside the group's data
    /// blocks means "from its first".
    pub block_hint: u64,
    /// Where the group's next inode number search starts (advisory,
    /// likewise).
    pub ino_hint: u64,
}

/// Free blocks and inodes of the whole filesystem (statfs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Free data blocks.
    pub free_blocks: u64,
    /// Free inodes.
    pub free_inodes: u64,
}

const GROUP_MAGIC: u32 = 0x5052_4746; // "FGRP"
const GROUP_CRC: usize = 60;

impl Group {
    /// Encode into the 64-byte record.
    pub fn encode(&self) -> [u8; GROUP_SIZE] {
        let mut b = [0u8; GROUP_SIZE];
        put_u64(&mut b, 0, self.free_blocks);
        put_u64(&mut b, 8, self.free_inodes);
        put_u64(&mut b, 16, self.orphans);
        put_u64(&mut b, 24, self.next_generation);
        put_u64(&mut b, 32, self.block_hint);
        put_u64(&mut b, 40, self.ino_hint);
        put_u32(&mut b, 56, GROUP_MAGIC);
        put_crc(&mut b, GROUP_CRC);
        b
    }

    /// Decode group `g`'s record and validate it against the geometry.
    pub fn decode(b: &[u8; GROUP_SIZE], geo: &Geometry, g: u64) -> Result<Group> {
        if u32_at(b, 56) != GROUP_MAGIC || u32_at(b, GROUP_CRC) != crc32c_skip(b, GROUP_CRC) {
            return Err(Error::Corrupt("group counters checksum"));
        }
        let (inodes, blocks) = (geo.group_inodes(g), geo.group_blocks(g));
        let c = Group {
            free_blocks: u64_at(b, 0),
            free_inodes: u64_at(b, 8),
            orphans: u64_at(b, 16),
            next_generation: u64_at(b, 24),
            block_hint: Some(u64_at(b, 32))
                .filter(|h| blocks.contains(h) && geo.is_data_block(*h))
                .unwrap_or(blocks.start.max(geo.data_start)),
            ino_hint: Some(u64_at(b, 40))
                .filter(|h| inodes.contains(h) && *h > ROOT_INO)
                .unwrap_or(inodes.start.max(ROOT_INO + 1)),
        };
        if c.free_blocks > blocks.end - blocks.start
            || c.free_inodes > inodes.end - inodes.start
            || c.orphans > inodes.end - inodes.start
        {
            return Err(Error::Corrupt("group counters"));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_is_consistent_for_many_sizes() {
        for blocks in [MIN_BLOCKS, 4096, 32768, 32769, 262_144, 1 << 20, MAX_BLOCKS] {
            let g = Geometry::for_blocks(blocks).unwrap();
            assert!(g.data_start < blocks / 2, "{g:?}");
            let (mut inodes, mut blocks_seen) = (0, 0);
            for k in 0..g.groups {
                let (i, b) = (g.group_inodes(k), g.group_blocks(k));
                assert!(!i.is_empty() && !b.is_empty(), "{g:?} group {k}");
                assert_eq!((i.start, b.start), (inodes, blocks_seen));
                for x in [i.start, i.end - 1] {
                    assert_eq!(g.inode_group(x), k);
                }
                for x in [b.start, b.end - 1] {
                    assert_eq!(g.block_group(x), k);
                }
                assert_eq!(i.start % CHUNK_BITS + b.start % CHUNK_BITS, 0);
                (inodes, blocks_seen) = (i.end, b.end);
            }
            assert_eq!((inodes, blocks_seen), (g.inode_count, g.total_blocks));
        }
        assert_eq!(Geometry::for_blocks(2048).unwrap().groups, 1);
        assert_eq!(Geometry::for_blocks(8192).unwrap().groups, 4);
        assert_eq!(Geometry::for_blocks(1 << 20).unwrap().groups, 16);
        assert!(Geometry::for_blocks(MIN_BLOCKS - 1).is_err());
    }

    #[test]
    fn superblock_round_trip_and_damage() {
        let sb = Superblock {
            version: VERSION,
            compat: 0,
            incompat: 0,
            ro_compat: 0,
            uuid: [7; 16],
            label: [0; 32],
            mkfs_time: 1,
            hash_seed: [9; 16],
            geo: Geometry::for_blocks(8192).unwrap(),
        };
        let b = sb.encode();
        assert_eq!(Superblock::decode(&b).unwrap(), sb);
        for i in 0..SB_SIZE {
            let mut d = b;
            d[i] ^= 0x10;
            assert!(Superblock::decode(&d).is_err(), "flip at {i} undetected");
            let label = SB_CHANGING.iter().any(|r| r.contains(&i));
            assert_eq!(
                Superblock::decode_static(&d).is_ok(),
                label,
                "flip at {i}: only the label and its checksum are outside the static check"
            );
        }
    }
}
