// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ESP-IDF heap_caps face (allocation part) over caps_*.
 *
 * ESP-IDF's MALLOC_CAP_* bits become hapmem capabilities (esp_caps());
 * 0 bytes answer NULL, as ESP-IDF; each failure calls the registered
 * callback with the ESP-IDF caps and the upstream function's name.  The
 * standard regions (caps_init_default) are added on first use.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "compat/esp_heap_caps.h"
#include "compat/esp_heap_caps_init.h"
#include "caps/caps_internal.h"
#include "hapmem_caps.h"

#define REFUSED (MALLOC_CAP_EXEC | MALLOC_CAP_IRAM_8BIT | MALLOC_CAP_INVALID)
#define HM_NO_CAPS UINT32_MAX	/* esp_caps(): not satisfiable here */
/* heap_caps_add_region(): what the caps layer's user regions need */
#define HM_ESP_ALIGN	16u	/* the allocation granule */
#define HM_ESP_MIN_HEAP	HM_ESP_ALIGN	/* one granule */

static _Atomic(esp_alloc_failed_hook_t) failed_cb;
static pthread_once_t esp_once = PTHREAD_ONCE_INIT;
static _Thread_local int prefer_depth;	/* inside a _prefer call: no callback */

static void esp_init(void)
{
	caps_init_default();	/* no device: allocations fail, and say so */
}

/* ESP-IDF caps -> hapmem caps, or HM_NO_CAPS. */
static uint32_t esp_caps(uint32_t caps)
{
	uint32_t c = 0;

	if (caps & REFUSED)
		return HM_NO_CAPS;
	if (caps & MALLOC_CAP_DMA)
		c |= HAPMEM_CAP_32BIT;
	if (caps & MALLOC_CAP_INTERNAL)
		c |= HAPMEM_CAP_CACHED;
	if (caps & MALLOC_CAP_HAPMEM_UNCACHED)
		c |= HAPMEM_CAP_UNCACHED;
	if (caps & (MALLOC_CAP_HAPMEM_LLC | MALLOC_CAP_RTCRAM))
		c |= HAPMEM_CAP_LLC;
	if (caps & MALLOC_CAP_HAPMEM_PROTECTED)
		c |= HAPMEM_CAP_PROTECTED;
	if ((c & HAPMEM_CAP_CACHED) && (c & HAPMEM_CAP_UNCACHED))
		return HM_NO_CAPS;
	/* byte-addressable CPU memory is what every non-protected region has */
	if ((c & HAPMEM_CAP_PROTECTED) && (caps & (MALLOC_CAP_8BIT | MALLOC_CAP_32BIT)))
		return HM_NO_CAPS;
	return c;
}

static void *failed(size_t size, uint32_t caps, const char *func)
{
	esp_alloc_failed_hook_t cb = atomic_load(&failed_cb);

	if (cb && !prefer_depth)
		cb(size, caps, func);
	return NULL;
}

esp_err_t heap_caps_register_failed_alloc_callback(esp_alloc_failed_hook_t callback)
{
	if (!callback)
		return ESP_ERR_INVALID_ARG;
	atomic_store(&failed_cb, callback);
	return ESP_OK;
}

static void *esp_alloc(size_t align, size_t size, uint32_t caps, const char *func)
{
	uint32_t c = esp_caps(caps);
	void *p;

	if (!size || c == HM_NO_CAPS)
		return failed(size, caps, func);
	pthread_once(&esp_once, esp_init);
	p = align ? caps_aligned_alloc(align, size, c) : caps_malloc(size, c);
	return p ? p : failed(size, caps, func);
}

static int mul(size_t n, size_t size, size_t *out)
{
	return __builtin_mul_overflow(n, size, out);
}

void *heap_caps_malloc(size_t size, uint32_t caps)
{
	return esp_alloc(0, size, caps, __func__);
}

static void *esp_calloc(size_t align, size_t n, size_t size, uint32_t caps, const char *func)
{
	size_t total;
	void *p;

	if (mul(n, size, &total))
		return failed(SIZE_MAX, caps, func);
	p = esp_alloc(align, total, caps, func);
	if (p && !(esp_caps(caps) & HAPMEM_CAP_PROTECTED))
		memset(p, 0, total);
	else if (p) {
		caps_free(p);	/* the CPU cannot zero protected memory */
		p = failed(total, caps, func);
	}
	return p;
}

void *heap_caps_calloc(size_t n, size_t size, uint32_t caps)
{
	return esp_calloc(0, n, size, caps, __func__);
}

void *heap_caps_aligned_alloc(size_t alignment, size_t size, uint32_t caps)
{
	if (!alignment || (alignment & (alignment - 1)))
		return failed(size, caps, __func__);
	return esp_alloc(alignment, size, caps, __func__);
}

void *heap_caps_aligned_calloc(size_t alignment, size_t n, size_t size, uint32_t caps)
{
	if (!alignment || (alignment & (alignment - 1)))
		return failed(size, caps, __func__);
	return esp_calloc(alignment, n, size, caps, __func__);
}

static void *esp_realloc(void *ptr, size_t size, uint32_t caps, const char *func)
{
	uint32_t c;
	void *p;

	if (!ptr)
		return esp_alloc(0, size, caps, func);
	if (!size) {
		caps_free(ptr);
		return NULL;
	}
	c = esp_caps(caps);
	if (c == HM_NO_CAPS)
		return failed(size, caps, func);
	p = caps_realloc(ptr, size, c);
	return p ? p : failed(size, caps, func);
}

void *heap_caps_realloc(void *ptr, size_t size, uint32_t caps)
{
	return esp_realloc(ptr, size, caps, __func__);
}

void heap_caps_free(void *ptr)
{
	if (ptr)
		caps_free(ptr);
}

void heap_caps_aligned_free(void *ptr)
{
	heap_caps_free(ptr);
}

/*
 * The _prefer forms: each set in turn with the callback silenced, then
 * the callback once, with the last set, when all failed.
 */
static void *try_silent(void *(*fn)(void *, size_t, size_t, uint32_t), void *ptr, size_t n,
			size_t size, uint32_t caps)
{
	void *p;

	prefer_depth++;
	p = fn(ptr, n, size, caps);
	prefer_depth--;
	return p;
}

static void *do_malloc(void *ptr, size_t n, size_t size, uint32_t caps)
{
	(void)ptr;
	(void)n;
	return esp_alloc(0, size, caps, NULL);
}

static void *do_calloc(void *ptr, size_t n, size_t size, uint32_t caps)
{
	(void)ptr;
	return esp_calloc(0, n, size, caps, NULL);
}

static void *do_realloc(void *ptr, size_t n, size_t size, uint32_t caps)
{
	(void)n;
	return esp_realloc(ptr, size, caps, NULL);
}

static void *prefer(void *(*fn)(void *, size_t, size_t, uint32_t), void *ptr, size_t n,
		    size_t size, size_t num, va_list ap, const char *func)
{
	size_t total = size;
	uint32_t caps = 0;
	void *p;

	while (num--) {
		caps = va_arg(ap, uint32_t);
		p = try_silent(fn, ptr, n, size, caps);
		if (p)
			return p;
	}
	if (fn == do_calloc && mul(n, size, &total))
		total = SIZE_MAX;
	return failed(total, caps, func);
}

void *heap_caps_malloc_prefer(size_t size, size_t num, ...)
{
	va_list ap;
	void *p;

	va_start(ap, num);
	p = prefer(do_malloc, NULL, 0, size, num, ap, __func__);
	va_end(ap);
	return p;
}

void *heap_caps_calloc_prefer(size_t n, size_t size, size_t num, ...)
{
	va_list ap;
	void *p;

	va_start(ap, num);
	p = prefer(do_calloc, NULL, n, size, num, ap, __func__);
	va_end(ap);
	return p;
}

void *heap_caps_realloc_prefer(void *ptr, size_t size, size_t num, ...)
{
	va_list ap;
	void *p;

	va_start(ap, num);
	p = prefer(do_realloc, ptr, 0, size, num, ap, __func__);
	va_end(ap);
	return p;
}

bool heap_caps_check_integrity_all(bool print_errors)
{
	(void)print_errors;	/* caps_check_all reports through the debug reporter */
	return caps_check_all() == 0;
}

bool heap_caps_check_integrity(uint32_t caps, bool print_errors)
{
	(void)caps;
	return heap_caps_check_integrity_all(print_errors);
}

bool heap_caps_check_integrity_addr(intptr_t addr, bool print_errors)
{
	(void)addr;
	return heap_caps_check_integrity_all(print_errors);
}

size_t heap_caps_get_allocated_size(void *ptr)
{
	return ptr ? caps_block_size(ptr) : 0;
}

size_t heap_caps_get_containing_block_size(void *ptr)
{
	return heap_caps_get_allocated_size(ptr);
}

/* caps_stats of the mapped caps; zeros when they map to nothing here. */
static void esp_stats(uint32_t caps, struct caps_stats *st)
{
	uint32_t c = esp_caps(caps);

	pthread_once(&esp_once, esp_init);
	if (c == HM_NO_CAPS || caps_stats(c, st))
		memset(st, 0, sizeof(*st));
}

size_t heap_caps_get_total_size(uint32_t caps)
{
	struct caps_stats st;

	esp_stats(caps, &st);
	return st.total_bytes;
}

size_t heap_caps_get_free_size(uint32_t caps)
{
	struct caps_stats st;

	esp_stats(caps, &st);
	return st.free_bytes;
}

size_t heap_caps_get_minimum_free_size(uint32_t caps)
{
	struct caps_stats st;

	esp_stats(caps, &st);
	return st.minimum_free;
}

size_t heap_caps_get_largest_free_block(uint32_t caps)
{
	struct caps_stats st;

	esp_stats(caps, &st);
	return st.largest_free;
}

esp_err_t heap_caps_monitor_local_minimum_free_size_start(void)
{
	pthread_once(&esp_once, esp_init);
	return hm_caps_window_start() ? ESP_FAIL : ESP_OK;
}

esp_err_t heap_caps_monitor_local_minimum_free_size_stop(void)
{
	return hm_caps_window_stop() ? ESP_FAIL : ESP_OK;
}

void heap_caps_get_info(multi_heap_info_t *info, uint32_t caps)
{
	struct caps_stats st;

	if (!info)
		return;
	esp_stats(caps, &st);
	info->total_free_bytes = st.free_bytes;
	info->total_allocated_bytes = st.allocated_bytes;
	info->largest_free_block = st.largest_free;
	info->minimum_free_bytes = st.minimum_free;
	info->allocated_blocks = st.allocated_blocks;
	info->free_blocks = st.free_blocks;
	info->total_blocks = st.allocated_blocks + st.free_blocks;
}

void heap_caps_print_heap_info(uint32_t caps)
{
	multi_heap_info_t i;

	heap_caps_get_info(&i, caps);
	printf("Heap summary for capabilities 0x%08x:\n", (unsigned int)caps);
	printf("  Totals:\n    free %zu allocated %zu min_free %zu largest_free_block %zu\n",
	       i.total_free_bytes, i.total_allocated_bytes, i.minimum_free_bytes,
	       i.largest_free_block);
	printf("    blocks: %zu allocated, %zu free, %zu total\n", i.allocated_blocks,
	       i.free_blocks, i.total_blocks);
}

struct walk_ctx {
	heap_caps_walker_cb_t fn;
	void *user;
};

static bool walk_one(const struct caps_walk_block *b, void *arg)
{
	const struct walk_ctx *w = arg;
	walk_heap_info_t h = { (intptr_t)b->seg_start, (intptr_t)b->seg_end };
	walk_block_info_t blk = { b->ptr, b->size, b->used };

	return w->fn(h, blk, w->user);
}

void heap_caps_walk(uint32_t caps, heap_caps_walker_cb_t walk_func, void *user_data)
{
	struct walk_ctx w = { walk_func, user_data };
	uint32_t c = esp_caps(caps);

	if (!walk_func || c == HM_NO_CAPS)
		return;
	pthread_once(&esp_once, esp_init);
	caps_walk(c ? c : HAPMEM_CAP_DEFAULT, walk_one, &w);
}

void heap_caps_walk_all(heap_caps_walker_cb_t walk_func, void *user_data)
{
	struct walk_ctx w = { walk_func, user_data };

	if (!walk_func)
		return;
	pthread_once(&esp_once, esp_init);
	caps_walk(0, walk_one, &w);
}

esp_err_t heap_caps_add_region_with_caps(const uint32_t caps[], intptr_t start, intptr_t end)
{
	static atomic_uint seq;
	uint32_t hc[HAPMEM_CAPS_PRIORITIES];
	char name[HAPMEM_CAPS_NAME_MAX];
	uintptr_t base, top;
	uint64_t dev = 0;
	unsigned int i;
	int ret;

	if (!caps || !start || end <= start)
		return ESP_ERR_INVALID_ARG;
	for (i = 0; i < HAPMEM_CAPS_PRIORITIES; i++) {
		hc[i] = caps[i] ? esp_caps(caps[i]) : 0;
		if (hc[i] == HM_NO_CAPS)
			return ESP_ERR_INVALID_ARG;
		/* a heap with plain-malloc capabilities serves heap_caps_malloc(8BIT) */
		if ((caps[i] & (MALLOC_CAP_DEFAULT | MALLOC_CAP_8BIT | MALLOC_CAP_32BIT)) ||
		    (caps[i] && !hc[i]))
			hc[i] |= HAPMEM_CAP_DEFAULT;
	}
	/* the heap keeps the granule-aligned part, as ESP-IDF aligns its own */
	base = ((uintptr_t)start + HM_ESP_ALIGN - 1) & ~(uintptr_t)(HM_ESP_ALIGN - 1);
	top = (uintptr_t)end & ~(uintptr_t)(HM_ESP_ALIGN - 1);
	if (top <= base || top - base < HM_ESP_MIN_HEAP)
		return ESP_ERR_INVALID_SIZE;
	pthread_once(&esp_once, esp_init);
	/* inside a block of another heap: the device sees it there too */
	if (caps_dev_addr((void *)base, &dev))
		dev = 0;
	snprintf(name, sizeof(name), "esp-%u", atomic_fetch_add(&seq, 1));
	ret = caps_region_add_mem(name, (void *)base, dev, top - base, 0, hc);
	if (ret > 0)
		return ESP_OK;
	if (ret == -EEXIST)
		return ESP_FAIL;
	if (ret == -ENOMEM || ret == -ENOSPC)
		return ESP_ERR_NO_MEM;
	return ESP_ERR_INVALID_ARG;
}

esp_err_t heap_caps_add_region(intptr_t start, intptr_t end)
{
	static const uint32_t def[HAPMEM_CAPS_PRIORITIES] = {
		MALLOC_CAP_DEFAULT | MALLOC_CAP_8BIT | MALLOC_CAP_32BIT, 0, 0,
	};

	return heap_caps_add_region_with_caps(def, start, end);
}
