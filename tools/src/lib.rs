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
