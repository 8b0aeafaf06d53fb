// SPDX-License-Identifier: GPL-2.0
//! Filesystem type registration and mount contexts.

use super::acl::NewAcls;
use super::bindings;
use super::dax::{DaxDev, DaxMapping};
use super::inode::{Attr, Found, Moved, NameNote, NewNode, RenameFlags, SetAttr, Statfs};
use super::inode_cache::InodeCache;
use super::iomap::{MapReply, MapRequest};
use super::map_cache::MapCache;
use super::media_error::MediaLoss;
use super::xattr::XattrSet;
use core::marker::PhantomData;
use kernel::error::{code::ENOPARAM, from_result, to_result};
use kernel::prelude::*;
use kernel::types::Opaque;

/// Callback of [`FileSystem::readdir`]: `(name, ino, dtype, next_pos)`,
/// returns false when the caller's buffer is full.
pub type Emit<'a> = dyn FnMut(&[u8], u64, u8, u64) -> bool + 'a;

/// Callback of [`FileSystem::list_xattr`]: `(at, namespace code, name)`,
/// returns where the listing goes on.
pub type ListXattr<'a> = dyn FnMut(usize, u8, &[u8]) -> Result<usize> + 'a;

/// What a mount may do to its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A read-write mount.
    ReadWrite,
    /// A read-only mount (`-o ro`) of a writable device: recovery may
    /// still write, as on ext4 and XFS.
    ReadOnly,
    /// The block device is read-only (`blockdev --setro`): nothing may be
    /// written, for as long as the mount lasts.
    DeviceReadOnly,
}

/// Outcome of parsing one mount option.
pub enum Param {
    /// The option was understood and recorded.
    Handled,
    /// Not ours: the VFS tries its own (e.g. `source`) and then refuses it.
    Unknown,
}

/// A filesystem type implemented in Rust. One value of `Self` exists per
/// mounted superblock; the VFS glue in this module calls its methods with
/// inode numbers, names and plain attribute structs.
///
/// Every method that changes the filesystem is one atomic operation of the
/// implementation; the glue refreshes the VFS inodes involved afterwards by
/// reading their attributes back with [`FileSystem::attr`].
pub trait FileSystem: Sized + Send + Sync + 'static {
    /// Name under which the type registers (`mount -t NAME`).
    const NAME: &'static CStr;
    /// Name of the inode slab (/proc/slabinfo).
    const INODE_CACHE: &'static CStr;
    /// `f_type` reported by statfs.
    const MAGIC: u32;
    /// Largest file size.
    const MAX_BYTES: i64;
    /// The inode flags (FS_*_FL, `chattr`) the filesystem stores; the glue
    /// refuses others with EOPNOTSUPP.
    const INODE_FLAGS: u32;
    /// Mount options being collected.
    type Options: Default + Send + Sync;

    /// Record mount option `key` (with `value` for `key=value`).
    fn parse_param(opts: &mut Self::Options, key: &[u8], value: Option<&[u8]>) -> Result<Param>;
    /// Mount: validate and recover the media behind `pmem`. `Err` carries a
    /// message for the mount log.
    fn fill_super(
        opts: &Self::Options,
        access: Access,
        pmem: DaxMapping,
    ) -> core::result::Result<Self, (Error, &'static CStr)>;
    /// Remount with new options and read-only state.
    fn reconfigure(&self, opts: &Self::Options, read_only: bool) -> Result;
    /// The options in effect, as `,opt,opt=val` for /proc/mounts.
    fn show_options(&self, out: &mut dyn FnMut(&CStr));
    /// Inode number of the root directory.
    fn root_ino(&self) -> u64;
    /// Attributes of inode `ino`.
    fn attr(&self, ino: u64) -> Result<Attr>;
    /// Filesystem statistics.
    fn statfs(&self) -> Statfs;
    /// The last reference to `ino` is gone; `nlink` is its link count.
    fn evict(&self, ino: u64, nlink: u32);
    /// Look `name` up in directory `dir`.
    fn lookup(&self, dir: u64, name: &[u8]) -> Result<Found>;
    /// Emit the entries of `dir` from position `pos`: `emit(name, ino,
    /// dtype, next_pos)` returns false when the caller's buffer is full.
    fn readdir(&self, dir: u64, pos: u64, emit: &mut Emit<'_>) -> Result;
    // The namespace operations below return the attributes of the inodes
    // they changed as the operation committed them, so the glue updates
    // its VFS inodes with nothing left to fail after the commit.

    /// Create a file, directory, device node, FIFO, socket or (with
    /// `target`) symlink, with the ACLs it inherits (`acls`, stored in
    /// the same transaction); returns the new inode's and `dir`'s
    /// attributes. `note`: what the lookup of `name` noted, if it was
    /// this filesystem's.
    fn create(
        &self,
        dir: u64,
        name: &[u8],
        note: Option<NameNote>,
        node: &NewNode,
        acls: &NewAcls<'_>,
        target: Option<&[u8]>,
    ) -> Result<[Attr; 2]>;
    /// O_TMPFILE: an unnamed regular file (owned as `node` says: the
    /// directory it is opened in is the VFS's business) with the ACLs it
    /// inherits; returns its attributes.
    fn tmpfile(&self, node: &NewNode, acls: &NewAcls<'_>) -> Result<Attr>;
    /// Add the link `dir/name` to `ino`; returns the attributes of `ino`
    /// and `dir`.
    fn link(&self, ino: u64, dir: u64, name: &[u8]) -> Result<[Attr; 2]>;
    /// Remove `dir/name`, a link to `ino` (`is_dir` for rmdir); returns
    /// the attributes of `ino` and of `dir`.
    fn unlink(&self, dir: u64, name: &[u8], ino: u64, is_dir: bool) -> Result<[Attr; 2]>;
    /// renameat2(), moving the inodes `moved` (source, and target if the
    /// name exists); returns the attributes of `odir`, `ndir` and `moved`.
    #[allow(clippy::too_many_arguments)]
    fn rename(
        &self,
        odir: u64,
        oname: &[u8],
        ndir: u64,
        nname: &[u8],
        flags: RenameFlags,
        node: &NewNode,
        moved: [Option<Moved>; 2],
    ) -> Result<[Option<Attr>; 4]>;
    /// Change attributes, size included (truncate releases blocks; growing
    /// leaves a hole), and the access ACL a mode change masked, in one
    /// transaction; returns the new attributes.
    fn setattr(&self, ino: u64, attr: &SetAttr<'_>) -> Result<Attr>;
    /// Set the inode flags (`chattr`: FS_*_FL values, only those
    /// [`Self::INODE_FLAGS`] has) and the change time `now`; returns the
    /// new attributes.
    fn set_flags(&self, ino: u64, flags: u32, now: (i64, u32)) -> Result<Attr>;
    /// Copy the filesystem's label into `buf` (at most `buf.len()` bytes,
    /// the rest left alone); returns its length.
    fn label(&self, buf: &mut [u8]) -> Result<usize>;
    /// Make `label` (no NUL in it) the filesystem's label; EINVAL if it is
    /// longer than the filesystem holds.
    fn set_label(&self, label: &[u8]) -> Result;
    /// Read a symlink's target into `buf`; returns its length.
    fn readlink(&self, ino: u64, buf: &mut [u8]) -> Result<usize>;
    /// Copy extended attribute `name` in namespace `ns` (its code:
    /// `fs/xattr.rs`) of `ino` into `buf` (empty: only its length is
    /// wanted); returns its length. ENODATA if there is none, ERANGE if
    /// `buf` is too short.
    fn get_xattr(&self, ino: u64, ns: u8, name: &[u8], buf: &mut [u8]) -> Result<usize>;
    /// List the extended attributes of `ino`: `emit(at, ns, name)` gets
    /// where the listing is and returns where it goes on. The listing may
    /// start again from 0 (a lookup without locks that raced a change);
    /// returns where it ended.
    fn list_xattr(&self, ino: u64, emit: &mut ListXattr<'_>) -> Result<usize>;
    /// Set extended attribute `ns`/`name` of `ino` to `value`, or remove it
    /// (`None`), and the change time to `now`; returns the new attributes.
    fn set_xattr(
        &self,
        ino: u64,
        ns: u8,
        name: &[u8],
        value: Option<&[u8]>,
        mode: XattrSet,
        now: (i64, u32),
    ) -> Result<Attr>;
    /// Store `value` as the ACL of attribute code `ns`
    /// ([`super::acl::ACCESS`] or [`super::acl::DEFAULT`]) of `ino`, or remove it (`None`), with the mode `mode`
    /// and the change time `now`, in one transaction; returns the new
    /// attributes.
    fn set_acl(
        &self,
        ino: u64,
        ns: u8,
        value: Option<&[u8]>,
        mode: u16,
        now: (i64, u32),
    ) -> Result<Attr>;
    /// Write back the timestamps of `attr` (the VFS changed them: file
    /// writes, faults, atime), each only if later than the stored one.
    /// `dir_held`: `ino` is a directory whose `i_rwsem` the caller holds
    /// (shared), so no namespace change in it runs meanwhile.
    fn set_times(&self, ino: u64, attr: &Attr, dir_held: bool) -> Result;

    // The data path. Offsets are bytes; the glue holds the locks that
    // locking.rst gives for each call.

    /// The DAX device the blocks live on.
    fn dax(&self) -> DaxDev;
    /// The device is going away: from now on nothing may touch it, and
    /// every operation fails with EIO. Returns once no operation that
    /// started before is still using the device.
    fn shutdown(&self);
    /// Whether [`FileSystem::shutdown`] happened.
    fn is_shut_down(&self) -> bool;
    /// A media error destroyed device blocks `blocks`: what they held. If
    /// that was metadata, the filesystem has shut down on return.
    fn media_error(&self, blocks: core::ops::Range<u64>) -> Result<MediaLoss>;
    /// Map a byte range of regular file `ino` (iomap_begin); a write over
    /// a hole allocates blocks that are zeroed and durable on return.
    /// `cache` is the inode's [`MapCache`], which may answer and which
    /// keeps what was found mapped.
    fn map(&self, ino: u64, req: &MapRequest, cache: &MapCache) -> Result<MapReply>;
    /// Data was written up to `size`: grow the file to it (never shrinks).
    fn grow_size(&self, ino: u64, size: u64) -> Result;
    /// fallocate: allocate zeroed blocks for every hole in `start..end`
    /// (block aligned).
    fn allocate(&self, ino: u64, start: u64, end: u64) -> Result;
    /// Punch: free the blocks of `start..end` (block aligned). The glue
    /// has unmapped the range and waited for pinned pages.
    fn punch(&self, ino: u64, start: u64, end: u64) -> Result;
    /// COLLAPSE_RANGE: remove `start..start + len` (block aligned, ending
    /// before EOF) and move the rest of the file down. The glue has
    /// unmapped everything from `start` on.
    fn collapse(&self, ino: u64, start: u64, len: u64) -> Result;
    /// INSERT_RANGE: move everything from `start` (block aligned, before
    /// EOF) up by `len` bytes, leaving a hole. Unmapped as for collapse.
    fn insert(&self, ino: u64, start: u64, len: u64) -> Result;
}

/// A registered filesystem type and its inode cache; unregistered on drop,
/// before the cache is destroyed.
///
/// # Invariants
///
/// `fs` is registered with the VFS from a successful `new` until `drop`,
/// and every superblock of this type has `s_type == fs.get()`.
#[pin_data(PinnedDrop)]
pub struct Registration<T: FileSystem> {
    inode_cache: InodeCache,
    #[pin]
    fs: Opaque<bindings::file_system_type>,
    _t: PhantomData<T>,
}

impl<T: FileSystem> Registration<T> {
    /// The inode cache of `sb`'s filesystem type.
    ///
    /// # Safety
    ///
    /// `sb` must be a live superblock of a type registered as `T`.
    pub(crate) unsafe fn inode_cache<'a>(sb: *mut bindings::super_block) -> &'a InodeCache {
        // SAFETY: per the contract `s_type` is the `fs` field of a pinned,
        // live `Registration<T>` (type invariant).
        unsafe {
            let fs =
                Opaque::cast_from((*sb).s_type.cast::<bindings::file_system_type>()).cast_mut();
            &(*kernel::container_of!(fs, Registration<T>, fs)).inode_cache
        }
    }
}

// SAFETY: the VFS only reads `file_system_type` under its own locks once it
// is registered; nothing in Rust touches it after registration.
unsafe impl<T: FileSystem> Sync for Registration<T> {}
// SAFETY: see `Sync`; the registration may be dropped from any thread.
unsafe impl<T: FileSystem> Send for Registration<T> {}

impl<T: FileSystem> Registration<T> {
    /// Register `T` as a filesystem type owned by `module`.
    pub fn new(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inode_cache: InodeCache::new(T::INODE_CACHE)?,
            fs <- Opaque::try_ffi_init(move |slot: *mut bindings::file_system_type| {
                // SAFETY: `slot` is valid for writes; all-zero is a valid
                // `file_system_type` and we fill in what we use.
                unsafe {
                    slot.write(core::mem::zeroed());
                    (*slot).name = T::NAME.as_char_ptr();
                    (*slot).owner = module.as_ptr();
                    // Idmapped mounts: every owner the glue stores or
                    // checks goes through the mount's idmap (new_node's
                    // mapped_fsuid, setattr_prepare/setattr_copy,
                    // getattr's generic_fillattr, posix_acl_update_mode).
                    (*slot).fs_flags = (bindings::FS_REQUIRES_DEV | bindings::FS_ALLOW_IDMAP) as i32;
                    (*slot).init_fs_context = Some(init_fs_context::<T>);
                    (*slot).kill_sb = Some(bindings::kill_block_super);
                }
                // SAFETY: `slot` is pinned and lives until `drop`, which
                // unregisters it (type invariant).
                to_result(unsafe { bindings::register_filesystem(slot) })
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T: FileSystem> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered since `new` succeeded (type invariant). A mounted
        // superblock holds a reference on `owner`, so no mount outlives this.
        unsafe { bindings::unregister_filesystem(self.fs.get()) };
    }
}

/// The per-mount-context data: options being parsed.
struct Context<T: FileSystem> {
    opts: T::Options,
}

impl<T: FileSystem> Context<T> {
    const OPS: bindings::fs_context_operations = bindings::fs_context_operations {
        free: Some(free_context::<T>),
        dup: None,
        parse_param: Some(parse_param::<T>),
        parse_monolithic: None,
        get_tree: Some(get_tree::<T>),
        reconfigure: Some(reconfigure::<T>),
    };
}

/// # Safety
///
/// `fc` must be a live context whose `fs_private` was set by
/// `init_fs_context::<T>` and not yet freed.
unsafe fn context<'a, T: FileSystem>(fc: *mut bindings::fs_context) -> &'a mut Context<T> {
    // SAFETY: per the function's contract `fs_private` is a leaked
    // `KBox<Context<T>>`; the VFS serialises calls on one context.
    unsafe { &mut *(*fc).fs_private.cast::<Context<T>>() }
}

/// Report a mount failure to the mount log and dmesg.
pub(crate) fn fc_error(fc: *mut bindings::fs_context, msg: &CStr) {
    // SAFETY: `fc` is the live context of the current callback; `msg` is a
    // NUL-terminated string.
    unsafe { bindings::ferrodax_fc_error(fc, msg.as_char_ptr()) };
}

/// # Safety
///
/// Only called by the kernel as the `init_fs_context` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn init_fs_context<T: FileSystem>(
    fc: *mut kernel::bindings::fs_context,
) -> kernel::ffi::c_int {
    let fc = fc.cast::<bindings::fs_context>();
    from_result(|| {
        let ctx = KBox::new(
            Context::<T> {
                opts: T::Options::default(),
            },
            GFP_KERNEL,
        )?;
        // SAFETY: the VFS passes a context it owns; we install our private
        // data and ops, which `free_context` releases.
        unsafe {
            (*fc).fs_private = KBox::into_raw(ctx).cast();
            (*fc).ops = &Context::<T>::OPS;
        }
        Ok(0)
    })
}

/// # Safety
///
/// Only called by the kernel as the `free_context` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn free_context<T: FileSystem>(fc: *mut bindings::fs_context) {
    // SAFETY: called once by the VFS when the context dies.
    let p = unsafe { (*fc).fs_private };
    if !p.is_null() {
        // SAFETY: `fs_private` came from `KBox::into_raw` in `init_fs_context`.
        drop(unsafe { KBox::from_raw(p.cast::<Context<T>>()) });
    }
}

/// # Safety
///
/// Only called by the kernel as the `parse_param` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn parse_param<T: FileSystem>(
    fc: *mut bindings::fs_context,
    param: *mut bindings::fs_parameter,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: the VFS passes a valid parameter: `key` is a C string,
        // and for string values `string` is one too (else it is not ours).
        let (key, value) = unsafe {
            let key = CStr::from_char_ptr((*param).key).to_bytes();
            let value = if (*param).type_() == bindings::fs_value_type_fs_value_is_string {
                Some(CStr::from_char_ptr((*param).__bindgen_anon_1.string).to_bytes())
            } else {
                None
            };
            (key, value)
        };
        // SAFETY: our context, installed by `init_fs_context`.
        let ctx = unsafe { context::<T>(fc) };
        match T::parse_param(&mut ctx.opts, key, value) {
            Ok(Param::Handled) => Ok(0),
            Ok(Param::Unknown) => Err(ENOPARAM),
            Err(e) => {
                fc_error(fc, c"bad value for a mount option");
                Err(e)
            }
        }
    })
}

/// # Safety
///
/// Only called by the kernel as the `get_tree` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn get_tree<T: FileSystem>(fc: *mut bindings::fs_context) -> kernel::ffi::c_int {
    // SAFETY: `fc` is live; `fill_super` is called back synchronously.
    unsafe { bindings::get_tree_bdev(fc, Some(super::super_block::fill_super::<T>)) }
}

/// # Safety
///
/// Only called by the kernel as the `reconfigure` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn reconfigure<T: FileSystem>(
    fc: *mut bindings::fs_context,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: on reconfigure `root` is the mounted filesystem's root, whose
        // superblock is active for the whole call.
        let sb = unsafe { (*(*fc).root).d_sb };
        // SAFETY: `sb` is a live ferrodax superblock (see above).
        let fs = unsafe { super::super_block::fs_of::<T>(sb) };
        // SAFETY: `fc` is live.
        let read_only = unsafe { bindings::ferrodax_fc_rdonly(fc) };
        // SAFETY: `sb` is active; syncing is always allowed here.
        to_result(unsafe { bindings::sync_filesystem(sb) })?;
        // SAFETY: our context.
        let ctx = unsafe { context::<T>(fc) };
        fs.reconfigure(&ctx.opts, read_only)?;
        Ok(0)
    })
}

/// The options a mount context collected (for `fill_super`).
///
/// # Safety
///
/// `fc` must be a live context initialised by `init_fs_context::<T>`.
pub(crate) unsafe fn options<'a, T: FileSystem>(fc: *mut bindings::fs_context) -> &'a T::Options {
    // SAFETY: per the contract.
    unsafe { &context::<T>(fc).opts }
}
