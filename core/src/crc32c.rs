// SPDX-License-Identifier: GPL-2.0
//! CRC-32C (Castagnoli), the checksum of every metadata structure.
//!
//! Not computed here: in the kernel module by the kernel's `crc32c()`
//! (`mm/crc.rs`; the CPU's CRC instruction with `CONFIG_CRC_OPTIMIZATIONS`),
//! on the host by the `crc32c` crate (SSE4.2 when the CPU has it, chosen at
//! run time). Both follow [`update`]'s convention.

/// Continue a CRC-32C over `data` (start with `!0`, finish with `!`).
#[cfg(MODULE)]
pub fn update(crc: u32, data: &[u8]) -> u32 {
    // The one path out of the shared code into the module's: the kernel's
    // function is behind FFI, which the core does not do itself.
    crate::mm::crc::update(crc, data)
}

/// Continue a CRC-32C over `data` (start with `!0`, finish with `!`).
#[cfg(not(MODULE))]
pub fn update(crc: u32, data: &[u8]) -> u32 {
    !crc32c::crc32c_append(!crc, data)
}

/// CRC-32C of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    !update(!0, data)
}

/// Largest record [`crc32c_skip`] copies (on the stack).
const SKIP_COPY: usize = 256;

/// CRC-32C of `data` with the 4 bytes at `crc_at` taken as zero, for records
/// that store their own checksum.
pub fn crc32c_skip(data: &[u8], crc_at: usize) -> u32 {
    // Records up to SKIP_COPY bytes (journal entries, inodes, extent
    // headers) are copied with the field zeroed and checksummed in one
    // call: three calls cost more than the copy.
    let mut copy = [0u8; SKIP_COPY];
    if let Some(c) = copy.get_mut(..data.len()) {
        c.copy_from_slice(data);
        c[crc_at..crc_at + 4].fill(0);
        return crc32c(c);
    }
    let crc = update(!0, &data[..crc_at]);
    let crc = update(crc, &[0; 4]);
    !update(crc, &data[crc_at + 4..])
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_vectors() {
        // RFC 3720 B.4: 32 bytes of zeros, 32 of 0xff, 0..31.
        assert_eq!(super::crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(super::crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        let inc: [u8; 32] = core::array::from_fn(|i| i as u8);
        assert_eq!(super::crc32c(&inc), 0x46dd_794e);
        assert_eq!(super::crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn update_continues_across_splits() {
        let data: [u8; 300] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        let whole = super::crc32c(&data);
        for cut in 0..data.len() {
            let crc = super::update(!0, &data[..cut]);
            assert_eq!(!super::update(crc, &data[cut..]), whole);
        }
        // both paths: copied (up to SKIP_COPY bytes) and in three parts
        for len in [44, 64, 128, 256, 257, 300] {
            let mut skipped = data;
            skipped[40..44].fill(0);
            let want = super::crc32c(&skipped[..len]);
            assert_eq!(super::crc32c_skip(&data[..len], 40), want, "{len} bytes");
        }
    }
}
