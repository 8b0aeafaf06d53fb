//! fsck.ferrodax: check (and repair) a ferrodax filesystem.
//!
//! Exit codes as e2fsck: 0 clean, 1 errors corrected, 4 errors left,
//! 8 operational error, 16 usage error.

use ferrodax_core::fs::MountOptions;
use ferrodax_core::layout::{Geometry, Superblock, BLOCK_SIZE, SB_SIZE};
use ferrodax_core::persist::Pm;
use ferrodax_core::{Fs, Medium};
use ferrodax_tools::device::{self, mount_point};
use ferrodax_tools::fsck::{check, repair, Report};
use ferrodax_tools::media::{CowMedium, FileMedium};
use std::process::exit;

const USAGE: &str = "usage: fsck.ferrodax [-n | -y | -p | -a] [-f] [-v] device";
const CLEAN: i32 = 0;
const CORRECTED: i32 = 1;
const UNCORRECTED: i32 = 4;
const OPERATIONAL: i32 = 8;

fn fail(code: i32, msg: impl std::fmt::Display) -> ! {
    eprintln!("fsck.ferrodax: {msg}");
    exit(code)
}

/// Superblock from the primary copy, or from the backup in the device's last
/// block when the primary is damaged (then the error names the primary).
fn superblock(m: &FileMedium) -> (Result<Superblock, String>, Option<Superblock>) {
    let read = |off: u64| {
        let mut b = [0u8; SB_SIZE];
        m.read(off, &mut b).map_err(|e| e.to_string())?;
        Superblock::decode(&b).map_err(|e| e.to_string())
    };
    let primary = read(0);
    let backup = match &primary {
        Ok(_) => None,
        Err(_) => read(m.len() / BLOCK_SIZE * BLOCK_SIZE - BLOCK_SIZE).ok(),
    };
    (primary, backup)
}

fn run_check(m: &FileMedium, verbose: bool) -> Result<(Report, bool, CowPages), String> {
    let (fs, mount) =
        Fs::mount(CowMedium::new(m), MountOptions::default()).map_err(|e| e.to_string())?;
    if mount.rolled_back {
        println!("journal: rolled back an interrupted transaction");
    }
    if mount.orphans > 0 {
        println!(
            "orphans: released {} unlinked or truncated inodes",
            mount.orphans
        );
    }
    let report = check(&fs);
    if verbose {
        let c = fs.counters();
        println!(
            "{} inodes ({} directories), {} blocks used, {} free",
            report.inodes, report.dirs, report.used_blocks, c.free_blocks
        );
    }
    let recovered = mount.rolled_back || mount.orphans > 0;
    let sb = *fs.superblock();
    let mut pm = Pm::new(fs.into_medium());
    if report.problems.iter().any(|p| p.fix.is_some()) {
        repair(&mut pm, &sb, &report).map_err(|e| e.to_string())?;
    }
    let pages = pm
        .into_medium()
        .changed_pages()
        .map(|(o, b)| (o, b.to_vec()))
        .collect();
    Ok((report, recovered, pages))
}

type CowPages = Vec<(u64, Vec<u8>)>;

fn main() {
    let (mut fix, mut verbose, mut dev) = (None, false, None);
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "-n" => fix = Some(false),
            "-y" | "-p" | "-a" => fix = Some(true),
            "-f" => {}
            "-v" => verbose = true,
            "-h" | "--help" => fail(16, USAGE),
            s if s.starts_with('-') => fail(16, format!("unknown option {s}\n{USAGE}")),
            s if dev.is_none() => dev = Some(s.to_string()),
            _ => fail(16, USAGE),
        }
    }
    let dev = dev.unwrap_or_else(|| fail(16, USAGE));
    let fix = fix.unwrap_or(false);
    if let Some(mnt) = mount_point(&dev) {
        if fix {
            fail(
                OPERATIONAL,
                format!("{dev} is mounted on {mnt}: will not repair a mounted filesystem"),
            );
        }
        eprintln!("fsck.ferrodax: warning: {dev} is mounted on {mnt}; results may be stale");
    }
    let mut m =
        device::open(&dev, fix).unwrap_or_else(|e| fail(OPERATIONAL, format!("{dev}: {e}")));

    let mut code = CLEAN;
    let (primary, backup) = superblock(&m);
    if let Err(why) = &primary {
        match backup {
            Some(sb) if fix => {
                println!("primary superblock: {why}; restoring it from the backup");
                let mut pm = Pm::new(m);
                let f = pm
                    .persist(0, &sb.encode())
                    .unwrap_or_else(|e| fail(OPERATIONAL, e));
                pm.fence(f);
                m = pm.into_medium();
                code = CORRECTED;
            }
            Some(_) => fail(
                UNCORRECTED,
                format!("{dev}: primary superblock: {why} (a good backup exists: run with -y)"),
            ),
            None => fail(UNCORRECTED, format!("{dev}: {why}")),
        }
    }
    let (report, recovered, pages) = run_check(&m, verbose)
        .unwrap_or_else(|e| fail(UNCORRECTED, format!("{dev}: cannot check: {e}")));
    for p in &report.problems {
        let how = match (&p.fix, fix) {
            (Some(_), true) => "fixed",
            (Some(_), false) => "fixable with -y",
            (None, _) => "NOT fixable",
        };
        println!("{dev}: {} [{how}]", p.what);
    }
    if report.problems.iter().any(|p| p.fix.is_none()) {
        code = UNCORRECTED;
    } else if !report.problems.is_empty() {
        code = if fix {
            code.max(CORRECTED)
        } else {
            UNCORRECTED
        };
    }
    if fix && (recovered || !report.problems.is_empty()) {
        for (off, page) in &pages {
            let n = (page.len() as u64).min(m.len() - off) as usize;
            m.store(*off, &page[..n]);
        }
        m.sync()
            .unwrap_or_else(|e| fail(OPERATIONAL, format!("{dev}: {e}")));
    }
    if code == CLEAN {
        let g: Geometry = primary
            .map(|s| s.geo)
            .unwrap_or_else(|_| backup.unwrap().geo);
        println!(
            "{dev}: clean, {}/{} inodes, {}/{} blocks",
            report.inodes, g.inode_count, report.used_blocks, g.total_blocks
        );
    }
    exit(code)
}
