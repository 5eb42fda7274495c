// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Zephyr sys_heap face (<zephyr/sys/sys_heap.h>) on the host: heaps
 * over small caller buffers (a few hundred bytes, odd alignment, many in
 * one 64 KiB chunk), 0-byte requests, alignment, the realloc rules (NULL,
 * 0, in place, moved, failing with the block intact), usable sizes,
 * validation, runtime statistics, re-initialisation, and a random
 * sequence checked against the bytes each block must hold.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include <zephyr/sys/sys_heap.h>

static bool inside(const void *p, size_t n, const void *mem, size_t bytes)
{
	return (const char *)p >= (const char *)mem &&
	       (const char *)p + n <= (const char *)mem + bytes;
}

TEST(small_heap_fills_exactly)
{
	static _Alignas(16) char mem[256];
	struct sys_memory_stats st;
	struct sys_heap h;
	void *p[32];
	int n = 0, i;

	sys_heap_init(&h, mem, sizeof(mem));
	EXPECT_EQ((void *)mem, h.init_mem);
	EXPECT_EQ(sizeof(mem), h.init_bytes);
	EXPECT_TRUE(sys_heap_validate(&h));
	EXPECT_EQ(NULL, sys_heap_alloc(&h, 0));
	/* metadata is out of band: all 256 bytes serve, in 16-byte blocks */
	while (n < 32 && (p[n] = sys_heap_alloc(&h, 10))) {
		EXPECT_TRUE(inside(p[n], 10, mem, sizeof(mem)));
		EXPECT_EQ(0, (uintptr_t)p[n] % sizeof(void *));
		EXPECT_EQ(16, sys_heap_usable_size(&h, p[n]));
		memset(p[n], n, 16);
		n++;
	}
	EXPECT_EQ(16, n);
	ASSERT_EQ(0, sys_heap_runtime_stats_get(&h, &st));
	EXPECT_EQ(256, st.allocated_bytes);
	EXPECT_EQ(0, st.free_bytes);
	for (i = 0; i < n; i++)
		EXPECT_EQ((char)i, ((char *)p[i])[15]);
	for (i = 0; i < n; i += 2)
		sys_heap_free(&h, p[i]);
	/* freed blocks are not adjacent: 32 bytes do not fit, 16 do */
	EXPECT_EQ(NULL, sys_heap_alloc(&h, 17));
	sys_heap_free(&h, p[1]);	/* now 0..2 coalesce: 48 bytes */
	p[0] = sys_heap_alloc(&h, 48);
	EXPECT_EQ((void *)mem, p[0]);
	EXPECT_TRUE(sys_heap_validate(&h));
	ASSERT_EQ(0, sys_heap_runtime_stats_get(&h, &st));
	EXPECT_EQ(7 * 16 + 48, st.allocated_bytes);
	EXPECT_EQ(6 * 16, st.free_bytes);
	EXPECT_EQ(256, st.max_allocated_bytes);
	EXPECT_EQ(-EINVAL, sys_heap_runtime_stats_get(NULL, &st));
	EXPECT_EQ(-EINVAL, sys_heap_runtime_stats_get(&h, NULL));
}

TEST(odd_buffers)
{
	static _Alignas(64) char mem[1024];
	struct sys_memory_stats st;
	struct sys_heap h, tiny, none;
	void *p;

	/* an odd start and end: the aligned 16-byte part in between */
	sys_heap_init(&h, mem + 5, 300);
	ASSERT_EQ(0, sys_heap_runtime_stats_get(&h, &st));
	EXPECT_EQ(288, st.free_bytes);		/* [16, 304) */
	p = sys_heap_alloc(&h, 288);
	EXPECT_EQ((void *)(mem + 16), p);
	EXPECT_EQ(NULL, sys_heap_alloc(&h, 1));
	sys_heap_free(&h, p);
	/* 16 aligned bytes are a heap; fewer are none (nothing allocates) */
	sys_heap_init(&tiny, mem + 512, 16);
	EXPECT_TRUE(sys_heap_validate(&tiny));
	EXPECT_EQ((void *)(mem + 512), sys_heap_alloc(&tiny, 16));
	sys_heap_init(&none, mem + 601, 20);
	EXPECT_FALSE(sys_heap_validate(&none));
	EXPECT_EQ(NULL, sys_heap_alloc(&none, 1));
	EXPECT_EQ(NULL, sys_heap_realloc(&none, NULL, 1));
	sys_heap_free(&none, mem + 601);	/* ignored */
	EXPECT_EQ(0, sys_heap_usable_size(&none, mem + 608));
	ASSERT_EQ(0, sys_heap_runtime_stats_get(&none, &st));
	EXPECT_EQ(0, st.free_bytes + st.allocated_bytes + st.max_allocated_bytes);
}

TEST(aligned_allocations)
{
	static _Alignas(4096) char mem[8192];
	struct sys_heap h;
	void *p, *q, *r;

	sys_heap_init(&h, mem + 16, sizeof(mem) - 16);
	p = sys_heap_aligned_alloc(&h, 0, 40);	/* 0: as sys_heap_alloc */
	ASSERT_NE(NULL, p);
	EXPECT_EQ((void *)(mem + 16), p);
	q = sys_heap_aligned_alloc(&h, 256, 100);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(0, (uintptr_t)q % 256);
	r = sys_heap_aligned_alloc(&h, 4096, 10);
	ASSERT_NE(NULL, r);
	EXPECT_EQ((void *)(mem + 4096), r);
	EXPECT_EQ(NULL, sys_heap_aligned_alloc(&h, 48, 10));	/* not a power of two */
	EXPECT_EQ(NULL, sys_heap_aligned_alloc(&h, 64, 0));
	EXPECT_EQ(NULL, sys_heap_aligned_alloc(&h, 8192, 10));	/* no such address inside */
	sys_heap_free(&h, q);
	sys_heap_free(&h, r);
	sys_heap_free(&h, p);
	EXPECT_TRUE(sys_heap_validate(&h));
	EXPECT_EQ(sizeof(mem) - 16, sys_heap_usable_size(&h, sys_heap_alloc(&h, sizeof(mem) - 16)));
}

TEST(free_and_usable_size_of_non_blocks)
{
	static _Alignas(16) char mem[512], other[512];
	struct sys_heap h, g;
	char *p, *q;

	sys_heap_init(&h, mem, sizeof(mem));
	sys_heap_init(&g, other, sizeof(other));
	p = sys_heap_alloc(&h, 100);
	q = sys_heap_alloc(&g, 100);
	ASSERT_NE(NULL, p);
	sys_heap_free(&h, NULL);
	sys_heap_free(&h, p + 16);	/* inside a block: ignored */
	sys_heap_free(&h, q);		/* another heap's: ignored */
	sys_heap_free(&h, mem + 400);	/* free memory: ignored */
	EXPECT_EQ(112, sys_heap_usable_size(&h, p));
	EXPECT_EQ(0, sys_heap_usable_size(&h, p + 16));
	EXPECT_EQ(0, sys_heap_usable_size(&h, q));
	EXPECT_EQ(0, sys_heap_usable_size(&h, NULL));
	EXPECT_TRUE(sys_heap_validate(&h));
	sys_heap_free(&h, p);
	sys_heap_free(&h, p);		/* a double free: ignored */
	EXPECT_TRUE(sys_heap_validate(&h));
	EXPECT_EQ((void *)mem, sys_heap_alloc(&h, 512));
	EXPECT_EQ(112, sys_heap_usable_size(&g, q));
}

TEST(realloc_rules)
{
	static _Alignas(256) char mem[1024];
	struct sys_memory_stats st;
	struct sys_heap h;
	char *p, *q, *r;
	int i;

	sys_heap_init(&h, mem, sizeof(mem));
	/* NULL: allocates; 0 bytes: frees, NULL */
	p = sys_heap_realloc(&h, NULL, 100);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(NULL, sys_heap_realloc(&h, p, 0));
	ASSERT_EQ(0, sys_heap_runtime_stats_get(&h, &st));
	EXPECT_EQ(0, st.allocated_bytes);
	EXPECT_EQ(NULL, sys_heap_realloc(&h, NULL, 0));
	/* grows in place into free memory after it, shrinks in place */
	p = sys_heap_alloc(&h, 64);
	for (i = 0; i < 64; i++)
		p[i] = (char)i;
	q = sys_heap_realloc(&h, p, 500);
	EXPECT_EQ(p, q);
	EXPECT_EQ(512, sys_heap_usable_size(&h, q));
	q = sys_heap_realloc(&h, q, 32);
	EXPECT_EQ(p, q);
	EXPECT_EQ(32, sys_heap_usable_size(&h, q));
	/* blocked after it: moved, the bytes kept */
	r = sys_heap_alloc(&h, 16);
	EXPECT_EQ(p + 32, r);
	q = sys_heap_realloc(&h, p, 200);
	ASSERT_NE(NULL, q);
	EXPECT_NE(p, q);
	for (i = 0; i < 32; i++)
		EXPECT_EQ((char)i, q[i]);
	EXPECT_EQ(0, sys_heap_usable_size(&h, p));	/* the old block went back */
	/* no room: NULL, the block intact */
	EXPECT_EQ(NULL, sys_heap_realloc(&h, q, 2000));
	EXPECT_EQ(208, sys_heap_usable_size(&h, q));
	EXPECT_EQ(31, q[31]);
	/* not a block: NULL */
	EXPECT_EQ(NULL, sys_heap_realloc(&h, q + 16, 20));
	/* aligned: a misaligned block moves to an aligned one */
	r = sys_heap_aligned_realloc(&h, r, 256, 40);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, (uintptr_t)r % 256);
	EXPECT_EQ(r, sys_heap_aligned_realloc(&h, r, 256, 48));	/* aligned: in place */
	EXPECT_EQ(NULL, sys_heap_aligned_realloc(&h, r, 24, 48));
	p = sys_heap_aligned_realloc(&h, NULL, 128, 10);
	EXPECT_EQ(0, (uintptr_t)p % 128);
	EXPECT_EQ(NULL, sys_heap_aligned_realloc(&h, p, 128, 0));
	EXPECT_TRUE(sys_heap_validate(&h));
}

/* Upstream keeps the metadata in the buffer: a new heap over it replaces the old one. */
TEST(reinit_replaces)
{
	static _Alignas(16) char mem[2048];
	struct sys_heap h, g;
	struct sys_memory_stats st;
	int i;

	for (i = 0; i < 1000; i++) {
		sys_heap_init(&h, mem, sizeof(mem));
		ASSERT_NE(NULL, sys_heap_alloc(&h, 100));
	}
	/* another struct over part of the same memory: the first heap is gone */
	sys_heap_init(&g, mem + 1024, 1024);
	ASSERT_EQ(0, sys_heap_runtime_stats_get(&g, &st));
	EXPECT_EQ(1024, st.free_bytes);
	EXPECT_EQ(0, st.allocated_bytes);
	sys_heap_init(&h, mem, 1024);	/* disjoint: both live */
	EXPECT_NE(NULL, sys_heap_alloc(&h, 1024));
	EXPECT_NE(NULL, sys_heap_alloc(&g, 1024));
	EXPECT_TRUE(sys_heap_validate(&h));
	EXPECT_TRUE(sys_heap_validate(&g));
}

/* Many small heaps in one 64 KiB chunk: every block found in its own heap. */
TEST(many_small_heaps_side_by_side)
{
	enum { N = 64, SZ = 320 };
	static _Alignas(16) char mem[N][SZ];
	struct sys_heap h[N];
	void *p[N][2];
	int i;

	for (i = 0; i < N; i++)
		sys_heap_init(&h[i], mem[i], SZ);
	for (i = 0; i < N; i++) {
		p[i][0] = sys_heap_alloc(&h[i], 100);
		p[i][1] = sys_heap_alloc(&h[i], 200);
		ASSERT_NE(NULL, p[i][0]);
		ASSERT_NE(NULL, p[i][1]);
		EXPECT_TRUE(inside(p[i][0], 100, mem[i], SZ));
		EXPECT_TRUE(inside(p[i][1], 200, mem[i], SZ));
		EXPECT_EQ(NULL, sys_heap_alloc(&h[i], 1));
	}
	for (i = 0; i < N; i++) {
		EXPECT_EQ(0, sys_heap_usable_size(&h[(i + 1) % N], p[i][0]));
		sys_heap_free(&h[(i + 1) % N], p[i][0]);	/* wrong heap: ignored */
		EXPECT_EQ(112, sys_heap_usable_size(&h[i], p[i][0]));
		sys_heap_free(&h[i], p[i][0]);
		sys_heap_free(&h[i], p[i][1]);
		EXPECT_TRUE(sys_heap_validate(&h[i]));
		EXPECT_EQ((void *)mem[i], sys_heap_alloc(&h[i], SZ));
	}
}

/* Random allocations, frees and reallocs on a 4 KiB heap, every byte checked. */
TEST(random_sequence_keeps_bytes)
{
	enum { SLOTS = 48 };
	static _Alignas(16) char mem[4096];
	struct { unsigned char *p; size_t n; unsigned char tag; } s[SLOTS] = { 0 };
	struct sys_memory_stats st;
	size_t live = 0, k;
	struct sys_heap h;
	unsigned int seed = 12345, ok = 0;
	int op;

	sys_heap_init(&h, mem, sizeof(mem));
	for (op = 0; op < 20000; op++) {
		unsigned int i = (unsigned int)rand_r(&seed) % SLOTS;
		size_t n = 1 + (size_t)rand_r(&seed) % 300;
		unsigned char *q;

		if (s[i].p) {
			for (k = 0; k < s[i].n; k++)
				if (s[i].p[k] != s[i].tag)
					break;
			ASSERT_EQ(s[i].n, k);
		}
		if (s[i].p && rand_r(&seed) % 2) {
			q = sys_heap_realloc(&h, s[i].p, n);
			if (!q)
				continue;	/* intact, checked next time */
			live -= (s[i].n + 15) & ~(size_t)15;
			s[i].n = s[i].n < n ? s[i].n : n;
			for (k = 0; k < s[i].n; k++)
				ASSERT_EQ(s[i].tag, q[k]);
		} else if (s[i].p) {
			sys_heap_free(&h, s[i].p);
			live -= (s[i].n + 15) & ~(size_t)15;
			s[i].p = NULL;
			continue;
		} else {
			q = sys_heap_alloc(&h, n);
			if (!q)
				continue;
		}
		ASSERT_TRUE(inside(q, n, mem, sizeof(mem)));
		s[i].p = q;
		s[i].n = n;
		s[i].tag = (unsigned char)op;
		memset(q, s[i].tag, n);
		live += (n + 15) & ~(size_t)15;
		ok++;
	}
	ASSERT_TRUE(sys_heap_validate(&h));
	ASSERT_EQ(0, sys_heap_runtime_stats_get(&h, &st));
	EXPECT_EQ(live, st.allocated_bytes);
	EXPECT_EQ(sizeof(mem) - live, st.free_bytes);
	EXPECT_LT(5000, ok);
	TH_LOG("%u successful allocations/reallocs, %zu bytes live", ok, live);
}

TEST_HARNESS_MAIN
