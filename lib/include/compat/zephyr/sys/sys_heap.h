/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * zephyr/sys/sys_heap.h - Zephyr's sys_heap under its own names, over
 * hapmem's allocator core.  A porting face: code written for Zephyr
 * includes <zephyr/sys/sys_heap.h> and builds unchanged (pkg-config
 * libhapmem-compat).
 *
 * A heap manages the caller's buffer, of any size (a few hundred bytes
 * are fine); its metadata lives outside the buffer (the core keeps no
 * header in the memory it manages), so every aligned byte of it can be
 * handed out.  Blocks are 16-byte aligned, sizes rounded up to 16 bytes.
 * As upstream, a heap is not synchronised: callers serialise the calls
 * on one heap (k_heap does).  Documentation/porting.rst lists every
 * difference from Zephyr.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef ZEPHYR_INCLUDE_SYS_SYS_HEAP_H_
#define ZEPHYR_INCLUDE_SYS_SYS_HEAP_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem_stats.h"

#include "hapmem_api.h"

struct z_heap;

/* @heap is the face's handle (NULL: no usable heap); init_mem/init_bytes
 * are the arguments of the last sys_heap_init, as upstream's static
 * initialisers use them. */
struct sys_heap {
	struct z_heap *heap;
	void *init_mem;
	size_t init_bytes;
};

HAPMEM_BEGIN_DECLS

/*
 * Manage [mem, mem + bytes): the 16-byte aligned part of it.  A heap
 * earlier initialised over memory that meets this one (or the earlier
 * heap of @heap) is forgotten, as upstream, where its metadata was in
 * that memory.  A buffer with no aligned 16 bytes, or no memory for the
 * metadata, gives a heap that allocates nothing (and does not validate).
 */
void sys_heap_init(struct sys_heap *heap, void *mem, size_t bytes);
/* NULL for 0 bytes or when nothing fits. */
void *sys_heap_alloc(struct sys_heap *heap, size_t bytes);
/* @align 0 or a power of two (else NULL). */
void *sys_heap_aligned_alloc(struct sys_heap *heap, size_t align, size_t bytes);
/* NULL is ignored, and so is anything that is not a live block of @heap. */
void sys_heap_free(struct sys_heap *heap, void *mem);
/*
 * @ptr NULL: allocates; @bytes 0: frees and returns NULL.  In place when
 * the block can shrink or grow into free memory after it (and is aligned
 * to @align), else a new block with the bytes kept; on failure NULL and
 * the block intact.
 */
void *sys_heap_aligned_realloc(struct sys_heap *heap, void *ptr, size_t align, size_t bytes);
void *sys_heap_realloc(struct sys_heap *heap, void *ptr, size_t bytes);
/* The bytes the block can hold (at least those asked); 0 if not a block. */
size_t sys_heap_usable_size(struct sys_heap *heap, void *mem);
/* A full consistency check of the heap's metadata. */
bool sys_heap_validate(struct sys_heap *heap);
/* -EINVAL for NULL arguments, else 0. */
int sys_heap_runtime_stats_get(struct sys_heap *heap, struct sys_memory_stats *stats);

HAPMEM_END_DECLS

#endif /* ZEPHYR_INCLUDE_SYS_SYS_HEAP_H_ */
