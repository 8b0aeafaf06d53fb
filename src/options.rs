// SPDX-License-Identifier: GPL-2.0
//! Mount options.

use crate::vfs::fs_type::Param;
use kernel::prelude::*;

/// What to do when the media turns out to be corrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Errors {
    /// Refuse further changes (the default, as for ext4).
    #[default]
    RemountRo,
    /// Report the error and carry on.
    Continue,
    /// Panic the machine.
    Panic,
}

/// Options of one mount.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    /// `errors=` behaviour.
    pub(crate) errors: Errors,
    /// `norecovery` (or ext4's `noload`): mount read-only without rolling
    /// back an interrupted transaction or releasing orphans, writing
    /// nothing. Fixed for the life of the mount.
    pub(crate) no_recovery: bool,
}

impl Options {
    /// Record one option. DAX is the only mode ferrodax has: `dax` and
    /// `dax=always` are accepted (repeatedly), `dax=never` and `dax=inode`
    /// are refused until a non-DAX mode exists.
    pub(crate) fn parse(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<Param> {
        match (key, value) {
            (b"dax", None) | (b"dax", Some(b"always")) => {}
            (b"dax", Some(_)) => {
                pr_err!("only dax=always is supported\n");
                return Err(EINVAL);
            }
            (b"errors", Some(b"remount-ro")) => self.errors = Errors::RemountRo,
            (b"errors", Some(b"continue")) => self.errors = Errors::Continue,
            (b"errors", Some(b"panic")) => self.errors = Errors::Panic,
            (b"errors", _) => {
                pr_err!("errors= takes remount-ro, continue or panic\n");
                return Err(EINVAL);
            }
            (b"norecovery" | b"noload", None) => self.no_recovery = true,
            _ => return Ok(Param::Unknown),
        }
        Ok(Param::Handled)
    }

    /// The options for /proc/mounts (dax=always is always in effect).
    pub(crate) fn show(&self, out: &mut dyn FnMut(&CStr)) {
        out(c",dax=always");
        match self.errors {
            Errors::RemountRo => {}
            Errors::Continue => out(c",errors=continue"),
            Errors::Panic => out(c",errors=panic"),
        }
        if self.no_recovery {
            out(c",norecovery");
        }
    }
}
