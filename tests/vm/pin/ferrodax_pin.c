// SPDX-License-Identifier: GPL-2.0
/*
 * Test module for the pinned-page test (tests/vm/t/pinned-page.sh): holds
 * a GUP pin on one user page, as O_DIRECT or RDMA to a DAX mapping would,
 * until told to let go.
 *
 *   echo ADDR > /sys/kernel/debug/ferrodax_pin   pin the page at ADDR of
 *                                                 the writing process
 *   echo 0 > /sys/kernel/debug/ferrodax_pin      unpin it
 */
#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>

static DEFINE_MUTEX(pin_lock);
static struct page *pinned;
static struct dentry *pin_file;

static ssize_t pin_write(struct file *file, const char __user *buf, size_t len, loff_t *ppos)
{
	unsigned long addr;
	int ret;

	ret = kstrtoul_from_user(buf, len, 0, &addr);
	if (ret)
		return ret;
	mutex_lock(&pin_lock);
	if (pinned) {
		unpin_user_page(pinned);
		pinned = NULL;
	}
	if (addr) {
		ret = pin_user_pages_fast(addr, 1, FOLL_WRITE, &pinned);
		if (ret != 1) {
			pinned = NULL;
			ret = ret < 0 ? ret : -EFAULT;
		}
	}
	mutex_unlock(&pin_lock);
	return ret < 0 ? ret : len;
}

static const struct file_operations pin_fops = {
	.owner = THIS_MODULE,
	.write = pin_write,
};

static int __init pin_init(void)
{
	pin_file = debugfs_create_file("ferrodax_pin", 0200, NULL, NULL, &pin_fops);
	return 0;
}

static void __exit pin_exit(void)
{
	debugfs_remove(pin_file);
	if (pinned)
		unpin_user_page(pinned);
}

module_init(pin_init);
module_exit(pin_exit);
MODULE_DESCRIPTION("ferrodax test: hold a GUP pin on a user page");
MODULE_LICENSE("GPL");
