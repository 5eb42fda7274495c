/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: page size arithmetic with overflow checks.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_PAGESIZE_H
#define HAPMEM_LIB_PAGESIZE_H

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

static inline size_t hm_page_size(void)
{
	/* glibc answers from a value cached at start-up: no system call */
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* *out = @len rounded up to a page; -1 when that overflows a size_t. */
static inline int hm_page_align_up(size_t len, size_t *out)
{
	size_t pg = hm_page_size();

	if (len > SIZE_MAX - (pg - 1))
		return -1;
	*out = (len + pg - 1) & ~(pg - 1);
	return 0;
}

static inline int hm_page_aligned(uint64_t v)
{
	return (v & (hm_page_size() - 1)) == 0;
}

#endif /* HAPMEM_LIB_PAGESIZE_H */
