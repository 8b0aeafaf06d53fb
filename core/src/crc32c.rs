// SPDX-License-Identifier: GPL-2.0
//! CRC-32C (Castagnoli), the checksum of every metadata structure.
//!
//! Table-driven, slice-by-8 (eight bytes per step through eight tables): a
//! bitmap or directory block is 4 KiB, and the byte-at-a-time loop was the
//! largest single cost of a metadata operation in the kernel profile.

const POLY: u32 = 0x82f6_3b78;

const fn make_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    // t[k][i]: the CRC of byte i followed by k zero bytes.
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = t[0][(prev & 0xff) as usize] ^ (prev >> 8);
            i += 1;
        }
        k += 1;
    }
    t
}

static TABLES: [[u32; 256]; 8] = make_tables();

fn update_bytes(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = TABLES[0][((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// Continue a CRC-32C over `data` (start with `!0`, finish with `!`).
pub fn update(mut crc: u32, data: &[u8]) -> u32 {
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let lo = crc ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let t = &TABLES;
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][usize::from(w[4])]
            ^ t[2][usize::from(w[5])]
            ^ t[1][usize::from(w[6])]
            ^ t[0][usize::from(w[7])];
    }
    update_bytes(crc, words.remainder())
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

    #[test]
    fn slices_agree_with_bytes() {
        let data: [u8; 300] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        for start in 0..9 {
            for end in start..data.len() {
                let d = &data[start..end];
                assert_eq!(super::update(!0, d), super::update_bytes(!0, d));
            }
        }
    }
}
