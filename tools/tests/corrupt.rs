//! Damaged media: every structure, corrupted on its own, is rejected by
//! mount or by the first access with an error naming it, and found by fsck.
//! Random damage never panics (a proptest fuzzer over mount, fsck and ops).

use ferrodax_core::acl::Acls;
use ferrodax_core::bitmap::Map;
use ferrodax_core::fs::MountOptions;
use ferrodax_core::inode::*;
use ferrodax_core::layout::*;
use ferrodax_core::{Error, Fs, MediumRead};
use ferrodax_tools::fsck::check;
use ferrodax_tools::fuzz::{exercise, Outcome};
use ferrodax_tools::media::MemMedium;
use ferrodax_tools::testing::*;
use proptest::prelude::*;

const R: u64 = ROOT_INO;

/// A populated image and the inode numbers of interest.
fn image() -> (MemMedium, u64, u64) {
    let mut fs = mem_fs(2048);
    let (d, _) = fs.create(R, b"dir", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let (f, _) = fs.create(d, b"file", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.map_blocks(f, 0, 4, true, false).unwrap();
    fs.map_blocks(f, 10, 2, true, false).unwrap();
    fs.set_size(f, 12 * BLOCK_SIZE, at(2)).unwrap();
    fs.symlink(R, b"sym", b"dir/file", attr(0), at(3)).unwrap();
    (fs.into_medium(), d, f)
}

fn mount(m: MemMedium) -> ferrodax_core::Result<Fs<MemMedium>> {
    Fs::mount(m, MountOptions::default()).map(|(fs, _)| fs)
}

fn flip(m: &mut MemMedium, off: u64) {
    m.0[off as usize] ^= 0x40;
}

fn fsck_finds(m: MemMedium, what: &str) {
    let fs = mount(m).expect("mount");
    let r = check(&fs);
    assert!(
        r.problems.iter().any(|p| p.what.contains(what)),
        "fsck did not name '{what}': {:#?}",
        r.problems
    );
}

fn mount_rejects(m: MemMedium, what: &str) {
    match mount(m) {
        Err(e) => assert!(
            e.to_string().contains(what),
            "mount said '{e}', not '{what}'"
        ),
        Ok(_) => panic!("mount accepted an image with a damaged {what}"),
    }
}

#[test]
fn superblock_damage() {
    let (m, ..) = image();
    let mut c = m.clone();
    flip(&mut c, 0);
    mount_rejects(c, "superblock magic");
    let mut c = m.clone();
    flip(&mut c, 100); // inside the mkfs time: only the checksum notices
    mount_rejects(c, "superblock checksum");
    let mut c = m.clone();
    flip(&mut c, 60); // inside the label, which has a checksum of its own
    mount_rejects(c, "superblock label checksum");
    let mut c = m.clone();
    let mut raw = [0u8; SB_SIZE];
    c.read(0, &mut raw).unwrap();
    let mut sb = Superblock::decode(&raw).unwrap();
    sb.incompat |= 1 << 40;
    c.0[..SB_SIZE].copy_from_slice(&sb.encode());
    mount_rejects(c, "incompatible feature flags");
    let mut c = m.clone();
    flip(&mut c, GROUP_OFFSET + 3);
    mount_rejects(c, "group counters checksum");
    let mut c = m.clone();
    flip(&mut c, BLOCK_SIZE + 8);
    mount_rejects(c, "journal header magic");
    // A shrunken device: the superblock claims more than there is.
    let mut c = m.clone();
    c.0.truncate(c.0.len() - BLOCK_SIZE as usize);
    mount_rejects(c, "larger than the device");
    // Backup superblock damage is fsck's to find.
    let mut c = m.clone();
    let last = c.0.len() as u64 - BLOCK_SIZE;
    flip(&mut c, last + 20);
    fsck_finds(c, "backup superblock");
}

#[test]
fn inode_damage() {
    let (m, d, f) = image();
    let fs = mount(m.clone()).unwrap();
    let (root_off, f_off) = (fs.geometry().inode_off(R), fs.geometry().inode_off(f));
    let mut c = m.clone();
    flip(&mut c, root_off + 30);
    mount_rejects(c, "inode checksum");
    let mut c = m.clone();
    flip(&mut c, f_off + 26);
    let fs2 = mount(c.clone()).unwrap();
    assert_eq!(fs2.read_inode(f), Err(Error::Corrupt("inode checksum")));
    fsck_finds(c, "inode checksum");
    // Inode copied into the wrong slot.
    let mut c = m.clone();
    let g = *fs.geometry();
    let bytes = c.0[f_off as usize..(f_off + INODE_SIZE) as usize].to_vec();
    let other = g.inode_off(d);
    c.0[other as usize..(other + INODE_SIZE) as usize].copy_from_slice(&bytes);
    fsck_finds(c, "inode checksum");
}

#[test]
fn mapping_and_directory_damage() {
    let (m, d, f) = image();
    let fs = mount(m.clone()).unwrap();
    let fi = fs.read_inode(f).unwrap();
    let di = fs.read_inode(d).unwrap();
    let ext = Geometry::block_off(fi.root);
    let mut c = m.clone();
    flip(&mut c, ext + 16 + 2);
    fsck_finds(c, "extent checksum");
    let mut c = m.clone();
    flip(&mut c, ext + 4);
    fsck_finds(c, "extent block header");
    // Directory: root block magic, block header, entry checksum.
    let mut c = m.clone();
    flip(&mut c, Geometry::block_off(di.root) + 1);
    fsck_finds(c, "directory root");
    let e = fs.lookup(d, b"file").unwrap().unwrap();
    let blk = Geometry::block_off(e.pos.blk);
    let mut c = m.clone();
    flip(&mut c, blk + 5);
    fsck_finds(c, "directory block header");
    // A name byte: the block's checksum no longer matches.
    let mut c = m.clone();
    flip(&mut c, blk + e.pos.off + 10);
    let fs2 = mount(c.clone()).unwrap();
    assert_eq!(
        fs2.lookup(d, b"file"),
        Err(Error::Corrupt("directory block checksum"))
    );
    fsck_finds(c, "directory block checksum");
    // The stored hash byte, checksum recomputed: readdir lists the entry
    // but lookup misses it, and fsck names that entry.
    let mut c = m.clone();
    c.0[(blk + e.pos.off + 8) as usize] ^= 0x5a;
    reseal_entry_block(&mut c, blk);
    fsck_finds(c, "'file' is not found by its name");
    // Symlink pointing outside the data area.
    let s = fs.lookup(R, b"sym").unwrap().unwrap().ino;
    let mut si = fs.read_inode(s).unwrap();
    si.root = 3;
    let mut c = m.clone();
    let off = fs.geometry().inode_off(s) as usize;
    c.0[off..off + INODE_SIZE as usize]
        .copy_from_slice(&si.encode(s, fs.superblock().inode_stamp()));
    fsck_finds(c, "symlink target block pointer");
}

#[test]
fn free_space_damage_is_found_and_repaired() {
    let (m, ..) = image();
    let fs = mount(m.clone()).unwrap();
    let g = *fs.geometry();
    let used_data_block = g.data_start; // the root directory's entry block
    let byte = Geometry::block_off(g.block_bitmap_start) + used_data_block / 8;
    let mut c = m.clone();
    c.0[byte as usize] &= !(1u8 << (used_data_block % 8));
    fsck_finds(c.clone(), "Blocks bitmap");
    // The checksum catches it at allocation time, before a double use.
    let mut fs2 = mount(c.clone()).unwrap();
    let r = fs2.create(R, b"new", attr(S_IFDIR | 0o755), at(9));
    assert_eq!(r.map(drop), Err(Error::Corrupt("block bitmap")));
    // fsck -y style repair: the rewritten bitmaps check clean.
    let fs3 = mount(c).unwrap();
    let report = check(&fs3);
    let sb = *fs3.superblock();
    let mut pm = ferrodax_core::persist::Pm::new(fs3.into_medium());
    let fixed = ferrodax_tools::fsck::repair(&mut pm, &sb, &report).unwrap();
    assert!(fixed > 0);
    let fs4 = mount(pm.into_medium()).unwrap();
    assert!(
        check(&fs4).problems.is_empty(),
        "{:#?}",
        check(&fs4).problems
    );
    assert!(fs4.bit_is_set(Map::Blocks, used_data_block).unwrap());
}

#[test]
fn link_count_damage_is_repaired() {
    let (m, _, f) = image();
    let fs = mount(m.clone()).unwrap();
    let mut fi = fs.read_inode(f).unwrap();
    fi.nlink = 5;
    let off = fs.geometry().inode_off(f) as usize;
    let mut c = m.clone();
    c.0[off..off + INODE_SIZE as usize]
        .copy_from_slice(&fi.encode(f, fs.superblock().inode_stamp()));
    let fs = mount(c).unwrap();
    let report = check(&fs);
    assert!(report
        .problems
        .iter()
        .any(|p| p.what.contains("link count 5 should be 1")));
    let sb = *fs.superblock();
    let mut pm = ferrodax_core::persist::Pm::new(fs.into_medium());
    ferrodax_tools::fsck::repair(&mut pm, &sb, &report).unwrap();
    assert!(check(&mount(pm.into_medium()).unwrap()).problems.is_empty());
}

/// Write `ino` as `change` leaves it, with a valid checksum.
fn rewrite_inode(m: &MemMedium, ino: u64, change: impl FnOnce(&mut Inode)) -> MemMedium {
    let fs = mount(m.clone()).unwrap();
    let mut i = fs.read_inode(ino).unwrap();
    change(&mut i);
    let off = fs.geometry().inode_off(ino) as usize;
    let mut c = m.clone();
    c.0[off..off + INODE_SIZE as usize]
        .copy_from_slice(&i.encode(ino, fs.superblock().inode_stamp()));
    c
}

#[test]
fn counts_too_small_for_an_operation_are_corruption_not_overflow() {
    let (m, d, f) = image();
    // Blocks mapped but a block count of zero: truncating frees them.
    let mut fs = mount(rewrite_inode(&m, f, |i| i.blocks = 0)).unwrap();
    assert_eq!(
        fs.set_size(f, 0, at(5)),
        Err(Error::Corrupt("inode block count"))
    );
    // A directory holding a name but counting none.
    let mut fs = mount(rewrite_inode(&m, d, |i| i.entries = 0)).unwrap();
    assert_eq!(
        fs.unlink(d, b"file", at(6)).map(|_| ()),
        Err(Error::Corrupt("directory entry count"))
    );
    // The failed operations rolled back: the image is as it was.
    let fs = mount(fs.into_medium()).unwrap();
    assert!(fs.lookup(d, b"file").unwrap().is_some());
    assert_eq!(fs.read_inode(f).unwrap().nlink, 1);
}

/// Everything that reads the media runs on `m`: errors are fine, panics
/// (and mount errors other than "corrupt") are not.
fn poke(m: MemMedium) {
    match exercise(m) {
        Outcome::Refused { .. } | Outcome::Handled { .. } => {}
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random byte damage anywhere in the metadata or the first data blocks.
    #[test]
    fn random_damage_never_panics(hits in prop::collection::vec((0u64..200 * BLOCK_SIZE, any::<u8>()), 1..24)) {
        let (mut m, ..) = image();
        for (off, v) in hits {
            m.0[off as usize] = v;
        }
        poke(m);
    }

    /// Damage aimed at 8-byte fields of live structures (pointers, counts).
    #[test]
    fn field_damage_never_panics(which in 0usize..6, field in 0u64..64, v in any::<u64>()) {
        let (mut m, d, f) = image();
        let fs = mount(m.clone()).unwrap();
        let g = *fs.geometry();
        let fi = fs.read_inode(f).unwrap();
        let di = fs.read_inode(d).unwrap();
        let base = [
            0,
            GROUP_OFFSET,
            g.inode_off(f),
            Geometry::block_off(fi.root),
            Geometry::block_off(di.root),
            Geometry::block_off(g.journal_start) + 64,
        ][which];
        let off = (base + field * 8) as usize;
        m.0[off..off + 8].copy_from_slice(&v.to_le_bytes());
        poke(m);
    }
}

/// Flip inode `ino`'s bit in the orphan bitmap and count it in its group,
/// keeping the line's checksum valid (so that the orphan, not a checksum,
/// is what a check finds).
fn flip_orphan_bit(m: &mut MemMedium, ino: u64) {
    let g = Superblock::decode(m.0[..SB_SIZE].try_into().unwrap())
        .unwrap()
        .geo;
    let bitmap = Geometry::block_off(g.orphan_bitmap_start) as usize;
    m.0[bitmap + (ino / 8) as usize] ^= 1 << (ino % 8);
    let set = m.0[bitmap + (ino / 8) as usize] & 1 << (ino % 8) != 0;
    let line = bitmap + (ino / CHUNK_BITS * CHUNK_BITS / 8) as usize;
    let crc = ferrodax_core::crc32c::crc32c(&m.0[line..line + 64]);
    let first = (g.inode_bitmap_blocks + g.block_bitmap_blocks) * 64;
    let slot = (Geometry::block_off(g.bitmap_crc_start) + 4 * (first + ino / CHUNK_BITS)) as usize;
    m.0[slot..slot + 4].copy_from_slice(&crc.to_le_bytes());
    let k = g.inode_group(ino);
    let at = Geometry::group_off(k) as usize;
    let mut group = Group::decode(m.0[at..at + GROUP_SIZE].try_into().unwrap(), &g, k).unwrap();
    group.orphans = if set {
        group.orphans + 1
    } else {
        group.orphans - 1
    };
    m.0[at..at + GROUP_SIZE].copy_from_slice(&group.encode());
}

#[test]
fn a_lost_orphan_is_put_back_and_released() {
    let (m, ..) = image();
    let mut fs = mount(m).unwrap();
    let (t, _) = fs
        .tmpfile(attr(S_IFREG | 0o600), &Acls::NONE, at(4))
        .unwrap();
    fs.map_blocks(t, 0, 3, true, false).unwrap();
    let free_before = fs.counters().free_blocks;
    // The orphan bitmap loses its only bit, and its group the count.
    let mut m = fs.into_medium();
    flip_orphan_bit(&mut m, t);
    let fs = mount(m).unwrap();
    let report = check(&fs);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.what == format!("inode {t}: unlinked but not on the orphan list")),
        "{:#?}",
        report.problems
    );
    let sb = *fs.superblock();
    let mut pm = ferrodax_core::persist::Pm::new(fs.into_medium());
    ferrodax_tools::fsck::repair(&mut pm, &sb, &report).unwrap();
    // The next mount releases it: its inode and blocks are free again.
    let fs = mount(pm.into_medium()).unwrap();
    assert_eq!(fs.counters().free_blocks, free_before + 4);
    assert!(check(&fs).problems.is_empty(), "{:#?}", check(&fs).problems);
}

#[test]
fn a_stray_orphan_bit_and_a_misplaced_name_are_found() {
    let (m, _, f) = image();
    // The bit of a free inode, counted: mount refuses to release it,
    // fsck finds it and repairs it.
    let free = f + 7;
    let mut c = m.clone();
    flip_orphan_bit(&mut c, free);
    mount_rejects(c.clone(), "orphan bitmap (an inode not in use)");
    let keep = MountOptions {
        keep_orphans: true,
        ..MountOptions::default()
    };
    let fs = Fs::mount(c, keep).unwrap().0;
    let report = check(&fs);
    assert!(
        report.problems.iter().any(|p| p
            .what
            .starts_with(&format!("orphan bitmap holds inode {free}"))),
        "{:#?}",
        report.problems
    );
    let sb = *fs.superblock();
    let mut pm = ferrodax_core::persist::Pm::new(fs.into_medium());
    ferrodax_tools::fsck::repair(&mut pm, &sb, &report).unwrap();
    assert!(check(&mount(pm.into_medium()).unwrap()).problems.is_empty());
    // A linked file on the orphan list (a truncate a crash left
    // unfinished) is no damage: mount finishes it, the file stays whole.
    let whole = mount(m.clone()).unwrap().read_inode(f).unwrap();
    let mut c = m.clone();
    flip_orphan_bit(&mut c, f);
    let fs = mount(c).unwrap();
    assert_eq!(fs.read_inode(f).unwrap(), whole);
    assert!(check(&fs).problems.is_empty(), "{:#?}", check(&fs).problems);
    // An entry whose stored hash no longer matches its name (checksum made
    // valid again) lists but cannot be opened.
    let img = ferrodax_tools::fuzz::Image::populated();
    let hash = img.fields().iter().find(|x| x.name.ends_with(".hash"));
    let fs = mount(img.with(hash.unwrap(), 0x1234_5678)).unwrap();
    assert!(check(&fs)
        .problems
        .iter()
        .any(|p| p.what.contains("is not found by its name")));
}

/// Recompute the checksum of the entry block at byte `blk` after a
/// deliberate change (so that the change, not the checksum, is what a
/// check finds).
fn reseal_entry_block(c: &mut MemMedium, blk: u64) {
    let b = &mut c.0[blk as usize..(blk + BLOCK_SIZE) as usize];
    b[8..12].fill(0);
    let crc = ferrodax_core::crc32c::crc32c(b);
    b[8..12].copy_from_slice(&crc.to_le_bytes());
}
