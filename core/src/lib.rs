// SPDX-License-Identifier: GPL-2.0
//! Host build of the ferrodax core.
//!
//! The kernel module includes `mod.rs` directly as a module of its own crate
//! (`#[path = "../core/src/mod.rs"] mod fcore;`), so that file, not this one,
//! is the root of the shared code: it must build both ways, which is why its
//! submodules name each other with `super::` and never with `crate::`.
#![no_std]

#[cfg(any(test, feature = "host"))]
extern crate alloc;

#[path = "mod.rs"]
mod fcore;
pub use fcore::*;

#[cfg(any(test, feature = "host"))]
pub mod mem;
