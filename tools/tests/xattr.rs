//! Extended attributes (`core/src/xattr.rs`): set, get, list, replace and
//! remove under setxattr's rules, the block's life (allocated with the
//! first attribute, freed with the last or with the inode), a full block,
//! persistence. A damaged block: `repair.rs`.

use ferrodax_core::inode::*;
use ferrodax_core::layout::ROOT_INO;
use ferrodax_core::xattr::{Namespace, SetMode, NAME_MAX, VALUE_MAX};
use ferrodax_core::{Error, Fs, Medium};
use ferrodax_tools::fsck::check;
use ferrodax_tools::testing::*;

const R: u64 = ROOT_INO;
use Namespace::*;

fn clean<M: Medium>(fs: &Fs<M>) {
    let r = check(fs);
    assert!(r.problems.is_empty(), "fsck: {:#?}", r.problems);
}

fn get<M: Medium>(fs: &Fs<M>, ino: u64, ns: Namespace, name: &[u8]) -> Result<Vec<u8>, Error> {
    let len = fs.get_xattr(ino, ns, name, &mut [])?;
    let mut v = vec![0; len];
    assert_eq!(fs.get_xattr(ino, ns, name, &mut v)?, len);
    Ok(v)
}

fn list<M: Medium>(fs: &Fs<M>, ino: u64) -> Vec<(Namespace, Vec<u8>)> {
    let mut out = vec![];
    fs.list_xattr(ino, |ns, name| {
        out.push((ns, name.to_vec()));
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn set_get_list_replace_remove() {
    let mut fs = mem_fs(2048);
    let (ino, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    let free = fs.counters().free_blocks;
    assert_eq!(get(&fs, ino, User, b"a"), Err(Error::NoAttr));
    let i = fs
        .set_xattr(ino, User, b"a", Some(b"one"), SetMode::Create, at(2))
        .unwrap();
    assert_ne!(i.xattr, 0);
    assert_eq!((i.blocks, i.ctime), (1, at(2)), "the block counts");
    assert_eq!(fs.counters().free_blocks, free - 1);
    fs.set_xattr(ino, Trusted, b"a", Some(b""), SetMode::Any, at(3))
        .unwrap();
    fs.set_xattr(
        ino,
        AclAccess,
        b"",
        Some(&[2, 0, 0, 0]),
        SetMode::Any,
        at(3),
    )
    .unwrap();
    assert_eq!(get(&fs, ino, User, b"a").unwrap(), b"one");
    assert_eq!(get(&fs, ino, Trusted, b"a").unwrap(), b"", "an empty value");
    assert_eq!(get(&fs, ino, Security, b"a"), Err(Error::NoAttr));
    let mut short = [0u8; 2];
    assert_eq!(fs.get_xattr(ino, User, b"a", &mut short), Err(Error::Range));
    assert_eq!(
        fs.set_xattr(ino, User, b"a", Some(b"x"), SetMode::Create, at(4)),
        Err(Error::Exists)
    );
    assert_eq!(
        fs.set_xattr(ino, User, b"b", Some(b"x"), SetMode::Replace, at(4)),
        Err(Error::NoAttr)
    );
    assert_eq!(
        fs.set_xattr(ino, User, b"b", None, SetMode::Any, at(4)),
        Err(Error::NoAttr),
        "removing what is not there"
    );
    fs.set_xattr(
        ino,
        User,
        b"a",
        Some(b"longer value"),
        SetMode::Replace,
        at(5),
    )
    .unwrap();
    assert_eq!(get(&fs, ino, User, b"a").unwrap(), b"longer value");
    assert_eq!(
        list(&fs, ino),
        vec![
            (Trusted, b"a".to_vec()),
            (AclAccess, vec![]),
            (User, b"a".to_vec())
        ],
        "a replaced attribute moves to the end"
    );
    assert_eq!(fs.counters().free_blocks, free - 1, "old blocks freed");
    clean(&fs);
    for (ns, name) in [(User, &b"a"[..]), (Trusted, b"a"), (AclAccess, b"")] {
        fs.set_xattr(ino, ns, name, None, SetMode::Any, at(6))
            .unwrap();
    }
    let i = fs.read_inode(ino).unwrap();
    assert_eq!(
        (i.xattr, i.blocks, i.ctime),
        (0, 0, at(6)),
        "the last removal frees the block"
    );
    assert_eq!(fs.counters().free_blocks, free);
    assert!(list(&fs, ino).is_empty());
    clean(&fs);
}

#[test]
fn names_and_sizes() {
    let mut fs = mem_fs(2048);
    let (ino, _) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    let long = [b'n'; NAME_MAX + 1];
    let set = |fs: &mut Fs<_>, ns, name: &[u8], v: &[u8]| {
        fs.set_xattr(ino, ns, name, Some(v), SetMode::Any, at(2))
    };
    assert_eq!(set(&mut fs, User, &long, b"v").map(drop), Err(Error::Range));
    assert_eq!(set(&mut fs, User, b"", b"v").map(drop), Err(Error::Invalid));
    assert_eq!(
        set(&mut fs, AclDefault, b"x", b"v").map(drop),
        Err(Error::Invalid)
    );
    set(&mut fs, User, &long[..NAME_MAX], b"v").unwrap();
    fs.set_xattr(ino, User, &long[..NAME_MAX], None, SetMode::Any, at(2))
        .unwrap();
    let big = vec![7u8; VALUE_MAX];
    assert_eq!(
        set(&mut fs, User, b"b", &vec![7u8; VALUE_MAX + 1]).map(drop),
        Err(Error::NoSpace)
    );
    set(&mut fs, User, b"b", &big).unwrap();
    assert_eq!(
        get(&fs, ino, User, b"b").unwrap(),
        big,
        "one value fills the block"
    );
    let free = fs.counters();
    assert_eq!(
        set(&mut fs, User, b"c", b"v").map(drop),
        Err(Error::NoSpace),
        "a full block refuses more, changing nothing"
    );
    assert_eq!(fs.counters(), free);
    assert_eq!(get(&fs, ino, User, b"b").unwrap(), big);
    // Many small attributes until the block is full; all read back.
    fs.set_xattr(ino, User, b"b", None, SetMode::Any, at(3))
        .unwrap();
    let mut n = 0u32;
    while set(
        &mut fs,
        Security,
        format!("attr{n}").as_bytes(),
        &n.to_le_bytes(),
    )
    .is_ok()
    {
        n += 1;
    }
    assert!(n > 200, "{n} attributes of 17 bytes or so");
    for k in 0..n {
        assert_eq!(
            get(&fs, ino, Security, format!("attr{k}").as_bytes()).unwrap(),
            k.to_le_bytes()
        );
    }
    clean(&fs);
}

#[test]
fn attributes_survive_a_remount_and_leave_with_the_inode() {
    let mut fs = mem_fs(2048);
    let free = fs.counters();
    let (d, _) = fs.create(R, b"d", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let (f, _) = fs.create(d, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    let (l, _) = fs.symlink(d, b"l", b"f", attr(0), at(1)).unwrap();
    for (ino, v) in [(d, &b"dir"[..]), (f, b"file"), (l, b"link")] {
        fs.set_xattr(ino, Security, b"label", Some(v), SetMode::Any, at(2))
            .unwrap();
    }
    clean(&fs);
    let mut fs = remount(fs);
    assert_eq!(get(&fs, d, Security, b"label").unwrap(), b"dir");
    assert_eq!(get(&fs, f, Security, b"label").unwrap(), b"file");
    assert_eq!(get(&fs, l, Security, b"label").unwrap(), b"link");
    for name in [&b"f"[..], b"l"] {
        let (ino, _) = fs.unlink(d, name, at(3)).unwrap();
        fs.release_inode(ino).unwrap();
    }
    let (d, _) = fs.rmdir(R, b"d", at(3)).unwrap();
    fs.release_inode(d).unwrap();
    assert_eq!(
        fs.counters().free_blocks,
        free.free_blocks,
        "released with the inodes"
    );
    assert_eq!(fs.counters().free_inodes, free.free_inodes);
    clean(&fs);
}
