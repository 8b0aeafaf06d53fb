// SPDX-License-Identifier: GPL-2.0
//! The inode cache and the inode, directory and symlink operation tables.
//!
//! VFS inodes mirror the filesystem's own: every operation returns the
//! attributes it committed for the inodes it touched and they are copied
//! into the VFS inodes, so the VFS never holds attributes the media does
//! not. Nothing can fail once an operation has committed: the VFS inode of
//! a new file is allocated before its filesystem inode is created.

use super::acl::{get_inode_acl, set_acl, Chmod, Inherited};
use super::bindings;
use super::extent_change;
use super::file::{fiemap, FileOps};
use super::fs_type::FileSystem;
use super::inode_cache::InodeBox;
use super::inode_ref::InodeRef;
use super::ioctl;
use super::super_block::fs_of;
use super::xattr::listxattr;
use core::marker::PhantomData;
use kernel::error::{from_result, to_result};
use kernel::prelude::*;

/// Inode attributes, in the layout the C side copies from.
pub type Attr = bindings::ferrodax_iattr;

/// What a new inode looks like.
#[derive(Debug, Clone, Copy)]
pub struct NewNode {
    /// Type and permission bits.
    pub mode: u16,
    /// Owner (in the initial user namespace).
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number (device nodes).
    pub rdev: u64,
    /// Creation time: seconds and nanoseconds.
    pub now: (i64, u32),
}

/// Two words a filesystem's lookup of a name it did not find leaves in
/// the negative dentry, which the glue hands to the create that fills
/// that dentry ([`FileSystem::create`]). A negative dentry may live on in
/// the dcache through any number of later changes (a create may come
/// much later, with no lookup before it): the filesystem checks a note
/// before it trusts one. The first word is never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameNote(pub [u64; 2]);

/// What [`FileSystem::lookup`] found.
#[derive(Debug, Clone, Copy)]
pub enum Found {
    /// The inode the name links to.
    Inode(u64),
    /// No such name; what to note in its negative dentry, if anything.
    Absent(Option<NameNote>),
}

/// renameat2() flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenameFlags {
    /// RENAME_NOREPLACE.
    pub noreplace: bool,
    /// RENAME_EXCHANGE.
    pub exchange: bool,
    /// RENAME_WHITEOUT.
    pub whiteout: bool,
    /// What the lookup of the new name noted, when it does not exist.
    pub target_note: Option<NameNote>,
}

/// An inode a rename moves (its source) or replaces (its target).
#[derive(Debug, Clone, Copy)]
pub struct Moved {
    /// Its inode number.
    pub ino: u64,
    /// Whether it is a directory (the VFS holds a directory's i_rwsem in a
    /// rename only when it changes parent).
    pub is_dir: bool,
    /// Whether its i_rwsem is held for the rename, which keeps creates and
    /// removals in a directory from changing its record: by the VFS (a
    /// non-directory, a directory that changes parent, a target directory
    /// not exchanged within one parent), or by the glue's trylock (shared).
    pub held: bool,
}

/// Attributes to store after a setattr (already checked and applied to the
/// VFS inode by `setattr_prepare` / `setattr_copy`).
pub struct SetAttr<'a> {
    /// The full new attributes.
    pub attr: Attr,
    /// The size changed.
    pub size_changed: bool,
    /// The access ACL a mode change masked, in its stored form, to store
    /// with the attributes.
    pub access_acl: Option<&'a [u8]>,
}

/// statfs figures.
#[derive(Debug, Clone, Copy)]
pub struct Statfs {
    /// Blocks on the device.
    pub blocks: u64,
    /// Free blocks.
    pub free_blocks: u64,
    /// Inodes.
    pub files: u64,
    /// Free inodes.
    pub free_files: u64,
    /// Filesystem id (from the UUID).
    pub fsid: u64,
}

/// The current time, as stored in timestamps.
pub fn now() -> (i64, u32) {
    let (mut sec, mut nsec) = (0, 0);
    // SAFETY: plain out-parameters.
    unsafe { bindings::ferrodax_now(&mut sec, &mut nsec) };
    (sec, nsec)
}

pub(crate) const S_IFMT: u32 = 0o170000;
pub(crate) const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// Get the VFS inode for `ino`, reading it from the filesystem if it is not
/// cached. Returns a referenced inode.
///
/// # Safety
///
/// `sb` must be a mounted (or being mounted) superblock of type `T` with
/// `s_fs_info` set.
pub(crate) unsafe fn iget<T: FileSystem>(
    sb: *mut bindings::super_block,
    ino: u64,
) -> Result<*mut bindings::inode> {
    // SAFETY: `sb` is live (contract).
    let inode = unsafe { bindings::iget_locked(sb, ino) };
    if inode.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: `inode` is a referenced inode.
    if !unsafe { bindings::ferrodax_inode_is_new(inode) } {
        return Ok(inode);
    }
    // SAFETY: `fs_of` per contract.
    let fs = unsafe { fs_of::<T>(sb) };
    let read = fs.attr(ino).and_then(|a| {
        let link = read_link(fs, &a)?;
        Ok((a, link))
    });
    match read {
        Ok((a, link)) => {
            // SAFETY: a new inode is ours to set up until unlock_new_inode.
            unsafe {
                fill(inode, &a);
                set_ops::<T>(inode, &a, link);
                bindings::unlock_new_inode(inode);
            }
            Ok(inode)
        }
        Err(e) => {
            // SAFETY: a new inode that could not be read is released this way.
            unsafe { bindings::iget_failed(inode) };
            Err(e)
        }
    }
}

/// The target of symlink `a` as `set_ops` keeps it (NUL-terminated);
/// `None` for other inodes.
fn read_link<T: FileSystem>(fs: &T, a: &Attr) -> Result<Option<KVec<u8>>> {
    if a.mode & S_IFMT != S_IFLNK {
        return Ok(None);
    }
    let size = a.size as usize;
    let mut target = KVec::from_elem(0u8, size + 1, GFP_KERNEL)?;
    if fs.readlink(a.ino, &mut target[..size])? != size {
        return Err(EIO);
    }
    Ok(Some(target))
}

/// A VFS inode allocated before the operation that creates its
/// filesystem inode, so that nothing is left to fail once that commits
/// (allocating it afterwards could fail with the file already created).
///
/// # Invariants
///
/// `inode` is a referenced inode from `new_inode` on a superblock of type
/// `T`, not hashed and not yet set up; `link` holds the target of the
/// symlink being created (NUL-terminated), if it is one.
struct Preallocated<T: FileSystem> {
    inode: *mut bindings::inode,
    link: Option<KVec<u8>>,
    _fs: PhantomData<T>,
}

impl<T: FileSystem> Preallocated<T> {
    /// # Safety
    ///
    /// `sb` must be a mounted superblock of type `T`.
    unsafe fn new(sb: *mut bindings::super_block, target: Option<&[u8]>) -> Result<Self> {
        let link = match target {
            Some(t) => {
                let mut link = KVec::with_capacity(t.len() + 1, GFP_KERNEL)?;
                link.extend_from_slice(t, GFP_KERNEL)?;
                link.push(0, GFP_KERNEL)?;
                Some(link)
            }
            None => None,
        };
        // SAFETY: per the contract.
        let inode = unsafe { bindings::new_inode(sb) };
        if inode.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: a fresh, unhashed inode from new_inode.
        Ok(Self {
            inode,
            link,
            _fs: PhantomData,
        })
    }

    /// Make this the VFS inode of `a`, just created: hashed and still
    /// locked (I_NEW) for the caller to publish.
    fn install(self, a: &Attr) -> Result<*mut bindings::inode> {
        // From here the inode is the caller's (or released below).
        let mut this = core::mem::ManuallyDrop::new(self);
        let (inode, link) = (this.inode, this.link.take());
        // SAFETY: by the invariants `inode` is ours to set up.
        unsafe {
            (*inode).i_ino = a.ino;
            fill(inode, a);
            set_ops::<T>(inode, a, link);
            if bindings::insert_inode_locked(inode) != 0 {
                // Only a live inode of the same number fails this: the
                // inode bitmap handed out an inode in use. The media is
                // left alone (a link count of 0 would release the inode).
                pr_err!("inode {} is in use twice: corrupt inode bitmap\n", a.ino);
                bindings::make_bad_inode(inode);
                bindings::set_nlink(inode, 1);
                bindings::iput(inode);
                return Err(EUCLEAN);
            }
        }
        Ok(inode)
    }
}

impl<T: FileSystem> Drop for Preallocated<T> {
    fn drop(&mut self) {
        // The operation failed: nothing uses the inode (it has a link
        // count of 1 and no number, so eviction leaves the media alone).
        // SAFETY: by the invariants we hold the only reference.
        unsafe { bindings::iput(self.inode) };
    }
}

/// Copy attributes into a VFS inode.
///
/// # Safety
///
/// `inode` must be a live inode of a superblock of type `T` that the caller
/// may modify (new, or under the locks the VFS holds for the operation).
unsafe fn fill(inode: *mut bindings::inode, a: &Attr) {
    // SAFETY: per the contract.
    unsafe {
        bindings::ferrodax_inode_fill(inode, a);
        InodeBox::extra(inode).set(a);
    }
}

/// Take what a change committed into an inode the VFS already has: as
/// [`fill`], but each time stays if the inode's is later (writes, faults
/// and reads set times in the inode only, until `write_inode` stores them).
///
/// # Safety
///
/// As for [`fill`].
pub(crate) unsafe fn update(inode: *mut bindings::inode, a: &Attr) {
    // SAFETY: per the contract.
    unsafe {
        bindings::ferrodax_inode_update(inode, a);
        InodeBox::extra(inode).set(a);
    }
}

/// Pick the operation tables of a new inode by its type (symlinks: keep the
/// target `link`, from [`read_link`]).
///
/// # Safety
///
/// `inode` must be a new inode of a superblock of type `T`, not yet
/// visible to anyone else.
unsafe fn set_ops<T: FileSystem>(inode: *mut bindings::inode, a: &Attr, link: Option<KVec<u8>>) {
    // SAFETY: per the contract.
    unsafe {
        match a.mode & S_IFMT {
            S_IFDIR => {
                (*inode).i_op = &Ops::<T>::DIR;
                (*inode).__bindgen_anon_3.i_fop = &Ops::<T>::DIR_FILE;
            }
            S_IFREG => {
                (*inode).i_op = &Ops::<T>::REG;
                (*inode).__bindgen_anon_3.i_fop = &FileOps::<T>::FOPS;
                bindings::ferrodax_set_dax(inode, &FileOps::<T>::AOPS);
            }
            S_IFLNK => {
                if let Some(target) = link {
                    InodeBox::from_inode(inode).set_link(target);
                }
                (*inode).i_op = &Ops::<T>::SYMLINK;
            }
            _ => {
                (*inode).i_op = &Ops::<T>::FILE;
                bindings::init_special_inode(
                    inode,
                    a.mode as bindings::umode_t,
                    a.rdev as bindings::dev_t,
                );
            }
        }
    }
}

/// Re-read an inode's attributes after an operation changed it (its
/// later times stay, as in [`update`]).
///
/// # Safety
///
/// As for [`fill`]; the inode is not new.
pub(crate) unsafe fn refresh<T: FileSystem>(inode: *mut bindings::inode) -> Result {
    // SAFETY: per the contract.
    unsafe {
        let a = fs_of::<T>((*inode).i_sb).attr((*inode).i_ino)?;
        update(inode, &a);
    }
    Ok(())
}

/// Put back the attributes the media has, times included, after a failed
/// setattr changed the inode.
///
/// # Safety
///
/// As for [`fill`]; the inode is not new.
unsafe fn restore<T: FileSystem>(inode: *mut bindings::inode) -> Result {
    // SAFETY: per the contract.
    unsafe {
        let a = fs_of::<T>((*inode).i_sb).attr((*inode).i_ino)?;
        fill(inode, &a);
    }
    Ok(())
}

/// The name of a dentry.
///
/// # Safety
///
/// `dentry` must be live for `'a` with a stable name (the VFS holds the
/// parent's i_rwsem during directory operations).
unsafe fn name<'a>(dentry: *mut bindings::dentry) -> &'a [u8] {
    let mut len = 0;
    // SAFETY: per the contract.
    unsafe {
        let p = bindings::ferrodax_dentry_name(dentry, &mut len);
        core::slice::from_raw_parts(p, len as usize)
    }
}

/// # Safety
///
/// `dentry` must be live.
unsafe fn dentry_inode(dentry: *mut bindings::dentry) -> *mut bindings::inode {
    // SAFETY: per the contract.
    unsafe { bindings::ferrodax_dentry_inode(dentry) }
}

/// # Safety
///
/// `inode` must be live.
unsafe fn ino_of(inode: *mut bindings::inode) -> u64 {
    // SAFETY: per the contract.
    unsafe { (*inode).i_ino }
}

/// # Safety
///
/// `dir` must be a live directory inode of a ferrodax superblock.
unsafe fn new_node(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    mode: u16,
    rdev: u64,
) -> NewNode {
    let (mut mode, mut uid, mut gid) = (mode, 0, 0);
    // SAFETY: per the contract; plain out-parameters.
    unsafe { bindings::ferrodax_new_owner(idmap, dir, &mut mode, &mut uid, &mut gid) };
    NewNode {
        mode,
        uid,
        gid,
        rdev,
        now: now(),
    }
}

struct Ops<T>(PhantomData<T>);

impl<T: FileSystem> Ops<T> {
    const DIR: bindings::inode_operations = {
        // SAFETY: all-zero is a valid inode_operations.
        let mut o: bindings::inode_operations = unsafe { core::mem::zeroed() };
        o.lookup = Some(lookup::<T>);
        o.create = Some(create::<T>);
        o.mkdir = Some(mkdir::<T>);
        o.mknod = Some(mknod::<T>);
        o.symlink = Some(symlink::<T>);
        o.link = Some(link::<T>);
        o.unlink = Some(unlink::<T>);
        o.rmdir = Some(rmdir::<T>);
        o.rename = Some(rename::<T>);
        o.tmpfile = Some(tmpfile::<T>);
        o.setattr = Some(setattr::<T>);
        o.getattr = Some(getattr);
        o.listxattr = Some(listxattr::<T>);
        o.get_inode_acl = Some(get_inode_acl::<T>);
        o.set_acl = Some(set_acl::<T>);
        o.fileattr_get = Some(fileattr_get);
        o.fileattr_set = Some(fileattr_set::<T>);
        o
    };
    const FILE: bindings::inode_operations = {
        // SAFETY: as above.
        let mut o: bindings::inode_operations = unsafe { core::mem::zeroed() };
        o.setattr = Some(setattr::<T>);
        o.getattr = Some(getattr);
        o.listxattr = Some(listxattr::<T>);
        o.get_inode_acl = Some(get_inode_acl::<T>);
        o.set_acl = Some(set_acl::<T>);
        o
    };
    const REG: bindings::inode_operations = {
        // SAFETY: as above.
        let mut o: bindings::inode_operations = unsafe { core::mem::zeroed() };
        o.setattr = Some(setattr::<T>);
        o.getattr = Some(getattr);
        o.listxattr = Some(listxattr::<T>);
        o.get_inode_acl = Some(get_inode_acl::<T>);
        o.set_acl = Some(set_acl::<T>);
        o.fiemap = Some(fiemap::<T>);
        o.fileattr_get = Some(fileattr_get);
        o.fileattr_set = Some(fileattr_set::<T>);
        o
    };
    const SYMLINK: bindings::inode_operations = {
        // SAFETY: as above.
        let mut o: bindings::inode_operations = unsafe { core::mem::zeroed() };
        o.get_link = Some(bindings::simple_get_link);
        o.setattr = Some(setattr::<T>);
        o.getattr = Some(getattr);
        // No ACLs on symlinks (as on ext4 and XFS).
        o.listxattr = Some(listxattr::<T>);
        o
    };
    const DIR_FILE: bindings::file_operations = {
        // SAFETY: all-zero is a valid file_operations.
        let mut o: bindings::file_operations = unsafe { core::mem::zeroed() };
        o.llseek = Some(bindings::generic_file_llseek);
        o.read = Some(bindings::generic_read_dir);
        o.iterate_shared = Some(iterate_shared::<T>);
        o.fsync = Some(bindings::noop_fsync);
        // NFS directory delegations (fcntl refuses directory leases).
        o.setlease = Some(bindings::generic_setlease);
        o.unlocked_ioctl = Some(ioctl::unlocked_ioctl::<T>);
        o
    };
}

/// # Safety
///
/// Only called by the kernel as the `lookup` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn lookup<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    _flags: kernel::ffi::c_uint,
) -> *mut bindings::dentry {
    // SAFETY: the VFS calls lookup with a live directory and a negative,
    // hashed-to-be dentry, holding the directory's i_rwsem (shared).
    let found = unsafe { fs_of::<T>((*dir).i_sb).lookup(ino_of(dir), name(dentry)) };
    let inode = match found {
        // SAFETY: `dir`'s superblock is mounted.
        Ok(Found::Inode(ino)) => match unsafe { iget::<T>((*dir).i_sb, ino) } {
            Ok(i) => i,
            Err(e) => return e.to_ptr(),
        },
        Ok(Found::Absent(note)) => {
            let [w0, w1] = note.map_or([0; 2], |n| n.0);
            // SAFETY: the dentry is not yet hashed (in lookup, or just
            // allocated under the parent's i_rwsem held exclusive), so no
            // one else uses its filesystem fields.
            unsafe { bindings::ferrodax_dentry_set_note(dentry, w0, w1) };
            core::ptr::null_mut()
        }
        Err(e) => return e.to_ptr(),
    };
    // SAFETY: `inode` is referenced or null; d_splice_alias consumes it.
    unsafe { bindings::d_splice_alias(inode, dentry) }
}

/// The note a lookup left in the negative `dentry`, taken out of it.
///
/// # Safety
///
/// `dentry` is a live negative dentry whose parent's i_rwsem the caller
/// holds exclusive.
unsafe fn take_note(dentry: *mut bindings::dentry) -> Option<NameNote> {
    let (mut w0, mut w1) = (0, 0);
    // SAFETY: per the contract, nothing else changes the dentry's
    // filesystem fields meanwhile.
    unsafe { bindings::ferrodax_dentry_take_note(dentry, &mut w0, &mut w1) }
        .then_some(NameNote([w0, w1]))
}

/// Common body of create, mkdir, mknod and symlink.
///
/// # Safety
///
/// The live arguments of one of those operations.
unsafe fn make<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: u16,
    rdev: u64,
    target: Option<&[u8]>,
) -> Result {
    // SAFETY: per the contract.
    unsafe {
        let mut node = new_node(idmap, dir, mode, rdev);
        let acls = Inherited::create(dir, &mut node.mode)?;
        let new = Preallocated::<T>::new((*dir).i_sb, target)?;
        let note = take_note(dentry);
        let fs = fs_of::<T>((*dir).i_sb);
        let [a, d] = fs.create(
            ino_of(dir),
            name(dentry),
            note,
            &node,
            &acls.values(),
            target,
        )?;
        update(dir, &d);
        let inode = new.install(&a)?;
        acls.cache(inode);
        bindings::d_instantiate_new(dentry, inode);
    }
    Ok(())
}

/// # Safety
///
/// Only called by the kernel as the `create` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn create<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
) -> kernel::ffi::c_int {
    // SAFETY: the VFS's create arguments, under the parent's i_rwsem.
    from_result(|| unsafe { make::<T>(idmap, dir, dentry, mode, 0, None) }.map(|()| 0))
}

/// # Safety
///
/// Only called by the kernel as the `mkdir` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn mkdir<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
) -> *mut bindings::dentry {
    // SAFETY: the VFS's mkdir arguments, under the parent's i_rwsem.
    match unsafe { make::<T>(idmap, dir, dentry, mode | S_IFDIR as u16, 0, None) } {
        Ok(()) => core::ptr::null_mut(),
        Err(e) => e.to_ptr(),
    }
}

/// # Safety
///
/// Only called by the kernel as the `mknod` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn mknod<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    rdev: bindings::dev_t,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: the VFS's mknod arguments, under the parent's i_rwsem.
        unsafe { make::<T>(idmap, dir, dentry, mode, u64::from(rdev), None) }.map(|()| 0)
    })
}

/// # Safety
///
/// Only called by the kernel as the `symlink` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn symlink<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    target: *const kernel::ffi::c_char,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: `target` is a NUL-terminated string from the VFS.
        let target = unsafe { CStr::from_char_ptr(target) }.to_bytes();
        // SAFETY: the VFS's symlink arguments, under the parent's i_rwsem.
        unsafe {
            make::<T>(
                idmap,
                dir,
                dentry,
                (S_IFLNK | 0o777) as u16,
                0,
                Some(target),
            )
        }?;
        Ok(0)
    })
}

/// # Safety
///
/// Only called by the kernel as the `link` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn link<T: FileSystem>(
    old: *mut bindings::dentry,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: the VFS's link arguments: `old` is positive, the VFS holds
        // the i_rwsem of `dir` and of the inode.
        unsafe {
            let inode = dentry_inode(old);
            let [a, d] = fs_of::<T>((*dir).i_sb).link(ino_of(inode), ino_of(dir), name(dentry))?;
            update(inode, &a);
            update(dir, &d);
            bindings::ihold(inode);
            bindings::d_instantiate(dentry, inode);
        }
        Ok(0)
    })
}

/// # Safety
///
/// The live arguments of unlink or rmdir.
unsafe fn remove<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    is_dir: bool,
) -> Result {
    // SAFETY: per the contract; the victim is positive and locked by the VFS.
    unsafe {
        let victim = dentry_inode(dentry);
        let [a, d] =
            fs_of::<T>((*dir).i_sb).unlink(ino_of(dir), name(dentry), ino_of(victim), is_dir)?;
        update(victim, &a);
        update(dir, &d);
    }
    Ok(())
}

/// # Safety
///
/// Only called by the kernel as the `unlink` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn unlink<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> kernel::ffi::c_int {
    // SAFETY: the VFS's unlink arguments.
    from_result(|| unsafe { remove::<T>(dir, dentry, false) }.map(|()| 0))
}

/// # Safety
///
/// Only called by the kernel as the `rmdir` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn rmdir<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> kernel::ffi::c_int {
    // SAFETY: the VFS's rmdir arguments.
    from_result(|| unsafe { remove::<T>(dir, dentry, true) }.map(|()| 0))
}

/// # Safety
///
/// Only called by the kernel as the `rename` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn rename<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    odir: *mut bindings::inode,
    odentry: *mut bindings::dentry,
    ndir: *mut bindings::inode,
    ndentry: *mut bindings::dentry,
    flags: kernel::ffi::c_uint,
) -> kernel::ffi::c_int {
    from_result(|| {
        let mut flags = RenameFlags {
            noreplace: flags & bindings::RENAME_NOREPLACE != 0,
            exchange: flags & bindings::RENAME_EXCHANGE != 0,
            whiteout: flags & bindings::RENAME_WHITEOUT != 0,
            target_note: None,
        };
        // SAFETY: the VFS's rename arguments, under lock_rename() and the
        // i_rwsems of the inodes involved; the dentries pin `src` and
        // `dst`, so the i_rwsems taken here by trylock are released below
        // on live inodes.
        unsafe {
            let whiteout = new_node(idmap, odir, S_IFCHR as u16, 0);
            let fs = fs_of::<T>((*odir).i_sb);
            let (src, dst) = (dentry_inode(odentry), dentry_inode(ndentry));
            if dst.is_null() {
                flags.target_note = take_note(ndentry);
            }
            let is_dir = |i: *mut bindings::inode| u32::from((*i).i_mode) & S_IFMT == S_IFDIR;
            // vfs_rename locks non-directories, directories that change
            // parent, and a target directory unless it is exchanged within
            // one parent. The others are tried here (shared), under the
            // parent's i_rwsem: a trylock never waits, so it adds no lock
            // order (and a child's i_rwsem nests inside its parent's).
            let vfs_holds = |i| !is_dir(i) || odir != ndir || (i == dst && !flags.exchange);
            let taken = [src, dst].map(|i| {
                !i.is_null() && !vfs_holds(i) && bindings::ferrodax_inode_trylock_shared(i)
            });
            let moved = [(src, taken[0]), (dst, taken[1])].map(|(i, taken)| {
                (!i.is_null()).then(|| Moved {
                    ino: ino_of(i),
                    is_dir: is_dir(i),
                    held: vfs_holds(i) || taken,
                })
            });
            let attrs = fs.rename(
                ino_of(odir),
                name(odentry),
                ino_of(ndir),
                name(ndentry),
                flags,
                &whiteout,
                moved,
            );
            for (i, taken) in [(src, taken[0]), (dst, taken[1])] {
                if taken {
                    bindings::ferrodax_inode_unlock(i, false);
                }
            }
            let attrs = attrs?;
            for (inode, a) in [odir, ndir, src, dst].into_iter().zip(attrs) {
                if let Some(a) = a {
                    update(inode, &a);
                }
            }
        }
        Ok(0)
    })
}

/// # Safety
///
/// Only called by the kernel as the `tmpfile` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn tmpfile<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    file: *mut bindings::file,
    mode: bindings::umode_t,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: the VFS's tmpfile arguments.
        unsafe {
            let mut node = new_node(idmap, dir, mode, 0);
            let acls = Inherited::create(dir, &mut node.mode)?;
            let new = Preallocated::<T>::new((*dir).i_sb, None)?;
            let a = fs_of::<T>((*dir).i_sb).tmpfile(&node, &acls.values())?;
            let inode = new.install(&a)?;
            acls.cache(inode);
            // d_tmpfile() drops one link: the media says 0, hand it 1.
            bindings::set_nlink(inode, 1);
            bindings::d_tmpfile(file, inode);
            bindings::unlock_new_inode(inode);
            to_result(bindings::ferrodax_finish_open_simple(file, 0))?;
        }
        Ok(0)
    })
}

/// # Safety
///
/// Only called by the kernel as the `setattr` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn setattr<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    iattr: *mut bindings::iattr,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: the VFS's setattr arguments, under the inode's i_rwsem.
        unsafe {
            let inode = dentry_inode(dentry);
            // The VFS refuses mode, owner and time changes of an immutable
            // inode, but not ftruncate() through a file opened before
            // chattr +i (ext4 refuses every change here too).
            if bindings::ferrodax_inode_immutable(inode) {
                return Err(EPERM);
            }
            to_result(bindings::setattr_prepare(idmap, dentry, iattr))?;
            let size_changed = (*iattr).ia_valid & bindings::ATTR_SIZE != 0;
            // A mode change masks the access ACL: both go in one
            // transaction (posix_acl_chmod would store the ACL after).
            let chmod = match (*iattr).ia_valid & bindings::ATTR_MODE != 0 {
                true => Some(Chmod::new(inode, (*iattr).ia_mode)?),
                false => None,
            };
            bindings::setattr_copy(idmap, inode, iattr);
            let mut attr = Attr::default();
            bindings::ferrodax_inode_attrs(inode, &mut attr);
            if size_changed && (*iattr).ia_size as u64 != attr.size {
                // truncate(2) passes no time flags: a size change stamps
                // mtime and ctime itself (POSIX; ext4 and xfs do the same).
                attr.size = (*iattr).ia_size as u64;
                let (sec, nsec) = now();
                (
                    attr.mtime_sec,
                    attr.mtime_nsec,
                    attr.ctime_sec,
                    attr.ctime_nsec,
                ) = (sec, nsec, sec, nsec);
            }
            let new_size = attr.size;
            let commit = || {
                let set = SetAttr {
                    attr,
                    size_changed,
                    access_acl: chmod.as_ref().and_then(Chmod::value),
                };
                let result = fs_of::<T>((*inode).i_sb).setattr(ino_of(inode), &set);
                match &result {
                    Ok(a) => {
                        fill(inode, a);
                        if let Some(c) = chmod {
                            c.cache(inode);
                        }
                    }
                    // Nothing changed: put back what setattr_copy() took.
                    Err(_) => restore::<T>(inode)?,
                }
                result.map(drop)
            };
            if size_changed && u32::from((*inode).i_mode) & S_IFMT == S_IFREG {
                let old = bindings::ferrodax_i_size(inode) as u64;
                extent_change::resize(InodeRef::<T>::from_raw(inode), old, new_size, commit)?;
            } else {
                commit()?;
            }
        }
        Ok(0)
    })
}

/// stat and statx: what the VFS inode holds, and the flags' statx
/// attributes and the birth time from [`InodeBox::extra`].
///
/// # Safety
///
/// Only called by the kernel as the `getattr` callback, with the arguments
/// that callback guarantees.
unsafe extern "C" fn getattr(
    idmap: *mut bindings::mnt_idmap,
    path: *const bindings::path,
    stat: *mut bindings::kstat,
    request_mask: u32,
    _query_flags: kernel::ffi::c_uint,
) -> kernel::ffi::c_int {
    // SAFETY: a live path whose dentry has an inode of a ferrodax
    // superblock; `stat` is the VFS's to fill.
    unsafe {
        let inode = dentry_inode((*path).dentry);
        let extra = InodeBox::extra(inode);
        let (sec, nsec) = extra.btime();
        bindings::ferrodax_getattr_fill(idmap, request_mask, inode, stat, extra.flags(), sec, nsec);
    }
    0
}

/// FS_IOC_GETFLAGS and FS_IOC_FSGETXATTR (the VFS turns the flags into
/// xflags).
///
/// # Safety
///
/// Only called by the kernel as the `fileattr_get` callback, with the
/// arguments that callback guarantees.
unsafe extern "C" fn fileattr_get(
    dentry: *mut bindings::dentry,
    fa: *mut bindings::file_kattr,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: a live dentry with an inode of a mounted `T`; `fa` is
        // the VFS's to fill.
        unsafe {
            let flags = InodeBox::extra(dentry_inode(dentry)).flags();
            bindings::fileattr_fill_flags(fa, flags);
        }
        Ok(0)
    })
}

/// FS_IOC_SETFLAGS and FS_IOC_FSSETXATTR (chattr, xfs_io chattr). The VFS
/// has checked ownership and CAP_LINUX_IMMUTABLE and holds i_rwsem; the
/// inode's S_IMMUTABLE, S_APPEND, ... follow the committed flags, and the
/// VFS enforces them from there (writes through a file opened before
/// chattr +i: the write path's own check, as ext4's).
///
/// # Safety
///
/// Only called by the kernel as the `fileattr_set` callback, with the
/// arguments and locking that callback guarantees.
unsafe extern "C" fn fileattr_set<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    fa: *mut bindings::file_kattr,
) -> kernel::ffi::c_int {
    from_result(|| {
        let mut flags = 0;
        // SAFETY: the VFS's arguments, under the inode's i_rwsem.
        unsafe {
            to_result(bindings::ferrodax_fileattr_flags(fa, &mut flags))?;
            if flags & !T::INODE_FLAGS != 0 {
                return Err(EOPNOTSUPP);
            }
            let inode = dentry_inode(dentry);
            let a = fs_of::<T>((*inode).i_sb).set_flags(ino_of(inode), flags, now())?;
            update(inode, &a);
        }
        Ok(0)
    })
}

/// # Safety
///
/// Only called by the kernel as the `iterate_shared` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn iterate_shared<T: FileSystem>(
    file: *mut bindings::file,
    ctx: *mut bindings::dir_context,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: the VFS's readdir arguments; `ctx` is valid for the call
        // and the directory's i_rwsem is held shared.
        unsafe {
            if !bindings::ferrodax_dir_emit_dots(file, ctx) {
                return Ok(0);
            }
            let inode = (*file).f_inode;
            let fs = fs_of::<T>((*inode).i_sb);
            fs.readdir(
                ino_of(inode),
                (*ctx).pos as u64,
                &mut |name, ino, dtype, next| {
                    let ok = bindings::ferrodax_dir_emit(
                        ctx,
                        name.as_ptr().cast(),
                        name.len() as i32,
                        ino,
                        u32::from(dtype),
                    );
                    if ok {
                        (*ctx).pos = next as i64;
                    }
                    ok
                },
            )?;
        }
        Ok(0)
    })
}
