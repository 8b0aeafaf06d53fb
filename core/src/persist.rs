// SPDX-License-Identifier: GPL-2.0
//! Ordered persistence with typestate: Dirty -> Flushed -> Fenced.
//!
//! Every write to the medium goes through [`Pm`]. A store returns a
//! [`Dirty`] token; only [`Pm::flush`] turns it into [`Flushed`]; only
//! [`Pm::fence`] turns flushed tokens into a [`Fenced`] proof. Steps that must
//! come after durability ask for that proof in their signature (the journal
//! writes its commit word only with a `Fenced`, see `journal.rs`), so these
//! mistakes do not compile:
//!
//! ```compile_fail
//! # use ferrodax_core::persist::*;
//! fn commit_before_flush<M: ferrodax_core::Medium>(pm: &mut Pm<M>) {
//!     let d = pm.store(0, &[1]).unwrap();
//!     let _proof: Fenced = pm.fence(d); // a Dirty store cannot be fenced
//! }
//! ```
//!
//! ```compile_fail
//! # use ferrodax_core::persist::*;
//! fn proof_without_fence<M: ferrodax_core::Medium>(pm: &mut Pm<M>) {
//!     let d = pm.store(0, &[1]).unwrap();
//!     let f = pm.flush(d);
//!     let _proof: Fenced = f; // flushed is not yet durable
//! }
//! ```
//!
//! Tokens are `#[must_use]`: dropping a `Dirty` or `Flushed` silently is a
//! compiler warning, and the crate is built with warnings as errors.

use super::error::{Error, Result};
use super::medium::Medium;

/// A store that is visible but not yet written back.
#[must_use = "a store is not persistent until flushed and fenced"]
#[derive(Debug)]
pub struct Dirty {
    off: u64,
    len: u64,
}

/// One or more stores written back but not yet ordered by a fence.
#[must_use = "flushed stores are not durable until fenced"]
#[derive(Debug)]
pub struct Flushed {
    _private: (),
}

impl Flushed {
    /// Nothing flushed yet: the neutral element of [`Flushed::join`].
    pub fn none() -> Self {
        Flushed { _private: () }
    }

    /// Both sets of flushed stores, to be fenced together.
    pub fn join(self, _other: Flushed) -> Flushed {
        self
    }
}

/// Proof that everything flushed before it is durable.
#[derive(Debug)]
pub struct Fenced {
    _private: (),
}

/// The only writer of a [`Medium`]: checks bounds and enforces ordering.
pub struct Pm<M: Medium> {
    medium: M,
}

impl<M: Medium> Pm<M> {
    /// Wrap a medium.
    pub fn new(medium: M) -> Self {
        Pm { medium }
    }

    /// The wrapped medium, for reads by the tools and tests.
    pub fn medium(&self) -> &M {
        &self.medium
    }

    /// Give the medium back.
    pub fn into_medium(self) -> M {
        self.medium
    }

    /// Size of the medium in bytes.
    pub fn len(&self) -> u64 {
        self.medium.len()
    }

    /// Whether the medium is empty.
    pub fn is_empty(&self) -> bool {
        self.medium.is_empty()
    }

    fn check(&self, off: u64, len: usize) -> Result<()> {
        match off.checked_add(len as u64) {
            Some(end) if end <= self.medium.len() => Ok(()),
            _ => Err(Error::Corrupt("offset beyond end of device")),
        }
    }

    /// Read `buf.len()` bytes at `off`.
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.check(off, buf.len())?;
        self.medium.read(off, buf)
    }

    /// Read a little-endian u64 at `off`.
    pub fn read_u64(&self, off: u64) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read(off, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Store `data` at `off`.
    pub fn store(&mut self, off: u64, data: &[u8]) -> Result<Dirty> {
        self.check(off, data.len())?;
        self.medium.store(off, data);
        Ok(Dirty {
            off,
            len: data.len() as u64,
        })
    }

    /// Store `len` zero bytes at `off` (block zeroing on allocation).
    pub fn store_zeroes(&mut self, off: u64, len: u64) -> Result<Dirty> {
        const CHUNK: [u8; 512] = [0; 512];
        self.check(off, 0)?;
        self.check(off, usize::try_from(len).map_err(|_| Error::Invalid)?)?;
        let mut done = 0;
        while done < len {
            let n = (len - done).min(CHUNK.len() as u64);
            self.medium.store(off + done, &CHUNK[..n as usize]);
            done += n;
        }
        Ok(Dirty { off, len })
    }

    /// Write back a dirty range.
    pub fn flush(&mut self, d: Dirty) -> Flushed {
        self.medium.flush(d.off, d.len);
        Flushed::none()
    }

    /// Store and write back in one step, for callers that fence later.
    pub fn persist(&mut self, off: u64, data: &[u8]) -> Result<Flushed> {
        let d = self.store(off, data)?;
        Ok(self.flush(d))
    }

    /// Make everything flushed so far durable.
    pub fn fence(&mut self, _f: Flushed) -> Fenced {
        self.medium.fence();
        Fenced { _private: () }
    }
}
