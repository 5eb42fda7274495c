// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HAP heap (HAP_malloc and friends) on the real driver:
 *  - a block written by the CPU is read by the remote's DMA at its device
 *    address, and the remote's writes are seen by the CPU;
 *  - each growth is one driver map of exactly the formula's size
 *    (global_maps/global_bytes and the session's counters), matching
 *    HAP_mem_get_stats;
 *  - the growth formula byte for byte through the driver for several
 *    (min, max, request) cases;
 *  - shrink on the high threshold unmaps (the counters fall);
 *  - fork: the child's heap starts empty, inherited pointers give
 *    AEE_EBADVA and fault, the parent's maps are untouched, and a child
 *    that allocates and exits (freeing or not) returns everything;
 *  - the per-thread front end is on by default and $HAPMEM_HEAP_FRONT_END=0
 *    turns it off; either way bytes_used and MAX_USED are exact (usable
 *    bytes: class sizes with the front end, 16-byte granules without) and
 *    the blocks reach the device;
 *  - the default release policy gives a freed segment back to the driver.
 *
 * Every TEST runs in its own process (the harness forks), so each starts
 * with an empty HAP heap.  Device checks are small: each transfer of up
 * to 4 KiB costs the edu DMA engine ~0.1 s.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "../child.h"
#include "../fault_probe.h"

#include "lib_test.h"

#define MiB (1ull << 20)

static uint64_t heap_bytes(const struct HAP_mem_stats *s)
{
	return s->bytes_free + s->bytes_used;
}

TEST(block_reaches_device_and_back)
{
	unsigned char wb[LT_PROBE], rb[LT_PROBE];
	uint64_t dev, dev_in;
	unsigned char *p;

	ASSERT_EQ(AEE_SUCCESS, HAP_malloc(3000, (void **)&p));
	ASSERT_NE(NULL, p);
	lt_fill(p, 3000, 1);
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_dev_addr(p, &dev));
	EXPECT_NE(0U, dev);
	/* CPU -> device: both ends of the block */
	EXPECT_EQ(0, lt_dev_matches(dev, p, 3000));
	/* an interior pointer translates to the same offset */
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_dev_addr(p + 1234, &dev_in));
	EXPECT_EQ(dev + 1234, dev_in);
	/* device -> CPU */
	lt_fill(wb, sizeof(wb), 9);
	ASSERT_EQ(0, hapmem_remote_write(dev + 512, wb, sizeof(wb)));
	EXPECT_EQ(0, memcmp(p + 512, wb, sizeof(wb)));
	ASSERT_EQ(0, hapmem_remote_read(dev + 512, rb, sizeof(rb)));
	EXPECT_EQ(0, memcmp(rb, wb, sizeof(rb)));
	EXPECT_EQ(AEE_SUCCESS, HAP_free(p));
	/* bad pointers */
	EXPECT_EQ(AEE_EBADCLASS, HAP_free(NULL));
	EXPECT_EQ(AEE_EBADVA, HAP_free(wb));
	EXPECT_EQ(AEE_EBADVA, HAP_mem_get_dev_addr(wb, &dev));
}

TEST(growth_is_one_driver_map)
{
	struct hapmem_info i0, i1, i2;
	struct HAP_mem_stats s0, s1, s2;
	void *a, *b;

	ASSERT_EQ(AEE_SUCCESS, HAP_mem_set_grow_size(2 * MiB, 8 * MiB));
	ASSERT_EQ(0, lt_info(&i0));
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_stats(&s0));
	EXPECT_EQ(0U, heap_bytes(&s0));
	EXPECT_EQ(2 * MiB, s0.min_grow_bytes);

	/* first growth: ALIGN(2 MiB + 100, 1 MiB) = 3 MiB */
	ASSERT_EQ(AEE_SUCCESS, HAP_malloc(100, &a));
	ASSERT_EQ(0, lt_info(&i1));
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_stats(&s1));
	EXPECT_EQ(i0.global_maps + 1, i1.global_maps);
	EXPECT_EQ(i0.global_bytes + 3 * MiB, i1.global_bytes);
	EXPECT_EQ(i0.session_maps + 1, i1.session_maps);
	EXPECT_EQ(i0.session_bytes + 3 * MiB, i1.session_bytes);
	EXPECT_EQ(3 * MiB, heap_bytes(&s1));
	EXPECT_EQ(1U, s1.seg_used);
	TH_LOG("growth 1: global_bytes %llu -> %llu, heap %llu bytes",
	       (unsigned long long)i0.global_bytes, (unsigned long long)i1.global_bytes,
	       (unsigned long long)heap_bytes(&s1));

	/* a block that fits: no growth */
	ASSERT_EQ(AEE_SUCCESS, HAP_malloc(MiB, &b));
	ASSERT_EQ(0, lt_info(&i2));
	EXPECT_EQ(i1.global_maps, i2.global_maps);
	EXPECT_EQ(AEE_SUCCESS, HAP_free(b));

	/* second growth: ALIGN(2 MiB + 5 MiB, 1 MiB) = 7 MiB */
	ASSERT_EQ(AEE_SUCCESS, HAP_malloc(5 * MiB, &b));
	ASSERT_EQ(0, lt_info(&i2));
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_stats(&s2));
	EXPECT_EQ(i1.global_maps + 1, i2.global_maps);
	EXPECT_EQ(i1.global_bytes + 7 * MiB, i2.global_bytes);
	EXPECT_EQ(heap_bytes(&s1) + 7 * MiB, heap_bytes(&s2));
	EXPECT_EQ(2U, s2.seg_used);
	/* the heap's bytes are exactly what the session has mapped */
	EXPECT_EQ(i2.session_bytes - i0.session_bytes, heap_bytes(&s2));
	EXPECT_EQ(AEE_SUCCESS, HAP_free(a));
	EXPECT_EQ(AEE_SUCCESS, HAP_free(b));
	/*
	 * No threshold set: the default release policy gives the 7 MiB
	 * segment back (unused above twice the reserve, max(2 MiB, used / 8));
	 * the first one stays, held by the thread's empty slab.
	 */
	ASSERT_EQ(0, lt_info(&i1));
	EXPECT_EQ(i2.global_maps - 1, i1.global_maps);
	EXPECT_EQ(i2.global_bytes - 7 * MiB, i1.global_bytes);
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_stats(&s2));
	EXPECT_EQ(3 * MiB, heap_bytes(&s2));
}

struct grow_case {
	uint64_t min, max;
	uint32_t request;
	uint64_t mgb, grow;	/* expected min_grow_bytes and segment length */
};

/* Written out, not recomputed: MIN(max, MAX(min, 1 MiB)), ALIGN(mgb + req, 1 MiB). */
static const struct grow_case cases[] = {
	{ 0, 0, 0, 0, 1 * MiB },			/* request 0 counts as 1 byte */
	{ 2 * MiB, 8 * MiB, 100, 2 * MiB, 3 * MiB },
	{ 3 * MiB + 5, 16 * MiB, 1 * MiB, 3 * MiB + 5, 5 * MiB },
	{ 1 * MiB, 2 * MiB, 10 * MiB, 1 * MiB, 11 * MiB },	/* request above max */
	{ 4 * MiB, 1 * MiB, 10, 1 * MiB, 2 * MiB },		/* min > max: max wins */
	{ 0, 512 * 1024, 600 * 1024, 512 * 1024, 2 * MiB },
};

TEST(growth_formula_through_driver)
{
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct grow_case *g = &cases[i];
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid) {
			/* a fresh heap (and session) per case */
			struct hapmem_info a, b;
			struct HAP_mem_stats s;
			void *p;

			HM_CHILD_EXIT_UNLESS(1, HAP_mem_set_grow_size(g->min, g->max) == AEE_SUCCESS);
			HM_CHILD_EXIT_UNLESS(2, lt_info(&a) == 0);
			HM_CHILD_EXIT_UNLESS(3, HAP_malloc(g->request, &p) == AEE_SUCCESS);
			HM_CHILD_EXIT_UNLESS(4, lt_info(&b) == 0);
			HM_CHILD_EXIT_UNLESS(5, HAP_mem_get_stats(&s) == AEE_SUCCESS);
			HM_CHILD_EXIT_UNLESS(6, s.min_grow_bytes == g->mgb);
			HM_CHILD_EXIT_UNLESS(7, b.session_maps == a.session_maps + 1);
			HM_CHILD_EXIT_UNLESS(8, b.session_bytes - a.session_bytes == g->grow);
			HM_CHILD_EXIT_UNLESS(9, b.global_bytes - a.global_bytes == g->grow);
			HM_CHILD_EXIT_UNLESS(10, heap_bytes(&s) == g->grow);
			_exit(0);
		}
		EXPECT_EQ(0, hm_child_status(pid)) TH_LOG("case %u: min %llu max %llu request %u",
						       i, (unsigned long long)g->min,
						       (unsigned long long)g->max, g->request);
	}
}

TEST(shrink_returns_memory)
{
	struct hapmem_info i0, i1, i2;
	struct HAP_mem_stats s;
	void *small, *big;

	ASSERT_EQ(AEE_SUCCESS, HAP_mem_set_grow_size(MiB, MiB));
	ASSERT_EQ(AEE_SUCCESS, HAP_malloc(1000, &small));	/* segment 1: 2 MiB */
	ASSERT_EQ(0, lt_info(&i0));
	ASSERT_EQ(AEE_SUCCESS, HAP_malloc(3 * MiB, &big));	/* segment 2: 4 MiB */
	ASSERT_EQ(0, lt_info(&i1));
	EXPECT_EQ(i0.global_maps + 1, i1.global_maps);
	EXPECT_EQ(i0.global_bytes + 4 * MiB, i1.global_bytes);

	ASSERT_EQ(AEE_EBADPARM, HAP_mem_set_heap_thresholds(3 * MiB, 2 * MiB));
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_set_heap_thresholds(0, 2 * MiB));
	/* freeing big leaves a 4 MiB free segment, above high: it goes back */
	ASSERT_EQ(AEE_SUCCESS, HAP_free(big));
	ASSERT_EQ(0, lt_info(&i2));
	EXPECT_EQ(i0.global_maps, i2.global_maps);
	EXPECT_EQ(i0.global_bytes, i2.global_bytes);
	EXPECT_EQ(i0.session_bytes, i2.session_bytes);
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_stats(&s));
	EXPECT_EQ(2 * MiB, heap_bytes(&s));
	EXPECT_EQ(1U, s.seg_used);
	TH_LOG("shrink: global_bytes %llu -> %llu -> %llu",
	       (unsigned long long)i0.global_bytes, (unsigned long long)i1.global_bytes,
	       (unsigned long long)i2.global_bytes);
	/* the segment in use stays (its largest free block is below high) */
	EXPECT_EQ(AEE_SUCCESS, HAP_free(small));
	ASSERT_EQ(0, lt_info(&i2));
	EXPECT_EQ(i0.global_maps, i2.global_maps);
}

TEST(fork_child_heap)
{
	struct hapmem_info i0, i1;
	uint64_t dev;
	unsigned char *p;
	pid_t pid;

	ASSERT_EQ(AEE_SUCCESS, HAP_malloc(4096, (void **)&p));
	lt_fill(p, 4096, 3);
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_dev_addr(p, &dev));
	ASSERT_EQ(0, lt_info(&i0));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hapmem_info c0, c1;
		struct HAP_mem_stats s;
		unsigned char *q;
		uint64_t d, qd;
		void *r;

		HM_CHILD_EXIT_UNLESS(1, HAP_mem_get_stats(&s) == AEE_SUCCESS);
		HM_CHILD_EXIT_UNLESS(2, heap_bytes(&s) == 0 && s.seg_used == 0 && s.seg_free == 0);
		HM_CHILD_EXIT_UNLESS(3, HAP_free(p) == AEE_EBADVA);
		HM_CHILD_EXIT_UNLESS(4, HAP_mem_get_dev_addr(p, &d) == AEE_EBADVA);
		HM_CHILD_EXIT_UNLESS(5, HAP_realloc(p, 100, &r) == AEE_EBADVA);
		HM_CHILD_EXIT_UNLESS(6, read_faults(p));
		/* the child's own session and heap */
		HM_CHILD_EXIT_UNLESS(7, lt_info(&c0) == 0);
		HM_CHILD_EXIT_UNLESS(8, c0.session_maps == 0);
		HM_CHILD_EXIT_UNLESS(9, HAP_malloc(4096, (void **)&q) == AEE_SUCCESS);
		lt_fill(q, 4096, 4);
		HM_CHILD_EXIT_UNLESS(10, HAP_mem_get_dev_addr(q, &qd) == AEE_SUCCESS);
		HM_CHILD_EXIT_UNLESS(11, lt_dev_matches(qd, q, 4096) == 0);
		HM_CHILD_EXIT_UNLESS(12, lt_info(&c1) == 0 && c1.session_maps == 1);
		HM_CHILD_EXIT_UNLESS(13, HAP_free(p) == AEE_EBADVA);	/* still, after allocating */
		HM_CHILD_EXIT_UNLESS(14, HAP_free(q) == AEE_SUCCESS);
		_exit(0);
	}
	EXPECT_EQ(0, hm_child_status(pid));
	/* the parent's map is intact, in the driver and for the device */
	ASSERT_EQ(0, lt_info(&i1));
	EXPECT_EQ(i0.session_maps, i1.session_maps);
	EXPECT_EQ(i0.global_maps, i1.global_maps);
	EXPECT_EQ(i0.global_bytes, i1.global_bytes);
	EXPECT_EQ(0U, lt_bad(p, 4096, 3));
	EXPECT_EQ(0, lt_dev_matches(dev, p, 4096));
	EXPECT_EQ(AEE_SUCCESS, HAP_free(p));
}

/* A child that allocates a lot and exits: freeing (1) or not (0). */
static void child_allocates(struct __test_metadata *_metadata, int free_first)
{
	struct hapmem_info i0, i1;
	void *keep;
	pid_t pid;

	/* the parent has heap memory of its own too */
	ASSERT_EQ(AEE_SUCCESS, HAP_malloc(1000, &keep));
	ASSERT_EQ(0, lt_info(&i0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hapmem_info c;
		void *b[48];
		int k;

		HM_CHILD_EXIT_UNLESS(1, HAP_mem_set_grow_size(MiB, 4 * MiB) == AEE_SUCCESS);
		for (k = 0; k < 48; k++) {
			HM_CHILD_EXIT_UNLESS(2, HAP_malloc(768 * 1024, &b[k]) == AEE_SUCCESS);
			memset(b[k], k, 768 * 1024);
		}
		HM_CHILD_EXIT_UNLESS(3, lt_info(&c) == 0);
		HM_CHILD_EXIT_UNLESS(4, c.global_sessions == i0.global_sessions + 1);
		HM_CHILD_EXIT_UNLESS(5, c.session_bytes >= 36 * MiB && c.session_maps >= 2);
		HM_CHILD_EXIT_UNLESS(6, c.global_bytes == i0.global_bytes + c.session_bytes);
		if (free_first)
			for (k = 0; k < 48; k++)
				HM_CHILD_EXIT_UNLESS(7, HAP_free(b[k]) == AEE_SUCCESS);
		exit(0);
	}
	EXPECT_EQ(0, hm_child_status(pid));
	ASSERT_EQ(0, lt_info(&i1));
	EXPECT_EQ(i0.global_sessions, i1.global_sessions);
	EXPECT_EQ(i0.global_maps, i1.global_maps);
	EXPECT_EQ(i0.global_bytes, i1.global_bytes);
	EXPECT_EQ(i0.global_buffers, i1.global_buffers);
	EXPECT_EQ(i0.global_pages, i1.global_pages);
	EXPECT_EQ(i0.session_maps, i1.session_maps);
	EXPECT_EQ(AEE_SUCCESS, HAP_free(keep));
}

TEST(child_exit_returns_everything)
{
	child_allocates(_metadata, 0);
}

TEST(child_frees_and_exits)
{
	child_allocates(_metadata, 1);
}

static unsigned long max_used(void)
{
	HAP_mem_heap_info_t info = { .req_id = MAX_USED };

	return HAP_mem_get_heap_info(&info) == AEE_SUCCESS ? info.max_used : 0;
}

/*
 * 32 blocks of 300 bytes, a device check of one, a double free; the
 * peak, and bytes_used while they live (a 300-byte block is 320 bytes of
 * its class with the front end, 304 from the core).
 */
static unsigned long small_blocks(struct __test_metadata *_metadata, uint64_t *used)
{
	unsigned char *p[32];
	struct HAP_mem_stats s;
	unsigned long peak;
	uint64_t dev;
	int i;

	for (i = 0; i < 32; i++) {
		EXPECT_EQ(AEE_SUCCESS, HAP_malloc(300, (void **)&p[i]));
		lt_fill(p[i], 300, i);
	}
	ASSERT_EQ(AEE_SUCCESS, HAP_mem_get_dev_addr(p[17], &dev));
	EXPECT_EQ(0, lt_dev_matches(dev, p[17], 300));
	EXPECT_EQ(AEE_SUCCESS, HAP_mem_get_stats(&s));
	*used = s.bytes_used;
	for (i = 0; i < 16; i++)
		EXPECT_EQ(AEE_SUCCESS, HAP_free(p[i]));
	peak = max_used();
	for (i = 16; i < 32; i++)
		EXPECT_EQ(AEE_SUCCESS, HAP_free(p[i]));
	EXPECT_EQ(AEE_EBADPARM, HAP_free(p[5]));
	EXPECT_EQ(AEE_SUCCESS, HAP_mem_get_stats(&s));
	EXPECT_EQ(0U, s.bytes_used);
	return peak;
}

TEST(front_end_on_by_default)
{
	unsigned long peak;
	uint64_t used;

	unsetenv("HAPMEM_HEAP_FRONT_END");
	peak = small_blocks(_metadata, &used);
	/* exact: 32 blocks of the 320-byte class, the peak too */
	EXPECT_EQ(32U * 320, used);
	EXPECT_EQ(32UL * 320, peak);
}

TEST(front_end_off_from_environment)
{
	unsigned long peak;
	uint64_t used;

	ASSERT_EQ(0, setenv("HAPMEM_HEAP_FRONT_END", "0", 1));
	peak = small_blocks(_metadata, &used);
	/* exact: 32 core blocks of 19 granules */
	EXPECT_EQ(32U * 304, used);
	EXPECT_EQ(32UL * 304, peak);
}

TEST_HARNESS_MAIN
