//! Allocation groups: allocations stay inside one group and move to the
//! next when it is full, every group counts its own free space, and each
//! keeps its own orphan list.

use ferrodax_core::extent::Mapping;
use ferrodax_core::inode::*;
use ferrodax_core::layout::ROOT_INO as R;
use ferrodax_core::Fs;
use ferrodax_tools::fsck::check;
use ferrodax_tools::media::MemMedium;
use ferrodax_tools::testing::*;

fn clean(fs: &Fs<MemMedium>) {
    let r = check(fs);
    assert!(r.problems.is_empty(), "fsck: {:#?}", r.problems);
}

/// Map blocks of `f` from `lblk` until group 0 has none left; the next
/// logical block.
fn fill_group_zero(fs: &mut Fs<MemMedium>, f: u64, mut lblk: u64) -> u64 {
    while fs.group(0).free_blocks > 0 {
        let want = fs.group(0).free_blocks;
        match fs.map_blocks(f, lblk, want, true, false).unwrap().mapping {
            Mapping::Mapped { len, .. } => lblk += len,
            Mapping::Hole { .. } => unreachable!(),
        }
    }
    lblk
}

#[test]
fn inodes_and_blocks_come_from_the_next_group_once_one_is_full() {
    let mut fs = mem_fs(8192);
    let g = *fs.geometry();
    assert_eq!(g.groups, 4);
    let start = (0..4).map(|k| fs.group(k)).collect::<Vec<_>>();
    let mut last = 0;
    for k in 0.. {
        last = fs
            .create(R, format!("f{k}").as_bytes(), attr(S_IFREG), at(1))
            .unwrap()
            .0;
        if g.inode_group(last) == 1 {
            break;
        }
    }
    assert_eq!(last, g.group_inodes(1).start, "group 1's first inode");
    assert_eq!(fs.group(0).free_inodes, 0);
    assert_eq!(fs.group(1).free_inodes, start[1].free_inodes - 1);
    let end = fill_group_zero(&mut fs, last, 0);
    let m = fs.map_blocks(last, end, 4, true, false).unwrap();
    let Mapping::Mapped { pblk, len } = m.mapping else {
        panic!()
    };
    assert_eq!((g.block_group(pblk), len), (1, 4));
    assert_eq!(fs.group(1).free_blocks, start[1].free_blocks - 4);
    assert_eq!(
        fs.group(2),
        start[2],
        "untouched groups keep their counters"
    );
    clean(&fs);
    let c = fs.counters();
    let fs = remount(fs);
    assert_eq!(fs.counters(), c);
    assert_eq!(fs.committed_counters().unwrap(), c);
    clean(&fs);
}

#[test]
fn a_full_group_finds_the_inodes_freed_behind_its_hint() {
    let mut fs = mem_fs(65536);
    let g = *fs.geometry();
    assert!(
        g.group_inodes(0).count() >= 1024,
        "a group of two lines or more"
    );
    let mut made = vec![];
    while fs.group(0).free_inodes > 0 {
        let name = format!("f{}", made.len());
        made.push(
            fs.create(R, name.as_bytes(), attr(S_IFREG), at(1))
                .unwrap()
                .0,
        );
    }
    // One in the first line of the bitmap, one lines later: the search
    // starts at the hint (past both) and must wrap to find them.
    let freed = [made[700], made[3]];
    for ino in freed {
        let i = made.iter().position(|&m| m == ino).unwrap();
        fs.unlink(R, format!("f{i}").as_bytes(), at(2)).unwrap();
        fs.release_inode(ino).unwrap();
    }
    assert_eq!(fs.group(0).free_inodes, 2);
    let mut again: Vec<u64> = (0..2)
        .map(|k| {
            let name = format!("g{k}");
            fs.create(R, name.as_bytes(), attr(S_IFREG), at(3))
                .unwrap()
                .0
        })
        .collect();
    again.sort_unstable();
    let mut want = freed.to_vec();
    want.sort_unstable();
    assert_eq!(again, want, "group 0's freed inodes, not group 1's");
    assert_eq!(g.inode_group(again[0]), 0);
    assert_eq!(fs.group(0).free_inodes, 0);
    clean(&fs);
}

#[test]
fn an_extent_across_two_groups_frees_into_both() {
    let mut fs = mem_fs(8192);
    let g = *fs.geometry();
    let (f, _) = fs.create(R, b"f", attr(S_IFREG), at(1)).unwrap();
    let end = fill_group_zero(&mut fs, f, 0);
    let before = fs.group(1);
    // The next blocks are group 1's first: the file's last extent grows
    // across the boundary.
    fs.map_blocks(f, end, 10, true, false).unwrap();
    let Mapping::Mapped { pblk, len } = fs.lookup_blocks(f, end - 1, 11).unwrap().mapping else {
        panic!()
    };
    assert_eq!((pblk + 1, len), (g.group_blocks(1).start, 11), "one extent");
    fs.punch_range(f, end - 5, end + 10).unwrap();
    assert_eq!(fs.group(0).free_blocks, 5);
    assert_eq!(fs.group(1).free_blocks, before.free_blocks);
    clean(&fs);
}

#[test]
fn each_group_keeps_its_own_orphans() {
    let mut fs = mem_fs(8192);
    let g = *fs.geometry();
    // Open and unlinked files in groups 0 and 1: two lists.
    let (mut orphans, mut blocks) = (Vec::new(), 0);
    for k in 0.. {
        let name = format!("f{k}");
        let (f, _) = fs.create(R, name.as_bytes(), attr(S_IFREG), at(1)).unwrap();
        if k % 100 == 0 || g.inode_group(f) == 1 {
            fs.map_blocks(f, 0, 2, true, false).unwrap();
            blocks += fs.unlink(R, name.as_bytes(), at(2)).unwrap().1.blocks;
            orphans.push(f);
        }
        if g.inode_group(f) == 1 {
            break;
        }
    }
    assert!(orphans.len() > 2);
    let in_group = |k| orphans.iter().filter(|&&o| g.inode_group(o) == k).count() as u64;
    assert_eq!(
        (fs.group(0).orphans, fs.group(1).orphans),
        (in_group(0), in_group(1))
    );
    assert_eq!(fs.group(1).orphans, 1);
    assert!(orphans.iter().all(|&o| fs.is_orphan(o).unwrap()));
    clean(&fs);
    let free = fs.counters();
    let (fs, report) = Fs::mount(fs.into_medium(), Default::default()).unwrap();
    assert_eq!(report.orphans, orphans.len() as u64);
    let after = fs.counters();
    assert_eq!(after.free_inodes, free.free_inodes + orphans.len() as u64);
    assert_eq!(after.free_blocks, free.free_blocks + blocks);
    assert_eq!(fs.first_orphan().unwrap(), None);
    clean(&fs);
}
