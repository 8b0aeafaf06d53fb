//! The fence budget: how many fences (`pmem_wmb`, the cost that dominates a
//! metadata operation on real pmem) each operation issues, counted on the
//! host through the same core the kernel runs. The budget is the table in
//! `Documentation/filesystems/ferrodax/crash-consistency.rst`; an operation
//! that needs more fails here, so the table stays true.

use ferrodax_core::file::SetAttr;
use ferrodax_core::inode::{S_IFDIR, S_IFREG};
use ferrodax_core::layout::{BLOCK_SIZE, ROOT_INO as R};
use ferrodax_core::namei::RenameFlags;
use ferrodax_core::Fs;
use ferrodax_tools::media::CountingMedium;
use ferrodax_tools::testing::{at, attr, mkfs_mount};

type F = Fs<CountingMedium>;

/// (operation, fences at most), as documented. One transaction costs
/// two; unlink (name, then the last iput's release) and an append to a
/// new file (block map, then size) are two transactions. The times that
/// writes, faults and reads change are written back later (`times`), and
/// not at all when the media already has them.
const BUDGET: &[(&str, u64)] = &[
    ("creat", 2),
    ("mkdir", 2),
    ("unlink", 4),
    ("rename", 2),
    ("append-1K", 4),
    ("overwrite-4K", 0),
    ("stat", 0),
    ("symlink", 2),
    ("link", 2),
    ("chmod", 2),
    ("truncate", 2),
    ("times", 2),
    ("times-unchanged", 0),
];

fn fences(fs: &F) -> u64 {
    fs.pm().medium().fences
}

/// Fences `op` issues on `fs`.
fn count(fs: &mut F, op: impl FnOnce(&mut F)) -> u64 {
    let before = fences(fs);
    op(fs);
    fences(fs) - before
}

fn measure() -> Vec<(&'static str, u64)> {
    let mut fs = mkfs_mount(CountingMedium::new(4096 * BLOCK_SIZE as usize));
    let d = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(2)).unwrap().0;
    // Warm the directory past its first split: an insert that splits a
    // block allocates one, which most inserts into a busy directory do not.
    for i in 0..64 {
        let name = format!("warm{i}");
        fs.create(d, name.as_bytes(), attr(S_IFREG | 0o644), at(3))
            .unwrap();
    }
    let mut out = Vec::new();
    let ino = |fs: &F, name: &[u8]| fs.lookup(d, name).unwrap().unwrap().ino;
    out.push((
        "creat",
        count(&mut fs, |fs| {
            fs.create(d, b"warm0x", attr(S_IFREG | 0o644), at(4))
                .unwrap();
        }),
    ));
    out.push((
        "mkdir",
        count(&mut fs, |fs| {
            fs.create(d, b"warm1x", attr(S_IFDIR | 0o755), at(4))
                .unwrap();
        }),
    ));
    let f = ino(&fs, b"warm0x");
    out.push((
        "append-1K",
        count(&mut fs, |fs| {
            fs.map_blocks(f, 0, 1, true, false).unwrap();
            fs.grow_size(f, 1024).unwrap();
        }),
    ));
    out.push((
        "overwrite-4K",
        count(&mut fs, |fs| {
            fs.map_blocks(f, 0, 1, true, false).unwrap();
        }),
    ));
    out.push((
        "stat",
        count(&mut fs, |fs| {
            fs.read_inode(f).unwrap();
        }),
    ));
    let keep = RenameFlags::default();
    out.push((
        "rename",
        count(&mut fs, |fs| {
            fs.rename(d, b"warm2", d, b"warm2y", keep, attr(0), at(5))
                .unwrap();
        }),
    ));
    out.push((
        "symlink",
        count(&mut fs, |fs| {
            fs.symlink(d, b"warm4s", b"target", attr(0), at(6)).unwrap();
        }),
    ));
    out.push((
        "link",
        count(&mut fs, |fs| {
            fs.link(f, d, b"warm0-link", at(6)).unwrap();
        }),
    ));
    let change_mode = SetAttr {
        mode: Some(0o600),
        ..Default::default()
    };
    out.push((
        "chmod",
        count(&mut fs, |fs| {
            fs.setattr(f, change_mode).unwrap();
        }),
    ));
    let i = fs.read_inode(f).unwrap();
    out.push((
        "times-unchanged",
        count(&mut fs, |fs| {
            fs.store_times(f, i.atime, i.mtime, i.ctime).unwrap();
        }),
    ));
    out.push((
        "times",
        count(&mut fs, |fs| {
            fs.store_times(f, at(8), at(8), at(8)).unwrap();
        }),
    ));
    out.push((
        "truncate",
        count(&mut fs, |fs| {
            fs.set_size(f, 0, at(7)).unwrap();
        }),
    ));
    out.push((
        "unlink",
        count(&mut fs, |fs| {
            // The syscall: remove the name, then the last iput releases
            // the inode (unlinked while open, the release comes later).
            let (gone, _) = fs.unlink(d, b"warm3", at(6)).unwrap();
            fs.release_inode(gone).unwrap();
        }),
    ));
    out
}

#[test]
fn operations_stay_within_the_fence_budget() {
    let got = measure();
    let mut report = String::from("operation       fences  budget\n");
    for (op, n) in &got {
        let budget = BUDGET.iter().find(|(b, _)| b == op).unwrap().1;
        report += &format!("{op:<15} {n:>6}  {budget:>6}\n");
    }
    eprintln!("{report}");
    for (op, n) in &got {
        let budget = BUDGET.iter().find(|(b, _)| b == op).unwrap().1;
        assert!(*n <= budget, "{op}: {n} fences, budget {budget}\n{report}");
    }
}

#[test]
fn zeroing_right_after_a_freeing_transaction_fences_the_header_first() {
    // Recovery checks the last committed transaction against its ranges
    // until the next one's header is durable; a block that transaction
    // freed must not be zeroed before then (journal.rs): one more fence
    // for the first allocation after a free, and only then.
    let mut fs = mkfs_mount(CountingMedium::new(4096 * BLOCK_SIZE as usize));
    let f = fs.create(R, b"f", attr(S_IFREG | 0o644), at(2)).unwrap().0;
    fs.map_blocks(f, 0, 4, true, false).unwrap();
    let plain = count(&mut fs, |fs| {
        fs.map_blocks(f, 10, 1, true, false).unwrap();
    });
    fs.punch_range(f, 0, 4).unwrap();
    let after_free = count(&mut fs, |fs| {
        fs.map_blocks(f, 20, 1, true, false).unwrap();
    });
    let again = count(&mut fs, |fs| {
        fs.map_blocks(f, 30, 1, true, false).unwrap();
    });
    assert_eq!((plain, after_free, again), (2, 3, 2));
}
