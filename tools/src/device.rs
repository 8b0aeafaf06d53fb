//! Opening devices and images for the tools.

use crate::media::FileMedium;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::path::Path;

/// Open a block device or image file; returns the medium.
pub fn open(path: &str, write: bool) -> std::io::Result<FileMedium> {
    let mut file = OpenOptions::new().read(true).write(write).open(path)?;
    // Block devices report size 0 in metadata: seek to the end instead.
    let len = file.seek(SeekFrom::End(0))?;
    Ok(FileMedium::new(file, len))
}

/// Where `dev` is mounted, if it is (by comparing /proc/mounts sources).
pub fn mount_point(dev: &str) -> Option<String> {
    let want = std::fs::canonicalize(dev).ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let (src, dir) = (f.next()?, f.next()?);
        (Path::new(src).starts_with("/") && std::fs::canonicalize(src).ok()? == want)
            .then(|| dir.to_string())
    })
}

/// Random bytes from the kernel.
pub fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    use std::io::Read;
    let mut b = [0u8; N];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b)
}

/// Format a UUID.
pub fn uuid_string(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Parse a UUID written with or without dashes.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: String = s.chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut u = [0u8; 16];
    for (i, b) in u.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(u)
}
