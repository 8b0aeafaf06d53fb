/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C plumbing for the Rust VFS wrappers: what is a static inline or a macro
 * in the kernel headers, or is easier to express as one flat struct copy.
 */
#ifndef FERRODAX_VFS_HELPERS_H
#define FERRODAX_VFS_HELPERS_H

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/seq_file.h>

struct posix_acl;

/* Inode attributes as the ferrodax core stores them. */
struct ferrodax_iattr {
	u64 ino;
	u32 mode;
	u32 uid;
	u32 gid;
	u32 nlink;
	u32 generation;
	u64 size;
	u64 blocks;		/* 4 KiB blocks */
	u64 rdev;		/* device nodes: new_encode_dev() value */
	s64 atime_sec, mtime_sec, ctime_sec;
	u32 atime_nsec, mtime_nsec, ctime_nsec;
	u32 flags;		/* FS_*_FL (chattr), those the core defines */
	s64 btime_sec;		/* birth time (statx) */
	u32 btime_nsec;
};

/*
 * getattr: generic_fillattr() plus what the inode has no field for: the
 * statx attributes of the FS_*_FL @flags and the birth time.
 */
void ferrodax_getattr_fill(struct mnt_idmap *idmap, u32 request_mask,
			   struct inode *inode, struct kstat *stat, u32 flags,
			   s64 btime_sec, u32 btime_nsec);

struct file_kattr;
/* The FS_*_FL flags of a FS_IOC_SETFLAGS or FS_IOC_FSSETXATTR. */
int ferrodax_fileattr_flags(const struct file_kattr *fa, u32 *flags);
bool ferrodax_inode_immutable(const struct inode *inode);

/* mutex_lock_nested() is a macro without CONFIG_DEBUG_LOCK_ALLOC. */
void ferrodax_mutex_lock_nested(struct mutex *lock, unsigned int subclass);

void ferrodax_inode_fill(struct inode *inode, const struct ferrodax_iattr *a);
void ferrodax_inode_update(struct inode *inode, const struct ferrodax_iattr *a);
/* All but flags and btime, which setattr and write_inode never change. */
void ferrodax_inode_attrs(const struct inode *inode, struct ferrodax_iattr *a);
const unsigned char *ferrodax_dentry_name(const struct dentry *dentry, u32 *len);
struct inode *ferrodax_dentry_inode(const struct dentry *dentry);
/*
 * The two words a lookup that did not find a name leaves in its negative
 * dentry (d_fsdata and d_time, the filesystem's own) for the create that
 * fills it; @w0 is never 0, and a dentry holds none while d_fsdata is NULL.
 */
void ferrodax_dentry_set_note(struct dentry *dentry, u64 w0, u64 w1);
bool ferrodax_dentry_take_note(struct dentry *dentry, u64 *w0, u64 *w1);
bool ferrodax_dir_emit(struct dir_context *ctx, const char *name, int len, u64 ino, unsigned int type);
loff_t ferrodax_bdev_bytes(struct block_device *bdev);
int ferrodax_finish_open_simple(struct file *file, int error);
void ferrodax_seq_puts(struct seq_file *m, const char *s);
void ferrodax_fc_error(struct fs_context *fc, const char *msg);
void ferrodax_new_owner(struct mnt_idmap *idmap, const struct inode *dir, umode_t *mode, u32 *uid, u32 *gid);
bool ferrodax_dir_emit_dots(struct file *file, struct dir_context *ctx);
struct kmem_cache *ferrodax_inode_cache_create(const char *name, unsigned int size, unsigned int align,
					       void (*ctor)(void *));
struct inode *ferrodax_alloc_inode_sb(struct super_block *sb, struct kmem_cache *cache, size_t inode_offset);
bool ferrodax_inode_is_new(struct inode *inode);
void ferrodax_now(s64 *sec, u32 *nsec);
bool ferrodax_sb_rdonly(const struct super_block *sb);
bool ferrodax_bdev_read_only(const struct super_block *sb);
bool ferrodax_fc_rdonly(const struct fs_context *fc);

/* The data path (fs/file.rs, fs/inode_ref.rs). */
loff_t ferrodax_i_size(const struct inode *inode);
void ferrodax_set_i_size(struct inode *inode, loff_t size);
void ferrodax_inode_set_blocks(struct inode *inode, u64 blocks);
void ferrodax_set_dax(struct inode *inode, const struct address_space_operations *aops);
int ferrodax_file_open(struct inode *inode, struct file *file);
int ferrodax_iocb_lock(struct kiocb *iocb, bool exclusive);
void ferrodax_iocb_unlock(struct kiocb *iocb, bool exclusive);
bool ferrodax_iocb_nowait(const struct kiocb *iocb);
size_t ferrodax_iter_count(const struct iov_iter *iter);
void ferrodax_inode_lock(struct inode *inode, bool exclusive);
void ferrodax_inode_unlock(struct inode *inode, bool exclusive);
bool ferrodax_inode_trylock_shared(struct inode *inode);
struct inode *ferrodax_file_inode(const struct file *file);
void ferrodax_file_accessed(struct file *file);

/* FS_IOC_SHUTDOWN (fs/ioctl.rs). */
int ferrodax_shutdown_flags(unsigned long arg, u32 *flags);
int ferrodax_label_to_user(unsigned long arg, const char *label);
int ferrodax_label_from_user(struct file *file, unsigned long arg, char *label);
void ferrodax_label_done(struct file *file);
void ferrodax_sync_fs_of(struct file *file);
ssize_t ferrodax_generic_write_sync(struct kiocb *iocb, ssize_t count);
void ferrodax_break_layout_all(struct super_block *sb, void (*wait)(struct inode *));
void __noreturn ferrodax_panic_corrupt(const char *what, size_t len);

/* Media errors under a mounted filesystem (fs/media_error.rs). */
int ferrodax_kill_procs(struct inode *inode, pgoff_t index, unsigned long count, int mf_flags);
void ferrodax_report_metadata_lost(struct super_block *sb);

/* POSIX ACLs (fs/acl.rs): stored in the initial user namespace's ids. */
void ferrodax_acl_release(struct posix_acl *acl);
struct posix_acl *ferrodax_acl_from_xattr(const void *value, size_t size);
void *ferrodax_acl_to_xattr(const struct posix_acl *acl, size_t *size);
bool ferrodax_is_posixacl(const struct inode *inode);
void ferrodax_sb_enable_acls(struct super_block *sb);

#endif
