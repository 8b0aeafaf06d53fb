//! First-touch write faults over a sparse file: every 4 KiB page of a
//! `mib`-MiB hole is written once through a shared mapping, first with the
//! mapping 2 MiB aligned (so the filesystem can answer with PMD mappings),
//! then deliberately 4 KiB off (so it cannot). Reports the pages touched per
//! second and the faults taken (from getrusage, minor plus major: DAX counts
//! a fault that allocated as major): a PMD-mapped run takes about one fault
//! per 2 MiB, a 4 KiB-mapped one one per page.

use crate::util::{ok, report};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Instant;

const PAGE: usize = 4096;
const PMD: usize = 2 << 20;

fn page_faults() -> i64 {
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `rusage` for the call to fill.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(rc, 0, "getrusage");
    ru.ru_minflt + ru.ru_majflt
}

/// Maps `len` bytes of `fd` shared and writable at an address that is
/// `misalign` bytes past a 2 MiB boundary, calls `touch` with it, unmaps.
fn with_mapping(fd: i32, len: usize, misalign: usize, touch: impl FnOnce(*mut u8)) {
    let reserve = len + 2 * PMD;
    // SAFETY: an anonymous PROT_NONE reservation at an address of the
    // kernel's choosing touches no existing mapping.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            reserve,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(
        base,
        libc::MAP_FAILED,
        "mmap reserve: {}",
        io::Error::last_os_error()
    );
    let addr = (base as usize).next_multiple_of(PMD) + misalign;
    // SAFETY: [addr, addr + len) lies inside the reservation made above,
    // which this function owns, so MAP_FIXED replaces nothing else.
    let map = unsafe {
        libc::mmap(
            addr as *mut libc::c_void,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_FIXED,
            fd,
            0,
        )
    };
    assert_ne!(
        map,
        libc::MAP_FAILED,
        "mmap file: {}",
        io::Error::last_os_error()
    );
    touch(map.cast());
    // SAFETY: `base`/`reserve` is exactly the reservation made above; the
    // file mapping inside it is ours too and no reference into it survives.
    let rc = unsafe { libc::munmap(base, reserve) };
    assert_eq!(rc, 0, "munmap");
}

pub(crate) fn run(dir: &Path, mib: usize) {
    let len = mib << 20;
    for (label, misalign) in [("aligned", 0), ("unaligned", PAGE)] {
        let path = dir.join(format!("faults-{label}"));
        let f = ok(
            path.display(),
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path),
        );
        ok("ftruncate", f.set_len(len as u64));
        let faults_before = page_faults();
        let start = Instant::now();
        with_mapping(f.as_raw_fd(), len, misalign, |map| {
            for off in (0..len).step_by(PAGE) {
                // SAFETY: `off < len`, so the store is inside the mapping,
                // which is shared and writable.
                unsafe { map.add(off).write_volatile(1) };
            }
        });
        let secs = start.elapsed().as_secs_f64();
        let faults = page_faults() - faults_before;
        let pages = len / PAGE;
        report(
            &format!("faults.{label}.pages"),
            pages as f64 / secs,
            "pages/s",
        );
        report(&format!("faults.{label}.faults"), faults as f64, "faults");
        // One fault per 2 MiB means PMD mappings; one per page means none.
        let pmd = (faults as usize) < pages / 64;
        report(
            &format!("faults.{label}.pmd"),
            f64::from(u8::from(pmd)),
            "bool",
        );
        drop(f);
        ok("unlink", fs::remove_file(&path));
    }
}
