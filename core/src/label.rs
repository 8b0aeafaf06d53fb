// SPDX-License-Identifier: GPL-2.0
//! The filesystem label, as `FS_IOC_GETFSLABEL` and `FS_IOC_SETFSLABEL`
//! (`xfs_io -c label`, `btrfs filesystem label`) read and set it.
//!
//! The label lives in the static superblock, which nothing else changes
//! after mkfs. A new label is one transaction that stores it and the
//! checksum in the superblock and in its backup (the only bytes of either
//! a transaction may log, `layout::SB_CHANGING`), so a power cut leaves
//! the old label or the new one in both, never a superblock that fails
//! its checksum. Each view of the core
//! keeps the superblock as mount read it, whose label may be older:
//! [`Fs::label`] reads the medium, so every view sees a new label.

use super::error::{Error, Result};
use super::fs::{read_superblock, Fs};
use super::layout::{Geometry, LABEL_SIZE, SB_CHANGING};
use super::medium::{Medium, MediumRead};

impl<M: MediumRead> Fs<M> {
    /// The label, without its NUL padding (at most [`LABEL_SIZE`] bytes).
    pub fn label(&self) -> Result<([u8; LABEL_SIZE], usize)> {
        let label = read_superblock(&self.pm, true)?.label;
        let len = label.iter().position(|&b| b == 0).unwrap_or(LABEL_SIZE);
        Ok((label, len))
    }
}

impl<M: Medium> Fs<M> {
    /// Make `label` (no NUL in it, at most [`LABEL_SIZE`] bytes) the
    /// label.
    pub fn set_label(&mut self, label: &[u8]) -> Result<()> {
        if label.len() > LABEL_SIZE || label.contains(&0) {
            return Err(Error::Invalid);
        }
        let mut sb = read_superblock(&self.pm, true)?;
        sb.label = [0; LABEL_SIZE];
        sb.label[..label.len()].copy_from_slice(label);
        let raw = sb.encode();
        let backup = Geometry::block_off(self.geo.backup_sb_block());
        self.transact(|fs| {
            for copy in [0, backup] {
                for r in SB_CHANGING {
                    fs.tx_write(copy + r.start as u64, &raw[r])?;
                }
            }
            Ok(())
        })
    }
}
