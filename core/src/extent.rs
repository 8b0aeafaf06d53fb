// SPDX-License-Identifier: GPL-2.0
//! File block mapping: a B+tree of extent blocks per regular file.
//!
//! The inode's `root` points at the root node. Every node is one 4 KiB
//! block: a 16-byte header (magic, entry count, level, owner, checksum) and
//! up to 255 entries of 16 bytes. A *leaf* (level 0) holds extents
//! (`lblk: u32, len: u32, pblk: 48 bits`), an *index node* (level > 0)
//! holds `(key, child)` pairs in the same 16 bytes with `len` zero. Every
//! entry carries its own 16-bit check, so a lookup on the fault path
//! validates only the header and the entries its binary searches read.
//!
//! Keys are *separators*: in an index node with keys `k0 < k1 < ...`,
//! child `i` (for `i >= 1`) holds exactly the extents that start at or
//! after `k_i` and end at or before `k_{i+1}`; child 0 holds those before
//! `k1`, so `k0` is not used by lookups. No extent crosses a separator:
//! a hole is reported only up to the next separator, so an allocation
//! into it never straddles two leaves. A file of one extent block is a
//! tree of height 1, the layout of format version 1.
//!
//! This file holds the node format, lookup and the walk over every node
//! and extent; `extent_tree.rs` changes the tree's shape (insert, split,
//! remove) and `extent_range.rs` the operations on ranges of a file.

use core::ops::ControlFlow;

use super::crc32c::{crc32c, crc32c_skip};
use super::error::{Error, Result};
use super::inode::Inode;
use super::layout::{le::*, Geometry, BLOCK_SIZE};
use super::medium::{Medium, MediumRead};
use super::owner::Held;
use super::Fs;

/// Most blocks one transaction step allocates or frees in a single run: 32
/// bitmap words, so a step's undo entries stay far below the journal's size.
pub const MAX_RUN: u64 = 2048;

/// Entries one node holds.
pub const FANOUT: u16 = ((BLOCK_SIZE - 16) / 16) as u16;
/// Most nodes on a path from the root to a leaf. Nodes split in half hold
/// at least 127 entries, so six levels map more extents than the 2^31 a
/// device of at most 2^31 blocks can hold.
pub const MAX_HEIGHT: usize = 6;
/// One past the last file block the format maps (`lblk` is 32 bits).
pub const LBLK_END: u64 = 1 << 32;

pub(super) const EXT_MAGIC: u32 = u32::from_le_bytes(*b"FEXT");
const PBLK_MASK: u64 = (1 << 48) - 1;

/// A run of file blocks mapped to device blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// First file block.
    pub lblk: u32,
    /// Number of blocks.
    pub len: u32,
    /// First device block.
    pub pblk: u64,
}

impl Extent {
    /// One past the last file block.
    pub fn end(&self) -> u64 {
        u64::from(self.lblk) + u64::from(self.len)
    }

    /// The index entry for `child`, whose range starts at separator `key`.
    pub(super) fn index(key: u64, child: u64) -> Extent {
        Extent {
            lblk: key as u32,
            len: 0,
            pblk: child,
        }
    }

    /// The 16 bytes of an entry: an extent, or with `len` zero an index
    /// entry whose `lblk` is the key and `pblk` the child.
    pub(super) fn encode(&self, ino: u64) -> [u8; 16] {
        let mut b = [0u8; 16];
        put_u32(&mut b, 0, self.lblk);
        put_u32(&mut b, 4, self.len);
        put_u64(&mut b, 8, self.pblk);
        let check = u64::from(Self::check(&b, ino));
        put_u64(&mut b, 8, self.pblk | check << 48);
        b
    }

    fn check(b: &[u8; 16], ino: u64) -> u16 {
        let mut c = [0u8; 20];
        c[..14].copy_from_slice(&b[..14]);
        c[16..].copy_from_slice(&(ino as u32).to_le_bytes());
        crc32c(&c) as u16
    }

    /// Decode an entry of either kind, checking only its checksum.
    fn decode_raw(b: &[u8; 16], ino: u64) -> Result<Extent> {
        let word = u64_at(b, 8);
        let mut plain = *b;
        put_u64(&mut plain, 8, word & PBLK_MASK);
        if (word >> 48) as u16 != Self::check(&plain, ino) {
            return Err(Error::Corrupt("extent checksum"));
        }
        Ok(Extent {
            lblk: u32_at(b, 0),
            len: u32_at(b, 4),
            pblk: word & PBLK_MASK,
        })
    }

    fn decode(b: &[u8; 16], ino: u64, geo: &Geometry) -> Result<Extent> {
        let e = Self::decode_raw(b, ino)?;
        if e.len == 0 || e.end() > LBLK_END {
            return Err(Error::Corrupt("extent length"));
        }
        geo.check_data_block(e.pblk, "extent block pointer")?;
        geo.check_data_block(e.pblk + u64::from(e.len) - 1, "extent block pointer")?;
        Ok(e)
    }
}

/// What a file block maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// `len` blocks from `pblk` back the requested block onwards.
    Mapped {
        /// Device block of the requested file block.
        pblk: u64,
        /// Blocks mapped contiguously from there.
        len: u64,
    },
    /// A hole of `len` blocks (to the next extent, the next index
    /// separator, or the format limit).
    Hole {
        /// Blocks until the next mapped block or separator.
        len: u64,
    },
}

/// A node's header, validated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Node {
    /// Its block.
    pub blk: u64,
    /// Entries in use.
    pub count: u16,
    /// 0 for a leaf.
    pub level: u16,
}

/// The nodes from the root to the leaf that covers one file block.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Path {
    /// Nodes on the path; `node[height - 1]` is the leaf.
    pub height: usize,
    /// The nodes, root first.
    pub node: [Node; MAX_HEIGHT],
    /// Index nodes: the child taken. Leaf: the first extent that ends
    /// after the block looked up (`count` if none does).
    pub idx: [u16; MAX_HEIGHT],
    /// First file block of the leaf's range: its left separator, 0 for the
    /// leftmost leaf.
    pub lo: u64,
    /// Depth of the index node holding that separator (`None`: leftmost).
    pub lo_at: Option<usize>,
    /// One past the leaf's range: its right separator, or [`LBLK_END`].
    pub hi: u64,
}

impl Path {
    /// The leaf and the index found in it.
    pub(super) fn leaf(&self) -> (Node, u16) {
        (self.node[self.height - 1], self.idx[self.height - 1])
    }

    /// Depth of the leaf.
    pub(super) fn leaf_depth(&self) -> usize {
        self.height - 1
    }
}

/// Byte offset of entry `i` of node block `blk`.
pub(super) fn entry_off(blk: u64, i: u16) -> u64 {
    Geometry::block_off(blk) + 16 + 16 * u64::from(i)
}

impl<M: MediumRead> Fs<M> {
    /// Map file block `lblk` of `ino`.
    pub fn map_lookup(&self, inode: &Inode, ino: u64, lblk: u64) -> Result<Mapping> {
        if inode.root == 0 {
            return Ok(Mapping::Hole {
                len: LBLK_END.saturating_sub(lblk),
            });
        }
        // `descend` gives `path.lo <= lblk < path.hi` whatever the keys.
        let path = self.descend(inode, ino, lblk)?;
        let (leaf, i) = path.leaf();
        if i == leaf.count {
            return Ok(Mapping::Hole {
                len: path.hi - lblk,
            });
        }
        let e = self.leaf_extent(&leaf, ino, i)?;
        if u64::from(e.lblk) > lblk {
            return Ok(Mapping::Hole {
                len: u64::from(e.lblk).min(path.hi) - lblk,
            });
        }
        // `leaf_search` saw entry `i` end after `lblk`; a lock-free reader
        // (`Fs::reader`) may read it again changed by a transaction in
        // flight, which its caller discards, but must not trust here.
        let skip = lblk - u64::from(e.lblk);
        match u64::from(e.len).checked_sub(skip) {
            Some(len) if len > 0 => Ok(Mapping::Mapped {
                pblk: e.pblk + skip,
                len,
            }),
            _ => Err(Error::Corrupt("extent leaf order")),
        }
    }

    /// The path from `inode`'s root (which must exist) to the leaf whose
    /// range holds file block `lblk`.
    pub(super) fn descend(&self, inode: &Inode, ino: u64, lblk: u64) -> Result<Path> {
        self.descend_to(inode, ino, lblk, 0)
    }

    /// Extent `i` of leaf `node`.
    pub(super) fn leaf_extent(&self, node: &Node, ino: u64, i: u16) -> Result<Extent> {
        let mut b = [0u8; 16];
        self.pm.read(entry_off(node.blk, i), &mut b)?;
        Extent::decode(&b, ino, &self.geo)
    }

    /// The path from `inode`'s root (which must exist) down to the node of
    /// level `bottom` whose range holds `key`. With `bottom` 0 that is the
    /// leaf; with `bottom` 1 the path ends at the lowest index node, its
    /// index at the child whose range holds `key` (a directory's index,
    /// whose children are entry blocks).
    pub(super) fn descend_to(
        &self,
        inode: &Inode,
        ino: u64,
        key: u64,
        bottom: u16,
    ) -> Result<Path> {
        let mut path = Path {
            hi: LBLK_END,
            ..Path::default()
        };
        let mut blk = inode.root;
        let mut level = None;
        for d in 0..MAX_HEIGHT {
            let node = self.node(blk, ino)?;
            if level.is_some_and(|l| l != node.level) || node.level < bottom {
                return Err(Error::Corrupt("extent tree level"));
            }
            path.node[d] = node;
            path.height = d + 1;
            if node.level == 0 {
                path.idx[d] = self.leaf_search(&node, ino, key)?;
                return Ok(path);
            }
            if node.count == 0 {
                return Err(Error::Corrupt("empty extent index"));
            }
            let i = self.index_search(&node, ino, key)?;
            if i + 1 < node.count {
                path.hi = path.hi.min(self.index_entry(&node, ino, i + 1)?.0);
            }
            let (sep, child) = self.index_entry(&node, ino, i)?;
            if i > 0 {
                path.lo = sep;
                path.lo_at = Some(d);
            }
            path.idx[d] = i;
            if node.level == bottom {
                return Ok(path);
            }
            blk = child;
            level = Some(node.level - 1);
        }
        Err(Error::Corrupt("extent tree level"))
    }

    /// Index entry `i` of `node`: its key and child block.
    pub(super) fn index_entry(&self, node: &Node, ino: u64, i: u16) -> Result<(u64, u64)> {
        let e = self.raw_entry(node, ino, i)?;
        if e.len != 0 {
            return Err(Error::Corrupt("extent index entry"));
        }
        self.geo.check_data_block(e.pblk, "extent index pointer")?;
        Ok((u64::from(e.lblk), e.pblk))
    }

    /// Index of the child of index `node` whose range holds `lblk`: the
    /// last entry whose key is at most `lblk`, entry 0 if none is.
    fn index_search(&self, node: &Node, ino: u64, lblk: u64) -> Result<u16> {
        let (mut lo, mut hi) = (1u16, node.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.index_entry(node, ino, mid)?.0 <= lblk {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo - 1)
    }

    /// Index of the first extent of leaf `node` ending after `lblk`.
    fn leaf_search(&self, node: &Node, ino: u64, lblk: u64) -> Result<u16> {
        let (mut lo, mut hi) = (0u16, node.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.leaf_extent(node, ino, mid)?.end() <= lblk {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The validated header of node `blk` of `ino`.
    pub(super) fn node(&self, blk: u64, ino: u64) -> Result<Node> {
        let mut h = [0u8; 16];
        self.pm.read(Geometry::block_off(blk), &mut h)?;
        let node = Node {
            blk,
            count: u16_at(&h, 4),
            level: u16_at(&h, 6),
        };
        if u32_at(&h, 0) != EXT_MAGIC
            || u32_at(&h, 12) != crc32c_skip(&h, 12)
            || u32_at(&h, 8) != ino as u32
            || node.count > FANOUT
            || usize::from(node.level) >= MAX_HEIGHT
        {
            return Err(Error::Corrupt("extent block header"));
        }
        Ok(node)
    }

    /// Entry `i` of a node, checksum checked, either kind.
    pub(super) fn raw_entry(&self, node: &Node, ino: u64, i: u16) -> Result<Extent> {
        let mut b = [0u8; 16];
        self.pm.read(entry_off(node.blk, i), &mut b)?;
        Extent::decode_raw(&b, ino)
    }
}

impl<M: Medium> Fs<M> {
    /// Call `f` with every node of `ino`'s extent tree (each once, root
    /// first, in depth-first order) and every extent in file order,
    /// checking what lookups rely on: index keys increasing inside their
    /// node's range, every extent inside its leaf's range, no empty node
    /// but an empty root leaf. `f` stops the walk with `Break`.
    pub fn extent_walk(
        &self,
        inode: &Inode,
        ino: u64,
        mut f: impl FnMut(Held) -> ControlFlow<()>,
    ) -> Result<()> {
        if inode.root == 0 {
            return Ok(());
        }
        let mut seen = [0u64; MAX_HEIGHT];
        let mut cursor = 0;
        loop {
            let path = self.descend(inode, ino, cursor)?;
            for d in 0..path.height {
                let n = path.node[d];
                if seen[d] == n.blk {
                    continue;
                }
                seen[d] = n.blk;
                seen[d + 1..].fill(0);
                if n.level > 0 {
                    self.check_index_keys(&n, ino, &path, d)?;
                }
                if f(Held::Structure(n.blk)).is_break() {
                    return Ok(());
                }
            }
            let (leaf, _) = path.leaf();
            if leaf.count == 0 && path.height > 1 {
                return Err(Error::Corrupt("empty extent leaf"));
            }
            for i in 0..leaf.count {
                let e = self.leaf_extent(&leaf, ino, i)?;
                if u64::from(e.lblk) < path.lo || e.end() > path.hi {
                    return Err(Error::Corrupt("extent outside its index range"));
                }
                if f(Held::Data(e)).is_break() {
                    return Ok(());
                }
            }
            if path.hi == LBLK_END {
                return Ok(());
            }
            cursor = path.hi;
        }
    }

    /// Keys 1.. of index node `n` (at depth `d` of `path`, entered at its
    /// first block) increase strictly and lie inside the node's range.
    pub(super) fn check_index_keys(&self, n: &Node, ino: u64, path: &Path, d: usize) -> Result<()> {
        // The node is entered at the lowest block of its range, so the
        // separator above it (if any) is `path.lo` when it sits above `d`.
        let lo = match path.lo_at {
            Some(at) if at < d => path.lo,
            _ => 0,
        };
        let mut prev = lo;
        for i in 1..n.count {
            let (key, _) = self.index_entry(n, ino, i)?;
            if key <= prev {
                return Err(Error::Corrupt("extent index order"));
            }
            prev = key;
        }
        Ok(())
    }

    /// Number of extents of `ino`.
    pub fn extent_count(&self, inode: &Inode, ino: u64) -> Result<u64> {
        let mut n = 0;
        self.extent_walk(inode, ino, |held| {
            n += u64::from(matches!(held, Held::Data(_)));
            ControlFlow::Continue(())
        })?;
        Ok(n)
    }

    /// Height of `ino`'s extent tree (0: no blocks mapped).
    pub fn extent_tree_height(&self, inode: &Inode, ino: u64) -> Result<u16> {
        match inode.root {
            0 => Ok(0),
            root => Ok(self.node(root, ino)?.level + 1),
        }
    }
}
