//! Block -> owner (the media-error path): every kind of block a populated
//! filesystem holds is found and attributed, free blocks have no owner.

use ferrodax_core::extent::Mapping;
use ferrodax_core::inode::*;
use ferrodax_core::layout::ROOT_INO;
use ferrodax_core::owner::Owner;
use ferrodax_core::{Fs, Medium};
use ferrodax_tools::testing::*;

fn owners<M: Medium>(fs: &Fs<M>, range: std::ops::Range<u64>) -> Vec<Owner> {
    let mut v = Vec::new();
    fs.owners_of(range, |o| v.push(o)).unwrap();
    v
}

fn pblk_of<M: Medium>(fs: &mut Fs<M>, ino: u64, lblk: u64) -> u64 {
    match fs.map_blocks(ino, lblk, 1, false, false).unwrap().mapping {
        Mapping::Mapped { pblk, .. } => pblk,
        Mapping::Hole { .. } => panic!("file block {lblk} of {ino} is a hole"),
    }
}

#[test]
fn owners_of_every_kind_of_block() {
    let mut fs = mem_fs(8192);
    let (f, _) = fs
        .create(ROOT_INO, b"f", attr(S_IFREG | 0o644), at(1))
        .unwrap();
    let (d, _) = fs
        .create(ROOT_INO, b"d", attr(S_IFDIR | 0o755), at(1))
        .unwrap();
    fs.create(d, b"x", attr(S_IFREG | 0o644), at(1)).unwrap();
    let (l, _) = fs.symlink(ROOT_INO, b"l", b"f", attr(0), at(1)).unwrap();
    fs.map_blocks(f, 3, 10, true, false).unwrap();
    fs.map_blocks(f, 100, 2, true, false).unwrap();
    let geo = *fs.geometry();

    // The static layout, whole or in part.
    assert_eq!(owners(&fs, 0..1), [Owner::Layout]);
    let table = geo.inode_table_start;
    assert_eq!(owners(&fs, table..table + 1), [Owner::Layout]);
    let backup = geo.backup_sb_block();
    assert_eq!(owners(&fs, backup..backup + 1), [Owner::Layout]);

    // File data: the block hit, mapped back to its file block.
    let p = pblk_of(&mut fs, f, 7);
    assert_eq!(
        owners(&fs, p..p + 1),
        [Owner::Data {
            ino: f,
            lblk: 7,
            pblk: p,
            blocks: 1
        }]
    );
    // A range over two extents (they are apart in the file, maybe not on
    // the device): each run reported with its own file block.
    let (a, b) = (pblk_of(&mut fs, f, 12), pblk_of(&mut fs, f, 100));
    let all = owners(&fs, a.min(b)..a.max(b) + 1);
    for (lblk, pblk) in [(12, a), (100, b)] {
        assert!(
            all.iter()
                .any(|o| matches!(o, Owner::Data { ino, lblk: l, pblk: p, .. }
                if *ino == f && *l == lblk && *p == pblk)),
            "{all:?} lacks file block {lblk}"
        );
    }

    // Structure: the file's extent block, the directories' blocks, the
    // symlink's target.
    let extent_block = fs.read_inode(f).unwrap().root;
    assert_eq!(
        owners(&fs, extent_block..extent_block + 1),
        [Owner::Structure { ino: f }]
    );
    for dir in [ROOT_INO, d] {
        let inode = fs.read_inode(dir).unwrap();
        let mut blocks = Vec::new();
        fs.dir_blocks(&inode, dir, |b| blocks.push(b)).unwrap();
        assert_eq!(blocks, [inode.root], "one entry block");
        for b in blocks {
            assert_eq!(owners(&fs, b..b + 1), [Owner::Structure { ino: dir }]);
        }
    }
    let target = fs.read_inode(l).unwrap().root;
    assert_eq!(
        owners(&fs, target..target + 1),
        [Owner::Structure { ino: l }]
    );

    // A free block has no owner; nor has a block freed by a punch.
    let free = backup - 1;
    assert_eq!(owners(&fs, free..free + 1), []);
    fs.punch_range(f, 7, 8).unwrap();
    assert_eq!(owners(&fs, p..p + 1), []);
}
