//! Directories: one block while small, an index above entry blocks when
//! big, blocks freed as they empty and joined as they nearly do, hash
//! collisions, readdir cookies that stay valid across inserts and
//! removals, and agreement with a model under random creates, renames
//! and unlinks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferrodax_core::acl::Acls;
use ferrodax_core::dir::{name_hash, Lookup, NameSlot};
use ferrodax_core::error::Error;
use ferrodax_core::inode::*;
use ferrodax_core::layout::{BLOCK_SIZE, ROOT_INO as R};
use ferrodax_core::medium::MediumRead;
use ferrodax_core::mem::MemMedium;
use ferrodax_core::namei::RenameFlags;
use ferrodax_core::Fs;
use ferrodax_tools::crash::RecMedium;
use ferrodax_tools::fsck::check;
use ferrodax_tools::media::CountingMedium;
use ferrodax_tools::testing::*;

fn clean(fs: &Fs<MemMedium>) {
    let r = check(fs);
    assert!(r.problems.is_empty(), "fsck: {:#?}", r.problems);
}

/// Every entry of `dir` by readdir, with its next position, in order.
fn list(fs: &Fs<MemMedium>, dir: u64) -> Vec<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    fs.readdir(dir, 0, |name, _, _, next| {
        out.push((name.to_vec(), next));
        true
    })
    .unwrap();
    out
}

/// The names readdir of `dir` returns in batches of `batch` (each resumed
/// at the last one's cookie), with `between(fs, round)` run after each.
fn list_in_batches(
    fs: &mut Fs<MemMedium>,
    dir: u64,
    batch: usize,
    mut between: impl FnMut(&mut Fs<MemMedium>, usize),
) -> Vec<String> {
    let (mut pos, mut seen) = (0, Vec::new());
    for round in 0.. {
        let mut n = 0;
        fs.readdir(dir, pos, |name, _, _, next| {
            seen.push(String::from_utf8(name.to_vec()).unwrap());
            pos = next;
            n += 1;
            n < batch
        })
        .unwrap();
        if n == 0 {
            break;
        }
        between(fs, round);
    }
    seen
}

fn blocks(fs: &Fs<MemMedium>, dir: u64) -> u64 {
    fs.read_inode(dir).unwrap().blocks
}

fn create(fs: &mut Fs<MemMedium>, dir: u64, name: &str) -> u64 {
    fs.create(dir, name.as_bytes(), attr(S_IFREG | 0o644), at(2))
        .unwrap()
        .0
}

#[test]
fn a_directory_grows_an_index_and_shrinks_back_to_one_block() {
    // One inode per four blocks: room for 20,000 files.
    let mut fs = mem_fs(96 * 1024);
    let free0 = fs.counters().free_blocks;
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap();
    assert_eq!(blocks(&fs, d), 1, "an empty directory is one block");
    // Records of 12 bytes and the name tile the block's 4080 bytes.
    let mut bytes = 0;
    let fit = (0..).take_while(|i| {
        bytes += 12 + format!("f{i}").len();
        bytes <= 4080
    });
    let fit = fit.count();
    for i in 0..fit {
        create(&mut fs, d, &format!("f{i}"));
    }
    assert_eq!(blocks(&fs, d), 1, "{fit} short names fit one block");
    create(&mut fs, d, &format!("f{fit}"));
    assert_eq!(blocks(&fs, d), 3, "a split: two entry blocks and an index");
    clean(&fs);
    // 20,000 names: entry blocks about 80% full (a full block evens out
    // with a neighbour before it splits).
    let n = 20_000;
    for i in fit as u64 + 1..n {
        create(&mut fs, d, &format!("f{i}"));
    }
    let used = blocks(&fs, d);
    println!("{n} names: {used} directory blocks");
    assert!(used <= n / 190, "{used} blocks for {n} names");
    let listed = list(&fs, d);
    assert_eq!(listed.len() as u64, n);
    let names: BTreeSet<_> = listed.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names.len() as u64, n, "no name listed twice");
    assert!(
        listed.windows(2).all(|w| w[0].1 < w[1].1),
        "cookies increase"
    );
    for i in (0..n).step_by(97) {
        assert!(fs.lookup(d, format!("f{i}").as_bytes()).unwrap().is_some());
    }
    clean(&fs);
    let mut fs = remount(fs);
    assert_eq!(list(&fs, d).len() as u64, n);
    for i in 0..n {
        let (ino, _) = fs.unlink(d, format!("f{i}").as_bytes(), at(3)).unwrap();
        fs.release_inode(ino).unwrap();
        if i == n / 2 {
            clean(&fs);
        }
    }
    assert_eq!(blocks(&fs, d), 1, "emptied blocks are freed");
    assert!(list(&fs, d).is_empty());
    clean(&fs);
    fs.rmdir(R, b"d", at(4)).unwrap();
    clean(&fs);
    // the directory's last block goes at release
    let fs = remount(fs);
    assert_eq!(fs.counters().free_blocks, free0);
}

#[test]
fn a_full_block_evens_out_with_its_neighbour_before_it_splits() {
    let hash = |n: &str| name_hash(&HASH_SEED, n.as_bytes());
    let mut fs = mem_fs(8192);
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap();
    // 256 names of 16-byte records: one more than a block holds, so a
    // split into two blocks about half full under an index.
    let first: Vec<String> = (0..256).map(|i| format!("n{i:03}")).collect();
    for n in &first {
        create(&mut fs, d, n);
    }
    assert_eq!(blocks(&fs, d), 3);
    // The block split at the median of the 255 names it held.
    let mut sorted: Vec<u32> = first[..255].iter().map(|n| hash(n)).collect();
    sorted.sort_unstable();
    let split = sorted[127];
    let upper = first.iter().filter(|n| hash(n) >= split).count();
    // Names above the split only: the upper block fills after 255 -
    // upper of them; the ones after that move records to the lower block
    // instead of splitting, until both are nearly full.
    let more: Vec<String> = (0..)
        .map(|i| format!("u{i:03}"))
        .filter(|n| hash(n) >= split)
        .take(255 - upper + 80)
        .collect();
    for n in &more {
        create(&mut fs, d, n);
    }
    assert_eq!(blocks(&fs, d), 3, "evened out, not split");
    clean(&fs);
    let listed = list(&fs, d);
    assert_eq!(listed.len(), first.len() + more.len());
    for n in first.iter().chain(&more).step_by(7) {
        assert!(fs.lookup(d, n.as_bytes()).unwrap().is_some(), "{n}");
    }
}

#[test]
fn nearly_empty_blocks_join_their_neighbours_under_a_listing() {
    let mut fs = mem_fs(96 * 1024);
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let n = 20_000;
    let name = |i: u64| format!("f{i:05}");
    for i in 0..n {
        create(&mut fs, d, &name(i));
    }
    let full = blocks(&fs, d);
    // Every 20th name stays; the rest go between readdir batches of 50,
    // so blocks empty all over the hash space while a listing runs.
    let stay = |i: u64| i % 20 == 0;
    let mut gone = (0..n).filter(|&i| !stay(i));
    let seen = list_in_batches(&mut fs, d, 50, |fs, _| {
        for i in gone.by_ref().take(400) {
            let (ino, _) = fs.unlink(d, name(i).as_bytes(), at(3)).unwrap();
            fs.release_inode(ino).unwrap();
        }
    });
    for i in gone {
        let (ino, _) = fs.unlink(d, name(i).as_bytes(), at(3)).unwrap();
        fs.release_inode(ino).unwrap();
    }
    for i in (0..n).filter(|&i| stay(i)) {
        let times = seen.iter().filter(|s| **s == name(i)).count();
        assert_eq!(times, 1, "{} listed {times} times", name(i));
    }
    // 1,000 records of 15 bytes are 15,000 bytes: without joins the
    // directory would keep all its blocks, each about 4% full; joined,
    // blocks are at least an eighth full on average.
    let left = blocks(&fs, d);
    println!("{n} names: {full} blocks; 1 in 20 left: {left} blocks");
    assert!(left <= 15_000 / (4080 / 8) + 2, "{left} blocks");
    let listed = list(&fs, d);
    assert_eq!(listed.len() as u64, n / 20);
    for i in (0..n).filter(|&i| stay(i)).step_by(13) {
        assert!(fs.lookup(d, name(i).as_bytes()).unwrap().is_some());
    }
    clean(&fs);
    let fs = remount(fs);
    assert_eq!(list(&fs, d).len() as u64, n / 20);
    clean(&fs);
}

/// Two names of one hash, found among `n` generated ones.
#[test]
fn a_rename_that_reshapes_its_block_removes_the_old_name() {
    // Renames inside one directory to longer names fill its one block
    // until the add of a new name reshapes it (splits): the old name's
    // record may have moved, and must still be what goes.
    let mut fs = mem_fs(4096);
    let none = RenameFlags::default();
    let names: Vec<String> = (0..200).map(|i| format!("s{i:03}")).collect();
    for n in &names {
        create(&mut fs, R, n);
    }
    let mut renamed = 0;
    for n in &names {
        let long = format!("{n}-renamed-to-a-longer-name");
        let before = blocks(&fs, R);
        fs.rename(R, n.as_bytes(), R, long.as_bytes(), none, attr(0), at(3))
            .unwrap();
        renamed += 1;
        assert_eq!(fs.lookup(R, n.as_bytes()).unwrap(), None, "{n} still there");
        assert!(fs.lookup(R, long.as_bytes()).unwrap().is_some());
        if blocks(&fs, R) > before {
            break;
        }
    }
    assert!(renamed < names.len(), "no rename reshaped the block");
    assert_eq!(list(&fs, R).len(), names.len());
    clean(&fs);
}

#[test]
fn a_rename_into_the_slack_before_its_old_name_removes_the_old_name() {
    // "a", "b", "c" tile the block; unlinking "b" gives its bytes to "a",
    // and a rename of "c" to a name of b's length goes there: between
    // "c" and the record that was before it when "c" was found.
    let mut fs = mem_fs(4096);
    for n in ["a", "b", "c"] {
        create(&mut fs, R, n);
    }
    let (b, _) = fs.unlink(R, b"b", at(2)).unwrap();
    fs.release_inode(b).unwrap();
    let c = fs.lookup(R, b"c").unwrap().unwrap().ino;
    fs.rename(R, b"c", R, b"x", RenameFlags::default(), attr(0), at(3))
        .unwrap();
    let names: Vec<Vec<u8>> = list(&fs, R).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&b"a".to_vec()) && names.contains(&b"x".to_vec()));
    assert_eq!(fs.lookup(R, b"x").unwrap().unwrap().ino, c);
    clean(&remount(fs));
}

fn colliding_names() -> (String, String) {
    let mut seen = HashMap::new();
    for i in 0u64.. {
        let name = format!("c{i:x}");
        if let Some(other) = seen.insert(name_hash(&HASH_SEED, name.as_bytes()), name.clone()) {
            return (other, name);
        }
    }
    unreachable!()
}

#[test]
fn names_of_one_hash_get_their_own_cookies() {
    let (a, b) = colliding_names();
    assert_eq!(
        name_hash(&HASH_SEED, a.as_bytes()),
        name_hash(&HASH_SEED, b.as_bytes())
    );
    let mut fs = mem_fs(4096);
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap();
    // enough other names that the pair sits in an indexed directory
    for i in 0..200 {
        create(&mut fs, d, &format!("o{i}"));
    }
    let ia = create(&mut fs, d, &a);
    let ib = create(&mut fs, d, &b);
    assert_eq!(fs.lookup(d, a.as_bytes()).unwrap().unwrap().ino, ia);
    assert_eq!(fs.lookup(d, b.as_bytes()).unwrap().unwrap().ino, ib);
    let listed = list(&fs, d);
    let pa = listed.iter().find(|(n, _)| n == a.as_bytes()).unwrap().1;
    let pb = listed.iter().find(|(n, _)| n == b.as_bytes()).unwrap().1;
    // a cookie is one past the key, hash << 4 | collision index, after
    // the positions of "." and ".."
    assert_eq!((pa - 3) >> 4, (pb - 3) >> 4, "one hash");
    assert_ne!(pa, pb, "two cookies");
    // resuming between the two returns the second exactly once
    let mut after = Vec::new();
    fs.readdir(d, pa.min(pb), |name, _, _, _| {
        after.push(name.to_vec());
        true
    })
    .unwrap();
    let second = if pa < pb { &b } else { &a };
    assert_eq!(after.iter().filter(|n| *n == second.as_bytes()).count(), 1);
    clean(&fs);
    fs.unlink(d, a.as_bytes(), at(3)).unwrap();
    assert_eq!(fs.lookup(d, b.as_bytes()).unwrap().unwrap().ino, ib);
    assert_eq!(fs.lookup(d, a.as_bytes()).unwrap(), None);
    clean(&fs);
}

#[test]
fn cookies_survive_inserts_removals_and_splits() {
    let mut fs = mem_fs(32768);
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let stay: Vec<String> = (0..1500).map(|i| format!("stay{i}")).collect();
    for n in &stay {
        create(&mut fs, d, n);
    }
    for i in 0..500 {
        create(&mut fs, d, &format!("go{i}"));
    }
    // readdir in batches of 100; between batches, add 100 names (splits)
    // and remove 25 that are not in `stay`
    let seen = list_in_batches(&mut fs, d, 100, |fs, round| {
        for i in 0..100 {
            create(fs, d, &format!("new{round}-{i}"));
        }
        for i in (round * 25..round * 25 + 25).filter(|i| *i < 500) {
            fs.unlink(d, format!("go{i}").as_bytes(), at(3)).unwrap();
        }
    });
    for n in &stay {
        assert_eq!(seen.iter().filter(|s| *s == n).count(), 1, "{n}");
    }
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no entry listed twice");
    clean(&fs);
}

/// Every directory of `dirs` lists and looks up exactly the names `model`
/// gives it, and its size is its blocks.
fn agrees_with_model(fs: &Fs<MemMedium>, dirs: &[u64], model: &BTreeMap<(u64, String), u64>) {
    for &dir in dirs {
        let listed: BTreeMap<String, u64> = {
            let mut m = BTreeMap::new();
            fs.readdir(dir, 0, |name, ino, _, _| {
                m.insert(String::from_utf8(name.to_vec()).unwrap(), ino);
                true
            })
            .unwrap();
            m
        };
        let expect: BTreeMap<String, u64> = model
            .iter()
            .filter(|((d, _), _)| *d == dir)
            .map(|((_, n), i)| (n.clone(), *i))
            .collect();
        assert_eq!(listed, expect);
        for (n, ino) in &expect {
            assert_eq!(fs.lookup(dir, n.as_bytes()).unwrap().unwrap().ino, *ino);
        }
        assert_eq!(
            fs.read_inode(dir).unwrap().size,
            blocks(fs, dir) * BLOCK_SIZE
        );
    }
}

#[test]
fn random_creates_renames_and_unlinks_agree_with_a_model() {
    let mut fs = mem_fs(32768);
    let dirs: Vec<u64> = (0..3)
        .map(|i| {
            let name = format!("d{i}");
            fs.create(R, name.as_bytes(), attr(S_IFDIR | 0o755), at(1))
                .unwrap()
                .0
        })
        .collect();
    let mut model: BTreeMap<(u64, String), u64> = BTreeMap::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // Creates outnumber removals two to one for 6,000 steps (blocks
    // split and even out); then three in four steps remove a name present
    // (blocks join and free) and the rest rename one, until none is left.
    for step in 0..12_000 {
        let drain = step >= 6000 && !model.is_empty();
        let key = match drain {
            true => {
                let i = (next() % model.len() as u64) as usize;
                model.keys().nth(i).unwrap().clone()
            }
            false => (dirs[(next() % 3) as usize], format!("n{}", next() % 3000)),
        };
        let (dir, name) = key.clone();
        let op = match next() % 4 {
            0 | 1 if drain => 2,
            op => op,
        };
        match op {
            0 | 1 if !model.contains_key(&key) => {
                let ino = create(&mut fs, dir, &name);
                model.insert(key, ino);
            }
            2 if model.contains_key(&key) => {
                let (ino, _) = fs.unlink(dir, name.as_bytes(), at(3)).unwrap();
                fs.release_inode(ino).unwrap();
                model.remove(&key);
            }
            3 if model.contains_key(&key) => {
                let ndir = dirs[(next() % 3) as usize];
                let nname = format!("n{}", next() % 3000);
                let nkey = (ndir, nname.clone());
                if model.contains_key(&nkey) {
                    continue;
                }
                let (w, flags) = (attr(0), RenameFlags::default());
                fs.rename(
                    dir,
                    name.as_bytes(),
                    ndir,
                    nname.as_bytes(),
                    flags,
                    w,
                    at(4),
                )
                .unwrap();
                let ino = model.remove(&key).unwrap();
                model.insert(nkey, ino);
            }
            _ => {}
        }
        if step % 1500 == 0 {
            clean(&fs);
        }
        if step == 6000 || step == 8000 {
            agrees_with_model(&fs, &dirs, &model);
        }
    }
    agrees_with_model(&fs, &dirs, &model);
    clean(&fs);
}

/// Entry blocks are resealed from what a transaction changed in them
/// (`Fs::resealed_crc`), which must not happen after the transaction's
/// stage drained part of it in place. A stage of two ranges drains in the
/// middle of nearly every change: every block still checks after
/// creates, renames across directories and unlinks, and after a remount.
/// Where a lookup of the absent `name` in `dir` said it goes.
fn slot<M: MediumRead>(fs: &Fs<M>, dir: u64, name: &str) -> Option<NameSlot> {
    match fs.probe(dir, name.as_bytes()).unwrap() {
        Lookup::Absent(slot) => slot,
        Lookup::Found(_) => panic!("{name} exists"),
    }
}

#[test]
fn a_create_where_its_lookup_said_stores_what_a_walk_would() {
    // Two filesystems built alike: one creates each name where a lookup
    // of it said it goes, the other walks its entry block again.
    let (mut walked, mut slotted) = (mem_fs(4096), mem_fs(4096));
    let new_dir = attr(S_IFDIR | 0o755);
    let d = walked.create(R, b"d", new_dir, at(1)).unwrap().0;
    assert_eq!(slotted.create(R, b"d", new_dir, at(1)).unwrap().0, d);
    let (a, b) = colliding_names();
    let mut names: Vec<String> = (0..700).map(|i| format!("file-{i}")).collect();
    names.extend([a, b]);
    let mut slots = 0;
    for name in &names {
        let s = slot(&slotted, d, name);
        slots += usize::from(s.is_some());
        let file = attr(S_IFREG | 0o644);
        slotted
            .create_at(d, name.as_bytes(), s, (file, &Acls::NONE), at(2))
            .unwrap();
        walked.create(d, name.as_bytes(), file, at(2)).unwrap();
        // A name there now: found, no slot.
        let found = slotted.probe(d, name.as_bytes()).unwrap();
        assert!(matches!(found, Lookup::Found(e) if e.ino == fs_ino(&walked, d, name)));
    }
    // Every lookup but those in a full block (which the create reshapes)
    // said where the name goes.
    assert!(slots > 600, "{slots} slots of {}", names.len());
    assert!(
        walked.pm().medium().0 == slotted.pm().medium().0,
        "the images differ"
    );
    assert!(blocks(&slotted, d) > 2, "the directory grew an index");
    clean(&slotted);
}

fn fs_ino(fs: &Fs<MemMedium>, dir: u64, name: &str) -> u64 {
    fs.lookup(dir, name.as_bytes()).unwrap().unwrap().ino
}

#[test]
fn lookups_and_creates_read_no_records_of_a_block_summed_up() {
    let mut fs = mkfs_mount(CountingMedium::new(4096 * BLOCK_SIZE as usize));
    let (dir, file) = (attr(S_IFDIR | 0o755), attr(S_IFREG | 0o644));
    let d = fs.create(R, b"d", dir, at(1)).unwrap().0;
    for i in 0..100 {
        fs.create(d, format!("name-{i}").as_bytes(), file, at(2))
            .unwrap();
    }
    // A mount starts with no block verified, so with no summary.
    let mut fs = remount(fs);
    let read = |fs: &Fs<CountingMedium>| fs.pm().medium().read_bytes.get();
    let probe = |fs: &Fs<CountingMedium>, name: &str| {
        let before = read(fs);
        match fs.probe(d, name.as_bytes()).unwrap() {
            Lookup::Absent(s) => (s, read(fs) - before),
            Lookup::Found(_) => panic!("{name} exists"),
        }
    };
    let create = |fs: &mut Fs<CountingMedium>, name: &str, slot| {
        let before = read(fs);
        fs.create_at(d, name.as_bytes(), slot, (file, &Acls::NONE), at(3))
            .unwrap();
        read(fs) - before
    };
    // The first lookup checks the block and walks it (and sums it up).
    let (slot, walked) = probe(&fs, "first");
    let in_slot = create(&mut fs, "first", slot);
    // The create left the summary of the block as it made it.
    let (slot, summed) = probe(&fs, "second");
    let create_summed = create(&mut fs, "second", None);
    assert!(
        summed + 3000 <= walked,
        "a lookup read {walked} bytes, then {summed} from a summary"
    );
    // A create in its slot, or from the summary, reads what the
    // transaction needs and one record head of the block.
    assert!(
        in_slot.abs_diff(create_summed) < 100,
        "{in_slot} and {create_summed} bytes"
    );
    assert!(slot.is_some());
    clean_counting(&fs);
}

#[test]
fn lookups_unlinks_and_renames_of_names_held_read_their_records_only() {
    let mut fs = mkfs_mount(CountingMedium::new(4096 * BLOCK_SIZE as usize));
    let (dir, file) = (attr(S_IFDIR | 0o755), attr(S_IFREG | 0o644));
    let d = fs.create(R, b"d", dir, at(1)).unwrap().0;
    let mut inos = BTreeMap::new();
    for i in 0..100 {
        let name = format!("name-{i}");
        let ino = fs.create(d, name.as_bytes(), file, at(2)).unwrap().0;
        inos.insert(name, ino);
    }
    let mut fs = remount(fs);
    let read = |fs: &Fs<CountingMedium>| fs.pm().medium().read_bytes.get();
    let lookup = |fs: &Fs<CountingMedium>, name: &str| {
        let before = read(fs);
        let e = fs.lookup(d, name.as_bytes()).unwrap();
        (e.map(|e| e.ino), read(fs) - before)
    };
    // The first lookup walks the block (all of it, to place every record).
    let (ino, walked) = lookup(&fs, "name-7");
    assert_eq!(ino, Some(inos["name-7"]));
    // The next ones read the record the summary places, and the name.
    let (ino, placed) = lookup(&fs, "name-50");
    assert_eq!(ino, Some(inos["name-50"]));
    assert!(
        placed + 3000 <= walked,
        "a lookup read {walked} bytes, then {placed} from a summary"
    );
    let unlink = |fs: &mut Fs<CountingMedium>, name: &str| {
        let before = read(fs);
        fs.unlink(d, name.as_bytes(), at(3)).unwrap();
        read(fs) - before
    };
    // An unlink's lookup of its name reads its record too, and leaves the
    // summary as it left the block, so the next one does as well: each
    // reads what the transaction needs.
    let first = unlink(&mut fs, "name-50");
    inos.remove("name-50");
    for i in 0..40 {
        let name = format!("name-{}", i * 2 + 11);
        let bytes = unlink(&mut fs, &name);
        inos.remove(&name);
        assert!(
            bytes < first + 200,
            "{name}: {bytes} bytes, the first {first}"
        );
    }
    // Renames within the block keep it summed up as well.
    for i in 0..10 {
        let (old, new) = (format!("name-{}", i * 2 + 12), format!("moved-{i}"));
        let before = read(&fs);
        let none = RenameFlags::default();
        fs.rename(d, old.as_bytes(), d, new.as_bytes(), none, attr(0), at(4))
            .unwrap();
        let bytes = read(&fs) - before;
        // A walk of the block would read over 3,000.
        assert!(bytes < 1500, "rename {old}: {bytes} bytes");
        let ino = inos.remove(&old).unwrap();
        inos.insert(new, ino);
    }
    // Every name is where it was, removed ones are gone.
    for (name, &ino) in &inos {
        assert_eq!(lookup(&fs, name).0, Some(ino), "{name}");
    }
    for i in 0..40 {
        assert_eq!(lookup(&fs, &format!("name-{}", i * 2 + 11)).0, None);
    }
    clean_counting(&fs);
}

#[test]
fn a_new_directory_seals_its_block_without_reading_it() {
    let mut fs = mkfs_mount(CountingMedium::new(16384 * BLOCK_SIZE as usize));
    let dir = attr(S_IFDIR | 0o755);
    let d = fs.create(R, b"d", dir, at(1)).unwrap().0;
    let read = |fs: &Fs<CountingMedium>| fs.pm().medium().read_bytes.get();
    let mut bytes = Vec::new();
    for i in 0..600 {
        let name = format!("sub-{i}");
        let slot = match fs.probe(d, name.as_bytes()).unwrap() {
            Lookup::Absent(s) => s,
            Lookup::Found(_) => panic!("{name} exists"),
        };
        let before = read(&fs);
        fs.create_at(d, name.as_bytes(), slot, (dir, &Acls::NONE), at(2))
            .unwrap();
        bytes.push(read(&fs) - before);
    }
    assert!(fs.read_inode(d).unwrap().blocks > 2, "the directory split");
    bytes.sort_unstable();
    let median = bytes[bytes.len() / 2];
    // Sealing a new directory's block does not read its 4 KiB (zeroes
    // past its one record).
    assert!(median < BLOCK_SIZE / 2, "a mkdir read {median} bytes");
    clean_counting(&fs);
}

fn clean_counting(fs: &Fs<CountingMedium>) {
    let r = check(fs);
    assert!(r.problems.is_empty(), "fsck: {:#?}", r.problems);
}

#[test]
fn a_slot_is_not_used_once_its_block_changed() {
    let mut fs = mem_fs(4096);
    let file = attr(S_IFREG | 0o644);
    let d = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap().0;
    // An empty directory's only record is the free one, which a create
    // fills in place: its slack still takes the name after that.
    let stale = slot(&fs, d, "c");
    assert!(stale.is_some());
    create(&mut fs, d, "c");
    // The name is there now; the slot would put it there again.
    let again = fs.create_at(d, b"c", stale, (file, &Acls::NONE), at(2));
    assert!(matches!(again, Err(Error::Exists)), "{again:?}");
    // Another directory's change leaves a slot be; a remount does not.
    let e = slot(&fs, d, "e");
    create(&mut fs, R, "elsewhere");
    fs.create_at(d, b"e", e, (file, &Acls::NONE), at(2))
        .unwrap();
    let f = slot(&fs, d, "f");
    let mut fs = remount(fs);
    fs.create_at(d, b"f", f, (file, &Acls::NONE), at(2))
        .unwrap();
    let names: Vec<Vec<u8>> = list(&fs, d).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 3);
    for n in ["c", "e", "f"] {
        assert!(names.contains(&n.as_bytes().to_vec()), "{n} missing");
    }
    clean(&fs);
}

/// The entry block of `name` in `dir`.
fn block_of(fs: &Fs<MemMedium>, dir: u64, name: &str) -> u64 {
    fs.lookup(dir, name.as_bytes()).unwrap().unwrap().pos.blk
}

#[test]
fn a_slot_in_a_block_a_join_freed_is_not_used() {
    // A create trusts a slot's block to hold the name's hash while the
    // block is as the lookup read it. A join copies the left block's
    // records and the right one's to a new block and frees both, storing
    // nothing to them: their slots die with them.
    let mut fs = mem_fs(8192);
    let file = attr(S_IFREG | 0o644);
    let d = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap().0;
    let names: Vec<String> = (0..1200).map(|i| format!("f{i:04}")).collect();
    for n in &names {
        create(&mut fs, d, n);
    }
    // The blocks in hash order (readdir's), each with its names.
    let mut by_block: Vec<(u64, Vec<String>)> = Vec::new();
    for (n, _) in list(&fs, d) {
        let n = String::from_utf8(n).unwrap();
        let blk = block_of(&fs, d, &n);
        match by_block.last_mut() {
            Some((b, names)) if *b == blk => names.push(n),
            _ => by_block.push((blk, vec![n])),
        }
    }
    assert!(by_block.len() >= 3, "{} blocks", by_block.len());
    let (left, right) = (by_block[0].clone(), by_block[1].clone());
    // The right block keeps three names: too many for its full
    // neighbours to take.
    for n in &right.1[3..] {
        fs.unlink(d, n.as_bytes(), at(2)).unwrap();
    }
    assert_eq!(block_of(&fs, d, &right.1[0]), right.0, "joined too early");
    // Absent names whose slots are in the right block.
    let slots: Vec<(String, NameSlot)> = (0..400)
        .map(|j| format!("new{j}"))
        .filter_map(|n| slot(&fs, d, &n).map(|s| (n, s)))
        .filter(|(_, s)| s.to_words()[1] & ((1 << 31) - 1) == right.0)
        .collect();
    assert!(!slots.is_empty());
    // Empty the left block until the right one joins it.
    let mut left_names = left.1.iter();
    for n in left_names.by_ref() {
        fs.unlink(d, n.as_bytes(), at(3)).unwrap();
        if block_of(&fs, d, &right.1[0]) != right.0 {
            break;
        }
    }
    let joined = block_of(&fs, d, &right.1[0]);
    assert_ne!(joined, right.0, "no join");
    for n in left_names.chain(&right.1[1..3]) {
        assert_eq!(block_of(&fs, d, n), joined, "{n}");
    }
    for (n, s) in &slots {
        fs.create_at(d, n.as_bytes(), Some(*s), (file, &Acls::NONE), at(4))
            .unwrap();
        assert_ne!(block_of(&fs, d, n), right.0, "{n} went to a freed block");
    }
    clean(&fs);
}

#[test]
fn a_create_where_its_lookup_said_and_most_unlinks_read_no_index() {
    // The same create and unlink in a directory of one block and in one
    // with an index above its entry blocks read the same bytes: neither
    // searches the index (the create trusts its slot's block, the unlink
    // leaves a block of many entries without looking for a neighbour);
    // only the unlink's own lookup of its name does.
    let mut fs = mkfs_mount(CountingMedium::new(16384 * BLOCK_SIZE as usize));
    let (dir, file) = (attr(S_IFDIR | 0o755), attr(S_IFREG | 0o644));
    let small = fs.create(R, b"small", dir, at(1)).unwrap().0;
    let big = fs.create(R, b"big", dir, at(1)).unwrap().0;
    for i in 0..1500 {
        let name = format!("name-{i}");
        fs.create(big, name.as_bytes(), file, at(2)).unwrap();
        if i < 20 {
            fs.create(small, name.as_bytes(), file, at(2)).unwrap();
        }
    }
    let read = |fs: &Fs<CountingMedium>| fs.pm().medium().read_bytes.get();
    let mut costs = Vec::new();
    for d in [small, big] {
        let s = slot(&fs, d, "new");
        let before = read(&fs);
        fs.create_at(d, b"new", s, (file, &Acls::NONE), at(3))
            .unwrap();
        let created = read(&fs) - before;
        let before = read(&fs);
        fs.lookup(d, b"name-7").unwrap().unwrap();
        let looked_up = read(&fs) - before;
        let before = read(&fs);
        fs.unlink(d, b"name-7", at(4)).unwrap();
        let unlinked = read(&fs) - before;
        costs.push((created, looked_up, unlinked));
    }
    let [(c1, l1, u1), (c2, l2, u2)] = costs[..] else {
        unreachable!()
    };
    println!("one block: create {c1}, unlink {u1}; indexed: create {c2}, unlink {u2} (lookup {l1} / {l2})");
    assert!(
        fs.read_inode(big).unwrap().blocks > 4,
        "the directory grew an index"
    );
    assert!(
        c2 <= c1 + 16,
        "create: {c2} bytes indexed, {c1} in one block"
    );
    assert!(
        u2 - (l2 - l1) <= u1 + 16,
        "unlink: {u2} bytes indexed, {u1} in one block"
    );
    clean_counting(&fs);
}

#[test]
fn entry_blocks_check_after_transactions_that_drained() {
    let mut m = RecMedium::new(4096 * BLOCK_SIZE as usize);
    m.stage_ranges = 2;
    let mut fs = mkfs_mount(m);
    let new_dir = attr(S_IFDIR | 0o755);
    let a = fs.create(R, b"a", new_dir, at(2)).unwrap().0;
    let b = fs.create(R, b"b", new_dir, at(2)).unwrap().0;
    for i in 0..400 {
        let name = format!("name-{i}");
        fs.create(a, name.as_bytes(), attr(S_IFREG | 0o644), at(3))
            .unwrap();
    }
    for i in (0..400).step_by(3) {
        let (old, new) = (format!("name-{i}"), format!("moved-{i}"));
        let none = RenameFlags::default();
        fs.rename(a, old.as_bytes(), b, new.as_bytes(), none, attr(0), at(4))
            .unwrap();
    }
    for i in (1..400).step_by(3) {
        fs.unlink(a, format!("name-{i}").as_bytes(), at(5)).unwrap();
    }
    let r = check(&fs);
    assert!(r.problems.is_empty(), "fsck: {:#?}", r.problems);
    let r = check(&remount(fs));
    assert!(r.problems.is_empty(), "after remount: {:#?}", r.problems);
}

#[test]
fn a_million_entries_build_and_list() {
    // Hard links, so that the device needs no million inodes: 16 files of
    // 62,500 links each.
    let n: u64 = std::env::var("FERRODAX_DIR_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut fs = mem_fs(48 * 1024);
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let files: Vec<u64> = (0..16)
        .map(|i| create(&mut fs, R, &format!("t{i}")))
        .collect();
    for i in 0..n {
        let name = format!("entry-{i:07}");
        fs.link(files[(i % 16) as usize], d, name.as_bytes(), at(2))
            .unwrap();
    }
    let mut count = 0u64;
    let mut last = 0;
    fs.readdir(d, 0, |_, _, _, next| {
        assert!(next > last);
        last = next;
        count += 1;
        true
    })
    .unwrap();
    assert_eq!(count, n);
    assert!(fs.lookup(d, b"entry-0765432").unwrap().is_some() || n <= 765_432);
    let used = blocks(&fs, d);
    println!(
        "{n} entries: {used} blocks ({} bytes an entry)",
        used * BLOCK_SIZE / n
    );
    assert!(used * BLOCK_SIZE / n <= 32, "{used} blocks");
}
