// SPDX-License-Identifier: GPL-2.0
//! A mounted filesystem: validation on mount, recovery, and transactions.
//!
//! Operations live in their own files as further `impl Fs` blocks:
//! `bitmap.rs` (allocation), `extent.rs` (file block mapping), `dir.rs`
//! (directories), `namei.rs` (namespace), `file.rs` (sizes and mapping),
//! `orphan.rs` (unlinked-but-open and mid-truncate inodes), `group.rs`
//! (allocation groups' counters).
//!
//! Concurrency: `Fs` is a plain `&mut` structure for changes. The kernel
//! module wraps the one that changes the filesystem in a lock (the "core
//! lock", see Documentation/.../locking.rst) and runs lookups on a second,
//! read-only `Fs` over the same device ([`Fs::reader`]) without it; the
//! host tests call it directly.

use super::dir_summary::{Summary, SummaryChange};
use super::error::{Error, Result};
use super::group::load_groups;
use super::inode::{Inode, Kind};
use super::journal::Journal;
use super::layout::{Geometry, Group, Superblock, HUGE_BLOCKS, MAX_GROUPS, ROOT_INO, SB_SIZE};
use super::medium::{Medium, MediumRead};
use super::persist::Pm;
use super::verified::Stamp;

/// The superblock as the medium holds it now: [`Superblock::decode`], or
/// [`Superblock::decode_static`] (the label unchecked) for `!label_too`.
/// Not inlined: its frame holds the raw copy, off mount's deepest path
/// (recovery).
#[inline(never)]
pub(super) fn read_superblock<M: MediumRead>(pm: &Pm<M>, label_too: bool) -> Result<Superblock> {
    let mut raw = [0u8; SB_SIZE];
    pm.read(0, &mut raw)?;
    if label_too {
        Superblock::decode(&raw)
    } else {
        Superblock::decode_static(&raw)
    }
}

/// Options for [`Fs::mount`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MountOptions {
    /// Refuse every change (recovery still runs unless `no_recovery`).
    pub read_only: bool,
    /// Write nothing: neither roll back an interrupted transaction nor
    /// process orphans (the `norecovery` option, a read-only block
    /// device). Implies read-only, for as long as this mount lasts; a
    /// journal that needs rolling back fails the mount with
    /// [`Error::NeedsRecovery`].
    pub no_recovery: bool,
    /// Mount even when the root directory is damaged, for fsck to check
    /// the rest and replace it ([`Fs::recreate_root`]).
    pub damaged_root: bool,
    /// Leave the orphan list for [`Fs::release_orphans`] (fsck: a damaged
    /// list is a problem to report, not a reason to refuse the mount).
    pub keep_orphans: bool,
    /// The device blocks that start a 2 MiB-aligned physical run are those
    /// `== huge_phase` modulo 512 (the device's first page need not be
    /// 2 MiB-aligned): where 2 MiB runs are allocated, so PMD mappings
    /// work. Not on the media: a property of where the device sits.
    pub huge_phase: u64,
}

/// What mount found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MountReport {
    /// An interrupted transaction was rolled back.
    pub rolled_back: bool,
    /// Orphan inodes released or truncated.
    pub orphans: u64,
}

/// A mounted ferrodax filesystem over a medium.
pub struct Fs<M: MediumRead> {
    pub(super) pm: Pm<M>,
    /// As mount read it; its label may be older (see `label.rs`).
    pub(super) sb: Superblock,
    pub(super) geo: Geometry,
    pub(super) journal: Journal,
    /// Every group's counters (the first `geo.groups` are used).
    pub(super) groups: [Group; MAX_GROUPS],
    /// Groups the running transaction changed (bit `g`).
    pub(super) dirty_groups: u16,
    /// Groups transactions may touch (bit `g`, see `group.rs`).
    pub(super) scope: u16,
    /// Each group's change count (`shared.rs`) when this filesystem last
    /// read or wrote its record.
    pub(super) group_changes: [u64; MAX_GROUPS],
    read_only: bool,
    /// The journal was recovered at mount (not a `no_recovery` mount or
    /// a reader), so this filesystem may become read-write.
    recovered: bool,
    failed: bool,
    pub(super) huge_phase: u64,
    /// How the transaction's last changes of one record (an insert, a
    /// removal; a rename makes both) changed their entry blocks'
    /// summaries, each under the stamp its seal gave the block: applied
    /// once the transaction commits, each if nothing changed its block
    /// after it (`dir_summary.rs`).
    pub(super) summary_changes: [Option<(Stamp, SummaryChange)>; 2],
    /// Entry blocks the running transaction took out of their directory
    /// (copied to new ones by a reshape, or emptied; `dir_change.rs`),
    /// freed once its operation is done: a block it freed must not be
    /// allocated again before it commits (`FreedRuns`), and a create may
    /// reshape several times. 0 for none (block 0 is the
    /// superblock's); 32-bit, as block numbers are (`layout::MAX_BLOCKS`),
    /// since `Fs` moves by value through mount's deep frames.
    pub(super) retired: [u32; RETIRED],
}

/// Entry blocks one transaction may retire; a reshape past that rewrites
/// its block in place.
pub(super) const RETIRED: usize = 8;

impl<M: MediumRead> Fs<M> {
    /// The superblock as mount read it (the current label:
    /// [`Fs::label`]).
    pub fn superblock(&self) -> &Superblock {
        &self.sb
    }

    /// The geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geo
    }

    /// Whether changes are refused.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The persistence layer, for the tools.
    pub fn pm(&self) -> &Pm<M> {
        &self.pm
    }
}

impl<M: Medium> Fs<M> {
    /// Validate the superblock, roll back an interrupted transaction and
    /// release orphans. Reads O(metadata touched): never a device scan.
    pub fn mount(medium: M, opts: MountOptions) -> Result<(Fs<M>, MountReport)> {
        let (mut fs, mut report) = Fs::open(medium, opts)?;
        if !opts.no_recovery && !opts.keep_orphans {
            report.orphans = fs.release_kept_orphans()?;
        }
        Ok((fs, report))
    }

    /// [`Fs::mount`] up to its release of orphans, which it leaves to
    /// [`Fs::release_kept_orphans`]: for a caller that recovers once the
    /// filesystem is where it stays (the kernel: on a kernel stack,
    /// mount's frames and a release's do not fit on top of each other).
    pub fn open(medium: M, opts: MountOptions) -> Result<(Fs<M>, MountReport)> {
        let mut pm = Pm::new(medium);
        pm.verified().clear();
        let (geo, needs_read_only) = {
            let fixed = read_superblock(&pm, false)?;
            (fixed.geo, fixed.needs_read_only())
        };
        if Geometry::block_off(geo.total_blocks) > pm.len() {
            return Err(Error::Corrupt("superblock size (larger than the device)"));
        }
        let read_only = opts.read_only || opts.no_recovery || needs_read_only;
        let mut report = MountReport::default();
        let journal = if opts.no_recovery {
            Journal::inspect(&pm, &geo)?
        } else {
            let (j, rolled_back) = Journal::recover(&mut pm, &geo)?;
            report.rolled_back = rolled_back;
            j
        };
        // The label is checked once recovery has put back (or finished) a
        // change of it that a power cut tore.
        let sb = read_superblock(&pm, true)?;
        let groups = load_groups(&pm, &geo)?;
        let shared = pm.medium().shared();
        let group_changes = core::array::from_fn(|g| shared.group_changes(g as u64));
        let mut fs = Fs {
            pm,
            sb,
            geo,
            journal,
            groups,
            dirty_groups: 0,
            scope: u16::MAX,
            group_changes,
            read_only: false,
            recovered: !opts.no_recovery,
            failed: false,
            huge_phase: opts.huge_phase % HUGE_BLOCKS,
            summary_changes: [None; 2],
            retired: [0; RETIRED],
        };
        match fs.read_inode(ROOT_INO) {
            Ok(root) if root.kind() == Kind::Directory => {}
            _ if opts.damaged_root => {}
            Ok(_) => return Err(Error::Corrupt("root inode is not a directory")),
            Err(e) => return Err(e),
        }
        fs.read_only = read_only;
        Ok((fs, report))
    }

    /// Release the orphans [`Fs::open`] (or a mount with
    /// [`MountOptions::keep_orphans`]) left, as mount does (a read-only
    /// mount too); returns how many.
    pub fn release_kept_orphans(&mut self) -> Result<u64> {
        let read_only = core::mem::replace(&mut self.read_only, false);
        let released = self.release_orphans();
        self.read_only = read_only;
        released
    }

    /// A read-only view of this filesystem through `medium`, a second
    /// handle on the same device that can only read it: lookups on it
    /// need no access to `self`, so they can run while `self` changes the
    /// filesystem. They see the medium as transactions leave it in place,
    /// which is a committed state only outside [`Medium::in_place_begin`]
    /// .. [`Medium::in_place_end`]: a caller running them alongside
    /// changes must validate each against those two calls (the kernel
    /// uses a seqcount, `mm/in_place.rs`) and discard what overlapped them.
    pub fn reader<R: MediumRead>(&self, medium: R) -> Fs<R> {
        Fs {
            pm: Pm::new(medium),
            sb: self.sb,
            geo: self.geo,
            journal: Journal::unused(&self.geo),
            groups: self.groups,
            dirty_groups: 0,
            scope: 0,
            group_changes: [0; MAX_GROUPS],
            read_only: true,
            recovered: false,
            failed: false,
            huge_phase: self.huge_phase,
            summary_changes: [None; 2],
            retired: [0; RETIRED],
        }
    }

    /// Run the next transactions in journal area `area` modulo
    /// [`JOURNAL_AREAS`](super::layout::JOURNAL_AREAS) (between
    /// transactions; see `journal_area.rs`). Any area works for any
    /// transaction, but no two filesystems over one device may use one
    /// area: the kernel gives each of its views its own ([`Fs::sibling`]),
    /// and the crash explorer rotates one filesystem over all of them.
    pub fn set_journal_area(&mut self, area: usize) {
        self.journal.set_area(area);
    }

    /// Another changing view of this filesystem through `medium`, a
    /// second writer handle on the same device (a stage of its own, the
    /// same [`Shared`](super::shared::Shared) state), whose transactions
    /// run in journal area `area`: so that transactions can run side by
    /// side, one per view. Running two at once is the caller's to make
    /// safe: their views' group scopes must be disjoint, and every inode
    /// record, directory and extent tree that one changes must be kept
    /// from the other (the kernel's VFS locks), as must every in-place
    /// window from the other's readers (`Medium::in_place_begin`).
    pub fn sibling(&self, medium: M, area: usize) -> Fs<M> {
        Fs {
            pm: Pm::new(medium),
            sb: self.sb,
            geo: self.geo,
            journal: self.journal.sibling(&self.geo, area),
            groups: self.groups,
            dirty_groups: 0,
            scope: u16::MAX,
            group_changes: self.group_changes,
            read_only: self.read_only,
            recovered: self.recovered,
            failed: false,
            huge_phase: self.huge_phase,
            summary_changes: [None; 2],
            retired: [0; RETIRED],
        }
    }

    /// Refuse changes from now on (read-only remount, errors=remount-ro).
    pub fn set_read_only(&mut self) {
        self.read_only = true;
    }

    /// Accept changes again (read-write remount). Refused when the medium
    /// failed under a transaction, the mount skipped recovery (its
    /// journal sequence was not moved past stale entries), or the image
    /// has read-only-compatible features this code lacks.
    pub fn set_read_write(&mut self) -> Result<()> {
        if self.failed {
            return Err(Error::Io);
        }
        if !self.recovered || self.sb.needs_read_only() {
            return Err(Error::ReadOnly);
        }
        self.read_only = false;
        Ok(())
    }

    /// Unmount cleanly (see [`Fs::mark_clean`]), giving the medium back.
    pub fn into_medium(mut self) -> M {
        // A medium that fails here has failed for the next mount too,
        // which finds the last transaction committed all the same.
        let _ = self.mark_clean();
        self.pm.into_medium()
    }

    /// Clean unmount: close every journal area's last committed
    /// transaction (which recovery would otherwise check again).
    pub fn mark_clean(&mut self) -> Result<()> {
        if self.failed || self.read_only || self.journal.is_active() {
            return Ok(());
        }
        self.journal.mark_clean(&mut self.pm)
    }

    /// Run `op` as one atomic transaction: committed if it returns `Ok`,
    /// rolled back through the undo journal if it returns `Err`. Inside
    /// a running transaction (see [`Fs::reporting`]) `op` joins it.
    pub(super) fn transact<T>(&mut self, op: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.failed {
            return Err(Error::Io);
        }
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        if self.journal.is_active() {
            return op(self);
        }
        self.dirty_groups = 0;
        self.refresh_groups()?;
        self.journal.begin(&mut self.pm)?;
        // The log is sealed here, not in commit: if it cannot log (the
        // undo journal is full) the transaction rolls back like any other
        // failed one, instead of looking like a failed medium.
        self.summary_changes.iter_mut().for_each(|c| *c = None);
        self.retired = [0; RETIRED];
        let result = op(self)
            .and_then(|v| self.free_retired().map(|()| v))
            .and_then(|v| self.write_groups().map(|()| v))
            .and_then(|v| self.journal.seal(&mut self.pm, &self.geo).map(|()| v));
        // Whether each summary change is the last of its block (the commit
        // then moves its epoch on once more, to what the medium holds in
        // place).
        let last = self.summary_changes.each_ref().map(|c| {
            c.as_ref()
                .is_some_and(|(sealed, _)| self.pm.verified().still(*sealed))
        });
        let end = match result {
            Ok(_) => self
                .journal
                .commit(&mut self.pm)
                .map(|()| self.count_group_changes()),
            Err(_) => self
                .journal
                .abort(&mut self.pm, &self.geo)
                .and_then(|()| self.reload_groups()),
        };
        if let Err(e) = end {
            // The medium failed under us; nothing more can be trusted.
            self.failed = true;
            return Err(e);
        }
        if result.is_ok() {
            self.apply_summary_changes(last);
        }
        result
    }

    /// Apply the summary changes of the transaction that just committed
    /// (`last`: whether each was the last change of its block). Not
    /// inlined: the changes stay where they are, out of the frames of
    /// the transactions (kernel stacks are 16 KiB).
    #[inline(never)]
    fn apply_summary_changes(&self, last: [bool; 2]) {
        let Some(table) = self.pm.summaries() else {
            return;
        };
        // In order, so that a change from the state another left (a
        // rename's removal after its insert in one block) finds it.
        for (c, last) in self.summary_changes.iter().zip(last) {
            let Some((sealed, change)) = c else {
                continue;
            };
            let to = match last {
                true => self.pm.verified().stamp(sealed.blk()),
                // A state no one sees again: kept for the next change.
                false => Some(*sealed),
            };
            if let Some(to) = to {
                table.change(to, change);
            }
        }
    }

    /// The summary of an entry block in state `stamp`: kept, or derived by
    /// a change of the running transaction that left the block so.
    pub(super) fn summary_at(&self, stamp: Stamp) -> Option<Summary> {
        let pending = self.summary_changes.iter().flatten();
        match pending.rev().find(|(sealed, _)| *sealed == stamp) {
            Some((_, change)) => Some(change.next),
            None => self.pm.summaries()?.get(stamp),
        }
    }

    /// A change of one record of entry block `blk`, just sealed, changed
    /// its summary as `change` says.
    pub(super) fn summary_changed(&mut self, blk: u64, change: SummaryChange) {
        let Some(sealed) = self.pm.verified().stamp(blk) else {
            return;
        };
        let [first, second] = &mut self.summary_changes;
        if second.is_some() {
            *first = second.take();
        }
        match first {
            None => *first = Some((sealed, change)),
            Some(_) => *second = Some((sealed, change)),
        }
    }

    /// Run the one-transaction operation `op` and read, in the same
    /// transaction, the inodes `inos` as it leaves them into `out` (`None`
    /// slots are skipped; `out` is only meaningful when this returns
    /// `Ok`). For a caller that mirrors inodes in memory, as the kernel's
    /// VFS inodes do: it gets their committed state with the result, and
    /// nothing can fail once the operation has committed, since a failed
    /// read rolls the operation back. An `op` too big for one transaction
    /// fails cleanly (the undo journal fills). The inodes go to `out`, not
    /// into the result, so that they are not copied through every frame
    /// between the transaction and the caller (kernel stacks are small).
    pub fn reporting<T, const N: usize>(
        &mut self,
        inos: [Option<u64>; N],
        out: &mut [Option<Inode>; N],
        op: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.transact(|fs| {
            let result = op(fs)?;
            for (slot, ino) in out.iter_mut().zip(inos) {
                *slot = match ino {
                    Some(ino) => Some(fs.read_inode(ino)?),
                    None => None,
                };
            }
            Ok(result)
        })
    }

    /// Change `off..off + data.len()` inside the running transaction.
    pub(super) fn tx_write(&mut self, off: u64, data: &[u8]) -> Result<()> {
        debug_assert!(self.journal.is_active());
        self.journal.write(&mut self.pm, off, data)
    }
}
