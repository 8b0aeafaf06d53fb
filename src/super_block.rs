// SPDX-License-Identifier: GPL-2.0
//! The ferrodax filesystem type.

use crate::vfs::fs_type::{FileSystem, FsContext};
use kernel::prelude::*;

/// The ferrodax filesystem type.
pub(crate) struct FerrodaxFs;

impl FileSystem for FerrodaxFs {
    const NAME: &'static CStr = c"ferrodax";

    fn init_fs_context(_fc: &mut FsContext) -> Result {
        pr_err!("mounting is not implemented in this build\n");
        Err(EOPNOTSUPP)
    }
}
