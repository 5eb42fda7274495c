// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAP heap, resident pages after a phase of frees: frees into slabs make
 * no purge check, so the heap purges when it allocates from the core
 * again after its bytes in use fell by more than a 32nd of it (less than
 * the eighth that purges during the frees); a block above 2560 B has a
 * page of its own.
 */
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"
#include "heap_fixture.h"

#define SLOT	2048u			/* two slots per page, page-aligned slabs */
#define NBLK	(48 * MiB / SLOT)
#define NSP	256			/* 64 KiB core blocks among them */
#define NBIG	8

static unsigned char *blk[NBLK];
static void *sp[NSP];

/*
 * 48 MiB of 2 KiB blocks with 16 MiB of 64 KiB core blocks among them,
 * which are then freed and purged (16 MiB free in a 64 MiB heap: the
 * policy's floor is an eighth, 8 MiB, its 32nd 2 MiB).  Then (if @fall) 4
 * MiB of the small blocks freed in whole pages, both slots of every 12th
 * page: no slab empties, so no byte goes back to the core and no purge
 * check runs.  Then 2 MiB of large blocks from the core.  Returns the
 * purges and the discarded bytes that the large blocks' allocation
 * brought.
 */
static void phase(struct __test_metadata *_metadata, bool fall, uint64_t *purges,
		  uint64_t *discarded)
{
	void *ctx = hm_backend_host_ctx_new(), *big[NBIG];
	struct hm_heap *h;
	uint64_t p0, d0;
	unsigned int i;

	ASSERT_NE(NULL, ctx);
	h = hm_heap_create_default(&hm_backend_host, ctx);
	ASSERT_NE(NULL, h);
	/* Growth steps of 4 MiB: the floor is then an eighth of the heap. */
	ASSERT_EQ(0, hm_heap_set_grow_size(h, MiB, 4 * MiB));
	for (i = 0; i < NBLK; i++) {
		ASSERT_EQ(0, hm_heap_alloc(h, SLOT, 0, (void **)&blk[i]));
		memset(blk[i], (int)(i & 0xff), SLOT);
		if (i % (NBLK / NSP) == 0)
			ASSERT_EQ(0, hm_heap_alloc(h, 64 * KiB, 0, &sp[i / (NBLK / NSP)]));
	}
	for (i = 0; i < NSP; i++)
		ASSERT_EQ(0, hm_heap_free(h, sp[i]));
	hm_heap_purge(h);
	if (fall)
		for (i = 0; i < NBLK; i++)
			if ((i / 2) % 12 == 0) {
				ASSERT_EQ(0, hm_heap_free(h, blk[i]));
				blk[i] = NULL;
			}
	p0 = heap_stats(h).purge_events;
	d0 = host_counters(ctx).discard_bytes;
	for (i = 0; i < NBIG; i++) {
		ASSERT_EQ(0, hm_heap_alloc(h, 256 * KiB, 0, &big[i]));
		memset(big[i], 0xa5, 256 * KiB);
	}
	*purges = heap_stats(h).purge_events - p0;
	*discarded = host_counters(ctx).discard_bytes - d0;
	for (i = 0; i < NBLK; i++) {
		if (!blk[i])
			continue;
		/* A purge gives back free pages only: every live block keeps its bytes. */
		ASSERT_EQ((unsigned char)(i & 0xff), blk[i][0]);
		ASSERT_EQ((unsigned char)(i & 0xff), blk[i][SLOT - 1]);
		ASSERT_EQ(0, hm_heap_free(h, blk[i]));
	}
	for (i = 0; i < NBIG; i++)
		ASSERT_EQ(0, hm_heap_free(h, big[i]));
	hm_heap_destroy(h);
	hm_backend_host_ctx_free(ctx);
}

TEST(purge_when_allocation_resumes)
{
	uint64_t purges, discarded;

	phase(_metadata, true, &purges, &discarded);
	EXPECT_EQ(1, purges);
	/* The 4 MiB of pages freed whole, less what the large blocks reused. */
	EXPECT_LE(2 * MiB, discarded);
}

TEST(no_fall_no_purge)
{
	uint64_t purges, discarded;

	phase(_metadata, false, &purges, &discarded);
	EXPECT_EQ(0, purges);
	EXPECT_EQ(0, discarded);
}

/* Blocks above 2560 B: one page each, page-aligned; 2560 B and below stay dense. */
TEST(page_slots_above_2560)
{
	void *ctx = hm_backend_host_ctx_new(), *p[3];
	struct hm_heap *h;
	unsigned int i;

	ASSERT_NE(NULL, ctx);
	h = hm_heap_create_default(&hm_backend_host, ctx);
	ASSERT_NE(NULL, h);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, hm_heap_alloc(h, 2561 + i * 700, 0, &p[i]));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, (uintptr_t)p[i] & 4095);
		if (i)
			EXPECT_EQ(4096, (uintptr_t)p[i] - (uintptr_t)p[i - 1]);
	}
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, hm_heap_free(h, p[i]));
	ASSERT_EQ(0, hm_heap_alloc(h, 2560, 0, &p[0]));
	ASSERT_EQ(0, hm_heap_alloc(h, 2560, 0, &p[1]));
	EXPECT_EQ(2560, (uintptr_t)p[1] - (uintptr_t)p[0]);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, hm_heap_free(h, p[i]));
	hm_heap_destroy(h);
	hm_backend_host_ctx_free(ctx);
}

TEST_HARNESS_MAIN
