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

/// CRC-32C of `data` with the 4 bytes at `crc_at` taken as zero: the check
/// of a record that stores its own checksum there.
///
/// CRC-32C is linear: zeroing the field changes the checksum by the raw CRC
/// of the field followed by the rest of the record, which is the field's
/// word carried over `data.len() - crc_at` zero bytes (for a reflected CRC,
/// four bytes fed in are their little-endian word XORed into the register
/// and four zero bytes). So one pass over `data` as it is, and no copy.
pub fn crc32c_skip(data: &[u8], crc_at: usize) -> u32 {
    let field = u32::from_le_bytes(data[crc_at..crc_at + 4].try_into().unwrap());
    crc32c(data) ^ zero_extend(field, (data.len() - crc_at) as u64)
}

/// Store at `crc_at` the CRC-32C of `record` with those 4 bytes zero: the
/// seal that [`crc32c_skip`] checks.
pub fn put_crc(record: &mut [u8], crc_at: usize) {
    record[crc_at..crc_at + 4].fill(0);
    let crc = crc32c(record);
    record[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
}

/// The Castagnoli polynomial in the reflected bit order CRC registers
/// use (bit 31 is the coefficient of x^0).
const POLY: u32 = 0x82f6_3b78;

/// `a * b` modulo [`POLY`], both reflected.
const fn mul_mod(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut i = 0;
    while i < 32 {
        if a & (1 << (31 - i)) != 0 {
            product ^= b;
        }
        // b * x: one place right, reduced when x^31 moves out.
        b = match b & 1 {
            0 => b >> 1,
            _ => (b >> 1) ^ POLY,
        };
        i += 1;
    }
    product
}

/// Zero runs [`zero_extend`] takes in one step: 2^k bytes for each k
/// below this.
const SHIFTS: usize = 12;

/// `SHIFT[k][j][v]`: nibble `j` of a register holding `v`, times
/// x^(8 * 2^k), which is what 2^k zero bytes do to a CRC register. A
/// register is eight nibbles, so a shift is eight lookups (6 KiB of
/// tables, built at compile time).
static SHIFT: [[[u32; 16]; 8]; SHIFTS] = shift_tables();

const fn shift_tables() -> [[[u32; 16]; 8]; SHIFTS] {
    let mut t = [[[0u32; 16]; 8]; SHIFTS];
    let mut power = 1 << (31 - 8); // x^8: one zero byte
    let mut k = 0;
    while k < SHIFTS {
        let mut j = 0;
        while j < 8 {
            let mut v = 0;
            while v < 16 {
                t[k][j][v] = mul_mod((v as u32) << (4 * j), power);
                v += 1;
            }
            j += 1;
        }
        power = mul_mod(power, power);
        k += 1;
    }
    t
}

fn shift_by(table: &[[u32; 16]; 8], crc: u32) -> u32 {
    let mut out = 0;
    for (j, nibble) in table.iter().enumerate() {
        out ^= nibble[((crc >> (4 * j)) & 15) as usize];
    }
    out
}

/// [`update`] of `crc` over `zeros` zero bytes, without reading them: at
/// most twelve table steps for a run within a block.
pub fn zero_extend(mut crc: u32, zeros: u64) -> u32 {
    let mut n = zeros;
    while n >> SHIFTS != 0 {
        crc = shift_by(&SHIFT[SHIFTS - 1], shift_by(&SHIFT[SHIFTS - 1], crc));
        n -= 1 << SHIFTS;
    }
    for (k, table) in SHIFT.iter().enumerate() {
        if n & (1 << k) != 0 {
            crc = shift_by(table, crc);
        }
    }
    crc
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
        for len in [44, 64, 128, 256, 257, 300] {
            let mut skipped = data;
            skipped[40..44].fill(0);
            let want = super::crc32c(&skipped[..len]);
            assert_eq!(super::crc32c_skip(&data[..len], 40), want, "{len} bytes");
            let mut sealed = data;
            super::put_crc(&mut sealed[..len], 40);
            assert_eq!(sealed[..40], data[..40]);
            assert_eq!(sealed[44..len], data[44..len]);
            assert_eq!(sealed[40..44], want.to_le_bytes(), "{len} bytes");
            assert_eq!(super::crc32c_skip(&sealed[..len], 40), want);
        }
    }

    #[test]
    fn zero_extend_is_update_over_zeros() {
        let zeros = [0u8; 9000];
        let mut crc = 0x1234_5678u32;
        for n in [
            0, 1, 2, 3, 7, 8, 63, 64, 100, 511, 4080, 4095, 4096, 4097, 8193, 9000,
        ] {
            assert_eq!(
                super::zero_extend(crc, n as u64),
                super::update(crc, &zeros[..n]),
                "{n} zeros"
            );
            crc = crc.rotate_left(7) ^ n as u32;
        }
    }
}
