// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test: provoke a lockdep report (an AB-BA lock inversion, taken
 * in one thread so nothing actually deadlocks). The VM runner must then fail
 * the run even though the test that loaded this module "passed".
 */
#include <linux/module.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(splat_a);
static DEFINE_MUTEX(splat_b);

static int __init ferrodax_splat_init(void)
{
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
MODULE_DESCRIPTION("ferrodax harness self-test: deliberate lockdep splat");
