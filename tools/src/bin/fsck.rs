//! fsck.ferrodax: check (and repair) a ferrodax filesystem.
//!
//! Exit codes as e2fsck: 0 clean, 1 errors corrected, 4 errors left,
//! 8 operational error, 16 usage error.

use ferrodax_core::{Medium, MediumRead};
use ferrodax_tools::device::{self, mount_point};
use ferrodax_tools::fsck::{fsck, Options, Outcome};
use ferrodax_tools::media::{CowMedium, FileMedium};
use std::process::exit;

const USAGE: &str = "usage: fsck.ferrodax [-n | -y | -p | -a] [-f] [-v] [-b block] device";
const CLEAN: i32 = 0;
const CORRECTED: i32 = 1;
const UNCORRECTED: i32 = 4;
const OPERATIONAL: i32 = 8;

fn fail(code: i32, msg: impl std::fmt::Display) -> ! {
    eprintln!("fsck.ferrodax: {msg}");
    exit(code)
}

/// Check (and with `fix` repair) through a copy-on-write view of the
/// device; returns what was found and the pages to write back.
fn run_check(m: &FileMedium, opts: &Options, verbose: bool) -> Result<(Outcome, CowPages), String> {
    let (cow, out) = fsck(CowMedium::new(m), opts).map_err(|e| e.to_string())?;
    if out.mount.rolled_back {
        println!("journal: rolled back an interrupted transaction");
    }
    if out.mount.orphans > 0 {
        println!(
            "orphans: released {} unlinked or truncated inodes",
            out.mount.orphans
        );
    }
    if verbose {
        let r = &out.last;
        println!(
            "{} passes; {} inodes ({} directories), {} blocks used",
            out.passes.len(),
            r.inodes,
            r.dirs,
            r.used_blocks
        );
    }
    let pages = cow.changed_pages().map(|(o, b)| (o, b.to_vec())).collect();
    Ok((out, pages))
}

type CowPages = Vec<(u64, Vec<u8>)>;

fn main() {
    let (mut fix, mut verbose, mut dev, mut backup_block) = (None, false, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-n" => fix = Some(false),
            "-y" | "-p" | "-a" => fix = Some(true),
            "-f" => {}
            "-v" => verbose = true,
            // As e2fsck -b: the backup superblock is elsewhere (a
            // filesystem smaller than its device keeps it in its own
            // last block).
            "-b" => {
                let n = args.next().and_then(|b| b.parse().ok());
                backup_block = Some(n.unwrap_or_else(|| fail(16, USAGE)));
            }
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
    let opts = Options {
        fix,
        now: ferrodax_tools::now(),
        backup_block,
    };
    let (out, pages) = run_check(&m, &opts, verbose)
        .unwrap_or_else(|e| fail(UNCORRECTED, format!("{dev}: cannot check: {e}")));
    let left = out.left();
    let mut printed = std::collections::HashSet::new();
    // A problem left for a later pass is found again there: print it once.
    for p in out
        .passes
        .iter()
        .flatten()
        .filter(|p| printed.insert(&p.what))
    {
        let still = left.iter().any(|l| l.what == p.what);
        let how = match (&p.fix, fix) {
            (None, _) => "NOT fixable",
            (Some(_), true) if still => "NOT fixed",
            (Some(_), true) => "fixed",
            (Some(_), false) => "fixable with -y",
        };
        println!("{dev}: {} [{how}]", p.what);
    }
    let found = out.passes.iter().any(|p| !p.is_empty());
    if !left.is_empty() || (found && !fix) {
        code = UNCORRECTED;
    } else if found {
        code = code.max(CORRECTED);
    }
    let recovered = out.mount.rolled_back || out.mount.orphans > 0;
    if fix && (recovered || found) {
        for (off, page) in &pages {
            let n = (page.len() as u64).min(m.len() - off) as usize;
            m.store(*off, &page[..n]);
        }
        m.sync()
            .unwrap_or_else(|e| fail(OPERATIONAL, format!("{dev}: {e}")));
    }
    if code == CLEAN {
        let r = &out.last;
        println!(
            "{dev}: clean, {}/{} inodes, {}/{} blocks",
            r.inodes, r.geometry.inode_count, r.used_blocks, r.geometry.total_blocks
        );
    }
    exit(code)
}
