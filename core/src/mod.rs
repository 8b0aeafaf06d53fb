// SPDX-License-Identifier: GPL-2.0
//! ferrodax core: the on-media format and every rule for changing it.
//!
//! This code is `no_std`, uses no allocator and no `unsafe`, and is compiled
//! both into the kernel module and into the host tools and tests. The module
//! adds VFS glue, locking and caches around it; it never re-implements layout
//! logic. See `Documentation/filesystems/ferrodax/format.rst` for the byte
//! layout and `crash-consistency.rst` for why every operation is atomic.
#![forbid(unsafe_code)]
#![allow(clippy::module_inception)]

pub mod acl;
pub mod bitmap;
pub mod crc32c;
pub mod dir;
mod dir_change;
pub mod dir_summary;
pub mod error;
pub mod extent;
mod extent_range;
mod extent_tree;
pub mod file;
pub mod fs;
pub mod group;
pub mod inode;
pub mod journal;
pub mod journal_area;
pub mod label;
pub mod layout;
pub mod medium;
pub mod mkfs;
pub mod namei;
pub mod orphan;
pub mod owner;
pub mod persist;
pub mod repair;
pub mod shared;
pub mod siphash;
mod stage_delta;
pub mod verified;
pub mod xattr;

pub use error::{Error, Result};
pub use fs::Fs;
pub use medium::{Medium, MediumRead};
