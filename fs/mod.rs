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
//! - `dax`: the DAX device behind the block device and its kernel mapping.

pub mod bindings;
pub mod dax;
pub mod fs_type;
pub mod inode;
pub mod inode_cache;
pub mod super_block;
