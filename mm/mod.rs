// SPDX-License-Identifier: GPL-2.0
//! Memory-side code: pmem persistence primitives, the DAX fault path, the
//! MMAPLOCK and pinned-page waits.
//!
//! - `pmem`: the core's medium over the kernel mapping of the device;
//! - `in_place`: the seqcount that validates the core's lock-free reads;
//! - `crc`: the kernel's `crc32c()` for the core's checksums;
//! - `fault`: the `vm_operations_struct` of DAX files;
//! - `mmaplock`: `mapping->invalidate_lock` as guards;
//! - `layout`: waiting for pinned DAX pages before blocks go away.

pub mod crc;
pub mod fault;
pub mod in_place;
pub mod layout;
pub mod mmaplock;
pub mod pmem;
