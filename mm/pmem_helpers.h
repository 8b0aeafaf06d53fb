/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FERRODAX_PMEM_HELPERS_H
#define FERRODAX_PMEM_HELPERS_H

#include <linux/types.h>

void ferrodax_memcpy_flushcache(void *dst, const void *src, size_t n);
void ferrodax_pmem_fence(void);
unsigned long ferrodax_copy_mc(void *dst, const void *src, size_t n);

#endif
