// SPDX-License-Identifier: GPL-2.0
//! Allocation groups in memory: the counters of every group as the running
//! transaction leaves them, written back to the groups' records when it
//! commits and read back from them when it rolls back, or when another
//! filesystem over the same device changed them (`shared.rs`).
//!
//! Each group owns whole chunks of both bitmaps (`layout::Geometry::
//! group_inodes`, `group_blocks`) and a record of its own, so
//! transactions that allocate in different groups never log the same bytes:
//! what lets them run side by side (see `core-v2.rst`). A filesystem's
//! *group scope* says which groups its transactions may touch; a
//! transaction that needs another fails with [`Error::Contended`] before it
//! reads or stages anything of that group, and rolls back.

use super::error::{Error, Result};
use super::layout::{Counters, Geometry, Group, GROUP_SIZE, MAX_GROUPS};
use super::medium::{Medium, MediumRead};
use super::persist::Pm;
use super::Fs;

/// Read and validate the records of `geo`'s groups (mount: O(groups), not
/// O(device)).
pub(super) fn load_groups<M: MediumRead>(
    pm: &Pm<M>,
    geo: &Geometry,
) -> Result<[Group; MAX_GROUPS]> {
    let mut groups = [Group::default(); MAX_GROUPS];
    for (g, group) in (0..geo.groups).zip(groups.iter_mut()) {
        *group = committed_group(pm, geo, g)?;
    }
    Ok(groups)
}

/// Group `g`'s counters as its record on the medium holds them.
pub fn committed_group<M: MediumRead>(pm: &Pm<M>, geo: &Geometry, g: u64) -> Result<Group> {
    let mut raw = [0u8; GROUP_SIZE];
    pm.read(Geometry::group_off(g), &mut raw)?;
    Group::decode(&raw, geo, g)
}

impl<M: MediumRead> Fs<M> {
    /// Free blocks and inodes of the whole filesystem, as statfs reports
    /// them (the sum over the groups).
    pub fn counters(&self) -> Counters {
        self.groups[..self.geo.groups as usize]
            .iter()
            .fold(Counters::default(), |c, g| Counters {
                free_blocks: c.free_blocks + g.free_blocks,
                free_inodes: c.free_inodes + g.free_inodes,
            })
    }

    /// Group `g`'s counters.
    pub fn group(&self, g: u64) -> Group {
        self.groups[g as usize]
    }

    /// Free-space counters as the medium holds them: those of the last
    /// committed transaction (what a [reader](Fs::reader) sees).
    pub fn committed_counters(&self) -> Result<Counters> {
        let mut c = Counters::default();
        for g in 0..self.geo.groups {
            let group = committed_group(&self.pm, &self.geo, g)?;
            c.free_blocks += group.free_blocks;
            c.free_inodes += group.free_inodes;
        }
        Ok(c)
    }
}

impl<M: Medium> Fs<M> {
    /// Let transactions touch only the groups of `scope` (bit `g`), all
    /// of them with `u16::MAX` (the default). Between transactions.
    pub fn set_group_scope(&mut self, scope: u16) {
        self.scope = scope;
    }

    /// Fail with [`Error::Contended`] unless group `g` is in scope.
    pub(super) fn in_scope(&self, g: u64) -> Result<()> {
        match self.scope & (1 << g) {
            0 => Err(Error::Contended),
            _ => Ok(()),
        }
    }

    /// Fail with [`Error::Contended`] unless every group is in scope.
    pub(super) fn all_in_scope(&self) -> Result<()> {
        (0..self.geo.groups).try_for_each(|g| self.in_scope(g))
    }

    /// Group `g`'s counters in the running transaction, if in scope.
    pub(super) fn group_in_scope(&self, g: u64) -> Result<Group> {
        self.in_scope(g)?;
        Ok(self.groups[g as usize])
    }

    /// Group `g`'s counters, to change in the running transaction.
    pub(super) fn group_mut(&mut self, g: u64) -> Result<&mut Group> {
        self.in_scope(g)?;
        self.dirty_groups |= 1 << g;
        Ok(&mut self.groups[g as usize])
    }

    /// Transaction start: read again the records of the groups in scope
    /// that another filesystem over the device changed since this one
    /// last read or wrote them.
    pub(super) fn refresh_groups(&mut self) -> Result<()> {
        for g in 0..self.geo.groups {
            if self.scope & (1 << g) == 0 {
                continue;
            }
            let changes = self.pm.medium().shared().group_changes(g);
            if changes != self.group_changes[g as usize] {
                self.groups[g as usize] = committed_group(&self.pm, &self.geo, g)?;
                self.group_changes[g as usize] = changes;
            }
        }
        Ok(())
    }

    /// The running transaction committed: count the groups it changed.
    pub(super) fn count_group_changes(&mut self) {
        for g in 0..self.geo.groups {
            if self.dirty_groups & (1 << g) != 0 {
                let changes = self.pm.medium().shared().group_changed(g);
                self.group_changes[g as usize] = changes;
            }
        }
    }

    /// Log the records of the groups the running transaction changed.
    pub(super) fn write_groups(&mut self) -> Result<()> {
        for g in 0..self.geo.groups {
            if self.dirty_groups & (1 << g) == 0 {
                continue;
            }
            let off = Geometry::group_off(g);
            let mut cur = [0u8; GROUP_SIZE];
            self.pm.read(off, &mut cur)?;
            let new = self.groups[g as usize].encode();
            if cur != new {
                self.tx_write(off, &new)?;
            }
        }
        Ok(())
    }

    /// The running transaction rolled back: the changed groups' counters
    /// are again what their records hold.
    pub(super) fn reload_groups(&mut self) -> Result<()> {
        for g in 0..self.geo.groups {
            if self.dirty_groups & (1 << g) != 0 {
                self.groups[g as usize] = committed_group(&self.pm, &self.geo, g)?;
            }
        }
        self.dirty_groups = 0;
        Ok(())
    }

    /// The generation of a new inode `ino`, from its group's counter.
    pub(super) fn next_generation(&mut self, ino: u64) -> Result<u32> {
        let g = self.group_mut(self.geo.inode_group(ino))?;
        let generation = g.next_generation as u32;
        g.next_generation = g.next_generation.wrapping_add(1);
        Ok(generation)
    }
}
