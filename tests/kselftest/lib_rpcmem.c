// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rpcmem face (<rpcmem.h>) through the real driver: every heap id and
 * flag gives a buffer whose fd the remote maps and reads back what the CPU
 * wrote (device DMA), and writes what the CPU then reads; the secure heap
 * is mapped for the remote at once and refused to the CPU.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "../fault_probe.h"

#include <rpcmem.h>
#include <remote.h>

#include "compat/compat_internal.h"
#include "lib_test.h"

#define LEN (128 << 10)

/* The device sees @p's bytes through @fd, and the CPU sees the device's. */
static void dev_roundtrip(struct __test_metadata *_metadata, unsigned char *p, int fd,
			  unsigned int seed)
{
	unsigned char wb[LT_PROBE];
	uint64_t va = 0;
	long long maps = lt_session_maps();

	lt_fill(p, LEN, seed);
	ASSERT_EQ(AEE_SUCCESS, remote_mmap64(fd, 0, (uintptr_t)p, LEN, &va));
	EXPECT_EQ(maps + 1, lt_session_maps());
	EXPECT_EQ(0, lt_dev_matches(va, p, LEN));
	memset(wb, 0xc3, sizeof(wb));
	ASSERT_EQ(0, hapmem_remote_write(va + LEN / 2, wb, sizeof(wb)));
	EXPECT_EQ(0, memcmp(p + LEN / 2, wb, sizeof(wb)));
	EXPECT_EQ(AEE_SUCCESS, remote_munmap64(va, LEN));
	EXPECT_EQ(maps, lt_session_maps());
}

TEST(every_heap_and_flag_reaches_the_device)
{
	static const int heaps[] = { RPCMEM_HEAP_ID_SYSTEM, RPCMEM_HEAP_ID_CONTIG,
				     RPCMEM_DEFAULT_HEAP };
	static const uint32_t flags[] = {
		RPCMEM_DEFAULT_FLAGS, RPCMEM_FLAG_UNCACHED,
		RPCMEM_DEFAULT_FLAGS | RPCMEM_TRY_MAP_STATIC,
		RPCMEM_DEFAULT_FLAGS | RPCMEM_FORCE_NOFLUSH | RPCMEM_FORCE_NOINVALIDATE,
		RPCMEM_HEAP_DEFAULT | RPCMEM_HEAP_NOREG | RPCMEM_HEAP_NOVA,
		RPCMEM_HEAP_UNCACHED | RPCMEM_HEAP_NONCOHERENT,
	};
	size_t h, f;

	rpcmem_init();
	for (h = 0; h < sizeof(heaps) / sizeof(heaps[0]); h++) {
		for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
			unsigned char *p = rpcmem_alloc(heaps[h], flags[f], LEN);
			int fd;

			ASSERT_NE(NULL, p);
			EXPECT_EQ(0, p[0] | p[LEN - 1]);
			fd = rpcmem_to_fd(p);
			ASSERT_LE(0, fd);
			EXPECT_TRUE(lt_is_dmabuf(fd));
			dev_roundtrip(_metadata, p, fd, (unsigned int)(h * 8 + f));
			rpcmem_free(p);
			EXPECT_EQ(-1, rpcmem_to_fd(p));
		}
	}
	rpcmem_deinit();
	EXPECT_EQ(0, lt_session_maps());
}

TEST(alloc2_and_alloc_def)
{
	unsigned char *p = rpcmem_alloc_def(LEN);
	unsigned char *q = rpcmem_alloc2(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_FLAG_UNCACHED,
					 (size_t)LEN);

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, q);
	dev_roundtrip(_metadata, p, rpcmem_to_fd(p), 3);
	dev_roundtrip(_metadata, q, rpcmem_to_fd(q), 4);
	rpcmem_free(p);
	rpcmem_free(q);
	EXPECT_EQ(NULL, rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, 1, 0));
	EXPECT_EQ(NULL, rpcmem_alloc2(RPCMEM_HEAP_ID_SYSTEM, 1, 0));
}

/* Protected memory (root in the VM): the remote reaches it, the CPU never. */
TEST(secure_heap)
{
	unsigned char wb[LT_PROBE], rb[LT_PROBE];
	unsigned char *p;
	uint64_t va;
	int fd;

	p = rpcmem_alloc(RPCMEM_HEAP_ID_SECURE, RPCMEM_DEFAULT_FLAGS, LEN);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, lt_session_maps());
	fd = rpcmem_to_fd(p);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(lt_is_dmabuf(fd));
	EXPECT_EQ(1, read_faults(p));
	/* the buffer's fd gives the CPU no path either */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0));
	va = hm_rpcmem_vadsp(p);
	ASSERT_NE(0U, va);
	lt_fill(wb, sizeof(wb), 9);
	ASSERT_EQ(0, hapmem_remote_write(va + LEN - LT_PROBE, wb, sizeof(wb)));
	ASSERT_EQ(0, hapmem_remote_read(va + LEN - LT_PROBE, rb, sizeof(rb)));
	EXPECT_EQ(0, memcmp(wb, rb, sizeof(rb)));
	rpcmem_free(p);
	EXPECT_EQ(0, lt_session_maps());
	EXPECT_EQ(-1, rpcmem_to_fd(p));
}

TEST(free_ignores_invalid_buffers)
{
	unsigned char *p = rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, LEN);
	int x, fd;

	ASSERT_NE(NULL, p);
	fd = rpcmem_to_fd(p);
	rpcmem_free(NULL);
	rpcmem_free(&x);
	rpcmem_free(p + 4096);
	EXPECT_EQ(fd, rpcmem_to_fd(p));
	EXPECT_TRUE(lt_is_dmabuf(fd));
	rpcmem_free(p);
	EXPECT_EQ(-1, rpcmem_to_fd(p));
}

TEST_HARNESS_MAIN
