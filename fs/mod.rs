// SPDX-License-Identifier: GPL-2.0
//! Safe abstractions over the C VFS for ferrodax.
//!
//! Every `unsafe` FFI call of the module lives in here or in `mm/`, each with
//! a `// SAFETY:` comment naming the invariant it relies on. The filesystem
//! proper (`src/`) is safe Rust.

pub mod bindings;
pub mod fs_type;
