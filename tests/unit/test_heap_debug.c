// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAP heap debugging aids: marker leak reports, the CSV block log, bad
 * frees, and the HAP face's behaviour without /dev/hapmem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "heap_fixture.h"
#include "HAP_mem_heap.h"
#include "AEEStdErr.h"

TEST_F(heap, marker_reports_live_blocks_since_start)
{
	void *before, *a, *b, *c, *inner;
	uint16_t outer_id, inner_id;
	char *text = NULL, addr[32];
	size_t len = 0;
	FILE *f;

	ASSERT_EQ(0, hm_heap_alloc(self->h, 64, 0, &before));
	ASSERT_EQ(0, hm_heap_marker_start(self->h, &outer_id));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 100, 0, &a));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 200, 0, &b));
	ASSERT_EQ(0, hm_heap_marker_start(self->h, &inner_id));
	EXPECT_NE(outer_id, inner_id);
	ASSERT_EQ(0, hm_heap_alloc(self->h, 300, 0, &inner));
	ASSERT_EQ(0, hm_heap_alloc(self->h, 400, 0, &c));
	EXPECT_EQ(0, hm_heap_free(self->h, c));		/* freed again: no leak */
	EXPECT_EQ(1, hm_heap_marker_end(self->h, inner_id, NULL));
	EXPECT_EQ(0, hm_heap_free(self->h, a));

	f = open_memstream(&text, &len);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(2, hm_heap_marker_end(self->h, outer_id, f));	/* b and inner */
	fclose(f);
	snprintf(addr, sizeof(addr), "%p", b);
	EXPECT_NE(NULL, strstr(text, addr)) TH_LOG("%s", text);
	snprintf(addr, sizeof(addr), "%p", inner);
	EXPECT_NE(NULL, strstr(text, addr));
	snprintf(addr, sizeof(addr), "%p ", before);
	EXPECT_EQ(NULL, strstr(text, addr));
	EXPECT_NE(NULL, strstr(text, "2 block(s) leaked"));
	free(text);
	EXPECT_EQ(-EINVAL, hm_heap_marker_end(self->h, outer_id, NULL));	/* closed */
	EXPECT_EQ(0, hm_heap_free(self->h, b));
	EXPECT_EQ(0, hm_heap_free(self->h, inner));
	EXPECT_EQ(0, hm_heap_free(self->h, before));
}

TEST_F(heap, csv_lists_every_block)
{
	void *p[4];
	size_t sizes[4] = { 16, 1000, 4096, 70000 }, total = 0;
	char *text = NULL, *line, *save;
	unsigned int rows = 0, used = 0, i;
	uintptr_t prev_end = 0;
	size_t len = 0;
	FILE *f;

	ASSERT_EQ(0, hm_heap_set_grow_size(self->h, 0, 0));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, hm_heap_alloc(self->h, sizes[i], 0, &p[i]));
	EXPECT_EQ(0, hm_heap_free(self->h, p[1]));	/* a hole */
	hm_heap_set_cache_limit(self->h, 0);
	f = open_memstream(&text, &len);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, hm_heap_log_blocks(self->h, f));
	fclose(f);
	line = strtok_r(text, "\n", &save);
	ASSERT_NE(NULL, line);
	EXPECT_STREQ("address,size,state,segment,device_address", line);
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned long long addr, dev;
		char state[16];
		unsigned int seg;
		size_t size;
		uint64_t want_dev;

		ASSERT_EQ(5, sscanf(line, "%llx,%zu,%15[a-z],%u,%llx", &addr, &size, state, &seg, &dev))
			TH_LOG("%s", line);
		rows++;
		total += size;
		if (prev_end)
			EXPECT_EQ(prev_end, addr);		/* contiguous, in order */
		prev_end = addr + size;
		ASSERT_EQ(0, hm_heap_dev_addr(self->h, (void *)(uintptr_t)addr, &want_dev));
		EXPECT_EQ(want_dev, dev);
		EXPECT_EQ(0, seg);
		if (!strcmp(state, "used")) {
			for (i = 0; i < 4; i++)
				if ((uintptr_t)p[i] == addr && i != 1)
					break;
			EXPECT_GT(4, i) TH_LOG("unknown used block %llx", addr);
			if (i < 4)
				EXPECT_EQ((sizes[i] + 15) & ~15ul, size);
			used++;
		} else {
			EXPECT_STREQ("free", state);
		}
	}
	EXPECT_EQ(3, used);
	EXPECT_EQ(5, rows);			/* 3 used, the hole, the tail */
	EXPECT_EQ(1 * MiB, total);
	free(text);
	for (i = 0; i < 4; i++)
		if (i != 1)
			EXPECT_EQ(0, hm_heap_free(self->h, p[i]));
}

TEST_F(heap, bad_frees_are_errors)
{
	void *p;
	int local;

	ASSERT_EQ(0, hm_heap_alloc(self->h, 48, 0, &p));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, (char *)p + 16));
	EXPECT_EQ(0, hm_heap_free(self->h, p));
	EXPECT_EQ(-EINVAL, hm_heap_free(self->h, p));		/* double free */
	EXPECT_EQ(-EFAULT, hm_heap_free(self->h, &local));	/* foreign */
	EXPECT_EQ(0, heap_stats(self->h).core.live_blocks);
}

/* The host has no /dev/hapmem: the HAP face must fail, never use the host backend. */
TEST(hap_face_without_device)
{
	struct HAP_mem_stats st;
	HAP_mem_heap_info_t info = { .req_id = 7 };
	void *p = (void *)1;

	if (!access("/dev/hapmem", F_OK))
		SKIP(return, "/dev/hapmem exists here");
	EXPECT_EQ(AEE_EBADCLASS, HAP_free(NULL));
	EXPECT_EQ(AEE_ENOMEMORY, HAP_malloc(16, &p));
	EXPECT_EQ(NULL, p);
	EXPECT_EQ(AEE_ERESOURCENOTFOUND, HAP_mem_get_stats(&st));
	EXPECT_EQ(AEE_EBADPARM, HAP_mem_get_heap_info(&info));
	EXPECT_EQ(AEE_EBADMEMALIGN, HAP_memalign(24, 16, &p));
	EXPECT_EQ(AEE_EBADCLASS, HAP_free(NULL));
}

TEST_HARNESS_MAIN
