//! Host side of ferrodax: media, fsck, the crash explorer and the command
//! line tools, all over the same `ferrodax-core` the kernel module uses.

pub mod crash;
pub mod device;
pub mod dump;
pub mod fsck;
pub mod fuzz;
pub mod media;
pub mod scenarios;
pub mod testing;

/// The wall-clock time, as the tools stamp what they create.
pub fn now() -> ferrodax_core::inode::Time {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    ferrodax_core::inode::Time {
        sec: secs as i64,
        nsec: 0,
    }
}
