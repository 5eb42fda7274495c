/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zephyr/sys/multi_heap.h - Zephyr's multi-heap under its own names: one
 * allocator over several sys_heaps, the heap chosen by the user's choice
 * function.  A porting face (pkg-config libhapmem-compat);
 * Documentation/porting.rst lists every difference.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef ZEPHYR_INCLUDE_SYS_MULTI_HEAP_H_
#define ZEPHYR_INCLUDE_SYS_MULTI_HEAP_H_

#include <stddef.h>

#include "sys_heap.h"

#define MAX_MULTI_HEAPS 8

struct sys_multi_heap;

/* Chooses a heap for @cfg and allocates there (sys_heap_aligned_alloc). */
typedef void *(*sys_multi_heap_fn_t)(struct sys_multi_heap *mheap, void *cfg, size_t align,
				     size_t size);

struct sys_multi_heap_rec {
	struct sys_heap *heap;
	void *user_data;
};

struct sys_multi_heap {
	unsigned int nheaps;
	sys_multi_heap_fn_t choice;
	struct sys_multi_heap_rec heaps[MAX_MULTI_HEAPS];	/* by address */
};

HAPMEM_BEGIN_DECLS

void sys_multi_heap_init(struct sys_multi_heap *heap, sys_multi_heap_fn_t choice_fn);
/* @heap must be initialised (its init_mem/init_bytes give its bounds); a
 * ninth heap is ignored. */
void sys_multi_heap_add_heap(struct sys_multi_heap *mheap, struct sys_heap *heap,
			     void *user_data);
void *sys_multi_heap_alloc(struct sys_multi_heap *mheap, void *cfg, size_t bytes);
void *sys_multi_heap_aligned_alloc(struct sys_multi_heap *mheap, void *cfg, size_t align,
				   size_t bytes);
/* The heap holding @addr, or NULL. */
const struct sys_multi_heap_rec *sys_multi_heap_get_heap(const struct sys_multi_heap *mheap,
							 void *addr);
/* NULL and addresses of no heap are ignored. */
void sys_multi_heap_free(struct sys_multi_heap *mheap, void *block);
/*
 * In the block's own heap first (in place or moved there), else a block
 * from the choice function for @cfg, the bytes copied.  @ptr NULL:
 * allocates; @bytes 0: frees, NULL.
 */
void *sys_multi_heap_aligned_realloc(struct sys_multi_heap *mheap, void *cfg, void *ptr,
				     size_t align, size_t bytes);
void *sys_multi_heap_realloc(struct sys_multi_heap *mheap, void *cfg, void *ptr, size_t bytes);

HAPMEM_END_DECLS

#endif /* ZEPHYR_INCLUDE_SYS_MULTI_HEAP_H_ */
