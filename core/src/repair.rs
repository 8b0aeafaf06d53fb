// SPDX-License-Identifier: GPL-2.0
//! Changes only fsck makes, to repair a damaged filesystem. Each is one
//! transaction like any other change, and none reads through the damage
//! it repairs: an entry is removed without reading the inode it names, an
//! inode is reconnected without reading its old parent.

use super::error::{Error, Result};
use super::inode::{Inode, Kind, Time, S_IFDIR};
use super::layout::{BLOCK_SIZE, ROOT_INO};
use super::medium::Medium;
use super::namei::NewInode;
use super::Fs;

/// Where fsck puts the inodes it finds no name for.
pub const LOST_FOUND: &[u8] = b"lost+found";

/// `#<ino>`, the name a reconnected inode gets (as e2fsck names them).
fn lost_name(ino: u64, buf: &mut [u8; 21]) -> &[u8] {
    let mut digits = [0u8; 20];
    let (mut n, mut len) = (ino, 0);
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf[0] = b'#';
    for i in 0..len {
        buf[1 + i] = digits[len - 1 - i];
    }
    &buf[..=len]
}

impl<M: Medium> Fs<M> {
    /// Remove the entry `name` of directory `dir` that readdir listed with
    /// next position `next`, leaving the inode it names alone (damaged,
    /// free, or named elsewhere too). Link and entry counts are fsck's to
    /// check again afterwards.
    pub fn remove_listed_entry(&mut self, dir: u64, name: &[u8], next: u64) -> Result<()> {
        self.transact(|fs| {
            let mut d = fs.read_inode(dir)?;
            if !d.is_dir() {
                return Err(Error::NotDir);
            }
            let pos = fs
                .dir_entry_listed(&d, dir, name, next)?
                .ok_or(Error::NotFound)?;
            fs.dir_remove(&mut d, dir, pos)?;
            fs.write_inode(dir, &d)
        })
    }

    /// Give `ino`, an inode in use that no directory names, the name
    /// `#<ino>` in `/lost+found` (made if missing). A directory gets
    /// lost+found as its parent.
    pub fn reconnect(&mut self, ino: u64, now: Time) -> Result<()> {
        self.transact(|fs| {
            let lost = match fs.lookup(ROOT_INO, LOST_FOUND)? {
                Some(e) => e.ino,
                None => {
                    let attr = NewInode {
                        mode: S_IFDIR | 0o700,
                        uid: 0,
                        gid: 0,
                        rdev: 0,
                    };
                    fs.create(ROOT_INO, LOST_FOUND, attr, now)?.0
                }
            };
            let mut l = fs.read_inode(lost)?;
            if !l.is_dir() {
                return Err(Error::NotDir);
            }
            let mut inode = fs.read_inode(ino)?;
            let mut buf = [0u8; 21];
            let name = lost_name(ino, &mut buf);
            // An existing name fails with Exists.
            fs.dir_add(&mut l, lost, name, None, ino, Kind::dtype(inode.mode))?;
            if inode.is_dir() {
                inode.parent = lost;
                l.nlink += 1;
                fs.write_inode(ino, &inode)?;
            }
            fs.write_inode(lost, &l)
        })
    }

    /// Replace a damaged root directory with a new, empty one. What the
    /// old one held is unreachable afterwards, for [`Fs::reconnect`]; its
    /// blocks are no one's, for fsck's free-space repair.
    pub fn recreate_root(&mut self, now: Time) -> Result<()> {
        self.transact(|fs| {
            let root = Inode {
                mode: S_IFDIR | 0o755,
                nlink: 2,
                parent: ROOT_INO,
                root: fs.dir_init(ROOT_INO)?,
                blocks: 1,
                size: BLOCK_SIZE,
                atime: now,
                mtime: now,
                ctime: now,
                btime: now,
                ..Inode::default()
            };
            fs.write_inode(ROOT_INO, &root)
        })
    }
}
