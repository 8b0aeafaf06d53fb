// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line copies of the pmem persistence primitives, which are macros or
 * static inlines in C and so cannot be called from Rust directly.
 */
#include <linux/libnvdimm.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "pmem_helpers.h"

/* Store with non-temporal moves: written back on return, not yet fenced. */
void ferrodax_memcpy_flushcache(void *dst, const void *src, size_t n)
{
	memcpy_flushcache(dst, src, n);
}

/* Order earlier write-backs before later stores (sfence on x86). */
void ferrodax_pmem_fence(void)
{
	pmem_wmb();
}

/* Machine-check safe read; returns the number of bytes NOT copied. */
unsigned long ferrodax_copy_mc(void *dst, const void *src, size_t n)
{
	return copy_mc_to_kernel(dst, src, n);
}
