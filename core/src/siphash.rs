// SPDX-License-Identifier: GPL-2.0
//! SipHash-2-4 (Aumasson and Bernstein), the keyed hash of directory names.
//!
//! Directory entries are placed by the hash of their name, so a hash that
//! anyone can compute lets crafted names pile into one block (every name
//! of one hash must live in one block, see `dir.rs`). SipHash keyed by a
//! per-filesystem random seed (chosen by mkfs, kept in the superblock) is
//! a PRF: without the seed, collisions cannot be aimed. It is what the
//! kernel's `siphash()` computes; it is written out here because the core
//! is shared with the host tools.

fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

fn compress(v: &mut [u64; 4], m: u64) {
    v[3] ^= m;
    round(v);
    round(v);
    v[0] ^= m;
}

/// SipHash-2-4 computed over data given in pieces: the hash of the
/// pieces' concatenation, whatever their boundaries.
pub struct SipHasher {
    v: [u64; 4],
    /// Bytes of the next message word not yet compressed.
    tail: [u8; 8],
    /// Bytes hashed so far.
    len: usize,
}

impl SipHasher {
    /// A hasher under the 128-bit `key` that has seen nothing.
    pub fn new(key: &[u8; 16]) -> Self {
        let k0 = u64::from_le_bytes([
            key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
        ]);
        let k1 = u64::from_le_bytes([
            key[8], key[9], key[10], key[11], key[12], key[13], key[14], key[15],
        ]);
        SipHasher {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: [0; 8],
            len: 0,
        }
    }

    /// Hash `data` after what came before.
    pub fn write(&mut self, mut data: &[u8]) {
        let have = self.len % 8;
        self.len += data.len();
        if have > 0 {
            let n = (8 - have).min(data.len());
            self.tail[have..have + n].copy_from_slice(&data[..n]);
            data = &data[n..];
            if have + n < 8 {
                return;
            }
            compress(&mut self.v, u64::from_le_bytes(self.tail));
        }
        let mut words = data.chunks_exact(8);
        for w in &mut words {
            compress(
                &mut self.v,
                u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]),
            );
        }
        let rest = words.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
    }

    /// The hash of everything written.
    pub fn finish(mut self) -> u64 {
        let mut last = [0u8; 8];
        let tail = self.len % 8;
        last[..tail].copy_from_slice(&self.tail[..tail]);
        last[7] = self.len as u8;
        let v = &mut self.v;
        compress(v, u64::from_le_bytes(last));
        v[2] ^= 0xff;
        for _ in 0..4 {
            round(v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

/// SipHash-2-4 of `data` under the 128-bit `key`.
pub fn siphash(key: &[u8; 16], data: &[u8]) -> u64 {
    let mut h = SipHasher::new(key);
    h.write(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::{siphash, SipHasher};

    /// The reference implementation's test vectors (key 00..0f, message
    /// 00..len-1), first and last of the 64 and two in between.
    #[test]
    fn matches_the_reference_vectors() {
        let mut key = [0u8; 16];
        for (i, k) in key.iter_mut().enumerate() {
            *k = i as u8;
        }
        let msg: [u8; 64] = core::array::from_fn(|i| i as u8);
        for (len, want) in [
            (0, 0x726f_db47_dd0e_0e31u64),
            (1, 0x74f8_39c5_93dc_67fd),
            (8, 0x93f5_f579_9a93_2462),
            (15, 0xa129_ca61_49be_45e5),
            (63, 0x958a_324c_eb06_4572),
        ] {
            assert_eq!(siphash(&key, &msg[..len]), want, "length {len}");
        }
    }

    #[test]
    fn pieces_hash_as_their_concatenation() {
        let key = [7u8; 16];
        let msg: [u8; 61] = core::array::from_fn(|i| (i * 37) as u8);
        let cuts = [0, 1, 3, 7, 8, 9, 30, 61];
        for (a, b) in cuts.iter().flat_map(|&a| cuts.map(|b| (a, b))) {
            if a > b {
                continue;
            }
            let mut h = SipHasher::new(&key);
            for piece in [&msg[..a], &msg[a..b], &msg[b..]] {
                h.write(piece);
            }
            assert_eq!(h.finish(), siphash(&key, &msg), "cut at {a} and {b}");
        }
    }
}
