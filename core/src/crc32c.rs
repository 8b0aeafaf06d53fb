// SPDX-License-Identifier: GPL-2.0
//! CRC-32C (Castagnoli), the checksum of every metadata structure.
//!
//! Table-driven, slice-by-1: metadata records are small (64 B to 4 KiB).

const POLY: u32 = 0x82f6_3b78;

const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static TABLE: [u32; 256] = make_table();

/// Continue a CRC-32C over `data` (start with `!0`, finish with `!`).
pub fn update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// CRC-32C of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    !update(!0, data)
}

/// CRC-32C of `data` with the 4 bytes at `crc_at` taken as zero, for records
/// that store their own checksum.
pub fn crc32c_skip(data: &[u8], crc_at: usize) -> u32 {
    let crc = update(!0, &data[..crc_at]);
    let crc = update(crc, &[0; 4]);
    !update(crc, &data[crc_at + 4..])
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_vector() {
        // RFC 3720 B.4: 32 bytes of zeros.
        assert_eq!(super::crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(super::crc32c(b"123456789"), 0xe306_9283);
    }
}
