/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HAP_mem_heap.h - the HAP heap half of HAP_mem.h (included by it).
 *
 * HAP_malloc and friends allocate from a heap that grows by asking the
 * hapmem driver for segments (request_map with ADD_PAGES) and gives fully
 * unused segments back according to the thresholds.  Every block has a
 * device address (HAP_mem_get_dev_addr) where the remote sees it.
 * Thread-safe.  Documentation/heap.rst has the design and the defaults.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAP_MEM_HEAP_H
#define HAP_MEM_HEAP_H

#include <stdint.h>

#include "AEEStdDef.h"
#include "hapmem_api.h"

HAPMEM_BEGIN_DECLS

/* Heap statistics (the platform's layout: five uint64 in this order). */
struct HAP_mem_stats {
	uint64 bytes_free;	/* free bytes in the heap's segments */
	uint64 bytes_used;	/* bytes in live blocks */
	uint64 seg_free;	/* segments holding no live block */
	uint64 seg_used;	/* segments holding live blocks */
	uint64 min_grow_bytes;	/* current minimum growth (see HAP_mem_set_grow_size) */
};

/* Request ids of HAP_mem_get_heap_info(). */
enum HAP_mem_stats_request {
	USAGE_STATS = 1,
	MAX_USED = 2,
};

typedef struct {
	enum HAP_mem_stats_request req_id;	/* in */
	union {					/* out */
		struct HAP_mem_stats usage_stats;
		unsigned long max_used;		/* peak of bytes_used */
	};
} HAP_mem_heap_info_t;

/* Marker types of the HAP_MEM_SET_MARKER request. */
typedef enum {
	START = 0,
	END = 1,
} marker_t;

/*
 * HAP_MEM_SET_MARKER payload.  START returns a new instance number (up to
 * 2^16 live at once); END with that instance reports, on stderr, every
 * block allocated since its START that is still live.
 */
typedef struct {
	marker_t marker_type;
	uint16_t instance;
} HAP_mem_marker_payload_t;

/* AEE_SUCCESS or AEE_ENOMEMORY; *pptr is NULL on failure. */
int HAP_malloc(uint32 bytes, void **pptr);
/* AEE_SUCCESS; AEE_EBADCLASS for NULL; AEE_EBADPARM for a pointer that is not a live block. */
int HAP_free(void *ptr);
/* Zeroed memory for @num * @bytes, overflow-checked. */
int HAP_calloc(uint32 num, uint32 bytes, void **pptr);
/* Like realloc(): NULL @ptr allocates, 0 @bytes frees; grows in place when it can. */
int HAP_realloc(void *ptr, uint32 bytes, void **pptr);
/* @align: any power of two (AEE_EBADMEMALIGN otherwise). */
int HAP_memalign(uint32 align, uint32 bytes, void **pptr);

/*
 * Growth size bounds.  On each growth:
 *   min_grow_bytes = MIN(max, MAX(min, min_grow_bytes));
 *   grow = ALIGN(min_grow_bytes + request, 0x100000);
 * Never called: min_grow_bytes follows the heap's history (half of the
 * bytes the heap already holds, between 1 MiB and 32 MiB).
 */
int HAP_mem_set_grow_size(uint64 min, uint64 max);
int HAP_mem_get_stats(struct HAP_mem_stats *stats);
int HAP_mem_get_heap_info(HAP_mem_heap_info_t *payload);
/*
 * Largest-free-block thresholds: above @high_largest_block_size, unused
 * segments go back to the driver; below @low_largest_block_size the heap
 * grows ahead of need.  A release never takes the largest free block below
 * @low (hysteresis).  0 disables @low; UINT_MAX disables @high (defaults).
 * AEE_EBADPARM unless low < high.
 */
int HAP_mem_set_heap_thresholds(unsigned int low_largest_block_size,
				unsigned int high_largest_block_size);
/* hapmem extension: device address (vadsp) of any byte of a heap block. */
int HAP_mem_get_dev_addr(const void *ptr, uint64 *vadsp);

HAPMEM_END_DECLS

#endif /* HAP_MEM_HEAP_H */
