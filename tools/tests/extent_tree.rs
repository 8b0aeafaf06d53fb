//! The extent tree: files of any number of extents, node splits, freed
//! nodes, shifts across leaves, and agreement with a block-by-block model
//! under random range operations.

use ferrodax_core::extent::{Mapping, FANOUT};
use ferrodax_core::inode::*;
use ferrodax_core::layout::{BLOCK_SIZE, ROOT_INO as R};
use ferrodax_core::mem::MemMedium;
use ferrodax_core::{Error, Fs};
use ferrodax_tools::fsck::check;
use ferrodax_tools::testing::*;

fn clean(fs: &Fs<MemMedium>) {
    let r = check(fs);
    assert!(r.problems.is_empty(), "fsck: {:#?}", r.problems);
}

fn regular(fs: &mut Fs<MemMedium>, name: &[u8]) -> u64 {
    fs.create(R, name, attr(S_IFREG | 0o644), at(1)).unwrap().0
}

/// The device block behind each of the first `n` file blocks.
fn block_map(fs: &Fs<MemMedium>, f: u64, n: u64) -> Vec<Option<u64>> {
    let inode = fs.read_inode(f).unwrap();
    let mut out = Vec::with_capacity(n as usize);
    while (out.len() as u64) < n {
        let lblk = out.len() as u64;
        match fs.map_lookup(&inode, f, lblk).unwrap() {
            Mapping::Mapped { pblk, len } => {
                out.extend((0..len.min(n - lblk)).map(|k| Some(pblk + k)))
            }
            Mapping::Hole { len } => {
                assert!(len > 0, "an empty hole at {lblk}");
                out.extend((0..len.min(n - lblk)).map(|_| None))
            }
        }
    }
    out
}

fn tree(fs: &Fs<MemMedium>, f: u64) -> (u64, u16) {
    let inode = fs.read_inode(f).unwrap();
    (
        fs.extent_count(&inode, f).unwrap(),
        fs.extent_tree_height(&inode, f).unwrap(),
    )
}

/// Map every other block of `f` from 0 to `2 * n`.
fn alternate(fs: &mut Fs<MemMedium>, f: u64, n: u64) {
    for i in 0..n {
        fs.map_blocks(f, 2 * i, 1, true, false).unwrap();
    }
}

#[test]
fn a_full_leaf_splits_and_the_root_grows() {
    let mut fs = mem_fs(8192);
    let f = regular(&mut fs, b"f");
    alternate(&mut fs, f, u64::from(FANOUT));
    assert_eq!(tree(&fs, f), (u64::from(FANOUT), 1));
    let before = block_map(&fs, f, 520);
    fs.map_blocks(f, 1000, 1, true, false).unwrap();
    assert_eq!(tree(&fs, f), (u64::from(FANOUT) + 1, 2));
    assert_eq!(block_map(&fs, f, 520), before, "a split moves no mapping");
    clean(&fs);
    // the middle of an extent in a full leaf: the split makes room
    fs.set_size(f, 4000 * BLOCK_SIZE, at(2)).unwrap();
    let g = regular(&mut fs, b"g");
    for i in 0..u64::from(FANOUT) {
        fs.map_blocks(g, 4 * i, 3, true, false).unwrap();
    }
    fs.punch_range(g, 1, 2).unwrap();
    let m = block_map(&fs, g, 8);
    assert_eq!((m[0].is_some(), m[1], m[2].is_some()), (true, None, true));
    assert_eq!(tree(&fs, g), (u64::from(FANOUT) + 1, 2));
    clean(&fs);
}

#[test]
fn a_fully_fragmented_gibibyte_file_maps_punches_and_truncates() {
    // 1 GiB of file, every other block a hole: 131072 extents.
    let blocks = 1u64 << 18;
    let mut fs = mem_fs(blocks / 2 + 8192);
    let free0 = fs.counters().free_blocks;
    let f = regular(&mut fs, b"frag");
    alternate(&mut fs, f, blocks / 2);
    fs.set_size(f, blocks * BLOCK_SIZE, at(2)).unwrap();
    let (count, height) = tree(&fs, f);
    assert_eq!(count, blocks / 2);
    assert_eq!(height, 3);
    let nodes = fs.read_inode(f).unwrap().blocks - count;
    assert!(nodes <= 525, "{nodes} nodes: appends should fill them");
    let m = block_map(&fs, f, blocks);
    assert!(m.iter().step_by(2).all(Option::is_some));
    assert!(m.iter().skip(1).step_by(2).all(Option::is_none));
    clean(&fs);
    // punch a quarter out of the middle: whole leaves go
    fs.punch_range(f, blocks / 4, blocks / 2).unwrap();
    let m = block_map(&fs, f, blocks);
    assert!(m[blocks as usize / 4..blocks as usize / 2]
        .iter()
        .all(Option::is_none));
    assert!(m[blocks as usize / 2..]
        .iter()
        .step_by(2)
        .all(Option::is_some));
    assert_eq!(tree(&fs, f).0, blocks / 2 - blocks / 8);
    clean(&fs);
    // truncate to 1000 blocks, then to nothing: every block comes back
    fs.set_size(f, 1000 * BLOCK_SIZE, at(3)).unwrap();
    assert_eq!(tree(&fs, f).0, 500);
    assert_eq!(block_map(&fs, f, 1000), m[..1000]);
    clean(&fs);
    fs.set_size(f, 0, at(4)).unwrap();
    assert_eq!(tree(&fs, f), (0, 0));
    assert_eq!(fs.read_inode(f).unwrap().blocks, 0);
    assert_eq!(fs.counters().free_blocks, free0, "every block comes back");
    clean(&fs);
}

#[test]
fn collapse_and_insert_move_extents_across_leaves() {
    let mut fs = mem_fs(16384);
    let f = regular(&mut fs, b"f");
    alternate(&mut fs, f, 1000);
    fs.set_size(f, 2000 * BLOCK_SIZE, at(2)).unwrap();
    assert!(tree(&fs, f).1 >= 2);
    let mut model = block_map(&fs, f, 2000);
    // collapse blocks 101..301 (separators inside the range included)
    fs.collapse_range(f, 101, 200, at(3)).unwrap();
    model.drain(101..301);
    assert_eq!(block_map(&fs, f, 1800), model);
    assert_eq!(fs.read_inode(f).unwrap().size, 1800 * BLOCK_SIZE);
    clean(&fs);
    // insert 333 blocks at 7: everything from there moves up
    fs.insert_range(f, 7, 333, at(4)).unwrap();
    model.splice(7..7, std::iter::repeat_n(None, 333));
    assert_eq!(block_map(&fs, f, 2133), model);
    clean(&fs);
    // and new blocks land in the inserted hole
    fs.allocate_range(f, 7, 340, false).unwrap();
    assert!(block_map(&fs, f, 340)[7..].iter().all(Option::is_some));
    clean(&fs);
}

#[test]
fn a_shift_too_big_for_one_transaction_changes_nothing() {
    let mut fs = mem_fs(32768);
    let f = regular(&mut fs, b"f");
    alternate(&mut fs, f, 12000);
    fs.set_size(f, 24000 * BLOCK_SIZE, at(2)).unwrap();
    let before = block_map(&fs, f, 24000);
    let inode = fs.read_inode(f).unwrap();
    assert_eq!(fs.insert_range(f, 1, 1, at(3)), Err(Error::NoSpace));
    assert_eq!(block_map(&fs, f, 24000), before);
    assert_eq!(fs.read_inode(f).unwrap(), inode);
    clean(&fs);
    // with 1,500 extents behind the point the same file shifts fine
    fs.insert_range(f, 21000, 2, at(4)).unwrap();
    let mut model = before;
    model.splice(21000..21000, [None, None]);
    assert_eq!(block_map(&fs, f, 24002), model);
    clean(&fs);
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) % n
    }
}

#[test]
fn random_range_operations_agree_with_a_block_model() {
    const LEN: u64 = 6000;
    let mut fs = mem_fs(16384);
    let free0 = fs.counters().free_blocks;
    let f = regular(&mut fs, b"f");
    fs.set_size(f, LEN * BLOCK_SIZE, at(1)).unwrap();
    // `true`: mapped. Device blocks are not modelled (allocation picks
    // them), but mapped blocks must keep theirs unless moved.
    let mut model: Vec<Option<u64>> = vec![None; LEN as usize];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut max_height = 0;
    for step in 0..3000 {
        let a = rng.below(LEN - 1);
        let wide = rng.below(8) == 0;
        let n = 1 + rng.below(if wide { 400 } else { 8 });
        let b = (a + n).min(LEN - 1);
        match rng.below(10) {
            0..=5 => {
                fs.allocate_range(f, a, b, false).unwrap();
                let now = block_map(&fs, f, LEN);
                for k in a as usize..b as usize {
                    assert!(model[k].is_none() || model[k] == now[k], "step {step}");
                    model[k] = now[k];
                }
            }
            6 | 7 => {
                fs.punch_range(f, a, b).unwrap();
                model[a as usize..b as usize].fill(None);
            }
            8 => {
                // collapse b - a blocks at a (the size stays LEN: grow back)
                fs.collapse_range(f, a, b - a, at(2)).unwrap();
                fs.set_size(f, LEN * BLOCK_SIZE, at(2)).unwrap();
                model.drain(a as usize..b as usize);
                model.resize(LEN as usize, None);
            }
            _ => {
                // insert b - a blocks at a, then cut the size back to LEN
                fs.insert_range(f, a, b - a, at(3)).unwrap();
                fs.set_size(f, LEN * BLOCK_SIZE, at(3)).unwrap();
                model.splice(
                    a as usize..a as usize,
                    std::iter::repeat_n(None, (b - a) as usize),
                );
                model.truncate(LEN as usize);
            }
        }
        assert_eq!(block_map(&fs, f, LEN), model, "step {step}");
        max_height = max_height.max(tree(&fs, f).1);
        if step % 500 == 0 {
            clean(&fs);
        }
    }
    assert!(max_height >= 2, "the workload never grew the tree");
    clean(&fs);
    fs.set_size(f, 0, at(9)).unwrap();
    assert_eq!(fs.counters().free_blocks, free0);
    clean(&fs);
}
