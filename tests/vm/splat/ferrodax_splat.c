// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test: provoke a lockdep report (an AB-BA lock inversion, taken
 * in one thread so nothing actually deadlocks) and leak 8 x 1 KiB. The VM
 * runner must then fail the run even though the test that loaded this module
 * "passed": on the lockdep report always, and on the leak when the VM runs
 * with kmemleak=on.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

static DEFINE_MUTEX(splat_a);
static DEFINE_MUTEX(splat_b);
/* volatile: the store and its overwrite must both happen. */
static void *volatile splat_leak;

/*
 * Not __init: the report must name it, and init text is freed. Several
 * objects: kmemleak may miss one whose address survives as a stale value
 * on some stack or in a register (seen once in make check), not all.
 */
static noinline void ferrodax_splat_leak(void)
{
	int i;

	for (i = 0; i < 8; i++)
		splat_leak = kmalloc(1024, GFP_KERNEL);
	splat_leak = NULL;
}

static int __init ferrodax_splat_init(void)
{
	ferrodax_splat_leak();

	mutex_lock(&splat_a);
	mutex_lock(&splat_b);
	mutex_unlock(&splat_b);
	mutex_unlock(&splat_a);

	mutex_lock(&splat_b);
	mutex_lock(&splat_a);
	mutex_unlock(&splat_a);
	mutex_unlock(&splat_b);
	return 0;
}

static void __exit ferrodax_splat_exit(void)
{
}

module_init(ferrodax_splat_init);
module_exit(ferrodax_splat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ferrodax harness self-test: deliberate lockdep splat and leak");
