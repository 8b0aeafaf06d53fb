//! POSIX ACLs (`core/src/acl.rs`): stored with the create that gives them,
//! with the mode they go with, beside other attributes; their form
//! checked on the way in and by fsck.

use ferrodax_core::acl::{AclChange, Acls};
use ferrodax_core::file::SetAttr;
use ferrodax_core::inode::*;
use ferrodax_core::layout::ROOT_INO;
use ferrodax_core::xattr::{Namespace, SetMode};
use ferrodax_core::{Error, Fs, Medium};
use ferrodax_tools::fsck::check;
use ferrodax_tools::testing::*;

const R: u64 = ROOT_INO;

/// An ACL in the VFS's xattr form: version 2, then (tag, perm, id).
fn acl(entries: &[(u16, u16, u32)]) -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for &(tag, perm, id) in entries {
        v.extend(tag.to_le_bytes());
        v.extend(perm.to_le_bytes());
        v.extend(id.to_le_bytes());
    }
    v
}

/// user::rwx, user:1000:r-x, group::r-x, mask::r-x, other::r-x
fn some_acl(perm: u16) -> Vec<u8> {
    acl(&[
        (0x01, 7, u32::MAX),
        (0x02, perm, 1000),
        (0x04, 5, u32::MAX),
        (0x10, perm, u32::MAX),
        (0x20, 5, u32::MAX),
    ])
}

fn get<M: Medium>(fs: &Fs<M>, ino: u64, ns: Namespace) -> Option<Vec<u8>> {
    let len = match fs.get_xattr(ino, ns, b"", &mut []) {
        Err(Error::NoAttr) => return None,
        r => r.unwrap(),
    };
    let mut v = vec![0; len];
    fs.get_xattr(ino, ns, b"", &mut v).unwrap();
    Some(v)
}

fn clean<M: Medium>(fs: &Fs<M>) {
    let r = check(fs);
    assert!(r.problems.is_empty(), "fsck: {:#?}", r.problems);
}

#[test]
fn a_create_stores_its_acls_with_it() {
    let mut fs = mem_fs(2048);
    let (access, default) = (some_acl(5), some_acl(7));
    let acls = Acls {
        access: AclChange::Set(&access),
        default: AclChange::Set(&default),
    };
    let (d, di) = fs
        .create_at(R, b"d", None, (attr(S_IFDIR | 0o755), &acls), at(1))
        .unwrap();
    assert_eq!(di.blocks, 2, "the directory block and the attribute block");
    let (f, _) = fs
        .tmpfile(
            attr(S_IFREG | 0o640),
            &Acls {
                access: AclChange::Set(&access),
                ..Acls::NONE
            },
            at(2),
        )
        .unwrap();
    assert_eq!(get(&fs, f, Namespace::AclAccess), Some(access.clone()));
    // The mount releases the O_TMPFILE orphan, attribute block and all.
    let mut fs = remount(fs);
    assert_eq!(get(&fs, d, Namespace::AclAccess), Some(access.clone()));
    assert_eq!(get(&fs, d, Namespace::AclDefault), Some(default));
    clean(&fs);

    // Only directories have a default ACL: the create fails whole.
    let inodes = fs.counters();
    let wrong = Acls {
        default: AclChange::Set(&access),
        ..Acls::NONE
    };
    let r = fs.create_at(R, b"f", None, (attr(S_IFREG | 0o644), &wrong), at(3));
    assert_eq!(r.map(drop), Err(Error::Invalid));
    assert_eq!(fs.lookup(R, b"f").unwrap(), None);
    assert_eq!(fs.counters(), inodes, "nothing allocated");
    clean(&fs);
}

#[test]
fn an_acl_changes_with_its_mode_and_keeps_other_attributes() {
    let mut fs = mem_fs(2048);
    let (f, _) = fs.create(R, b"f", attr(S_IFREG | 0o600), at(1)).unwrap();
    fs.set_xattr(
        f,
        Namespace::User,
        b"keep",
        Some(b"me"),
        SetMode::Any,
        at(2),
    )
    .unwrap();
    let v = some_acl(5);
    let chmod = |mode: u16, t: i64| SetAttr {
        mode: Some(mode),
        ctime: Some(at(t)),
        ..SetAttr::default()
    };
    let acls = Acls {
        access: AclChange::Set(&v),
        ..Acls::NONE
    };
    let i = fs.set_acls(f, chmod(0o755, 3), &acls).unwrap();
    assert_eq!((i.mode, i.ctime), (S_IFREG | 0o755, at(3)));
    let narrowed = some_acl(4);
    let acls = Acls {
        access: AclChange::Set(&narrowed),
        ..Acls::NONE
    };
    fs.set_acls(f, chmod(0o745, 4), &acls).unwrap();
    let fs2 = remount(fs);
    assert_eq!(fs2.read_inode(f).unwrap().mode, S_IFREG | 0o745);
    assert_eq!(get(&fs2, f, Namespace::AclAccess), Some(narrowed));
    let mut fs = fs2;
    let mut keep = [0u8; 2];
    fs.get_xattr(f, Namespace::User, b"keep", &mut keep)
        .unwrap();
    assert_eq!(&keep, b"me");

    // Removing the ACL (setfacl -b) keeps the user attribute's block;
    // removing one that is not there is no error.
    let remove = Acls {
        access: AclChange::Remove,
        default: AclChange::Remove,
    };
    let i = fs.set_acls(f, chmod(0o700, 5), &remove).unwrap();
    assert_eq!((i.mode, i.blocks), (S_IFREG | 0o700, 1));
    assert_eq!(get(&fs, f, Namespace::AclAccess), None);
    let i = fs
        .set_xattr(f, Namespace::User, b"keep", None, SetMode::Any, at(6))
        .unwrap();
    assert_eq!(
        (i.xattr, i.blocks),
        (0, 0),
        "the last attribute frees the block"
    );
    clean(&fs);
}

#[test]
fn a_value_not_in_the_acl_form_is_refused_and_nothing_changes() {
    let mut fs = mem_fs(2048);
    let (f, before) = fs.create(R, b"f", attr(S_IFREG | 0o644), at(1)).unwrap();
    let good = some_acl(5);
    for bad in [
        &good[..good.len() - 1], // a partial entry
        &good[..3],              // a partial header
        &acl(&[(1, 7, 0)])[4..], // no header
        &[1u8, 0, 0, 0][..],     // version 1
    ] {
        let acls = Acls {
            access: AclChange::Set(bad),
            ..Acls::NONE
        };
        let mode = SetAttr {
            mode: Some(0o777),
            ..SetAttr::default()
        };
        assert_eq!(fs.set_acls(f, mode, &acls).map(drop), Err(Error::Invalid));
        assert_eq!(fs.read_inode(f).unwrap(), before, "the mode did not change");
        let r = fs.set_xattr(f, Namespace::AclAccess, b"", Some(bad), SetMode::Any, at(2));
        assert_eq!(r.map(drop), Err(Error::Invalid));
    }
    clean(&fs);
}
