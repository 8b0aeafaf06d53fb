//! The lock-free reader (`Fs::reader`): what it sees of a filesystem that
//! another handle is changing. The kernel runs lookups, stat, readdir and
//! block lookups on such a view, validated by a seqcount bumped in
//! `Medium::in_place_begin` / `in_place_end`; that validation is sound
//! only if every store made *outside* those two calls leaves what the
//! reader sees unchanged. Here a medium checks exactly that at every
//! store, through the same core the kernel runs: outside a window the
//! reader must see the state of the last window's end, and (the negative
//! control) inside windows it must be seen to differ, or the check proves
//! nothing.

use ferrodax_core::file::SetAttr;
use ferrodax_core::inode::{S_IFDIR, S_IFREG};
use ferrodax_core::layout::{BLOCK_SIZE, ROOT_INO as R};
use ferrodax_core::namei::RenameFlags;
use ferrodax_core::persist::Stage;
use ferrodax_core::{Fs, Medium, MediumRead, Result};
use ferrodax_tools::testing::{at, attr, mkfs_mount};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// What the test runs at each store and at the end of each window.
type Check = Box<dyn FnMut(Event)>;

/// An in-place store: offset, old bytes, new bytes.
type WindowStore = (usize, Vec<u8>, Vec<u8>);

/// The image both handles share, and the check.
struct Shared {
    image: RefCell<Vec<u8>>,
    in_place: Cell<bool>,
    /// A fence came after the window began (the kernel's seqcount has no
    /// fence of its own: the core's orders the odd count before the
    /// non-temporal in-place stores).
    fenced_in_window: Cell<bool>,
    on_event: RefCell<Option<Check>>,
    /// The in-place stores of the open (or last) window.
    window: RefCell<Vec<WindowStore>>,
    /// Replaying that window under a reader.
    torn: Cell<Option<Torn>>,
    /// Reads by the reader so far.
    reads: Cell<u64>,
}

/// One store of the window, landing inside a lookup: before the reader's
/// read number `after` (counted from when this was set).
#[derive(Clone, Copy)]
struct Torn {
    store: usize,
    after: u64,
    landed: bool,
}

impl Shared {
    fn new() -> Rc<Shared> {
        Rc::new(Shared {
            image: RefCell::new(vec![0; (4096 * BLOCK_SIZE) as usize]),
            in_place: Cell::new(false),
            fenced_in_window: Cell::new(false),
            on_event: RefCell::new(None),
            window: RefCell::new(Vec::new()),
            torn: Cell::new(None),
            reads: Cell::new(0),
        })
    }

    /// Put the image back as it was when the window began.
    fn rewind_window(&self) {
        let mut img = self.image.borrow_mut();
        for (off, old, _) in self.window.borrow().iter().rev() {
            img[*off..*off + old.len()].copy_from_slice(old);
        }
    }

    /// Apply store `i` of the window (`new`) or take it back (old bytes).
    fn window_store(&self, i: usize, new: bool) {
        let w = self.window.borrow();
        let (off, old, data) = &w[i];
        let bytes = if new { data } else { old };
        self.image.borrow_mut()[*off..*off + bytes.len()].copy_from_slice(bytes);
    }
}

#[derive(Clone, Copy)]
enum Event {
    Store { in_place: bool },
    InPlaceEnd,
}

impl Shared {
    fn notify(&self, e: Event) {
        if let Some(f) = self.on_event.borrow_mut().as_mut() {
            f(e);
        }
    }
}

/// The writing handle (the kernel's `PmemMedium`).
struct Writer(Rc<Shared>, Box<Stage>, Box<ferrodax_core::shared::Shared>);
/// The reading handle (the kernel's `PmemReader`).
struct Reader(Rc<Shared>);

static NO_STAGE: Stage = Stage::EMPTY;

impl MediumRead for Writer {
    fn len(&self) -> u64 {
        self.0.image.borrow().len() as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        Reader(self.0.clone()).read(off, buf)
    }
    fn stage_area(&self) -> &Stage {
        &self.1
    }
}

impl Medium for Writer {
    fn store(&mut self, off: u64, data: &[u8]) {
        let sh = &self.0;
        assert!(
            !sh.in_place.get() || sh.fenced_in_window.get(),
            "an in-place store before a fence ordered the window's start"
        );
        let at = off as usize..off as usize + data.len();
        if sh.in_place.get() {
            let old = sh.image.borrow()[at.clone()].to_vec();
            sh.window.borrow_mut().push((at.start, old, data.to_vec()));
        }
        sh.image.borrow_mut()[at].copy_from_slice(data);
        self.0.notify(Event::Store {
            in_place: self.0.in_place.get(),
        });
    }
    fn flush(&mut self, _off: u64, _len: u64) {}
    fn fence(&mut self) {
        self.0.fenced_in_window.set(self.0.in_place.get());
    }
    fn stage_area_mut(&mut self) -> &mut Stage {
        &mut self.1
    }
    fn shared(&self) -> &ferrodax_core::shared::Shared {
        &self.2
    }
    fn in_place_begin(&mut self) {
        assert!(!self.0.in_place.replace(true), "windows do not nest");
        self.0.fenced_in_window.set(false);
        self.0.window.borrow_mut().clear();
    }
    fn in_place_end(&mut self) {
        assert!(self.0.in_place.replace(false), "a window ends once");
        self.0.notify(Event::InPlaceEnd);
    }
}

impl MediumRead for Reader {
    fn len(&self) -> u64 {
        self.0.image.borrow().len() as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.0.reads.set(self.0.reads.get() + 1);
        if let Some(mut t) = self.0.torn.get() {
            // The writer on the other CPU stores between two reads of
            // one lookup.
            if t.after == 0 && !t.landed {
                self.0.window_store(t.store, true);
                t.landed = true;
            }
            t.after = t.after.saturating_sub(1);
            self.0.torn.set(Some(t));
        }
        let img = self.0.image.borrow();
        buf.copy_from_slice(&img[off as usize..off as usize + buf.len()]);
        Ok(())
    }
    fn stage_area(&self) -> &Stage {
        &NO_STAGE
    }
}

/// Everything the kernel asks a reader, for every name in the tree:
/// lookup, the inode (stat), readdir, readlink and the first block map.
fn view(fs: &Fs<Reader>, blocks: impl Iterator<Item = u64> + Clone) -> Vec<String> {
    let mut out = vec![format!("{:?}", fs.committed_counters())];
    let mut dirs = vec![(R, String::from("/"))];
    while let Some((dir, path)) = dirs.pop() {
        let mut names = Vec::new();
        let listed = fs.readdir(dir, 0, |name, ino, dtype, next| {
            names.push((name.to_vec(), ino, dtype, next));
            true
        });
        out.push(format!("{path}: {listed:?}"));
        for (name, ino, dtype, next) in names {
            let p = format!("{path}{}", String::from_utf8_lossy(&name));
            let found = fs.lookup(dir, &name).map(|e| e.map(|e| e.ino));
            let inode = fs.read_inode(ino);
            let mut link = [0u8; 64];
            let target = fs.readlink(ino, &mut link).map(|n| link[..n].to_vec());
            let map: Vec<_> = blocks
                .clone()
                .map(|lblk| fs.lookup_blocks(ino, lblk, 1).map(|m| m.mapping))
                .collect();
            out.push(format!(
                "{p} {ino} {dtype} {next} {found:?} {inode:?} {target:?} {map:?}"
            ));
            if dtype == 4 {
                dirs.push((ino, p + "/"));
            }
        }
    }
    out
}

/// File blocks whose mapping the first test's view asks for at each store.
const SOME_BLOCKS: [u64; 9] = [0, 1, 2, 7, 300, 301, 509, 510, 598];

#[derive(Default)]
struct Tally {
    outside: u64,
    inside: u64,
    inside_differs: u64,
    windows: u64,
}

#[test]
fn stores_outside_in_place_windows_never_change_what_a_reader_sees() {
    let shared = Shared::new();
    let mut fs = mkfs_mount(Writer(
        shared.clone(),
        Box::new(Stage::EMPTY),
        Box::default(),
    ));
    let reader = Rc::new(fs.reader(Reader(shared.clone())));
    let expected = Rc::new(RefCell::new(view(&reader, SOME_BLOCKS.into_iter())));
    let tally = Rc::new(RefCell::new(Tally::default()));
    {
        let (reader, expected, tally) = (reader.clone(), expected.clone(), tally.clone());
        *shared.on_event.borrow_mut() = Some(Box::new(move |e| {
            let mut t = tally.borrow_mut();
            match e {
                Event::InPlaceEnd => {
                    t.windows += 1;
                    *expected.borrow_mut() = view(&reader, SOME_BLOCKS.into_iter());
                }
                Event::Store { in_place: false } => {
                    t.outside += 1;
                    let now = view(&reader, SOME_BLOCKS.into_iter());
                    let was = expected.borrow();
                    if let Some(i) =
                        (0..now.len().max(was.len())).find(|&i| now.get(i) != was.get(i))
                    {
                        panic!(
                            "a store outside an in-place window changed what a reader sees:\n  was {:?}\n  now {:?}",
                            was.get(i),
                            now.get(i)
                        );
                    }
                }
                Event::Store { in_place: true } => {
                    t.inside += 1;
                    if view(&reader, SOME_BLOCKS.into_iter()) != *expected.borrow() {
                        t.inside_differs += 1;
                    }
                }
            }
        }));
    }

    workload(&mut fs);

    let t = tally.borrow();
    eprintln!(
        "{} windows; {} stores outside checked; {} of {} inside seen mid-change",
        t.windows, t.outside, t.inside_differs, t.inside
    );
    assert!(
        t.windows >= 250,
        "every operation ends a window ({})",
        t.windows
    );
    assert!(
        t.outside >= 1000,
        "stores outside windows were checked ({})",
        t.outside
    );
    // The negative control: inside windows the reader does see a change
    // in flight, so a store misplaced outside one would have failed above.
    assert!(
        t.inside_differs > 0 && t.inside > t.inside_differs,
        "inside windows: {} of {} stores seen mid-change",
        t.inside_differs,
        t.inside
    );
}

/// Lookups read the medium many times (an inode, then index nodes, then
/// entries, each checked alone); a transaction on another CPU can store
/// between any two of those reads, and what the lookup then computes is
/// discarded by the seqcount, but it must not panic (a kernel BUG). Here,
/// for every window of the workload, every one of its stores lands
/// between every two reads of each of a set of lookups (file block maps
/// across a fragmented file, name lookups, readdir, readlink, stat), with
/// the window's earlier stores applied and its later ones not.
#[test]
fn lookups_torn_by_a_transaction_in_flight_fail_cleanly() {
    let shared = Shared::new();
    let mut fs = mkfs_mount(Writer(
        shared.clone(),
        Box::new(Stage::EMPTY),
        Box::default(),
    ));
    let reader = Rc::new(fs.reader(Reader(shared.clone())));
    let torn = Rc::new(Cell::new(0u64));
    {
        let (sh, reader, torn) = (shared.clone(), reader.clone(), torn.clone());
        *shared.on_event.borrow_mut() = Some(Box::new(move |e| {
            if !matches!(e, Event::InPlaceEnd) {
                return;
            }
            sh.rewind_window();
            for store in 0..sh.window.borrow().len() {
                for lookup in LOOKUPS {
                    let before = sh.reads.get();
                    let _ = lookup(&reader);
                    for after in 0..sh.reads.get() - before {
                        sh.torn.set(Some(Torn {
                            store,
                            after,
                            landed: false,
                        }));
                        let _ = lookup(&reader);
                        if sh.torn.take().is_some_and(|t| t.landed) {
                            sh.window_store(store, false);
                            torn.set(torn.get() + 1);
                        }
                    }
                }
                sh.window_store(store, true);
            }
        }));
    }
    workload(&mut fs);
    eprintln!("{} lookups with a store inside", torn.get());
    assert!(torn.get() >= 100_000, "{} lookups torn", torn.get());
}

type Lookup = fn(&Fs<Reader>) -> Result<()>;

/// Inode of `/b/data`, the fragmented file.
fn data_ino(fs: &Fs<Reader>) -> Result<u64> {
    let b = fs.lookup(R, b"b")?.ok_or(ferrodax_core::Error::NotFound)?;
    let f = fs
        .lookup(b.ino, b"data")?
        .ok_or(ferrodax_core::Error::NotFound)?;
    Ok(f.ino)
}

fn map_at(fs: &Fs<Reader>, lblk: u64) -> Result<()> {
    fs.lookup_blocks(data_ino(fs)?, lblk, 1).map(drop)
}

fn in_a(fs: &Fs<Reader>) -> Result<u64> {
    Ok(fs
        .lookup(R, b"a")?
        .ok_or(ferrodax_core::Error::NotFound)?
        .ino)
}

const LOOKUPS: [Lookup; 12] = [
    |fs| map_at(fs, 1),
    |fs| map_at(fs, 10),
    |fs| map_at(fs, 151),
    |fs| map_at(fs, 300),
    |fs| map_at(fs, 451),
    |fs| map_at(fs, 599),
    |fs| fs.read_inode(data_ino(fs)?).map(drop),
    |fs| fs.lookup(in_a(fs)?, b"file-050").map(drop),
    |fs| fs.lookup(in_a(fs)?, b"file-119").map(drop),
    |fs| fs.readdir(in_a(fs)?, 0, |_, _, _, _| true),
    |fs| fs.readdir(R, 0, |_, _, _, _| true),
    |fs| {
        let b = fs.lookup(R, b"b")?.ok_or(ferrodax_core::Error::NotFound)?;
        let l = fs
            .lookup(b.ino, b"l")?
            .ok_or(ferrodax_core::Error::NotFound)?;
        fs.readlink(l.ino, &mut [0; 64]).map(drop)
    },
];

/// Creates, a directory split and reshaped, a symlink, appends with
/// holes, a punch, chmod, renames across directories, unlinks, truncate.
fn workload(fs: &mut Fs<Writer>) {
    let file = attr(S_IFREG | 0o644);
    let dir = attr(S_IFDIR | 0o755);
    let (a, _) = fs.create(R, b"a", dir, at(2)).unwrap();
    let (b, _) = fs.create(R, b"b", dir, at(2)).unwrap();
    for i in 0..120u32 {
        // enough names to split a's entry block, and reshape it later
        fs.create(a, format!("file-{i:03}").as_bytes(), file, at(3))
            .unwrap();
    }
    fs.symlink(b, b"l", b"../a/file-007", file, at(4)).unwrap();
    let (f, _) = fs.create(b, b"data", file, at(4)).unwrap();
    // Every other block: 300 extents, so the extent tree's root leaf
    // splits and an index grows above the leaves.
    for blk in [0u64, 1, 7, 300].into_iter().chain((9..600).step_by(2)) {
        fs.map_blocks(f, blk, 1, true, false).unwrap();
        fs.grow_size(f, (blk + 1) * BLOCK_SIZE).unwrap();
    }
    // Holes filled from the top down: every extent insert lands in the
    // middle of a leaf and moves the entries after it.
    for blk in (0..74).rev().map(|k| 10 + 8 * k) {
        fs.map_blocks(f, blk, 1, true, false).unwrap();
    }
    fs.punch_range(f, 1, 2).unwrap();
    fs.setattr(
        f,
        SetAttr {
            mode: Some(0o600),
            mtime: Some(at(9)),
            ..SetAttr::default()
        },
    )
    .unwrap();
    for i in (0..120u32).step_by(3) {
        let name = format!("file-{i:03}");
        fs.rename(
            a,
            name.as_bytes(),
            b,
            name.as_bytes(),
            RenameFlags::default(),
            file,
            at(5),
        )
        .unwrap();
    }
    for i in (1..120u32).step_by(3) {
        let (ino, _) = fs
            .unlink(a, format!("file-{i:03}").as_bytes(), at(6))
            .unwrap();
        fs.release_inode(ino).unwrap();
    }
    fs.set_size(f, 3 * BLOCK_SIZE, at(7)).unwrap();
    let (ino, _) = fs.unlink(b, b"data", at(8)).unwrap();
    fs.release_inode(ino).unwrap();
}
