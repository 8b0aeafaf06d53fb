// SPDX-License-Identifier: GPL-2.0
//! On-media inodes: 128 bytes each in a table fixed at mkfs time.

use super::crc32c::{crc32c_skip, put_crc};
use super::error::{Error, Result};
use super::layout::{le::*, Geometry, INODE_SIZE, SYMLINK_MAX};
use super::medium::{Medium, MediumRead};
use super::Fs;

/// File type bits of `mode`.
pub const S_IFMT: u16 = 0o170000;
/// Regular file.
pub const S_IFREG: u16 = 0o100000;
/// Directory.
pub const S_IFDIR: u16 = 0o040000;
/// Symbolic link.
pub const S_IFLNK: u16 = 0o120000;
/// Character device.
pub const S_IFCHR: u16 = 0o020000;
/// Block device.
pub const S_IFBLK: u16 = 0o060000;
/// FIFO.
pub const S_IFIFO: u16 = 0o010000;
/// Socket.
pub const S_IFSOCK: u16 = 0o140000;
/// Highest link count (like ext4's EXT4_LINK_MAX).
pub const LINK_MAX: u32 = 65000;
/// Largest file size: 2^32 blocks of 4 KiB (extents hold 32-bit block numbers).
pub const MAX_FILE_SIZE: u64 = 1 << 44;

/// Inode flags (`chattr`), with the values of the FS_IOC_GETFLAGS ABI
/// (ext2's), so the kernel passes them through unchanged.
pub mod flags {
    /// Writes are synchronous (ferrodax's always are).
    pub const SYNC: u32 = 0x8;
    /// No change to the inode or its data, no new links, no removal.
    pub const IMMUTABLE: u32 = 0x10;
    /// Data may only be appended; no removal, no new links.
    pub const APPEND: u32 = 0x20;
    /// Not for dump(8).
    pub const NODUMP: u32 = 0x40;
    /// Reads do not change the access time.
    pub const NOATIME: u32 = 0x80;
    /// Directory changes are synchronous (ferrodax's always are).
    pub const DIRSYNC: u32 = 0x10000;
    /// Every flag this format version defines.
    pub const ALL: u32 = SYNC | IMMUTABLE | APPEND | NODUMP | NOATIME | DIRSYNC;
}

/// A timestamp with nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Time {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Nanoseconds, below 10^9.
    pub nsec: u32,
}

/// The kind of an inode, from its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Regular file: `root` is its extent block (0: no blocks).
    Regular,
    /// Directory: `root` is its only entry block or its index root.
    Directory,
    /// Symbolic link: `root` is the block holding the target.
    Symlink,
    /// Device, FIFO or socket: `root` holds the device number.
    Special,
}

impl Kind {
    /// Kind of a mode, or `None` for an invalid file type.
    pub fn of(mode: u16) -> Option<Kind> {
        match mode & S_IFMT {
            S_IFREG => Some(Kind::Regular),
            S_IFDIR => Some(Kind::Directory),
            S_IFLNK => Some(Kind::Symlink),
            S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => Some(Kind::Special),
            _ => None,
        }
    }

    /// The directory-entry type (DT_*) for a mode.
    pub fn dtype(mode: u16) -> u8 {
        ((mode & S_IFMT) >> 12) as u8
    }
}

/// An inode in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inode {
    /// File type and permission bits; 0 marks a free inode.
    pub mode: u16,
    /// Inode flags ([`flags`]).
    pub flags: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Hard links (directories: 2 + subdirectories).
    pub nlink: u32,
    /// Generation, for NFS file handles.
    pub generation: u32,
    /// Size in bytes.
    pub size: u64,
    /// Blocks held (data and mapping metadata).
    pub blocks: u64,
    /// Access time.
    pub atime: Time,
    /// Modification time.
    pub mtime: Time,
    /// Change time.
    pub ctime: Time,
    /// Birth time.
    pub btime: Time,
    /// Kind-specific root: extent block, directory root, target block or rdev.
    pub root: u64,
    /// Directories: the parent directory's inode number.
    pub parent: u64,
    /// Directories: number of entries (not counting . and ..).
    pub entries: u64,
    /// The extended-attribute block (`xattr.rs`), 0 for none.
    pub xattr: u64,
}

const I_MODE: usize = 0;
const I_FLAGS: usize = 4;
const I_UID: usize = 8;
const I_GID: usize = 12;
const I_NLINK: usize = 16;
const I_GEN: usize = 20;
const I_SIZE: usize = 24;
const I_BLOCKS: usize = 32;
const I_TIMES: usize = 40; // 4 x i64 seconds, then 4 x u32 nanoseconds at 72
const I_NSECS: usize = 72;
const I_ROOT: usize = 88;
const I_PARENT: usize = 96;
// 104..112: version 10's orphan-list link until the orphan bitmap took its
// place; the extended-attribute block since version 13.
const I_XATTR: usize = 104;
const I_ENTRIES: usize = 112;
const I_CRC: usize = 120;
/// The slot word: the inode number mixed with the filesystem's stamp.
const I_SLOT: usize = 124;

fn slot_word(ino: u64, stamp: u32) -> u32 {
    ino as u32 ^ stamp
}

impl Inode {
    /// The inode's kind (valid for decoded, allocated inodes).
    pub fn kind(&self) -> Kind {
        Kind::of(self.mode).unwrap_or(Kind::Special)
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind() == Kind::Directory
    }

    /// Encode with checksum. The slot's word holds `ino` mixed with the
    /// filesystem's inode `stamp` (`Superblock::inode_stamp`), under the
    /// checksum, so that an inode copied to the wrong slot, or left in the
    /// slot by another filesystem, is detected.
    pub fn encode(&self, ino: u64, stamp: u32) -> [u8; INODE_SIZE as usize] {
        let mut b = [0u8; INODE_SIZE as usize];
        put_u16(&mut b, I_MODE, self.mode);
        put_u32(&mut b, I_FLAGS, self.flags);
        put_u32(&mut b, I_UID, self.uid);
        put_u32(&mut b, I_GID, self.gid);
        put_u32(&mut b, I_NLINK, self.nlink);
        put_u32(&mut b, I_GEN, self.generation);
        put_u64(&mut b, I_SIZE, self.size);
        put_u64(&mut b, I_BLOCKS, self.blocks);
        for (i, t) in [self.atime, self.mtime, self.ctime, self.btime]
            .iter()
            .enumerate()
        {
            put_u64(&mut b, I_TIMES + 8 * i, t.sec as u64);
            put_u32(&mut b, I_NSECS + 4 * i, t.nsec);
        }
        put_u64(&mut b, I_ROOT, self.root);
        put_u64(&mut b, I_PARENT, self.parent);
        put_u64(&mut b, I_ENTRIES, self.entries);
        put_u64(&mut b, I_XATTR, self.xattr);
        put_u32(&mut b, I_SLOT, slot_word(ino, stamp));
        put_crc(&mut b, I_CRC);
        b
    }

    /// Whether slot `ino`'s bytes `b` hold an inode of the filesystem with
    /// inode `stamp` (in use, or damaged): not a free slot, and not one
    /// mkfs left as it found it.
    pub fn is_ours(b: &[u8; INODE_SIZE as usize], ino: u64, stamp: u32) -> bool {
        u16_at(b, I_MODE) != 0 && u32_at(b, I_SLOT) == slot_word(ino, stamp)
    }

    /// Decode and validate an allocated inode.
    pub fn decode(
        b: &[u8; INODE_SIZE as usize],
        ino: u64,
        stamp: u32,
        geo: &Geometry,
    ) -> Result<Inode> {
        if u32_at(b, I_CRC) != crc32c_skip(b, I_CRC) || u32_at(b, I_SLOT) != slot_word(ino, stamp) {
            return Err(Error::Corrupt("inode checksum"));
        }
        let t = |i: usize| Time {
            sec: u64_at(b, I_TIMES + 8 * i) as i64,
            nsec: u32_at(b, I_NSECS + 4 * i),
        };
        let inode = Inode {
            mode: u16_at(b, I_MODE),
            flags: u32_at(b, I_FLAGS),
            uid: u32_at(b, I_UID),
            gid: u32_at(b, I_GID),
            nlink: u32_at(b, I_NLINK),
            generation: u32_at(b, I_GEN),
            size: u64_at(b, I_SIZE),
            blocks: u64_at(b, I_BLOCKS),
            atime: t(0),
            mtime: t(1),
            ctime: t(2),
            btime: t(3),
            root: u64_at(b, I_ROOT),
            parent: u64_at(b, I_PARENT),
            entries: u64_at(b, I_ENTRIES),
            xattr: u64_at(b, I_XATTR),
        };
        inode.validate(geo)?;
        Ok(inode)
    }

    fn validate(&self, geo: &Geometry) -> Result<()> {
        let kind = Kind::of(self.mode).ok_or(Error::Corrupt("inode mode"))?;
        let times_ok = [self.atime, self.mtime, self.ctime, self.btime]
            .iter()
            .all(|t| t.nsec < 1_000_000_000);
        if !times_ok {
            return Err(Error::Corrupt("inode timestamp"));
        }
        if self.size > MAX_FILE_SIZE || self.nlink > LINK_MAX || self.blocks > geo.total_blocks {
            return Err(Error::Corrupt("inode size or link count"));
        }
        match kind {
            Kind::Regular if self.root != 0 => {
                geo.check_data_block(self.root, "inode extent block pointer")?;
            }
            Kind::Directory => {
                geo.check_data_block(self.root, "directory root pointer")?;
                geo.check_ino(self.parent, "directory parent pointer")?;
            }
            Kind::Symlink => {
                geo.check_data_block(self.root, "symlink target block pointer")?;
                if self.size == 0 || self.size > SYMLINK_MAX as u64 {
                    return Err(Error::Corrupt("symlink length"));
                }
            }
            _ => {}
        }
        if self.xattr != 0 {
            geo.check_data_block(self.xattr, "inode xattr block pointer")?;
        }
        Ok(())
    }
}

impl<M: MediumRead> Fs<M> {
    /// Read and validate allocated inode `ino`.
    pub fn read_inode(&self, ino: u64) -> Result<Inode> {
        self.geo.check_ino(ino, "inode number")?;
        let mut b = [0u8; INODE_SIZE as usize];
        self.pm.read(self.geo.inode_off(ino), &mut b)?;
        if u16_at(&b, I_MODE) == 0 {
            return Err(Error::Corrupt("reference to a free inode"));
        }
        Inode::decode(&b, ino, self.sb.inode_stamp(), &self.geo)
    }
}

impl<M: Medium> Fs<M> {
    /// Write inode `ino` inside the running transaction.
    pub(super) fn write_inode(&mut self, ino: u64, inode: &Inode) -> Result<()> {
        let off = self.geo.inode_off(ino);
        self.tx_write(off, &inode.encode(ino, self.sb.inode_stamp()))
    }
}
