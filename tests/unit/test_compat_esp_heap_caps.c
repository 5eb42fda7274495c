// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ESP-IDF heap_caps face (<esp_heap_caps.h>, allocation part) over
 * the caps layer on a fake backend (the standard regions): the
 * MALLOC_CAP_* mapping, 0-byte requests, calloc, alignment, realloc moving
 * to the asked caps, the _prefer forms, the failed-allocation callback,
 * integrity checks and block sizes.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"

#include "test_caps_fixture.h"

#include <esp_heap_caps.h>
#include <esp_heap_caps_init.h>

static int cb_calls;
static size_t cb_size;
static uint32_t cb_caps;
static char cb_func[64];

static void on_failed(size_t size, uint32_t caps, const char *function_name)
{
	cb_calls++;
	cb_size = size;
	cb_caps = caps;
	snprintf(cb_func, sizeof(cb_func), "%s", function_name ? function_name : "(null)");
}

static void setup(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, add_std_set(2 * MiB));
	cb_calls = 0;
	ASSERT_EQ(ESP_OK, heap_caps_register_failed_alloc_callback(on_failed));
}

TEST(constants_match_esp_idf)
{
	EXPECT_EQ(1u << 0, MALLOC_CAP_EXEC);
	EXPECT_EQ(1u << 1, MALLOC_CAP_32BIT);
	EXPECT_EQ(1u << 2, MALLOC_CAP_8BIT);
	EXPECT_EQ(1u << 3, MALLOC_CAP_DMA);
	EXPECT_EQ(1u << 4, MALLOC_CAP_PID2);
	EXPECT_EQ(1u << 9, MALLOC_CAP_PID7);
	EXPECT_EQ(1u << 10, MALLOC_CAP_SPIRAM);
	EXPECT_EQ(1u << 11, MALLOC_CAP_INTERNAL);
	EXPECT_EQ(1u << 12, MALLOC_CAP_DEFAULT);
	EXPECT_EQ(1u << 13, MALLOC_CAP_IRAM_8BIT);
	EXPECT_EQ(1u << 14, MALLOC_CAP_RETENTION);
	EXPECT_EQ(1u << 15, MALLOC_CAP_RTCRAM);
	EXPECT_EQ(1u << 31, (uint32_t)MALLOC_CAP_INVALID);
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_caps_register_failed_alloc_callback(NULL));
}

/* Each ESP-IDF capability lands in a region with the mapped hapmem caps. */
TEST(caps_mapping)
{
	static const struct {
		uint32_t esp;
		uint32_t want;	/* hapmem caps the region must have */
	} map[] = {
		{ 0, HAPMEM_CAP_DEFAULT },
		{ MALLOC_CAP_DEFAULT, HAPMEM_CAP_DEFAULT },
		{ MALLOC_CAP_8BIT, HAPMEM_CAP_DEFAULT },
		{ MALLOC_CAP_32BIT | MALLOC_CAP_8BIT, HAPMEM_CAP_DEFAULT },
		{ MALLOC_CAP_SPIRAM, HAPMEM_CAP_DEFAULT },
		{ MALLOC_CAP_INTERNAL, HAPMEM_CAP_CACHED },
		{ MALLOC_CAP_DMA, HAPMEM_CAP_32BIT },
		{ MALLOC_CAP_DMA | MALLOC_CAP_INTERNAL, HAPMEM_CAP_32BIT | HAPMEM_CAP_CACHED },
		{ MALLOC_CAP_HAPMEM_UNCACHED, HAPMEM_CAP_UNCACHED },
		{ MALLOC_CAP_HAPMEM_UNCACHED | MALLOC_CAP_DMA, HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT },
		{ MALLOC_CAP_RTCRAM, HAPMEM_CAP_LLC },
		{ MALLOC_CAP_HAPMEM_LLC, HAPMEM_CAP_LLC },
		{ MALLOC_CAP_HAPMEM_PROTECTED, HAPMEM_CAP_PROTECTED },
	};
	size_t i;

	setup(_metadata);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		void *p = heap_caps_malloc(100, map[i].esp);

		ASSERT_NE(NULL, p) TH_LOG("caps 0x%x", map[i].esp);
		EXPECT_EQ(map[i].want, caps_region_caps(p) & map[i].want)
			TH_LOG("caps 0x%x in %s", map[i].esp, caps_region_name(p));
		EXPECT_EQ(!(map[i].esp & MALLOC_CAP_HAPMEM_PROTECTED), cpu_readable(p));
		heap_caps_free(p);
	}
	EXPECT_EQ(0, cb_calls);
}

/* What hapmem has no memory for: NULL, and the callback with ESP-IDF's caps. */
TEST(refused_caps_call_the_callback)
{
	static const uint32_t refused[] = {
		MALLOC_CAP_EXEC, MALLOC_CAP_IRAM_8BIT, MALLOC_CAP_INVALID,
		MALLOC_CAP_INTERNAL | MALLOC_CAP_HAPMEM_UNCACHED,
		MALLOC_CAP_HAPMEM_PROTECTED | MALLOC_CAP_8BIT,
	};
	size_t i;

	setup(_metadata);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		cb_calls = 0;
		EXPECT_EQ(NULL, heap_caps_malloc(64, refused[i]));
		EXPECT_EQ(1, cb_calls);
		EXPECT_EQ(64, cb_size);
		EXPECT_EQ(refused[i], cb_caps);
		EXPECT_STREQ("heap_caps_malloc", cb_func);
	}
	/* too big for any region (2 MiB each) */
	cb_calls = 0;
	EXPECT_EQ(NULL, heap_caps_malloc(64 * MiB, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(1, cb_calls);
	EXPECT_EQ(64 * MiB, cb_size);
}

/* ESP-IDF answers NULL for 0 bytes; realloc to 0 frees. */
TEST(zero_bytes)
{
	void *p;

	setup(_metadata);
	EXPECT_EQ(NULL, heap_caps_malloc(0, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(NULL, heap_caps_calloc(0, 8, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(NULL, heap_caps_calloc(8, 0, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(NULL, heap_caps_aligned_alloc(16, 0, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(NULL, heap_caps_aligned_calloc(16, 0, 4, MALLOC_CAP_DEFAULT));
	p = heap_caps_realloc(NULL, 32, MALLOC_CAP_DEFAULT);
	ASSERT_NE(NULL, p);
	EXPECT_LE(32, heap_caps_get_allocated_size(p));
	EXPECT_EQ(NULL, heap_caps_realloc(p, 0, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(0, caps_block_size(p));	/* freed */
	heap_caps_free(NULL);
}

TEST(calloc_zeroes_and_overflow)
{
	unsigned char *p;
	size_t i, nz = 0;

	setup(_metadata);
	p = heap_caps_malloc(4096, MALLOC_CAP_8BIT);
	ASSERT_NE(NULL, p);
	memset(p, 0xee, 4096);
	heap_caps_free(p);
	p = heap_caps_calloc(64, 64, MALLOC_CAP_8BIT);
	ASSERT_NE(NULL, p);
	for (i = 0; i < 4096; i++)
		nz += p[i] != 0;
	EXPECT_EQ(0, nz);
	heap_caps_free(p);
	cb_calls = 0;
	EXPECT_EQ(NULL, heap_caps_calloc(SIZE_MAX / 2, 3, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(1, cb_calls);
	EXPECT_STREQ("heap_caps_calloc", cb_func);
	/* protected memory cannot be zeroed by the CPU */
	EXPECT_EQ(NULL, heap_caps_calloc(4, 4, MALLOC_CAP_HAPMEM_PROTECTED));
}

TEST(aligned)
{
	size_t a;

	setup(_metadata);
	for (a = 1; a <= 64 * KiB; a <<= 1) {
		unsigned char *p = heap_caps_aligned_alloc(a, 100, MALLOC_CAP_DMA);
		unsigned char *q = heap_caps_aligned_calloc(a, 10, 10, MALLOC_CAP_INTERNAL);

		ASSERT_NE(NULL, p);
		ASSERT_NE(NULL, q);
		EXPECT_EQ(0, (uintptr_t)p % a);
		EXPECT_EQ(0, (uintptr_t)q % a);
		EXPECT_EQ(0, q[0] | q[99]);
		EXPECT_TRUE(caps_region_caps(p) & HAPMEM_CAP_32BIT);
		heap_caps_aligned_free(p);
		heap_caps_free(q);
	}
	cb_calls = 0;
	EXPECT_EQ(NULL, heap_caps_aligned_alloc(24, 100, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(NULL, heap_caps_aligned_alloc(0, 100, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(NULL, heap_caps_aligned_calloc(3, 1, 1, MALLOC_CAP_DEFAULT));
	EXPECT_EQ(3, cb_calls);
}

/* realloc: the result has the asked caps, moving when the region lacks them. */
TEST(realloc_to_caps)
{
	unsigned char *p, *q;
	size_t i, bad = 0;

	setup(_metadata);
	p = heap_caps_malloc(200, MALLOC_CAP_INTERNAL);
	ASSERT_NE(NULL, p);
	for (i = 0; i < 200; i++)
		p[i] = (unsigned char)(i ^ 0x5a);
	q = heap_caps_realloc(p, 300, MALLOC_CAP_HAPMEM_UNCACHED | MALLOC_CAP_DMA);
	ASSERT_NE(NULL, q);
	EXPECT_STREQ("uncached32", caps_region_name(q));
	for (i = 0; i < 200; i++)
		bad += q[i] != (unsigned char)(i ^ 0x5a);
	EXPECT_EQ(0, bad);
	/* refused caps: NULL, callback, the block intact */
	cb_calls = 0;
	EXPECT_EQ(NULL, heap_caps_realloc(q, 400, MALLOC_CAP_EXEC));
	EXPECT_EQ(1, cb_calls);
	EXPECT_STREQ("heap_caps_realloc", cb_func);
	EXPECT_EQ((unsigned char)(199 ^ 0x5a), q[199]);
	heap_caps_free(q);
}

TEST(prefer_forms)
{
	unsigned char *p, *q;

	setup(_metadata);
	/* the first set that works, no callback for the ones before */
	p = heap_caps_malloc_prefer(128, 3, MALLOC_CAP_EXEC, MALLOC_CAP_HAPMEM_UNCACHED,
				    MALLOC_CAP_DEFAULT);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("uncached", caps_region_name(p));
	EXPECT_EQ(0, cb_calls);
	memset(p, 0x11, 128);
	q = heap_caps_realloc_prefer(p, 256, 2, MALLOC_CAP_IRAM_8BIT, MALLOC_CAP_RTCRAM);
	ASSERT_NE(NULL, q);
	EXPECT_STREQ("llc", caps_region_name(q));
	EXPECT_EQ(0x11, q[127]);
	heap_caps_free(q);
	p = heap_caps_calloc_prefer(16, 16, 2, MALLOC_CAP_INVALID, MALLOC_CAP_DMA);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, p[0] | p[255]);
	EXPECT_TRUE(caps_region_caps(p) & HAPMEM_CAP_32BIT);
	heap_caps_free(p);
	EXPECT_EQ(0, cb_calls);
	/* all refused: NULL, the callback once, with the last set */
	EXPECT_EQ(NULL, heap_caps_malloc_prefer(64, 2, MALLOC_CAP_EXEC, MALLOC_CAP_IRAM_8BIT));
	EXPECT_EQ(1, cb_calls);
	EXPECT_EQ(MALLOC_CAP_IRAM_8BIT, cb_caps);
	EXPECT_STREQ("heap_caps_malloc_prefer", cb_func);
	EXPECT_EQ(64, cb_size);
	EXPECT_EQ(NULL, heap_caps_calloc_prefer(4, 16, 1, MALLOC_CAP_EXEC));
	EXPECT_EQ(2, cb_calls);
	EXPECT_EQ(64, cb_size);	/* the whole request */
	EXPECT_STREQ("heap_caps_calloc_prefer", cb_func);
}

static int reports;

static void on_report(const char *msg, void *arg)
{
	(void)msg;
	(void)arg;
	reports++;
}

TEST(integrity_and_sizes)
{
	unsigned char *p;

	setup(_metadata);
	caps_debug_set_reporter(on_report, NULL);
	ASSERT_EQ(0, caps_debug_set_level(CAPS_DEBUG_CANARY));
	p = heap_caps_malloc(100, MALLOC_CAP_DEFAULT);
	ASSERT_NE(NULL, p);
	EXPECT_LE(100, heap_caps_get_allocated_size(p));
	EXPECT_LE(heap_caps_get_allocated_size(p), heap_caps_get_containing_block_size(p));
	EXPECT_EQ(0, heap_caps_get_allocated_size(NULL));
	EXPECT_TRUE(heap_caps_check_integrity_all(true));
	EXPECT_TRUE(heap_caps_check_integrity(MALLOC_CAP_DEFAULT, true));
	EXPECT_TRUE(heap_caps_check_integrity_addr((intptr_t)p, true));
	p[100] ^= 0xff;		/* the tail canary */
	EXPECT_FALSE(heap_caps_check_integrity_all(true));
	EXPECT_FALSE(heap_caps_check_integrity(MALLOC_CAP_INTERNAL, false));
	EXPECT_FALSE(heap_caps_check_integrity_addr((intptr_t)p, false));
	EXPECT_LT(0, reports);
	p[100] ^= 0xff;
	EXPECT_TRUE(heap_caps_check_integrity_all(true));
	heap_caps_free(p);
}

TEST(statistics)
{
	static const uint32_t caps[3] = { HAPMEM_CAP_LLC, 0, 0 };
	multi_heap_info_t info, before;
	size_t total, largest;
	void *m, *a, *b;

	setup(_metadata);
	m = mmap(NULL, 1 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_LT(0, caps_region_add_mem("fixed-rtc", m, 0x3000000, 1 * MiB, 0, caps));
	/* RTCRAM is the llc regions: the std set's (empty yet) and this one */
	heap_caps_get_info(&before, MALLOC_CAP_RTCRAM);
	total = heap_caps_get_total_size(MALLOC_CAP_RTCRAM);
	EXPECT_LE(1 * MiB, total);
	EXPECT_EQ(total, before.total_free_bytes + before.total_allocated_bytes);
	EXPECT_EQ(before.total_free_bytes, heap_caps_get_free_size(MALLOC_CAP_RTCRAM));
	a = heap_caps_malloc(100 * KiB, MALLOC_CAP_RTCRAM);
	b = heap_caps_malloc(5000, MALLOC_CAP_RTCRAM);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	heap_caps_get_info(&info, MALLOC_CAP_RTCRAM);
	EXPECT_EQ(before.allocated_blocks + 2, info.allocated_blocks);
	EXPECT_LE(before.total_allocated_bytes + 100 * KiB + 5000, info.total_allocated_bytes);
	EXPECT_EQ(info.allocated_blocks + info.free_blocks, info.total_blocks);
	EXPECT_EQ(info.total_free_bytes, heap_caps_get_free_size(MALLOC_CAP_RTCRAM));
	heap_caps_free(a);
	/* the minimum stays at the low-water mark */
	EXPECT_GE(heap_caps_get_total_size(MALLOC_CAP_RTCRAM) - 100 * KiB - 5000,
		  heap_caps_get_minimum_free_size(MALLOC_CAP_RTCRAM));
	/* the largest free block is allocatable, canaries on too */
	ASSERT_EQ(0, caps_debug_set_level(CAPS_DEBUG_CANARY));
	largest = heap_caps_get_largest_free_block(MALLOC_CAP_RTCRAM);
	ASSERT_LT(0, largest);
	a = heap_caps_malloc(largest, MALLOC_CAP_RTCRAM);
	EXPECT_NE(NULL, a) TH_LOG("%zu reported, refused", largest);
	heap_caps_free(a);
	heap_caps_free(b);
	/* caps served by no region, or refused: zeros */
	EXPECT_EQ(0, heap_caps_get_free_size(MALLOC_CAP_EXEC));
	EXPECT_EQ(0, heap_caps_get_total_size(MALLOC_CAP_INTERNAL | MALLOC_CAP_HAPMEM_UNCACHED));
	heap_caps_print_heap_info(MALLOC_CAP_RTCRAM);
	heap_caps_get_info(NULL, 0);
}

struct walk_seen {
	void *want[3];
	int found[3];
	size_t used, free_, blocks_in_first_heap;
	intptr_t first_heap;
	bool stop_first;
};

static bool walker(walk_heap_info_t heap, walk_block_info_t blk, void *user)
{
	struct walk_seen *w = user;
	int i;

	if (!((intptr_t)blk.ptr >= heap.start && (intptr_t)blk.ptr + (intptr_t)blk.size <= heap.end))
		return false;	/* a block outside its heap: the test sees it missing */
	if (!w->first_heap)
		w->first_heap = heap.start;
	if (heap.start == w->first_heap)
		w->blocks_in_first_heap++;
	for (i = 0; i < 3; i++)
		if (blk.used && (char *)w->want[i] >= (char *)blk.ptr &&
		    (char *)w->want[i] < (char *)blk.ptr + blk.size)
			w->found[i]++;
	if (blk.used)
		w->used++;
	else
		w->free_++;
	return !(w->stop_first && heap.start == w->first_heap);
}

TEST(walk)
{
	struct walk_seen w = { 0 }, all = { 0 }, stop = { 0 };

	setup(_metadata);
	w.want[0] = heap_caps_malloc(100, MALLOC_CAP_DMA);
	w.want[1] = heap_caps_malloc(5000, MALLOC_CAP_DMA);
	w.want[2] = heap_caps_malloc(64, MALLOC_CAP_HAPMEM_UNCACHED);
	ASSERT_NE(NULL, w.want[0]);
	ASSERT_NE(NULL, w.want[1]);
	ASSERT_NE(NULL, w.want[2]);
	memcpy(all.want, w.want, sizeof(w.want));
	/* DMA: the 32-bit regions only; the uncached block is not in them */
	heap_caps_walk(MALLOC_CAP_DMA, walker, &w);
	EXPECT_EQ(1, w.found[0]);
	EXPECT_EQ(1, w.found[1]);
	EXPECT_EQ(0, w.found[2]);
	EXPECT_EQ(2, w.used);
	EXPECT_LT(0, w.free_);
	heap_caps_walk_all(walker, &all);
	EXPECT_EQ(1, all.found[0]);
	EXPECT_EQ(1, all.found[1]);
	EXPECT_EQ(1, all.found[2]);
	EXPECT_EQ(3, all.used);
	/* false skips the rest of that heap */
	stop.stop_first = true;
	heap_caps_walk_all(walker, &stop);
	EXPECT_EQ(1, stop.blocks_in_first_heap);
	EXPECT_LT(0, all.blocks_in_first_heap);
	heap_caps_walk(MALLOC_CAP_EXEC, walker, &stop);	/* nothing, no crash */
	heap_caps_walk_all(NULL, NULL);
	heap_caps_free(w.want[0]);
	heap_caps_free(w.want[1]);
	heap_caps_free(w.want[2]);
}

TEST(heap_caps_add_region_face)
{
	static const uint32_t rtc[3] = { MALLOC_CAP_RTCRAM | MALLOC_CAP_8BIT, 0, 0 };
	static const uint32_t exec[3] = { MALLOC_CAP_EXEC, 0, 0 };
	unsigned char *mem, *blk, *p, *q;
	multi_heap_info_t info;

	setup(_metadata);
	mem = mmap(NULL, 256 * KiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_caps_add_region(0, 4096));
	EXPECT_EQ(ESP_ERR_INVALID_ARG, heap_caps_add_region((intptr_t)mem, (intptr_t)mem));
	EXPECT_EQ(ESP_ERR_INVALID_ARG,
		  heap_caps_add_region_with_caps(exec, (intptr_t)mem, (intptr_t)mem + 128 * KiB));
	EXPECT_EQ(ESP_ERR_INVALID_SIZE,
		  heap_caps_add_region((intptr_t)mem + 1, (intptr_t)mem + 17));
	/* a plain heap: heap_caps_malloc(RTCRAM | 8BIT) finds it */
	ASSERT_EQ(ESP_OK, heap_caps_add_region_with_caps(rtc, (intptr_t)mem,
							 (intptr_t)mem + 128 * KiB));
	p = heap_caps_malloc(1000, MALLOC_CAP_RTCRAM | MALLOC_CAP_8BIT);
	ASSERT_NE(NULL, p);
	EXPECT_TRUE(p >= mem && p < mem + 128 * KiB) TH_LOG("in %s", caps_region_name(p));
	heap_caps_get_info(&info, MALLOC_CAP_RTCRAM);
	EXPECT_LE(128 * KiB, info.total_free_bytes + info.total_allocated_bytes);
	EXPECT_EQ(ESP_FAIL, heap_caps_add_region((intptr_t)mem + 64 * KiB,
						 (intptr_t)mem + 192 * KiB));	/* overlaps */
	/* a heap made of a block of another heap, as ESP-IDF allows */
	blk = heap_caps_aligned_alloc(4096, 128 * KiB, MALLOC_CAP_DMA);
	ASSERT_NE(NULL, blk);
	ASSERT_EQ(ESP_OK, heap_caps_add_region((intptr_t)blk, (intptr_t)blk + 128 * KiB));
	q = heap_caps_malloc(64 * KiB, MALLOC_CAP_8BIT);
	ASSERT_NE(NULL, q);
	heap_caps_free(q);
	heap_caps_free(p);
}

/* Heaps of a few hundred bytes, at any alignment, as ESP-IDF allows. */
TEST(heap_caps_add_region_small)
{
	static const uint32_t rtc[3] = { MALLOC_CAP_RTCRAM | MALLOC_CAP_8BIT, 0, 0 };
	static _Alignas(64) unsigned char small[3][512];
	unsigned char *p[8], *q;
	multi_heap_info_t info;
	unsigned int i, n = 0;

	/* no standard regions (no device here): only the small heaps serve */
	/* 16 aligned bytes are enough; an odd start is aligned up */
	ASSERT_EQ(ESP_OK, heap_caps_add_region_with_caps(rtc, (intptr_t)small[0] + 3,
							 (intptr_t)small[0] + 512));
	heap_caps_get_info(&info, MALLOC_CAP_RTCRAM);
	EXPECT_EQ(512 - 16, info.total_free_bytes + info.total_allocated_bytes);
	/* it serves until full, every block inside it */
	while (n < 8 && (p[n] = heap_caps_malloc(100, MALLOC_CAP_RTCRAM | MALLOC_CAP_8BIT))) {
		EXPECT_TRUE(p[n] >= small[0] + 16 && p[n] + 100 <= small[0] + 512);
		EXPECT_EQ(0, (uintptr_t)p[n] % 16);
		memset(p[n], 0x5a, 100);
		n++;
	}
	EXPECT_EQ(4, n);	/* 496 bytes: four blocks of 112 */
	EXPECT_TRUE(heap_caps_check_integrity_all(true));
	for (i = 0; i < n; i++)
		heap_caps_free(p[i]);
	heap_caps_get_info(&info, MALLOC_CAP_RTCRAM);
	EXPECT_EQ(0, info.total_allocated_bytes);
	EXPECT_EQ(512 - 16, info.total_free_bytes);
	EXPECT_GE(512 - 16, info.largest_free_block);
	EXPECT_LE((512 - 16) * 15 / 16, info.largest_free_block);
	/* two more small heaps side by side in one 64 KiB chunk: each block found */
	ASSERT_EQ(ESP_OK, heap_caps_add_region((intptr_t)small[1], (intptr_t)small[1] + 512));
	ASSERT_EQ(ESP_OK, heap_caps_add_region((intptr_t)small[2], (intptr_t)small[2] + 256));
	EXPECT_EQ(ESP_FAIL, heap_caps_add_region((intptr_t)small[1] + 256,
						 (intptr_t)small[2] + 128));	/* overlaps both */
	q = heap_caps_malloc(300, MALLOC_CAP_RTCRAM);
	ASSERT_NE(NULL, q);
	EXPECT_TRUE(q >= small[0] && q < small[0] + 512);
	EXPECT_EQ(304, heap_caps_get_allocated_size(q));
	/* memory of a heap is its own to hand out: a heap may lie in a live
	 * block of it (q), not in its free memory */
	EXPECT_EQ(ESP_FAIL, heap_caps_add_region((intptr_t)small[0] + 400,
						 (intptr_t)small[0] + 480));
	ASSERT_EQ(ESP_OK, heap_caps_add_region_with_caps(rtc, (intptr_t)q + 64,
							 (intptr_t)q + 128));
	p[2] = heap_caps_malloc(64, MALLOC_CAP_RTCRAM);	/* the smallest heap first */
	EXPECT_EQ(q + 64, p[2]);
	heap_caps_free(p[2]);
	p[0] = heap_caps_malloc(200, MALLOC_CAP_8BIT);	/* the smallest heap that holds it */
	ASSERT_NE(NULL, p[0]);
	EXPECT_TRUE(p[0] >= small[2] && p[0] + 200 <= small[2] + 256);
	p[1] = heap_caps_malloc(400, MALLOC_CAP_8BIT);
	ASSERT_NE(NULL, p[1]);
	EXPECT_TRUE(p[1] >= small[1] && p[1] + 400 <= small[1] + 512);
	EXPECT_EQ(NULL, heap_caps_malloc(400, MALLOC_CAP_8BIT));
	heap_caps_free(p[1]);
	heap_caps_free(p[0]);
	heap_caps_free(q);
	heap_caps_get_info(&info, 0);
	EXPECT_EQ(0, info.total_allocated_bytes);
	EXPECT_EQ(496 + 512 + 256 + 64, info.total_free_bytes);	/* q's heap counts too */
}

/* The local-minimum monitor: a window on the minimum free size, restartable. */
TEST(monitor_local_minimum_free_size)
{
	static const uint32_t rtc[3] = { MALLOC_CAP_RTCRAM | MALLOC_CAP_8BIT, 0, 0 };
	static _Alignas(16) unsigned char mem[496];
	const uint32_t caps = MALLOC_CAP_RTCRAM;
	multi_heap_info_t info;
	void *p;

	/* one fixed heap (no device here, no standard regions): exact figures */
	ASSERT_EQ(ESP_OK, heap_caps_add_region_with_caps(rtc, (intptr_t)mem,
							 (intptr_t)mem + sizeof(mem)));
	EXPECT_EQ(ESP_FAIL, heap_caps_monitor_local_minimum_free_size_stop());
	p = heap_caps_malloc(300, caps);	/* 304 used at the peak */
	ASSERT_NE(NULL, p);
	heap_caps_free(p);
	EXPECT_EQ(496 - 304, heap_caps_get_minimum_free_size(caps));
	ASSERT_EQ(ESP_OK, heap_caps_monitor_local_minimum_free_size_start());
	EXPECT_EQ(496, heap_caps_get_minimum_free_size(caps));	/* from now on */
	heap_caps_free(heap_caps_malloc(100, caps));
	EXPECT_EQ(496 - 112, heap_caps_get_minimum_free_size(caps));
	p = heap_caps_malloc(20, caps);
	p = heap_caps_realloc(p, 150, caps);	/* a resize counts too */
	ASSERT_NE(NULL, p);
	heap_caps_get_info(&info, caps);
	EXPECT_EQ(496 - 160, info.minimum_free_bytes);
	heap_caps_free(p);
	/* started again: the window restarts */
	ASSERT_EQ(ESP_OK, heap_caps_monitor_local_minimum_free_size_start());
	EXPECT_EQ(496, heap_caps_get_minimum_free_size(caps));
	heap_caps_free(heap_caps_malloc(200, caps));
	EXPECT_EQ(496 - 208, heap_caps_get_minimum_free_size(caps));
	/* stopped: since the heap's creation again, the windows included */
	ASSERT_EQ(ESP_OK, heap_caps_monitor_local_minimum_free_size_stop());
	EXPECT_EQ(496 - 304, heap_caps_get_minimum_free_size(caps));
	EXPECT_EQ(ESP_FAIL, heap_caps_monitor_local_minimum_free_size_stop());
}

TEST_HARNESS_MAIN
