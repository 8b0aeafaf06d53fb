//! Field-level fuzzing of the on-media format, as XFS's fuzz tests do with
//! xfs_db: every field of every structure of a populated image is set to
//! boundary and random values, the structure's checksum is computed again
//! (so the damage gets past the checksum to the code that trusts the
//! field), and the image is mounted, walked, changed and checked.
//!
//! The field tables follow `Documentation/filesystems/ferrodax/format.rst`
//! and the checksums are computed here from that description, not with the
//! core's encoders, so the format document is checked too.

use crate::dump::dump;
use crate::fsck::{check, fsck, Options};
use crate::media::MemMedium;
use crate::testing::{at, attr, mkfs_mount};
use ferrodax_core::acl::Acls;
use ferrodax_core::crc32c::{crc32c, put_crc};
use ferrodax_core::extent::FANOUT;
use ferrodax_core::fs::MountOptions;
use ferrodax_core::inode::{S_IFDIR, S_IFREG};
use ferrodax_core::layout::le::{u16_at, u32_at, u64_at};
use ferrodax_core::layout::{Geometry, BLOCK_SIZE, INODE_SIZE, JOURNAL_BLOCKS, ROOT_INO as R};
use ferrodax_core::xattr::{Namespace, SetMode};
use ferrodax_core::{Error, Fs};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Blocks of the fuzzed image.
const BLOCKS: u64 = 2048;

/// How a structure's checksum is made.
#[derive(Debug, Clone, Copy)]
enum Seal {
    /// CRC-32C of `len` bytes at `at` with the 4 bytes at `at + crc` as zero.
    Crc { at: u64, len: u64, crc: u64 },
    /// An extent: low 16 bits of CRC-32C over bytes 0..13 and the owner.
    Extent { at: u64, owner: u64 },
    /// A bitmap line (64 bytes at `line`): its CRC-32C in the checksum
    /// table at `slot`.
    Bitmap { line: u64, slot: u64 },
    /// No checksum (the journal header word).
    None,
}

/// One field of one structure in the image.
#[derive(Debug, Clone)]
pub struct Field {
    /// Structure and field, for reports.
    pub name: String,
    off: u64,
    size: usize,
    seal: Seal,
}

impl Field {
    /// The structure the field belongs to (`inode[dir]`, `extent[1]`...).
    pub fn structure(&self) -> &str {
        self.name.split('.').next().unwrap_or_default()
    }
}

/// A populated image: every structure exists at least once.
pub struct Image {
    /// The image.
    pub medium: MemMedium,
    fields: Vec<Field>,
    /// The inodes the fields belong to: as values they make cycles (a
    /// parent pointer to itself) and cross links.
    inodes: Vec<u64>,
}

fn field(fields: &mut Vec<Field>, what: &str, base: u64, seal: Seal, table: &[(&str, u64, usize)]) {
    for &(name, off, size) in table {
        fields.push(Field {
            name: format!("{what}.{name}"),
            off: base + off,
            size,
            seal,
        });
    }
}

const SUPERBLOCK: &[(&str, u64, usize)] = &[
    ("magic", 0, 8),
    ("version", 8, 4),
    ("block_size", 12, 4),
    ("compat", 16, 8),
    ("incompat", 24, 8),
    ("ro_compat", 32, 8),
    ("total_blocks", 88, 8),
    ("inode_count", 96, 8),
    ("reserved", 112, 8),
];
const GROUP: &[(&str, u64, usize)] = &[
    ("free_blocks", 0, 8),
    ("free_inodes", 8, 8),
    ("orphans", 16, 8),
    ("next_generation", 24, 8),
    ("block_hint", 32, 8),
    ("ino_hint", 40, 8),
    ("magic", 56, 4),
];
const INODE: &[(&str, u64, usize)] = &[
    ("mode", 0, 2),
    ("flags", 4, 4),
    ("nlink", 16, 4),
    ("size", 24, 8),
    ("blocks", 32, 8),
    ("atime", 40, 8),
    ("mtime_nsec", 80, 4),
    ("root", 88, 8),
    ("parent", 96, 8),
    ("entries", 112, 8),
    ("xattr", 104, 8),
    ("ino", 124, 4),
];
const XATTR_HEADER: &[(&str, u64, usize)] = &[
    ("magic", 0, 4),
    ("owner", 8, 8),
    ("used", 16, 2),
    ("count", 18, 2),
];
const XATTR_ENTRY: &[(&str, u64, usize)] =
    &[("namespace", 0, 1), ("name_len", 1, 1), ("value_len", 2, 2)];
const ACL_VALUE: &[(&str, u64, usize)] = &[("version", 0, 4), ("tag", 4, 2)];
const JOURNAL_ENTRY: &[(&str, u64, usize)] = &[
    ("seq", 0, 8),
    ("offset", 8, 8),
    ("len", 16, 2),
    ("old", 24, 8),
];
const JOURNAL_COMMIT: &[(&str, u64, usize)] = &[("seq", 0, 8), ("count", 8, 8), ("crc", 24, 4)];
const EXTENT_HEADER: &[(&str, u64, usize)] = &[
    ("magic", 0, 4),
    ("count", 4, 2),
    ("level", 6, 2),
    ("owner", 8, 4),
];
const EXTENT: &[(&str, u64, usize)] = &[("lblk", 0, 4), ("len", 4, 4), ("pblk", 8, 6)];
const EXTENT_INDEX: &[(&str, u64, usize)] = &[("key", 0, 4), ("len", 4, 4), ("child", 8, 6)];
const DIR_HEADER: &[(&str, u64, usize)] = &[("magic", 0, 4), ("owner", 4, 4), ("count", 12, 2)];
const DIR_ENTRY: &[(&str, u64, usize)] = &[
    ("ino", 0, 4),
    ("reclen", 4, 2),
    ("name_len", 6, 1),
    ("type_seq", 7, 1),
    ("hash", 8, 4),
    ("name", 12, 1),
];

/// The seal of a 16-byte node or entry block header at `at`.
fn header_seal(at: u64) -> Seal {
    Seal::Crc {
        at,
        len: 16,
        crc: 12,
    }
}

/// The header of the index node at `at` (of inode `owner`) and its first
/// two entries, as `{what}_index_header` and `{what}_index[i]`.
fn index_fields(fields: &mut Vec<Field>, what: &str, at: u64, owner: u64) {
    let seal = header_seal(at);
    let name = format!("{what}_index_header");
    field(fields, &name, at, seal, EXTENT_HEADER);
    for i in 0..2 {
        let entry = at + 16 + 16 * i;
        let seal = Seal::Extent { at: entry, owner };
        let name = format!("{what}_index[{i}]");
        field(fields, &name, entry, seal, EXTENT_INDEX);
    }
}

/// The header of entry block `blk` (of the directory named `dir`) and up
/// to three of its entries, all sealed by the block's checksum.
fn dir_block_fields(fields: &mut Vec<Field>, m: &MemMedium, dir: &str, blk: u64) {
    let hdr = Geometry::block_off(blk);
    let seal = Seal::Crc {
        at: hdr,
        len: BLOCK_SIZE,
        crc: 8,
    };
    field(fields, &format!("dir_block[{dir}]"), hdr, seal, DIR_HEADER);
    let (mut off, mut entries) = (16, 0);
    while off < BLOCK_SIZE && entries < 3 {
        let at = hdr + off;
        if u32_at(&m.0, at as usize) != 0 {
            let name = format!("dir_entry[{dir}/{off}]");
            field(fields, &name, at, seal, DIR_ENTRY);
            entries += 1;
        }
        off += u64::from(u16_at(&m.0, at as usize + 4)).max(1);
    }
}

impl Image {
    /// Build the image: a directory of files, a file with several extents
    /// and extended attributes, a file whose extent tree has two levels, a
    /// symlink, an orphan, a journal holding a transaction's entries.
    pub fn populated() -> Image {
        let mut fs = mkfs_mount(MemMedium::new(vec![0; (BLOCKS * BLOCK_SIZE) as usize]));
        let (d, _) = fs.create(R, b"dir", attr(S_IFDIR | 0o755), at(1)).unwrap();
        let (f, _) = fs.create(d, b"file", attr(S_IFREG | 0o644), at(1)).unwrap();
        for lblk in [0, 10, 20] {
            fs.map_blocks(f, lblk, 2, true, false).unwrap();
        }
        fs.set_size(f, 22 * BLOCK_SIZE, at(2)).unwrap();
        // An access ACL of one entry (user::rw-) after two user
        // attributes.
        let acl = [2, 0, 0, 0, 1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff];
        for (ns, name, value) in [
            (Namespace::User, &b"one"[..], &b"1"[..]),
            (Namespace::User, b"two", b"22"),
            (Namespace::AclAccess, b"", &acl),
        ] {
            fs.set_xattr(f, ns, name, Some(value), SetMode::Any, at(2))
                .unwrap();
        }
        let (t, _) = fs.create(d, b"tree", attr(S_IFREG | 0o644), at(2)).unwrap();
        for i in 0..=u64::from(FANOUT) {
            fs.map_blocks(t, 2 * i, 1, true, false).unwrap();
        }
        fs.set_size(t, 600 * BLOCK_SIZE, at(2)).unwrap();
        fs.create(d, b"second", attr(S_IFREG | 0o600), at(2))
            .unwrap();
        fs.symlink(R, b"sym", b"dir/file", attr(0), at(3)).unwrap();
        let (big, _) = fs.create(R, b"big", attr(S_IFDIR | 0o755), at(3)).unwrap();
        // More names than one entry block holds (313 of 4 bytes).
        for i in 0..320 {
            let name = format!("n{i:03}");
            fs.create(big, name.as_bytes(), attr(S_IFREG | 0o644), at(3))
                .unwrap();
        }
        let (o, _) = fs
            .tmpfile(attr(S_IFREG | 0o600), &Acls::NONE, at(4))
            .unwrap();
        fs.map_blocks(o, 0, 1, true, false).unwrap();
        let g = *fs.geometry();
        let mut fields = Vec::new();
        field(
            &mut fields,
            "superblock",
            0,
            Seal::Crc {
                at: 0,
                len: 256,
                crc: 252,
            },
            SUPERBLOCK,
        );
        let backup = Geometry::block_off(g.backup_sb_block());
        let seal = Seal::Crc {
            at: backup,
            len: 256,
            crc: 252,
        };
        field(&mut fields, "backup_superblock", backup, seal, SUPERBLOCK);
        for k in 0..g.groups {
            let at = Geometry::group_off(k);
            let seal = Seal::Crc {
                at,
                len: 64,
                crc: 60,
            };
            field(&mut fields, &format!("group[{k}]"), at, seal, GROUP);
        }
        for (what, ino) in [
            ("root", R),
            ("dir", d),
            ("file", f),
            ("symlink", 0),
            ("orphan", o),
        ] {
            let ino = if ino == 0 {
                fs.lookup(R, b"sym").unwrap().unwrap().ino
            } else {
                ino
            };
            let at = g.inode_off(ino);
            let seal = Seal::Crc {
                at,
                len: INODE_SIZE,
                crc: 120,
            };
            field(&mut fields, &format!("inode[{what}]"), at, seal, INODE);
        }
        let fi = fs.read_inode(f).unwrap();
        // Entries of 8, 9 and 16 bytes after the 24-byte header.
        let xattr = Geometry::block_off(fi.xattr);
        let seal = Seal::Crc {
            at: xattr,
            len: 24 + 8 + 9 + 16,
            crc: 4,
        };
        field(&mut fields, "xattr_block", xattr, seal, XATTR_HEADER);
        for (i, off) in [24, 32, 41].into_iter().enumerate() {
            field(
                &mut fields,
                &format!("xattr_entry[{i}]"),
                xattr + off,
                seal,
                XATTR_ENTRY,
            );
        }
        field(&mut fields, "acl_value", xattr + 45, seal, ACL_VALUE);
        let ext = Geometry::block_off(fi.root);
        field(
            &mut fields,
            "extent_header",
            ext,
            header_seal(ext),
            EXTENT_HEADER,
        );
        for i in 0..3 {
            let at = ext + 16 + 16 * i;
            let seal = Seal::Extent { at, owner: f };
            field(&mut fields, &format!("extent[{i}]"), at, seal, EXTENT);
        }
        let root = Geometry::block_off(fs.read_inode(t).unwrap().root);
        index_fields(&mut fields, "extent", root, t);
        let m = fs.pm().medium();
        let leaf = Geometry::block_off(u64_at(&m.0, root as usize + 32 + 8) & ((1 << 48) - 1));
        field(
            &mut fields,
            "extent_leaf_header",
            leaf,
            header_seal(leaf),
            EXTENT_HEADER,
        );
        // "dir" is one entry block; "big" has an index over two.
        let root = fs.read_inode(d).unwrap().root;
        dir_block_fields(&mut fields, fs.pm().medium(), "dir", root);
        let index = Geometry::block_off(fs.read_inode(big).unwrap().root);
        index_fields(&mut fields, "dir", index, big);
        for i in 0..2 {
            let m = fs.pm().medium();
            let at = index + 16 + 16 * i;
            let blk = u64_at(&m.0, at as usize + 8) & ((1 << 48) - 1);
            dir_block_fields(&mut fields, m, &format!("big{i}"), blk);
        }
        // Lines of 64 bytes, 64 to a bitmap block, each with its slot.
        let data_start_word = ("data_start_word", g.data_start / 64 * 8);
        for (map, bitmap, first_line, words) in [
            ("inode", g.inode_bitmap_start, 0, data_start_word),
            (
                "block",
                g.block_bitmap_start,
                g.inode_bitmap_blocks * 64,
                data_start_word,
            ),
            (
                "orphan",
                g.orphan_bitmap_start,
                (g.inode_bitmap_blocks + g.block_bitmap_blocks) * 64,
                ("orphan_word", o / 64 * 8),
            ),
        ] {
            for (name, off) in [("first_word", 0), words] {
                let at = Geometry::block_off(bitmap) + off;
                let seal = Seal::Bitmap {
                    line: at / 64 * 64,
                    slot: Geometry::block_off(g.bitmap_crc_start) + 4 * (first_line + off / 64),
                };
                field(
                    &mut fields,
                    &format!("{map}_bitmap"),
                    at,
                    seal,
                    &[(name, 0, 8)],
                );
            }
        }
        let journal = Geometry::block_off(g.journal_start);
        field(
            &mut fields,
            "journal",
            journal,
            Seal::None,
            &[("header", 0, 8), ("closed", 16, 8)],
        );
        // The last transaction's entries and commit record, in the half of
        // the journal its sequence number picks.
        let m = fs.pm().medium();
        let seq = u64_at(&m.0, journal as usize) >> 1;
        let half_entries = (JOURNAL_BLOCKS * BLOCK_SIZE - 64) / 64 / 2;
        let entry = |i: u64| journal + 64 * (1 + (seq & 1) * half_entries + i);
        let commit = (0..half_entries)
            .find(|&i| {
                u16::from_le_bytes([m.0[entry(i) as usize + 16], m.0[entry(i) as usize + 17]])
                    == u16::MAX
            })
            .expect("the last transaction's commit record");
        for (name, at, table) in [
            ("journal_entry[0]", entry(0), JOURNAL_ENTRY),
            ("journal_entry[1]", entry(1), JOURNAL_ENTRY),
            ("journal_commit", entry(commit), JOURNAL_COMMIT),
        ] {
            let seal = Seal::Crc {
                at,
                len: 64,
                crc: 20,
            };
            field(&mut fields, name, at, seal, table);
        }
        let sym = fs.lookup(R, b"sym").unwrap().unwrap().ino;
        Image {
            medium: fs.into_medium(),
            fields,
            inodes: vec![R, d, f, sym, o],
        }
    }

    /// Every field of the image.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Every (field, value) case with `random` random values per field, in
    /// a fixed order (the same on every machine).
    pub fn cases(&self, random: usize) -> Vec<(&Field, u64)> {
        let mut seed = 0x2545_f491_4f6c_dd1d;
        self.fields
            .iter()
            .flat_map(|f| {
                self.values(f, random, &mut seed)
                    .into_iter()
                    .map(move |v| (f, v))
            })
            .collect()
    }

    /// `n` indices into [`Image::cases`] spread over every structure
    /// (round-robin; evenly when `n` is smaller than the number of
    /// structures), for a sample that covers the whole format.
    pub fn sample(cases: &[(&Field, u64)], n: usize) -> Vec<usize> {
        let mut by_structure: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, (f, _)) in cases.iter().enumerate() {
            let s = f.structure().to_string();
            match by_structure.iter_mut().find(|(name, _)| *name == s) {
                Some((_, v)) => v.push(i),
                None => by_structure.push((s, vec![i])),
            }
        }
        let structures = by_structure.len();
        (0..n)
            .map(|k| {
                // Fewer cases than structures: spread them evenly.
                let s = if n >= structures {
                    k % structures
                } else {
                    k * structures / n
                };
                let (_, idx) = &by_structure[s];
                idx[(k * 97) % idx.len()]
            })
            .collect()
    }

    /// The image with `field` set to `value` (its low `size` bytes) and its
    /// structure sealed again. Fields of the journal's entries are fuzzed
    /// with the journal marked active and not closed, so that mount checks
    /// its commit and replays them if it fails.
    pub fn with(&self, field: &Field, value: u64) -> MemMedium {
        let mut m = self.medium.clone();
        let at = field.off as usize;
        m.0[at..at + field.size].copy_from_slice(&value.to_le_bytes()[..field.size]);
        if field.name.starts_with("journal_") {
            let g = Geometry::for_blocks(BLOCKS).unwrap();
            let journal = Geometry::block_off(g.journal_start) as usize;
            let word = u64_at(&m.0, journal);
            m.0[journal..journal + 8].copy_from_slice(&(word | 1).to_le_bytes());
            m.0[journal + 16..journal + 24].fill(0);
        }
        seal(&mut m, field.seal);
        m
    }

    /// Values to try for `field`: boundaries, neighbours of the current
    /// value, device-sized numbers, metadata locations, the image's inode
    /// numbers, and `random` more.
    pub fn values(&self, field: &Field, random: usize, seed: &mut u64) -> Vec<u64> {
        let mask = if field.size == 8 {
            !0
        } else {
            (1u64 << (8 * field.size)) - 1
        };
        let mut cur = [0u8; 8];
        cur[..field.size].copy_from_slice(&self.medium.0[field.off as usize..][..field.size]);
        let cur = u64::from_le_bytes(cur);
        let g = Geometry::for_blocks(BLOCKS).unwrap();
        let mut v = vec![
            0,
            1,
            mask,
            mask >> 1,
            cur.wrapping_sub(1),
            cur.wrapping_add(1),
            BLOCKS - 1,
            BLOCKS,
            g.inode_count,
            g.journal_start,
            g.inode_table_start,
            field.off / BLOCK_SIZE,
        ];
        v.extend(&self.inodes);
        for _ in 0..random {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            v.push(*seed);
        }
        v.into_iter()
            .map(|x| x & mask)
            .filter(|&x| x != cur)
            .collect()
    }
}

fn seal(m: &mut MemMedium, seal: Seal) {
    let b = &mut m.0;
    match seal {
        Seal::Crc { at, len, crc } => {
            let (at, len, crc) = (at as usize, len as usize, crc as usize);
            put_crc(&mut b[at..at + len], crc);
        }
        Seal::Extent { at, owner } => {
            let at = at as usize;
            let mut c = [0u8; 20];
            c[..14].copy_from_slice(&b[at..at + 14]);
            c[16..].copy_from_slice(&(owner as u32).to_le_bytes());
            let check = crc32c(&c) as u16;
            b[at + 14..at + 16].copy_from_slice(&check.to_le_bytes());
        }
        Seal::Bitmap { line, slot } => {
            let at = line as usize;
            let v = crc32c(&b[at..at + 64]);
            b[slot as usize..slot as usize + 4].copy_from_slice(&v.to_le_bytes());
        }
        Seal::None => {}
    }
}

/// What happened to one fuzzed image.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Mount refused it with a corruption (or unsupported-feature) error;
    /// `repaired`: after `fsck -y` it mounts and checks clean.
    Refused {
        /// fsck -y made it whole.
        repaired: bool,
    },
    /// Mounted; walked, changed and checked without a panic. `found`:
    /// fsck reported a problem right after mount; `left`: problems remained
    /// after the operations, `fsck -y` and a remount.
    Handled {
        /// fsck saw the damage.
        found: bool,
        /// Repair did not make the image clean.
        left: bool,
    },
    /// Mount failed with something other than a format error.
    WrongError(Error),
    /// The core, fsck or repair panicked.
    Panic(String),
}

/// Mount `m`, then exercise everything that reads the media: walk, dump,
/// create, rename, readdir, map, truncate, unlink, release orphans, fsck
/// and repair. Errors are fine; a panic is the bug this looks for.
pub fn exercise(m: MemMedium) -> Outcome {
    let run = catch_unwind(AssertUnwindSafe(|| {
        let mut fs = match Fs::mount(m.clone(), MountOptions::default()) {
            Ok((fs, _)) => fs,
            Err(Error::Corrupt(_) | Error::Unsupported(_)) => {
                return Outcome::Refused {
                    repaired: !repair_leaves_problems(m),
                }
            }
            Err(e) => return Outcome::WrongError(e),
        };
        let found = !check(&fs).problems.is_empty();
        let _ = dump(&fs);
        let _ = fs.create(R, b"fuzz", attr(S_IFREG), at(5));
        let _ = fs.create(R, b"fuzzdir", attr(S_IFDIR | 0o755), at(5));
        if let Ok(Some(e)) = fs.lookup(R, b"dir") {
            let _ = fs.readdir(e.ino, 0, |_, _, _, _| true);
            let _ = fs.rename(
                e.ino,
                b"file",
                R,
                b"moved",
                Default::default(),
                attr(0),
                at(6),
            );
            let _ = fs.unlink(e.ino, b"second", at(6));
            let _ = fs.rmdir(R, b"dir", at(6));
        }
        if let Ok(Some(e)) = fs.lookup(R, b"moved") {
            let _ = fs.map_blocks(e.ino, 3, 9, true, false);
            let _ = fs.punch_range(e.ino, 1, 11);
            let _ = fs.set_size(e.ino, BLOCK_SIZE / 2, at(7));
            let _ = fs.set_xattr(
                e.ino,
                Namespace::User,
                b"one",
                Some(b"new"),
                SetMode::Any,
                at(7),
            );
            let _ = fs.set_xattr(e.ino, Namespace::User, b"two", None, SetMode::Any, at(7));
        }
        let _ = fs.unlink(R, b"sym", at(8));
        while let Ok(Some(o)) = fs.first_orphan() {
            if fs.release_inode(o).is_err() {
                break;
            }
        }
        let left = repair_leaves_problems(fs.into_medium());
        Outcome::Handled { found, left }
    }));
    run.unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Outcome::Panic(msg)
    })
}

/// Whether `fsck -y` leaves `m` unmountable or with problems a second
/// check still finds.
fn repair_leaves_problems(m: MemMedium) -> bool {
    let opts = Options {
        fix: true,
        now: at(9),
        backup_block: None,
    };
    let Ok((m, _)) = fsck(m, &opts) else {
        return true;
    };
    match Fs::mount(m, MountOptions::default()) {
        Ok((fs, _)) => !check(&fs).problems.is_empty(),
        Err(_) => true,
    }
}
