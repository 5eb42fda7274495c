/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zephyr/multi_heap/shared_multi_heap.h - Zephyr's shared multi-heap
 * under its own names, over hapmem's capability heaps (user regions found
 * by attribute, caps_attr_alloc).  A porting face (pkg-config
 * libhapmem-compat); Documentation/porting.rst lists every difference.
 *
 * Every function is thread-safe.  A region may be memory of a hapmem
 * block (caps_malloc, heap_caps_malloc ...): its blocks then have device
 * addresses (caps_dev_addr).
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef ZEPHYR_INCLUDE_MULTI_HEAP_MANAGER_SMH_H_
#define ZEPHYR_INCLUDE_MULTI_HEAP_MANAGER_SMH_H_

#include <stddef.h>
#include <stdint.h>

#include "hapmem_api.h"

enum shared_multi_heap_attr {
	SMH_REG_ATTR_CACHEABLE,
	SMH_REG_ATTR_NON_CACHEABLE,
	SMH_REG_ATTR_NUM,
};

#define MAX_SHARED_MULTI_HEAP_ATTR SMH_REG_ATTR_NUM

struct shared_multi_heap_region {
	uint32_t attr;
	uintptr_t addr;
	size_t size;
};

HAPMEM_BEGIN_DECLS

/* 0 the first time, -EALREADY after (the pool works without it too). */
int shared_multi_heap_pool_init(void);
/*
 * 0; -EINVAL (NULL, attribute out of range, no aligned 16 bytes);
 * -ENOMEM (MAX_MULTI_HEAPS regions of that attribute already, or the
 * library's region table full); -EEXIST (overlaps a heap without lying
 * inside one of its blocks).
 */
int shared_multi_heap_add(struct shared_multi_heap_region *region, void *user_data);
/* NULL for 0 bytes, an attribute out of range or no room. */
void *shared_multi_heap_alloc(enum shared_multi_heap_attr attr, size_t bytes);
void *shared_multi_heap_aligned_alloc(enum shared_multi_heap_attr attr, size_t align,
				      size_t bytes);
/* @ptr NULL: allocates; @bytes 0: frees, NULL; else resized or moved to @attr. */
void *shared_multi_heap_realloc(enum shared_multi_heap_attr attr, void *ptr, size_t bytes);
void shared_multi_heap_free(void *block);

HAPMEM_END_DECLS

#endif /* ZEPHYR_INCLUDE_MULTI_HEAP_MANAGER_SMH_H_ */
