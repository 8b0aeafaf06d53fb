// SPDX-License-Identifier: GPL-2.0
//! Allocation groups in memory: the counters of every group as the running
//! transaction leaves them, written back to the groups' records when it
//! commits and read back from them when it rolls back.
//!
//! Each group owns whole chunks of both bitmaps (`layout::Geometry::
//! group_inodes`, `group_blocks`) and a record of its own, so
//! transactions that allocate in different groups never log the same bytes:
//! what lets them run side by side (see `core-v2.rst`).

use super::error::Result;
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

    /// The head of the first orphan list that is not empty.
    pub fn first_orphan(&self) -> Option<u64> {
        self.groups[..self.geo.groups as usize]
            .iter()
            .map(|g| g.orphan_head)
            .find(|&h| h != 0)
    }
}

impl<M: Medium> Fs<M> {
    /// Group `g`'s counters, to change in the running transaction.
    pub(super) fn group_mut(&mut self, g: u64) -> &mut Group {
        self.dirty_groups |= 1 << g;
        &mut self.groups[g as usize]
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
    pub(super) fn next_generation(&mut self, ino: u64) -> u32 {
        let g = self.group_mut(self.geo.inode_group(ino));
        let generation = g.next_generation as u32;
        g.next_generation = g.next_generation.wrapping_add(1);
        generation
    }
}
