// SPDX-License-Identifier: GPL-2.0
//! CRC-32C for the core (`core/src/crc32c.rs`): the kernel's `crc32c()`,
//! which is the CPU's CRC instruction (SSE4.2 `crc32`, PCLMULQDQ folding
//! for long buffers on x86) when the kernel has `CONFIG_CRC_OPTIMIZATIONS`.

use crate::vfs::bindings;

/// Continue a CRC-32C over `data` (start with `!0`, finish with `!`): the
/// kernel's convention for `crc32c()`, and the core's.
pub fn update(crc: u32, data: &[u8]) -> u32 {
    // SAFETY: `data` is `data.len()` readable bytes for the whole call, and
    // `crc32c()` only reads them.
    unsafe { bindings::crc32c(crc, data.as_ptr().cast(), data.len()) }
}
