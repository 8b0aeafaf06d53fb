//! Host implementations of the core's `Medium`.
//!
//! - [`FileMedium`]: a device node or image file (mkfs, fsck), read and
//!   written in cached 64 KiB chunks. A fence writes the changed chunks to
//!   the file; `sync` at the end makes them durable.
//! - [`MemMedium`]: a plain in-memory image (tests).
//! - [`CountingMedium`]: an in-memory image that counts fences, flushes and
//!   bytes read, for the fence budget test and the directory tests.
//! - [`CowMedium`]: copy-on-write over a borrowed image, so fsck -n and the
//!   crash explorer can run recovery without touching the original.

use ferrodax_core::dir_summary::Summaries;
pub use ferrodax_core::mem::MemMedium;
use ferrodax_core::persist::Stage;
use ferrodax_core::shared::Shared;
use ferrodax_core::verified::Verified;
use ferrodax_core::{Error, Medium, MediumRead, Result};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Heap memory for the core's transaction stage and for the state the
/// filesystems over a medium share, which every host medium carries.
pub struct StageBox(pub(crate) Box<Stage>, pub(crate) Box<Shared>);

impl Default for StageBox {
    fn default() -> Self {
        StageBox(Box::new(Stage::EMPTY), Box::default())
    }
}

impl Clone for StageBox {
    /// The same stage; the copy is another device (nothing shared).
    fn clone(&self) -> Self {
        StageBox(self.0.clone(), Box::default())
    }
}

/// Size of one cached piece of a [`FileMedium`].
const CHUNK: u64 = 64 * 1024;
/// Chunks a [`FileMedium`] keeps before writing back and starting over
/// (64 MiB: the metadata of a large device need not fit).
const CACHED_CHUNKS: usize = 1024;

/// Bytes of chunk `i` of a device of `len` bytes (the last may be short).
fn chunk_len(len: u64, i: u64) -> usize {
    CHUNK.min(len - i * CHUNK) as usize
}

/// A cached piece of a device. Only `data[..valid]` is known: a chunk
/// written from its start (mkfs zeroing the inode table) is never read
/// from the file first.
struct Chunk {
    data: Box<[u8]>,
    valid: usize,
    dirty: bool,
}

impl Chunk {
    fn new(len: usize) -> Chunk {
        Chunk {
            data: vec![0u8; len].into_boxed_slice(),
            valid: 0,
            dirty: false,
        }
    }

    /// Read what is not known yet of chunk `i` from `file` (a media error
    /// leaves it unknown, to be tried again).
    fn complete(&mut self, file: &File, i: u64) -> Result<()> {
        if self.valid < self.data.len() {
            file.read_exact_at(&mut self.data[self.valid..], i * CHUNK + self.valid as u64)
                .map_err(|_| Error::Io)?;
            self.valid = self.data.len();
        }
        Ok(())
    }
}

/// A device or image file. The core reads metadata a word or an inode at
/// a time; one syscall per read made fsck of a 1 GiB device cost ~400,000
/// syscalls, so reads and writes go through a chunk cache instead.
pub struct FileMedium {
    file: File,
    len: u64,
    failed: bool,
    cache: RefCell<BTreeMap<u64, Chunk>>,
    stage: StageBox,
}

impl FileMedium {
    /// Wrap an open file of `len` bytes.
    pub fn new(file: File, len: u64) -> Self {
        FileMedium {
            file,
            len,
            failed: false,
            cache: RefCell::new(BTreeMap::new()),
            stage: StageBox::default(),
        }
    }

    /// Make everything written durable; reports any write error.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.write_back();
        if self.failed {
            return Err(std::io::Error::other("a write to the device failed"));
        }
        self.file.sync_all()
    }

    /// Write every changed chunk to the file.
    fn write_back(&mut self) {
        for (&i, c) in self.cache.get_mut().iter_mut().filter(|(_, c)| c.dirty) {
            if self
                .file
                .write_all_at(&c.data[..c.valid], i * CHUNK)
                .is_err()
            {
                self.failed = true;
            }
            c.dirty = false;
        }
    }

    /// Call `f(chunk data, offset in chunk, offset in range, length)` for
    /// each chunk piece of `off..off + len`.
    fn pieces(
        off: u64,
        len: usize,
        mut f: impl FnMut(u64, usize, usize, usize) -> Result<()>,
    ) -> Result<()> {
        let mut done = 0;
        while done < len {
            let at = off + done as u64;
            let (i, inside) = (at / CHUNK, (at % CHUNK) as usize);
            let n = (CHUNK as usize - inside).min(len - done);
            f(i, inside, done, n)?;
            done += n;
        }
        Ok(())
    }
}

impl MediumRead for FileMedium {
    fn len(&self) -> u64 {
        self.len
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        let len = buf.len();
        Self::pieces(off, len, |i, inside, done, n| {
            let mut cache = self.cache.borrow_mut();
            if !cache.contains_key(&i) && cache.len() >= CACHED_CHUNKS {
                // Only clean chunks can be dropped here (`&self`).
                cache.retain(|_, c| c.dirty);
            }
            let c = cache
                .entry(i)
                .or_insert_with(|| Chunk::new(chunk_len(self.len, i)));
            if inside + n > c.valid {
                c.complete(&self.file, i)?;
            }
            buf[done..done + n].copy_from_slice(&c.data[inside..inside + n]);
            Ok(())
        })
    }
    fn stage_area(&self) -> &Stage {
        &self.stage.0
    }
}

impl Medium for FileMedium {
    fn store(&mut self, off: u64, data: &[u8]) {
        if self.cache.get_mut().len() >= CACHED_CHUNKS {
            self.write_back();
            self.cache.get_mut().clear();
        }
        let (file, len) = (&self.file, self.len);
        let cache = self.cache.get_mut();
        let r = Self::pieces(off, data.len(), |i, inside, done, n| {
            let c = cache
                .entry(i)
                .or_insert_with(|| Chunk::new(chunk_len(len, i)));
            // Writing on from the known prefix needs nothing from the file.
            if inside > c.valid {
                c.complete(file, i)?;
            }
            c.data[inside..inside + n].copy_from_slice(&data[done..done + n]);
            c.valid = c.valid.max(inside + n);
            c.dirty = true;
            Ok(())
        });
        if r.is_err() {
            self.failed = true;
        }
    }
    fn flush(&mut self, _off: u64, _len: u64) {}
    /// Stores before a fence reach the file before stores after it, as
    /// they did without the cache (durable only at `sync`).
    fn fence(&mut self) {
        self.write_back();
    }
    fn stage_area_mut(&mut self) -> &mut Stage {
        &mut self.stage.0
    }
    fn shared(&self) -> &Shared {
        &self.stage.1
    }
}

/// An in-memory image that counts the persistence work done on it.
pub struct CountingMedium {
    image: MemMedium,
    /// Fences issued so far.
    pub fences: u64,
    /// Flushes issued so far.
    pub flushes: u64,
    /// Bytes read so far.
    pub read_bytes: Cell<u64>,
}

impl CountingMedium {
    /// A zeroed image of `len` bytes.
    pub fn new(len: usize) -> Self {
        CountingMedium {
            image: MemMedium::new(vec![0; len]),
            fences: 0,
            flushes: 0,
            read_bytes: Cell::new(0),
        }
    }
}

impl MediumRead for CountingMedium {
    fn len(&self) -> u64 {
        self.image.len()
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.read_bytes
            .set(self.read_bytes.get() + buf.len() as u64);
        self.image.read(off, buf)
    }
    fn stage_area(&self) -> &Stage {
        self.image.stage_area()
    }
    fn verified(&self) -> &Verified {
        self.image.verified()
    }
    fn summaries(&self) -> Option<&Summaries> {
        self.image.summaries()
    }
}

impl Medium for CountingMedium {
    fn store(&mut self, off: u64, data: &[u8]) {
        self.image.store(off, data);
    }
    fn flush(&mut self, _off: u64, _len: u64) {
        self.flushes += 1;
    }
    fn fence(&mut self) {
        self.fences += 1;
    }
    fn stage_area_mut(&mut self) -> &mut Stage {
        self.image.stage_area_mut()
    }
    fn shared(&self) -> &Shared {
        self.image.shared()
    }
}

const PAGE: u64 = 4096;

/// Copy-on-write view of a base medium: writes land in private pages.
pub struct CowMedium<'a, B: Medium> {
    base: &'a B,
    pages: BTreeMap<u64, Box<[u8]>>,
    stage: StageBox,
}

impl<'a, B: Medium> CowMedium<'a, B> {
    /// A view of `base` with no changes yet.
    pub fn new(base: &'a B) -> Self {
        CowMedium {
            base,
            pages: BTreeMap::new(),
            stage: StageBox::default(),
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

impl<B: Medium> MediumRead for CowMedium<'_, B> {
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
    fn stage_area(&self) -> &Stage {
        &self.stage.0
    }
}

impl<B: Medium> Medium for CowMedium<'_, B> {
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
    fn stage_area_mut(&mut self) -> &mut Stage {
        &mut self.stage.0
    }
    fn shared(&self) -> &Shared {
        &self.stage.1
    }
}
