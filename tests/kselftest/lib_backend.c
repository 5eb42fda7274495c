// SPDX-License-Identifier: GPL-2.0-only
/*
 * The heap's driver backend (lib/transport/backend_driver.c) on the real driver:
 * segments are request_map(ADD_PAGES) maps with a CPU mapping, seen by
 * the device at their address, counted by the driver while they live and
 * gone after release; the other configurations (uncached, 32-bit,
 * protected) give what they promise.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"

#include "transport/backend_driver.h"
#include "lib_test.h"

TEST(default_segments)
{
	struct hm_segment_desc seg[3], s;
	struct hapmem_info before, info;
	void *ctx = hm_backend_driver_ctx();
	int i;

	ASSERT_NE(NULL, ctx);
	ASSERT_EQ(0, lt_info(&before));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, hm_backend_driver.grow(ctx, (size_t)(i + 1) << 20, &seg[i]));
		ASSERT_NE(NULL, seg[i].cpu);
		EXPECT_NE(0U, seg[i].dev);
		EXPECT_EQ((size_t)(i + 1) << 20, seg[i].len);
		lt_fill(seg[i].cpu, seg[i].len, i);
		EXPECT_EQ(0, lt_dev_matches(seg[i].dev, seg[i].cpu, seg[i].len));
	}
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_EQ(before.session_maps + 3, info.session_maps);
	EXPECT_EQ(before.session_bytes + (6 << 20), info.session_bytes);
	/* lengths that are not whole pages are refused */
	EXPECT_EQ(-EINVAL, hm_backend_driver.grow(ctx, 12345, &s));
	EXPECT_EQ(-EINVAL, hm_backend_driver.grow(ctx, 0, &s));
	for (i = 0; i < 3; i++)
		hm_backend_driver.release(ctx, &seg[i]);
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_EQ(before.session_maps, info.session_maps);
	EXPECT_EQ(before.global_pages, info.global_pages);
}

TEST(configured_segments)
{
	struct hm_driver_backend_cfg low = {
		.rflags = HAPMEM_RFLAG_ADD_PAGES, .ion_flags = 0,
		.place = HAPMEM_MAP_VA32, .heap_id = HAPMEM_HEAP_ID_ANY,
	};
	struct hm_driver_backend_cfg prot = {
		.rflags = HAPMEM_RFLAG_REMOTE_HEAP_ADDR, .place = HAPMEM_MAP_VA_HIGH,
	};
	struct hm_driver_backend_cfg bad = { .rflags = 0x2 };
	unsigned char wb[LT_PROBE], rb[LT_PROBE];
	struct hm_segment_desc s;
	void *c;

	c = hm_backend_driver_ctx_new(&low);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, hm_backend_driver.grow(c, 2 << 20, &s));
	EXPECT_LE(s.dev + s.len, LT_4G);
	lt_fill(s.cpu, s.len, 4);
	EXPECT_EQ(0, lt_dev_matches(s.dev, s.cpu, s.len));
	hm_backend_driver.release(c, &s);
	hm_backend_driver_ctx_free(c);

	/* protected: no CPU mapping; the device reads what it wrote */
	c = hm_backend_driver_ctx_new(&prot);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, hm_backend_driver.grow(c, 1 << 20, &s));
	EXPECT_EQ(NULL, s.cpu);
	EXPECT_LE(LT_4G, s.dev);
	lt_fill(wb, sizeof(wb), 6);
	ASSERT_EQ(0, hapmem_remote_write(s.dev + 8192, wb, sizeof(wb)));
	ASSERT_EQ(0, hapmem_remote_read(s.dev + 8192, rb, sizeof(rb)));
	EXPECT_EQ(0, memcmp(wb, rb, sizeof(rb)));
	hm_backend_driver.release(c, &s);
	hm_backend_driver_ctx_free(c);

	errno = 0;
	EXPECT_EQ(NULL, hm_backend_driver_ctx_new(&bad));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, lt_session_maps());
}

TEST_HARNESS_MAIN
