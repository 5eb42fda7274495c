/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * esp_heap_caps.h - ESP-IDF's capability allocator under its own names,
 * over hapmem_caps.h.  A porting face: code written for ESP-IDF includes
 * <esp_heap_caps.h> and builds unchanged (pkg-config libhapmem-compat).
 *
 * Provided: malloc/calloc/realloc/free and their aligned and _prefer
 * forms, the failed-allocation callback, the integrity checks, block
 * sizes, the statistics and the walk (heap_caps_add_region: in
 * esp_heap_caps_init.h) and the local-minimum monitor.
 * Documentation/porting.rst lists the MALLOC_CAP_* mapping and every
 * difference from ESP-IDF.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef ESP_HEAP_CAPS_H
#define ESP_HEAP_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hapmem_api.h"

#ifndef ESP_OK
typedef int esp_err_t;
#define ESP_OK			0
#define ESP_ERR_INVALID_ARG	0x102
#endif
#ifndef ESP_FAIL
#define ESP_FAIL		-1
#endif

/* ESP-IDF's bits; the mapping onto hapmem's capabilities is in porting.rst */
#define MALLOC_CAP_EXEC		(1 << 0)	/* refused: NULL */
#define MALLOC_CAP_32BIT	(1 << 1)
#define MALLOC_CAP_8BIT		(1 << 2)
#define MALLOC_CAP_DMA		(1 << 3)	/* device address below 4 GiB */
#define MALLOC_CAP_PID2		(1 << 4)	/* hapmem: uncached */
#define MALLOC_CAP_PID3		(1 << 5)	/* hapmem: low-latency carve-out */
#define MALLOC_CAP_PID4		(1 << 6)	/* hapmem: protected */
#define MALLOC_CAP_PID5		(1 << 7)
#define MALLOC_CAP_PID6		(1 << 8)
#define MALLOC_CAP_PID7		(1 << 9)
#define MALLOC_CAP_SPIRAM	(1 << 10)
#define MALLOC_CAP_INTERNAL	(1 << 11)	/* cached */
#define MALLOC_CAP_DEFAULT	(1 << 12)
#define MALLOC_CAP_IRAM_8BIT	(1 << 13)	/* refused: NULL */
#define MALLOC_CAP_RETENTION	(1 << 14)
#define MALLOC_CAP_RTCRAM	(1 << 15)	/* low-latency carve-out */
#define MALLOC_CAP_INVALID	(1U << 31)	/* refused: NULL (unsigned: 1 << 31 overflows int) */

/* hapmem's capabilities that ESP-IDF has no name for, on unused PID bits */
#define MALLOC_CAP_HAPMEM_UNCACHED	MALLOC_CAP_PID2
#define MALLOC_CAP_HAPMEM_LLC		MALLOC_CAP_PID3
#define MALLOC_CAP_HAPMEM_PROTECTED	MALLOC_CAP_PID4

#ifndef MULTI_HEAP_H
/* As ESP-IDF's multi_heap.h has it (sizes in bytes, counts in blocks). */
typedef struct {
	size_t total_free_bytes;
	size_t total_allocated_bytes;
	size_t largest_free_block;
	size_t minimum_free_bytes;
	size_t allocated_blocks;
	size_t free_blocks;
	size_t total_blocks;
} multi_heap_info_t;
#endif

/* heap_caps_walk(): a "heap" is one contiguous segment of a region. */
typedef struct walk_heap_info {
	intptr_t start;
	intptr_t end;
} walk_heap_info_t;

typedef struct walk_block_info {
	void *ptr;
	size_t size;
	bool used;
} walk_block_info_t;

/* Return true to go on, false to skip the rest of this heap. */
typedef bool (*heap_caps_walker_cb_t)(walk_heap_info_t heap_info, walk_block_info_t block_info,
				      void *user_data);

typedef void (*esp_alloc_failed_hook_t)(size_t size, uint32_t caps, const char *function_name);

HAPMEM_BEGIN_DECLS

esp_err_t heap_caps_register_failed_alloc_callback(esp_alloc_failed_hook_t callback);

void *heap_caps_malloc(size_t size, uint32_t caps);
void *heap_caps_calloc(size_t n, size_t size, uint32_t caps);
void *heap_caps_realloc(void *ptr, size_t size, uint32_t caps);
void heap_caps_free(void *ptr);
void *heap_caps_aligned_alloc(size_t alignment, size_t size, uint32_t caps);
void *heap_caps_aligned_calloc(size_t alignment, size_t n, size_t size, uint32_t caps);
void heap_caps_aligned_free(void *ptr);

/* Each of @num capability sets (uint32_t) in turn, first to last. */
void *heap_caps_malloc_prefer(size_t size, size_t num, ...);
void *heap_caps_calloc_prefer(size_t n, size_t size, size_t num, ...);
void *heap_caps_realloc_prefer(void *ptr, size_t size, size_t num, ...);

/* Every region is checked, whatever @caps or @addr: true when sound. */
bool heap_caps_check_integrity_all(bool print_errors);
bool heap_caps_check_integrity(uint32_t caps, bool print_errors);
bool heap_caps_check_integrity_addr(intptr_t addr, bool print_errors);

/*
 * Statistics of the regions that can serve @caps, summed over the segments
 * they hold now (a growable region may grow beyond them).  The largest
 * free block is a size heap_caps_malloc(size, caps) gets now, at the
 * current caps debug level.
 */
size_t heap_caps_get_total_size(uint32_t caps);
size_t heap_caps_get_free_size(uint32_t caps);
size_t heap_caps_get_minimum_free_size(uint32_t caps);
size_t heap_caps_get_largest_free_block(uint32_t caps);
void heap_caps_get_info(multi_heap_info_t *info, uint32_t caps);

/*
 * From _start on (again: restarts), heap_caps_get_minimum_free_size and
 * heap_caps_get_info's minimum count from the start of the window; _stop
 * goes back to the figures since each region's creation (which include
 * the window).  _stop without _start: ESP_FAIL.
 */
esp_err_t heap_caps_monitor_local_minimum_free_size_start(void);
esp_err_t heap_caps_monitor_local_minimum_free_size_stop(void);
void heap_caps_print_heap_info(uint32_t caps);

/* Every block of the regions that serve @caps (all regions: _all). */
void heap_caps_walk(uint32_t caps, heap_caps_walker_cb_t walk_func, void *user_data);
void heap_caps_walk_all(heap_caps_walker_cb_t walk_func, void *user_data);

/* Usable size of the block starting at @ptr (0 if none). */
size_t heap_caps_get_allocated_size(void *ptr);
/* The block's size in the heap, head and tail guards included. */
size_t heap_caps_get_containing_block_size(void *ptr);

HAPMEM_END_DECLS

#endif /* ESP_HEAP_CAPS_H */
