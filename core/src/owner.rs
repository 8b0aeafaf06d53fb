// SPDX-License-Identifier: GPL-2.0
//! Who holds a device block: the block maps read backwards.
//!
//! ferrodax keeps no reverse map. The one caller that needs block ->
//! owner is a media error (the DAX holder's `notify_failure`), which is
//! rare enough that a walk of the inode table is affordable, where a
//! persistent rmap (XFS's) would cost a log entry on every allocation. fsck
//! walks the same per-inode view ([`Fs::held_blocks`]) forwards.

use super::bitmap::Map;
use super::error::Result;
use super::extent::Extent;
use super::inode::{Inode, Kind};
use super::medium::Medium;
use super::Fs;
use core::ops::{ControlFlow, Range};

/// Blocks an inode holds, as [`Fs::held_blocks`] reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// One block of structure: a regular file's extent block, a
    /// directory's index node or entry block, a symlink's target, any
    /// inode's extended-attribute block.
    Structure(u64),
    /// A run of a regular file's data.
    Data(Extent),
}

/// What a damaged device block was holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The static layout: superblock, journal, bitmaps and their
    /// checksums, the inode table, the backup superblock.
    Layout,
    /// A structure block of inode `ino` (see [`Held::Structure`]).
    Structure {
        /// The inode.
        ino: u64,
    },
    /// File data: `blocks` blocks from file block `lblk` of `ino` are
    /// device blocks `pblk..pblk + blocks`.
    Data {
        /// The regular file.
        ino: u64,
        /// First file block hit.
        lblk: u64,
        /// Device block of `lblk`.
        pblk: u64,
        /// Blocks hit from there.
        blocks: u64,
    },
}

impl<M: Medium> Fs<M> {
    /// Call `f` with the blocks inode `ino` holds: for a regular file the
    /// nodes of its extent tree and its extents in file order (each node
    /// before the extents under it); for a directory its index nodes and
    /// entry blocks; for a symlink its target; first of all its extended
    /// attribute block, if it has one.
    /// Headers are validated; `f` stops the walk with `Break`.
    pub fn held_blocks(
        &self,
        ino: u64,
        inode: &Inode,
        mut f: impl FnMut(Held) -> ControlFlow<()>,
    ) -> Result<()> {
        if inode.xattr != 0 && f(Held::Structure(inode.xattr)).is_break() {
            return Ok(());
        }
        match inode.kind() {
            Kind::Regular => self.extent_walk(inode, ino, f)?,
            Kind::Directory => {
                let mut stop = false;
                self.dir_blocks(inode, ino, |b| {
                    stop = stop || f(Held::Structure(b)).is_break();
                })?;
            }
            Kind::Symlink => {
                let _ = f(Held::Structure(inode.root));
            }
            _ => {}
        }
        Ok(())
    }

    /// Call `f` with every owner of device blocks `range`: [`Owner::Layout`]
    /// once if the range touches it, then each inode's structure blocks
    /// and data runs inside it. Free blocks, and blocks allocated but held
    /// by no inode (an orphan being released), have no owner.
    pub fn owners_of(&self, range: Range<u64>, mut f: impl FnMut(Owner)) -> Result<()> {
        let geo = self.geo;
        if range.start < geo.data_start || range.end > geo.backup_sb_block() {
            f(Owner::Layout);
        }
        let (start, end) = (range.start.max(geo.data_start), range.end);
        if start >= end {
            return Ok(());
        }
        self.for_each_inode(|ino, inode| {
            self.held_blocks(ino, inode, |held| {
                match held {
                    Held::Structure(b) if (start..end).contains(&b) => f(Owner::Structure { ino }),
                    Held::Data(e) => {
                        let (from, to) = (start.max(e.pblk), end.min(e.pblk + u64::from(e.len)));
                        if from < to {
                            f(Owner::Data {
                                ino,
                                lblk: u64::from(e.lblk) + (from - e.pblk),
                                pblk: from,
                                blocks: to - from,
                            });
                        }
                    }
                    Held::Structure(_) => {}
                }
                ControlFlow::Continue(())
            })
        })
    }

    /// Call `f` with every allocated inode, reading the inode bitmap a
    /// word at a time.
    fn for_each_inode(&self, mut f: impl FnMut(u64, &Inode) -> Result<()>) -> Result<()> {
        let count = self.geo.inode_count;
        for w in 0..count.div_ceil(64) {
            let mut word = self.bitmap_word(Map::Inodes, w)?;
            while word != 0 {
                let ino = w * 64 + u64::from(word.trailing_zeros());
                word &= word - 1;
                // Inode 0 is reserved, bits past the last inode are padding.
                if ino != 0 && ino < count {
                    f(ino, &self.read_inode(ino)?)?;
                }
            }
        }
        Ok(())
    }
}
