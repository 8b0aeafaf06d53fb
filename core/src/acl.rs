// SPDX-License-Identifier: GPL-2.0
//! POSIX ACLs: attributes of the namespaces [`Namespace::AclAccess`] and
//! [`Namespace::AclDefault`] (empty names) in the inode's attribute block,
//! whose values are the VFS's xattr form of an ACL (`posix_acl_to_xattr`
//! in the initial user namespace). The core checks that form; what an
//! ACL means is the VFS's business.
//!
//! An ACL and the mode it goes with change in one transaction: a create
//! stores the ACLs `posix_acl_create` gave the new inode with it, a
//! chmod stores the mode and the access ACL's masked entries together,
//! and setting an access ACL stores the mode it implies. A power cut
//! never leaves a mode that disagrees with the ACL.

use super::error::{Error, Result};
use super::file::SetAttr;
use super::inode::{Inode, Kind};
use super::medium::Medium;
use super::xattr::{Change, Namespace, SetMode};
use super::Fs;

/// What a change does to one of an inode's ACLs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AclChange<'a> {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Set it to this value (the VFS's xattr form).
    Set(&'a [u8]),
    /// Remove it if there is one.
    Remove,
}

/// A change of an inode's two ACLs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acls<'a> {
    /// `system.posix_acl_access`: the permissions.
    pub access: AclChange<'a>,
    /// `system.posix_acl_default`: what a directory's new children
    /// inherit (directories only).
    pub default: AclChange<'a>,
}

impl<'a> Acls<'a> {
    /// No change.
    pub const NONE: Acls<'static> = Acls {
        access: AclChange::Keep,
        default: AclChange::Keep,
    };

    /// The attribute changes this makes.
    fn changes(&self) -> ([Change<'a>; 2], usize) {
        let mut out = [Change {
            ns: Namespace::AclAccess,
            name: b"",
            value: None,
            mode: SetMode::Any,
        }; 2];
        let mut n = 0;
        for (ns, change) in [
            (Namespace::AclAccess, self.access),
            (Namespace::AclDefault, self.default),
        ] {
            let value = match change {
                AclChange::Keep => continue,
                AclChange::Set(v) => Some(v),
                AclChange::Remove => None,
            };
            out[n] = Change {
                ns,
                name: b"",
                value,
                mode: SetMode::Any,
            };
            n += 1;
        }
        (out, n)
    }
}

impl<M: Medium> Fs<M> {
    /// Apply `acls` to `inode`, in the running transaction; the caller
    /// writes `inode` back.
    pub(super) fn acl_apply(&mut self, ino: u64, inode: &mut Inode, acls: &Acls<'_>) -> Result<()> {
        if matches!(acls.default, AclChange::Set(_)) && inode.kind() != Kind::Directory {
            return Err(Error::Invalid);
        }
        let (changes, n) = acls.changes();
        if n == 0 {
            return Ok(());
        }
        self.xattr_apply(ino, inode, &changes[..n])
    }

    /// Change attributes (as [`Fs::setattr`]) and ACLs in one
    /// transaction: setfacl's mode and ACL, or chmod's mode and the
    /// access ACL it masks.
    pub fn set_acls(&mut self, ino: u64, attr: SetAttr, acls: &Acls<'_>) -> Result<Inode> {
        self.transact(|fs| {
            let mut inode = fs.setattr(ino, attr)?;
            fs.acl_apply(ino, &mut inode, acls)?;
            fs.write_inode(ino, &inode)?;
            Ok(inode)
        })
    }
}
