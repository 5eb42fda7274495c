// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capability heaps on the real driver (runs as root in the VM):
 * protected blocks reach the remote's DMA at their device address and
 * have no CPU mapping; 32-bit blocks sit below 4 GiB; LLC blocks come
 * from the carve-out; uncached and cached blocks are seen by the device;
 * a user dma-buf registered as a region serves allocations by attribute;
 * everything goes back to the driver.  Each device check moves at most
 * 64 bytes (~0.1 s per transfer on TCG).
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"

#include "hapmem_caps.h"
#include "lib_test.h"

/* Permissions of the mapping holding @p in /proc/self/maps ("" if none). */
static void maps_perms(const void *p, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	perms[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char pr[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 &&
		    (uintptr_t)p >= lo && (uintptr_t)p < hi) {
			memcpy(perms, pr, 5);
			break;
		}
	}
	if (f)
		fclose(f);
}

TEST(protected_block_reaches_the_remote_only)
{
	unsigned char wr[LT_PROBE], rd[LT_PROBE];
	struct hapmem_info before, info;
	char perms[5];
	uint64_t dev;
	void *p;

	ASSERT_EQ(0, lt_info(&before));
	ASSERT_EQ(0, caps_init_default());
	p = caps_malloc(8192, HAPMEM_CAP_PROTECTED);
	ASSERT_NE(NULL, p) TH_LOG("%s", strerror(errno));
	EXPECT_STREQ("protected", caps_region_name(p));
	ASSERT_EQ(0, caps_dev_addr(p, &dev));
	/* the remote writes and reads it back at its device address */
	lt_fill(wr, sizeof(wr), 3);
	ASSERT_EQ(0, hapmem_remote_write(dev + 4096, wr, sizeof(wr)));
	ASSERT_EQ(0, hapmem_remote_read(dev + 4096, rd, sizeof(rd)));
	EXPECT_EQ(0, memcmp(wr, rd, sizeof(wr)));
	/* the CPU has nothing there but an inaccessible placeholder */
	maps_perms(p, perms);
	EXPECT_STREQ("---p", perms);
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_GT(info.session_bytes, before.session_bytes);	/* a real driver map */
	EXPECT_EQ(0, caps_free(p));
	/* protected and below 4 GiB */
	p = caps_malloc(64, HAPMEM_CAP_PROTECTED | HAPMEM_CAP_32BIT);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, caps_dev_addr(p, &dev));
	EXPECT_LE(dev + 64, LT_4G);
	EXPECT_EQ(0, caps_free(p));
}

TEST(bit32_blocks_are_below_4g)
{
	unsigned char *p, *q;
	uint64_t dev;

	ASSERT_EQ(0, caps_init_default());
	p = caps_malloc(4096, HAPMEM_CAP_32BIT);
	ASSERT_NE(NULL, p) TH_LOG("%s", strerror(errno));
	EXPECT_STREQ("cached32", caps_region_name(p));
	ASSERT_EQ(0, caps_dev_addr(p, &dev));
	EXPECT_LE(dev + 4096, LT_4G);
	lt_fill(p, 4096, 5);
	EXPECT_EQ(0, lt_dev_matches(dev, p, 4096));
	q = caps_malloc(4096, HAPMEM_CAP_UNCACHED | HAPMEM_CAP_32BIT);
	ASSERT_NE(NULL, q);
	EXPECT_STREQ("uncached32", caps_region_name(q));
	ASSERT_EQ(0, caps_dev_addr(q, &dev));
	EXPECT_LE(dev + 4096, LT_4G);
	lt_fill(q, 4096, 6);
	EXPECT_EQ(0, lt_dev_matches(dev, q, 4096));
	caps_free(p);
	caps_free(q);
}

TEST(llc_uses_the_carveout)
{
	struct hapmem_info before, info;
	unsigned char *p;
	uint64_t dev;

	ASSERT_EQ(0, lt_info(&before));
	if (!before.llc_total)
		SKIP(return, "no LLC carve-out configured");
	ASSERT_EQ(0, caps_init_default());
	p = caps_malloc(1000, HAPMEM_CAP_LLC);
	ASSERT_NE(NULL, p) TH_LOG("%s", strerror(errno));
	EXPECT_STREQ("llc", caps_region_name(p));
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_GT(info.llc_used, before.llc_used);
	ASSERT_EQ(0, caps_dev_addr(p, &dev));
	lt_fill(p, 1000, 7);
	EXPECT_EQ(0, lt_dev_matches(dev, p, 1000));
	caps_free(p);
}

TEST(cached_uncached_and_user_fd_region)
{
	struct hapmem_info before, info;
	unsigned char *c, *u, *buf, *a;
	uint64_t dev;
	int id, fd;

	ASSERT_EQ(0, lt_info(&before));
	ASSERT_EQ(0, caps_init_default());
	c = caps_malloc(3000, 0);
	ASSERT_NE(NULL, c);
	EXPECT_STREQ("cached", caps_region_name(c));
	u = caps_malloc(3000, HAPMEM_CAP_UNCACHED);
	ASSERT_NE(NULL, u);
	EXPECT_STREQ("uncached", caps_region_name(u));
	lt_fill(c, 3000, 8);
	lt_fill(u, 3000, 9);
	ASSERT_EQ(0, caps_dev_addr(c, &dev));
	EXPECT_EQ(0, lt_dev_matches(dev, c, 3000));
	ASSERT_EQ(0, caps_dev_addr(u, &dev));
	EXPECT_EQ(0, lt_dev_matches(dev, u, 3000));

	/* a dma-buf the user holds, registered with attribute 42 */
	buf = hapmem_buf_alloc(HAPMEM_BUF_HEAP_DEFAULT, 0, 1 << 20);
	ASSERT_NE(NULL, buf);
	fd = hapmem_buf_to_fd(buf);
	ASSERT_GE(fd, 0);
	id = caps_region_add_fd("user42", fd, 0, 1 << 20, 42, NULL, 0);
	ASSERT_GT(id, 0) TH_LOG("%s", strerror(-id));
	a = caps_attr_alloc(42, 500, 64);
	ASSERT_NE(NULL, a);
	EXPECT_STREQ("user42", caps_region_name(a));
	lt_fill(a, 500, 10);
	ASSERT_EQ(0, caps_dev_addr(a, &dev));
	EXPECT_EQ(0, lt_dev_matches(dev, a, 500));
	/* the same bytes through the user's own mapping of the buffer */
	EXPECT_NE(NULL, memmem(buf, 1 << 20, a, 500));
	EXPECT_EQ(-EBUSY, caps_region_remove(id));
	caps_free(a);
	EXPECT_EQ(0, caps_region_remove(id));
	EXPECT_EQ(0, hapmem_buf_free(buf));
	caps_free(c);
	caps_free(u);
	/* one segment of each region stays cached for reuse; the rest is back */
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_LE(info.session_maps, before.session_maps + 2);
}

TEST(everything_goes_back)
{
	struct hapmem_info before, info;
	void *p[6];
	int i;

	ASSERT_EQ(0, lt_info(&before));
	ASSERT_EQ(0, caps_init_default());
	for (i = 0; i < 6; i++) {
		p[i] = caps_malloc(2u << 20, i % 2 ? HAPMEM_CAP_UNCACHED : HAPMEM_CAP_CACHED);
		ASSERT_NE(NULL, p[i]);
	}
	ASSERT_EQ(0, lt_info(&info));
	EXPECT_GE(info.session_bytes, before.session_bytes + (12u << 20));
	for (i = 0; i < 6; i++)
		caps_free(p[i]);
	ASSERT_EQ(0, lt_info(&info));
	/* at most one spare segment per region is kept */
	EXPECT_LE(info.session_maps, before.session_maps + 2);
}

TEST_HARNESS_MAIN
