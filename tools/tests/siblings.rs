//! Two changing views of one filesystem (`Fs::sibling`), as the kernel
//! mounts one per journal area so that transactions run side by side:
//! each with its own journal area and stage, allocating only in its own
//! groups, interleaved transaction by transaction. What one changes the
//! other sees; an operation that needs a group of the other's fails with
//! `Contended` and leaves nothing behind; a power cut in the middle and a
//! clean unmount both leave a filesystem fsck finds clean. File data too:
//! appends, hole punches, truncates and time stores of a view's own files
//! (the kernel runs them side by side under inode locks) allocate and free
//! only in its groups.

use ferrodax_core::error::Error;
use ferrodax_core::extent::Mapping;
use ferrodax_core::file::SetAttr;
use ferrodax_core::fs::MountOptions;
use ferrodax_core::inode::{S_IFDIR, S_IFREG};
use ferrodax_core::layout::{BLOCK_SIZE, ROOT_INO as R};
use ferrodax_core::persist::Stage;
use ferrodax_core::shared::Shared;
use ferrodax_core::{Fs, Medium, MediumRead, Result};
use ferrodax_tools::fsck;
use ferrodax_tools::media::MemMedium;
use ferrodax_tools::testing::{at, attr, mkfs_mount};
use std::cell::RefCell;
use std::rc::Rc;

/// A writer handle on an image that other handles share, as the kernel's
/// `PmemMedium` siblings share a pmem mapping.
struct Handle(Rc<RefCell<Vec<u8>>>, Box<Stage>, Rc<Shared>);

impl Handle {
    fn another(&self) -> Handle {
        Handle(self.0.clone(), Box::new(Stage::EMPTY), self.2.clone())
    }
}

impl MediumRead for Handle {
    fn len(&self) -> u64 {
        self.0.borrow().len() as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        buf.copy_from_slice(&self.0.borrow()[off as usize..][..buf.len()]);
        Ok(())
    }
    fn stage_area(&self) -> &Stage {
        &self.1
    }
}

impl Medium for Handle {
    fn store(&mut self, off: u64, data: &[u8]) {
        self.0.borrow_mut()[off as usize..][..data.len()].copy_from_slice(data);
    }
    fn flush(&mut self, _off: u64, _len: u64) {}
    fn fence(&mut self) {}
    fn stage_area_mut(&mut self) -> &mut Stage {
        &mut self.1
    }
    fn shared(&self) -> &Shared {
        &self.2
    }
}

type F = Fs<Handle>;

/// Groups of view `v` of two: the even ones for view 0, the odd ones for 1.
const SCOPES: [u16; 2] = [0x5555, 0xaaaa];

fn views() -> (F, F) {
    let image = Rc::new(RefCell::new(vec![0; 8192 * BLOCK_SIZE as usize]));
    let first = Handle(image, Box::new(Stage::EMPTY), Rc::default());
    let second = first.another();
    let mut a = mkfs_mount(first);
    assert!(a.geometry().groups >= 4, "too few groups to share");
    for d in ["d0", "d1"] {
        a.create(R, d.as_bytes(), attr(S_IFDIR | 0o755), at(2))
            .unwrap();
    }
    let mut b = a.sibling(second, 1);
    a.set_group_scope(SCOPES[0]);
    b.set_group_scope(SCOPES[1]);
    (a, b)
}

fn dir(fs: &F, name: &str) -> u64 {
    fs.lookup(R, name.as_bytes()).unwrap().unwrap().ino
}

fn fsck_clean(image: Vec<u8>) {
    let (fs, _) = Fs::mount(MemMedium::new(image), MountOptions::default()).unwrap();
    let report = fsck::check(&fs);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
}

/// fsck finds the image clean as a power cut would leave it now, and
/// again after both views unmount.
fn cut_and_unmount_clean(a: F, b: F) {
    let cut = a.pm().medium().0.borrow().clone();
    fsck_clean(cut);
    unmount_clean(a, b);
}

/// Both views unmount (each closes its area); fsck finds the image clean.
fn unmount_clean(a: F, b: F) {
    let image = a.pm().medium().0.clone();
    drop(b.into_medium());
    drop(a.into_medium());
    fsck_clean(image.borrow().clone());
}

/// Interleaved creates and unlinks, each view in its own directory; what
/// each left, by directory.
fn interleave(a: &mut F, b: &mut F) -> Vec<(u64, Vec<Vec<u8>>)> {
    let dirs = [dir(a, "d0"), dir(b, "d1")];
    for i in 0..300 {
        for (v, fs) in [&mut *a, &mut *b].into_iter().enumerate() {
            let name = format!("f{i}");
            let (ino, _) = fs
                .create(dirs[v], name.as_bytes(), attr(S_IFREG | 0o644), at(3))
                .unwrap();
            let g = fs.geometry().inode_group(ino);
            assert_ne!(SCOPES[v] & 1 << g, 0, "view {v} allocated in group {g}");
            if i % 3 == 2 {
                let gone = format!("f{}", i - 1);
                let (victim, _) = fs.unlink(dirs[v], gone.as_bytes(), at(4)).unwrap();
                fs.release_inode(victim).unwrap();
            }
        }
    }
    dirs.iter()
        .map(|&d| {
            let mut names = Vec::new();
            a.readdir(d, 0, |name, _, _, _| {
                names.push(name.to_vec());
                true
            })
            .unwrap();
            names.sort();
            (d, names)
        })
        .collect()
}

#[test]
fn two_views_interleave_and_leave_a_clean_filesystem() {
    let (mut a, mut b) = views();
    let listed = interleave(&mut a, &mut b);
    for (_, names) in &listed {
        assert_eq!(names.len(), 200);
    }
    // A power cut now: both areas hold committed transactions.
    cut_and_unmount_clean(a, b);
}

#[test]
fn an_operation_needing_the_other_views_group_rolls_back() {
    let (mut a, mut b) = views();
    let d0 = dir(&a, "d0");
    let start = a.committed_counters().unwrap().free_inodes;
    let (ino, _) = a.create(d0, b"mine", attr(S_IFREG | 0o644), at(3)).unwrap();
    // Its last link: the orphan list and the inode bitmap of a's group.
    let (gone, _) = a.unlink(d0, b"mine", at(4)).unwrap();
    assert_eq!(gone, ino);
    assert_eq!(b.release_inode(ino), Err(Error::Contended));
    // With every group in scope (no other transaction running), it runs.
    b.set_group_scope(u16::MAX);
    b.release_inode(ino).unwrap();
    b.set_group_scope(SCOPES[1]);
    // a reads the group b changed again before using it (else it would
    // write back its own count, from before the release).
    a.create(d0, b"again", attr(S_IFREG | 0o644), at(5))
        .unwrap();
    assert_eq!(a.committed_counters().unwrap().free_inodes, start - 1);
    unmount_clean(a, b);
}

#[test]
fn orphans_leave_in_any_order_without_the_other_views_groups() {
    let (mut a, b) = views();
    let d0 = dir(&a, "d0");
    let mut gone = Vec::new();
    for i in 0..5 {
        let name = format!("f{i}");
        a.create(d0, name.as_bytes(), attr(S_IFREG | 0o644), at(3))
            .unwrap();
        gone.push(a.unlink(d0, name.as_bytes(), at(4)).unwrap().0);
    }
    // The first unlinked first, then from the middle out: each only
    // clears its own bit (format 10's list needed every group in scope to
    // take one off the middle).
    for i in [0, 2, 4, 1, 3] {
        a.release_inode(gone[i]).unwrap();
    }
    assert_eq!(a.first_orphan().unwrap(), None);
    unmount_clean(a, b);
}

#[test]
fn file_data_changes_stay_in_each_views_groups() {
    let (mut a, mut b) = views();
    let mut files = [0; 2];
    for (v, fs) in [&mut a, &mut b].into_iter().enumerate() {
        let d = dir(fs, &format!("d{v}"));
        files[v] = fs
            .create(d, b"log", attr(S_IFREG | 0o644), at(3))
            .unwrap()
            .0;
    }
    let mut sizes = [0u64; 2];
    for i in 0..400u64 {
        for (v, fs) in [&mut a, &mut b].into_iter().enumerate() {
            let f = files[v];
            let lblk = sizes[v] / BLOCK_SIZE;
            let m = fs.map_blocks(f, lblk, 1, true, false).unwrap();
            let Mapping::Mapped { pblk, .. } = m.mapping else {
                panic!("view {v}: block {lblk} not mapped");
            };
            let g = fs.geometry().block_group(pblk);
            assert_ne!(
                SCOPES[v] & 1 << g,
                0,
                "view {v} allocated data in group {g}"
            );
            sizes[v] += BLOCK_SIZE;
            fs.grow_size(f, sizes[v]).unwrap();
            if i % 7 == 3 {
                fs.store_times(f, at(10 + i as i64), at(10 + i as i64), at(10 + i as i64))
                    .unwrap();
            }
            if i % 50 == 49 {
                // Punch the first half, then truncate to a quarter.
                let blocks = sizes[v] / BLOCK_SIZE;
                fs.punch_range(f, 0, blocks / 2).unwrap();
                sizes[v] = blocks / 4 * BLOCK_SIZE;
                let shrink = SetAttr {
                    size: Some(sizes[v]),
                    ..SetAttr::default()
                };
                fs.setattr(f, shrink).unwrap();
                fs.finish_truncate(f).unwrap();
            }
        }
    }
    for (v, fs) in [&a, &b].into_iter().enumerate() {
        assert_eq!(fs.read_inode(files[v]).unwrap().size, sizes[v]);
    }
    cut_and_unmount_clean(a, b);
}
