//! mkfs leaves the inode table as it finds it (format version 10): a slot
//! is in use when its bitmap bit is set, and every record carries the
//! filesystem's inode stamp, so the records a previous filesystem (or
//! anything else) left there are never taken for inodes: fsck is clean on
//! the new filesystem, and creates reuse those slots.

use ferrodax_core::fs::MountOptions;
use ferrodax_core::inode::*;
use ferrodax_core::layout::*;
use ferrodax_core::mkfs::{format, MkfsParams};
use ferrodax_core::persist::Pm;
use ferrodax_core::Fs;
use ferrodax_tools::fsck::check;
use ferrodax_tools::media::MemMedium;
use ferrodax_tools::testing::*;

const R: u64 = ROOT_INO;
const BLOCKS: u64 = 2048;

/// mkfs over `image` with directory hash key `hash_seed`, and mount.
fn mkfs_over(image: Vec<u8>, hash_seed: [u8; 16]) -> Fs<MemMedium> {
    let mut pm = Pm::new(MemMedium::new(image));
    let params = MkfsParams {
        uuid: [1; 16],
        label: [0; 32],
        now: at(5),
        hash_seed,
    };
    format(&mut pm, &params).unwrap();
    Fs::mount(pm.into_medium(), MountOptions::default())
        .unwrap()
        .0
}

/// A filesystem of 10 directories and 40 files, every fifth removed again
/// (its slot zeroed), as an image.
fn old_image() -> Vec<u8> {
    let mut fs = mem_fs(BLOCKS);
    for d in 0..10 {
        let name = format!("d{d}");
        let (dir, _) = fs
            .create(R, name.as_bytes(), attr(S_IFDIR | 0o755), at(1))
            .unwrap();
        for f in 0..4 {
            let name = format!("f{f}");
            let (file, _) = fs
                .create(dir, name.as_bytes(), attr(S_IFREG | 0o644), at(1))
                .unwrap();
            fs.allocate_range(file, 0, 1, false).unwrap();
            if (d * 4 + f) % 5 == 0 {
                let (ino, _) = fs.unlink(dir, name.as_bytes(), at(2)).unwrap();
                fs.release_inode(ino).unwrap();
            }
        }
    }
    assert!(check(&fs).problems.is_empty());
    fs.into_medium().0
}

/// Slots of `fs` below `end` holding a record stamped `stamp`.
fn stamped(fs: &Fs<MemMedium>, end: u64, stamp: u32) -> usize {
    let m = &fs.pm().medium().0;
    (R + 1..end)
        .filter(|&ino| {
            let off = fs.geometry().inode_off(ino) as usize;
            let raw = m[off..off + INODE_SIZE as usize].try_into().unwrap();
            Inode::is_ours(raw, ino, stamp)
        })
        .count()
}

/// Make 60 files in 3 directories, remove every third, check after each
/// step; returns the filesystem.
fn use_it(mut fs: Fs<MemMedium>) -> Fs<MemMedium> {
    assert!(check(&fs).problems.is_empty(), "{:?}", check(&fs).problems);
    let mut names = Vec::new();
    fs.readdir(R, 0, |name, _, _, _| {
        names.push(name.to_vec());
        true
    })
    .unwrap();
    assert!(
        names.iter().all(|n| n == b"." || n == b".."),
        "a new root holds . and .. only: {names:?}"
    );
    for d in 0..3 {
        let (dir, _) = fs
            .create(R, format!("n{d}").as_bytes(), attr(S_IFDIR | 0o755), at(6))
            .unwrap();
        for f in 0..20 {
            let name = format!("g{f}");
            let (file, _) = fs
                .create(dir, name.as_bytes(), attr(S_IFREG | 0o644), at(6))
                .unwrap();
            fs.allocate_range(file, 0, 2, false).unwrap();
            if f % 3 == 0 {
                let (ino, _) = fs.unlink(dir, name.as_bytes(), at(7)).unwrap();
                fs.release_inode(ino).unwrap();
            }
        }
    }
    let fs = remount(fs);
    let report = check(&fs);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.inodes, 1 + 3 + 3 * 13);
    fs
}

#[test]
fn mkfs_over_an_old_filesystem_ignores_its_inode_records() {
    let old = old_image();
    let old_stamp = inode_stamp(&HASH_SEED);
    let fs = mkfs_over(old, *b"another hash key");
    let new_stamp = fs.superblock().inode_stamp();
    assert_ne!(old_stamp, new_stamp);
    // The old records are still there (42 of 50 in use when it was
    // unmounted): what the stamp keeps fsck and the allocator away from.
    assert_eq!(stamped(&fs, 64, old_stamp), 42);
    assert_eq!(stamped(&fs, 64, new_stamp), 0);
    let fs = use_it(fs);
    // The new filesystem's records replaced old ones in the slots it used.
    assert!(stamped(&fs, 64, old_stamp) < 42);
}

#[test]
fn mkfs_over_garbage_makes_a_clean_filesystem() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let image = (0..BLOCKS * BLOCK_SIZE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    use_it(mkfs_over(image, *b"garbage hash key"));
}

/// Negative control: with the same stamp (the same hash key, which the
/// mkfs binary never repeats: it draws a random one), the old records
/// would be taken for inodes nobody names.
#[test]
fn the_same_stamp_would_resurrect_old_inodes() {
    let fs = mkfs_over(old_image(), HASH_SEED);
    let problems = check(&fs).problems;
    assert!(
        problems
            .iter()
            .any(|p| p.what.contains("in use but no directory names it")),
        "{problems:?}"
    );
}
