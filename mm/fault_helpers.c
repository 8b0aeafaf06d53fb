// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line copies of the fault path's static inlines (see
 * fault_helpers.h). No policy here: the lock rules live in mm/fault.rs and
 * mm/mmaplock.rs.
 */
#include <linux/dax.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include "fault_helpers.h"

void ferrodax_invalidate_lock(struct inode *inode)
{
	filemap_invalidate_lock(inode->i_mapping);
}

void ferrodax_invalidate_unlock(struct inode *inode)
{
	filemap_invalidate_unlock(inode->i_mapping);
}

void ferrodax_invalidate_lock_shared(struct inode *inode)
{
	filemap_invalidate_lock_shared(inode->i_mapping);
}

void ferrodax_invalidate_unlock_shared(struct inode *inode)
{
	filemap_invalidate_unlock_shared(inode->i_mapping);
}

void ferrodax_invalidate_assert_held_exclusive(struct inode *inode)
{
	lockdep_assert_held_write(&inode->i_mapping->invalidate_lock);
}

/*
 * The inode behind a fault, and whether the fault writes through a shared
 * mapping (a MAP_PRIVATE write fault only reads the file: the copy goes to
 * an anonymous page, as ext4_dax_huge_fault explains).
 */
struct inode *ferrodax_fault_inode(struct vm_fault *vmf, bool *shared_write)
{
	*shared_write = (vmf->flags & FAULT_FLAG_WRITE) &&
			(vmf->vma->vm_flags & VM_SHARED);
	return file_inode(vmf->vma->vm_file);
}

/* Freeze protection and timestamps of a write fault, before the MMAPLOCK. */
void ferrodax_fault_start_write(struct vm_fault *vmf)
{
	sb_start_pagefault(file_inode(vmf->vma->vm_file)->i_sb);
	file_update_time(vmf->vma->vm_file);
}

void ferrodax_fault_end_write(struct vm_fault *vmf)
{
	sb_end_pagefault(file_inode(vmf->vma->vm_file)->i_sb);
}

bool ferrodax_fault_needs_dsync(vm_fault_t result)
{
	return result & VM_FAULT_NEEDDSYNC;
}

/*
 * ->mmap_prepare of a DAX file: MAP_SYNC only where the DAX device can
 * make CPU stores durable by flushing, huge pages wherever they fit.
 */
int ferrodax_mmap_prepare(struct vm_area_desc *desc, struct dax_device *dax_dev,
			  const struct vm_operations_struct *vm_ops)
{
	if (!daxdev_mapping_supported(desc, file_inode(desc->file), dax_dev))
		return -EOPNOTSUPP;
	file_accessed(desc->file);
	desc->vm_ops = vm_ops;
	vma_desc_set_flags(desc, VMA_HUGEPAGE_BIT);
	return 0;
}
