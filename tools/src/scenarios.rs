//! The crash explorer's workload: every core operation, alone and in short
//! sequences, each run once for reference and once with every fence offered
//! to the judge.

use crate::crash::{judge, recovered_state, RecMedium, Tally};
use crate::testing::{at, attr, HASH_SEED};
use ferrodax_core::acl::{AclChange, Acls};
use ferrodax_core::dir::name_hash;
use ferrodax_core::extent::{Mapping, FANOUT};
use ferrodax_core::file::SetAttr;
use ferrodax_core::fs::MountOptions;
use ferrodax_core::inode::*;
use ferrodax_core::layout::{BLOCK_SIZE, JOURNAL_AREAS, ROOT_INO as R};
use ferrodax_core::mkfs::{format, MkfsParams};
use ferrodax_core::namei::RenameFlags;
use ferrodax_core::persist::Pm;
use ferrodax_core::xattr::{Namespace, SetMode};
use ferrodax_core::{Fs, Result};
use std::cell::RefCell;
use std::rc::Rc;

type F = Fs<RecMedium>;
type Op = fn(&mut F) -> Result<()>;

/// A named workload: `setup` runs unobserved, then each op is explored.
pub struct Scenario {
    /// Name in reports.
    pub name: &'static str,
    /// Blocks of the explored device.
    pub blocks: u64,
    /// Builds the starting state.
    pub setup: fn(&mut F),
    /// The operations explored, in order.
    pub ops: &'static [Op],
}

/// Blocks of the explored device (small, so every check is fast): one
/// allocation group.
const BLOCKS: u64 = 2048;
/// Blocks of a device with four allocation groups of 512 inodes and 2048
/// blocks each.
const GROUPS_BLOCKS: u64 = 8192;
/// Junk that stands for stale data in free blocks.
const STALE: u8 = 0xa5;

const NONE: RenameFlags = RenameFlags {
    noreplace: false,
    exchange: false,
    whiteout: false,
    ancestry_checked: false,
    target_slot: None,
};

fn ino(fs: &F, dir: u64, name: &str) -> u64 {
    fs.lookup(dir, name.as_bytes()).unwrap().unwrap().ino
}

/// Set (or with `None` remove) user attribute `name` of `/b/g`.
fn set_xattr(fs: &mut F, name: &str, value: Option<&[u8]>) -> Result<()> {
    let f = ino(fs, ino(fs, R, "b"), "g");
    fs.set_xattr(
        f,
        Namespace::User,
        name.as_bytes(),
        value,
        SetMode::Any,
        at(20),
    )
    .map(drop)
}

/// Two ACLs in the VFS's xattr form: user::rw-, user:7:r-- or rw-,
/// group::r--, mask::r-- or rw-, other::---.
const ACL_R: [u8; 44] = acl_form(4);
const ACL_RW: [u8; 44] = acl_form(6);

const fn acl_form(perm: u8) -> [u8; 44] {
    let e = [
        (1u8, 6u8, 0xffu8),
        (2, perm, 7),
        (4, 4, 0xff),
        (0x10, perm, 0xff),
        (0x20, 0, 0xff),
    ];
    let mut v = [0u8; 44];
    v[0] = 2;
    let mut k = 0;
    while k < e.len() {
        let at = 4 + 8 * k;
        v[at] = e[k].0;
        v[at + 2] = e[k].1;
        v[at + 4] = e[k].2;
        k += 1;
    }
    v
}

/// chmod `/b/g` to `mode` with its access ACL changed as `access`.
fn set_acl(fs: &mut F, mode: u16, access: AclChange<'_>) -> Result<()> {
    let f = ino(fs, ino(fs, R, "b"), "g");
    let attr = SetAttr {
        mode: Some(mode),
        ctime: Some(at(21)),
        ..SetAttr::default()
    };
    let acls = Acls {
        access,
        ..Acls::NONE
    };
    fs.set_acls(f, attr, &acls).map(drop)
}

fn file(fs: &mut F, dir: u64, name: &str) -> u64 {
    fs.create(dir, name.as_bytes(), attr(S_IFREG | 0o644), at(10))
        .unwrap()
        .0
}

fn mkdir(fs: &mut F, dir: u64, name: &str) -> u64 {
    fs.create(dir, name.as_bytes(), attr(S_IFDIR | 0o755), at(10))
        .unwrap()
        .0
}

fn basic_tree(fs: &mut F) {
    let a = mkdir(fs, R, "a");
    let b = mkdir(fs, R, "b");
    let f = file(fs, a, "f");
    fs.map_blocks(f, 0, 3, true, false).unwrap();
    fs.set_size(f, 3 * BLOCK_SIZE - 100, at(11)).unwrap();
    file(fs, b, "g");
    mkdir(fs, a, "empty");
    fs.symlink(R, b"link", b"a/f", attr(0), at(12)).unwrap();
}

/// The first `n` names of a directory's test population: four bytes
/// each, a 16-byte record, so [`FULL_BLOCK`] fill an entry block.
fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("n{i:03}")).collect()
}

/// Names of [`names`] that fill an entry block.
const FULL_BLOCK: usize = 4080 / 16;

fn hash(name: &str) -> u32 {
    name_hash(&HASH_SEED, name.as_bytes())
}

/// The hash at which [`names`]`(FULL_BLOCK + 1)` split: the lowest of the
/// upper block's, the median of the [`FULL_BLOCK`] names the block held
/// when the last one did not fit.
fn first_split() -> u32 {
    let mut sorted: Vec<u32> = names(FULL_BLOCK).iter().map(|n| hash(n)).collect();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

/// Names (not in [`names`]) that go to the upper block after the first
/// split.
fn upper_names() -> impl Iterator<Item = String> {
    let split = first_split();
    (0..)
        .map(|i| format!("u{i:03}"))
        .filter(move |n| hash(n) >= split)
}

/// Of [`names`]`(FULL_BLOCK + 1)`, those of the lower and of the upper
/// block after the first split.
fn split_halves() -> (Vec<String>, Vec<String>) {
    names(FULL_BLOCK + 1)
        .into_iter()
        .partition(|n| hash(n) < first_split())
}

/// Records of [`names`] that fill a quarter of an entry block: the most a
/// block may keep to join a neighbour.
const QUARTER_BLOCK: usize = 4080 / 4 / 16;

/// A directory "d" of two entry blocks that have not joined, with `lower`
/// and `upper` (at most) of their names left: when
/// either is 1 more than [`QUARTER_BLOCK`], the next removal from that
/// block joins the two.
fn two_blocks_left(fs: &mut F, lower: usize, upper: usize) {
    let d = mkdir(fs, R, "d");
    for n in names(FULL_BLOCK + 1) {
        file(fs, d, &n);
    }
    // The block to end emptier shrinks first: while the other is still
    // half full, the two need more than half a block and do not join.
    let (low, high) = split_halves();
    let (first, second) = match lower < upper {
        true => ((low, lower), (high, upper)),
        false => ((high, upper), (low, lower)),
    };
    for (half, keep) in [first, second] {
        for n in half.iter().skip(keep) {
            let (gone, _) = fs.unlink(d, n.as_bytes(), at(19)).unwrap();
            fs.release_inode(gone).unwrap();
        }
    }
    assert_eq!(
        fs.read_inode(d).unwrap().blocks,
        3,
        "two entry blocks, one index"
    );
}

/// A directory "d" of two entry blocks, the upper one full and the lower
/// one half full: the next of [`upper_names`] evens the two out.
fn two_blocks_upper_full(fs: &mut F) {
    let d = mkdir(fs, R, "d");
    let first = names(FULL_BLOCK + 1);
    for n in &first {
        file(fs, d, n);
    }
    let upper = first.iter().filter(|n| hash(n) >= first_split()).count();
    for n in upper_names().take(FULL_BLOCK - upper) {
        file(fs, d, &n);
    }
}

/// Unlink `name` from [`two_blocks_left`]'s "d", which must leave it one
/// block.
fn unlink_to_one_block(fs: &mut F, name: &str) -> Result<()> {
    let d = ino(fs, R, "d");
    let r = fs.unlink(d, name.as_bytes(), at(20)).map(drop);
    assert_eq!(fs.read_inode(d).unwrap().blocks, 1, "one block left");
    r
}

fn fragmented_file(fs: &mut F) {
    let f = file(fs, R, "frag");
    for i in 0..40 {
        fs.map_blocks(f, 2 * i, 1, true, false).unwrap();
    }
    fs.set_size(f, 80 * BLOCK_SIZE, at(11)).unwrap();
}

/// Every scenario.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "create",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                fs.create(R, b"new", attr(S_IFREG | 0o600), at(20))
                    .map(drop)
            }],
        },
        Scenario {
            name: "mkdir",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                let a = ino(fs, R, "a");
                fs.create(a, b"d2", attr(S_IFDIR | 0o700), at(20)).map(drop)
            }],
        },
        Scenario {
            name: "mknod",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[
                |fs| {
                    fs.create(R, b"fifo", attr(S_IFIFO | 0o600), at(20))
                        .map(drop)
                },
                |fs| {
                    fs.create(
                        R,
                        b"dev",
                        ferrodax_core::namei::NewInode {
                            rdev: 0x103,
                            ..attr(S_IFCHR | 0o600)
                        },
                        at(21),
                    )
                    .map(drop)
                },
            ],
        },
        Scenario {
            name: "symlink",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                fs.symlink(R, b"s2", &[b'x'; 300], attr(0), at(20))
                    .map(drop)
            }],
        },
        Scenario {
            name: "link",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                let (a, b) = (ino(fs, R, "a"), ino(fs, R, "b"));
                let f = ino(fs, a, "f");
                fs.link(f, b, b"hard", at(20)).map(drop)
            }],
        },
        Scenario {
            name: "tmpfile+link",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[
                |fs| {
                    fs.tmpfile(attr(S_IFREG | 0o600), &Acls::NONE, at(20))
                        .map(drop)
                },
                |fs| {
                    let t = fs.first_orphan()?.unwrap_or(0);
                    fs.link(t, R, b"linked", at(21)).map(drop)
                },
            ],
        },
        Scenario {
            name: "unlink+release",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[
                |fs| {
                    let a = ino(fs, R, "a");
                    fs.unlink(a, b"f", at(20)).map(drop)
                },
                |fs| {
                    let o = fs.first_orphan()?.unwrap_or(0);
                    if o != 0 {
                        fs.release_inode(o)
                    } else {
                        Ok(())
                    }
                },
            ],
        },
        Scenario {
            name: "rmdir",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[
                |fs| {
                    let a = ino(fs, R, "a");
                    fs.rmdir(a, b"empty", at(20)).map(drop)
                },
                |fs| fs.rmdir(R, b"a", at(21)).map(drop), // ENOTEMPTY: must change nothing
            ],
        },
        Scenario {
            name: "rename",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[
                |fs| {
                    let (a, b) = (ino(fs, R, "a"), ino(fs, R, "b"));
                    fs.rename(a, b"f", b, b"f2", NONE, attr(0), at(20))
                        .map(drop)
                },
                |fs| {
                    let b = ino(fs, R, "b");
                    fs.rename(b, b"f2", b, b"g", NONE, attr(0), at(21))
                        .map(drop)
                },
                |fs| {
                    let (a, b) = (ino(fs, R, "a"), ino(fs, R, "b"));
                    fs.rename(a, b"empty", b, b"moved", NONE, attr(0), at(22))
                        .map(drop)
                },
                |fs| {
                    let b = ino(fs, R, "b");
                    fs.rename(
                        b,
                        b"moved",
                        R,
                        b"a",
                        RenameFlags {
                            noreplace: true,
                            ..NONE
                        },
                        attr(0),
                        at(23),
                    )
                    .map(drop)
                },
            ],
        },
        Scenario {
            name: "rename-exchange",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                let (a, b) = (ino(fs, R, "a"), ino(fs, R, "b"));
                fs.rename(
                    a,
                    b"empty",
                    b,
                    b"g",
                    RenameFlags {
                        exchange: true,
                        ..NONE
                    },
                    attr(0),
                    at(20),
                )
                .map(drop)
            }],
        },
        Scenario {
            name: "rename-whiteout",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                let a = ino(fs, R, "a");
                fs.rename(
                    a,
                    b"f",
                    R,
                    b"out",
                    RenameFlags {
                        whiteout: true,
                        ..NONE
                    },
                    attr(0),
                    at(20),
                )
                .map(drop)
            }],
        },
        Scenario {
            name: "rename-over-dir",
            blocks: BLOCKS,
            setup: |fs| {
                basic_tree(fs);
                mkdir(fs, R, "victim");
            },
            ops: &[
                |fs| {
                    let a = ino(fs, R, "a");
                    fs.rename(a, b"empty", R, b"victim", NONE, attr(0), at(20))
                        .map(drop)
                },
                |fs| {
                    let o = fs.first_orphan()?.unwrap_or(0);
                    fs.release_inode(o)
                },
            ],
        },
        Scenario {
            name: "setattr",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                let b = ino(fs, R, "b");
                fs.setattr(
                    b,
                    SetAttr {
                        mode: Some(0o1777),
                        uid: Some(5),
                        gid: Some(6),
                        atime: Some(at(30)),
                        mtime: Some(at(31)),
                        ctime: Some(at(32)),
                        size: None,
                        flags: Some(flags::IMMUTABLE | flags::NODUMP),
                    },
                )
                .map(drop)
            }],
        },
        Scenario {
            // FS_IOC_SETFSLABEL: the superblock rewritten whole, old
            // label or new after a power cut, never a bad checksum.
            name: "set-label",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| fs.set_label(b"new label")],
        },
        Scenario {
            // setxattr and removexattr: each change writes the set to a
            // new block and frees the old in one transaction (the first
            // allocates the block, the last removal frees it); then a file
            // with attributes unlinked and released.
            name: "xattr",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[
                |fs| set_xattr(fs, "first", Some(b"1")),
                // Longer than the chunks a rewrite copies in.
                |fs| set_xattr(fs, "second", Some(&[2; 300])),
                |fs| set_xattr(fs, "first", Some(b"replaced")),
                |fs| set_xattr(fs, "first", None),
                |fs| set_xattr(fs, "second", None),
                |fs| set_xattr(fs, "again", Some(b"7")),
                |fs| {
                    let b = ino(fs, R, "b");
                    fs.unlink(b, b"g", at(20)).map(drop)
                },
                |fs| {
                    let o = fs.first_orphan()?.unwrap_or(0);
                    fs.release_inode(o)
                },
            ],
        },
        Scenario {
            // POSIX ACLs: a directory created with both ACLs, a chmod that
            // rewrites the access ACL beside a user attribute, setfacl -b
            // (mode and removal); each is one transaction with its mode.
            name: "acl",
            blocks: BLOCKS,
            setup: |fs| {
                basic_tree(fs);
                set_xattr(fs, "user", Some(b"kept")).unwrap();
            },
            ops: &[
                |fs| {
                    let b = ino(fs, R, "b");
                    let acls = Acls {
                        access: AclChange::Set(&ACL_R),
                        default: AclChange::Set(&ACL_RW),
                    };
                    let new = (attr(S_IFDIR | 0o750), &acls);
                    fs.create_at(b, b"inherits", None, new, at(20)).map(drop)
                },
                |fs| set_acl(fs, 0o640, AclChange::Set(&ACL_R)),
                |fs| set_acl(fs, 0o664, AclChange::Set(&ACL_RW)),
                |fs| set_acl(fs, 0o600, AclChange::Remove),
            ],
        },
        Scenario {
            // write_inode: the times writes and reads left in the VFS
            // inode, two of them later than the media's, one not.
            name: "store-times",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                let b = ino(fs, R, "b");
                fs.store_times(b, at(40), at(0), at(41)).map(drop)
            }],
        },
        Scenario {
            // truncate(2) with attribute changes (chmod, utimes) in the
            // same setattr: one transaction, never a new size with the old
            // mode or the reverse.
            name: "setattr-size",
            blocks: BLOCKS,
            setup: basic_tree,
            ops: &[|fs| {
                let f = ino(fs, ino(fs, R, "a"), "f");
                fs.setattr(
                    f,
                    SetAttr {
                        mode: Some(0o600),
                        mtime: Some(at(31)),
                        ctime: Some(at(32)),
                        size: Some(BLOCK_SIZE / 2),
                        ..SetAttr::default()
                    },
                )
                .map(drop)
            }],
        },
        Scenario {
            name: "map-blocks-zeroes",
            blocks: BLOCKS,
            setup: |fs| {
                basic_tree(fs);
                let f = file(fs, R, "sparse");
                fs.set_size(f, 8 * BLOCK_SIZE, at(11)).unwrap();
            },
            ops: &[
                |fs| {
                    let f = ino(fs, R, "sparse");
                    fs.map_blocks(f, 2, 4, true, false).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "sparse");
                    fs.map_blocks(f, 6, 1, true, false).map(drop)
                },
            ],
        },
        Scenario {
            name: "data-range-ops",
            blocks: BLOCKS,
            setup: |fs| {
                basic_tree(fs);
                let f = file(fs, R, "r");
                fs.allocate_range(f, 0, 16, false).unwrap();
                fs.set_size(f, 16 * BLOCK_SIZE, at(11)).unwrap();
            },
            // Each of these is one transaction here (the punch cuts one
            // extent; the collapse removes a range that is already a
            // hole, so its punch step changes nothing).
            ops: &[
                |fs| {
                    let f = ino(fs, R, "r");
                    fs.punch_range(f, 4, 6)
                },
                |fs| {
                    let f = ino(fs, R, "r");
                    fs.insert_range(f, 2, 3, at(20)).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "r");
                    fs.collapse_range(f, 2, 3, at(21)).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "r");
                    fs.grow_size(f, 40 * BLOCK_SIZE).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "r");
                    fs.allocate_range(f, 30, 34, false)
                },
            ],
        },
        Scenario {
            name: "truncate-multi-tx",
            blocks: BLOCKS,
            setup: fragmented_file,
            ops: &[
                |fs| {
                    let f = ino(fs, R, "frag");
                    fs.set_size(f, 3 * BLOCK_SIZE, at(20)).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "frag");
                    fs.set_size(f, 100 * BLOCK_SIZE, at(21)).map(drop)
                },
            ],
        },
        Scenario {
            name: "release-multi-tx",
            blocks: BLOCKS,
            setup: fragmented_file,
            ops: &[
                |fs| fs.unlink(R, b"frag", at(20)).map(drop),
                |fs| {
                    let o = fs.first_orphan()?.unwrap_or(0);
                    fs.release_inode(o)
                },
            ],
        },
        Scenario {
            name: "extent-tree",
            blocks: BLOCKS,
            // A full root leaf: the ops split it (the root grows), split a
            // leaf in half, shift across leaves, and shrink the tree back
            // to one leaf (freed nodes, the root giving way to its child).
            setup: |fs| {
                let f = file(fs, R, "t");
                for i in 0..u64::from(FANOUT) {
                    fs.map_blocks(f, 2 * i, 1, true, false).unwrap();
                }
                fs.set_size(f, 520 * BLOCK_SIZE, at(11)).unwrap();
            },
            ops: &[
                |fs| {
                    let f = ino(fs, R, "t");
                    fs.map_blocks(f, 600, 1, true, false).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "t");
                    fs.map_blocks(f, 1, 1, true, false).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "t");
                    fs.map_blocks(f, 3, 1, true, false).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "t");
                    fs.insert_range(f, 100, 5, at(20)).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "t");
                    fs.collapse_range(f, 100, 5, at(21)).map(drop)
                },
                |fs| {
                    let f = ino(fs, R, "t");
                    fs.set_size(f, 10 * BLOCK_SIZE, at(22)).map(drop)
                },
            ],
        },
        Scenario {
            // A full entry block splits; a rename in the split directory
            // adds before it removes.
            name: "dir-split",
            blocks: BLOCKS,
            setup: |fs| {
                let d = mkdir(fs, R, "d");
                for n in names(FULL_BLOCK) {
                    file(fs, d, &n);
                }
            },
            ops: &[
                |fs| {
                    let d = ino(fs, R, "d");
                    let n = names(FULL_BLOCK + 1).pop().unwrap();
                    fs.create(d, n.as_bytes(), attr(S_IFREG), at(20)).map(drop)
                },
                |fs| {
                    let d = ino(fs, R, "d");
                    let flags = RenameFlags::default();
                    let w = attr(0);
                    fs.rename(d, b"n005", d, b"renamed", flags, w, at(21))
                        .map(drop)
                },
                |fs| {
                    let d = ino(fs, R, "d");
                    fs.unlink(d, b"n007", at(22)).map(drop)
                },
            ],
        },
        Scenario {
            // A full entry block gives records to its neighbour and the
            // separator between them moves; then a removal from it.
            name: "dir-even",
            blocks: BLOCKS,
            setup: two_blocks_upper_full,
            ops: &[
                |fs| {
                    let d = ino(fs, R, "d");
                    let absent = |n: &String| fs.lookup(d, n.as_bytes()).unwrap().is_none();
                    let n = upper_names().find(absent);
                    fs.create(d, n.unwrap().as_bytes(), attr(S_IFREG), at(20))
                        .map(drop)
                },
                |fs| {
                    let d = ino(fs, R, "d");
                    fs.unlink(d, b"n009", at(21)).map(drop)
                },
            ],
        },
        Scenario {
            // The last entry of the upper block goes (the lower one is too
            // full to have joined it): the block is freed and the index
            // gives way to the one block left.
            name: "dir-free",
            blocks: BLOCKS,
            setup: |fs| two_blocks_left(fs, FULL_BLOCK, 1),
            ops: &[
                |fs| unlink_to_one_block(fs, &split_halves().1[0]),
                |fs| {
                    let d = ino(fs, R, "d");
                    fs.create(d, b"again", attr(S_IFREG), at(21)).map(drop)
                },
            ],
        },
        Scenario {
            // A removal leaves the upper block a quarter full: the lower
            // one takes its records and the index gives way to it.
            name: "dir-join-upper",
            blocks: BLOCKS,
            setup: |fs| two_blocks_left(fs, QUARTER_BLOCK, QUARTER_BLOCK + 1),
            ops: &[|fs| unlink_to_one_block(fs, &split_halves().1[0])],
        },
        Scenario {
            // The same from the lower block: it takes the upper one's
            // records, and the upper one's index entry goes.
            name: "dir-join-lower",
            blocks: BLOCKS,
            setup: |fs| two_blocks_left(fs, QUARTER_BLOCK + 1, QUARTER_BLOCK),
            ops: &[|fs| unlink_to_one_block(fs, &split_halves().0[0])],
        },
        Scenario {
            // Allocations that leave a full group for the next, an extent
            // that spans both, orphans on two groups' lists.
            name: "groups",
            blocks: GROUPS_BLOCKS,
            setup: group_zero_full,
            ops: &[
                |fs| {
                    fs.create(R, b"new", attr(S_IFREG | 0o644), at(20))
                        .map(drop)
                },
                |fs| {
                    let big = ino(fs, R, "big");
                    let end = fs.read_inode(big)?.size / BLOCK_SIZE;
                    fs.map_blocks(big, end, 8, true, false).map(drop)
                },
                |fs| fs.unlink(R, b"big", at(21)).map(drop),
                |fs| fs.unlink(R, b"new", at(22)).map(drop),
                |fs| {
                    let o = fs.first_orphan()?.unwrap_or(0);
                    fs.release_inode(o)
                },
                |fs| {
                    let o = fs.first_orphan()?.unwrap_or(0);
                    fs.release_inode(o)
                },
            ],
        },
        Scenario {
            name: "sequence",
            blocks: BLOCKS,
            setup: |_| {},
            ops: &[
                |fs| fs.create(R, b"d", attr(S_IFDIR | 0o755), at(20)).map(drop),
                |fs| {
                    let d = ino(fs, R, "d");
                    fs.create(d, b"x", attr(S_IFREG | 0o644), at(21)).map(drop)
                },
                |fs| {
                    let d = ino(fs, R, "d");
                    let x = ino(fs, d, "x");
                    fs.map_blocks(x, 0, 2, true, false).map(drop)
                },
                |fs| {
                    let d = ino(fs, R, "d");
                    let x = ino(fs, d, "x");
                    fs.set_size(x, 5000, at(22)).map(drop)
                },
                |fs| {
                    let d = ino(fs, R, "d");
                    fs.rename(d, b"x", R, b"y", NONE, attr(0), at(23)).map(drop)
                },
                |fs| fs.unlink(R, b"y", at(24)).map(drop),
                |fs| {
                    let o = fs.first_orphan()?.unwrap_or(0);
                    fs.release_inode(o)
                },
                |fs| fs.rmdir(R, b"d", at(25)).map(drop),
                |fs| {
                    let o = fs.first_orphan()?.unwrap_or(0);
                    fs.release_inode(o)
                },
            ],
        },
    ]
}

/// Group 0 full: every inode (files in "d") and every block ("big", of
/// `BIG_BLOCKS`): what follows allocates in group 1.
fn group_zero_full(fs: &mut F) {
    let d = mkdir(fs, R, "d");
    let inodes = fs.geometry().group_inodes(0);
    for k in 0.. {
        let f = file(fs, d, &format!("i{k}"));
        if f == inodes.end - 1 {
            break;
        }
    }
    let big = file(fs, R, "big");
    let mut lblk = 0;
    while fs.group(0).free_blocks > 0 {
        let want = fs.group(0).free_blocks;
        match fs.map_blocks(big, lblk, want, true, false).unwrap().mapping {
            Mapping::Mapped { len, .. } => lblk += len,
            Mapping::Hole { .. } => unreachable!("mapped with create"),
        }
    }
    fs.set_size(big, lblk * BLOCK_SIZE, at(11)).unwrap();
}

fn mkfs_rec(blocks: u64) -> RecMedium {
    let mut m = RecMedium::new((blocks * BLOCK_SIZE) as usize);
    m.fill_durable(STALE);
    let mut pm = Pm::new(m);
    format(
        &mut pm,
        &MkfsParams {
            uuid: [9; 16],
            label: [0; 32],
            now: at(1),
            hash_seed: HASH_SEED,
        },
    )
    .unwrap();
    pm.into_medium()
}

fn mount(m: RecMedium) -> F {
    Fs::mount(m, MountOptions::default()).expect("mount").0
}

/// How [`explore`] runs a scenario's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mounts {
    /// Each on a mount of its own (whose unmount closes every journal
    /// area), all in journal area 0.
    EachOp,
    /// All on one mount, operation `i` in journal area `i` modulo
    /// [`JOURNAL_AREAS`]: each leaves its area's header naming it,
    /// committed, while the next changes the same metadata from another
    /// area (see `journal_area.rs`).
    OneRotatingAreas,
}

/// The filesystem operation `i` of a run as `mounts` says runs on: `fs`
/// itself on one mount, else `fs` unmounted and mounted again (the
/// unmount makes operation `i - 1` durable even when it returned an
/// error).
fn fs_for_op(fs: F, i: usize, mounts: Mounts) -> F {
    match mounts {
        Mounts::EachOp if i > 0 => mount(fs.into_medium()),
        Mounts::EachOp => fs,
        Mounts::OneRotatingAreas => {
            let mut fs = fs;
            fs.set_journal_area(i % JOURNAL_AREAS);
            fs
        }
    }
}

/// Explore one scenario with a stage of `stage_ranges` ranges (fewer than
/// [`STAGE_RANGES`](ferrodax_core::persist::STAGE_RANGES) drain its
/// transactions at other points), its operations run as `mounts` says.
/// With `broken`, fences are ignored (a deliberately broken platform):
/// the explorer must then report violations.
pub fn explore(s: &Scenario, stage_ranges: usize, mounts: Mounts, broken: bool) -> Tally {
    let mut fs = mount(mkfs_rec(s.blocks));
    (s.setup)(&mut fs);
    let mut m0 = fs.into_medium();
    m0.stage_ranges = stage_ranges;
    let state = |m: &RecMedium| recovered_state(&m.image(), &[]).expect("reference state");

    // Reference run: the logical state before and after each operation.
    // Both runs mount the same way, so they allocate identically.
    let mut states = vec![state(&m0)];
    let mut results = Vec::new();
    let mut fs = mount(m0.clone());
    for (i, op) in s.ops.iter().enumerate() {
        fs = fs_for_op(fs, i, mounts);
        results.push(op(&mut fs));
        states.push(state(fs.pm().medium()));
    }

    let tally = Rc::new(RefCell::new(Tally::default()));
    let accepted = Rc::new(RefCell::new(Vec::new()));
    let mut m = m0;
    m.ignore_fences = broken;
    m.set_judge(Some(judge(tally.clone(), accepted.clone())));
    *accepted.borrow_mut() = vec![states[0].clone()];
    let mut fs = mount(m);
    for (i, op) in s.ops.iter().enumerate() {
        // Remounting (recovery) may fence: operation i - 1 is durable.
        *accepted.borrow_mut() = vec![states[i].clone()];
        fs = fs_for_op(fs, i, mounts);
        *accepted.borrow_mut() = vec![states[i].clone(), states[i + 1].clone()];
        let r = op(&mut fs);
        assert_eq!(r, results[i], "{}: op {i} is not deterministic", s.name);
        // The operation returned: it must be durable.
        *accepted.borrow_mut() = vec![states[i + 1].clone()];
    }
    let mut m = fs.into_medium();
    m.crash_point();
    let t = tally.borrow().clone();
    t
}

/// Crash during mkfs: the device either does not mount or is a complete,
/// clean, empty filesystem.
pub fn explore_mkfs() -> Tally {
    let tally = Rc::new(RefCell::new(Tally::default()));
    let empty = recovered_state(&mkfs_rec(BLOCKS).image(), &[]).unwrap();
    let t2 = tally.clone();
    let j: crate::crash::Judge = Rc::new(RefCell::new(
        move |image: &crate::media::MemMedium, o: &[(u64, u64)]| {
            let mut t = t2.borrow_mut();
            t.states += 1;
            match recovered_state(image, o) {
                // Not yet a filesystem: no magic, or a superblock torn mid-write.
                Err(e) if e.contains("superblock magic") || e.contains("superblock checksum") => {}
                Ok(s) if s == empty => {}
                other => {
                    t.violations += 1;
                    t.examples.push(format!("mkfs crash state: {other:?}"));
                }
            }
        },
    ));
    let mut m = RecMedium::new((BLOCKS * BLOCK_SIZE) as usize);
    m.fill_durable(STALE);
    m.set_judge(Some(j));
    let mut pm = Pm::new(m);
    format(
        &mut pm,
        &MkfsParams {
            uuid: [9; 16],
            label: [0; 32],
            now: at(1),
            hash_seed: HASH_SEED,
        },
    )
    .unwrap();
    let t = tally.borrow().clone();
    t
}
