/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Static inlines and macros of the fault path, the MMAPLOCK and mmap setup,
 * out of line for Rust (mm/fault.rs, mm/mmaplock.rs).
 */
#ifndef FERRODAX_FAULT_HELPERS_H
#define FERRODAX_FAULT_HELPERS_H

#include <linux/fs.h>
#include <linux/mm.h>

struct dax_device;

void ferrodax_invalidate_lock(struct inode *inode);
void ferrodax_invalidate_unlock(struct inode *inode);
void ferrodax_invalidate_lock_shared(struct inode *inode);
void ferrodax_invalidate_unlock_shared(struct inode *inode);
void ferrodax_invalidate_assert_held_exclusive(struct inode *inode);

struct inode *ferrodax_fault_inode(struct vm_fault *vmf, bool *shared_write);
void ferrodax_fault_start_write(struct vm_fault *vmf);
void ferrodax_fault_end_write(struct vm_fault *vmf);
bool ferrodax_fault_needs_dsync(vm_fault_t result);

int ferrodax_mmap_prepare(struct vm_area_desc *desc, struct dax_device *dax_dev,
			  const struct vm_operations_struct *vm_ops);

#endif
