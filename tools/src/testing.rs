//! Helpers shared by the host tests and the crash explorer.

use crate::media::MemMedium;
use ferrodax_core::fs::MountOptions;
use ferrodax_core::inode::Time;
use ferrodax_core::layout::BLOCK_SIZE;
use ferrodax_core::mkfs::{format, MkfsParams};
use ferrodax_core::namei::NewInode;
use ferrodax_core::persist::Pm;
use ferrodax_core::{Fs, Medium};

/// A deterministic timestamp.
pub fn at(sec: i64) -> Time {
    Time { sec, nsec: 123 }
}

/// Attributes for a new inode of `mode`, owned by 1000:1000.
pub fn attr(mode: u16) -> NewInode {
    NewInode {
        mode,
        uid: 1000,
        gid: 1000,
        rdev: 0,
    }
}

/// The directory hash key of every test filesystem: fixed, so that tests
/// can compute hashes (collisions, extremes) and runs repeat.
pub const HASH_SEED: [u8; 16] = *b"ferrodax testing";

/// mkfs on `medium` and mount it.
pub fn mkfs_mount<M: Medium>(medium: M) -> Fs<M> {
    let mut pm = Pm::new(medium);
    let params = MkfsParams {
        uuid: [1; 16],
        label: [0; 32],
        now: at(1),
        hash_seed: HASH_SEED,
    };
    format(&mut pm, &params).expect("mkfs");
    Fs::mount(pm.into_medium(), MountOptions::default())
        .expect("mount")
        .0
}

/// A fresh filesystem of `blocks` 4 KiB blocks in memory.
pub fn mem_fs(blocks: u64) -> Fs<MemMedium> {
    mkfs_mount(MemMedium::new(vec![0; (blocks * BLOCK_SIZE) as usize]))
}

/// Unmount and mount again.
pub fn remount<M: Medium>(fs: Fs<M>) -> Fs<M> {
    Fs::mount(fs.into_medium(), MountOptions::default())
        .expect("remount")
        .0
}
