// SPDX-License-Identifier: GPL-2.0
//! The ferrodax filesystem: the VFS's view of a mounted core.
//!
//! The core is mounted as one changing view per journal area in use
//! (`Fs::sibling`), each under a mutex of its own, all under the core lock
//! (a read-write semaphore, see
//! Documentation/filesystems/ferrodax/locking.rst). Creates (O_TMPFILE too), links,
//! unlinks, renames of files within a directory, setattr, inode releases,
//! writes and faults filling holes, fallocate, punch, collapse and insert
//! range, size and time stores take the core lock shared and one view: the
//! VFS or an inode lock (`fs/inode_lock.rs`) holds each inode and directory
//! they change, and a view allocates only in its own allocation groups, so
//! they run side by side.
//! An operation that needs another view's group rolls back (`Contended`)
//! and runs again exclusive, as every other change does: the core lock
//! exclusive and any view, with every group in scope. Nothing here
//! touches user memory or waits on anything else while holding them.
//!
//! Lookups, stat, readdir, readlink and block lookups take no filesystem
//! lock: they run on a read-only view of the core over the same device
//! (`Fs::reader`), validated by the in-place seqcount (`mm/in_place.rs`),
//! and take the core lock shared only when transactions keep storing in
//! place under them.

use crate::fcore::acl::{AclChange, Acls};
use crate::fcore::dir::{Lookup, NameSlot};
use crate::fcore::extent::Mapping;
use crate::fcore::fs::{MountOptions, MountReport};
use crate::fcore::inode::{flags, Inode, Kind, Time, MAX_FILE_SIZE};
use crate::fcore::layout::{
    BLOCK_SIZE, HUGE_BLOCKS, JOURNAL_AREAS, MAX_GROUPS, NAME_MAX, ROOT_INO,
};
use crate::fcore::namei::NewInode;
use crate::fcore::owner::Owner;
use crate::fcore::xattr::{Namespace, SetMode};
use crate::fcore::{Error as CoreError, Fs};
use crate::mm::in_place::InPlaceSeq;
use crate::mm::pmem::{PmemMedium, PmemReader};
use crate::options::{Errors, Options};
use crate::vfs::acl::NewAcls;
use crate::vfs::dax::{DaxDev, DaxMapping, DaxReadLock};
use crate::vfs::fs_type::{Access, Emit, FileSystem, ListXattr, Param};
use crate::vfs::inode::{Attr, Found, Moved, NameNote, NewNode, RenameFlags, SetAttr, Statfs};
use crate::vfs::inode_lock::InodeLocks;
use crate::vfs::iomap::{MapKind, MapReply, MapRequest};
use crate::vfs::map_cache::{CachedExtent, MapCache};
use crate::vfs::media_error::{LostData, MediaLoss};
use crate::vfs::rwsem::RwSem;
use crate::vfs::xattr::XattrSet;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};
use kernel::{cpu::CpuId, new_mutex, static_lock_class, str::CStr};

/// A changing view of the core, under its mutex.
type View = Pin<KBox<Mutex<Fs<PmemMedium>>>>;

/// One mounted ferrodax filesystem.
pub(crate) struct FerrodaxFs {
    /// The core lock: shared by the operations that run side by side on
    /// their views, exclusive for every other change, the media-error
    /// owner scan, and lookups that lost to transactions too often.
    core: Pin<KBox<RwSem<()>>>,
    /// The core's changing views: view `i` runs in journal area `i` and,
    /// under the core lock shared, allocates in the groups `g` with
    /// `g % views.len() == i`.
    views: KVec<View>,
    /// Held around each side-by-side transaction that changes an inode
    /// the VFS may not hold for it.
    inodes: Pin<KBox<InodeLocks>>,
    /// The core's read-only view, for lookups without the core lock (boxed:
    /// an `Fs` is over 1 KiB, and every move of it on the mount path was
    /// a copy in a stack frame).
    reader: KBox<Fs<PmemReader>>,
    /// Odd while a transaction stores metadata in place.
    in_place: Arc<InPlaceSeq>,
    /// The core refuses changes (mirrored here for the lock-free lookup of
    /// mapped blocks, whose writes change no metadata).
    read_only: AtomicBool,
    opts: Pin<KBox<Mutex<Options>>>,
    fsid: u64,
    dax: DaxDev,
    /// The pmem device is going away (or gone): see `shutdown`.
    shut_down: AtomicBool,
}

/// Lock-free tries of a lookup before it takes the core lock shared (a
/// window is a transaction's in-place stores: microseconds, unless its
/// writer was preempted).
const OPTIMISTIC_TRIES: u32 = 8;

/// Blocks allocated or freed under one hold of the core lock by fallocate
/// and hole punching, so a huge range does not stall every other operation.
const RANGE_STEP: u64 = 4 * HUGE_BLOCKS;

fn time((sec, nsec): (i64, u32)) -> Time {
    Time { sec, nsec }
}

/// The core's namespace of the glue's code (`fs/xattr.rs`).
fn namespace(ns: u8) -> Result<Namespace> {
    Namespace::from_byte(ns).ok_or(EOPNOTSUPP)
}

/// The core's change for the ACLs a new inode inherits.
fn inherited<'a>(acls: &NewAcls<'a>) -> Acls<'a> {
    let set = |v: Option<&'a [u8]>| v.map_or(AclChange::Keep, AclChange::Set);
    Acls {
        access: set(acls.access),
        default: set(acls.default),
    }
}

fn attr_of(ino: u64, i: &Inode) -> Attr {
    Attr {
        ino,
        mode: u32::from(i.mode),
        uid: i.uid,
        gid: i.gid,
        nlink: i.nlink,
        generation: i.generation,
        size: i.size,
        blocks: i.blocks,
        rdev: if i.kind() == Kind::Special { i.root } else { 0 },
        atime_sec: i.atime.sec,
        mtime_sec: i.mtime.sec,
        ctime_sec: i.ctime.sec,
        atime_nsec: i.atime.nsec,
        mtime_nsec: i.mtime.nsec,
        ctime_nsec: i.ctime.nsec,
        flags: i.flags & flags::ALL,
        btime_sec: i.btime.sec,
        btime_nsec: i.btime.nsec,
    }
}

/// The attributes of an inode that [`Fs::reporting`] read.
fn reported(ino: u64, inode: Option<Inode>) -> Attr {
    attr_of(ino, &inode.unwrap_or_default())
}

fn new_inode(n: &NewNode) -> NewInode {
    NewInode {
        mode: n.mode,
        uid: n.uid,
        gid: n.gid,
        rdev: n.rdev,
    }
}

impl FerrodaxFs {
    /// Map a core error to an errno, applying `errors=` to corruption.
    /// A media error (a machine check on a metadata read, or a medium
    /// that failed under a commit) shuts the filesystem down: nothing read
    /// from there can be trusted. Poisoned data blocks never get here (the
    /// core does not read file data): the kernel's memory-failure handling
    /// kills the processes that map them.
    fn err(&self, e: CoreError) -> Error {
        match e {
            CoreError::Corrupt(what) => {
                pr_err!("corrupt {what}\n");
                match self.opts.lock().errors {
                    Errors::RemountRo => {
                        pr_err!("remounting read-only (errors=remount-ro)\n");
                        self.set_read_only();
                    }
                    Errors::Continue => {}
                    Errors::Panic => crate::vfs::super_block::panic_on_corruption(what),
                }
            }
            CoreError::Io if !self.is_shut_down() => {
                pr_err!("media error in metadata: shutting the filesystem down\n");
                self.shutdown();
            }
            _ => {}
        }
        Error::from_errno(-e.errno())
    }

    /// The view of this CPU.
    fn cpu_view(&self) -> usize {
        // `max(1)`: mount makes at least one view; without it the division
        // keeps a panic path that objtool does not know cannot return.
        CpuId::current().as_u32() as usize % self.views.len().max(1)
    }

    /// The view whose groups hold inode `ino`.
    fn ino_view(&self, ino: u64) -> usize {
        let fs = &self.reader;
        fs.geometry().inode_group(ino) as usize % self.views.len().max(1)
    }

    /// The groups view `v` of `n` allocates in, side by side.
    fn scope(v: usize, n: usize) -> u16 {
        (0..MAX_GROUPS)
            .filter(|g| g % n.max(1) == v)
            .fold(0, |m, g| m | 1 << g)
    }

    /// Run one core operation with the core lock exclusive (no other
    /// operation runs) on this CPU's view, with every group in scope.
    /// After a shutdown no operation reaches the medium: the flag is
    /// checked under the lock that `shutdown` takes (exclusive) after
    /// setting it.
    fn run<R>(&self, op: impl FnOnce(&mut Fs<PmemMedium>) -> crate::fcore::Result<R>) -> Result<R> {
        let core = self.core.write();
        if self.shut_down.load(Ordering::Acquire) {
            return Err(EIO);
        }
        let v = self.cpu_view();
        let mut fs = self.views[v].lock();
        fs.set_group_scope(u16::MAX);
        let result = op(&mut fs);
        fs.set_group_scope(Self::scope(v, self.views.len()));
        drop(fs);
        drop(core);
        result.map_err(|e| self.err(e))
    }

    /// Run one core operation on view `v` with the core lock shared, side
    /// by side with others on other views; exclusive ([`Self::run`]) if it
    /// needs a group outside the view's (it rolled back). `op` must leave
    /// alone every inode and directory the VFS does not hold for it.
    fn run_beside<R>(
        &self,
        v: usize,
        mut op: impl FnMut(&mut Fs<PmemMedium>) -> crate::fcore::Result<R>,
    ) -> Result<R> {
        let core = self.core.read();
        if self.shut_down.load(Ordering::Acquire) {
            return Err(EIO);
        }
        let mut fs = self.views[v].lock();
        let result = op(&mut fs);
        drop(fs);
        drop(core);
        match result {
            Err(CoreError::Contended) => self.run(op),
            r => r.map_err(|e| self.err(e)),
        }
    }

    /// [`Self::run_beside`] on the view whose groups hold inode `ino`,
    /// holding its inode lock: for a transaction that changes `ino` (and
    /// at most directories whose `i_rwsem` the VFS holds for it).
    fn run_on_inode<R>(
        &self,
        ino: u64,
        op: impl FnMut(&mut Fs<PmemMedium>) -> crate::fcore::Result<R>,
    ) -> Result<R> {
        let _inode = self.inodes.lock(ino);
        self.run_beside(self.ino_view(ino), op)
    }

    /// [`Self::run_on_inode`] for a transaction that changes two inodes:
    /// on the view whose groups hold `ino`, holding the inode locks of
    /// both.
    fn run_on_inodes<R>(
        &self,
        ino: u64,
        other: u64,
        op: impl FnMut(&mut Fs<PmemMedium>) -> crate::fcore::Result<R>,
    ) -> Result<R> {
        let _inodes = self.inodes.lock_two(ino, other);
        self.run_beside(self.ino_view(ino), op)
    }

    /// [`Self::run`] for an operation that changes nothing: for the few
    /// readers that need the writer's own state.
    fn run_alone<R>(
        &self,
        op: impl FnOnce(&Fs<PmemMedium>) -> crate::fcore::Result<R>,
    ) -> Result<R> {
        self.run(|fs| op(fs))
    }

    /// Run `f` on every view, with the core lock exclusive.
    fn each_view(
        &self,
        mut f: impl FnMut(&mut Fs<PmemMedium>) -> crate::fcore::Result<()>,
    ) -> Result {
        let core = self.core.write();
        let mut result = Ok(());
        for view in self.views.iter() {
            result = result.and(f(&mut view.lock()));
        }
        drop(core);
        result.map_err(|e| self.err(e))
    }

    /// Run the lookup `op` on the core's read-only view without the core
    /// lock: again if a transaction stored metadata in place meanwhile
    /// (what it read may be torn, so even its errors are discarded), and
    /// with the core lock exclusive, which keeps transactions out, after
    /// [`OPTIMISTIC_TRIES`]. `op` may run several times and must start
    /// over each time.
    fn run_read<R>(
        &self,
        mut op: impl FnMut(&Fs<PmemReader>) -> crate::fcore::Result<R>,
    ) -> Result<R> {
        let _device = DaxReadLock::lock();
        if self.shut_down.load(Ordering::Acquire) {
            return Err(EIO);
        }
        for _ in 0..OPTIMISTIC_TRIES {
            if let Some(result) = self.in_place.read(|| op(&self.reader)) {
                return result.map_err(|e| self.err(e));
            }
            core::hint::spin_loop();
        }
        let core = self.core.write();
        let result = op(&self.reader);
        drop(core);
        result.map_err(|e| self.err(e))
    }

    /// errors=remount-ro, or a read-only remount: refuse every change.
    fn set_read_only(&self) {
        // Not through each_view, whose errors go to err(), which calls
        // this: nothing here fails, and the stack check
        // (scripts/stack-depth.py) sees no recursion.
        let core = self.core.write();
        for view in self.views.iter() {
            view.lock().set_read_only();
        }
        drop(core);
        self.read_only.store(true, Ordering::Release);
    }
}

impl Drop for FerrodaxFs {
    /// Unmount: close every journal area's last committed transaction,
    /// which recovery would otherwise check (`Fs::mark_clean`; one view
    /// closes them all). Not after a shutdown:
    /// the medium may be going away.
    fn drop(&mut self) {
        if self.is_shut_down() {
            return;
        }
        if let Err(e) = self.run(|core| core.mark_clean()) {
            pr_warn!("unmount: journal not marked clean ({e:?}); the next mount checks it\n");
        }
    }
}

/// Mount the core on `medium` and box its views. Not inlined: the copies
/// of `Fs` (over 1 KiB each) that mounting and boxing make live in this
/// frame, gone before the rest of `fill_super` runs, instead of in
/// `fill_super`'s, under everything the mount calls.
#[inline(never)]
fn mount_core(
    medium: PmemMedium,
    mopts: MountOptions,
) -> core::result::Result<(KVec<View>, MountReport), (Error, &'static CStr)> {
    let (fs, report) = Fs::open(medium, mopts).map_err(mount_error)?;
    // One view per journal area the CPUs and groups can keep busy.
    let n = JOURNAL_AREAS
        .min(kernel::cpu::nr_cpu_ids() as usize)
        .min(fs.geometry().groups as usize)
        .max(1);
    let mut siblings = KVec::with_capacity(n - 1, GFP_KERNEL).map_err(oom)?;
    for v in 1..n {
        let medium = fs.pm().medium().sibling().map_err(oom)?;
        siblings
            .push(fs.sibling(medium, v), GFP_KERNEL)
            .map_err(oom)?;
    }
    let mut views = KVec::with_capacity(n, GFP_KERNEL).map_err(oom)?;
    views.push(view(fs, 0, n)?, GFP_KERNEL).map_err(oom)?;
    for (v, sibling) in (1..).zip(siblings) {
        views.push(view(sibling, v, n)?, GFP_KERNEL).map_err(oom)?;
    }
    Ok((views, report))
}

/// Why a mount failed, for dmesg and the mount(2) caller.
fn mount_error(e: CoreError) -> (Error, &'static CStr) {
    let (kind, what) = e.describe();
    pr_err!("cannot mount: {kind} {what}\n");
    match e {
        CoreError::Corrupt(_) => (
            EUCLEAN,
            c"not a valid ferrodax filesystem (see dmesg; try fsck.ferrodax)",
        ),
        CoreError::Unsupported(_) => (
            EINVAL,
            c"filesystem uses features this module does not support (see dmesg)",
        ),
        CoreError::NeedsRecovery => (
            EROFS,
            c"an interrupted transaction needs rolling back, which this mount may not write",
        ),
        _ => (EIO, c"cannot read the filesystem (see dmesg)"),
    }
}

/// Release the orphans mount_core left (`Fs::open`), on view 0 with
/// every group in scope; returns how many. Not in mount_core: its frames
/// and the core's mount frames would be under the release's (kernel stacks
/// are 16 KiB; scripts/stack-depth.py). Without the core lock: the
/// filesystem is not built yet, so nothing else can take a view.
fn release_orphans(views: &[View]) -> core::result::Result<u64, (Error, &'static CStr)> {
    let mut fs = views[0].lock();
    fs.set_group_scope(u16::MAX);
    let released = fs.release_kept_orphans();
    fs.set_group_scope(FerrodaxFs::scope(0, views.len()));
    released.map_err(mount_error)
}

/// View `v` of `n`, boxed under its mutex, with its groups in scope.
fn view(
    mut fs: Fs<PmemMedium>,
    v: usize,
    n: usize,
) -> core::result::Result<View, (Error, &'static CStr)> {
    fs.set_group_scope(FerrodaxFs::scope(v, n));
    KBox::pin_init(new_mutex!(fs, "ferrodax_view"), GFP_KERNEL).map_err(oom)
}

/// A failed allocation on the mount path.
fn oom<E>(_: E) -> (Error, &'static CStr) {
    (ENOMEM, c"out of memory")
}

impl FileSystem for FerrodaxFs {
    const NAME: &'static CStr = c"ferrodax";
    const INODE_CACHE: &'static CStr = c"ferrodax_inode";
    const MAGIC: u32 = 0x4644_4158; // "FDAX"
    const MAX_BYTES: i64 = MAX_FILE_SIZE as i64;
    const INODE_FLAGS: u32 = flags::ALL;
    type Options = Options;

    fn parse_param(opts: &mut Options, key: &[u8], value: Option<&[u8]>) -> Result<Param> {
        opts.parse(key, value)
    }

    fn fill_super(
        opts: &Options,
        access: Access,
        pmem: DaxMapping,
    ) -> core::result::Result<Self, (Error, &'static CStr)> {
        if opts.no_recovery && access == Access::ReadWrite {
            return Err((EINVAL, c"norecovery needs a read-only mount (-o ro)"));
        }
        let dax = pmem.device();
        let huge_phase = pmem.huge_phase();
        let medium = PmemMedium::new(pmem).map_err(|e| (e, c"out of memory"))?;
        let mopts = MountOptions {
            read_only: access != Access::ReadWrite,
            // A read-only device takes no write at all: not even recovery's.
            no_recovery: opts.no_recovery || access == Access::DeviceReadOnly,
            huge_phase,
            ..MountOptions::default()
        };
        // Orphans are released below, once the views are in place.
        let (views, report) = mount_core(medium, mopts)?;
        let orphans = match mopts.no_recovery {
            true => 0,
            false => release_orphans(&views)?,
        };
        let MountReport { rolled_back, .. } = report;
        if rolled_back {
            pr_info!("rolled back an interrupted transaction\n");
        }
        if orphans > 0 {
            pr_info!("released {orphans} orphan inodes\n");
        }
        let fs = views[0].lock();
        let uuid = fs.superblock().uuid;
        let fsid = u64::from_le_bytes([
            uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
        ]);
        let (pmem_reader, in_place) = fs.pm().medium().reader();
        let reader = KBox::new(fs.reader(pmem_reader), GFP_KERNEL).map_err(oom)?;
        let read_only = AtomicBool::new(fs.is_read_only());
        drop(fs);
        let core = KBox::pin_init(
            RwSem::new((), c"ferrodax_core", static_lock_class!()),
            GFP_KERNEL,
        )
        .map_err(oom)?;
        Ok(FerrodaxFs {
            core,
            views,
            inodes: KBox::pin_init(InodeLocks::new(), GFP_KERNEL).map_err(oom)?,
            reader,
            in_place,
            read_only,
            opts: KBox::pin_init(new_mutex!(*opts, "ferrodax_opts"), GFP_KERNEL).map_err(oom)?,
            fsid,
            dax,
            shut_down: AtomicBool::new(false),
        })
    }

    fn reconfigure(&self, opts: &Options, read_only: bool) -> Result {
        if !read_only {
            // Refused after a mount that skipped recovery (norecovery):
            // its journal was never brought up to date.
            self.each_view(|fs| fs.set_read_write()).inspect_err(|_| {
                pr_err!("cannot remount read-write (mounted with norecovery?)\n");
            })?;
            self.read_only.store(false, Ordering::Release);
        } else {
            self.set_read_only();
        }
        let mut current = self.opts.lock();
        *current = Options {
            no_recovery: current.no_recovery,
            ..*opts
        };
        Ok(())
    }

    fn show_options(&self, out: &mut dyn FnMut(&CStr)) {
        self.opts.lock().show(out);
    }

    fn root_ino(&self) -> u64 {
        ROOT_INO
    }

    fn attr(&self, ino: u64) -> Result<Attr> {
        self.run_read(|fs| fs.read_inode(ino))
            .map(|i| attr_of(ino, &i))
    }

    fn statfs(&self) -> Statfs {
        // The groups' records: each view keeps only its own groups'.
        let c = self
            .run_read(|fs| fs.committed_counters())
            .unwrap_or_default();
        let g = self.reader.geometry();
        Statfs {
            blocks: g.total_blocks,
            free_blocks: c.free_blocks,
            files: g.inode_count - 1,
            free_files: c.free_inodes,
            fsid: self.fsid,
        }
    }

    fn evict(&self, ino: u64, nlink: u32) {
        if nlink == 0 {
            if let Err(e) = self.run_on_inode(ino, |fs| fs.release_inode(ino)) {
                pr_err!("cannot release inode {ino} (errno {}); it stays an orphan until the next mount\n", e.to_errno());
            }
        }
    }

    fn lookup(&self, dir: u64, name: &[u8]) -> Result<Found> {
        // An absent name's dentry keeps where the name would go, for the
        // create that usually follows (core `NameSlot`: checked there).
        Ok(match self.run_read(|fs| fs.probe(dir, name))? {
            Lookup::Found(e) => Found::Inode(e.ino),
            Lookup::Absent(slot) => Found::Absent(slot.map(|s| NameNote(s.to_words()))),
        })
    }

    fn readdir(&self, dir: u64, pos: u64, emit: &mut Emit<'_>) -> Result {
        // Entries are copied out in batches (under the core lock, when the
        // lock-free read loses to transactions) and emitted to user memory
        // (which may fault) with no lock held. The batch
        // buffers are allocated up front: nothing allocates (and so nothing
        // can enter reclaim) while the core lock is held.
        const BATCH: usize = 32;
        let mut names: KVec<u8> = KVec::with_capacity(BATCH * NAME_MAX, GFP_KERNEL)?;
        let mut batch: KVec<(usize, usize, u64, u8, u64)> = KVec::with_capacity(BATCH, GFP_KERNEL)?;
        let mut pos = pos;
        loop {
            self.run_read(|fs| {
                // Again from the start if a transaction interfered.
                names.clear();
                batch.clear();
                fs.readdir(dir, pos, |name, ino, dtype, next| {
                    let start = names.len();
                    if start + name.len() > names.capacity() {
                        return false; // cannot happen: BATCH names of NAME_MAX fit
                    }
                    // Within capacity: neither call allocates.
                    if names
                        .extend_from_slice(name, kernel::alloc::flags::GFP_NOWAIT)
                        .is_err()
                        || batch
                            .push_within_capacity((start, name.len(), ino, dtype, next))
                            .is_err()
                    {
                        names.truncate(start);
                        return false;
                    }
                    batch.len() < BATCH
                })
            })?;
            let full = batch.len() == BATCH;
            for &(start, len, ino, dtype, next) in batch.iter() {
                if !emit(&names[start..start + len], ino, dtype, next) {
                    return Ok(());
                }
                pos = next;
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn create(
        &self,
        dir: u64,
        name: &[u8],
        note: Option<NameNote>,
        node: &NewNode,
        acls: &NewAcls<'_>,
        target: Option<&[u8]>,
    ) -> Result<[Attr; 2]> {
        let now = time(node.now);
        let attr = new_inode(node);
        let acls = inherited(acls);
        let slot = note.and_then(|n| NameSlot::from_words(n.0));
        let mut d = [None];
        let (ino, inode) = self.run_beside(self.cpu_view(), |fs| {
            fs.reporting([Some(dir)], &mut d, |fs| match target {
                Some(t) => fs.symlink_at(dir, name, slot, t, attr, now),
                None => fs.create_at(dir, name, slot, (attr, &acls), now),
            })
        })?;
        Ok([attr_of(ino, &inode), reported(dir, d[0])])
    }

    fn tmpfile(&self, node: &NewNode, acls: &NewAcls<'_>) -> Result<Attr> {
        // Side by side, as a create: a new inode in the CPU's view's
        // groups, an orphan in its group's orphan bitmap; no directory
        // changes.
        let attr = new_inode(node);
        let acls = inherited(acls);
        self.run_beside(self.cpu_view(), |fs| {
            fs.tmpfile(attr, &acls, time(node.now))
        })
        .map(|(ino, inode)| attr_of(ino, &inode))
    }

    fn link(&self, ino: u64, dir: u64, name: &[u8]) -> Result<[Attr; 2]> {
        let now = time(crate::vfs::inode::now());
        let mut d = [None];
        let inode = self.run_on_inode(ino, |fs| {
            fs.reporting([Some(dir)], &mut d, |fs| fs.link(ino, dir, name, now))
        })?;
        Ok([attr_of(ino, &inode), reported(dir, d[0])])
    }

    fn unlink(&self, dir: u64, name: &[u8], victim: u64, is_dir: bool) -> Result<[Attr; 2]> {
        let now = time(crate::vfs::inode::now());
        // On the view whose groups hold the inode: a last link makes it an
        // orphan in its group's orphan bitmap.
        let mut d = [None];
        let (ino, inode) = self.run_on_inode(victim, |fs| {
            fs.reporting([Some(dir)], &mut d, |fs| {
                if is_dir {
                    fs.rmdir(dir, name, now)
                } else {
                    fs.unlink(dir, name, now)
                }
            })
        })?;
        Ok([attr_of(ino, &inode), reported(dir, d[0])])
    }

    fn rename(
        &self,
        odir: u64,
        oname: &[u8],
        ndir: u64,
        nname: &[u8],
        flags: RenameFlags,
        node: &NewNode,
        moved: [Option<Moved>; 2],
    ) -> Result<[Option<Attr>; 4]> {
        let flags = crate::fcore::namei::RenameFlags {
            noreplace: flags.noreplace,
            exchange: flags.exchange,
            whiteout: flags.whiteout,
            target_slot: flags.target_note.and_then(|n| NameSlot::from_words(n.0)),
            // do_renameat2 refused a move into the moved directory's own
            // subtree (lock_rename's trap) before calling us.
            ancestry_checked: true,
        };
        let inos = [
            Some(odir),
            Some(ndir),
            moved[0].map(|m| m.ino),
            moved[1].map(|m| m.ino),
        ];
        let mut inodes = [None; 4];
        let op = |fs: &mut Fs<PmemMedium>| {
            fs.reporting(inos, &mut inodes, |fs| {
                fs.rename(
                    odir,
                    oname,
                    ndir,
                    nname,
                    flags,
                    new_inode(node),
                    time(node.now),
                )
            })
        };
        // Side by side: a rename of non-directories changes the two
        // directories (their i_rwsem held by lock_rename), the moved inode
        // and the one it replaces or exchanges with (under their inode
        // locks; on the view of the replaced one, whose last link makes it
        // an orphan in its group's orphan bitmap). So does a rename of directories
        // whose i_rwsem is held (`held`: no create or removal in them
        // changes their records meanwhile), by the VFS or by the glue's
        // trylock; the VFS checked the new parent's ancestry, so the core
        // reads no directory nobody holds. Exclusive: a rename of a
        // directory whose i_rwsem the trylock did not get.
        match moved {
            [Some(m), None] if m.held => self.run_on_inode(m.ino, op),
            [Some(m), Some(t)] if m.held && t.held => self.run_on_inodes(t.ino, m.ino, op),
            _ => self.run(op),
        }?;
        Ok(core::array::from_fn(|k| {
            inos[k].zip(inodes[k]).map(|(ino, i)| attr_of(ino, &i))
        }))
    }

    fn setattr(&self, ino: u64, set: &SetAttr<'_>) -> Result<Attr> {
        let a = &set.attr;
        let attr = crate::fcore::file::SetAttr {
            mode: Some(a.mode as u16),
            uid: Some(a.uid),
            gid: Some(a.gid),
            atime: Some(time((a.atime_sec, a.atime_nsec))),
            mtime: Some(time((a.mtime_sec, a.mtime_nsec))),
            ctime: Some(time((a.ctime_sec, a.ctime_nsec))),
            size: set.size_changed.then_some(a.size),
            flags: None,
        };
        // Side by side under the inode lock: the VFS holds the inode's
        // i_rwsem, which faults and write_inode do not take.
        let inode = self.run_on_inode(ino, |fs| match set.access_acl {
            Some(acl) => {
                let acls = Acls {
                    access: AclChange::Set(acl),
                    ..Acls::NONE
                };
                fs.set_acls(ino, attr, &acls)
            }
            None => fs.setattr(ino, attr),
        })?;
        // The setattr has committed: the release of what a shrink left
        // (an orphan until it ends) reports its failure here and to
        // errors=, not to the caller; the next mount finishes it.
        match self.run_on_inode(ino, |fs| fs.finish_truncate(ino)) {
            Ok(done) => Ok(attr_of(ino, &done.unwrap_or(inode))),
            Err(e) => {
                pr_warn!(
                    "truncate of inode {ino} left blocks to release (errno {}); the next mount releases them\n",
                    e.to_errno()
                );
                Ok(attr_of(ino, &inode))
            }
        }
    }

    fn set_flags(&self, ino: u64, flags: u32, now: (i64, u32)) -> Result<Attr> {
        let attr = crate::fcore::file::SetAttr {
            flags: Some(flags),
            ctime: Some(time(now)),
            ..Default::default()
        };
        // As setattr: the VFS holds the inode's i_rwsem (directories too,
        // so no create in one changes its record beside).
        let inode = self.run_on_inode(ino, |fs| fs.setattr(ino, attr))?;
        Ok(attr_of(ino, &inode))
    }

    fn label(&self, buf: &mut [u8]) -> Result<usize> {
        let (label, len) = self.run_read(|fs| fs.label())?;
        let out = buf.get_mut(..len).ok_or(EINVAL)?;
        out.copy_from_slice(&label[..len]);
        Ok(len)
    }

    fn set_label(&self, label: &[u8]) -> Result {
        // Rare, and it owns no inode to lock: exclusive rather than beside
        // the others on a view.
        self.run(|fs| fs.set_label(label))
    }

    fn readlink(&self, ino: u64, buf: &mut [u8]) -> Result<usize> {
        self.run_read(|fs| fs.readlink(ino, buf))
    }

    fn get_xattr(&self, ino: u64, ns: u8, name: &[u8], buf: &mut [u8]) -> Result<usize> {
        let ns = namespace(ns)?;
        self.run_read(|fs| fs.get_xattr(ino, ns, name, buf))
    }

    fn list_xattr(&self, ino: u64, emit: &mut ListXattr<'_>) -> Result<usize> {
        self.run_read(|fs| {
            // Each try lists from the start. The glue's one error is a
            // buffer too short.
            let mut at = 0;
            fs.list_xattr(ino, |ns, name| {
                at = emit(at, ns as u8, name).map_err(|_| CoreError::Range)?;
                Ok(())
            })?;
            Ok(at)
        })
    }

    fn set_xattr(
        &self,
        ino: u64,
        ns: u8,
        name: &[u8],
        value: Option<&[u8]>,
        mode: XattrSet,
        now: (i64, u32),
    ) -> Result<Attr> {
        let ns = namespace(ns)?;
        let mode = match mode {
            XattrSet::Any => SetMode::Any,
            XattrSet::Create => SetMode::Create,
            XattrSet::Replace => SetMode::Replace,
        };
        // As setattr: the VFS holds the inode's i_rwsem.
        let set = |fs: &mut Fs<PmemMedium>| fs.set_xattr(ino, ns, name, value, mode, time(now));
        let inode = self.run_on_inode(ino, set)?;
        Ok(attr_of(ino, &inode))
    }

    fn set_acl(
        &self,
        ino: u64,
        ns: u8,
        value: Option<&[u8]>,
        mode: u16,
        now: (i64, u32),
    ) -> Result<Attr> {
        let change = value.map_or(AclChange::Remove, AclChange::Set);
        let acls = match namespace(ns)? {
            Namespace::AclAccess => Acls {
                access: change,
                ..Acls::NONE
            },
            Namespace::AclDefault => Acls {
                default: change,
                ..Acls::NONE
            },
            _ => return Err(EINVAL),
        };
        let attr = crate::fcore::file::SetAttr {
            mode: Some(mode),
            ctime: Some(time(now)),
            ..Default::default()
        };
        // As setattr: the VFS holds the inode's i_rwsem.
        let inode = self.run_on_inode(ino, |fs| fs.set_acls(ino, attr, &acls))?;
        Ok(attr_of(ino, &inode))
    }

    fn set_times(&self, ino: u64, a: &Attr, dir_held: bool) -> Result {
        let [atime, mtime, ctime] = [
            (a.atime_sec, a.atime_nsec),
            (a.mtime_sec, a.mtime_nsec),
            (a.ctime_sec, a.ctime_nsec),
        ]
        .map(time);
        let store = |fs: &mut Fs<PmemMedium>| fs.store_times(ino, atime, mtime, ctime);
        // A directory's record is changed side by side by the namespace
        // operations in it, under its i_rwsem: its times are stored beside
        // them only with i_rwsem held, exclusive otherwise.
        if Kind::of(a.mode as u16) == Some(Kind::Directory) && !dir_held {
            self.run(store).map(drop)
        } else {
            self.run_on_inode(ino, store).map(drop)
        }
    }

    fn dax(&self) -> DaxDev {
        self.dax
    }

    fn shutdown(&self) {
        self.shut_down.store(true, Ordering::Release);
        // Wait for the operation in flight, if any: later ones see the flag.
        drop(self.core.write());
    }

    fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    fn media_error(&self, blocks: core::ops::Range<u64>) -> Result<MediaLoss> {
        let mut loss = MediaLoss::default();
        let mut no_memory = false;
        self.run_alone(|fs| {
            fs.owners_of(blocks.clone(), |owner| match owner {
                Owner::Layout | Owner::Structure { .. } => loss.metadata = true,
                Owner::Data {
                    ino,
                    lblk,
                    pblk,
                    blocks,
                } => {
                    let lost = LostData {
                        ino,
                        pos: lblk * BLOCK_SIZE,
                        addr: pblk * BLOCK_SIZE,
                        len: blocks * BLOCK_SIZE,
                    };
                    no_memory |= loss.data.push(lost, GFP_KERNEL).is_err();
                }
            })
        })?;
        for lost in &loss.data {
            pr_err!(
                "media error in data of inode {}, bytes {}..{}: its mappings get SIGBUS\n",
                lost.ino,
                lost.pos,
                lost.pos + lost.len
            );
        }
        if loss.metadata {
            pr_crit!(
                "media error in metadata (device blocks {}..{}): shutting the filesystem down\n",
                blocks.start,
                blocks.end
            );
            self.shutdown();
        }
        if no_memory {
            // A later access of the poisoned page reports it again.
            return Err(ENOMEM);
        }
        Ok(loss)
    }

    fn map(&self, ino: u64, req: &MapRequest, cache: &MapCache) -> Result<MapReply> {
        let first = req.pos / BLOCK_SIZE;
        let count = req.pos.saturating_add(req.len - 1) / BLOCK_SIZE - first + 1;
        let limit = MAX_FILE_SIZE / BLOCK_SIZE;
        if first >= limit {
            // Past the format's limit nothing is mapped, and nothing can be.
            if req.write {
                return Err(EFBIG);
            }
            return Ok(MapReply {
                offset: first * BLOCK_SIZE,
                length: count.saturating_mul(BLOCK_SIZE),
                kind: MapKind::Hole,
            });
        }
        let count = count.min(limit - first);
        let create = req.write && !req.nowait;
        // Writing into mapped blocks changes no metadata, so the core's
        // read-only check (in its transactions) would not see it; after
        // errors=remount-ro no byte may be written, file data included
        // (ext4's emergency read-only state: the VFS flag itself is never
        // set without s_umount held).
        if req.write && self.read_only.load(Ordering::Acquire) {
            return Err(EROFS);
        }
        // Mapped blocks found before, while no extent change has run since
        // (after a shutdown not even the memory of them is handed out).
        if let Some(e) = cache.get(first) {
            if self.is_shut_down() {
                return Err(EIO);
            }
            return Ok(MapReply {
                offset: first * BLOCK_SIZE,
                length: (e.start + e.len - first) * BLOCK_SIZE,
                kind: MapKind::Mapped {
                    addr: e.addr + (first - e.start) * BLOCK_SIZE,
                    new: None,
                },
            });
        }
        let generation = cache.generation();
        // Mapped blocks (every read, fault and overwrite of written data)
        // are looked up without the core lock; only a hole to fill takes
        // it (shared, under the inode lock: two faults may fill holes of
        // one file at once), and looks again there (the core refuses the
        // change if the filesystem went read-only meanwhile).
        let found = self.run_read(|fs| fs.lookup_blocks(ino, first, count))?;
        let m = match found.mapping {
            Mapping::Hole { .. } if create => {
                self.run_on_inode(ino, |fs| fs.map_blocks(ino, first, count, true, true))?
            }
            _ => found,
        };
        let (length, kind) = match m.mapping {
            Mapping::Hole { .. } if req.write => return Err(EAGAIN), // NOWAIT
            Mapping::Hole { len } => (len, MapKind::Hole),
            Mapping::Mapped { pblk, len } => {
                let addr = pblk * BLOCK_SIZE;
                match m.new {
                    true => cache.invalidate(),
                    false => cache.fill(
                        generation,
                        CachedExtent {
                            start: first,
                            len,
                            addr,
                        },
                    ),
                }
                let new = m.new.then_some(m.blocks);
                (len, MapKind::Mapped { addr, new })
            }
        };
        Ok(MapReply {
            offset: first * BLOCK_SIZE,
            length: length * BLOCK_SIZE,
            kind,
        })
    }

    fn grow_size(&self, ino: u64, size: u64) -> Result {
        self.run_on_inode(ino, |fs| fs.grow_size(ino, size))
            .map(|_| ())
    }

    fn allocate(&self, ino: u64, start: u64, end: u64) -> Result {
        let (mut from, to) = (start / BLOCK_SIZE, end.div_ceil(BLOCK_SIZE));
        while from < to {
            let step = to.min(from + RANGE_STEP);
            self.run_on_inode(ino, |fs| fs.allocate_range(ino, from, step, true))?;
            from = step;
        }
        Ok(())
    }

    fn punch(&self, ino: u64, start: u64, end: u64) -> Result {
        let (mut from, to) = (start / BLOCK_SIZE, end / BLOCK_SIZE);
        while from < to {
            let step = to.min(from + RANGE_STEP);
            self.run_on_inode(ino, |fs| fs.punch_range(ino, from, step))?;
            from = step;
        }
        Ok(())
    }

    fn collapse(&self, ino: u64, start: u64, len: u64) -> Result {
        let now = time(crate::vfs::inode::now());
        self.run_on_inode(ino, |fs| {
            fs.collapse_range(ino, start / BLOCK_SIZE, len / BLOCK_SIZE, now)
        })
        .map(|_| ())
    }

    fn insert(&self, ino: u64, start: u64, len: u64) -> Result {
        let now = time(crate::vfs::inode::now());
        self.run_on_inode(ino, |fs| {
            fs.insert_range(ino, start / BLOCK_SIZE, len / BLOCK_SIZE, now)
        })
        .map(|_| ())
    }
}
