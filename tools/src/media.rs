//! Host implementations of the core's `Medium`.
//!
//! - [`FileMedium`]: a device node or image file, through pread/pwrite
//!   (mkfs, fsck). Flushes are no-ops; `sync` at the end makes it durable.
//! - [`MemMedium`]: a plain in-memory image (tests).
//! - [`CowMedium`]: copy-on-write over a borrowed image, so fsck -n and the
//!   crash explorer can run recovery without touching the original.

use ferrodax_core::{Error, Medium, Result};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// A device or image file.
pub struct FileMedium {
    file: File,
    len: u64,
    failed: bool,
}

impl FileMedium {
    /// Wrap an open file of `len` bytes.
    pub fn new(file: File, len: u64) -> Self {
        FileMedium {
            file,
            len,
            failed: false,
        }
    }

    /// Make everything written durable; reports any earlier write error.
    pub fn sync(&self) -> std::io::Result<()> {
        if self.failed {
            return Err(std::io::Error::other("a write to the device failed"));
        }
        self.file.sync_all()
    }
}

impl Medium for FileMedium {
    fn len(&self) -> u64 {
        self.len
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.file.read_exact_at(buf, off).map_err(|_| Error::Io)
    }
    fn store(&mut self, off: u64, data: &[u8]) {
        if self.file.write_all_at(data, off).is_err() {
            self.failed = true;
        }
    }
    fn flush(&mut self, _off: u64, _len: u64) {}
    fn fence(&mut self) {}
}

/// An in-memory image.
#[derive(Clone)]
pub struct MemMedium(pub Vec<u8>);

impl Medium for MemMedium {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        buf.copy_from_slice(&self.0[off as usize..off as usize + buf.len()]);
        Ok(())
    }
    fn store(&mut self, off: u64, data: &[u8]) {
        self.0[off as usize..off as usize + data.len()].copy_from_slice(data);
    }
    fn flush(&mut self, _off: u64, _len: u64) {}
    fn fence(&mut self) {}
}

const PAGE: u64 = 4096;

/// Copy-on-write view of a base medium: writes land in private pages.
pub struct CowMedium<'a, B: Medium> {
    base: &'a B,
    pages: BTreeMap<u64, Box<[u8]>>,
}

impl<'a, B: Medium> CowMedium<'a, B> {
    /// A view of `base` with no changes yet.
    pub fn new(base: &'a B) -> Self {
        CowMedium {
            base,
            pages: BTreeMap::new(),
        }
    }

    /// Pages changed through this view, for writing back (fsck -y).
    pub fn changed_pages(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.pages.iter().map(|(&p, b)| (p * PAGE, &b[..]))
    }

    fn page_mut(&mut self, page: u64) -> &mut [u8] {
        let base = self.base;
        self.pages.entry(page).or_insert_with(|| {
            let mut b = vec![0u8; PAGE as usize].into_boxed_slice();
            let n = PAGE.min(base.len() - page * PAGE) as usize;
            // A base read error leaves zeroes; the read path reports it.
            let _ = base.read(page * PAGE, &mut b[..n]);
            b
        })
    }
}

impl<B: Medium> Medium for CowMedium<'_, B> {
    fn len(&self) -> u64 {
        self.base.len()
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let at = off + done as u64;
            let (page, in_page) = (at / PAGE, (at % PAGE) as usize);
            let n = (PAGE as usize - in_page).min(buf.len() - done);
            match self.pages.get(&page) {
                Some(p) => buf[done..done + n].copy_from_slice(&p[in_page..in_page + n]),
                None => self.base.read(at, &mut buf[done..done + n])?,
            }
            done += n;
        }
        Ok(())
    }
    fn store(&mut self, off: u64, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let at = off + done as u64;
            let (page, in_page) = (at / PAGE, (at % PAGE) as usize);
            let n = (PAGE as usize - in_page).min(data.len() - done);
            self.page_mut(page)[in_page..in_page + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
    }
    fn flush(&mut self, _off: u64, _len: u64) {}
    fn fence(&mut self) {}
}
