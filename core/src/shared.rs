// SPDX-License-Identifier: GPL-2.0
//! What the filesystems mounted over one device share: the kernel mounts
//! one changing [`Fs`](super::Fs) per journal area (see `Fs::sibling`),
//! each with its own stage, so that transactions can run side by side;
//! each writer medium keeps this state for them all
//! ([`Medium::shared`](super::medium::Medium::shared)).
//!
//! * The journal areas' last committed transactions (`journal_area.rs`).
//! * A change count per allocation group. Each filesystem keeps the
//!   counters of the groups it uses in memory across transactions; a
//!   commit that changed a group counts it, and a transaction that finds
//!   a group's count moved since that filesystem last read or wrote its
//!   record reads the record again. Which groups a filesystem may touch
//!   at all is its group scope (`Fs::set_group_scope`): groups in one's
//!   scope are changed by no other filesystem while it runs.

use core::sync::atomic::{AtomicU64, Ordering};

use super::journal_area::AreaTable;
use super::layout::MAX_GROUPS;

/// State shared by every filesystem mounted over one device.
#[derive(Debug)]
pub struct Shared {
    /// Every journal area's last committed transaction.
    pub(super) areas: AreaTable,
    /// Commits that changed each group.
    group_changes: [AtomicU64; MAX_GROUPS],
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            areas: AreaTable::closed(),
            group_changes: [const { AtomicU64::new(0) }; MAX_GROUPS],
        }
    }
}

impl Shared {
    /// Mount: every area closed (recovery closed them on media).
    pub(super) fn reset(&self) {
        self.areas.reset();
    }

    /// Commits that changed group `g` so far.
    pub(super) fn group_changes(&self, g: u64) -> u64 {
        self.group_changes[g as usize].load(Ordering::Acquire)
    }

    /// A commit changed group `g`: the count it leaves.
    pub(super) fn group_changed(&self, g: u64) -> u64 {
        self.group_changes[g as usize].fetch_add(1, Ordering::AcqRel) + 1
    }
}
