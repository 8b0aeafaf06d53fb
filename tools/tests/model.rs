//! Property test: random sequences of namespace operations applied to the
//! core and to a small in-memory model of a POSIX tree must agree on every
//! result (errno included) and on the whole tree after every step; fsck must
//! stay clean and a remount must change nothing. Lookups of absent names
//! are noted at every step and given to later creates and renames of the
//! name, whatever happened in between, as the kernel's negative dentries
//! keep them.

use ferrodax_core::acl::Acls;
use ferrodax_core::dir::{Lookup, NameSlot};
use ferrodax_core::inode::*;
use ferrodax_core::layout::ROOT_INO;
use ferrodax_core::namei::RenameFlags;
use ferrodax_core::{Error, Fs, Medium};
use ferrodax_tools::fsck::check;
use ferrodax_tools::testing::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};

const NAMES: [&[u8]; 5] = [
    b"a",
    b"b",
    b"c",
    b"long-name-for-a-second-slot-xxxxxxxxxxxxxxxxxxxxxx",
    b"d",
];

#[derive(Debug, Clone)]
enum Op {
    Create(usize, usize),
    Mkdir(usize, usize),
    Symlink(usize, usize, u8),
    Link(usize, usize, usize),
    Unlink(usize, usize),
    Rmdir(usize, usize),
    Rename(usize, usize, usize, usize, u8),
    Truncate(usize, u32),
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0..NAMES.len();
    prop_oneof![
        (0..8usize, n.clone()).prop_map(|(d, x)| Op::Create(d, x)),
        (0..8usize, n.clone()).prop_map(|(d, x)| Op::Mkdir(d, x)),
        (0..8usize, n.clone(), 1..200u8).prop_map(|(d, x, l)| Op::Symlink(d, x, l)),
        (0..16usize, 0..8usize, n.clone()).prop_map(|(f, d, x)| Op::Link(f, d, x)),
        (0..8usize, n.clone()).prop_map(|(d, x)| Op::Unlink(d, x)),
        (0..8usize, n.clone()).prop_map(|(d, x)| Op::Rmdir(d, x)),
        (0..8usize, n.clone(), 0..8usize, n.clone(), 0..4u8)
            .prop_map(|(a, x, b, y, f)| Op::Rename(a, x, b, y, f)),
        (0..16usize, 0..100_000u32).prop_map(|(f, s)| Op::Truncate(f, s)),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    File { size: u64 },
    Dir(BTreeMap<Vec<u8>, u64>),
    Symlink(Vec<u8>),
}

/// The model: inodes by the core's inode number (so both sides can be
/// compared line by line), with link counts kept the POSIX way.
#[derive(Debug, Clone)]
struct Model {
    inodes: BTreeMap<u64, (Kind, u32, u64)>, // kind, nlink, parent (dirs)
}

impl Model {
    fn dir(&self, ino: u64) -> &BTreeMap<Vec<u8>, u64> {
        match &self.inodes[&ino].0 {
            Kind::Dir(e) => e,
            _ => unreachable!(),
        }
    }
    fn dir_mut(&mut self, ino: u64) -> &mut BTreeMap<Vec<u8>, u64> {
        match &mut self.inodes.get_mut(&ino).unwrap().0 {
            Kind::Dir(e) => e,
            _ => unreachable!(),
        }
    }
    fn is_dir(&self, ino: u64) -> bool {
        matches!(self.inodes[&ino].0, Kind::Dir(_))
    }
    fn dirs(&self) -> Vec<u64> {
        self.inodes
            .iter()
            .filter(|(_, v)| matches!(v.0, Kind::Dir(_)))
            .map(|(&k, _)| k)
            .collect()
    }
    fn files(&self) -> Vec<u64> {
        self.inodes
            .iter()
            .filter(|(_, v)| matches!(v.0, Kind::File { .. }))
            .map(|(&k, _)| k)
            .collect()
    }
    fn within(&self, mut ino: u64, ancestor: u64) -> bool {
        loop {
            if ino == ancestor {
                return true;
            }
            if ino == ROOT_INO {
                return false;
            }
            ino = self.inodes[&ino].2;
        }
    }
    fn nlink(&mut self, ino: u64, delta: i32) {
        let e = self.inodes.get_mut(&ino).unwrap();
        e.1 = (e.1 as i32 + delta) as u32;
    }
    /// Drop one name of `ino`; returns true if it is gone.
    fn unref(&mut self, ino: u64) {
        if self.is_dir(ino) {
            self.inodes.remove(&ino);
        } else {
            self.nlink(ino, -1);
            if self.inodes[&ino].1 == 0 {
                self.inodes.remove(&ino);
            }
        }
    }

    fn rename(
        &mut self,
        od: u64,
        on: &[u8],
        nd: u64,
        nn: &[u8],
        f: RenameFlags,
    ) -> Result<(), Error> {
        let src = *self.dir(od).get(on).ok_or(Error::NotFound)?;
        let dst = self.dir(nd).get(nn).copied();
        if self.is_dir(src) && od != nd && self.within(nd, src) {
            return Err(Error::Invalid);
        }
        if f.exchange {
            let dst = dst.ok_or(Error::NotFound)?;
            if self.is_dir(dst) && od != nd && self.within(od, dst) {
                return Err(Error::Invalid);
            }
            self.dir_mut(od).insert(on.to_vec(), dst);
            self.dir_mut(nd).insert(nn.to_vec(), src);
            self.move_dir(src, od, nd);
            self.move_dir(dst, nd, od);
            return Ok(());
        }
        match dst {
            Some(_) if f.noreplace => return Err(Error::Exists),
            Some(d) if d == src => return Ok(()),
            Some(d) => {
                match (self.is_dir(src), self.is_dir(d)) {
                    (true, false) => return Err(Error::NotDir),
                    (false, true) => return Err(Error::IsDir),
                    (true, true) if !self.dir(d).is_empty() => return Err(Error::NotEmpty),
                    (_, true) => self.nlink(nd, -1),
                    _ => {}
                }
                self.unref(d);
            }
            None => {}
        }
        self.dir_mut(nd).insert(nn.to_vec(), src);
        self.dir_mut(od).remove(on);
        self.move_dir(src, od, nd);
        Ok(())
    }

    fn move_dir(&mut self, ino: u64, from: u64, to: u64) {
        if self.is_dir(ino) && from != to {
            self.inodes.get_mut(&ino).unwrap().2 = to;
            self.nlink(from, -1);
            self.nlink(to, 1);
        }
    }

    fn listing(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(ROOT_INO, String::from("/"))];
        while let Some((d, path)) = stack.pop() {
            out.push(format!("{path} dir ino={d} nlink={}", self.inodes[&d].1));
            for (name, &ino) in self.dir(d) {
                let p = format!("{path}{}", String::from_utf8_lossy(name));
                match &self.inodes[&ino].0 {
                    Kind::Dir(_) => stack.push((ino, p + "/")),
                    Kind::File { size } => out.push(format!(
                        "{p} file ino={ino} nlink={} size={size}",
                        self.inodes[&ino].1
                    )),
                    Kind::Symlink(t) => out.push(format!(
                        "{p} symlink ino={ino} -> {}",
                        String::from_utf8_lossy(t)
                    )),
                }
            }
        }
        out.sort();
        out
    }
}

fn fs_listing<M: Medium>(fs: &Fs<M>) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(ROOT_INO, String::from("/"))];
    while let Some((d, path)) = stack.pop() {
        out.push(format!(
            "{path} dir ino={d} nlink={}",
            fs.read_inode(d).unwrap().nlink
        ));
        let mut entries = Vec::new();
        fs.readdir(d, 0, |n, i, _, _| {
            entries.push((n.to_vec(), i));
            true
        })
        .unwrap();
        for (name, ino) in entries {
            let p = format!("{path}{}", String::from_utf8_lossy(&name));
            let i = fs.read_inode(ino).unwrap();
            match i.kind() {
                ferrodax_core::inode::Kind::Directory => stack.push((ino, p + "/")),
                ferrodax_core::inode::Kind::Symlink => {
                    let mut t = vec![0; i.size as usize];
                    fs.readlink(ino, &mut t).unwrap();
                    out.push(format!(
                        "{p} symlink ino={ino} -> {}",
                        String::from_utf8_lossy(&t)
                    ));
                }
                _ => out.push(format!(
                    "{p} file ino={ino} nlink={} size={}",
                    i.nlink, i.size
                )),
            }
        }
    }
    out.sort();
    out
}

fn flags(f: u8) -> RenameFlags {
    RenameFlags {
        noreplace: f == 1,
        exchange: f == 2,
        whiteout: false,
        ancestry_checked: false,
        target_slot: None,
    }
}

fn run(ops: Vec<Op>) {
    let mut fs = mem_fs(4096);
    let mut m = Model {
        inodes: BTreeMap::from([(ROOT_INO, (Kind::Dir(BTreeMap::new()), 2, ROOT_INO))]),
    };
    let t = at(7);
    let mut notes: HashMap<(u64, usize), NameSlot> = HashMap::new();
    for (step, op) in ops.into_iter().enumerate() {
        let dirs = m.dirs();
        let files = m.files();
        let d = |i: usize| dirs[i % dirs.len()];
        let (dir, n) = (d(step * 3), step % NAMES.len());
        if let Ok(Lookup::Absent(Some(slot))) = fs.probe(dir, NAMES[n]) {
            notes.insert((dir, n), slot);
        }
        let mut note = |dir: u64, n: usize| notes.remove(&(dir, n));
        let (got, want): (Result<(), Error>, Result<(), Error>) = match op.clone() {
            Op::Create(di, n) | Op::Mkdir(di, n) | Op::Symlink(di, n, _) => {
                let (dir, name, slot) = (d(di), NAMES[n], note(d(di), n));
                let r = match op {
                    Op::Create(..) => {
                        fs.create_at(dir, name, slot, (attr(S_IFREG | 0o644), &Acls::NONE), t)
                    }
                    Op::Mkdir(..) => {
                        fs.create_at(dir, name, slot, (attr(S_IFDIR | 0o755), &Acls::NONE), t)
                    }
                    Op::Symlink(_, _, len) => {
                        let target = vec![b'x'; len as usize];
                        fs.symlink_at(dir, name, slot, &target, attr(0), t)
                    }
                    _ => unreachable!(),
                };
                let want = if m.dir(dir).contains_key(name) {
                    Err(Error::Exists)
                } else {
                    Ok(())
                };
                if let Ok((ino, _)) = r {
                    let kind = match op {
                        Op::Create(..) => Kind::File { size: 0 },
                        Op::Mkdir(..) => Kind::Dir(BTreeMap::new()),
                        Op::Symlink(_, _, len) => Kind::Symlink(vec![b'x'; len as usize]),
                        _ => unreachable!(),
                    };
                    let is_dir = matches!(kind, Kind::Dir(_));
                    m.inodes
                        .insert(ino, (kind, if is_dir { 2 } else { 1 }, dir));
                    m.dir_mut(dir).insert(name.to_vec(), ino);
                    if is_dir {
                        m.nlink(dir, 1);
                    }
                }
                (r.map(drop), want)
            }
            Op::Link(fi, di, n) => {
                if files.is_empty() {
                    continue;
                }
                let (f, dir, name) = (files[fi % files.len()], d(di), NAMES[n]);
                let r = fs.link(f, dir, name, t).map(drop);
                let want = if m.dir(dir).contains_key(name) {
                    Err(Error::Exists)
                } else {
                    Ok(())
                };
                if r.is_ok() {
                    m.dir_mut(dir).insert(name.to_vec(), f);
                    m.nlink(f, 1);
                }
                (r, want)
            }
            Op::Unlink(di, n) | Op::Rmdir(di, n) => {
                let (dir, name) = (d(di), NAMES[n]);
                let rmdir = matches!(op, Op::Rmdir(..));
                let r = if rmdir {
                    fs.rmdir(dir, name, t)
                } else {
                    fs.unlink(dir, name, t)
                };
                let want = match m.dir(dir).get(name).copied() {
                    None => Err(Error::NotFound),
                    Some(v) if rmdir && !m.is_dir(v) => Err(Error::NotDir),
                    Some(v) if !rmdir && m.is_dir(v) => Err(Error::IsDir),
                    Some(v) if rmdir && !m.dir(v).is_empty() => Err(Error::NotEmpty),
                    Some(v) => {
                        m.dir_mut(dir).remove(name);
                        if rmdir {
                            m.nlink(dir, -1);
                        }
                        m.unref(v);
                        Ok(())
                    }
                };
                if let Ok((ino, i)) = r {
                    if i.nlink == 0 {
                        fs.release_inode(ino).unwrap(); // the last close
                    }
                }
                (r.map(drop), want)
            }
            Op::Rename(a, x, b, y, f) => {
                let (od, nd) = (d(a), d(b));
                let noted = RenameFlags {
                    target_slot: note(nd, y),
                    ..flags(f)
                };
                let r = fs.rename(od, NAMES[x], nd, NAMES[y], noted, attr(0), t);
                let want = m.rename(od, NAMES[x], nd, NAMES[y], flags(f));
                if let Ok(o) = r {
                    if let Some(v) = o.replaced {
                        if fs.read_inode(v).unwrap().nlink == 0 {
                            fs.release_inode(v).unwrap();
                        }
                    }
                }
                (r.map(drop), want)
            }
            Op::Truncate(fi, size) => {
                if files.is_empty() {
                    continue;
                }
                let f = files[fi % files.len()];
                let r = fs.set_size(f, u64::from(size), t).map(drop);
                if let Kind::File { size: s } = &mut m.inodes.get_mut(&f).unwrap().0 {
                    *s = u64::from(size);
                }
                (r, Ok(()))
            }
        };
        assert_eq!(got, want, "step {step}: {op:?}");
        assert_eq!(fs_listing(&fs), m.listing(), "step {step}: {op:?}");
    }
    let report = check(&fs);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    let before = fs_listing(&fs);
    let fs = remount(fs);
    assert_eq!(fs_listing(&fs), before);
    assert_eq!(
        fs.counters().free_inodes,
        fs.geometry().inode_count - 1 - m.inodes.len() as u64
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn namespace_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        run(ops);
    }
}
