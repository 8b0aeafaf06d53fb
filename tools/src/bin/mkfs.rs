//! mkfs.ferrodax: make a ferrodax filesystem on a pmem device or image.

use ferrodax_core::layout::{Geometry, BLOCK_SIZE};
use ferrodax_core::mkfs::{format, MkfsParams};
use ferrodax_core::persist::Pm;
use ferrodax_core::MediumRead;
use ferrodax_tools::device::{self, mount_point, parse_uuid, uuid_string};
use std::io::{BufRead, Write};
use std::process::exit;

const USAGE: &str =
    "usage: mkfs.ferrodax [-f] [-n] [-q] [-L label] [-U uuid] [-E incompat=BIT] device";

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("mkfs.ferrodax: {msg}");
    exit(1)
}

/// Name of a filesystem already on the device, if any.
fn existing_fs(m: &impl MediumRead) -> Option<&'static str> {
    let mut b = [0u8; 2048];
    m.read(0, &mut b[..(m.len() as usize).min(2048)]).ok()?;
    if &b[..8] == b"FERRODAX" {
        Some("ferrodax")
    } else if &b[..4] == b"XFSB" {
        Some("xfs")
    } else if b[1080..1082] == [0x53, 0xef] {
        Some("ext2/3/4")
    } else {
        None
    }
}

fn main() {
    let (mut force, mut dry, mut quiet) = (false, false, false);
    let mut label = [0u8; 32];
    let mut uuid = None;
    let mut incompat = 0u64;
    let mut dev = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--" => {}
            "-f" => force = true,
            "-n" => dry = true,
            "-q" => quiet = true,
            "-L" => {
                let l = args.next().unwrap_or_else(|| fail(USAGE));
                if l.len() > 32 {
                    fail("label longer than 32 bytes");
                }
                label[..l.len()].copy_from_slice(l.as_bytes());
            }
            "-U" => {
                let u = args.next().unwrap_or_else(|| fail(USAGE));
                uuid = Some(parse_uuid(&u).unwrap_or_else(|| fail(format!("bad UUID '{u}'"))));
            }
            "-E" => {
                // Testing knob: mark the image as using an unknown
                // incompatible feature, to check that mount refuses it.
                let e = args.next().unwrap_or_else(|| fail(USAGE));
                let bit: u32 = e
                    .strip_prefix("incompat=")
                    .and_then(|b| b.parse().ok())
                    .filter(|&b| b < 64)
                    .unwrap_or_else(|| fail(format!("bad -E '{e}' (incompat=BIT, BIT < 64)")));
                incompat |= 1 << bit;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            s if s.starts_with('-') => fail(format!("unknown option {s}\n{USAGE}")),
            s if dev.is_none() => dev = Some(s.to_string()),
            _ => fail(USAGE),
        }
    }
    let dev = dev.unwrap_or_else(|| fail(USAGE));
    if let Some(mnt) = mount_point(&dev) {
        fail(format!(
            "{dev} is mounted on {mnt}; will not make a filesystem here"
        ));
    }
    let medium = device::open(&dev, !dry).unwrap_or_else(|e| fail(format!("{dev}: {e}")));
    let blocks = medium.len() / BLOCK_SIZE;
    let geo = Geometry::for_blocks(blocks).unwrap_or_else(|e| {
        fail(format!(
            "{dev}: {} bytes is not a usable size ({e}); need 4 MiB to 8 TiB",
            medium.len()
        ))
    });
    if !dry && !force {
        if let Some(kind) = existing_fs(&medium) {
            // On standard output, as mke2fs asks: fstests keeps a test's
            // standard error in its output and `yes |` answers.
            print!("{dev} contains a {kind} filesystem\nProceed anyway? (y,N) ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
            if !line.trim_start().starts_with(['y', 'Y']) {
                fail("aborted");
            }
        }
    }
    let uuid = uuid.unwrap_or_else(|| device::random_bytes().unwrap_or_else(|e| fail(e)));
    if !quiet {
        println!(
            "ferrodax: {dev}: {} blocks of {} bytes ({} MiB), {} inodes, journal {} areas of {} blocks, data from block {}",
            geo.total_blocks,
            BLOCK_SIZE,
            (geo.total_blocks * BLOCK_SIZE) >> 20,
            geo.inode_count,
            ferrodax_core::layout::JOURNAL_AREAS,
            ferrodax_core::layout::JOURNAL_BLOCKS,
            geo.data_start
        );
        println!("ferrodax: uuid {}", uuid_string(&uuid));
    }
    if dry {
        return;
    }
    let params = MkfsParams {
        uuid,
        label,
        now: ferrodax_tools::now(),
        hash_seed: device::random_bytes().unwrap_or_else(|e| fail(e)),
    };
    let mut pm = Pm::new(medium);
    let mut sb = format(&mut pm, &params).unwrap_or_else(|e| fail(format!("{dev}: {e}")));
    if incompat != 0 {
        sb.incompat |= incompat;
        let raw = sb.encode();
        for off in [0, Geometry::block_off(sb.geo.backup_sb_block())] {
            let f = pm
                .persist(off, &raw)
                .unwrap_or_else(|e| fail(format!("{dev}: {e}")));
            pm.fence(f);
        }
    }
    pm.into_medium()
        .sync()
        .unwrap_or_else(|e| fail(format!("{dev}: {e}")));
}
