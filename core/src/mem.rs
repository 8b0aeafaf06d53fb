// SPDX-License-Identifier: GPL-2.0
//! An in-memory [`Medium`] for the host (tests, the tools' crash explorer
//! and fuzzer): built with the `host` feature or for the core's own unit
//! tests, never in the kernel (which includes `mod.rs`, not this file).

use crate::dir_summary::Summaries;
use crate::persist::Stage;
use crate::shared::Shared;
use crate::verified::Verified;
use crate::{Medium, MediumRead, Result};
use alloc::boxed::Box;
use alloc::vec::Vec;

/// An in-memory image, with the transaction stage, the table of
/// verified blocks (and what walks learnt of them) and the state
/// filesystems over it share on the heap.
pub struct MemMedium(
    pub Vec<u8>,
    Box<Stage>,
    Box<Verified>,
    Box<Shared>,
    Box<Summaries>,
);

impl MemMedium {
    /// A medium holding `image`.
    pub fn new(image: Vec<u8>) -> Self {
        MemMedium(
            image,
            Box::new(Stage::EMPTY),
            Box::default(),
            Box::default(),
            Box::default(),
        )
    }
}

impl Clone for MemMedium {
    /// The same image and stage; no block is verified in the copy (its
    /// bytes may be changed behind the core's back, as tests do), and it
    /// is another device (nothing shared).
    fn clone(&self) -> Self {
        MemMedium(
            self.0.clone(),
            self.1.clone(),
            Box::default(),
            Box::default(),
            Box::default(),
        )
    }
}

impl MediumRead for MemMedium {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        buf.copy_from_slice(&self.0[off as usize..off as usize + buf.len()]);
        Ok(())
    }
    fn stage_area(&self) -> &Stage {
        &self.1
    }
    fn verified(&self) -> &Verified {
        &self.2
    }
    fn summaries(&self) -> Option<&Summaries> {
        Some(&self.4)
    }
}

impl Medium for MemMedium {
    fn store(&mut self, off: u64, data: &[u8]) {
        self.0[off as usize..off as usize + data.len()].copy_from_slice(data);
    }
    fn flush(&mut self, _off: u64, _len: u64) {}
    fn fence(&mut self) {}
    fn stage_area_mut(&mut self) -> &mut Stage {
        &mut self.1
    }
    fn shared(&self) -> &Shared {
        &self.3
    }
}
