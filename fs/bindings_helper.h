/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers whose declarations ferrodax needs and the kernel's `bindings`
 * crate (rust/bindings/bindings_helper.h) does not include. See Kbuild for
 * the allowlist.
 */
#include <linux/crc32.h>
#include <linux/dax.h>
#include <linux/fileattr.h>
#include <linux/filelock.h>
#include <linux/iomap.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/libnvdimm.h>
#include "../mm/pmem_helpers.h"
#include "../mm/fault_helpers.h"
#include "../fs/vfs_helpers.h"
#include <linux/statfs.h>
#include <linux/xattr.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
