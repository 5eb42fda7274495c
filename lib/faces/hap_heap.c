// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP_* heap face: the platform's HAP_malloc family over one default
 * heap on the driver backend.  Translates -errno into AEE codes.
 *
 * The default heap is created on first use.  Without /dev/hapmem there is
 * no heap at all: the first call says so once on stderr, and every call
 * fails (HAP_malloc with AEE_ENOMEMORY, as the platform documents for any
 * allocation failure).  The host backend is never used in its place.
 *
 * The default heap has the per-thread front end and the default release
 * policy on (Documentation/heap.rst).  $HAPMEM_HEAP_FRONT_END=0 in the
 * environment turns the front end off (every block from the core, exact
 * to the 16-byte granule); HAP_mem_set_heap_thresholds() replaces the
 * default release policy with the platform's threshold semantics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "HAP_mem_heap.h"
#include "faces/aee.h"
#include "faces/hap_heap.h"
#include "heap/heap.h"

/* Request ids of HAP_mem_request() served by the heap (REFERENCE values). */
#define REQ_LOG_BLOCKS	1
#define REQ_SET_MARKER	2

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static struct hm_heap *default_heap;
static int default_err;

static void default_init(void)
{
	void *ctx = hm_backend_driver_ctx();
	const char *front;

	if (!ctx) {
		default_err = -(errno ? errno : ENODEV);
		fprintf(stderr, "hapmem: HAP heap unavailable: cannot open /dev/hapmem: %s\n",
			strerror(-default_err));
		return;
	}
	default_heap = hm_heap_create_default(&hm_backend_driver, ctx);
	if (!default_heap) {
		default_err = -ENOMEM;
		fprintf(stderr, "hapmem: HAP heap unavailable: out of memory\n");
		return;
	}
	front = secure_getenv("HAPMEM_HEAP_FRONT_END");
	if (front && !strcmp(front, "0"))
		hm_heap_set_front_end(default_heap, false);
	else if (front && strcmp(front, "1"))
		fprintf(stderr, "hapmem: HAPMEM_HEAP_FRONT_END=%s ignored (0 or 1)\n", front);
}

/* The default heap, or NULL with *err set. */
static struct hm_heap *heap(int *err)
{
	pthread_once(&default_once, default_init);
	*err = default_err;
	return default_heap;
}

static int alloc_result(int err)
{
	return err == -EINVAL ? AEE_EBADMEMALIGN : err ? AEE_ENOMEMORY : AEE_SUCCESS;
}

int HAP_malloc(uint32 bytes, void **pptr)
{
	int err;
	struct hm_heap *h = heap(&err);

	if (!pptr)
		return AEE_EBADPARM;
	*pptr = NULL;
	return h ? alloc_result(hm_heap_alloc(h, bytes, 0, pptr)) : AEE_ENOMEMORY;
}

int HAP_memalign(uint32 align, uint32 bytes, void **pptr)
{
	int err;
	struct hm_heap *h = heap(&err);

	if (!pptr)
		return AEE_EBADPARM;
	*pptr = NULL;
	if (!align || (align & (align - 1)))
		return AEE_EBADMEMALIGN;
	return h ? alloc_result(hm_heap_alloc(h, bytes, align, pptr)) : AEE_ENOMEMORY;
}

int HAP_calloc(uint32 num, uint32 bytes, void **pptr)
{
	int err;
	struct hm_heap *h = heap(&err);

	if (!pptr)
		return AEE_EBADPARM;
	*pptr = NULL;
	return h ? alloc_result(hm_heap_calloc(h, num, bytes, pptr)) : AEE_ENOMEMORY;
}

int HAP_realloc(void *ptr, uint32 bytes, void **pptr)
{
	int err;
	struct hm_heap *h = heap(&err);

	if (!pptr)
		return AEE_EBADPARM;
	if (!h)
		return AEE_ENOMEMORY;
	if (ptr && !bytes) {
		*pptr = NULL;
		return hm_errno_to_aee(hm_heap_free(h, ptr));
	}
	err = hm_heap_realloc(h, ptr, bytes, pptr);
	return err == -ENOMEM ? AEE_ENOMEMORY : hm_errno_to_aee(err);
}

int HAP_free(void *ptr)
{
	int err;
	struct hm_heap *h;

	if (!ptr)
		return AEE_EBADCLASS;
	h = heap(&err);
	return h ? hm_errno_to_aee(hm_heap_free(h, ptr)) : hm_errno_to_aee(err);
}

int HAP_mem_get_dev_addr(const void *ptr, uint64 *vadsp)
{
	int err;
	struct hm_heap *h = heap(&err);

	if (!ptr || !vadsp)
		return AEE_EBADPARM;
	return hm_errno_to_aee(h ? hm_heap_dev_addr(h, ptr, vadsp) : err);
}

int HAP_mem_set_grow_size(uint64 min, uint64 max)
{
	int err;
	struct hm_heap *h = heap(&err);

	return hm_errno_to_aee(h ? hm_heap_set_grow_size(h, min, max) : err);
}

int HAP_mem_set_heap_thresholds(unsigned int low_largest_block_size,
				unsigned int high_largest_block_size)
{
	int err;
	struct hm_heap *h = heap(&err);

	return hm_errno_to_aee(h ? hm_heap_set_thresholds(h, low_largest_block_size,
							  high_largest_block_size) : err);
}

static void fill_stats(struct hm_heap *h, struct HAP_mem_stats *s, uint64_t *peak)
{
	struct hm_heap_stats st;

	hm_heap_stats(h, &st);
	*s = (struct HAP_mem_stats){
		.bytes_free = st.core.free_bytes,
		.bytes_used = st.core.used_bytes,
		.seg_free = st.core.segments_free,
		.seg_used = st.core.segments - st.core.segments_free,
		.min_grow_bytes = st.min_grow_bytes,
	};
	*peak = st.core.peak_used_bytes;
}

int HAP_mem_get_stats(struct HAP_mem_stats *stats)
{
	int err;
	uint64_t peak;
	struct hm_heap *h = heap(&err);

	if (!stats)
		return AEE_EBADPARM;
	if (!h)
		return hm_errno_to_aee(err);
	fill_stats(h, stats, &peak);
	return AEE_SUCCESS;
}

int HAP_mem_get_heap_info(HAP_mem_heap_info_t *payload)
{
	struct HAP_mem_stats s;
	uint64_t peak;
	int err;
	struct hm_heap *h = heap(&err);

	if (!payload || (payload->req_id != USAGE_STATS && payload->req_id != MAX_USED))
		return AEE_EBADPARM;
	if (!h)
		return hm_errno_to_aee(err);
	fill_stats(h, &s, &peak);
	if (payload->req_id == USAGE_STATS)
		payload->usage_stats = s;
	else
		payload->max_used = (unsigned long)peak;
	return AEE_SUCCESS;
}

static int log_blocks(struct hm_heap *h)
{
	char name[64];
	FILE *f;
	int err;

	snprintf(name, sizeof(name), "hprt_block_info_%d.csv", (int)getpid());
	f = fopen(name, "w");
	if (!f)
		return -errno;
	err = hm_heap_log_blocks(h, f);
	if (fclose(f) && !err)
		err = -EIO;
	return err;
}

int hm_heap_mem_request(int request, void *payload)
{
	HAP_mem_marker_payload_t *m = payload;
	int err;
	struct hm_heap *h = heap(&err);

	if (request != REQ_LOG_BLOCKS && request != REQ_SET_MARKER)
		return -EOPNOTSUPP;
	if (!h)
		return err;
	if (request == REQ_LOG_BLOCKS)
		return log_blocks(h);
	if (!m)
		return -EINVAL;
	if (m->marker_type == START)
		return hm_heap_marker_start(h, &m->instance);
	if (m->marker_type == END) {
		err = hm_heap_marker_end(h, m->instance, stderr);
		return err < 0 ? err : 0;
	}
	return -EINVAL;
}
