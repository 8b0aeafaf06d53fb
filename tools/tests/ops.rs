//! Every core operation, its errors, and agreement with a simple model.

use ferrodax_core::acl::Acls;
use ferrodax_core::extent::Mapping;
use ferrodax_core::file::SetAttr;
use ferrodax_core::inode::*;
use ferrodax_core::layout::{BLOCK_SIZE, ROOT_INO};
use ferrodax_core::namei::RenameFlags;
use ferrodax_core::Error;
use ferrodax_tools::dump::dump;
use ferrodax_tools::fsck::check;
use ferrodax_tools::testing::*;

const R: u64 = ROOT_INO;

fn clean<M: ferrodax_core::Medium>(fs: &ferrodax_core::Fs<M>) {
    let r = check(fs);
    assert!(r.problems.is_empty(), "fsck: {:#?}", r.problems);
}

#[test]
fn create_lookup_unlink() {
    let mut fs = mem_fs(2048);
    let free = fs.counters();
    let (ino, i) = fs.create(R, b"a", attr(S_IFREG | 0o644), at(5)).unwrap();
    // "a" fits the root directory's one entry block: no block allocated
    assert_eq!(fs.counters().free_blocks, free.free_blocks);
    assert_eq!((i.nlink, i.uid, i.mode), (1, 1000, S_IFREG | 0o644));
    assert_eq!(fs.lookup(R, b"a").unwrap().unwrap().ino, ino);
    assert_eq!(fs.create(R, b"a", attr(S_IFREG), at(6)), Err(Error::Exists));
    assert_eq!(fs.read_inode(R).unwrap().mtime, at(5));
    clean(&fs);
    let (gone, i) = fs.unlink(R, b"a", at(7)).unwrap();
    assert_eq!((gone, i.nlink), (ino, 0));
    assert!(
        fs.is_orphan(ino).unwrap(),
        "an unlinked inode waits on the orphan list"
    );
    assert_eq!(fs.lookup(R, b"a").unwrap(), None);
    fs.release_inode(ino).unwrap();
    assert_eq!(fs.counters().free_inodes, free.free_inodes);
    assert_eq!(fs.counters().free_blocks, free.free_blocks);
    clean(&fs);
}

#[test]
fn name_rules() {
    let mut fs = mem_fs(2048);
    let long = [b'x'; 256];
    assert_eq!(
        fs.create(R, &long, attr(S_IFREG), at(1)),
        Err(Error::NameTooLong)
    );
    fs.create(R, &long[..255], attr(S_IFREG), at(1)).unwrap();
    assert!(fs.lookup(R, &long[..255]).unwrap().is_some());
    for bad in [&b""[..], b".", b"..", b"a/b"] {
        assert_eq!(fs.create(R, bad, attr(S_IFREG), at(1)), Err(Error::Invalid));
    }
    assert_eq!(fs.unlink(R, b"nope", at(1)), Err(Error::NotFound));
    clean(&fs);
}

#[test]
fn directories() {
    let mut fs = mem_fs(2048);
    let (d, di) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(2)).unwrap();
    assert_eq!((di.nlink, di.parent), (2, R));
    assert_eq!(fs.read_inode(R).unwrap().nlink, 3);
    fs.create(d, b"f", attr(S_IFREG), at(3)).unwrap();
    assert_eq!(fs.rmdir(R, b"d", at(4)), Err(Error::NotEmpty));
    assert_eq!(fs.unlink(R, b"d", at(4)), Err(Error::IsDir));
    assert_eq!(fs.rmdir(d, b"f", at(4)), Err(Error::NotDir));
    assert_eq!(
        fs.create(d, b"f/x", attr(S_IFREG), at(1)),
        Err(Error::Invalid)
    );
    let (f, _) = fs.unlink(d, b"f", at(5)).unwrap();
    fs.release_inode(f).unwrap();
    let (dd, i) = fs.rmdir(R, b"d", at(6)).unwrap();
    assert_eq!(i.nlink, 0);
    assert_eq!(fs.read_inode(R).unwrap().nlink, 2);
    assert_eq!(
        fs.create(dd, b"x", attr(S_IFREG), at(7)),
        Err(Error::NotFound)
    );
    fs.release_inode(dd).unwrap();
    clean(&fs);
}

#[test]
fn many_entries_and_stable_readdir() {
    let mut fs = mem_fs(32768);
    let (d, _) = fs.create(R, b"big", attr(S_IFDIR | 0o755), at(1)).unwrap();
    for i in 0..5000 {
        let name = format!("entry-with-a-longish-name-{i:05}");
        fs.create(d, name.as_bytes(), attr(S_IFREG), at(2)).unwrap();
    }
    assert_eq!(fs.read_inode(d).unwrap().entries, 5000);
    // Resume readdir from every 7th position while removing entries behind
    // the cursor: nothing is returned twice and nothing alive is skipped.
    let mut seen = std::collections::HashSet::new();
    let mut pos = 0;
    loop {
        let mut batch = Vec::new();
        fs.readdir(d, pos, |n, _, _, next| {
            batch.push((n.to_vec(), next));
            batch.len() < 7
        })
        .unwrap();
        if batch.is_empty() {
            break;
        }
        for (n, _) in &batch {
            assert!(seen.insert(n.clone()), "returned twice");
        }
        pos = batch.last().unwrap().1;
        let (victim, _) = fs.unlink(d, &batch[0].0, at(3)).unwrap();
        fs.release_inode(victim).unwrap();
    }
    assert_eq!(seen.len(), 5000);
    clean(&fs);
    let before = dump(&fs).unwrap();
    let fs = remount(fs);
    assert_eq!(dump(&fs).unwrap(), before);
}

#[test]
fn links_symlinks_specials_tmpfile() {
    let mut fs = mem_fs(2048);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o600), at(1)).unwrap();
    assert_eq!(fs.link(f, R, b"g", at(2)).unwrap().nlink, 2);
    assert_eq!(fs.link(f, R, b"g", at(2)), Err(Error::Exists));
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o700), at(1)).unwrap();
    assert_eq!(fs.link(d, R, b"dl", at(2)), Err(Error::Invalid));
    let (s, si) = fs
        .symlink(R, b"s", b"/some/target", attr(0), at(3))
        .unwrap();
    assert_eq!((si.mode, si.size), (S_IFLNK | 0o777, 12));
    let mut buf = [0u8; 64];
    let n = fs.readlink(s, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"/some/target");
    assert_eq!(
        fs.symlink(R, b"s2", &[b'a'; 4096], attr(0), at(3)),
        Err(Error::NameTooLong)
    );
    for (name, mode) in [
        (&b"fifo"[..], S_IFIFO),
        (b"sock", S_IFSOCK),
        (b"chr", S_IFCHR),
        (b"blk", S_IFBLK),
    ] {
        let (ino, _) = fs
            .create(
                R,
                name,
                ferrodax_core::namei::NewInode {
                    rdev: 0x0801,
                    ..attr(mode | 0o600)
                },
                at(4),
            )
            .unwrap();
        assert_eq!(fs.read_inode(ino).unwrap().root, 0x0801);
    }
    let (t, ti) = fs
        .tmpfile(attr(S_IFREG | 0o600), &Acls::NONE, at(5))
        .unwrap();
    assert_eq!(ti.nlink, 0);
    assert!(fs.is_orphan(t).unwrap());
    fs.link(t, R, b"was-tmp", at(6)).unwrap();
    assert!(!fs.is_orphan(t).unwrap());
    clean(&fs);
    let before = dump(&fs).unwrap();
    assert_eq!(dump(&remount(fs)).unwrap(), before);
}

#[test]
fn rename_all_flags() {
    let mut fs = mem_fs(4096);
    let (a, _) = fs.create(R, b"a", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let (b, _) = fs.create(R, b"b", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let (x, _) = fs.create(a, b"x", attr(S_IFREG), at(1)).unwrap();
    let (y, _) = fs.create(b, b"y", attr(S_IFREG), at(1)).unwrap();
    let (sub, _) = fs.create(a, b"sub", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let none = RenameFlags::default();
    let wh = attr(0);

    // plain move across directories, then over an existing file
    fs.rename(a, b"x", b, b"x2", none, wh, at(2)).unwrap();
    assert_eq!(fs.lookup(b, b"x2").unwrap().unwrap().ino, x);
    let out = fs.rename(b, b"x2", b, b"y", none, wh, at(3)).unwrap();
    assert_eq!(out.replaced, Some(y));
    assert!(fs.is_orphan(y).unwrap());
    fs.release_inode(y).unwrap();

    // a directory moves: parents' link counts and its parent pointer follow
    fs.rename(a, b"sub", b, b"sub", none, wh, at(4)).unwrap();
    assert_eq!(fs.read_inode(a).unwrap().nlink, 2);
    assert_eq!(fs.read_inode(b).unwrap().nlink, 3);
    assert_eq!(fs.read_inode(sub).unwrap().parent, b);
    assert_eq!(
        fs.rename(R, b"b", sub, b"loop", none, wh, at(5)),
        Err(Error::Invalid)
    );

    // NOREPLACE
    fs.create(a, b"p", attr(S_IFREG), at(6)).unwrap();
    fs.create(a, b"q", attr(S_IFREG), at(6)).unwrap();
    let nr = RenameFlags {
        noreplace: true,
        ..none
    };
    assert_eq!(
        fs.rename(a, b"p", a, b"q", nr, wh, at(7)),
        Err(Error::Exists)
    );
    fs.rename(a, b"p", a, b"p2", nr, wh, at(7)).unwrap();

    // EXCHANGE a file and a directory across parents
    let ex = RenameFlags {
        exchange: true,
        ..none
    };
    fs.rename(a, b"q", b, b"sub", ex, wh, at(8)).unwrap();
    assert_eq!(fs.lookup(a, b"q").unwrap().unwrap().ino, sub);
    assert_eq!(fs.read_inode(sub).unwrap().parent, a);
    assert_eq!(fs.read_inode(a).unwrap().nlink, 3);
    assert_eq!(fs.read_inode(b).unwrap().nlink, 2);
    assert_eq!(
        fs.rename(a, b"q", b, b"missing", ex, wh, at(8)),
        Err(Error::NotFound)
    );

    // WHITEOUT leaves a 0:0 character device behind
    let wf = RenameFlags {
        whiteout: true,
        ..none
    };
    let out = fs.rename(a, b"p2", R, b"moved", wf, wh, at(9)).unwrap();
    let w = fs.lookup(a, b"p2").unwrap().unwrap();
    assert_eq!(Some(w.ino), out.whiteout);
    let wi = fs.read_inode(w.ino).unwrap();
    assert_eq!((wi.mode & S_IFMT, wi.root), (S_IFCHR, 0));

    // type mismatches and non-empty targets
    assert_eq!(
        fs.rename(R, b"moved", R, b"a", none, wh, at(10)),
        Err(Error::IsDir)
    );
    assert_eq!(
        fs.rename(R, b"a", R, b"moved", none, wh, at(10)),
        Err(Error::NotDir)
    );
    assert_eq!(
        fs.rename(R, b"b", R, b"a", none, wh, at(10)),
        Err(Error::NotEmpty)
    );
    clean(&fs);
    let before = dump(&fs).unwrap();
    assert_eq!(dump(&remount(fs)).unwrap(), before);
}

#[test]
fn setattr_and_times() {
    let mut fs = mem_fs(2048);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    let t = Time {
        sec: -5,
        nsec: 999_999_999,
    };
    let i = fs
        .setattr(
            f,
            SetAttr {
                mode: Some(0o4755 | S_IFDIR),
                uid: Some(7),
                gid: Some(8),
                atime: Some(t),
                mtime: Some(t),
                ctime: Some(at(9)),
                size: None,
                flags: None,
            },
        )
        .unwrap();
    assert_eq!(
        (i.mode, i.uid, i.gid, i.atime, i.mtime),
        (S_IFREG | 0o4755, 7, 8, t, t)
    );
    assert_eq!(remount(fs).read_inode(f).unwrap(), i);
}

#[test]
fn written_back_times_only_move_forward() {
    let mut fs = mem_fs(2048);
    let (f, created) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(5)).unwrap();
    // A write-back of what the media has writes nothing.
    assert_eq!(fs.store_times(f, at(5), at(5), at(5)), Ok(false));
    assert_eq!(fs.store_times(f, at(1), at(4), at(5)), Ok(false));
    assert_eq!(fs.read_inode(f).unwrap(), created);
    // A link at 8 then a write-back read before it (ctime 6): the link's
    // ctime stays, the later atime and mtime are taken.
    fs.link(f, R, b"g", at(8)).unwrap();
    assert_eq!(fs.store_times(f, at(7), at(6), at(6)), Ok(true));
    let i = remount(fs).read_inode(f).unwrap();
    assert_eq!((i.atime, i.mtime, i.ctime), (at(7), at(6), at(8)));
}

#[test]
fn setattr_with_size_is_one_change() {
    let mut fs = mem_fs(8192);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.allocate_range(f, 0, 8, false).unwrap();
    let before = fs.set_size(f, 8 * BLOCK_SIZE, at(2)).unwrap();
    let change = SetAttr {
        mode: Some(0o600),
        ctime: Some(at(3)),
        size: Some(100),
        ..SetAttr::default()
    };
    let i = fs.setattr(f, change).unwrap();
    assert_eq!(
        (i.mode, i.size, i.blocks, i.ctime),
        (S_IFREG | 0o600, 100, before.blocks - 7, at(3))
    );
    assert_eq!(fs.read_inode(f).unwrap(), i);
    // A size on a directory is refused, and the mode with it.
    let (d, before) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(4)).unwrap();
    assert_eq!(fs.setattr(d, change), Err(Error::Invalid));
    assert_eq!(fs.read_inode(d).unwrap(), before);
    clean(&fs);
}

#[test]
fn inode_flags_are_stored_and_only_defined_ones() {
    let mut fs = mem_fs(8192);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    let set = |f: u32| SetAttr {
        flags: Some(f),
        ctime: Some(at(2)),
        ..SetAttr::default()
    };
    let i = fs
        .setattr(f, set(flags::IMMUTABLE | flags::NODUMP))
        .unwrap();
    assert_eq!(
        (i.flags, i.ctime),
        (flags::IMMUTABLE | flags::NODUMP, at(2))
    );
    // Other attribute changes keep them.
    let chmod = SetAttr {
        mode: Some(0o600),
        ..SetAttr::default()
    };
    assert_eq!(fs.setattr(f, chmod).unwrap().flags, i.flags);
    // A flag this version does not define is refused, changing nothing.
    let before = fs.read_inode(f).unwrap();
    assert_eq!(fs.setattr(f, set(0x100)), Err(Error::Invalid));
    assert_eq!(fs.read_inode(f).unwrap(), before);
    let fs = remount(fs);
    assert_eq!(
        fs.read_inode(f).unwrap().flags,
        flags::IMMUTABLE | flags::NODUMP
    );
    clean(&fs);
}

#[test]
fn a_big_truncate_finishes_after_its_transaction() {
    let mut fs = mem_fs(8192);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    for b in 0..100 {
        fs.map_blocks(f, 2 * b, 1, true, false).unwrap(); // 100 extents
    }
    fs.set_size(f, 200 * BLOCK_SIZE, at(2)).unwrap();
    let shrink = SetAttr {
        size: Some(0),
        ..SetAttr::default()
    };
    let i = fs.setattr(f, shrink).unwrap();
    assert_eq!(i.size, 0);
    assert!(i.blocks > 0, "more than one transaction's worth is left");
    assert!(fs.is_orphan(f).unwrap());
    let done = fs.finish_truncate(f).unwrap().unwrap();
    assert_eq!((done.blocks, fs.is_orphan(f).unwrap()), (0, false));
    assert_eq!(fs.read_inode(f).unwrap(), done);
    assert_eq!(fs.finish_truncate(f).unwrap(), None);
    clean(&fs);

    // An unlinked, still open file stays on the orphan list when its
    // truncate finishes: its last close (or the next mount) frees it.
    for b in 0..100 {
        fs.map_blocks(f, 2 * b, 1, true, false).unwrap();
    }
    fs.unlink(R, b"f", at(3)).unwrap();
    fs.set_size(f, 0, at(4)).unwrap();
    assert!(fs.is_orphan(f).unwrap());
    let fs = remount(fs);
    clean(&fs);
    assert_eq!(fs.first_orphan().unwrap(), None);
}

#[test]
fn reporting_reads_inodes_inside_the_transaction() {
    let mut fs = mem_fs(2048);
    let mut dir = [None];
    let (f, new) = fs
        .reporting([Some(R)], &mut dir, |fs| {
            fs.create(R, b"f", attr(S_IFREG | 0o644), at(5))
        })
        .unwrap();
    assert_eq!(fs.read_inode(f).unwrap(), new);
    assert_eq!(dir[0], Some(fs.read_inode(R).unwrap()));
    assert_eq!(dir[0].unwrap().mtime, at(5));
    // A report that cannot be read rolls the operation back.
    let r = fs.reporting([Some(u64::MAX)], &mut dir, |fs| {
        fs.create(R, b"g", attr(S_IFREG | 0o644), at(6))
    });
    assert!(r.is_err());
    assert_eq!(fs.lookup(R, b"g").unwrap(), None);
    clean(&fs);
}

#[test]
fn map_blocks_zeroes_and_truncate_releases() {
    let mut fs = mem_fs(8192);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    let free0 = fs.counters().free_blocks;
    let m = fs.map_blocks(f, 3, 10, true, false).unwrap();
    assert!(m.new);
    let Mapping::Mapped { pblk, len } = m.mapping else {
        panic!()
    };
    assert_eq!(len, 10);
    assert!(matches!(
        fs.map_blocks(f, 0, 1, false, false).unwrap().mapping,
        Mapping::Hole { len: 3 }
    ));
    assert_eq!(
        fs.map_blocks(f, 5, 1, true, false).unwrap().mapping,
        Mapping::Mapped {
            pblk: pblk + 2,
            len: 8
        }
    );
    // 2 MiB-aligned allocation for a PMD fault
    let h = fs.map_blocks(f, 512, 512, true, true).unwrap();
    let Mapping::Mapped { pblk: hp, len: hl } = h.mapping else {
        panic!()
    };
    assert_eq!((hp % 512, hl), (0, 512));
    // past the format's limit
    assert_eq!(
        fs.map_blocks(f, 1 << 32, 1, true, false),
        Err(Error::FileTooBig)
    );
    fs.set_size(f, 1024 * BLOCK_SIZE, at(2)).unwrap();
    clean(&fs);
    // shrink in several transactions (more extents than one budget)
    for i in 0..40 {
        fs.map_blocks(f, 2000 + 2 * i, 1, true, false).unwrap();
    }
    fs.set_size(f, 4 * BLOCK_SIZE, at(3)).unwrap();
    assert!(!fs.is_orphan(f).unwrap());
    let i = fs.read_inode(f).unwrap();
    assert_eq!(i.blocks, 1 + 1, "extent block + block 3");
    clean(&fs);
    fs.set_size(f, 0, at(4)).unwrap();
    assert_eq!(fs.counters().free_blocks, free0);
    clean(&fs);
}

#[test]
fn enospc_rolls_back_cleanly() {
    let mut fs = mem_fs(1024);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG), at(1)).unwrap();
    // Fill the root's one entry block (4080 bytes: "f" takes 13, 78 names
    // of 40 bytes 52 each), so that a new name needs a split and so a
    // block.
    for i in 0..78 {
        fs.create(R, format!("e{i:039}").as_bytes(), attr(S_IFIFO), at(1))
            .unwrap();
    }
    let mut lblk = 0;
    loop {
        match fs.map_blocks(f, lblk, 64, true, false) {
            Ok(m) => {
                let Mapping::Mapped { len, .. } = m.mapping else {
                    panic!()
                };
                lblk += len;
            }
            Err(e) => {
                assert_eq!(e, Error::NoSpace);
                break;
            }
        }
    }
    assert_eq!(fs.counters().free_blocks, 0);
    clean(&fs);
    // a mkdir needs a block: it must fail without leaving anything behind
    let before = dump(&fs).unwrap();
    assert_eq!(
        fs.create(R, b"d", attr(S_IFDIR | 0o755), at(2)).map(|_| ()),
        Err(Error::NoSpace)
    );
    assert_eq!(dump(&fs).unwrap(), before);
    clean(&fs);
    // a file in a full entry block: the same
    for name in [&b"holes"[..], b"x1", b"x2", b"x3"] {
        if let Err(e) = fs.create(R, name, attr(S_IFREG | 0o644), at(3)) {
            assert_eq!(e, Error::NoSpace);
            assert_eq!(fs.lookup(R, name).unwrap(), None);
        }
    }
    assert_eq!(dump(&fs).unwrap(), before);
    clean(&fs);
    // and inodes run out too
    let mut fs = mem_fs(1024);
    let mut n = 0;
    while fs
        .create(R, format!("{n}").as_bytes(), attr(S_IFIFO), at(1))
        .is_ok()
    {
        n += 1;
    }
    assert_eq!(fs.counters().free_inodes, 0);
    assert_eq!(n, fs.geometry().inode_count - 2);
    clean(&fs);
}

#[test]
fn orphans_are_released_at_mount() {
    let mut fs = mem_fs(2048);
    let (f, _) = fs
        .create(R, b"open-then-unlinked", attr(S_IFREG), at(1))
        .unwrap();
    let free = fs.counters();
    fs.map_blocks(f, 0, 100, true, false).unwrap();
    fs.set_size(f, 100 * BLOCK_SIZE, at(1)).unwrap();
    fs.unlink(R, b"open-then-unlinked", at(2)).unwrap();
    // "crash" while the file is still open: never released
    let (fs, report) = ferrodax_core::Fs::mount(fs.into_medium(), Default::default()).unwrap();
    assert_eq!(report.orphans, 1);
    assert_eq!(fs.counters().free_blocks, free.free_blocks);
    assert_eq!(fs.counters().free_inodes, free.free_inodes + 1);
    clean(&fs);
}

#[test]
fn read_only_mount_refuses_changes() {
    let fs = mem_fs(2048);
    let opts = ferrodax_core::fs::MountOptions {
        read_only: true,
        ..Default::default()
    };
    let (mut fs, _) = ferrodax_core::Fs::mount(fs.into_medium(), opts).unwrap();
    assert_eq!(
        fs.create(R, b"x", attr(S_IFREG), at(1)).map(|_| ()),
        Err(Error::ReadOnly)
    );
}

#[test]
fn no_recovery_mount_writes_nothing() {
    let mut fs = mem_fs(2048);
    // an open-unlinked file leaves the orphan list non-empty
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.unlink(R, b"f", at(2)).unwrap();
    let image = fs.into_medium();
    let no_recovery = ferrodax_core::fs::MountOptions {
        no_recovery: true,
        ..Default::default()
    };
    let (mut fs, report) = ferrodax_core::Fs::mount(image.clone(), no_recovery).unwrap();
    assert_eq!(report.orphans, 0);
    assert!(
        fs.is_orphan(f).unwrap(),
        "orphans stay for a writable mount"
    );
    assert_eq!(
        fs.create(R, b"x", attr(S_IFREG), at(3)).map(|_| ()),
        Err(Error::ReadOnly)
    );
    assert_eq!(fs.set_read_write(), Err(Error::ReadOnly));
    assert!(fs.into_medium().0 == image.0, "the image is unchanged");
    // a transaction left running: refused, not shown half done
    let mut image = image;
    let geo = *ferrodax_core::Fs::mount(image.clone(), no_recovery)
        .unwrap()
        .0
        .geometry();
    let base = ferrodax_core::journal::Journal::base_of(&geo) as usize;
    let word = u64::from_le_bytes(image.0[base..base + 8].try_into().unwrap());
    let running = ((word >> 1) + 1) << 1 | 1;
    image.0[base..base + 8].copy_from_slice(&running.to_le_bytes());
    assert!(matches!(
        ferrodax_core::Fs::mount(image.clone(), no_recovery),
        Err(Error::NeedsRecovery)
    ));
    // a mount that may write rolls it back and releases the orphan
    let (fs, report) = ferrodax_core::Fs::mount(image, Default::default()).unwrap();
    assert_eq!((report.rolled_back, report.orphans), (true, 1));
    clean(&fs);
}

#[test]
fn huge_extents_are_allocated_and_released_in_bounded_steps() {
    // 40000 blocks: far more bitmap words than one transaction may log.
    let mut fs = mem_fs(65536);
    let (f, _) = fs.create(R, b"big", attr(S_IFREG | 0o644), at(1)).unwrap();
    let free0 = fs.counters().free_blocks;
    let mut lblk = 0;
    while lblk < 40000 {
        let m = fs.map_blocks(f, lblk, 40000 - lblk, true, false).unwrap();
        let Mapping::Mapped { len, .. } = m.mapping else {
            panic!()
        };
        assert!(len <= ferrodax_core::extent::MAX_RUN);
        lblk += len;
    }
    assert!(
        fs.extent_count(&fs.read_inode(f).unwrap(), f).unwrap() < 4,
        "adjacent runs merge"
    );
    fs.set_size(f, 40000 * BLOCK_SIZE, at(2)).unwrap();
    clean(&fs);
    // shrink into the middle of the single big extent
    fs.set_size(f, 100 * BLOCK_SIZE, at(3)).unwrap();
    assert_eq!(fs.read_inode(f).unwrap().blocks, 100 + 1);
    clean(&fs);
    let (_, i) = fs.unlink(R, b"big", at(4)).unwrap();
    assert_eq!(i.nlink, 0);
    fs.release_inode(f).unwrap();
    assert_eq!(fs.counters().free_blocks, free0);
    clean(&fs);
}

/// Every block of `f` in `0..n` as mapped (device block) or hole.
fn block_map<M: ferrodax_core::Medium>(
    fs: &mut ferrodax_core::Fs<M>,
    f: u64,
    n: u64,
) -> Vec<Option<u64>> {
    (0..n)
        .map(
            |b| match fs.map_blocks(f, b, 1, false, false).unwrap().mapping {
                Mapping::Mapped { pblk, .. } => Some(pblk),
                Mapping::Hole { .. } => None,
            },
        )
        .collect()
}

#[test]
fn punch_range_splits_trims_and_frees() {
    let mut fs = mem_fs(8192);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    let free0 = fs.counters().free_blocks;
    fs.allocate_range(f, 0, 100, false).unwrap();
    let before = block_map(&mut fs, f, 100);
    assert!(before.iter().all(Option::is_some));
    // middle of one extent: a split
    fs.punch_range(f, 10, 20).unwrap();
    // front and back trims, across the split
    fs.punch_range(f, 15, 25).unwrap();
    fs.punch_range(f, 95, 200).unwrap();
    let after = block_map(&mut fs, f, 100);
    for (b, (was, now)) in before.iter().zip(&after).enumerate() {
        let punched = (10..25).contains(&b) || b >= 95;
        assert_eq!(*now, if punched { None } else { *was }, "block {b}");
    }
    let i = fs.read_inode(f).unwrap();
    assert_eq!(i.blocks, 1 + 80, "extent block + the blocks left");
    assert_eq!(i.size, 0, "punching keeps the size");
    clean(&fs);
    // a hole punched again, or past every extent, is no change
    fs.punch_range(f, 10, 25).unwrap();
    fs.punch_range(f, 5000, 6000).unwrap();
    assert_eq!(block_map(&mut fs, f, 100), after);
    // everything: the extent block goes too
    fs.punch_range(f, 0, 1 << 32).unwrap();
    assert_eq!(fs.read_inode(f).unwrap().blocks, 0);
    assert_eq!(fs.counters().free_blocks, free0);
    clean(&remount(fs));
}

#[test]
fn punch_range_of_a_long_extent_takes_several_steps() {
    let mut fs = mem_fs(16384);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.allocate_range(f, 0, 6000, false).unwrap();
    fs.punch_range(f, 1, 5999).unwrap();
    assert_eq!(fs.read_inode(f).unwrap().blocks, 1 + 2);
    let m = block_map(&mut fs, f, 6000);
    assert!(m[0].is_some() && m[5999].is_some());
    assert!(m[1..5999].iter().all(Option::is_none));
    clean(&fs);
}

#[test]
fn allocate_range_fills_holes_keeps_data_and_stops_at_enospc() {
    let mut fs = mem_fs(2048);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.map_blocks(f, 5, 2, true, false).unwrap();
    let kept = block_map(&mut fs, f, 10)[5];
    fs.allocate_range(f, 0, 10, false).unwrap();
    let m = block_map(&mut fs, f, 10);
    assert!(m.iter().all(Option::is_some));
    assert_eq!(m[5], kept);
    let free = fs.counters().free_blocks;
    assert_eq!(
        fs.allocate_range(f, 100, 100 + free + 10, false),
        Err(Error::NoSpace)
    );
    clean(&fs);
    fs.punch_range(f, 0, 1 << 32).unwrap();
    clean(&fs);
}

#[test]
fn grow_size_only_grows_and_truncate_up_keeps_preallocation() {
    let mut fs = mem_fs(2048);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    assert_eq!(fs.grow_size(f, 5000).unwrap().size, 5000);
    assert_eq!(fs.grow_size(f, 100).unwrap().size, 5000);
    fs.allocate_range(f, 0, 8, false).unwrap();
    fs.set_size(f, 6 * BLOCK_SIZE, at(2)).unwrap();
    assert_eq!(
        fs.read_inode(f).unwrap().blocks,
        1 + 8,
        "growing frees nothing"
    );
    fs.set_size(f, BLOCK_SIZE, at(3)).unwrap();
    assert_eq!(fs.read_inode(f).unwrap().blocks, 1 + 1);
    assert_eq!(fs.grow_size(f, MAX_FILE_SIZE + 1), Err(Error::FileTooBig));
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(4)).unwrap();
    assert_eq!(fs.grow_size(d, 1), Err(Error::Invalid));
    clean(&fs);
}

#[test]
fn collapse_and_insert_range_move_blocks() {
    let mut fs = mem_fs(8192);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    // blocks 0..40 mapped in 20 separate extents (every other block from
    // two interleaved runs), size 40 blocks
    for b in 0..40 {
        fs.map_blocks(f, b, 1, true, false).unwrap();
        fs.map_blocks(f, 100 + b, 1, true, false).unwrap();
    }
    fs.punch_range(f, 100, 200).unwrap();
    fs.set_size(f, 40 * BLOCK_SIZE, at(2)).unwrap();
    let before = block_map(&mut fs, f, 40);
    // collapse blocks 10..15: 15.. move down to 10..
    let i = fs.collapse_range(f, 10, 5, at(3)).unwrap();
    assert_eq!(i.size, 35 * BLOCK_SIZE);
    let after = block_map(&mut fs, f, 40);
    assert_eq!(after[..10], before[..10]);
    assert_eq!(after[10..35], before[15..40]);
    assert!(after[35..].iter().all(Option::is_none));
    assert_eq!(i.blocks, 1 + 35);
    clean(&fs);
    // insert 7 blocks at 20 (inside an extent: split), a hole appears
    let i = fs.insert_range(f, 20, 7, at(4)).unwrap();
    assert_eq!(i.size, 42 * BLOCK_SIZE);
    let ins = block_map(&mut fs, f, 50);
    assert_eq!(ins[..20], after[..20]);
    assert!(ins[20..27].iter().all(Option::is_none));
    assert_eq!(ins[27..42], after[20..35]);
    clean(&fs);
    // collapse everything after the hole back: the original layout
    fs.collapse_range(f, 20, 7, at(5)).unwrap();
    assert_eq!(block_map(&mut fs, f, 40), after);
    // ranges that reach EOF, or start past it, are invalid
    assert_eq!(fs.collapse_range(f, 30, 5, at(6)), Err(Error::Invalid));
    assert_eq!(fs.insert_range(f, 35, 1, at(6)), Err(Error::Invalid));
    assert_eq!(
        fs.insert_range(f, 0, MAX_FILE_SIZE / BLOCK_SIZE, at(6)),
        Err(Error::FileTooBig)
    );
    clean(&remount(fs));
}

#[test]
fn collapsing_inserted_ranges_joins_the_extents_again() {
    // generic/064: insert ranges into a contiguous file, collapse them
    // again, and the file is one extent as before
    let mut fs = mem_fs(8192);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.allocate_range(f, 0, 200, false).unwrap();
    fs.set_size(f, 200 * BLOCK_SIZE, at(2)).unwrap();
    let before = block_map(&mut fs, f, 200);
    for k in 0..50 {
        fs.insert_range(f, 4 * k, 1, at(3)).unwrap();
    }
    let inode = fs.read_inode(f).unwrap();
    assert_eq!(fs.extent_count(&inode, f).unwrap(), 50);
    for k in 0..50 {
        fs.collapse_range(f, 3 * k, 1, at(4)).unwrap();
    }
    let inode = fs.read_inode(f).unwrap();
    assert_eq!(fs.extent_count(&inode, f).unwrap(), 1);
    assert_eq!(block_map(&mut fs, f, 200), before);
    clean(&remount(fs));
}

#[test]
fn refilling_holes_in_any_order_does_not_fragment() {
    let mut fs = mem_fs(8192);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.allocate_range(f, 0, 1024, false).unwrap();
    let inode = fs.read_inode(f).unwrap();
    assert_eq!(fs.extent_count(&inode, f).unwrap(), 1);
    // punch 200 single blocks, then write them back in a scrambled order,
    // one block per call as 4 KiB faults do
    let order: Vec<u64> = (0..200).map(|i| (i * 7919) % 200 * 3 + 100).collect();
    for &b in &order {
        fs.punch_range(f, b, b + 1).unwrap();
    }
    for &b in order.iter().rev() {
        fs.map_blocks(f, b, 1, true, false).unwrap();
    }
    let inode = fs.read_inode(f).unwrap();
    assert_eq!(
        fs.extent_count(&inode, f).unwrap(),
        1,
        "blocks went back where they were"
    );
    // a file written every other block, then the gaps: one extent again
    let (g, _) = fs.create(R, b"g", attr(S_IFREG | 0o644), at(1)).unwrap();
    for b in (0..400).step_by(2).chain((1..400).step_by(2)) {
        fs.map_blocks(g, b, 1, true, false).unwrap();
    }
    let inode = fs.read_inode(g).unwrap();
    assert_eq!(fs.extent_count(&inode, g).unwrap(), 1);
    clean(&fs);
}

#[test]
fn allocation_resumes_after_remount_where_it_stopped() {
    // Two files of 200 blocks, the first freed again: a search from the
    // start of the device would hand out the first file's blocks; the
    // persisted hint continues after the second's, as it would have
    // without the remount.
    let mut fs = mem_fs(2048);
    let (a, _) = fs.create(R, b"a", attr(S_IFREG | 0o644), at(1)).unwrap();
    let (b, _) = fs.create(R, b"b", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.allocate_range(a, 0, 200, false).unwrap();
    fs.allocate_range(b, 0, 200, false).unwrap();
    let (pa, pb) = (block_map(&mut fs, a, 1)[0], block_map(&mut fs, b, 200)[199]);
    fs.unlink(R, b"a", at(2)).unwrap();
    fs.release_inode(a).unwrap();
    let mut fs = remount(fs);
    let (c, _) = fs.create(R, b"c", attr(S_IFREG | 0o644), at(3)).unwrap();
    fs.map_blocks(c, 0, 1, true, false).unwrap();
    let pc = block_map(&mut fs, c, 1)[0];
    assert!(
        pa < pb && pc > pb,
        "a at {pa:?}, b ends at {pb:?}, c at {pc:?}"
    );
    clean(&fs);
}

#[test]
fn huge_runs_follow_the_physical_phase() {
    // A device whose first page is not 2 MiB-aligned: its aligned runs
    // start at the blocks == phase modulo 512, and that is where 2 MiB
    // allocations (fault or fallocate) and goal-extended ones go.
    for phase in [0, 1, 100, 511] {
        let fs = mem_fs(8192);
        let opts = ferrodax_core::fs::MountOptions {
            huge_phase: phase,
            ..Default::default()
        };
        let (mut fs, _) = ferrodax_core::Fs::mount(fs.into_medium(), opts).unwrap();
        let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
        fs.map_blocks(f, 0, 3, true, false).unwrap();
        for run in 1..4 {
            let m = fs.map_blocks(f, 512 * run, 512, true, true).unwrap();
            let Mapping::Mapped { pblk, len } = m.mapping else {
                panic!()
            };
            assert_eq!((pblk % 512, len), (phase, 512), "phase {phase}, run {run}");
        }
        fs.allocate_range(f, 4096, 5120, true).unwrap();
        let Mapping::Mapped { pblk, .. } = fs.map_blocks(f, 4096, 1, false, false).unwrap().mapping
        else {
            panic!()
        };
        assert_eq!(pblk % 512, phase, "fallocate, phase {phase}");
        clean(&fs);
    }
}

#[test]
fn the_last_orphan_of_a_longer_list_is_still_an_orphan() {
    let mut fs = mem_fs(2048);
    let (a, _) = fs.create(R, b"a", attr(S_IFREG), at(1)).unwrap();
    let (b, _) = fs.create(R, b"b", attr(S_IFREG), at(1)).unwrap();
    for k in 0..100 {
        fs.map_blocks(a, 2 * k, 1, true, false).unwrap();
    }
    fs.set_size(a, 200 * BLOCK_SIZE, at(1)).unwrap();
    // Both open and unlinked: b heads the list, a is its last entry.
    fs.unlink(R, b"a", at(2)).unwrap();
    fs.unlink(R, b"b", at(2)).unwrap();
    assert!(fs.is_orphan(a).unwrap() && fs.is_orphan(b).unwrap());
    // A truncate of a too big for one transaction puts it on the list
    // again: it must stay one entry, not become a cycle.
    fs.set_size(a, 0, at(3)).unwrap();
    fs.release_inode(b).unwrap();
    assert!(fs.is_orphan(a).unwrap());
    let (fs, report) = ferrodax_core::Fs::mount(fs.into_medium(), Default::default()).unwrap();
    assert_eq!(report.orphans, 1);
    clean(&fs);
}

#[test]
fn label_set_and_read_back_across_a_remount() {
    let mut fs = mem_fs(2048);
    assert_eq!(fs.label().unwrap().1, 0, "mkfs without -L: no label");
    fs.set_label(b"scratch").unwrap();
    let (label, len) = fs.label().unwrap();
    assert_eq!(&label[..len], b"scratch");
    let longest = [b'x'; 32];
    fs.set_label(&longest).unwrap();
    assert_eq!(fs.label().unwrap(), (longest, 32));
    assert_eq!(fs.set_label(&[b'x'; 33]), Err(Error::Invalid));
    assert_eq!(fs.set_label(b"a\0b"), Err(Error::Invalid));
    fs.set_label(b"data").unwrap();
    clean(&fs);
    let fs = remount(fs);
    let (label, len) = fs.label().unwrap();
    assert_eq!(&label[..len], b"data");
    assert_eq!(label[len..], [0; 28], "a shorter label clears the rest");
    assert_eq!(fs.superblock().label, label, "mount reads the new label");
    clean(&fs);
}
