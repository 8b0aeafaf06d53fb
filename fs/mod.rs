// SPDX-License-Identifier: GPL-2.0
//! Safe abstractions over the C VFS for ferrodax.
//!
//! Every `unsafe` FFI call of the module lives in here or in `mm/`, each with
//! a `// SAFETY:` comment naming the invariant it relies on. The filesystem
//! proper (`src/`) implements [`fs_type::FileSystem`] in safe Rust: it sees
//! inode numbers, names as byte slices and plain attribute structs, never a
//! raw pointer.
//!
//! - `fs_type`: registration, mount contexts and option parsing;
//! - `super_block`: fill_super and the super_operations table;
//! - `inode`: iget, attribute transfer, and the inode, directory and
//!   symlink operation tables;
//! - `inode_cache`: the kmem_cache of inodes with per-inode Rust data
//!   (container_of);
//! - `dax`: the DAX device behind the block device and its kernel mapping;
//! - `media_error`: poisoned pmem under a mounted filesystem (SIGBUS to
//!   the mappers of lost data, shutdown for lost metadata);
//! - `inode_ref`: a typed borrowed inode for the data and fault paths;
//! - `iomap`: the iomap operations (block mapping with zero-on-allocate);
//! - `file`: the DAX file and address-space operations of regular files;
//! - `extent_change`: truncate and fallocate under the MMAPLOCK;
//! - `ioctl`: `FS_IOC_SHUTDOWN`;
//! - `rwsem`: a value behind a `rw_semaphore` (the core's lock);
//! - `inode_lock`: the inode locks of side-by-side transactions;
//! - `xattr`: the extended-attribute handlers and listxattr;
//! - `acl`: POSIX ACLs (get_inode_acl, set_acl, inheritance, chmod).

pub mod acl;
pub mod bindings;
pub mod dax;
pub mod extent_change;
pub mod file;
pub mod fs_type;
pub mod inode;
pub mod inode_cache;
pub mod inode_lock;
pub mod inode_ref;
pub mod ioctl;
pub mod iomap;
pub mod map_cache;
pub mod media_error;
pub mod rwsem;
pub mod super_block;
pub mod xattr;
