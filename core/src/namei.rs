// SPDX-License-Identifier: GPL-2.0
//! Namespace operations. Each is one transaction: all of it or none of it
//! survives a crash. The VFS holds the directory i_rwsems; these functions
//! re-check everything they rely on anyway (they also serve fsck and tests).

use super::acl::Acls;
use super::dir::{DirEntry, DirPos, Lookup, NameSlot};
use super::error::{Error, MediaCount, Result};
use super::inode::{Inode, Kind, Time, LINK_MAX, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT};
use super::layout::{Geometry, INODE_SIZE, ROOT_INO, SYMLINK_MAX};
use super::medium::{Medium, MediumRead};
use super::Fs;

/// Attributes of a new inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewInode {
    /// Type and permission bits.
    pub mode: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number for device nodes.
    pub rdev: u64,
}

/// renameat2() flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenameFlags {
    /// Fail with EEXIST if the target exists.
    pub noreplace: bool,
    /// Swap source and target atomically (both must exist).
    pub exchange: bool,
    /// Leave a whiteout (char device 0:0) where the source was.
    pub whiteout: bool,
    /// The caller has checked that no directory moved to another parent is
    /// that parent or one of its ancestors (the kernel: the VFS's
    /// `lock_rename` trap): the core does not walk up from the new parent,
    /// which reads directories the caller does not hold.
    pub ancestry_checked: bool,
    /// Where a lookup of the new name that did not find it said it goes
    /// (see [`Fs::create_at`]).
    pub target_slot: Option<NameSlot>,
}

/// What a rename did, for the VFS to update its inodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenameOutcome {
    /// Inode that was replaced and lost a link (plain rename over a target).
    pub replaced: Option<u64>,
    /// Whiteout inode created (RENAME_WHITEOUT).
    pub whiteout: Option<u64>,
}

impl<M: MediumRead> Fs<M> {
    fn read_dir(&self, ino: u64) -> Result<Inode> {
        let d = self.read_inode(ino)?;
        if !d.is_dir() {
            return Err(Error::NotDir);
        }
        if d.nlink == 0 {
            return Err(Error::NotFound); // removed directory
        }
        Ok(d)
    }

    /// Look `name` up in directory `dir`.
    pub fn lookup(&self, dir: u64, name: &[u8]) -> Result<Option<DirEntry>> {
        let d = self.read_dir(dir)?;
        self.dir_find(&d, dir, name)
    }

    /// Look `name` up in directory `dir`; if it is not there, where a
    /// create would put it.
    pub fn probe(&self, dir: u64, name: &[u8]) -> Result<Lookup> {
        let d = self.read_dir(dir)?;
        self.dir_probe(&d, dir, name)
    }

    /// Readdir: see [`Fs::dir_iterate`].
    pub fn readdir(
        &self,
        dir: u64,
        pos: u64,
        f: impl FnMut(&[u8], u64, u8, u64) -> bool,
    ) -> Result<()> {
        let d = self.read_inode(dir)?;
        if !d.is_dir() {
            return Err(Error::NotDir);
        }
        self.dir_iterate(&d, dir, pos, f)
    }

    /// Read a symlink target into `buf`; returns its length.
    pub fn readlink(&self, ino: u64, buf: &mut [u8]) -> Result<usize> {
        let inode = self.read_inode(ino)?;
        if inode.kind() != Kind::Symlink {
            return Err(Error::Invalid);
        }
        let n = (inode.size as usize).min(buf.len());
        self.pm
            .read(Geometry::block_off(inode.root), &mut buf[..n])?;
        Ok(n)
    }
}

impl<M: Medium> Fs<M> {
    /// Read, change and write an inode in the running transaction.
    pub(super) fn update_inode(
        &mut self,
        ino: u64,
        f: impl FnOnce(&mut Inode) -> Result<()>,
    ) -> Result<Inode> {
        let mut inode = self.read_inode(ino)?;
        f(&mut inode)?;
        self.write_inode(ino, &inode)?;
        Ok(inode)
    }

    /// Allocate and write a new inode (links as given), in the running
    /// transaction.
    fn new_inode(&mut self, attr: NewInode, nlink: u32, now: Time) -> Result<(u64, Inode)> {
        let kind = Kind::of(attr.mode).ok_or(Error::Invalid)?;
        let ino = self.alloc_ino()?;
        let generation = self.next_generation(ino)?;
        let mut inode = Inode {
            mode: attr.mode,
            uid: attr.uid,
            gid: attr.gid,
            nlink,
            generation,
            atime: now,
            mtime: now,
            ctime: now,
            btime: now,
            ..Inode::default()
        };
        match kind {
            Kind::Directory => {
                inode.root = self.dir_init(ino)?;
                inode.blocks = 1;
                inode.size = super::layout::BLOCK_SIZE;
            }
            Kind::Special => inode.root = attr.rdev,
            _ => {}
        }
        self.write_inode(ino, &inode)?;
        Ok((ino, inode))
    }

    /// Free an inode slot (blocks already released), in the running
    /// transaction.
    pub(super) fn free_inode_slot(&mut self, ino: u64) -> Result<()> {
        let off = self.geo.inode_off(ino);
        self.tx_write(off, &[0u8; INODE_SIZE as usize])?;
        self.free_ino(ino)
    }

    fn touch_dir(&mut self, dir: &mut Inode, now: Time) {
        dir.mtime = now;
        dir.ctime = now;
    }

    /// Create `name` in `dir` (where `slot` says, if it holds), made
    /// into what it is by `init`.
    fn create_in(
        &mut self,
        dir: u64,
        (name, slot): (&[u8], Option<NameSlot>),
        attr: NewInode,
        now: Time,
        init: impl FnOnce(&mut Self, u64, &mut Inode) -> Result<()>,
    ) -> Result<(u64, Inode)> {
        self.transact(|fs| {
            // An existing name fails the dir_add below (the directory
            // entry goes in last), rolling the new inode back with it.
            let mut d = fs.read_dir(dir)?;
            let is_dir = attr.mode & S_IFMT == S_IFDIR;
            if is_dir && d.nlink >= LINK_MAX {
                return Err(Error::TooManyLinks);
            }
            let (ino, mut inode) = fs.new_inode(attr, if is_dir { 2 } else { 1 }, now)?;
            if is_dir {
                inode.parent = dir;
                d.nlink += 1;
            }
            init(fs, ino, &mut inode)?;
            fs.write_inode(ino, &inode)?;
            fs.dir_add(&mut d, dir, name, slot, ino, Kind::dtype(attr.mode))?;
            fs.touch_dir(&mut d, now);
            fs.write_inode(dir, &d)?;
            Ok((ino, inode))
        })
    }

    /// Create a regular file, directory, device node, FIFO or socket.
    pub fn create(
        &mut self,
        dir: u64,
        name: &[u8],
        attr: NewInode,
        now: Time,
    ) -> Result<(u64, Inode)> {
        self.create_at(dir, name, None, (attr, &Acls::NONE), now)
    }

    /// [`Fs::create`], where `slot` (from [`Fs::probe`] of `name` in
    /// `dir`) says the name goes if it still holds, with the ACLs
    /// `posix_acl_create` gave the new inode.
    pub fn create_at(
        &mut self,
        dir: u64,
        name: &[u8],
        slot: Option<NameSlot>,
        (attr, acls): (NewInode, &Acls<'_>),
        now: Time,
    ) -> Result<(u64, Inode)> {
        if attr.mode & S_IFMT == S_IFLNK {
            return Err(Error::Invalid);
        }
        self.create_in(dir, (name, slot), attr, now, |fs, ino, inode| {
            fs.acl_apply(ino, inode, acls)
        })
    }

    /// Create a symbolic link to `target`.
    pub fn symlink(
        &mut self,
        dir: u64,
        name: &[u8],
        target: &[u8],
        attr: NewInode,
        now: Time,
    ) -> Result<(u64, Inode)> {
        self.symlink_at(dir, name, None, target, attr, now)
    }

    /// [`Fs::symlink`], with a `slot` as [`Fs::create_at`] takes.
    pub fn symlink_at(
        &mut self,
        dir: u64,
        name: &[u8],
        slot: Option<NameSlot>,
        target: &[u8],
        attr: NewInode,
        now: Time,
    ) -> Result<(u64, Inode)> {
        if target.is_empty() || target.len() > SYMLINK_MAX {
            return Err(Error::NameTooLong);
        }
        let attr = NewInode {
            mode: S_IFLNK | 0o777,
            ..attr
        };
        self.create_in(dir, (name, slot), attr, now, |fs, _, inode| {
            let (blk, _) = fs.alloc_blocks(1, false)?;
            fs.tx_write(Geometry::block_off(blk), target)?;
            inode.root = blk;
            inode.blocks = 1;
            inode.size = target.len() as u64;
            Ok(())
        })
    }

    /// O_TMPFILE: a new inode with no name and no links, on the orphan list
    /// until it is linked or released. The directory it is opened in (the
    /// VFS's business: owner and group) plays no part, so nothing but the
    /// new inode and its group is read or changed.
    /// Its ACLs, from `posix_acl_create`, go in with it.
    pub fn tmpfile(&mut self, attr: NewInode, acls: &Acls<'_>, now: Time) -> Result<(u64, Inode)> {
        if Kind::of(attr.mode) != Some(Kind::Regular) {
            return Err(Error::Invalid);
        }
        self.transact(|fs| {
            let (ino, mut inode) = fs.new_inode(attr, 0, now)?;
            if *acls != Acls::NONE {
                fs.acl_apply(ino, &mut inode, acls)?;
                fs.write_inode(ino, &inode)?;
            }
            fs.orphan_add(ino)?;
            Ok((ino, fs.read_inode(ino)?))
        })
    }

    /// Add a hard link `dir/name` to `ino`.
    pub fn link(&mut self, ino: u64, dir: u64, name: &[u8], now: Time) -> Result<Inode> {
        self.transact(|fs| {
            let mut d = fs.read_dir(dir)?;
            let inode = fs.read_inode(ino)?;
            if inode.is_dir() {
                return Err(Error::Invalid);
            }
            if inode.nlink >= LINK_MAX {
                return Err(Error::TooManyLinks);
            }
            // An existing name fails the dir_add below.
            if inode.nlink == 0 {
                fs.orphan_remove(ino)?; // linking an O_TMPFILE
            }
            let inode = fs.update_inode(ino, |i| {
                i.nlink += 1;
                i.ctime = now;
                Ok(())
            })?;
            fs.dir_add(&mut d, dir, name, None, ino, Kind::dtype(inode.mode))?;
            fs.touch_dir(&mut d, now);
            fs.write_inode(dir, &d)?;
            Ok(inode)
        })
    }

    /// Drop one link of `ino` (ctime updated); orphan it at zero links.
    fn drop_link(&mut self, ino: u64, now: Time) -> Result<Inode> {
        let inode = self.update_inode(ino, |i| {
            i.nlink = if i.is_dir() {
                0
            } else {
                i.nlink.minus(1, "inode link count")?
            };
            i.ctime = now;
            Ok(())
        })?;
        if inode.nlink == 0 {
            self.orphan_add(ino)?;
        }
        Ok(inode)
    }

    /// Remove `dir/name`, which must not be a directory. Returns the inode
    /// number and its new state; at zero links it is an orphan, to be
    /// released by [`Fs::release_inode`] at last close.
    pub fn unlink(&mut self, dir: u64, name: &[u8], now: Time) -> Result<(u64, Inode)> {
        self.remove(dir, name, false, now)
    }

    /// Remove the empty directory `dir/name`.
    pub fn rmdir(&mut self, dir: u64, name: &[u8], now: Time) -> Result<(u64, Inode)> {
        self.remove(dir, name, true, now)
    }

    fn remove(&mut self, dir: u64, name: &[u8], want_dir: bool, now: Time) -> Result<(u64, Inode)> {
        self.transact(|fs| {
            let mut d = fs.read_dir(dir)?;
            let e = fs.dir_find(&d, dir, name)?.ok_or(Error::NotFound)?;
            let victim = fs.read_inode(e.ino)?;
            match (want_dir, victim.is_dir()) {
                (true, false) => return Err(Error::NotDir),
                (false, true) => return Err(Error::IsDir),
                (true, true) if victim.entries != 0 => return Err(Error::NotEmpty),
                _ => {}
            }
            fs.dir_remove(&mut d, dir, e.pos)?;
            if want_dir {
                d.nlink = d.nlink.minus(1, "directory link count")?;
            }
            fs.touch_dir(&mut d, now);
            fs.write_inode(dir, &d)?;
            let inode = fs.drop_link(e.ino, now)?;
            Ok((e.ino, inode))
        })
    }

    /// Whether directory `ino` is `ancestor` or lies below it.
    fn is_within(&self, mut ino: u64, ancestor: u64) -> Result<bool> {
        for _ in 0..self.geo.inode_count {
            if ino == ancestor {
                return Ok(true);
            }
            if ino == ROOT_INO {
                return Ok(false);
            }
            ino = self.read_inode(ino)?.parent;
        }
        Err(Error::Corrupt("directory parent loop"))
    }

    /// renameat2(): move `odir/oname` to `ndir/nname`.
    #[allow(clippy::too_many_arguments)]
    pub fn rename(
        &mut self,
        odir: u64,
        oname: &[u8],
        ndir: u64,
        nname: &[u8],
        flags: RenameFlags,
        whiteout: NewInode,
        now: Time,
    ) -> Result<RenameOutcome> {
        if flags.exchange && (flags.noreplace || flags.whiteout) {
            return Err(Error::Invalid);
        }
        self.transact(|fs| {
            let od = fs.read_dir(odir)?;
            let nd = match ndir == odir {
                true => od,
                false => fs.read_dir(ndir)?,
            };
            let src = fs.dir_find(&od, odir, oname)?.ok_or(Error::NotFound)?;
            let src_inode = fs.read_inode(src.ino)?;
            let moves_dir_across =
                |i: &Inode| i.is_dir() && odir != ndir && !flags.ancestry_checked;
            if moves_dir_across(&src_inode) && fs.is_within(ndir, src.ino)? {
                return Err(Error::Invalid);
            }
            if flags.exchange {
                let dst = fs.dir_find(&nd, ndir, nname)?.ok_or(Error::NotFound)?;
                let dst_inode = fs.read_inode(dst.ino)?;
                if moves_dir_across(&dst_inode) && fs.is_within(odir, dst.ino)? {
                    return Err(Error::Invalid);
                }
                fs.dir_retarget(odir, src.pos, dst.ino, dst.dtype)?;
                fs.dir_retarget(ndir, dst.pos, src.ino, src.dtype)?;
                fs.reparent(src.ino, odir, ndir, now)?;
                fs.reparent(dst.ino, ndir, odir, now)?;
                fs.touch_dirs(odir, ndir, now)?;
                return Ok(RenameOutcome::default());
            }
            let mut outcome = RenameOutcome::default();
            let mut src_pos = src.pos;
            // The new name usually does not exist: adding it is the
            // lookup (dir_add fails with Exists, changing nothing, when
            // it does), one walk of its block instead of two.
            let new = (nname, flags.target_slot);
            let dst = match fs.rename_add(odir, oname, &nd, ndir, new, &src, &src_inode) {
                Ok(moved_pos) => {
                    src_pos = moved_pos.unwrap_or(src_pos);
                    None
                }
                Err(Error::Exists) => fs.dir_find(&nd, ndir, nname)?,
                Err(e) => return Err(e),
            };
            match dst {
                Some(_) if flags.noreplace => return Err(Error::Exists),
                Some(d) if d.ino == src.ino => return Ok(outcome),
                Some(d) => {
                    let victim = fs.read_inode(d.ino)?;
                    match (src_inode.is_dir(), victim.is_dir()) {
                        (true, false) => return Err(Error::NotDir),
                        (false, true) => return Err(Error::IsDir),
                        (true, true) if victim.entries != 0 => return Err(Error::NotEmpty),
                        _ => {}
                    }
                    fs.dir_retarget(ndir, d.pos, src.ino, src.dtype)?;
                    if victim.is_dir() {
                        fs.update_inode(ndir, |i| {
                            i.nlink = i.nlink.minus(1, "directory link count")?;
                            Ok(())
                        })?;
                    }
                    fs.drop_link(d.ino, now)?;
                    outcome.replaced = Some(d.ino);
                }
                None => {}
            }
            if flags.whiteout {
                let attr = NewInode {
                    mode: S_IFCHR,
                    rdev: 0,
                    ..whiteout
                };
                let (wino, _) = fs.new_inode(attr, 1, now)?;
                fs.dir_retarget(odir, src_pos, wino, Kind::dtype(S_IFCHR))?;
                outcome.whiteout = Some(wino);
            } else {
                let mut od = fs.read_inode(odir)?;
                fs.dir_remove(&mut od, odir, src_pos)?;
                fs.write_inode(odir, &od)?;
            }
            fs.reparent(src.ino, odir, ndir, now)?;
            fs.touch_dirs(odir, ndir, now)?;
            Ok(outcome)
        })
    }

    /// Rename's new entry `nname -> src` in `ndir` (`nd`, as read before
    /// the rename changed anything), where `slot` says if it holds. Fails
    /// with `Exists`, changing nothing, when the name is taken. Returns
    /// the old entry's new position when the add moved records of its
    /// directory.
    #[allow(clippy::too_many_arguments)]
    fn rename_add(
        &mut self,
        odir: u64,
        oname: &[u8],
        nd: &Inode,
        ndir: u64,
        (nname, slot): (&[u8], Option<NameSlot>),
        src: &DirEntry,
        src_inode: &Inode,
    ) -> Result<Option<DirPos>> {
        let mut nd = *nd;
        if src_inode.is_dir() && odir != ndir && nd.nlink >= LINK_MAX {
            // Only a new name adds a link: EEXIST wins over EMLINK.
            if self.dir_find(&nd, ndir, nname)?.is_some() {
                return Err(Error::Exists);
            }
            return Err(Error::TooManyLinks);
        }
        let moved = self.dir_add(&mut nd, ndir, nname, slot, src.ino, src.dtype)?;
        self.write_inode(ndir, &nd)?;
        if odir == ndir && moved {
            // The add moved records (a full block reshaped), the old
            // name's perhaps: find it again.
            let e = self.dir_find(&nd, odir, oname)?;
            return Ok(Some(e.ok_or(Error::Corrupt("renamed entry lost"))?.pos));
        }
        Ok(None)
    }

    /// A directory moved from `from` to `to`: fix its parent pointer and the
    /// parents' link counts. Any inode moved gets a new ctime.
    fn reparent(&mut self, ino: u64, from: u64, to: u64, now: Time) -> Result<()> {
        let inode = self.update_inode(ino, |i| {
            i.ctime = now;
            if i.is_dir() {
                i.parent = to;
            }
            Ok(())
        })?;
        if inode.is_dir() && from != to {
            self.update_inode(from, |i| {
                i.nlink = i.nlink.minus(1, "directory link count")?;
                Ok(())
            })?;
            self.update_inode(to, |i| {
                i.nlink += 1;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// New mtime and ctime for directories `a` and `b` (once if the same).
    fn touch_dirs(&mut self, a: u64, b: u64, now: Time) -> Result<()> {
        for d in [Some(a), (b != a).then_some(b)].into_iter().flatten() {
            self.update_inode(d, |i| {
                i.mtime = now;
                i.ctime = now;
                Ok(())
            })?;
        }
        Ok(())
    }
}
