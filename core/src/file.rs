// SPDX-License-Identifier: GPL-2.0
//! Attributes, file size and block mapping (the core of iomap_begin).

use super::error::{Error, MediaCount, Result};
use super::extent::{Extent, Mapping, MAX_RUN};
use super::inode::{flags, Inode, Kind, Time, MAX_FILE_SIZE, S_IFMT};
use super::layout::{BLOCK_SIZE, HUGE_BLOCKS};
use super::medium::{Medium, MediumRead};
use super::orphan::RELEASE_BUDGET;
use super::Fs;

/// Attribute changes; with `size`, a truncate (growing leaves a hole).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAttr {
    /// New permission bits (the file type is kept).
    pub mode: Option<u16>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New access time.
    pub atime: Option<Time>,
    /// New modification time.
    pub mtime: Option<Time>,
    /// New change time.
    pub ctime: Option<Time>,
    /// New size (regular files only).
    pub size: Option<u64>,
    /// New inode flags (only those of [`flags::ALL`]).
    pub flags: Option<u32>,
}

/// Result of [`Fs::map_blocks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockMap {
    /// What the block maps to (after allocation, if asked).
    pub mapping: Mapping,
    /// The blocks were allocated (and zeroed) by this call.
    pub new: bool,
    /// The inode's block count afterwards.
    pub blocks: u64,
}

impl<M: MediumRead> Fs<M> {
    /// Look up what file block `lblk` of `ino` maps to (`count` only
    /// bounds the request), changing nothing: safe alongside other lookups.
    pub fn lookup_blocks(&self, ino: u64, lblk: u64, count: u64) -> Result<BlockMap> {
        if lblk
            .checked_add(count.max(1))
            .is_none_or(|end| end > MAX_FILE_SIZE / BLOCK_SIZE)
        {
            return Err(Error::FileTooBig);
        }
        let inode = self.read_inode(ino)?;
        if inode.kind() != Kind::Regular {
            return Err(Error::Invalid);
        }
        Ok(BlockMap {
            mapping: self.map_lookup(&inode, ino, lblk)?,
            new: false,
            blocks: inode.blocks,
        })
    }
}

impl<M: Medium> Fs<M> {
    /// Change attributes, size included, in one transaction. A shrink
    /// that releases more than one transaction can hold puts the inode on
    /// the orphan list: [`Fs::finish_truncate`] (or the next mount)
    /// releases the rest, and the file reads as its new size meanwhile.
    pub fn setattr(&mut self, ino: u64, attr: SetAttr) -> Result<Inode> {
        if attr.size.is_some_and(|size| size > MAX_FILE_SIZE) {
            return Err(Error::FileTooBig);
        }
        if attr.flags.is_some_and(|f| f & !flags::ALL != 0) {
            return Err(Error::Invalid);
        }
        self.transact(|fs| {
            let mut i = fs.read_inode(ino)?;
            if let Some(m) = attr.mode {
                i.mode = (i.mode & S_IFMT) | (m & !S_IFMT);
            }
            i.uid = attr.uid.unwrap_or(i.uid);
            i.gid = attr.gid.unwrap_or(i.gid);
            i.atime = attr.atime.unwrap_or(i.atime);
            i.mtime = attr.mtime.unwrap_or(i.mtime);
            i.ctime = attr.ctime.unwrap_or(i.ctime);
            i.flags = attr.flags.unwrap_or(i.flags);
            let mut unfinished = false;
            if let Some(size) = attr.size {
                if i.kind() != Kind::Regular {
                    return Err(Error::Invalid);
                }
                // Growing keeps blocks preallocated past the old size
                // (fallocate KEEP_SIZE): they are zeroed and now inside
                // the file.
                let shrink = size < i.size;
                i.size = size;
                let from = size.div_ceil(BLOCK_SIZE);
                unfinished = shrink && !fs.extent_truncate(&mut i, ino, from, RELEASE_BUDGET)?;
            }
            fs.write_inode(ino, &i)?;
            if unfinished {
                fs.orphan_add(ino)?;
                i = fs.read_inode(ino)?;
            }
            Ok(i)
        })
    }

    /// Write back the access, modification and change times that file
    /// writes, write faults and reads set in the kernel's inode only
    /// (`write_inode`). Each time only moves forward: the kernel reads
    /// its inode's times without a lock, so a write-back may carry a time
    /// older than what a change committed since (a link's ctime) and must
    /// not put it back; only [`Fs::setattr`] (utimes) sets a time back.
    /// Returns whether anything was written: times the media already has
    /// cost no transaction and no fence.
    pub fn store_times(&mut self, ino: u64, atime: Time, mtime: Time, ctime: Time) -> Result<bool> {
        let old = self.read_inode(ino)?;
        if atime <= old.atime && mtime <= old.mtime && ctime <= old.ctime {
            return Ok(false);
        }
        self.transact(|fs| {
            fs.update_inode(ino, |i| {
                i.atime = i.atime.max(atime);
                i.mtime = i.mtime.max(mtime);
                i.ctime = i.ctime.max(ctime);
                Ok(())
            })
            .map(|_| true)
        })
    }

    /// truncate(2) to `size` at time `now`, all blocks past it released
    /// before returning: [`Fs::setattr`] then [`Fs::finish_truncate`].
    pub fn set_size(&mut self, ino: u64, size: u64, now: Time) -> Result<Inode> {
        let attr = SetAttr {
            size: Some(size),
            mtime: Some(now),
            ctime: Some(now),
            ..SetAttr::default()
        };
        let inode = self.setattr(ino, attr)?;
        Ok(self.finish_truncate(ino)?.unwrap_or(inode))
    }

    /// Map `count` blocks of `ino` from file block `lblk`; with `create`,
    /// fill a hole with newly allocated, zeroed blocks (2 MiB-aligned when
    /// `huge` and the request is an aligned 2 MiB run). Never returns
    /// blocks with stale contents: zeroing is part of the allocation.
    pub fn map_blocks(
        &mut self,
        ino: u64,
        lblk: u64,
        count: u64,
        create: bool,
        huge: bool,
    ) -> Result<BlockMap> {
        let found = self.lookup_blocks(ino, lblk, count)?;
        let hole = match found.mapping {
            Mapping::Hole { len } if create => len,
            _ => return Ok(found),
        };
        let want = count.max(1).min(hole);
        self.transact(|fs| {
            let mut inode = fs.read_inode(ino)?;
            let aligned = huge && lblk % HUGE_BLOCKS == 0 && want >= HUGE_BLOCKS;
            let small = want.min(MAX_RUN);
            // A failed search changes nothing, so falling back is safe.
            fs.extent_root(&mut inode, ino)?;
            let mut at_goal = None;
            for goal in fs.extent_goals(&inode, ino, lblk)?.into_iter().flatten() {
                if at_goal.is_none() && (!aligned || fs.is_huge_aligned(goal)) {
                    at_goal = fs.alloc_blocks_at(goal, small)?;
                }
            }
            let (pblk, len) = match (at_goal, aligned) {
                (Some(run), _) => run,
                (None, true) => match fs.alloc_blocks(HUGE_BLOCKS, true) {
                    Err(Error::NoSpace) => fs.alloc_blocks(small, false)?,
                    r => r?,
                },
                (None, false) => fs.alloc_blocks(small, false)?,
            };
            fs.extent_insert(
                &mut inode,
                ino,
                Extent {
                    lblk: lblk as u32,
                    len: len as u32,
                    pblk,
                },
                true,
            )?;
            inode.blocks += len;
            fs.write_inode(ino, &inode)?;
            Ok(BlockMap {
                mapping: Mapping::Mapped { pblk, len },
                new: true,
                blocks: inode.blocks,
            })
        })
    }

    /// Grow the size of a regular file to `size` after data was written
    /// past its end (the blocks are mapped and written already, so a crash
    /// before this commits leaves the old size and zeroed or written blocks
    /// past it, never unwritten ones inside it). A smaller `size` is no
    /// change: a racing truncate or a concurrent larger write won.
    pub fn grow_size(&mut self, ino: u64, size: u64) -> Result<Inode> {
        if size > MAX_FILE_SIZE {
            return Err(Error::FileTooBig);
        }
        self.transact(|fs| {
            fs.update_inode(ino, |i| {
                if i.kind() != Kind::Regular {
                    return Err(Error::Invalid);
                }
                i.size = i.size.max(size);
                Ok(())
            })
        })
    }

    /// Allocate (zeroed) every hole in file blocks `from..to` of `ino`, as
    /// fallocate does; mapped blocks are kept. One transaction per new run:
    /// on `NoSpace` the runs already allocated stay, as with ext4 and XFS.
    pub fn allocate_range(&mut self, ino: u64, from: u64, to: u64, huge: bool) -> Result<()> {
        let mut lblk = from;
        while lblk < to {
            let m = self.map_blocks(ino, lblk, to - lblk, true, huge)?;
            let len = match m.mapping {
                Mapping::Mapped { len, .. } => len,
                Mapping::Hole { .. } => return Err(Error::Corrupt("hole after allocation")),
            };
            lblk += len.max(1);
        }
        Ok(())
    }

    /// Unmap and free file blocks `from..to` of `ino` (hole punching; the
    /// size is kept). Each step is one transaction that frees at most one
    /// extent's worth of [`MAX_RUN`] blocks, so a crash leaves a partly
    /// punched range: every block in it either still mapped with its data
    /// or a hole, never a freed block still mapped.
    pub fn punch_range(&mut self, ino: u64, from: u64, to: u64) -> Result<()> {
        let inode = self.read_inode(ino)?;
        if inode.kind() != Kind::Regular {
            return Err(Error::Invalid);
        }
        let mut next = Some(from);
        while let Some(at) = next {
            next = self.transact(|fs| {
                let mut inode = fs.read_inode(ino)?;
                if inode.root == 0 {
                    return Ok(None);
                }
                let next = fs.extent_remove_step(&mut inode, ino, at, to)?;
                fs.write_inode(ino, &inode)?;
                Ok(next)
            })?;
        }
        Ok(())
    }

    /// fallocate COLLAPSE_RANGE: remove file blocks `from..from + len` of
    /// `ino` and move everything after them down, shrinking the size by
    /// `len` blocks. The range is punched first (bounded steps), then the
    /// extents move and the size shrinks in one transaction; a crash in
    /// between leaves the range a hole and the size unchanged.
    pub fn collapse_range(&mut self, ino: u64, from: u64, len: u64, now: Time) -> Result<Inode> {
        let inode = self.read_inode(ino)?;
        let end = from.checked_add(len).ok_or(Error::Invalid)?;
        if inode.kind() != Kind::Regular || end * BLOCK_SIZE >= inode.size {
            return Err(Error::Invalid);
        }
        self.punch_range(ino, from, end)?;
        self.transact(|fs| {
            let mut inode = fs.read_inode(ino)?;
            if inode.root != 0 {
                fs.extent_shift(&inode, ino, end, len, false)?;
                fs.extent_join(&inode, ino, from)?;
            }
            inode.size = inode.size.minus(len * BLOCK_SIZE, "file size")?;
            inode.mtime = now;
            inode.ctime = now;
            fs.write_inode(ino, &inode)?;
            Ok(inode)
        })
    }

    /// fallocate INSERT_RANGE: move file blocks from `from` on up by `len`
    /// blocks, leaving a hole, and grow the size by `len` blocks, in one
    /// transaction.
    pub fn insert_range(&mut self, ino: u64, from: u64, len: u64, now: Time) -> Result<Inode> {
        self.transact(|fs| {
            let mut inode = fs.read_inode(ino)?;
            if inode.kind() != Kind::Regular || from * BLOCK_SIZE >= inode.size {
                return Err(Error::Invalid);
            }
            let size = len
                .checked_mul(BLOCK_SIZE)
                .and_then(|l| inode.size.checked_add(l))
                .filter(|&s| s <= MAX_FILE_SIZE)
                .ok_or(Error::FileTooBig)?;
            if inode.root != 0 {
                fs.extent_split_at(&mut inode, ino, from)?;
                fs.extent_shift(&inode, ino, from, len, true)?;
            }
            inode.size = size;
            inode.mtime = now;
            inode.ctime = now;
            fs.write_inode(ino, &inode)?;
            Ok(inode)
        })
    }
}
