// SPDX-License-Identifier: GPL-2.0
//! Bindings the kernel's `bindings` crate lacks (dax.h, iomap.h,
//! fs_context.h, libnvdimm.h and our C helpers), generated at build time by
//! the module's Kbuild. Types the kernel crate already has are imported from
//! `kernel::bindings` rather than generated again.
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
    unnecessary_transmutes
)]

include!("bindings_generated.rs");
