// SPDX-License-Identifier: GPL-2.0
//! Extended attributes: at most one 4 KiB block per inode (`Inode::xattr`),
//! as ext2 keeps them, without sharing between inodes.
//!
//! ```text
//!  0..4   magic "FXAT"
//!  4..8   CRC-32C of bytes 0..used, these 4 as zero
//!  8..16  owner inode number (a pointer copied to another inode fails)
//! 16..18  used: where the entries end (HDR..=4096)
//! 18..20  number of entries
//! 20..24  zero
//! 24..    entries, packed: namespace u8, name length u8, value length
//!         u16, the name, the value; bytes past `used` are not read
//! ```
//!
//! A change writes the whole set to a newly allocated block (zeroed and
//! filled unlogged, like a directory reshape's), points the inode at it
//! and frees the old block, in one transaction: a power cut leaves the old
//! set or the new one, and no attribute costs an undo entry for its bytes.
//! Removing the last attribute frees the block. An attribute set that does
//! not fit in a block is refused (ENOSPC), as ext4 does without its
//! `ea_inode` feature.

use super::crc32c::update;
use super::error::{Error, MediaCount, Result};
use super::inode::{Inode, Time};
use super::layout::{le::*, Geometry, BLOCK_SIZE};
use super::medium::{Medium, MediumRead};
use super::Fs;

const MAGIC: u32 = u32::from_le_bytes(*b"FXAT");
const H_CRC: usize = 4;
const H_OWNER: usize = 8;
const H_USED: usize = 16;
const H_COUNT: usize = 18;
/// Header bytes; the entries start here.
const HDR: usize = 24;
/// An entry's own header: namespace, name length, value length.
const E_HEAD: usize = 4;
/// Longest attribute name (the VFS's XATTR_NAME_MAX, without the prefix).
pub const NAME_MAX: usize = 255;
/// Largest value: one attribute with a one-byte name fills the block.
pub const VALUE_MAX: usize = BLOCK_SIZE as usize - HDR - E_HEAD - 1;
/// Bytes moved through the stack at a time.
const CHUNK: usize = 256;

/// The namespace of an attribute, as stored: the prefix of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Namespace {
    /// `user.`
    User = 1,
    /// `trusted.`
    Trusted = 2,
    /// `security.`
    Security = 3,
    /// `system.posix_acl_access` (the name is empty).
    AclAccess = 4,
    /// `system.posix_acl_default` (the name is empty).
    AclDefault = 5,
}

impl Namespace {
    /// The namespace stored as `b`.
    pub fn from_byte(b: u8) -> Option<Namespace> {
        Some(match b {
            1 => Namespace::User,
            2 => Namespace::Trusted,
            3 => Namespace::Security,
            4 => Namespace::AclAccess,
            5 => Namespace::AclDefault,
            _ => return None,
        })
    }

    /// The POSIX ACLs' namespaces.
    pub fn is_acl(self) -> bool {
        matches!(self, Namespace::AclAccess | Namespace::AclDefault)
    }

    /// ACLs have the namespace for a name; the others need one.
    fn name_ok(self, name: &[u8]) -> bool {
        match self.is_acl() {
            true => name.is_empty(),
            false => !name.is_empty() && name.len() <= NAME_MAX,
        }
    }
}

/// How a set treats an attribute that exists or does not (setxattr's
/// flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// Create or replace.
    Any,
    /// XATTR_CREATE: fail with EEXIST if it exists.
    Create,
    /// XATTR_REPLACE: fail with ENODATA if it does not.
    Replace,
}

/// One entry, as [`Fs::xattr_walk`] finds it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Byte offset in the block.
    off: usize,
    ns: u8,
    name_len: usize,
    value_len: usize,
}

impl Entry {
    fn len(&self) -> usize {
        E_HEAD + self.name_len + self.value_len
    }

    fn value_off(&self) -> usize {
        self.off + E_HEAD + self.name_len
    }
}

/// A checked block: where its entries end and how many there are.
#[derive(Debug, Clone, Copy)]
struct Checked {
    blk: u64,
    used: usize,
    count: u16,
}

impl<M: MediumRead> Fs<M> {
    /// Check the attribute block of `ino` (header, owner, checksum, every
    /// entry inside `used`).
    fn xattr_check(&self, ino: u64, blk: u64) -> Result<Checked> {
        let base = Geometry::block_off(blk);
        let mut h = [0u8; HDR];
        self.pm.read(base, &mut h)?;
        let used = usize::from(u16_at(&h, H_USED));
        if u32_at(&h, 0) != MAGIC
            || u64_at(&h, H_OWNER) != ino
            || !(HDR..=BLOCK_SIZE as usize).contains(&used)
        {
            return Err(Error::Corrupt("xattr block header"));
        }
        let mut sealed = h;
        put_u32(&mut sealed, H_CRC, 0);
        let mut crc = update(!0, &sealed);
        let mut buf = [0u8; CHUNK];
        let mut at = HDR;
        while at < used {
            let n = (used - at).min(CHUNK);
            self.pm.read(base + at as u64, &mut buf[..n])?;
            crc = update(crc, &buf[..n]);
            at += n;
        }
        if !crc != u32_at(&h, H_CRC) {
            return Err(Error::Corrupt("xattr block checksum"));
        }
        let checked = Checked {
            blk,
            used,
            count: u16_at(&h, H_COUNT),
        };
        let mut count = 0u16;
        self.xattr_walk(&checked, |e, _| {
            count += 1;
            if Namespace::from_byte(e.ns).is_some_and(Namespace::is_acl) {
                let mut head = [0u8; ACL_HEAD];
                let n = e.value_len.min(ACL_HEAD);
                self.pm.read(base + e.value_off() as u64, &mut head[..n])?;
                if !acl_well_formed(e.value_len, &head[..n]) {
                    return Err(Error::Corrupt("xattr ACL value"));
                }
            }
            Ok(false)
        })?;
        // No change leaves a block without entries: the last removal
        // frees it.
        if count != checked.count || count == 0 {
            return Err(Error::Corrupt("xattr block entry count"));
        }
        Ok(checked)
    }

    /// Call `f` with each entry and its name until it returns true; the
    /// entry it stopped at.
    fn xattr_walk(
        &self,
        c: &Checked,
        mut f: impl FnMut(&Entry, &[u8]) -> Result<bool>,
    ) -> Result<Option<Entry>> {
        let base = Geometry::block_off(c.blk);
        let mut name = [0u8; NAME_MAX];
        let mut off = HDR;
        while off < c.used {
            let mut head = [0u8; E_HEAD];
            if off + E_HEAD > c.used {
                return Err(Error::Corrupt("xattr entry"));
            }
            self.pm.read(base + off as u64, &mut head)?;
            let e = Entry {
                off,
                ns: head[0],
                name_len: usize::from(head[1]),
                value_len: usize::from(u16_at(&head, 2)),
            };
            let name = &mut name[..e.name_len];
            self.pm.read(base + (off + E_HEAD) as u64, name)?;
            let valid = Namespace::from_byte(e.ns).is_some_and(|ns| ns.name_ok(name));
            if !valid || off + e.len() > c.used {
                return Err(Error::Corrupt("xattr entry"));
            }
            if f(&e, name)? {
                return Ok(Some(e));
            }
            off += e.len();
        }
        Ok(None)
    }

    /// The entry of `ino`'s attribute `ns`/`name`, if any.
    fn xattr_find(
        &self,
        ino: u64,
        inode: &Inode,
        ns: Namespace,
        name: &[u8],
    ) -> Result<Option<(Checked, Option<Entry>)>> {
        if inode.xattr == 0 {
            return Ok(None);
        }
        let c = self.xattr_check(ino, inode.xattr)?;
        let e = self.xattr_walk(&c, |e, n| Ok(e.ns == ns as u8 && n == name))?;
        Ok(Some((c, e)))
    }

    /// Read attribute `ns`/`name` of `ino` into `buf`; its length. An empty
    /// `buf` asks for the length only; a shorter one is `Error::Range`.
    pub fn get_xattr(&self, ino: u64, ns: Namespace, name: &[u8], buf: &mut [u8]) -> Result<usize> {
        let inode = self.read_inode(ino)?;
        let Some((c, Some(e))) = self.xattr_find(ino, &inode, ns, name)? else {
            return Err(Error::NoAttr);
        };
        if !buf.is_empty() {
            let out = buf.get_mut(..e.value_len).ok_or(Error::Range)?;
            self.pm
                .read(Geometry::block_off(c.blk) + e.value_off() as u64, out)?;
        }
        Ok(e.value_len)
    }

    /// Call `f` with the namespace and name of each attribute of `ino`.
    pub fn list_xattr(
        &self,
        ino: u64,
        mut f: impl FnMut(Namespace, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let inode = self.read_inode(ino)?;
        if inode.xattr == 0 {
            return Ok(());
        }
        let c = self.xattr_check(ino, inode.xattr)?;
        self.xattr_walk(&c, |e, name| {
            // xattr_walk checked the namespace.
            if let Some(ns) = Namespace::from_byte(e.ns) {
                f(ns, name)?;
            }
            Ok(false)
        })?;
        Ok(())
    }

    /// Check the attribute block of `ino`, if it has one (fsck).
    pub fn check_xattrs(&self, ino: u64, inode: &Inode) -> Result<()> {
        if inode.xattr != 0 {
            self.xattr_check(ino, inode.xattr)?;
        }
        Ok(())
    }
}

/// A block being filled: the checksum so far and where the next byte goes.
struct Filling {
    base: u64,
    at: usize,
    crc: u32,
}

/// Changes one call of [`Fs::xattr_apply`] takes at most: an inode's two
/// ACLs.
const MAX_CHANGES: usize = 2;

/// One change of an inode's attribute set.
#[derive(Debug, Clone, Copy)]
pub(super) struct Change<'a> {
    pub(super) ns: Namespace,
    pub(super) name: &'a [u8],
    /// The new value, or `None` to remove the attribute.
    pub(super) value: Option<&'a [u8]>,
    /// `Any` with no value removes the attribute if it is there.
    pub(super) mode: SetMode,
}

impl Change<'_> {
    fn check(&self) -> Result<()> {
        if !self.ns.name_ok(self.name) {
            return Err(if self.name.len() > NAME_MAX {
                Error::Range
            } else {
                Error::Invalid
            });
        }
        match self.value {
            Some(v) if v.len() > VALUE_MAX => Err(Error::NoSpace),
            Some(v) if self.ns.is_acl() && !acl_well_formed(v.len(), v) => Err(Error::Invalid),
            _ => Ok(()),
        }
    }

    fn entry_len(&self) -> usize {
        self.value.map_or(0, |v| E_HEAD + self.name.len() + v.len())
    }
}

/// Whether an ACL value of `len` bytes starting with `head` has the
/// form of the VFS's xattr ACLs (posix_acl_xattr_header, version 2, then
/// whole 8-byte entries); their meaning is the VFS's to check.
fn acl_well_formed(len: usize, head: &[u8]) -> bool {
    len >= ACL_HEAD
        && (len - ACL_HEAD) % ACL_ENTRY == 0
        && head.get(..ACL_HEAD) == Some(&ACL_VERSION)
}

/// The ACL header: the version, little-endian.
const ACL_VERSION: [u8; 4] = [2, 0, 0, 0];
const ACL_HEAD: usize = 4;
const ACL_ENTRY: usize = 8;

impl<M: Medium> Fs<M> {
    /// Set attribute `ns`/`name` of `ino` to `value`, or remove it
    /// (`None`); one transaction, which also sets the ctime to `now`.
    /// Returns the inode as it leaves it.
    pub fn set_xattr(
        &mut self,
        ino: u64,
        ns: Namespace,
        name: &[u8],
        value: Option<&[u8]>,
        mode: SetMode,
        now: Time,
    ) -> Result<Inode> {
        // removexattr of a name that is not there is ENODATA.
        let mode = match (value, mode) {
            (None, SetMode::Any) => SetMode::Replace,
            _ => mode,
        };
        let change = Change {
            ns,
            name,
            value,
            mode,
        };
        change.check()?;
        self.transact(|fs| {
            let mut inode = fs.read_inode(ino)?;
            fs.xattr_apply(ino, &mut inode, &[change])?;
            inode.ctime = now;
            fs.write_inode(ino, &inode)?;
            Ok(inode)
        })
    }

    /// Apply `changes` (at most [`MAX_CHANGES`], of different attributes)
    /// to the attribute set of `inode`, in the running transaction: the
    /// set goes to a new block, the old one is freed. The caller writes
    /// `inode` back.
    pub(super) fn xattr_apply(
        &mut self,
        ino: u64,
        inode: &mut Inode,
        changes: &[Change<'_>],
    ) -> Result<()> {
        if changes.len() > MAX_CHANGES {
            return Err(Error::Invalid);
        }
        for c in changes {
            c.check()?;
        }
        let old = match inode.xattr {
            0 => None,
            blk => Some(self.xattr_check(ino, blk)?),
        };
        // The entries the changes replace or remove.
        let mut found: [Option<Entry>; MAX_CHANGES] = [None; MAX_CHANGES];
        if let Some(c) = &old {
            self.xattr_walk(c, |e, name| {
                let hit = changes
                    .iter()
                    .position(|c| c.ns as u8 == e.ns && c.name == name);
                if let Some(k) = hit {
                    found[k] = Some(*e);
                }
                Ok(false)
            })?;
        }
        let (mut used, mut count) = old.map_or((HDR, 0), |c| (c.used, c.count));
        for (c, f) in changes.iter().zip(found) {
            match (f.is_some(), c.mode, c.value.is_some()) {
                (true, SetMode::Create, _) => return Err(Error::Exists),
                (false, SetMode::Replace, _) => return Err(Error::NoAttr),
                _ => {}
            }
            used = used - f.map_or(0, |e| e.len()) + c.entry_len();
            count = count - u16::from(f.is_some()) + u16::from(c.value.is_some());
        }
        if used > BLOCK_SIZE as usize {
            return Err(Error::NoSpace);
        }
        let changed = changes
            .iter()
            .zip(found)
            .any(|(c, f)| f.is_some() || c.value.is_some());
        if !changed {
            return Ok(());
        }
        if count == 0 {
            inode.xattr = 0;
            inode.blocks = inode.blocks.minus(1, "inode block count")?;
        } else {
            let (blk, _) = self.alloc_blocks(1, false)?;
            let head = xattr_head(ino, used, count);
            let mut to = Filling {
                base: Geometry::block_off(blk),
                at: HDR,
                crc: update(!0, &head),
            };
            if let Some(c) = &old {
                // The entries between those replaced or removed.
                let mut cuts = found;
                cuts.sort_unstable_by_key(|e| e.map_or(usize::MAX, |e| e.off));
                let mut from = HDR;
                for e in cuts.iter().flatten() {
                    self.xattr_copy(c.blk, from..e.off, &mut to)?;
                    from = e.off + e.len();
                }
                self.xattr_copy(c.blk, from..c.used, &mut to)?;
            }
            for c in changes {
                if let Some(v) = c.value {
                    let mut eh = [c.ns as u8, c.name.len() as u8, 0, 0];
                    put_u16(&mut eh, 2, v.len() as u16);
                    for piece in [&eh[..], c.name, v] {
                        self.xattr_fill(&mut to, piece)?;
                    }
                }
            }
            let mut head = head;
            put_u32(&mut head, H_CRC, !to.crc);
            self.store_fresh(to.base, &head)?;
            inode.xattr = blk;
            if old.is_none() {
                inode.blocks = inode.blocks.plus(1, "inode block count")?;
            }
        }
        if let Some(c) = old {
            self.free_blocks(c.blk, 1)?;
        }
        Ok(())
    }

    /// Append `bytes` to the block being filled.
    fn xattr_fill(&mut self, to: &mut Filling, bytes: &[u8]) -> Result<()> {
        self.store_fresh(to.base + to.at as u64, bytes)?;
        to.crc = update(to.crc, bytes);
        to.at += bytes.len();
        Ok(())
    }

    /// Append bytes `range` of attribute block `from`.
    fn xattr_copy(
        &mut self,
        from: u64,
        range: core::ops::Range<usize>,
        to: &mut Filling,
    ) -> Result<()> {
        let mut buf = [0u8; CHUNK];
        let mut at = range.start;
        while at < range.end {
            let n = (range.end - at).min(CHUNK);
            self.pm
                .read(Geometry::block_off(from) + at as u64, &mut buf[..n])?;
            self.xattr_fill(to, &buf[..n])?;
            at += n;
        }
        Ok(())
    }

    /// Free the attribute block of `inode` (its release), in the running
    /// transaction.
    pub(super) fn xattr_release(&mut self, inode: &mut Inode) -> Result<()> {
        if inode.xattr != 0 {
            self.free_blocks(inode.xattr, 1)?;
            inode.xattr = 0;
            inode.blocks = inode.blocks.minus(1, "inode block count")?;
        }
        Ok(())
    }
}

/// The header of a block of `count` entries ending at `used`, checksum
/// field zero.
fn xattr_head(ino: u64, used: usize, count: u16) -> [u8; HDR] {
    let mut h = [0u8; HDR];
    put_u32(&mut h, 0, MAGIC);
    put_u64(&mut h, H_OWNER, ino);
    put_u16(&mut h, H_USED, used as u16);
    put_u16(&mut h, H_COUNT, count);
    h
}
