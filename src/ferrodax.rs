// SPDX-License-Identifier: GPL-2.0
//! ferrodax: a DAX filesystem for persistent memory.
//!
//! Crate layout (one crate, one module):
//! - `fcore` (`core/src/`): the on-media format and every rule for changing
//!   it, shared with the host tools; no `unsafe`.
//! - `vfs` (`fs/`): safe wrappers over the C VFS; all FFI lives there or in
//!   `mm`.
//! - `mm` (`mm/`): the pmem medium (flush/fence) and, later, the fault path.
//! - this file and the rest of `src/`: the filesystem, in safe Rust.

#[path = "../core/src/mod.rs"]
pub mod fcore;
#[path = "../mm/mod.rs"]
pub mod mm;
#[path = "../fs/mod.rs"]
pub mod vfs;

mod options;
mod super_block;

use kernel::prelude::*;

module! {
    type: Ferrodax,
    name: "ferrodax",
    authors: ["ferrodax developers"],
    description: "ferrodax: a DAX filesystem for persistent memory",
    license: "GPL",
    alias: ["fs-ferrodax"],
}

#[pin_data]
struct Ferrodax {
    #[pin]
    fs_type: vfs::fs_type::Registration<super_block::FerrodaxFs>,
}

impl kernel::InPlaceModule for Ferrodax {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            fs_type <- vfs::fs_type::Registration::new(module),
        })
    }
}
