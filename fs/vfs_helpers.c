// SPDX-License-Identifier: GPL-2.0
/*
 * C plumbing for the Rust VFS wrappers (see vfs_helpers.h). Each function is
 * a thin wrapper; the logic stays in Rust.
 */
#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/dax.h>
#include <linux/fileattr.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fserror.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/seq_file.h>
#include "vfs_helpers.h"

/* The inode flags (S_*) that the on-media flags (FS_*_FL) stand for. */
static unsigned int ferrodax_i_flags(u32 flags)
{
	unsigned int f = 0;

	if (flags & FS_SYNC_FL)
		f |= S_SYNC;
	if (flags & FS_IMMUTABLE_FL)
		f |= S_IMMUTABLE;
	if (flags & FS_APPEND_FL)
		f |= S_APPEND;
	if (flags & FS_NOATIME_FL)
		f |= S_NOATIME;
	if (flags & FS_DIRSYNC_FL)
		f |= S_DIRSYNC;
	return f;
}

void ferrodax_inode_fill(struct inode *inode, const struct ferrodax_iattr *a)
{
	inode_set_flags(inode, ferrodax_i_flags(a->flags),
			S_SYNC | S_IMMUTABLE | S_APPEND | S_NOATIME | S_DIRSYNC);
	inode->i_mode = a->mode;
	i_uid_write(inode, a->uid);
	i_gid_write(inode, a->gid);
	set_nlink(inode, a->nlink);
	inode->i_generation = a->generation;
	i_size_write(inode, a->size);
	inode->i_blocks = a->blocks << (PAGE_SHIFT - 9);
	inode_set_atime(inode, a->atime_sec, a->atime_nsec);
	inode_set_mtime(inode, a->mtime_sec, a->mtime_nsec);
	inode_set_ctime(inode, a->ctime_sec, a->ctime_nsec);
}

static void ferrodax_later(struct timespec64 *t, time64_t sec, long nsec)
{
	struct timespec64 other = { .tv_sec = sec, .tv_nsec = nsec };

	if (timespec64_compare(&other, t) > 0)
		*t = other;
}

/*
 * After a change committed: the attributes of @a, but of each time the
 * later one of @a and the inode's. The times that writes, faults and reads
 * set live in the inode until write_inode stores them, so they may be
 * newer than what the change read from the media.
 */
void ferrodax_inode_update(struct inode *inode, const struct ferrodax_iattr *a)
{
	struct timespec64 at = inode_get_atime(inode);
	struct timespec64 mt = inode_get_mtime(inode);
	struct timespec64 ct = inode_get_ctime(inode);

	ferrodax_later(&at, a->atime_sec, a->atime_nsec);
	ferrodax_later(&mt, a->mtime_sec, a->mtime_nsec);
	ferrodax_later(&ct, a->ctime_sec, a->ctime_nsec);
	ferrodax_inode_fill(inode, a);
	inode_set_atime_to_ts(inode, at);
	inode_set_mtime_to_ts(inode, mt);
	inode_set_ctime_to_ts(inode, ct);
}

void ferrodax_getattr_fill(struct mnt_idmap *idmap, u32 request_mask,
			   struct inode *inode, struct kstat *stat, u32 flags,
			   s64 btime_sec, u32 btime_nsec)
{
	if (flags & FS_APPEND_FL)
		stat->attributes |= STATX_ATTR_APPEND;
	if (flags & FS_IMMUTABLE_FL)
		stat->attributes |= STATX_ATTR_IMMUTABLE;
	if (flags & FS_NODUMP_FL)
		stat->attributes |= STATX_ATTR_NODUMP;
	stat->attributes_mask |= STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE |
				 STATX_ATTR_NODUMP;
	if (request_mask & STATX_BTIME) {
		stat->result_mask |= STATX_BTIME;
		stat->btime.tv_sec = btime_sec;
		stat->btime.tv_nsec = btime_nsec;
	}
	generic_fillattr(idmap, request_mask, inode, stat);
}

int ferrodax_fileattr_flags(const struct file_kattr *fa, u32 *flags)
{
	/* xflags without an FS_*_FL twin, extent sizes, project ids */
	if (fileattr_has_fsx(fa))
		return -EOPNOTSUPP;
	*flags = fa->flags;
	return 0;
}

bool ferrodax_inode_immutable(const struct inode *inode)
{
	return IS_IMMUTABLE(inode);
}

void ferrodax_inode_attrs(const struct inode *inode, struct ferrodax_iattr *a)
{
	struct timespec64 at = inode_get_atime(inode);
	struct timespec64 mt = inode_get_mtime(inode);
	struct timespec64 ct = inode_get_ctime(inode);

	a->ino = inode->i_ino;
	a->mode = inode->i_mode;
	a->uid = i_uid_read(inode);
	a->gid = i_gid_read(inode);
	a->nlink = inode->i_nlink;
	a->size = i_size_read(inode);
	a->atime_sec = at.tv_sec;
	a->atime_nsec = at.tv_nsec;
	a->mtime_sec = mt.tv_sec;
	a->mtime_nsec = mt.tv_nsec;
	a->ctime_sec = ct.tv_sec;
	a->ctime_nsec = ct.tv_nsec;
}

const unsigned char *ferrodax_dentry_name(const struct dentry *dentry, u32 *len)
{
	*len = dentry->d_name.len;
	return dentry->d_name.name;
}

struct inode *ferrodax_dentry_inode(const struct dentry *dentry)
{
	return d_inode(dentry);
}

void ferrodax_dentry_set_note(struct dentry *dentry, u64 w0, u64 w1)
{
	dentry->d_fsdata = (void *)(unsigned long)w0;
	dentry->d_time = w1;
}

bool ferrodax_dentry_take_note(struct dentry *dentry, u64 *w0, u64 *w1)
{
	if (!dentry->d_fsdata)
		return false;
	*w0 = (unsigned long)dentry->d_fsdata;
	*w1 = dentry->d_time;
	dentry->d_fsdata = NULL;
	return true;
}

bool ferrodax_dir_emit(struct dir_context *ctx, const char *name, int len, u64 ino, unsigned int type)
{
	return dir_emit(ctx, name, len, ino, type);
}

loff_t ferrodax_bdev_bytes(struct block_device *bdev)
{
	return bdev_nr_bytes(bdev);
}

int ferrodax_finish_open_simple(struct file *file, int error)
{
	return finish_open_simple(file, error);
}

void ferrodax_seq_puts(struct seq_file *m, const char *s)
{
	seq_puts(m, s);
}

/* Report a mount error to the fs_context log (fsconfig users) and dmesg. */
void ferrodax_fc_error(struct fs_context *fc, const char *msg)
{
	pr_err("ferrodax (%s): %s\n", fc->source ? fc->source : "?", msg);
	errorf(fc, "ferrodax: %s", msg);
}

/*
 * Owner and mode of a new inode in @dir, as inode_init_owner() would set
 * them, for filesystems that create the on-media inode before the VFS one.
 */
void ferrodax_new_owner(struct mnt_idmap *idmap, const struct inode *dir, umode_t *mode, u32 *uid, u32 *gid)
{
	kuid_t kuid = mapped_fsuid(idmap, i_user_ns(dir));
	kgid_t kgid;

	if (dir->i_mode & S_ISGID) {
		kgid = dir->i_gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	} else {
		kgid = mapped_fsgid(idmap, i_user_ns(dir));
	}
	if (!S_ISDIR(*mode) && (*mode & S_ISGID) && (*mode & S_IXGRP) &&
	    !in_group_or_capable(idmap, dir, make_vfsgid(idmap, i_user_ns(dir), kgid)))
		*mode &= ~S_ISGID;
	*uid = from_kuid(&init_user_ns, kuid);
	*gid = from_kgid(&init_user_ns, kgid);
}

bool ferrodax_dir_emit_dots(struct file *file, struct dir_context *ctx)
{
	return dir_emit_dots(file, ctx);
}

/* The inode slab: objects are Rust InodeBox values holding a struct inode. */
struct kmem_cache *ferrodax_inode_cache_create(const char *name, unsigned int size, unsigned int align,
					       void (*ctor)(void *))
{
	return kmem_cache_create(name, size, align, SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT, ctor);
}

/* Allocate an InodeBox on the superblock's inode LRU; returns its inode. */
struct inode *ferrodax_alloc_inode_sb(struct super_block *sb, struct kmem_cache *cache, size_t inode_offset)
{
	void *obj = alloc_inode_sb(sb, cache, GFP_KERNEL);

	return obj ? obj + inode_offset : NULL;
}

bool ferrodax_inode_is_new(struct inode *inode)
{
	return inode_state_read_once(inode) & I_NEW;
}

bool ferrodax_sb_rdonly(const struct super_block *sb)
{
	return sb_rdonly(sb);
}

bool ferrodax_bdev_read_only(const struct super_block *sb)
{
	return bdev_read_only(sb->s_bdev);
}

bool ferrodax_fc_rdonly(const struct fs_context *fc)
{
	return fc->sb_flags & SB_RDONLY;
}

void ferrodax_now(s64 *sec, u32 *nsec)
{
	struct timespec64 ts;

	ktime_get_coarse_real_ts64(&ts);
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
}

loff_t ferrodax_i_size(const struct inode *inode)
{
	return i_size_read(inode);
}

void ferrodax_set_i_size(struct inode *inode, loff_t size)
{
	i_size_write(inode, size);
}

void ferrodax_inode_set_blocks(struct inode *inode, u64 blocks)
{
	spin_lock(&inode->i_lock);
	inode->i_blocks = blocks << (PAGE_SHIFT - 9);
	spin_unlock(&inode->i_lock);
}

/* Every regular file is DAX: no page cache, the mapping holds DAX entries. */
void ferrodax_set_dax(struct inode *inode, const struct address_space_operations *aops)
{
	inode->i_flags |= S_DAX;
	inode->i_mapping->a_ops = aops;
}

/* DAX I/O is synchronous and never uses the page cache: NOWAIT and O_DIRECT
 * take the same path as any other I/O. */
int ferrodax_file_open(struct inode *inode, struct file *file)
{
	file->f_mode |= FMODE_NOWAIT | FMODE_CAN_ODIRECT;
	return generic_file_open(inode, file);
}

/* i_rwsem for a read (shared) or write (exclusive); EAGAIN for NOWAIT. */
int ferrodax_iocb_lock(struct kiocb *iocb, bool exclusive)
{
	struct inode *inode = file_inode(iocb->ki_filp);

	if (iocb->ki_flags & IOCB_NOWAIT) {
		if (exclusive ? !inode_trylock(inode) : !inode_trylock_shared(inode))
			return -EAGAIN;
		return 0;
	}
	if (exclusive)
		inode_lock(inode);
	else
		inode_lock_shared(inode);
	return 0;
}

void ferrodax_iocb_unlock(struct kiocb *iocb, bool exclusive)
{
	ferrodax_inode_unlock(file_inode(iocb->ki_filp), exclusive);
}

void ferrodax_mutex_lock_nested(struct mutex *lock, unsigned int subclass)
{
	mutex_lock_nested(lock, subclass);
}

bool ferrodax_iocb_nowait(const struct kiocb *iocb)
{
	return iocb->ki_flags & IOCB_NOWAIT;
}

size_t ferrodax_iter_count(const struct iov_iter *iter)
{
	return iov_iter_count(iter);
}

void ferrodax_inode_lock(struct inode *inode, bool exclusive)
{
	if (exclusive)
		inode_lock(inode);
	else
		inode_lock_shared(inode);
}

void ferrodax_inode_unlock(struct inode *inode, bool exclusive)
{
	if (exclusive)
		inode_unlock(inode);
	else
		inode_unlock_shared(inode);
}

bool ferrodax_inode_trylock_shared(struct inode *inode)
{
	return inode_trylock_shared(inode);
}

struct inode *ferrodax_file_inode(const struct file *file)
{
	return file_inode(file);
}

void ferrodax_file_accessed(struct file *file)
{
	file_accessed(file);
}

/* The flags argument of FS_IOC_SHUTDOWN, for CAP_SYS_ADMIN only. */
int ferrodax_shutdown_flags(unsigned long arg, u32 *flags)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (get_user(*flags, (u32 __user *)arg))
		return -EFAULT;
	return 0;
}

/* FS_IOC_GETFSLABEL: the NUL-padded label (FSLABEL_MAX bytes) to user space. */
int ferrodax_label_to_user(unsigned long arg, const char *label)
{
	if (copy_to_user((char __user *)arg, label, FSLABEL_MAX))
		return -EFAULT;
	return 0;
}

/*
 * FS_IOC_SETFSLABEL, for CAP_SYS_ADMIN: copy the new label into @label
 * (FSLABEL_MAX bytes) and take write access to the mount, as ext4 and XFS
 * do; returns the label's length, to be followed by
 * ferrodax_label_done(), or a negative errno.
 */
int ferrodax_label_from_user(struct file *file, unsigned long arg, char *label)
{
	size_t len;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(label, (char __user *)arg, FSLABEL_MAX))
		return -EFAULT;
	len = strnlen(label, FSLABEL_MAX);
	if (len == FSLABEL_MAX)
		return -EINVAL;
	ret = mnt_want_write_file(file);
	if (ret)
		return ret;
	return len;
}

void ferrodax_label_done(struct file *file)
{
	mnt_drop_write_file(file);
}

/* sync(2) for one filesystem, as syncfs(2) does it. */
void ferrodax_sync_fs_of(struct file *file)
{
	struct super_block *sb = file_inode(file)->i_sb;

	down_read(&sb->s_umount);
	sync_filesystem(sb);
	up_read(&sb->s_umount);
}

ssize_t ferrodax_generic_write_sync(struct kiocb *iocb, ssize_t count)
{
	return generic_write_sync(iocb, count);
}

/*
 * The pmem device is going away: break the layout of the superblock's
 * regular files and delete their DAX entries while the struct pages behind
 * them still exist (eviction at umount would otherwise walk entries of
 * freed pages). Under the MMAPLOCK, so no fault inserts an entry meanwhile;
 * the filesystem is already shut down, so a later fault gets SIGBUS. (The
 * inode walk is drop_pagecache_sb()'s.)
 *
 * An entry is deleted only once its page is idle, as truncate does it
 * (dax_break_layout, with @wait dropping the MMAPLOCK while it sleeps): a
 * page can still be referenced just after its unmap (dax_folio_put()
 * warned once in ten removals when the entries were deleted right after
 * unmap_mapping_range()). If the unbinding task is signalled meanwhile,
 * the entries are deleted anyway: the device goes whether or not a page of
 * it is still referenced, and its struct pages with it.
 */
void ferrodax_break_layout_all(struct super_block *sb, void (*wait)(struct inode *))
{
	struct inode *inode, *toput = NULL;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if ((inode_state_read(inode) & (I_FREEING | I_WILL_FREE | I_NEW)) ||
		    !S_ISREG(inode->i_mode)) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		__iget(inode);
		spin_unlock(&inode->i_lock);
		spin_unlock(&sb->s_inode_list_lock);

		filemap_invalidate_lock(inode->i_mapping);
		if (dax_break_layout(inode, 0, LLONG_MAX, wait))
			dax_delete_mapping_range(inode->i_mapping, 0, LLONG_MAX);
		filemap_invalidate_unlock(inode->i_mapping);
		iput(toput);
		toput = inode;

		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(toput);
}

/*
 * errors=panic: stop the machine as ext4's errors=panic does. A Rust panic
 * would only oops the current task, which may hold VFS locks.
 */
void ferrodax_panic_corrupt(const char *what, size_t len)
{
	panic("ferrodax: corrupt %.*s (errors=panic)\n", (int)len, what);
}

/*
 * A media error hit file data at pages index..index + count of @inode:
 * SIGBUS to the processes that map them (memory-failure's fsdax path, as
 * XFS calls it), and an fserror event for whoever watches the filesystem.
 * The caller holds the MMAPLOCK shared, so the blocks stay the file's.
 * Without CONFIG_MEMORY_FAILURE no media error is ever reported.
 */
int ferrodax_kill_procs(struct inode *inode, pgoff_t index, unsigned long count, int mf_flags)
{
	int ret = 0;

#ifdef CONFIG_MEMORY_FAILURE
	if (dax_mapping(inode->i_mapping))
		ret = mf_dax_kill_procs(inode->i_mapping, index, count, mf_flags);
#endif
	fserror_report_data_lost(inode, (loff_t)index << PAGE_SHIFT,
				 (u64)count << PAGE_SHIFT, GFP_NOFS);
	return ret;
}

/* A media error hit metadata: the filesystem is shut down. */
void ferrodax_report_metadata_lost(struct super_block *sb)
{
	fserror_report_metadata(sb, -EUCLEAN, GFP_NOFS);
}

void ferrodax_acl_release(struct posix_acl *acl)
{
	posix_acl_release(acl);
}

struct posix_acl *ferrodax_acl_from_xattr(const void *value, size_t size)
{
	return posix_acl_from_xattr(&init_user_ns, value, size);
}

void *ferrodax_acl_to_xattr(const struct posix_acl *acl, size_t *size)
{
	return posix_acl_to_xattr(&init_user_ns, acl, size, GFP_KERNEL);
}

bool ferrodax_is_posixacl(const struct inode *inode)
{
	return IS_POSIXACL(inode);
}

void ferrodax_sb_enable_acls(struct super_block *sb)
{
	sb->s_flags |= SB_POSIXACL;
}
