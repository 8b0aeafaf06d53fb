// SPDX-License-Identifier: GPL-2.0
//! Bindings the kernel's `bindings` crate lacks (dax.h, iomap.h,
//! fs_context.h, libnvdimm.h and our C helpers), generated at build time by
//! the module's Kbuild. Types the kernel crate already has are imported from
//! `kernel::bindings` rather than generated again.
//!
//! Where a type exists in both (opaque in `kernel::bindings`, complete
//! here, e.g. `fs_context`, `kstatfs`), this module's is the complete one;
//! callbacks whose C signature the kernel crate declares take the kernel
//! crate's type and cast.
#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    missing_docs,
    unreachable_pub,
    dead_code,
    clippy::all,
    unsafe_op_in_unsafe_fn,
    improper_ctypes,
    unnecessary_transmutes,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::as_underscore,
    clippy::cast_lossless
)]

mod generated {
    include!("bindings_generated.rs");
}
pub use generated::*;
