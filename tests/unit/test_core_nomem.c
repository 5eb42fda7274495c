// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocator core when its metadata cannot grow: hm_core_free() of a live
 * block must still succeed (the block becomes an orphan if no record can
 * be had), the stats must stay exact, double frees must still be caught,
 * hm_core_check() must pass at every step, and once allocations succeed
 * again every byte must be allocatable (the whole segment in one block).
 *
 * The core is compiled into this test with its metadata allocator
 * replaced by one that fails on demand; the library itself has no hook.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

static int meta_fail;			/* non-zero: every metadata allocation fails */
static unsigned long meta_failures;	/* allocations refused */

static void *test_calloc(size_t n, size_t size)
{
	if (meta_fail) {
		meta_failures++;
		return NULL;
	}
	return calloc(n, size);
}

static void *test_realloc(void *p, size_t size)
{
	if (meta_fail) {
		meta_failures++;
		return NULL;
	}
	return realloc(p, size);
}

#define meta_calloc	test_calloc
#define meta_realloc	test_realloc
#include "core/core.c"
#include "core/core_walk.c"

#include "kselftest_harness.h"
#include "core_model.h"

#define SEG_LEN		(256u << 10)
#define MAXBLK		(SEG_LEN / 16)

FIXTURE(nomem) {
	struct hm_core *c;
	uint8_t *mem;
	uintptr_t *a;
	uint32_t n;		/* blocks in a[] */
	uint64_t used;		/* bytes the test believes live */
};

FIXTURE_SETUP(nomem)
{
	meta_fail = 0;
	meta_failures = 0;
	self->mem = mmap(NULL, SEG_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	self->a = calloc(MAXBLK, sizeof(*self->a));
	ASSERT_NE(NULL, self->a);
	self->c = hm_core_create();
	ASSERT_NE(NULL, self->c);
	ASSERT_EQ(0, hm_core_add_segment(self->c, (uintptr_t)self->mem, 0, SEG_LEN, 0));
}

FIXTURE_TEARDOWN(nomem)
{
	const char *why = "";

	meta_fail = 0;
	EXPECT_EQ(0, hm_core_check(self->c, &why)) TH_LOG("%s", why);
	hm_core_destroy(self->c);
	free(self->a);
	munmap(self->mem, SEG_LEN);
}

/* Check, and compare the stats with what the test knows. */
static void verify(struct __test_metadata *_metadata, struct hm_core *c, uint32_t live,
		   uint64_t used)
{
	struct hm_core_stats st;
	const char *why = "";

	ASSERT_EQ(0, hm_core_check(c, &why)) TH_LOG("%s", why);
	hm_core_stats(c, &st);
	ASSERT_EQ(live, st.live_blocks);
	ASSERT_EQ(used, st.used_bytes);
	ASSERT_EQ(SEG_LEN - used, st.free_bytes);
	ASSERT_EQ(SEG_LEN, st.total_bytes);
}

/* Fill the segment with blocks of 16 to 80 bytes until it is full. */
static void fill(struct __test_metadata *_metadata, FIXTURE_DATA(nomem) *self)
{
	uintptr_t x;
	size_t sz;

	for (self->n = 0, self->used = 0;
	     hm_core_alloc(self->c, 16 + (self->n % 5) * 16, 0, &x) == 0; self->n++) {
		ASSERT_LT(self->n, MAXBLK);
		self->a[self->n] = x;
		ASSERT_EQ(0, hm_core_block_size(self->c, x, &sz));
		self->used += sz;
	}
	verify(_metadata, self->c, self->n, self->used);
}

/* Free a[i] (live), check that a second free is refused and that all adds up. */
static void free_one(struct __test_metadata *_metadata, FIXTURE_DATA(nomem) *self,
		     uint32_t i, uint32_t live)
{
	size_t sz;

	ASSERT_EQ(0, hm_core_block_size(self->c, self->a[i], &sz));
	ASSERT_EQ(0, hm_core_free(self->c, self->a[i]));
	ASSERT_EQ(-EINVAL, hm_core_free(self->c, self->a[i]));
	self->used -= sz;
	verify(_metadata, self->c, live, self->used);
}

/* After failures stop, the segment comes back whole. */
static void whole_again(struct __test_metadata *_metadata, FIXTURE_DATA(nomem) *self)
{
	uintptr_t x, owner;

	meta_fail = 0;
	ASSERT_EQ(0, hm_core_alloc(self->c, SEG_LEN, 0, &x));
	EXPECT_EQ((uintptr_t)self->mem, x);
	verify(_metadata, self->c, 1, SEG_LEN);
	EXPECT_EQ(0, self->c->orphans);
	ASSERT_EQ(0, hm_core_free(self->c, x));
	verify(_metadata, self->c, 0, 0);
	ASSERT_EQ(0, hm_core_remove_segment(self->c, 0, &owner));
}

/*
 * Every other block freed while no metadata can be had: each hole needs a
 * record, the spares run out, the rest become orphans; then the others
 * are freed, merging with orphans and records alike.
 */
static void holes_then_rest(struct __test_metadata *_metadata, FIXTURE_DATA(nomem) *self)
{
	uint32_t i, live = self->n;
	uintptr_t x;

	meta_fail = 1;
	for (i = 0; i < self->n; i += 2)
		free_one(_metadata, self, i, --live);
	EXPECT_LT(0, meta_failures);
	EXPECT_LT(self->n / 4, self->c->orphans);
	/* An allocation may fail, but cleanly. */
	if (hm_core_alloc(self->c, 16, 0, &x) == 0) {
		self->used += 16;
		verify(_metadata, self->c, live + 1, self->used);
		ASSERT_EQ(0, hm_core_free(self->c, x));
		self->used -= 16;
	}
	verify(_metadata, self->c, live, self->used);
	for (i = 1; i < self->n; i += 2)
		free_one(_metadata, self, i, --live);
	EXPECT_EQ(0, self->used);
	/*
	 * Still failing: without cached blocks the whole segment is one free
	 * block, with or without a record.
	 */
	if (!self->c->cached_blocks)
		EXPECT_EQ(1, self->c->orphans + self->c->free_blocks);
	whole_again(_metadata, self);
}

TEST_F(nomem, free_never_fails_no_cache)
{
	hm_core_set_cache_limit(self->c, 0);
	fill(_metadata, self);
	holes_then_rest(_metadata, self);
}

/* With the cache on: it gives its records back first, then orphans follow. */
TEST_F(nomem, free_never_fails_with_cache)
{
	uint32_t i, live;

	fill(_metadata, self);
	live = self->n;
	/* Park the last 100 blocks in the cache while metadata can still grow. */
	for (i = 0; i < 100; i++)
		free_one(_metadata, self, --self->n, --live);
	ASSERT_LT(50, self->c->cached_blocks);
	holes_then_rest(_metadata, self);
	EXPECT_EQ(0, self->c->cached_blocks);
}

/* Orphans are reported free by the walk, and add up with the stats. */
struct walk_sum { uint64_t free, used; uint32_t nused, cached; };

static void sum_blocks(const struct hm_block_info *b, void *arg)
{
	struct walk_sum *w = arg;

	if (b->state == HM_BLOCK_FREE) {
		w->free += b->size;
	} else if (b->state == HM_BLOCK_USED) {
		w->used += b->size;
		w->nused++;
	} else {
		w->cached++;
	}
}

TEST_F(nomem, walk_reports_orphans_free)
{
	struct hm_core_cursor cur = { 0 };
	struct walk_sum w = { 0 };
	uint32_t i, live;

	hm_core_set_cache_limit(self->c, 0);
	fill(_metadata, self);
	live = self->n;
	meta_fail = 1;
	for (i = 0; i < self->n; i += 3)
		free_one(_metadata, self, i, --live);
	ASSERT_LT(0, self->c->orphans);
	while (hm_core_walk(self->c, &cur, 7, sum_blocks, &w) == 1)
		;
	EXPECT_EQ(self->used, w.used);
	EXPECT_EQ(live, w.nused);
	EXPECT_EQ(SEG_LEN - self->used, w.free);
	EXPECT_EQ(0, w.cached);
	for (i = 0; i < self->n; i++)
		if (i % 3)
			free_one(_metadata, self, i, --live);
	whole_again(_metadata, self);
}

/*
 * Orphans are adopted on the allocation path once the pool can grow: a
 * bounded number per call, all before an allocation would fail.
 */
TEST_F(nomem, orphans_adopted_when_memory_returns)
{
	uint32_t i, live, before;
	uintptr_t x;

	hm_core_set_cache_limit(self->c, 0);
	fill(_metadata, self);
	live = self->n;
	meta_fail = 1;
	for (i = 0; i < self->n; i += 2)
		free_one(_metadata, self, i, --live);
	before = self->c->orphans;
	ASSERT_LT(100, before);
	meta_fail = 0;
	/* A 16-byte request fits in any hole: this allocation adopts some and succeeds. */
	ASSERT_EQ(0, hm_core_alloc(self->c, 16, 0, &x));
	self->used += 16;
	verify(_metadata, self->c, ++live, self->used);
	EXPECT_GT(before, self->c->orphans);
	EXPECT_LT(0, self->c->orphans);
	/* No free block of 64 KiB: the whole scan runs, adopts the rest, and fails cleanly. */
	EXPECT_EQ(-ENOMEM, hm_core_alloc(self->c, 64 * 1024, 0, &x));
	EXPECT_EQ(0, self->c->orphans);
	verify(_metadata, self->c, live, self->used);
}

/*
 * Shrinking a block whose right neighbour is an orphan: while metadata
 * still fails the block stays whole (a valid shrink); once it can grow, the
 * freed tail takes the orphan in.
 */
TEST_F(nomem, shrink_next_to_orphan)
{
	struct hm_seg *g = &self->c->seg[0];
	uint32_t i, live, k, orphans;
	size_t sz = 0, sz2;

	hm_core_set_cache_limit(self->c, 0);
	fill(_metadata, self);
	live = self->n;
	meta_fail = 1;
	for (i = 1; i < self->n; i += 2)
		free_one(_metadata, self, i, --live);
	/* A block of more than one granule followed by an orphan (the last holes are). */
	for (k = self->n - 2; k > 0; k -= 2) {
		uint32_t next = (uint32_t)((self->a[k + 1] - g->base) >> GRAN_SHIFT);

		ASSERT_EQ(0, hm_core_block_size(self->c, self->a[k], &sz));
		if (sz > 16 && k + 1 < self->n && !rix_find(self->c, 0, next))
			break;
	}
	ASSERT_LT(0, k);
	orphans = self->c->orphans;
	ASSERT_EQ(0, hm_core_resize(self->c, self->a[k], 16));
	ASSERT_EQ(0, hm_core_block_size(self->c, self->a[k], &sz2));
	EXPECT_EQ(sz, sz2);
	verify(_metadata, self->c, live, self->used);
	meta_fail = 0;
	ASSERT_EQ(0, hm_core_resize(self->c, self->a[k], 16));
	ASSERT_EQ(0, hm_core_block_size(self->c, self->a[k], &sz2));
	EXPECT_EQ(16, sz2);
	self->used -= sz - sz2;
	verify(_metadata, self->c, live, self->used);
	EXPECT_EQ(orphans - 1, self->c->orphans);
	meta_fail = 1;
	for (i = 0; i < self->n; i += 2)
		free_one(_metadata, self, i, --live);
	EXPECT_EQ(0, self->used);
	whole_again(_metadata, self);
}

/*
 * The reference model (core_model.h) with metadata failing in bursts
 * around frees and resizes: every free succeeds, everything the model
 * checks holds, and in the end every segment comes back whole.
 */
#define MODEL_OPS	200000u

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t rnd_size(void)
{
	unsigned int bits = (unsigned int)(rnd() % (rnd() % 16 ? 15 : 18));

	return (size_t)(rnd() & ((2ull << bits) - 1));
}

static void run_model(struct __test_metadata *_metadata, size_t cache_limit, uint64_t seed)
{
	struct model *m = malloc(sizeof(*m));
	uint32_t peak_orphans = 0;
	const char *why = "";
	unsigned int op;
	bool failing = false;

	ASSERT_NE(NULL, m);
	meta_fail = 0;
	ASSERT_EQ(0, model_init(m, cache_limit)) TH_LOG("%s", m->err);
	rng_state = seed;
	for (op = 0; op < MODEL_OPS; op++) {
		unsigned int kind = (unsigned int)(rnd() % 100);
		unsigned int target = 200 + (op / 20000) % 8 * 500;
		int err;

		/* Bursts of frees and resizes only, with metadata failing throughout. */
		if (op % 3000 == 0)
			failing = rnd() % 3 == 0;
		meta_fail = 0;
		if (kind < 2) {
			err = model_toggle_segment(m, (int)(rnd() % MODEL_SEGS));
		} else if (kind < 12 && m->nlive) {
			meta_fail = failing;
			err = model_resize(m, (unsigned int)rnd(), rnd_size());
		} else if (m->nlive && (m->nlive >= target || kind < 50 || failing)) {
			meta_fail = failing;
			err = model_free(m, (unsigned int)rnd());
		} else {
			err = model_alloc(m, rnd_size(), rnd() % 8 ? 0 : (size_t)1 << (rnd() % 13),
					  (uint8_t)rnd());
		}
		meta_fail = 0;
		ASSERT_EQ(0, err) TH_LOG("op %u: %s", op, m->err);
		if (m->c->orphans > peak_orphans)
			peak_orphans = m->c->orphans;
		if (op % 5000 == 0)
			ASSERT_EQ(0, model_check(m)) TH_LOG("op %u: %s", op, m->err);
	}
	EXPECT_LT(0, peak_orphans);
	meta_fail = 1;
	while (m->nlive)
		ASSERT_EQ(0, model_free(m, 0)) TH_LOG("%s", m->err);
	ASSERT_EQ(0, model_check(m)) TH_LOG("%s", m->err);
	meta_fail = 0;
	/* Every registered segment is one free block again, allocatable whole. */
	for (int i = 0; i < MODEL_SEGS; i++) {
		uintptr_t x;

		if (m->seg_id[i] < 0)
			continue;
		ASSERT_EQ(0, hm_core_alloc(m->c, MODEL_SEG_LEN, 0, &x));
		EXPECT_EQ(0, (x - (uintptr_t)m->mem) % MODEL_SEG_LEN);
	}
	EXPECT_EQ(0, hm_core_free_bytes(m->c));
	EXPECT_EQ(0, m->c->orphans);
	ASSERT_EQ(0, hm_core_check(m->c, &why)) TH_LOG("%s", why);
	model_fini(m);
	free(m);
}

TEST(model_failing_no_cache)
{
	run_model(_metadata, 0, 0x9e3779b97f4a7c15ull);
}

TEST(model_failing_with_cache)
{
	run_model(_metadata, SIZE_MAX, 0xdeadbeefcafef00dull);
}

TEST_HARNESS_MAIN
